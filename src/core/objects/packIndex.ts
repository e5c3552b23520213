import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorCode, ioError, StateError } from '../errors';
import { isCodec, type Codec } from './compression';
import type { ObjectType } from './hash';

/** One index entry: hash(32) kind(1) dataOffset(6) storedSize(5) rawSize(5). */
export const INDEX_ENTRY = 49;
const HASH_BYTES = 32;
/** The fan-out table: 256 big-endian uint32, entry `b` = how many hashes start with a byte ≤ `b`. */
const FANOUT_BYTES = 256 * 4;
/**
 * Packs with fewer entries than this (a save's point: a few objects) have no fan-out table on disk:
 * it would double their size, and computing it from so few entries when the pack is opened costs nothing.
 */
const FANOUT_MIN_ENTRIES = 64;

/** Bytes of the fan-out table written after an index of `count` entries (format 3). */
export function fanoutSize(count: number): number {
  return count >= FANOUT_MIN_ENTRIES ? FANOUT_BYTES : 0;
}
const TYPE_CODES: Record<ObjectType, number> = { blob: 1, tree: 2 };
const TYPES: Record<number, ObjectType> = { 1: 'blob', 2: 'tree' };

export interface PackEntry {
  readonly hash: string;
  readonly type: ObjectType;
  readonly codec: Codec;
  /** Offset of the record's data in the pack. */
  readonly offset: number;
  readonly storedSize: number;
  readonly rawSize: number;
}

export function kindByte(type: ObjectType, codec: Codec): number {
  return (TYPE_CODES[type] << 4) | codec;
}

export function parseKind(byte: number): { type: ObjectType; codec: Codec } | undefined {
  const type = TYPES[byte >> 4];
  const codec = byte & 0x0f;
  return type && isCodec(codec) ? { type, codec } : undefined;
}

const HASH_TEXT = /^[0-9a-f]{64}$/;

/** A hash as the 32 bytes an index holds; `undefined` when it is not 64 lowercase hex digits (the only way hashes are written). */
export function hashBytes(hash: string, into: Buffer = Buffer.allocUnsafe(HASH_BYTES)): Buffer | undefined {
  if (!HASH_TEXT.test(hash)) return undefined;
  into.write(hash, 0, HASH_BYTES, 'hex');
  return into;
}

/**
 * Where a large pack's index lies in its file, for an index read in place: `at` is where its entries
 * start, `bytes` the entries and the fan-out table after them, which `checksum` (SHA-256) covers.
 */
export interface IndexOnDisk {
  readonly file: string;
  readonly at: number;
  readonly bytes: number;
  readonly checksum: Buffer;
}

/**
 * A pack's index as it is on disk: entries sorted by hash, and a fan-out table by the hash's first
 * byte, so a lookup is a binary search among the few entries sharing that byte. Nothing per entry is
 * built when a pack is opened; an entry becomes an object only when it is asked for (and checked then:
 * a bad kind or an offset outside the records is a SnapshotLoadError).
 *
 * A large pack's index (one with its fan-out table written) is read in place: opening it reads the
 * table alone, and a lookup reads a window of the entries sharing its hash's first byte, around where
 * the hash falls among them (hashes are uniform: `lookupWindow`), or all of them when the window does
 * not decide. So a process that asks for a few objects reads a few kilobytes of each index, and holds
 * none of it. The entries are read whole and checked against the index's checksum (`verify`) before
 * anything relies on them all (a walk over every entry), and once lookups have cost about what that
 * read does. A lookup alone relies on nothing unchecked: every object read is checked against its
 * hash, and a writer confirms an entry it finds by its record (`recordAgrees` in packFile.ts).
 */
export class PackIndex {
  /** Every entry, when read whole (and checked); `undefined` while read in place. */
  private entries: Buffer | undefined;
  /** While read in place: the entries the last lookup read, from position `first`. */
  private window: { readonly first: number; readonly entries: Buffer } | undefined;
  /** While read in place: reads made, and after how many the index is read whole instead (`readInPlace`). */
  private reads = 0;
  private readonly wholeAfter: number;
  /** While read in place: the pack's file, opened by the first read in place and kept open until `close`. */
  private fd: number | undefined;

  private constructor(
    entries: Buffer | undefined,
    /** fanout[b]: entries whose hash starts with a byte ≤ b. */
    private readonly fanout: Uint32Array,
    /** Where the records end (the index starts): no record's data may reach past it. */
    private readonly recordsEnd: number,
    private readonly firstRecord: number,
    /** 2: an index written in record order (sorted when loaded); 3: written sorted, with its fan-out. */
    readonly format: 2 | 3,
    private readonly onDisk?: IndexOnDisk,
  ) {
    this.entries = entries;
    // a read in place (~25 µs measured with its open and close; one pread now) costs at most what reading and hashing ~300 entries whole does
    this.wholeAfter = Math.ceil(4 + fanout[255]! / 300);
  }

