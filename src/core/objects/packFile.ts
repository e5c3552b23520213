import * as buffer from 'node:buffer';
import { randomBytes, createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { PRIVATE_FILE_MODE, fsyncDir } from '../documents';
import { ioError, StateError } from '../errors';
import type { ObjectType } from './hash';

/**
 * A pack holds the new objects of one write (a recovery point, a repack) in a single file, so a
 * point costs one file, one fsync and one rename however many objects it adds. Layout:
 *
 *   "RPPACK01"
 *   record*   : hash(32) type(1) encoding(1) rawSize(6) storedSize(6) data(storedSize)
 *   index     : entry* : hash(32) type(1) encoding(1) dataOffset(6) storedSize(6) rawSize(6)
 *   trailer   : indexOffset(6) count(4) sha256(index)(32) "RPPKEND1"
 *
 * A pack is written to a temporary name and renamed when complete, so every `*.pack` is whole;
 * records repeat the index's facts so a pack with a damaged index can still be salvaged.
 */
export const PACK_EXTENSION = '.pack';
const MAGIC = Buffer.from('RPPACK01');
const END_MAGIC = Buffer.from('RPPKEND1');
const RECORD_HEADER = 46;
const INDEX_ENTRY = 52;
const TRAILER = 50;
const SYNC_LIMIT = 256 * 1024;
/** No record is bigger than a buffer can be; a larger stated size is damage. */
const MAX_RECORD_BYTES = Math.min(buffer.constants.MAX_LENGTH, 2 ** 31 - 1);
const TYPE_CODES: Record<ObjectType, number> = { blob: 1, tree: 2 };
const TYPES: Record<number, ObjectType> = { 1: 'blob', 2: 'tree' };

/** Stored as is (`0`) or deflated (`1`). */
export type Encoding = 0 | 1;

export interface PackEntry {
  readonly hash: string;
  readonly type: ObjectType;
  readonly encoding: Encoding;
  readonly offset: number;
  readonly storedSize: number;
  readonly rawSize: number;
}

const deflate = promisify(zlib.deflate);
const inflate = promisify(zlib.inflate);

export async function encodeObject(raw: Buffer): Promise<{ data: Buffer; encoding: Encoding }> {
  if (raw.length < 64) return { data: raw, encoding: 0 };
  const compressed = raw.length <= SYNC_LIMIT ? zlib.deflateSync(raw, { level: 1 }) : await deflate(raw, { level: 1 });
  return compressed.length < raw.length * 0.9 ? { data: compressed, encoding: 1 } : { data: raw, encoding: 0 };
}

export async function decodeObject(data: Buffer, encoding: Encoding, rawSize: number): Promise<Buffer> {
  if (encoding === 0) return data;
  const options = { maxOutputLength: Math.max(rawSize, 1) };
  return data.length <= SYNC_LIMIT ? zlib.inflateSync(data, options) : await inflate(data, options);
}

export function newPackName(): string {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomBytes(4).toString('hex')}${PACK_EXTENSION}`;
}

/** Reads a pack's index, checking its trailer and checksum. Throws SnapshotLoadError for a damaged pack. */
export async function readPackIndex(file: string): Promise<PackEntry[]> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    if (size < MAGIC.length + TRAILER) throw StateError.snapshotLoad(`Pack ${path.basename(file)} is truncated (${size} bytes).`);
    const trailer = Buffer.alloc(TRAILER);
    await handle.read(trailer, 0, TRAILER, size - TRAILER);
    if (!trailer.subarray(42).equals(END_MAGIC)) throw StateError.snapshotLoad(`Pack ${path.basename(file)} has no valid end marker.`);
    const indexOffset = trailer.readUIntBE(0, 6);
    const count = trailer.readUInt32BE(6);
    if (indexOffset + count * INDEX_ENTRY !== size - TRAILER) throw StateError.snapshotLoad(`Pack ${path.basename(file)} has an inconsistent index.`);
    const index = Buffer.alloc(count * INDEX_ENTRY);
    await handle.read(index, 0, index.length, indexOffset);
    if (!createHash('sha256').update(index).digest().equals(trailer.subarray(10, 42))) {
      throw StateError.snapshotLoad(`Pack ${path.basename(file)} has a damaged index (checksum mismatch).`);
    }
    const entries: PackEntry[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * INDEX_ENTRY;
      const type = TYPES[index[at + 32]!];
      const encoding = index[at + 33];
      const entry = {
        hash: index.toString('hex', at, at + 32),
        type: type!,
        encoding: encoding as Encoding,
        offset: index.readUIntBE(at + 34, 6),
        storedSize: index.readUIntBE(at + 40, 6),
        rawSize: index.readUIntBE(at + 46, 6),
      };
      if (!type || (encoding !== 0 && encoding !== 1) || entry.offset + entry.storedSize > indexOffset) {
        throw StateError.snapshotLoad(`Pack ${path.basename(file)} has an invalid index entry.`);
      }
      entries.push(entry);
    }
    return entries;
  } catch (error) {
    if (error instanceof StateError) throw error;
    throw ioError(`read the pack ${file}`, error);
  } finally {
    await handle?.close();
  }
}

/**
 * Walks a pack's records from the start without trusting its index: for salvaging a damaged pack.
 * Reads record by record, so a pack of any size (even one grown past what a buffer can hold) is walked.
 */
export async function* scanPackRecords(file: string): AsyncGenerator<PackEntry & { data: Buffer }> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    throw ioError(`read the pack ${file}`, error);
  }
  try {
    const read = async (length: number, position: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(length);
      try {
        await handle.read(buffer, 0, length, position);
      } catch (error) {
        throw ioError(`read the pack ${file}`, error);
      }
      return buffer;
    };
    const { size } = await handle.stat();
    if (size < MAGIC.length || !(await read(MAGIC.length, 0)).equals(MAGIC)) return;
    let at = MAGIC.length;
    while (at + RECORD_HEADER <= size) {
      const header = await read(RECORD_HEADER, at);
      const type = TYPES[header[32]!];
      const encoding = header[33];
      const rawSize = header.readUIntBE(34, 6);
      const storedSize = header.readUIntBE(40, 6);
      const offset = at + RECORD_HEADER;
      if (!type || (encoding !== 0 && encoding !== 1) || offset + storedSize > size || storedSize > MAX_RECORD_BYTES) return;
      yield { hash: header.toString('hex', 0, 32), type, encoding, offset, storedSize, rawSize, data: await read(storedSize, offset) };
      at = offset + storedSize;
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Appends encoded objects to a temporary file; `finish` adds the index, fsyncs and renames it into place. */
export class PackWriter {
  private handle: fs.FileHandle | undefined;
  private readonly tempFile: string;
  private position = 0;
  private readonly entries: PackEntry[] = [];
  private readonly byHash = new Map<string, PackEntry>();
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly dir: string) {
    this.tempFile = path.join(dir, `tmp-${randomBytes(6).toString('hex')}.pack.partial`);
  }

  get objectCount(): number {
    return this.entries.length;
  }

  get bytesWritten(): number {
    return this.position;
  }

  has(hash: string): boolean {
    return this.byHash.has(hash);
  }

  entry(hash: string): PackEntry | undefined {
    return this.byHash.get(hash);
  }

  /** Adds an already encoded object. Writes are queued, so callers may add concurrently. */
  add(hash: string, type: ObjectType, encoded: { data: Buffer; encoding: Encoding }, rawSize: number): Promise<void> {
    if (this.byHash.has(hash)) return Promise.resolve();
    const header = Buffer.alloc(RECORD_HEADER);
    header.write(hash, 0, 32, 'hex');
    header[32] = TYPE_CODES[type];
    header[33] = encoded.encoding;
    header.writeUIntBE(rawSize, 34, 6);
    header.writeUIntBE(encoded.data.length, 40, 6);
    const start = this.position === 0 ? MAGIC.length : this.position;
    const entry: PackEntry = { hash, type, encoding: encoded.encoding, offset: start + RECORD_HEADER, storedSize: encoded.data.length, rawSize };
    this.entries.push(entry);
    this.byHash.set(hash, entry);
    const first = this.position === 0;
    this.position = start + RECORD_HEADER + encoded.data.length;
    const write = this.writing.then(async () => {
      const handle = await this.open();
      const buffers = first ? [MAGIC, header, encoded.data] : [header, encoded.data];
      await handle.writev(buffers, first ? 0 : start);
    });
    this.writing = write.catch(() => undefined);
    return write.catch((error) => {
      throw ioError('write recovery point data', error);
    });
  }

  /** Reads back an object written to this (unfinished) pack. */
  async readData(entry: PackEntry): Promise<Buffer> {
    await this.writing;
    const buffer = Buffer.alloc(entry.storedSize);
    await (await this.open()).read(buffer, 0, entry.storedSize, entry.offset);
    return buffer;
  }

  /** Completes the pack durably; returns its final path, or undefined when nothing was added. */
  async finish(): Promise<{ file: string; entries: PackEntry[] } | undefined> {
    await this.writing;
    if (this.entries.length === 0) {
      await this.abort();
      return undefined;
    }
    const index = Buffer.alloc(this.entries.length * INDEX_ENTRY);
    this.entries.forEach((entry, i) => {
      const at = i * INDEX_ENTRY;
      index.write(entry.hash, at, 32, 'hex');
      index[at + 32] = TYPE_CODES[entry.type];
      index[at + 33] = entry.encoding;
      index.writeUIntBE(entry.offset, at + 34, 6);
      index.writeUIntBE(entry.storedSize, at + 40, 6);
      index.writeUIntBE(entry.rawSize, at + 46, 6);
    });
    const trailer = Buffer.alloc(TRAILER);
    trailer.writeUIntBE(this.position, 0, 6);
    trailer.writeUInt32BE(this.entries.length, 6);
    createHash('sha256').update(index).digest().copy(trailer, 10);
    END_MAGIC.copy(trailer, 42);
    const file = path.join(this.dir, newPackName());
    try {
      const handle = await this.open();
      await handle.writev([index, trailer], this.position);
      await handle.sync();
      await handle.close();
      this.handle = undefined;
      await fs.rename(this.tempFile, file);
      await fsyncDir(this.dir);
    } catch (error) {
      await this.abort();
      throw ioError('save recovery point data', error);
    }
    return { file, entries: this.entries };
  }

  async abort(): Promise<void> {
    await this.writing;
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await fs.rm(this.tempFile, { force: true }).catch(() => undefined);
  }

  private async open(): Promise<fs.FileHandle> {
    if (!this.handle) this.handle = await fs.open(this.tempFile, 'w+', PRIVATE_FILE_MODE);
    return this.handle;
  }
}
