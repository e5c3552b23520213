import * as buffer from 'node:buffer';
import { hash } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { PRIVATE_FILE_MODE, fsyncDir, fsyncDirSync } from '../documents';
import { ioError, StateError } from '../errors';
import type { Codec } from './compression';
import type { ObjectType } from './hash';
import { fanoutBytes, fanoutSize, INDEX_ENTRY, kindByte, PackIndex, parseKind, readFully, type PackEntry } from './packIndex';
import { randomHex } from '../randomHex';

export type { PackEntry } from './packIndex';

/**
 * A pack holds the new objects of one write (a recovery point, a repack) in a single file, so a
 * point costs one file, one fsync and one rename however many objects it adds. Layout (version 3):
 *
 *   "RPPACK03"
 *   record*   : kind(1) rawSize(5) storedSize(5) hashPrefix(8) data(storedSize)
 *   index     : entry*, sorted by hash : hash(32) kind(1) dataOffset(6) storedSize(5) rawSize(5)
 *   fan-out   : 256 × uint32 : entries whose hash starts with a byte ≤ i (only with 64 entries or more)
 *   trailer   : indexOffset(6) count(4) sha256(index + fan-out)(32) "RPPKEND3"
 *
 * `kind` is the object type (high four bits: 1 blob, 2 tree) and its codec (low four bits, see
 * `compression.ts`). A pack is written to a temporary name and renamed when complete, so every
 * `*.pack` is whole. Records repeat the index's facts and the first 8 bytes of the hash, so a pack
 * with a damaged index can still be salvaged: a salvaged record is re-hashed, and the prefix tells
 * a damaged record (dropped) from an intact one.
 *
 * Version 2 (`RPPACK02` … `RPPKEND2`) is the same without the fan-out table, its index in record
 * order: still read (its index is sorted in memory when loaded), and rewritten as version 3 by the
 * next garbage collection.
 */
export const PACK_EXTENSION = '.pack';
const MAGIC = Buffer.from('RPPACK03');
const END_MAGIC = Buffer.from('RPPKEND3');
const MAGIC_2 = Buffer.from('RPPACK02');
const END_MAGIC_2 = Buffer.from('RPPKEND2');
const HASH_PREFIX = 8;
const RECORD_HEADER = 11 + HASH_PREFIX;
const TRAILER = 50;
/** Packs up to this size that were never flushed are written with synchronous calls (a save's point). */
const SYNC_PACK_BYTES = 256 * 1024;
/** Records are collected into writes of about this size. */
const WRITE_CHUNK = 1024 * 1024;
/** Records smaller than this are copied into the write buffer; larger ones are written from where they are. */
const COPY_BELOW = 64 * 1024;
const SLAB = 256 * 1024;
/** Bytes accepted but not yet written (buffered or being written) before `add` waits: bounds memory. */
const MAX_PENDING = 4 * WRITE_CHUNK;
/**
 * Indexes larger than this are read in place (`PackIndex.inPlace`); a smaller one is read whole when
 * its pack is opened: one read of it costs about what one lookup's read in place does, and a lookup
 * that misses would read it again in every pack it passes.
 */
const IN_PLACE_MIN_BYTES = 64 * 1024;
/** No record is bigger than a buffer can be; a larger stated size is damage. */
const MAX_RECORD_BYTES = Math.min(buffer.constants.MAX_LENGTH, 2 ** 31 - 1);