  /**
   * An index written sorted, with its fan-out table (format 3). Throws a SnapshotLoadError when the
   * table does not fit the entries (not non-decreasing, or not ending at their count).
   */
  static sorted(entries: Buffer, fanoutBytes: Buffer, recordsEnd: number, firstRecord: number, name: string): PackIndex {
    if (fanoutBytes.length === 0) return new PackIndex(entries, fanoutOf(entries), recordsEnd, firstRecord, 3);
    return new PackIndex(entries, readFanout(fanoutBytes, entries.length / INDEX_ENTRY, name), recordsEnd, firstRecord, 3);
  }

  /** A large index read in place (format 3, its fan-out table written): only the table is read now. */
  static inPlace(fanoutBytes: Buffer, count: number, onDisk: IndexOnDisk, recordsEnd: number, firstRecord: number, name: string): PackIndex {
    return new PackIndex(undefined, readFanout(fanoutBytes, count, name), recordsEnd, firstRecord, 3, onDisk);
  }

  /** An index in any order (format 2, written in record order): sorted here, in one new buffer. */
  static unsorted(entries: Buffer, recordsEnd: number, firstRecord: number): PackIndex {
    const count = entries.length / INDEX_ENTRY;
    const order = hashOrder(entries, count);
    const sorted = Buffer.allocUnsafe(entries.length);
    for (let to = 0; to < count; to++) {
      const from = order[to]!;
      entries.copy(sorted, to * INDEX_ENTRY, from * INDEX_ENTRY, (from + 1) * INDEX_ENTRY);
    }
    return new PackIndex(sorted, fanoutOf(sorted), recordsEnd, firstRecord, 2);
  }

  /** The index of entries a writer has just written sorted (its own fan-out is computed). */
  static written(entries: Buffer, recordsEnd: number, firstRecord: number): PackIndex {
    return new PackIndex(entries, fanoutOf(entries), recordsEnd, firstRecord, 3);
  }

  get count(): number {
    return this.fanout[255]!;
  }

  /** Whether every entry has been read and checked against the index's checksum. */
  get verified(): boolean {
    return this.entries !== undefined;
  }

  /**
   * Reads an index read in place whole and checks it against its checksum (nothing to do for one read
   * whole). Throws a SnapshotLoadError when it does not match, an I/O error when it cannot be read.
   */
  verify(): void {
    const onDisk = this.onDisk;
    if (this.entries || !onDisk) return;
    const index = readAt(onDisk.file, onDisk.at, onDisk.bytes);
    const name = path.basename(onDisk.file);
    if (!createHash('sha256').update(index).digest().equals(onDisk.checksum)) throw StateError.snapshotLoad(`Pack ${name} has a damaged index (checksum mismatch).`);
    const entries = index.subarray(0, this.count * INDEX_ENTRY);
    const table = fanoutOf(entries);
    for (let b = 0; b < 256; b++) if (table[b] !== this.fanout[b]) throw StateError.snapshotLoad(`Pack ${name} has an invalid index (fan-out table).`);
    this.entries = entries;
    this.window = undefined;
    this.close();
  }

  /**
   * `length` bytes of the pack at `position`, through its file kept open: what a lookup in an index
   * read in place reads (a window of entries, a record's header). Throws ENOENT when the pack is gone,
   * a SnapshotLoadError when it ends first, an I/O error when a read fails.
   */
  readPack(position: number, length: number): Buffer {
    const onDisk = this.onDisk;
    if (!onDisk) throw new Error('Only an index read in place reads its pack.');
    this.fd ??= openForReading(onDisk.file);
    return readFrom(this.fd, onDisk.file, position, length);
  }

