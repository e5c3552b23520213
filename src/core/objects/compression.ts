import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { Semaphore } from '../capture/concurrency';
import { isCompressedFormat } from './compressedFormats';
import type { ObjectType } from './hash';
import { storedBlocks, storedBlocksSize } from './storedBlocks';

/**
 * How a record's bytes are stored; the pack records it, so a reader never guesses. Points write
 * `deflateFast` (deflate level 1: on the save path CPU matters more than 10 % of disk); a repack
 * recompresses those records with `brotli` (quality 5: 29.7 MiB instead of 32.9 MiB for the
 * benchmark's 10k-file workspace, ~2× the CPU). `deflate` (level 6) is read but not written today.
 * Folder trees up to TREE_STORED_LIMIT are written `stored` by points and compressed by the repack.
 * A restore's safety point writes its blobs `deflateFast` at level 0 (`deferred`): deflate's stored
 * blocks, a copy, which every reader inflates and the repack compresses like any `deflateFast` record;
 * so does every point for its first new blobs up to `DEFERRED_BYTES_PER_BATCH` (`ObjectBatch`).
 */
export const CODECS = { stored: 0, deflateFast: 1, deflate: 2, brotli: 3 } as const;
export type Codec = (typeof CODECS)[keyof typeof CODECS];

export function isCodec(value: number): value is Codec {
  return value >= 0 && value <= 3;
}

/**
 * `fast` for writes on the save path, `small` for repacks, `deferred` for writes a person waits on
 * (a restore's safety point: deflating 100 edited files took a fifth of it), compressed by the repack.
 */
export type Effort = 'fast' | 'small' | 'deferred';

const RAW_BELOW = 64;
/**
 * Objects at or below this are compressed on the main thread: a thread-pool round trip costs more
 * than deflating a few kB. Larger ones (62 % of the bytes of the benchmark's workspace) go to the pool.
 */
const SYNC_LIMIT = 16 * 1024;
/**
 * Trees at or below this are written as they are on the save path: deflating a small tree costs
 * 25–90 µs, mostly zlib's set-up, and a point that stores 100 edited files writes ~200 trees. The
 * repack compresses them (`awaitsCompression`).
 */
const TREE_STORED_LIMIT = SYNC_LIMIT;
/** Compressions on the thread pool at once: it also serves the capture's file reads. */
const IN_FLIGHT = 2;
const BROTLI_QUALITY = 5;
/**
 * An object larger than this, of a format not known to be compressed, is first judged by deflating
 * its first SAMPLE_BYTES: when that saves under 10 %, the object is stored as it is, without
 * deflating the rest (a compressed format we do not know, encrypted or random data).
 */
const SAMPLE_BYTES = 64 * 1024;
/** Kept compressed only when it is at most this share of the original (saves at least 10 %). */
const WORTH = 0.9;
/** Decompressions at or below this run synchronously (one thread-pool round trip costs more). */
const SYNC_DECODE_LIMIT = 256 * 1024;

/** Deflate without compressing: stored blocks, so the work is a copy and a checksum. */
const DEFERRED: zlib.ZlibOptions = { level: 0 };
/**
 * Stored blocks up to this are made on the main thread (a copy and a checksum, well under a
 * millisecond): on the thread pool, two at a time, a restore's safety point waited for them.
 */
const DEFERRED_SYNC_LIMIT = 1024 * 1024;
/** Stored blocks up to this are written by our own code (`storedBlocks`), without zlib's set-up; larger ones by zlib's level 0. */
const STORED_BLOCKS_OWN_LIMIT = 64 * 1024;

const pool = new Semaphore(IN_FLIGHT);
const deflateAsync = promisify(zlib.deflate);
const inflateAsync = promisify(zlib.inflate);
const brotliAsync = promisify(zlib.brotliCompress);
const unbrotliAsync = promisify(zlib.brotliDecompress);

/**
 * zlib's output buffer for a job on the thread pool: by default 16 KiB, so a 1 MiB object came back
 * to the main thread for a callback (and went out again) once per 16 KiB of output. One buffer of
 * about the size kept (or the object's size, for a decompression) makes it one round trip.
 */
const MAX_CHUNK = 8 * 1024 * 1024;
function chunkFor(size: number): number {
  return Math.max(zlib.constants.Z_MIN_CHUNK, Math.min(MAX_CHUNK, Math.ceil(size)));
}

function brotliOptions(size: number): zlib.BrotliOptions {
  return {
    chunkSize: chunkFor(size * WORTH),
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
      // a window no larger than the object keeps the encoder's memory small for small files
      [zlib.constants.BROTLI_PARAM_LGWIN]: Math.max(10, Math.min(22, Math.ceil(Math.log2(size + 1)))),
    },
  };
}