export function newPackName(): string {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomHex(4)}${PACK_EXTENSION}`;
}

/** Reads a pack's index as entries, checking its trailer, checksum and every entry. Throws SnapshotLoadError for a damaged pack. */
export async function readPackIndex(file: string): Promise<PackEntry[]> {
  const { index } = await loadPack(file);
  return Array.from({ length: index.count }, (_, i) => index.entryAt(i, path.basename(file)));
}

/**
 * A pack's index, in place (no object per entry), and its size on disk: one open, one stat, two
 * reads. A small index is read whole and its checksum checked; a large one (over IN_PLACE_MIN_BYTES,
 * its fan-out table written) is read in place and checked when something relies on all of it (`PackIndex.verify`).
 * Throws SnapshotLoadError for a damaged pack.
 */
export async function loadPack(file: string): Promise<{ index: PackIndex; size: number }> {
  // Synchronous calls: a cold start loads every pack's index, and a thread-pool round trip per call cost
  // three times the CPU of the reads themselves (an index is small, and its pages are usually cached).
  let fd: number | undefined;
  const name = path.basename(file);
  try {
    fd = fsSync.openSync(file, 'r');
    const { size } = fsSync.fstatSync(fd);
    if (size < MAGIC.length + TRAILER) throw StateError.snapshotLoad(`Pack ${name} is truncated (${size} bytes).`);
    const trailer = Buffer.alloc(TRAILER);
    readFully(fd, trailer, size - TRAILER, name);
    const end = trailer.subarray(42);
    const format = end.equals(END_MAGIC) ? 3 : end.equals(END_MAGIC_2) ? 2 : undefined;
    if (format === undefined) throw StateError.snapshotLoad(`Pack ${name} has no valid end marker.`);
    const indexOffset = trailer.readUIntBE(0, 6);
    const count = trailer.readUInt32BE(6);
    const tableBytes = format === 3 ? fanoutSize(count) : 0;
    if (indexOffset < MAGIC.length || indexOffset + count * INDEX_ENTRY + tableBytes !== size - TRAILER) throw StateError.snapshotLoad(`Pack ${name} has an inconsistent index.`);
    const firstRecord = MAGIC.length + RECORD_HEADER;
    if (tableBytes > 0 && count * INDEX_ENTRY > IN_PLACE_MIN_BYTES) {
      // a large index is read in place: its fan-out table now, its entries as lookups need them
      const table = Buffer.allocUnsafe(tableBytes);
      readFully(fd, table, indexOffset + count * INDEX_ENTRY, name);
      const onDisk = { file, at: indexOffset, bytes: count * INDEX_ENTRY + tableBytes, checksum: Buffer.from(trailer.subarray(10, 42)) };
      return { index: PackIndex.inPlace(table, count, onDisk, indexOffset, firstRecord, name), size };
    }
    const index = Buffer.alloc(count * INDEX_ENTRY + tableBytes);
    readFully(fd, index, indexOffset, name);
    if (!hash('sha256', index, 'buffer').equals(trailer.subarray(10, 42))) {
      throw StateError.snapshotLoad(`Pack ${name} has a damaged index (checksum mismatch).`);
    }
    const entries = index.subarray(0, count * INDEX_ENTRY);
    return {
      index: format === 3 ? PackIndex.sorted(entries, index.subarray(count * INDEX_ENTRY), indexOffset, firstRecord, name) : PackIndex.unsorted(entries, indexOffset, firstRecord),
      size,
    };
  } catch (error) {
    if (error instanceof StateError) throw error;
    throw ioError(`read the pack ${file}`, error);
  } finally {
    if (fd !== undefined) fsSync.closeSync(fd);
  }
}

/**
 * Whether entry `at` of a pack's index agrees with the record it points to: the record's header holds
 * the same kind, sizes and first 8 bytes of the hash. An entry of an index read in place (not yet
 * checked against its checksum) is confirmed so before an object is taken as stored on its word. False
 * when the two differ or the record cannot be read (the pack gone, an I/O error).
 */
export function recordAgrees(index: PackIndex, at: number, name: string): boolean {
  try {
    const entry = index.entryAt(at, name);
    const header = index.readPack(entry.offset - RECORD_HEADER, RECORD_HEADER);
    return (
      header[0] === kindByte(entry.type, entry.codec) &&
      header.readUIntBE(1, 5) === entry.rawSize &&
      header.readUIntBE(6, 5) === entry.storedSize &&
      header.compare(index.hashBytesAt(at), 0, HASH_PREFIX, 11, RECORD_HEADER) === 0
    );
  } catch {
    return false;
  }
}

/** A record found by `scanPackRecords`: its facts, its data, and the hash prefix its header claims. */
export interface ScannedRecord extends Omit<PackEntry, 'hash'> {
  readonly hashPrefix: string;
  readonly data: Buffer;
}

/**
 * Walks a pack's records from the start without trusting its index: for salvaging a damaged pack.
 * Reads record by record, so a pack of any size (even one grown past what a buffer can hold) is walked.
 */
export async function* scanPackRecords(file: string): AsyncGenerator<ScannedRecord> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    throw ioError(`read the pack ${file}`, error);
  }
  try {
    const read = async (length: number, position: number): Promise<Buffer> => {
      const bytes = Buffer.alloc(length);
      try {
        await handle.read(bytes, 0, length, position);
      } catch (error) {
        throw ioError(`read the pack ${file}`, error);
      }
      return bytes;
    };
    const { size } = await handle.stat();
    if (size < MAGIC.length) return;
    const magic = await read(MAGIC.length, 0);
    if (!magic.equals(MAGIC) && !magic.equals(MAGIC_2)) return;
    let at = MAGIC.length;
    while (at + RECORD_HEADER <= size) {
      const header = await read(RECORD_HEADER, at);
      const kind = parseKind(header[0]!);
      const rawSize = header.readUIntBE(1, 5);
      const storedSize = header.readUIntBE(6, 5);
      const offset = at + RECORD_HEADER;
      if (!kind || offset + storedSize > size || storedSize > MAX_RECORD_BYTES) return;
      yield { type: kind.type, codec: kind.codec, offset, storedSize, rawSize, hashPrefix: header.toString('hex', 11, RECORD_HEADER), data: await read(storedSize, offset) };
      at = offset + storedSize;
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Appends encoded objects to a temporary file; `finish` adds the index, fsyncs and renames it into
 * place. Records are collected into writes of about 1 MiB (one system call each, not one per
 * object); `add` waits while more than a few MiB are accepted but not yet written.
 */
export class PackWriter {
  private handle: Promise<fs.FileHandle> | undefined;
  /**
   * The temporary file, created on the thread pool when the first object is added: creating a file
   * costs 0.1–0.6 ms of kernel time here, which a save's point would otherwise wait for in `finish`
   * while the rest of its work (its trees, its manifest) is done meanwhile. `fd` is set once it is open.
   */
  private early: { fd: number | undefined; opened: Promise<void> } | undefined;
  private readonly tempFile: string;
  private position = 0;
  private entries: PackEntry[] = [];
  private byHash = new Map<string, PackEntry>();
  /** Objects added; kept once the entries are dropped. */
  private added = 0;
  /** Records not yet handed to a write, and where they start in the file. */
  private chunk: Buffer[] = [];
  private chunkStart = 0;
  private chunkBytes = 0;
  /** Where small records are copied (see `append`). */
  private slab: Buffer | undefined;
  private slabUsed = 0;
  private slabSealed = 0;
  /** Bytes accepted and not yet on disk (the chunk plus writes in progress). */
  private pending = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;
  private drained: (() => void)[] = [];

  constructor(private readonly dir: string) {
    this.tempFile = path.join(dir, `tmp-${randomHex(6)}.pack.partial`);
  }

  get objectCount(): number {
    return this.added;
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

  /** Adds an already encoded object; resolves once it is accepted (buffered), waiting while too much is unwritten. */
  async add(hash: string, type: ObjectType, encoded: { data: Buffer; codec: Codec }, rawSize: number): Promise<void> {
    while (this.pending >= MAX_PENDING && this.failure === undefined) await new Promise<void>((resolve) => this.drained.push(resolve));
    if (this.failure !== undefined) throw ioError('write recovery point data', this.failure);
    if (this.byHash.has(hash)) return;
    if (this.position === 0) {
      this.append(MAGIC);
      this.position = MAGIC.length;
      this.openEarly();
    }
    const entry: PackEntry = { hash, type, codec: encoded.codec, offset: this.position + RECORD_HEADER, storedSize: encoded.data.length, rawSize };
    this.entries.push(entry);
    this.byHash.set(hash, entry);
    this.added++;
    const header = this.reserve(RECORD_HEADER);
    this.chunkBytes += RECORD_HEADER;
    this.pending += RECORD_HEADER;
    header[0] = kindByte(type, encoded.codec);
    header.writeUIntBE(rawSize, 1, 5);
    header.writeUIntBE(encoded.data.length, 6, 5);
    header.write(hash.slice(0, HASH_PREFIX * 2), 11, HASH_PREFIX, 'hex');
    this.append(encoded.data);
    this.position += RECORD_HEADER + encoded.data.length;
    if (this.chunkBytes >= WRITE_CHUNK) this.flush();
  }

  /** Reads back an object added to this (unfinished) pack. */
  async readData(entry: PackEntry): Promise<Buffer> {
    const buffered = this.fromChunk(entry);
    if (buffered) return buffered;
    await this.writing;
    if (this.failure !== undefined) throw ioError('read back recovery point data', this.failure);
    const buffer = Buffer.alloc(entry.storedSize);
    await (await this.open()).read(buffer, 0, entry.storedSize, entry.offset);
    return buffer;
  }

  /**
   * Completes the pack durably; returns its final path and index, or undefined when nothing was added.
   * `name`: the pack's file name (a point's pack names the point whose manifest it holds); otherwise a new one.
   */
  async finish(name?: string): Promise<{ file: string; index: PackIndex; size: number } | undefined> {
    if (this.entries.length === 0) {
      await this.abort();
      return undefined;
    }
    // the index in hash order (hex strings sort as their bytes do), for lookups in place
    const sorted = [...this.entries].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    const entries = Buffer.alloc(sorted.length * INDEX_ENTRY);
    sorted.forEach((entry, i) => {
      const at = i * INDEX_ENTRY;
      entries.write(entry.hash, at, 32, 'hex');
      entries[at + 32] = kindByte(entry.type, entry.codec);
      entries.writeUIntBE(entry.offset, at + 33, 6);
      entries.writeUIntBE(entry.storedSize, at + 39, 5);
      entries.writeUIntBE(entry.rawSize, at + 44, 5);
    });
    const index = Buffer.concat([entries, fanoutBytes(entries)]);
    const packIndex = PackIndex.written(entries, this.position, MAGIC.length + RECORD_HEADER);
    const trailer = Buffer.alloc(TRAILER);
    trailer.writeUIntBE(this.position, 0, 6);
    trailer.writeUInt32BE(this.entries.length, 6);
    hash('sha256', index, 'buffer').copy(trailer, 10);
    END_MAGIC.copy(trailer, 42);
    this.append(index);
    this.append(trailer);
    const size = this.position + index.length + trailer.length;
    const file = path.join(this.dir, name ?? newPackName());
    if (this.handle === undefined && this.chunkStart === 0 && size <= SYNC_PACK_BYTES) {
      // A save's pack (a few small objects) was never flushed: written, synced and renamed with
      // synchronous calls, where each thread-pool round trip would cost more than the call.
      this.seal();
      const buffers = this.chunk;
      this.chunk = [];
      if (this.early?.fd === undefined) await this.early?.opened;
      const fd = this.early?.fd;
      this.early = undefined;
      try {
        writePackSync(this.tempFile, file, buffers, fd);
      } catch (error) {
        await this.abort();
        throw ioError('save recovery point data', error);
      }
      fsyncDirSync(this.dir);
      this.dropEntries();
      return { file, index: packIndex, size };
    }
    this.flush();
    try {
      await this.writing;
      if (this.failure !== undefined) throw this.failure;
      const handle = await this.open();
      await handle.sync();
      await handle.close();
      this.handle = undefined;
      await fs.rename(this.tempFile, file);
      await fsyncDir(this.dir);
    } catch (error) {
      await this.abort();
      throw ioError('save recovery point data', error);
    }
    this.dropEntries();
    return { file, index: packIndex, size };
  }

  /**
   * Once the pack is complete its index answers for it: the per-object entries (one object and one
   * map slot each, tens of thousands for a first point) are not kept until the writer is dropped.
   */
  private dropEntries(): void {
    this.entries = [];
    this.byHash = new Map();
  }

  async abort(): Promise<void> {
    this.chunk = [];
    this.chunkBytes = 0;
    this.slab = undefined;
    await this.writing;
    await this.handle?.then((h) => h.close()).catch(() => undefined);
    this.handle = undefined;
    await this.closeEarly();
    await fs.rm(this.tempFile, { force: true }).catch(() => undefined);
  }

  /** Creates the temporary file on the thread pool (exclusively: it never truncates what a write put there). */
  private openEarly(): void {
    const early: { fd: number | undefined; opened: Promise<void> } = { fd: undefined, opened: Promise.resolve() };
    early.opened = new Promise<void>((resolve) =>
      fsSync.open(this.tempFile, 'wx', PRIVATE_FILE_MODE, (error, fd) => {
        // a failure is met again, and reported, by the open that writes
        if (!error) early.fd = fd;
        resolve();
      }),
    );
    this.early = early;
  }

  /** Closes the early descriptor once its open is done: the writes of a large pack go through `handle`. */
  private async closeEarly(): Promise<void> {
    const early = this.early;
    this.early = undefined;
    if (!early) return;
    await early.opened;
    if (early.fd !== undefined) fsSync.close(early.fd, () => undefined);
  }

  /**
   * Adds bytes to the next write. Small ones are copied into a slab: a compressor's output can be a
   * small view of a much larger allocation, which holding it until the write would keep alive.
   */
  private append(bytes: Buffer): void {
    if (bytes.length >= COPY_BELOW) {
      this.seal();
      this.chunk.push(bytes);
    } else {
      bytes.copy(this.reserve(bytes.length));
    }
    this.chunkBytes += bytes.length;
    this.pending += bytes.length;
  }

  /** Room for `size` bytes at the end of the slab; the caller counts them. */
  private reserve(size: number): Buffer {
    if (!this.slab || this.slabUsed + size > this.slab.length) {
      this.seal();
      this.slab = Buffer.allocUnsafe(Math.max(SLAB, size));
      this.slabUsed = 0;
      this.slabSealed = 0;
    }
    const room = this.slab.subarray(this.slabUsed, this.slabUsed + size);
    this.slabUsed += size;
    return room;
  }

  /** Moves the slab's filled, not yet listed part into the chunk, so later bytes keep their order. */
  private seal(): void {
    if (this.slab && this.slabUsed > this.slabSealed) {
      this.chunk.push(this.slab.subarray(this.slabSealed, this.slabUsed));
      this.slabSealed = this.slabUsed;
    }
  }

  /** Hands the collected records to one write, queued behind the previous ones. */
  private flush(): void {
    this.seal();
    if (this.chunk.length === 0) return;
    const buffers = this.chunk;
    const at = this.chunkStart;
    const bytes = this.chunkBytes;
    this.chunk = [];
    this.chunkStart = at + bytes;
    this.chunkBytes = 0;
    this.writing = this.writing.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await writeAll(await this.open(), buffers, at);
      } catch (error) {
        this.failure = error;
      } finally {
        this.pending -= bytes;
        for (const resume of this.drained.splice(0)) resume();
      }
    });
  }

  private fromChunk(entry: PackEntry): Buffer | undefined {
    if (entry.offset < this.chunkStart) return undefined;
    this.seal();
    let at = this.chunkStart;
    for (const buffer of this.chunk) {
      const from = entry.offset - at;
      if (from >= 0 && from + entry.storedSize <= buffer.length) return Buffer.from(buffer.subarray(from, from + entry.storedSize));
      at += buffer.length;
    }
    return undefined;
  }

  private open(): Promise<fs.FileHandle> {
    this.handle ??= this.closeEarly().then(() => fs.open(this.tempFile, 'w+', PRIVATE_FILE_MODE));
    return this.handle;
  }
}

/** Writes a small pack whole with synchronous calls: temporary file (`opened`: its descriptor, already created empty), fsync, rename. */
function writePackSync(tempFile: string, file: string, buffers: Buffer[], opened?: number): void {
  const fd = opened ?? fsSync.openSync(tempFile, 'w', PRIVATE_FILE_MODE);
  try {
    let rest = buffers;
    let at = 0;
    while (rest.length > 0) {
      const written = fsSync.writevSync(fd, rest, at);
      if (written === 0) throw Object.assign(new Error('no space left on device (a write made no progress)'), { code: 'ENOSPC' });
      at += written;
      rest = afterWritten(rest, written);
    }
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
  fsSync.renameSync(tempFile, file);
}

/** What is left of `buffers` once `written` bytes of them are on disk. */
function afterWritten(buffers: Buffer[], written: number): Buffer[] {
  let rest = buffers;
  let skip = written;
  while (rest.length > 0 && skip >= rest[0]!.length) {
    skip -= rest[0]!.length;
    rest = rest.slice(1);
  }
  return skip > 0 ? [rest[0]!.subarray(skip), ...rest.slice(1)] : rest;
}

/**
 * `writev` until every byte is written: a write may be short (a file system filling up writes what
 * fits and fails only on the next call), and a short write taken as whole would leave a hole in the pack.
 */
async function writeAll(handle: fs.FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, at);
    if (bytesWritten === 0) throw Object.assign(new Error('no space left on device (a write made no progress)'), { code: 'ENOSPC' });
    at += bytesWritten;
    rest = afterWritten(rest, bytesWritten);
  }
}