  /** Closes the pack's file kept open by reads in place (when the pack is forgotten or the store closed; a later read opens it again). */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fs.closeSync(fd);
    } catch {
      // nothing was written through it
    }
  }

  /** Position of the entry for `hash` (32 bytes), or -1. */
  find(hash: Buffer): number {
    const first = hash[0]!;
    let lo = first === 0 ? 0 : this.fanout[first - 1]!;
    let hi = this.fanout[first]!;
    if (lo === hi) return -1;
    let entries = this.entries;
    // the position of `entries`' first entry: 0 for the whole index
    let base = 0;
    if (!entries) {
      const window = this.lookupWindow(hash, lo, hi);
      if (!window) return -1;
      if (this.entries) {
        // this lookup's read had the index read whole
        entries = this.entries;
      } else {
        entries = window.entries;
        base = window.first;
        lo = Math.max(lo, base);
        hi = Math.min(hi, base + entries.length / INDEX_ENTRY);
      }
    }
    // bytes 1–4 decide almost every step without a call into Buffer.compare
    const next = hash.readUInt32BE(1);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = (mid - base) * INDEX_ENTRY;
      const theirs = entries.readUInt32BE(at + 1);
      const order = next !== theirs ? (next < theirs ? -1 : 1) : hash.compare(entries, at, at + HASH_BYTES, 0, HASH_BYTES);
      if (order === 0) return mid;
      if (order < 0) hi = mid;
      else lo = mid + 1;
    }
    return -1;
  }

  /** The hash at position `i` as the index holds it (a view, not a copy). */
  hashBytesAt(i: number): Buffer {
    const [entries, at] = this.at(i);
    return entries.subarray(at, at + HASH_BYTES);
  }

  hashAt(i: number): string {
    const [entries, at] = this.at(i);
    return entries.toString('hex', at, at + HASH_BYTES);
  }

  storedSizeAt(i: number): number {
    const [entries, at] = this.at(i);
    return entries.readUIntBE(at + 39, 5);
  }

  /** The kind at position `i` (type and codec), or `undefined` for an unknown kind byte. */
  kindAt(i: number): { type: ObjectType; codec: Codec } | undefined {
    const [entries, at] = this.at(i);
    return parseKind(entries[at + 32]!);
  }

  rawSizeAt(i: number): number {
    const [entries, at] = this.at(i);
    return entries.readUIntBE(at + 44, 5);
  }

  /** The entry at position `i`, checked: its kind is known and its data lies among the records. */
  entryAt(i: number, name: string): PackEntry {
    const [entries, at] = this.at(i);
    const kind = parseKind(entries[at + 32]!);
    const offset = entries.readUIntBE(at + 33, 6);
    const storedSize = entries.readUIntBE(at + 39, 5);
    if (!kind || offset < this.firstRecord || offset + storedSize > this.recordsEnd) {
      throw StateError.snapshotLoad(`Pack ${name} has an invalid index entry.`);
    }
    return { hash: entries.toString('hex', at, at + HASH_BYTES), type: kind.type, codec: kind.codec, offset, storedSize, rawSize: entries.readUIntBE(at + 44, 5) };
  }

  /**
   * The buffer holding entry `i` and the entry's offset in it: the window the last lookup read, or else
   * the whole index (read and checked now: a walk over the entries relies on them all).
   */
  private at(i: number): [Buffer, number] {
    if (!this.entries) {
      const window = this.window;
      if (window && i >= window.first && i < window.first + window.entries.length / INDEX_ENTRY) return [window.entries, (i - window.first) * INDEX_ENTRY];
      this.verify();
    }
    return [this.entries!, i * INDEX_ENTRY];
  }

  /**
   * While read in place: the entries a lookup of `hash` needs among the bucket `lo`–`hi` (the entries
   * sharing its first byte). Hashes are uniform, so the number of entries below it is close to
   * `(hi - lo) × its next four bytes as a fraction` (standard deviation at most √n / 2): a window of
   * ±(1.5 √n + 8) entries around that holds it, or shows it absent, in all but ~0.1% of lookups; when
   * the hash falls outside the window, the whole bucket is read. `undefined` when the pack is gone
   * (removed by a collection).
   */
  private lookupWindow(hash: Buffer, lo: number, hi: number): { first: number; entries: Buffer } | undefined {
    const count = hi - lo;
    const half = Math.ceil(1.5 * Math.sqrt(count)) + 8;
    let from = lo;
    let to = hi;
    if (2 * half < count) {
      const guess = lo + Math.floor((hash.readUInt32BE(1) / 2 ** 32) * count);
      from = Math.max(lo, guess - half);
      to = Math.min(hi, guess + half);
    }
    let entries = this.readInPlace(from, to);
    if (!entries) return undefined;
    const last = (to - from - 1) * INDEX_ENTRY;
    // (a read that had the index read whole decides alone: `find` searches it)
    if (!this.entries && ((from > lo && hash.compare(entries, 0, HASH_BYTES) < 0) || (to < hi && hash.compare(entries, last, last + HASH_BYTES) > 0))) {
      entries = this.readInPlace(lo, hi);
      if (!entries) return undefined;
      from = lo;
    }
    this.window = { first: from, entries };
    return this.window;
  }

  /**
   * Entries `from`–`to` read from the pack; `undefined` when the pack is gone. Once reads in place have
   * cost about what reading the index whole does (`wholeAfter`), it is read whole and checked instead,
   * so a process that looks up many objects pays at most about that twice.
   */
  private readInPlace(from: number, to: number): Buffer | undefined {
    const onDisk = this.onDisk!;
    let read: Buffer;
    try {
      read = this.readPack(onDisk.at + from * INDEX_ENTRY, (to - from) * INDEX_ENTRY);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    if (++this.reads === this.wholeAfter) {
      try {
        this.verify();
      } catch {
        // read in place still; whatever relies on every entry checks it again, and says why
      }
    }
    return read;
  }
}

