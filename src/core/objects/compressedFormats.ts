/**
 * File formats whose content is already compressed, told by their first bytes (their "magic"): a
 * point stores them as they are instead of deflating them only to throw the result away (deflate
 * saves under 1 % on them). Images, fonts, archives, audio and video; a format missing here is
 * still caught by `compression.ts`'s sample.
 */
interface Magic {
  readonly at: number;
  readonly bytes: Buffer;
}

const magic = (at: number, bytes: string | readonly number[]): Magic => ({ at, bytes: typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes) });

/** Each format: every listed magic must match. */
const FORMATS: readonly (readonly Magic[])[] = [
  [magic(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])], // PNG
  [magic(0, [0xff, 0xd8, 0xff])], // JPEG
  [magic(0, 'GIF87a')],
  [magic(0, 'GIF89a')],
  [magic(0, 'RIFF'), magic(8, 'WEBP')],
  [magic(0, 'wOF2')], // WOFF2 (brotli inside)
  [magic(0, 'wOFF')], // WOFF (zlib inside)
  [magic(0, [0x50, 0x4b, 0x03, 0x04])], // zip, and jar, docx, xlsx, apk, vsix…
  [magic(0, [0x50, 0x4b, 0x05, 0x06])], // empty zip
  [magic(0, [0x1f, 0x8b])], // gzip
  [magic(0, 'BZh'), magic(4, [0x31, 0x41, 0x59, 0x26, 0x53, 0x59])], // bzip2 (its first block's magic)
  [magic(0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])], // xz
  [magic(0, [0x28, 0xb5, 0x2f, 0xfd])], // zstd
  [magic(0, [0x04, 0x22, 0x4d, 0x18])], // lz4
  [magic(0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])], // 7z
  [magic(0, 'Rar!\x1a\x07')],
  [magic(4, 'ftyp')], // MP4, MOV, HEIC, AVIF
  [magic(0, [0x1a, 0x45, 0xdf, 0xa3])], // Matroska, WebM
  [magic(0, 'OggS\0')],
  [magic(0, 'fLaC')],
  [magic(0, 'ID3\x03')], // MP3 with an ID3v2.3 tag
  [magic(0, 'ID3\x04')], // …v2.4
];

/** Whether `content` starts like a file of an already compressed format. */
export function isCompressedFormat(content: Uint8Array): boolean {
  return FORMATS.some((format) => format.every(({ at, bytes }) => startsWithAt(content, bytes, at)));
}

function startsWithAt(content: Uint8Array, bytes: Buffer, at: number): boolean {
  if (content.length < at + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (content[at + i] !== bytes[i]) return false;
  return true;
}
