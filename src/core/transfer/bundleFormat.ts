import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as z from 'zod';
import { StateError, ioError, describeCause } from '../errors';
import { isCodec, type Codec } from '../objects/compression';
import type { ObjectType } from '../objects/hash';

/**
 * A bundle carries recovery points to another store (another machine, a dev container) as one file:
 *
 *   "RPBUNDLE"
 *   header    : length(4) JSON {format, version, createdAt, points, objects}
 *   manifest* : length(4) JSON (a point's manifest, as in points/<id>.json), `points` of them
 *   object*   : kind(1) rawSize(5) storedSize(5) hash(32) data(storedSize), `objects` of them
 *   trailer   : sha256(every byte before the trailer)(32) "RPBNDEND"
 *
 * `kind` is the pack format's byte (high four bits: 1 blob, 2 tree; low four bits: codec), and the
 * data is the object as the store keeps it, so compressed objects are copied, never recompressed.
 */
export const BUNDLE_MAGIC = Buffer.from('RPBUNDLE');
export const BUNDLE_END = Buffer.from('RPBNDEND');
export const BUNDLE_FORMAT = 'recovery-points-bundle';
export const BUNDLE_VERSION = 1;
export const BUNDLE_TRAILER = 32 + BUNDLE_END.length;
export const OBJECT_HEADER = 1 + 5 + 5 + 32;
const MAX_HEADER_BYTES = 64 * 1024;
/** A manifest holds the state, at most 16 MiB (see schemas.ts), plus its summary. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024 + 64 * 1024;
const MAX_OBJECT_BYTES = 2 ** 31 - 1;

export const bundleHeaderSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  version: z.number().int().positive(),
  createdAt: z.string(),
  points: z.number().int().nonnegative(),
  objects: z.number().int().nonnegative(),
});
export type BundleHeader = z.infer<typeof bundleHeaderSchema>;

const TYPE_CODES: Record<ObjectType, number> = { blob: 1, tree: 2 };
const TYPES: Record<number, ObjectType> = { 1: 'blob', 2: 'tree' };

export function objectKindByte(type: ObjectType, codec: Codec): number {
  return (TYPE_CODES[type] << 4) | codec;
}

export interface BundleObjectRecord {
  readonly hash: string;
  readonly type: ObjectType;
  readonly codec: Codec;
  readonly rawSize: number;
  readonly data: Buffer;
}

export function encodeObjectHeader(record: Omit<BundleObjectRecord, 'data'> & { storedSize: number }): Buffer {
  const header = Buffer.alloc(OBJECT_HEADER);
  header[0] = objectKindByte(record.type, record.codec);
  header.writeUIntBE(record.rawSize, 1, 5);
  header.writeUIntBE(record.storedSize, 6, 5);
  header.write(record.hash, 11, 32, 'hex');
  return header;
}

export function lengthPrefixed(json: string): Buffer[] {
  const body = Buffer.from(json, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return [length, body];
}

/** The file given is not a bundle at all (the wrong file), as opposed to a damaged one: nothing was changed. */
export class NotABundle extends StateError {}

/** A clear error about the bundle itself (damaged, from a newer version, unsafe): nothing was changed. */
export function badBundle(file: string, problem: string, cause?: unknown): StateError {
  return StateError.invalidState(bundleRefusal(file, problem), cause);
}

/** `badBundle` for a file that is not a bundle at all. */
function notABundle(file: string, problem: string): NotABundle {
  return new NotABundle('InvalidState', bundleRefusal(file, problem));
}

function bundleRefusal(file: string, problem: string): string {
  return `The bundle ${file} cannot be imported: ${problem}. Nothing was changed.`;
}

/**
 * Reads a bundle front to back in large chunks, hashing every byte it hands out, so the checksum
 * of the whole file comes out of the same pass that parses it.
 */
export class BundleReader {
  private buffer = Buffer.alloc(0);
  private bufferAt = 0;
  private position = 0;
  private readonly hash: Hash = createHash('sha256');
  readonly end: number;

  private constructor(
    private readonly handle: fs.FileHandle,
    readonly file: string,
    readonly size: number,
  ) {
    this.end = size - BUNDLE_TRAILER;
  }

