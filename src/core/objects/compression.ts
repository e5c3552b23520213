import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { Semaphore } from '../capture/concurrency';

/**
 * How a record's bytes are stored; the pack records it, so a reader never guesses. Points write
 * `deflateFast` (deflate level 1: on the save path CPU matters more than 10 % of disk); a repack
 * recompresses those records with `brotli` (quality 5: 29.7 MiB instead of 32.9 MiB for the
 * benchmark's 10k-file workspace, ~2× the CPU). `deflate` (level 6) is read but not written today.
 */
export const CODECS = { stored: 0, deflateFast: 1, deflate: 2, brotli: 3 } as const;
export type Codec = (typeof CODECS)[keyof typeof CODECS];

export function isCodec(value: number): value is Codec {
  return value >= 0 && value <= 3;
}

/** `fast` for writes on the save path, `small` for repacks. */
export type Effort = 'fast' | 'small';

const RAW_BELOW = 64;
/**
 * Objects at or below this are compressed on the main thread: a thread-pool round trip costs more
 * than deflating a few kB. Larger ones (62 % of the bytes of the benchmark's workspace) go to the pool.
 */
const SYNC_LIMIT = 16 * 1024;
/** Compressions on the thread pool at once: it also serves the capture's file reads. */
const IN_FLIGHT = 2;
const BROTLI_QUALITY = 5;
/** Decompressions at or below this run synchronously (one thread-pool round trip costs more). */
const SYNC_DECODE_LIMIT = 256 * 1024;

const pool = new Semaphore(IN_FLIGHT);
const deflateAsync = promisify(zlib.deflate);
const inflateAsync = promisify(zlib.inflate);
const brotliAsync = promisify(zlib.brotliCompress);
const unbrotliAsync = promisify(zlib.brotliDecompress);

function brotliOptions(size: number): zlib.BrotliOptions {
  return {
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
  return deflateAsync(raw, { level: codec === CODECS.deflateFast ? 1 : 6 });
}

/**
 * Compresses an object, keeping the result only when it saves at least 10 %. Small objects are
 * compressed synchronously; larger ones on the thread pool, a few at a time, so a first point
 * uses the second core.
 */
export async function encodeObject(raw: Buffer, effort: Effort): Promise<{ data: Buffer; codec: Codec }> {
  if (raw.length < RAW_BELOW) return { data: raw, codec: CODECS.stored };
  const codec = effort === 'fast' ? CODECS.deflateFast : CODECS.brotli;
  const compressed = raw.length <= SYNC_LIMIT ? compressSync(raw, codec) : await pool.run(() => compressAsync(raw, codec));
  return compressed.length < raw.length * 0.9 ? { data: compressed, codec } : { data: raw, codec: CODECS.stored };
}

export async function decodeObject(data: Buffer, codec: Codec, rawSize: number): Promise<Buffer> {
  if (codec === CODECS.stored) return data;
  const sync = data.length <= SYNC_DECODE_LIMIT;
  if (codec === CODECS.brotli) {
    const options = { maxOutputLength: Math.max(rawSize, 1) };
    return sync ? zlib.brotliDecompressSync(data, options) : unbrotliAsync(data, options);
  }
  const options = { maxOutputLength: Math.max(rawSize, 1) };
  return sync ? zlib.inflateSync(data, options) : inflateAsync(data, options);
}
