/**
 * A workspace with a real repository's byte mix: most bytes in media that is already compressed
 * (PNG, JPEG, GIF, WebP, woff2, zip: each file starts with its format's real header, the payload is
 * random bytes, which is what compressed data looks like), the rest source text. Six public
 * repositories measured together held 55 % of their bytes in such files; this one holds about
 * three quarters, with the synthetic workspace's folders and text files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Rng } from './random';
import { codeText, formatCount, OLD_MTIME, planSynthetic, randomBytesFor, writeBoth, type Workspace } from './workspace';

type MediaFormat = 'png' | 'jpg' | 'gif' | 'webp' | 'woff2' | 'zip';

/** How often each format is picked (PNG dominates real repositories' media bytes). */
const FORMATS: readonly MediaFormat[] = ['png', 'png', 'png', 'png', 'png', 'jpg', 'jpg', 'gif', 'webp', 'woff2', 'zip'];
/** Share of the files that are media (besides the synthetic plan's binary files, which become media too). */
const MEDIA_SHARE = 0.1;

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** A PNG chunk: length, type, data, CRC-32 of type and data (as a decoder checks it). */
function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([u32be(data.length), typed, u32be(zlib.crc32(typed))]);
}

/** A file of `size` bytes (at least the header's) in `format`: a valid-looking header, then random payload. */
export function mediaFile(format: MediaFormat, size: number, payload: (n: number) => Buffer): Buffer {
  const fill = (head: Buffer, tail: Buffer = Buffer.alloc(0)) => Buffer.concat([head, payload(Math.max(0, size - head.length - tail.length)), tail]);
  switch (format) {
    case 'png': {
      const ihdr = Buffer.concat([u32be(1024), u32be(768), Buffer.from([8, 6, 0, 0, 0])]);
      const head = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr)]);
      const end = pngChunk('IEND', Buffer.alloc(0));
      const idat = payload(Math.max(0, size - head.length - end.length - 12));
      return Buffer.concat([head, pngChunk('IDAT', idat), end]);
    }
    case 'jpg':
      return fill(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x48, 0x00, 0x48, 0x00, 0x00, 0xff, 0xda, 0x00, 0x0c]), Buffer.from([0xff, 0xd9]));
    case 'gif':
      return fill(Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([0x40, 0x01, 0xf0, 0x00, 0xf7, 0x00, 0x00])]), Buffer.from([0x3b]));
    case 'webp':
      return fill(Buffer.concat([Buffer.from('RIFF', 'latin1'), u32le(size - 8), Buffer.from('WEBPVP8 ', 'latin1'), u32le(size - 20)]));
    case 'woff2':
      return fill(Buffer.concat([Buffer.from('wOF2', 'latin1'), u32be(0x00010000), u32be(size), Buffer.from([0, 12, 0, 0])]));
    case 'zip':
      return fill(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00]), Buffer.alloc(16), Buffer.from([8, 0, 0, 0]), Buffer.from('data.bin', 'latin1')]));
  }
}

/**
 * ~`files` files: the synthetic plan's folders and text files, with one file in ten (and every file
 * the plan makes binary) turned into media of a log-normal size (median ≈ 90 kB, at most 4 MB).
 */
export function createMedia(baseDir: string, files: number, seed: string): Workspace {
  const started = performance.now();
  const ours = path.join(baseDir, `media-${files}-ours`);
  const git = path.join(baseDir, `media-${files}-git`);
  for (const dir of [ours, git]) fs.rmSync(dir, { recursive: true, force: true });
  const plan = planSynthetic(files, `${seed}:media`);
  const rng = new Rng(`${seed}:media:${files}`);
  for (const root of [ours, git]) for (const folder of plan.folders) fs.mkdirSync(path.join(root, ...folder.split('/')), { recursive: true });
  let bytes = 0;
  let mediaBytes = 0;
  let binaryFiles = 0;
  let largeFiles = 0;
  let maxDepth = 0;
  const editable: string[] = [];
  const used = new Set(plan.files.map((f) => f.rel));
  for (const file of plan.files) {
    const media = file.binary || (file.rel.includes('/') && rng.next() < MEDIA_SHARE);
    let rel = file.rel;
    let content: Buffer;
    if (media) {
      const format = rng.pick(FORMATS);
      const stem = rel.replace(/\.[^./]*$/, '');
      rel = `${stem}.${format}`;
      for (let n = 2; used.has(rel); n++) rel = `${stem}-${n}.${format}`;
      const size = Math.round(Math.min(4_000_000, Math.max(600, rng.logNormal(90_000, 1.1))));
      content = mediaFile(format, size, (n) => randomBytesFor(seed, rel, n));
      mediaBytes += content.length;
      binaryFiles++;
    } else {
      content = codeText(new Rng(`${seed}:content:${rel}`), file.size, `// ${rel} (${seed})\n`);
      if (file.size >= 200 && file.size <= 64_000) editable.push(rel);
    }
    used.add(rel);
    writeBoth([ours, git], rel, content, OLD_MTIME);
    bytes += content.length;
    if (content.length >= 1_000_000) largeFiles++;
    maxDepth = Math.max(maxDepth, rel.split('/').length - 1);
  }
  return {
    label: `media-heavy ${formatCount(files)} files (${Math.round((100 * mediaBytes) / bytes)} % of bytes compressed media)`,
    kind: 'media',
    ours,
    git,
    files: plan.files.length,
    bytes,
    binaryFiles,
    largeFiles,
    folders: plan.folders.length,
    maxDepth,
    symlinks: 0,
    editable: new Rng(`${seed}:media-edits:${files}`).shuffle(editable),
    setupSeconds: (performance.now() - started) / 1000,
  };
}