function compressSync(raw: Buffer, codec: Codec): Buffer {
  if (codec === CODECS.brotli) return zlib.brotliCompressSync(raw, brotliOptions(raw.length));
  return zlib.deflateSync(raw, { level: codec === CODECS.deflateFast ? 1 : 6 });
}

function compressAsync(raw: Buffer, codec: Codec): Promise<Buffer> {
  if (codec === CODECS.brotli) return brotliAsync(raw, brotliOptions(raw.length));
  return deflateAsync(raw, { level: codec === CODECS.deflateFast ? 1 : 6, chunkSize: chunkFor(raw.length * WORTH) });
}

/**
 * Compresses an object, keeping the result only when it saves at least 10 %. The decision is made
 * per object: small objects, and files of an already compressed format (by their first bytes), are
 * stored as they are; a large object of an unknown format is compressed only when a sample of it
 * compresses. Small objects are compressed synchronously; larger ones on the thread pool, a few at a
 * time, so a first point uses the second core.
 */
export async function encodeObject(raw: Buffer, effort: Effort, type: ObjectType = 'blob'): Promise<{ data: Buffer; codec: Codec }> {
  const stored = { data: raw, codec: CODECS.stored };
  if (type === 'tree') {
    if (raw.length < RAW_BELOW || (effort !== 'small' && raw.length <= TREE_STORED_LIMIT)) return stored;
    if (effort === 'small') return encodeTreeSmall(raw);
  }
  if (raw.length < RAW_BELOW || isCompressedFormat(raw)) return stored;
  if (effort === 'deferred') {
    if (raw.length <= STORED_BLOCKS_OWN_LIMIT) return { data: storedBlocks(raw), codec: CODECS.deflateFast };
    // one output buffer of the stored stream's exact size: zlib's default 16 KiB chunks doubled the time of a large file
    const options = { ...DEFERRED, chunkSize: chunkFor(storedBlocksSize(raw.length)) };
    return { data: raw.length <= DEFERRED_SYNC_LIMIT ? zlib.deflateSync(raw, options) : await pool.run(() => deflateAsync(raw, options)), codec: CODECS.deflateFast };
  }
  const codec = effort === 'fast' ? CODECS.deflateFast : CODECS.brotli;
  const compressed = raw.length <= SYNC_LIMIT ? compressSync(raw, codec) : await pool.run(() => compressLarge(raw, codec));
  return compressed !== undefined && compressed.length < raw.length * WORTH ? { data: compressed, codec } : stored;
}

/**
 * A tree at a repack is kept compressed whatever it saves (JSON with hex hashes saves about half), so
 * no repacked tree is one the next repack would try again.
 */
async function encodeTreeSmall(raw: Buffer): Promise<{ data: Buffer; codec: Codec }> {
  const data = raw.length <= SYNC_LIMIT ? compressSync(raw, CODECS.brotli) : await pool.run(() => compressAsync(raw, CODECS.brotli));
  return { data, codec: CODECS.brotli };
}

/**
 * Whether a repack compresses this record again: the fast codec's records, and trees a point wrote
 * as they are. Stored blobs (media, files too small or not worth compressing) are not tried again.
 */
export function awaitsCompression(type: ObjectType, codec: Codec, rawSize: number): boolean {
  return codec === CODECS.deflateFast || (type === 'tree' && codec === CODECS.stored && rawSize >= RAW_BELOW);
}

/** On the thread pool: a sample first for an object larger than it, then the whole object; `undefined` when the sample does not compress. */
async function compressLarge(raw: Buffer, codec: Codec): Promise<Buffer | undefined> {
  if (raw.length > SAMPLE_BYTES) {
    const sample = await deflateAsync(raw.subarray(0, SAMPLE_BYTES), { level: 1, chunkSize: SAMPLE_BYTES });
    if (sample.length >= SAMPLE_BYTES * WORTH) return undefined;
  }
  const compressed = await compressAsync(raw, codec);
  // the output is a view of a buffer sized for the worst case: keep only what is used
  return compressed.buffer.byteLength > 2 * compressed.length ? Buffer.from(compressed) : compressed;
}

export async function decodeObject(data: Buffer, codec: Codec, rawSize: number): Promise<Buffer> {
  if (codec === CODECS.stored) return data;
  const sync = data.length <= SYNC_DECODE_LIMIT;
  // one byte more than the content: an output that fills zlib's buffer exactly makes it allocate a second one of the same size
  const options = { maxOutputLength: Math.max(rawSize, 1), chunkSize: chunkFor(rawSize + 1) };
  if (codec === CODECS.brotli) return sync ? zlib.brotliDecompressSync(data, options) : unbrotliAsync(data, options);
  return sync ? zlib.inflateSync(data, options) : inflateAsync(data, options);
}