  /** Opens a bundle and checks its frame: magic, trailer marker, header (and its version). */
  static async open(file: string): Promise<{ reader: BundleReader; header: BundleHeader; checksum: Buffer }> {
    let handle: fs.FileHandle;
    try {
      // opening a named pipe would wait for a writer, for ever
      const stat = await fs.stat(file);
      if (!stat.isFile() && !stat.isDirectory()) throw notABundle(file, 'it is not a file (a pipe, a socket or a device)');
      handle = await fs.open(file, 'r');
    } catch (error) {
      if (error instanceof StateError) throw error;
      throw ioError(`open the bundle ${file}`, error);
    }
    try {
      const { size } = await handle.stat();
      const reader = new BundleReader(handle, file, size);
      if (size < BUNDLE_MAGIC.length) throw notABundle(file, `it is not a recovery points bundle (${size} bytes)`);
      const magic = await reader.take(BUNDLE_MAGIC.length);
      if (!magic.equals(BUNDLE_MAGIC)) throw notABundle(file, 'it is not a recovery points bundle (no RPBUNDLE marker at its start)');
      const header = parseHeader(file, await reader.takeJson(MAX_HEADER_BYTES, 'header'));
      if (size < BUNDLE_MAGIC.length + 4 + BUNDLE_TRAILER) throw badBundle(file, 'it is truncated (it has no end)');
      const trailer = Buffer.alloc(BUNDLE_TRAILER);
      await handle.read(trailer, 0, BUNDLE_TRAILER, size - BUNDLE_TRAILER);
      if (!trailer.subarray(32).equals(BUNDLE_END)) throw badBundle(file, 'it is truncated or damaged (its end marker is missing)');
      return { reader, header, checksum: Buffer.from(trailer.subarray(0, 32)) };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  get offset(): number {
    return this.position;
  }

  /** The next `length` bytes; a bundle that ends before them is truncated. */
  async take(length: number): Promise<Buffer> {
    if (this.position + length > this.size) throw badBundle(this.file, 'it is truncated or damaged (a record runs past its end)');
    const available = this.bufferAt + this.buffer.length - this.position;
    if (available < length) {
      const chunk = Math.max(length, 1024 * 1024);
      const fresh = Buffer.allocUnsafe(Math.min(chunk, this.size - this.position));
      try {
        await this.handle.read(fresh, 0, fresh.length, this.position);
      } catch (error) {
        throw ioError(`read the bundle ${this.file}`, error);
      }
      this.buffer = fresh;
      this.bufferAt = this.position;
    }
    const from = this.position - this.bufferAt;
    const bytes = Buffer.from(this.buffer.subarray(from, from + length));
    this.position += length;
    this.hash.update(bytes);
    return bytes;
  }

  async takeJson(maxBytes: number, what: string): Promise<unknown> {
    const length = (await this.take(4)).readUInt32BE(0);
    if (length > maxBytes || this.position + length > this.end) throw badBundle(this.file, `its ${what} is damaged (stated length ${length})`);
    const text = (await this.take(length)).toString('utf8');
    try {
      return JSON.parse(text);
    } catch (error) {
      throw badBundle(this.file, `its ${what} is not valid JSON (${describeCause(error)})`, error);
    }
  }

  async takeObject(): Promise<BundleObjectRecord> {
    const header = await this.take(OBJECT_HEADER);
    const type = TYPES[header[0]! >> 4];
    const codec = header[0]! & 0x0f;
    const rawSize = header.readUIntBE(1, 5);
    const storedSize = header.readUIntBE(6, 5);
    if (!type || !isCodec(codec)) throw badBundle(this.file, `an object record at byte ${this.position - OBJECT_HEADER} has an unknown kind`);
    if (storedSize > MAX_OBJECT_BYTES || rawSize > MAX_OBJECT_BYTES || this.position + storedSize > this.end) {
      throw badBundle(this.file, `an object record at byte ${this.position - OBJECT_HEADER} is damaged (stated size ${storedSize})`);
    }
    return { hash: header.toString('hex', 11, 43), type, codec, rawSize, data: await this.take(storedSize) };
  }

  /** After the last record: the reader must stand at the trailer, and the bytes read must hash to `checksum`. */
  finish(checksum: Buffer): void {
    if (this.position !== this.end) throw badBundle(this.file, `it is damaged (${this.end - this.position} unexpected bytes before its end)`);
    if (!this.hash.digest().equals(checksum)) throw badBundle(this.file, 'it is damaged (its checksum does not match its content)');
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

function parseHeader(file: string, raw: unknown): BundleHeader {
  const versioned = z.object({ format: z.literal(BUNDLE_FORMAT), version: z.number().int() }).safeParse(raw);
  if (!versioned.success) throw badBundle(file, 'its header is not a recovery points bundle header');
  if (versioned.data.version > BUNDLE_VERSION) {
    throw badBundle(file, `it was made by a newer version of Recovery Points (bundle format ${versioned.data.version}; this version reads format ${BUNDLE_VERSION}). Update Recovery Points and try again`);
  }
  const parsed = bundleHeaderSchema.safeParse(raw);
  if (!parsed.success) throw badBundle(file, `its header is not valid (${parsed.error.issues[0]?.message ?? 'unknown problem'})`);
  return parsed.data;
}