/** A written fan-out table, checked: non-decreasing, ending at `count`. */
function readFanout(bytes: Buffer, count: number, name: string): Uint32Array {
  const fanout = new Uint32Array(256);
  let last = 0;
  for (let b = 0; b < 256; b++) {
    const value = bytes.readUInt32BE(b * 4);
    if (value < last || value > count) throw StateError.snapshotLoad(`Pack ${name} has an invalid index (fan-out table).`);
    fanout[b] = last = value;
  }
  if (last !== count) throw StateError.snapshotLoad(`Pack ${name} has an invalid index (fan-out table).`);
  return fanout;
}

/** `length` bytes of `file` at `position`; a file that ends first is a truncated pack (SnapshotLoadError), a failed read an I/O error, ENOENT as it is. */
function readAt(file: string, position: number, length: number): Buffer {
  const fd = openForReading(file);
  try {
    return readFrom(fd, file, position, length);
  } finally {
    fs.closeSync(fd);
  }
}

function openForReading(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw error;
    throw ioError(`read the index of the pack ${file}`, error);
  }
}

/** Fills `target` from `fd` at `position`; a file that ends first is a truncated pack (SnapshotLoadError). */
export function readFully(fd: number, target: Buffer, position: number, name: string): void {
  for (let done = 0; done < target.length; ) {
    const read = fs.readSync(fd, target, done, target.length - done, position + done);
    if (read === 0) throw StateError.snapshotLoad(`Pack ${name} is truncated.`);
    done += read;
  }
}

function readFrom(fd: number, file: string, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  try {
    readFully(fd, buffer, position, path.basename(file));
    return buffer;
  } catch (error) {
    if (error instanceof StateError) throw error;
    throw ioError(`read the index of the pack ${file}`, error);
  }
}

/** Positions below this fit beside a 32-bit hash prefix in one exact float64 key (32 + 21 = 53 bits). */
const KEY_POSITIONS = 2 ** 21;

/**
 * The positions of `entries` in hash order. A comparison function calling `Buffer.compare` per pair
 * took seconds for 50k entries; instead each entry gets one number, its hash's first 4 bytes then its
 * position, sorted natively, and only runs sharing those 4 bytes (rare) are compared in full.
 */
function hashOrder(entries: Buffer, count: number): ArrayLike<number> {
  const byHash = (a: number, b: number) => entries.compare(entries, b * INDEX_ENTRY, b * INDEX_ENTRY + HASH_BYTES, a * INDEX_ENTRY, a * INDEX_ENTRY + HASH_BYTES);
  if (count >= KEY_POSITIONS) return Array.from({ length: count }, (_, i) => i).sort(byHash);
  const keys = new Float64Array(count);
  for (let i = 0; i < count; i++) keys[i] = entries.readUInt32BE(i * INDEX_ENTRY) * KEY_POSITIONS + i;
  keys.sort();
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = keys[i]! % KEY_POSITIONS;
  for (let from = 0; from < count; ) {
    const prefix = Math.floor(keys[from]! / KEY_POSITIONS);
    let to = from + 1;
    while (to < count && Math.floor(keys[to]! / KEY_POSITIONS) === prefix) to++;
    if (to - from > 1) order.set(Array.from(order.subarray(from, to)).sort(byHash), from);
    from = to;
  }
  return order;
}

/** The fan-out table of entries sorted by hash. */
export function fanoutOf(entries: Buffer): Uint32Array {
  const fanout = new Uint32Array(256);
  const count = entries.length / INDEX_ENTRY;
  for (let i = 0; i < count; i++) fanout[entries[i * INDEX_ENTRY]!]!++;
  for (let b = 1; b < 256; b++) fanout[b]! += fanout[b - 1]!;
  return fanout;
}

/** The fan-out table as written after a format-3 index (none for a small one, see FANOUT_MIN_ENTRIES). */
export function fanoutBytes(entries: Buffer): Buffer {
  const table = fanoutOf(entries);
  const bytes = Buffer.alloc(fanoutSize(entries.length / INDEX_ENTRY));
  if (bytes.length === 0) return bytes;
  table.forEach((value, b) => bytes.writeUInt32BE(value, b * 4));
  return bytes;
}
