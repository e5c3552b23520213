import { readSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as fsSync from 'node:fs';
import * as path from 'node:path';
import { ensurePrivateDir, fileStamp, sameStamp, type FileStamp } from '../documents';
import { describeCause, errorCode, ioError, StateError } from '../errors';
import type { TreeObject } from '../schemas';
import { hashObject, type ObjectType } from './hash';
import { awaitsCompression, CODECS, decodeObject, encodeObject, type Codec, type Effort } from './compression';
import { loadPack, PACK_EXTENSION, PackWriter, recordAgrees, scanPackRecords, type PackEntry } from './packFile';
import { hashBytes, type PackIndex } from './packIndex';
import { planReadWindows } from './readWindows';
import { decodeTree, encodeTree, hasSafeNames } from './tree';
import { TimeSlices } from '../timeSlices';

export interface Location extends PackEntry {
  readonly pack: string;
}

/** A loaded pack: its index, in place, and its size on disk. */
interface LoadedPack {
  readonly name: string;
  readonly index: PackIndex;
  readonly size: number;
  /** Its index was read in place when it was loaded: searched after the packs whose index was held whole. */
  readonly inPlace: boolean;
}

export interface ObjectStoreStats {
  readonly packs: number;
  readonly objects: number;
  readonly blobs: number;
  readonly trees: number;
  /** Bytes of the objects as stored (compressed). */
  readonly storedBytes: number;
  /** Bytes of the objects' content. */
  readonly rawBytes: number;
  /** Bytes of the pack files on disk. */
  readonly diskBytes: number;
}

export interface BrokenObject {
  readonly pack: string;
  readonly hash?: string;
  readonly problem: string;
}

/** One object of `ObjectStore.readBlobs`: its content, checked against its hash, or why it could not be read. */
export type BlobRead = { readonly hash: string; readonly content: Buffer; readonly error?: undefined } | { readonly hash: string; readonly content?: undefined; readonly error: unknown };

/** Reads objects by hash. */
export interface ObjectReader {
  has(hash: string): boolean;
  readBlob(hash: string): Promise<Buffer>;
  readTree(hash: string): Promise<TreeObject>;
}

/** Adds objects for one write; nothing is visible to other processes until `commit`. */
export interface ObjectWriter extends ObjectReader {
  putBlob(content: Buffer): Promise<string>;
  putTree(tree: TreeObject): Promise<string>;
}

const MAX_OPEN_PACKS = 64;
/** More packs than this and garbage collection merges the small ones (git's gc.autoPackLimit is 50). */
export const REPACK_PACK_LIMIT = 16;
/** Bytes of a pack read at once by a repack. */
const REPACK_READ_WINDOW = 4 * 1024 * 1024;
/** Stored bytes of the blobs `readBlobs` reads ahead, at most (a larger object is read alone). */
const BLOB_READ_BATCH = 4 * 1024 * 1024;
const BLOB_READ_BATCH_COUNT = 1024;
/** Longest read `readBlobs` makes, and the most bytes of records not asked for it reads to join two reads. */
const BLOB_READ_WINDOW = 4 * 1024 * 1024;
const BLOB_READ_GAP = 256 * 1024;
/** Objects copied at once by a repack. */
const REPACK_CONCURRENCY = 4;
/** Geometric repack factor: a pack is kept when it is at least this many times all smaller packs together. */
const GEOMETRIC_FACTOR = 2;

/** A collection decided from a live set (`ObjectStore.planCollection`). */
export interface CollectionPlan {
  /** Packs whose live objects are copied into the new pack. */
  readonly rewrite: readonly string[];
  /** Packs deleted once the new pack is durable: the rewritten ones and those with no live object. */
  readonly drop: readonly string[];
  /** Packs left as they are. */
  readonly kept: readonly string[];
  /** The live objects to copy, in pack order. */
  readonly copies: readonly Location[];
  /** Per dropped pack, the objects and stored bytes not live. */
  readonly dead: ReadonlyMap<string, { readonly objects: number; readonly bytes: number }>;
}

export interface GcResult {
  readonly removedObjects: number;
  /** Stored bytes of the objects dropped. */
  readonly freedBytes: number;
  /** Packs rewritten into the new pack (0 when none was written). */
  readonly mergedPacks: number;
  /** Objects recompressed from the fast codec. */
  readonly recompressed: number;
}

/**
 * The packs to merge so the rest form a geometric progression: sorted by size, the largest pack
 * that is smaller than GEOMETRIC_FACTOR × all smaller ones together is merged with all of those.
 * With `all`, every pack.
 */
export function packsToRoll(packs: readonly { name: string; size: number }[], all = false): string[] {
  const sorted = [...packs].sort((a, b) => a.size - b.size);
  if (all) return sorted.map((p) => p.name);
  let split = 0;
  let below = 0;
  sorted.forEach((pack, i) => {
    if (i > 0 && pack.size < GEOMETRIC_FACTOR * below) split = i + 1;
    below += pack.size;
  });
  return split < 2 ? [] : sorted.slice(0, split).map((p) => p.name);
}
const TREE_CACHE_LIMIT = 20_000;
/** Stored records up to this size are read with a synchronous call (the capture's small files are too). */
const SYNC_READ_STORED_BYTES = 64 * 1024;
/**
 * A committed batch with at most this many new trees hands them to the store's tree cache (a save's
 * point, a restore's safety point); a first point's thousands are left out: memory.
 */
const RECENT_TREES_KEPT = 1024;
/**
 * A `fast` batch writes its first new blobs up to this many bytes as stored blocks (`deferred`): for
 * a point of a few saved files, deflating each small file cost more than the rest of its work (zlib's
 * set-up of its state for every object), and the next clean-up's repack compresses them (the
 * extension cleans up every 25 points, the tool and the hooks when a store holds over 32 packs).
 */
const DEFERRED_BYTES_PER_BATCH = 64 * 1024;

/**
 * Content-addressed, compressed, immutable objects (file contents and folder trees) kept in pack
 * files. Every read is checked against its hash. Writers and garbage collection must hold the
 * store lock; readers may run at any time and pick up other processes' packs with `refresh`.
 */
export class ObjectStore implements ObjectReader {
  private readonly packs = new Map<string, LoadedPack>();
  /** The packs in the order a lookup tries them: the first that holds an object is where it is read. */
  private searchOrder: LoadedPack[] = [];
  /** The pack in which `has` last found an object. */
  private lastHad: LoadedPack | undefined;
  /** Where `hashBytes` decodes a looked-up hash (one buffer, not one per lookup). */
  private readonly wanted = Buffer.alloc(32);
  private readonly damagedPacks = new Map<string, string>();
  /**
   * How each damaged pack looked when its index failed to load; `undefined` when reading it failed
   * (too many open files, an I/O error) rather than its bytes: such a pack is tried again at every
   * refresh, a pack with bad bytes when it changed on disk, so a passing failure never hides a pack's
   * objects for the rest of the process.
   */
  private readonly damagedStamps = new Map<string, FileStamp | undefined>();
  private readonly handles = new Map<string, PackHandle>();
  private readonly trees = new Map<string, TreeObject>();
  /**
   * Trees found complete (every object below them present) by `findMissing`: objects leave the store
   * only with a pack, so this is emptied whenever a pack is dropped.
   */
  readonly completeTrees = new Set<string>();
  /** Counts the packs this object store added or forgot: what was read of the objects folder before a change is stale. */
  private packChanges = 0;
  /**
   * Since `refreshSkipped`, until the next refresh: the packs not yet found on disk. Each is stat'ed
   * when it first holds an object looked up, and one that is gone (another process's collection) is
   * passed over, so an object is never taken as stored on the word of a pack that was removed.
   */
  private unconfirmed: Set<string> | undefined;
  /** `pack/hash` of entries whose record disagreed with an index that passed its check (`holds`): damaged records, not relied on. */
  private readonly badRecords = new Set<string>();

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<ObjectStore> {
    await ensurePrivateDir(dir);
    const store = new ObjectStore(dir);
    await store.refresh();
    return store;
  }

  /**
   * Loads packs written by other processes and forgets packs they removed. `listed`: the objects
   * folder's names as the caller just read them, under the store lock (no process changed the folder
   * since); otherwise it is listed here.
   */
  async refresh(listed?: readonly string[]): Promise<void> {
    this.unconfirmed = undefined;
    let names: string[];
    try {
      // synchronous: one folder listing, done before every point (a thread-pool round trip costs more)
      names = (listed ?? fsSync.readdirSync(this.dir)).filter((name) => name.endsWith(PACK_EXTENSION));
    } catch (error) {
      throw ioError(`list the objects in ${this.dir}`, error);
    }
    const present = new Set(names);
    for (const pack of [...this.packs.keys()]) {
      if (present.has(pack)) continue;
      this.forgetPack(pack);
      await this.closeHandle(pack);
    }
    for (const pack of [...this.damagedPacks.keys()]) if (!present.has(pack)) this.forgetDamage(pack);
    for (const name of names.sort()) {
      if (this.packs.has(name)) continue;
      const file = path.join(this.dir, name);
      if (this.damagedPacks.has(name) && !(await this.changedSinceDamaged(name, file))) continue;
      try {
        const { index, size } = await loadPack(file);
        this.forgetDamage(name);
        this.addPack(name, index, size);
      } catch (error) {
        if (errorCode(error) === 'ENOENT' || errorCode((error as StateError).cause) === 'ENOENT') {
          this.forgetDamage(name);
          continue;
        }
        this.damagedPacks.set(name, describeCause(error));
        const badBytes = error instanceof StateError && error.kind === 'SnapshotLoadError';
        this.damagedStamps.set(name, badBytes ? await fs.stat(file).then(fileStamp, () => undefined) : undefined);
      }
    }
  }

  /**
   * In place of a refresh, when the caller knows, under the store lock, that the objects folder is
   * unchanged since this process last read it or wrote its own pack into it (`KnownListing`). A pack
   * another process added before then and not loaded yet is found by a read's refresh (a lookup that
   * misses it only stores the object again); a pack removed is checked for on first use (`unconfirmed`).
   * A store with damaged packs refreshes instead: those are tried again at every refresh.
   */
  async refreshSkipped(): Promise<void> {
    if (this.damagedPacks.size > 0) return this.refresh();
    this.unconfirmed = new Set(this.packs.keys());
  }

  /** Whether `pack` may be relied on: loaded by a refresh, added here, or found on disk since `refreshSkipped`. */
  private onDisk(pack: LoadedPack): boolean {
    if (!this.unconfirmed?.has(pack.name)) return true;
    if (!fsSync.existsSync(path.join(this.dir, pack.name))) return false;
    this.unconfirmed.delete(pack.name);
    return true;
  }

  private async changedSinceDamaged(name: string, file: string): Promise<boolean> {
    const then = this.damagedStamps.get(name);
    if (then === undefined) return true;
    return !sameStamp(then, await fs.stat(file).then(fileStamp, () => undefined));
  }

  private forgetDamage(name: string): void {
    this.damagedPacks.delete(name);
    this.damagedStamps.delete(name);
  }

  /** Changes with every pack added or forgotten (by this process). */
  get generation(): number {
    return this.packChanges;
  }

  has(hash: string): boolean {
    const wanted = hashBytes(hash, this.wanted);
    if (!wanted) return false;
    // a folder's files were mostly stored together: the pack that had the last one is asked first
    const last = this.lastHad;
    if (last && this.holds(last, wanted, hash)) return true;
    for (const pack of this.searchOrder) {
      if (pack === last || !this.holds(pack, wanted, hash)) continue;
      this.lastHad = pack;
      return true;
    }
    return false;
  }

  /**
   * Whether `pack` holds the object: a writer stores no copy of an object found here, so an entry of
   * an index read in place and not yet checked is confirmed against its record first (`recordAgrees`).
   * One that disagrees is no copy to rely on (a damaged index, set aside when every unchecked index is
   * checked now, or else a damaged record, remembered): the object is stored again.
   */
  private holds(pack: LoadedPack, wanted: Buffer, hash: string): boolean {
    const at = pack.index.find(wanted);
    if (at < 0 || !this.onDisk(pack)) return false;
    if (pack.index.verified) return !this.badRecords.has(`${pack.name}/${hash}`);
    if (recordAgrees(pack.index, at, pack.name)) return true;
    this.checkIndexes();
    if (this.packs.get(pack.name) === pack) this.badRecords.add(`${pack.name}/${hash}`);
    return false;
  }

  /**
   * Reads whole and checks every index read in place (`PackIndex.verify`: a large index is read in
   * place until something relies on all of it), setting aside one that does not match or cannot be
   * read, as a refresh sets aside a pack that fails to load: before anything relies on every entry of
   * every pack. True when one was set aside.
   */
  private checkIndexes(): boolean {
    let setAside = false;
    for (const pack of [...this.packs.values()]) {
      if (pack.index.verified) continue;
      try {
        pack.index.verify();
      } catch (error) {
        this.setAside(pack.name, error);
        setAside = true;
      }
    }
    return setAside;
  }

  private setAside(name: string, error: unknown): void {
    this.forgetPack(name);
    void this.closeHandle(name).catch(() => undefined);
    // removed meanwhile (another process's collection): gone, not damaged
    if (errorCode(error) === 'ENOENT' || errorCode((error as StateError).cause) === 'ENOENT') return;
    this.damagedPacks.set(name, describeCause(error));
    let stamp: FileStamp | undefined;
    if (error instanceof StateError && error.kind === 'SnapshotLoadError') {
      try {
        stamp = fileStamp(fsSync.statSync(path.join(this.dir, name)));
      } catch {
        stamp = undefined;
      }
    }
    this.damagedStamps.set(name, stamp);
  }

  /** Runs a read again when it failed and an index read in place turned out damaged (it is set aside: the object may be in another pack). */
  private async withIndexesChecked<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof StateError) || error.kind !== 'SnapshotLoadError' || !this.checkIndexes()) throw error;
      return read();
    }
  }

  /** The pack that holds `hash` and the entry's position in its index (searched in place, nothing built). */
  private find(hash: string, except?: string): { pack: LoadedPack; at: number } | undefined {
    const wanted = hashBytes(hash, this.wanted);
    if (!wanted) return undefined;
    for (const pack of this.searchOrder) {
      if (pack.name === except) continue;
      const at = pack.index.find(wanted);
      if (at >= 0 && this.onDisk(pack)) return { pack, at };
    }
    return undefined;
  }

  /** Where an object is stored; a damaged index entry is a SnapshotLoadError. */
  private locate(hash: string): Location | undefined {
    const found = this.find(hash);
    return found && { ...found.pack.index.entryAt(found.at, found.pack.name), pack: found.pack.name };
  }

  /** Packs whose index could not be read, with the reason. */
  get damaged(): ReadonlyMap<string, string> {
    return this.damagedPacks;
  }

  async readBlob(hash: string): Promise<Buffer> {
    return this.read(hash, 'blob');
  }

  async readTree(hash: string): Promise<TreeObject> {
    const cached = this.trees.get(hash);
    if (cached) return cached;
    const tree = decodeTree(await this.read(hash, 'tree'), hash);
    this.cacheTree(hash, tree);
    return tree;
  }

  private cacheTree(hash: string, tree: TreeObject): void {
    if (this.trees.size >= TREE_CACHE_LIMIT) this.trees.clear();
    this.trees.set(hash, tree);
  }

  /** Reads and verifies one object. Throws SnapshotLoadError when it is missing or damaged. */
  read(hash: string, type: ObjectType): Promise<Buffer> {
    return this.withIndexesChecked(() => this.readOnce(hash, type));
  }

  private async readOnce(hash: string, type: ObjectType): Promise<Buffer> {
    let location = this.locate(hash);
    if (!location) {
      await this.refresh();
      location = this.locate(hash);
    }
    if (!location) throw StateError.snapshotLoad(`The stored ${type === 'tree' ? 'folder' : 'file content'} ${hash.slice(0, 12)} is missing from the store. Run "Verify Store" to find the affected points.`);
    if (location.type !== type) throw StateError.snapshotLoad(`Object ${hash.slice(0, 12)} is a ${location.type}, not a ${type}.`);
    let data: Buffer;
    try {
      data = await this.readStored(location);
    } catch (error) {
      // Another process's garbage collection removed or rewrote the pack since we indexed it: look again.
      if (errorCode(error instanceof StateError ? error.cause : error) !== 'ENOENT') throw error;
      await this.closeHandle(location.pack);
      await this.refresh();
      const moved = this.locate(hash);
      if (!moved || moved.pack === location.pack) throw StateError.snapshotLoad(`The stored ${type === 'tree' ? 'folder' : 'file content'} ${hash.slice(0, 12)} is missing from the store. Run "Verify Store" to find the affected points.`);
      location = moved;
      data = await this.readStored(location);
    }
    return verifyObject(location, data);
  }

  /**
   * The blobs `hashes` name, in that order, each checked against its hash, or the error reading it
   * gave (as `readBlob` would throw it). The stored bytes of the next few objects are read together:
   * in pack order, neighbouring records in one read of up to BLOB_READ_WINDOW, not one read each. At
   * most BLOB_READ_BATCH stored bytes (plus the gaps read with them) and one object's content are in
   * memory at a time. Stopping the iteration early is fine. `pause`: called while a batch is looked
   * up, to give the event loop its turns (the caller's time slices).
   */
  async *readBlobs(hashes: readonly string[], options: { pause?: () => Promise<void> } = {}): AsyncGenerator<BlobRead> {
    for (let from = 0; from < hashes.length; ) {
      const batch: Array<{ hash: string; location: Location | undefined }> = [];
      let bytes = 0;
      while (from < hashes.length && (batch.length === 0 || (bytes < BLOB_READ_BATCH && batch.length < BLOB_READ_BATCH_COUNT))) {
        if ((batch.length & 63) === 63) await options.pause?.();
        const hash = hashes[from++]!;
        let location: Location | undefined;
        try {
          location = this.locate(hash);
        } catch {
          location = undefined; // a damaged index entry: `readBlob` below says so
        }
        if (location?.type !== 'blob') location = undefined;
        batch.push({ hash, location });
        bytes += location?.storedSize ?? 0;
      }
      const located = batch.flatMap((b) => (b.location ? [b.location] : []));
      const windows = planReadWindows(located, BLOB_READ_WINDOW, BLOB_READ_GAP);
      let w = 0;
      for (const { hash, location } of batch) {
        const window = location && windows[w++]!;
        let read: BlobRead | undefined;
        if (location && window) {
          try {
            window.data ??= this.readStored({ ...location, offset: window.start, storedSize: window.length });
            const stored = await window.data;
            const at = location.offset - window.start;
            const content = await verifyObject(location, stored.subarray(at, at + location.storedSize));
            // a stored (uncompressed) record is a view of the window: a copy lets the window go
            read = { hash, content: location.codec === CODECS.stored ? Buffer.from(content) : content };
          } catch {
            read = undefined; // read alone below, which finds a pack rewritten meanwhile or names the damage
          } finally {
            if (--window.remaining === 0) window.data = undefined;
          }
        }
        read ??= await this.readBlob(hash).then(
          (content) => ({ hash, content }),
          (error: unknown) => ({ hash, error }),
        );
        yield read;
      }
    }
  }

  /** An object as stored (codec and compressed bytes), checked against its hash: for copying it elsewhere unchanged. */
  readStoredObject(hash: string): Promise<{ type: ObjectType; codec: Codec; rawSize: number; data: Buffer }> {
    return this.withIndexesChecked(() => this.readStoredObjectOnce(hash));
  }

  private async readStoredObjectOnce(hash: string): Promise<{ type: ObjectType; codec: Codec; rawSize: number; data: Buffer }> {
    let location = this.locate(hash);
    if (!location) {
      await this.refresh();
      location = this.locate(hash);
    }
    if (!location) throw StateError.snapshotLoad(`The stored object ${hash.slice(0, 12)} is missing from the store. Run "Verify Store" to find the affected points.`);
    const data = await this.readStored(location);
    await verifyObject(location, data);
    return { type: location.type, codec: location.codec, rawSize: location.rawSize, data };
  }

  private async readStored(location: Location): Promise<Buffer> {
    const buffer = Buffer.alloc(location.storedSize);
    const pack = this.handle(location.pack);
    pack.readers++;
    try {
      const handle = await pack.file;
      // a small record is read on this thread: microseconds, where a thread-pool round trip costs 0.1–0.3 ms
      const bytesRead =
        location.storedSize <= SYNC_READ_STORED_BYTES ? readSync(handle.fd, buffer, 0, location.storedSize, location.offset) : (await handle.read(buffer, 0, location.storedSize, location.offset)).bytesRead;
      if (bytesRead !== location.storedSize) throw StateError.snapshotLoad(`Pack ${location.pack} is truncated.`);
    } catch (error) {
      if (error instanceof StateError) throw error;
      throw ioError(`read stored data from ${location.pack}`, error);
    } finally {
      // a handle evicted while we read is closed by its last reader
      if (--pack.readers === 0 && pack.evicted) await closePackHandle(pack);
    }
    return buffer;
  }

  /** A batch of new objects; `effort: 'small'` compresses harder (brotli) at about twice the CPU. */
  beginBatch(options: { effort?: Effort } = {}): ObjectBatch {
    return new ObjectBatch(this, new PackWriter(this.dir), options.effort);
  }

  stats(): ObjectStoreStats {
    let storedBytes = 0;
    let rawBytes = 0;
    let blobs = 0;
    let objects = 0;
    for (const location of this.locations()) {
      objects++;
      storedBytes += location.storedSize;
      rawBytes += location.rawSize;
      if (location.type === 'blob') blobs++;
    }
    let diskBytes = 0;
    for (const pack of this.packs.values()) diskBytes += pack.size;
    return { packs: this.packs.size, objects, blobs, trees: objects - blobs, storedBytes, rawBytes, diskBytes };
  }

  /**
   * Every object once, where it is read from (an object in two packs, after a repack that stopped
   * half way, is listed with the pack a lookup finds first). O(store): for statistics and collection.
   */
  private *locations(): Generator<Location> {
    this.checkIndexes();
    // the order as it is now: a pack added meanwhile (the caller may pause) must not shift it
    const order = [...this.searchOrder];
    for (const [k, pack] of order.entries()) {
      const earlier = order.slice(0, k);
      for (let i = 0; i < pack.index.count; i++) {
        const hash = pack.index.hashBytesAt(i);
        if (earlier.some((other) => other.index.find(hash) >= 0)) continue;
        yield { ...pack.index.entryAt(i, pack.name), pack: pack.name };
      }
    }
  }

  /** The loaded packs' file names. */
  packNames(): string[] {
    return [...this.packs.keys()];
  }

  /** Bytes of the loaded packs on disk: at least the stored size of all their objects. */
  packBytes(): number {
    let bytes = 0;
    for (const pack of this.packs.values()) bytes += pack.size;
    return bytes;
  }

  /** Stored (compressed) size of an object, 0 when unknown. */
  storedSize(hash: string): number {
    const found = this.find(hash);
    return found ? found.pack.index.storedSizeAt(found.at) : 0;
  }

  /**
   * Garbage collection and repacking in one pass, under the store lock held by the caller: the plan
   * (`planCollection`), the new pack (`writeRepack`), then every pack it replaces or that holds no live
   * object deleted (`dropPack`). Every object not in `live` is dropped.
   */
  async removeUnreferenced(live: ReadonlySet<string>, options: { repack?: 'auto' | 'all' | 'none' } = {}): Promise<GcResult> {
    const plan = await this.planCollection(live, options);
    const written = await this.writeRepack(plan);
    let removedObjects = 0;
    let freedBytes = 0;
    for (const name of plan.drop) {
      if (!(await this.dropPack(name, { live, relyOn: written.relyOn, added: [] }))) continue;
      removedObjects += plan.dead.get(name)!.objects;
      freedBytes += plan.dead.get(name)!.bytes;
    }
    return { removedObjects, freedBytes, mergedPacks: written.pack ? plan.rewrite.length : 0, recompressed: written.recompressed };
  }

  /**
   * What a collection over `live` does, decided without changing anything (no lock needed): packs with
   * no live object are dropped; rewritten into one new pack and then dropped: packs with some dead
   * objects, packs holding objects stored with the fast codec (recompressed on the way: the packs
   * points wrote since the last collection, once), and — when there are more than REPACK_PACK_LIMIT
   * packs, or with `repack: 'all'` — the small packs that break a geometric progression of sizes (each
   * kept pack at least twice the size of all smaller ones together, as git's `repack --geometric=2`).
   * `among`: only these packs are considered (the ones that existed when the live set's points were
   * listed); others are kept. Gives the event loop a turn every few milliseconds.
   */
  async planCollection(live: ReadonlySet<string>, options: { repack?: 'auto' | 'all' | 'none'; among?: ReadonlySet<string> } = {}): Promise<CollectionPlan> {
    await this.refresh();
    const mode = options.repack ?? 'auto';
    const considered = [...this.packs.keys()].filter((name) => !options.among || options.among.has(name));
    // every object once, with the pack it is read from: the live ones are copied from there
    const liveIn = new Map<string, Location[]>(considered.map((name) => [name, []]));
    // the packs the locations below are found in (the iteration keeps this order, whatever is added meanwhile)
    const seen = this.searchOrder.map((pack) => pack.name);
    const slices = new TimeSlices();
    for (const location of this.locations()) {
      if (live.has(location.hash)) liveIn.get(location.pack)?.push(location);
      if (slices.due) await slices.pause();
    }
    const rewrite = new Set<string>();
    const empty: string[] = [];
    for (const name of considered) {
      const pack = this.packs.get(name);
      if (!pack) continue; // removed meanwhile by another process's collection
      const liveCount = liveIn.get(name)!.length;
      if (liveCount === 0) empty.push(name);
      else if (liveCount < pack.index.count) rewrite.add(name);
      else if (mode !== 'none' && (pack.index.format < 3 || holdsUncompressed(pack.index))) rewrite.add(name); // recompress, or upgrade an old index
    }
    const remaining = [...this.packs.keys()].filter((name) => !empty.includes(name));
    if (mode === 'all' || (mode === 'auto' && remaining.length > REPACK_PACK_LIMIT)) {
      const rollable = remaining.filter((name) => liveIn.has(name) && liveIn.get(name)!.length > 0);
      for (const name of packsToRoll(rollable.map((name) => ({ name, size: this.packs.get(name)!.size })), mode === 'all')) rewrite.add(name);
    }
    const copies: Location[] = [];
    // not push(...list): a spread of hundreds of thousands of arguments overflows the stack
    for (const name of rewrite) for (const copy of liveIn.get(name)!) copies.push(copy);
    // Read in windows of a few MiB (one read for many small records), in pack order.
    copies.sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : a.offset - b.offset));
    const drop = [...rewrite, ...empty];
    const dead = new Map<string, { objects: number; bytes: number }>();
    for (const name of drop) {
      const counted = { objects: 0, bytes: 0 };
      dead.set(name, counted);
      const index = this.packs.get(name)?.index;
      for (let i = 0; index && i < index.count; i++) {
        if (!live.has(index.hashAt(i))) {
          counted.objects++;
          counted.bytes += index.storedSizeAt(i);
        }
        if (slices.due) await slices.pause();
      }
    }
    const kept = seen.filter((name) => !rewrite.has(name) && !empty.includes(name));
    return { rewrite: [...rewrite], drop, kept, copies, dead };
  }

  /**
   * Copies the live objects of the plan's rewritten packs into one new pack, durable (fsync, rename,
   * folder fsync) and loaded when this returns; nothing is removed (no lock needed: a new pack only
   * duplicates objects). `relyOn`: the packs that, as long as they all exist, hold every object the
   * plan found live outside the packs it drops (the new one and the kept ones).
   */
  async writeRepack(plan: CollectionPlan): Promise<{ pack: string | undefined; relyOn: string[]; recompressed: number }> {
    if (plan.copies.length === 0) return { pack: undefined, relyOn: [...plan.kept], recompressed: 0 };
    const { copies } = plan;
    const writer = new PackWriter(this.dir);
    const windows = planReadWindows(copies, REPACK_READ_WINDOW);
    let recompressed = 0;
    let next = 0;
    let failed = false;
    const copyOne = async (i: number) => {
      const location = copies[i]!;
      const window = windows[i]!;
      window.data ??= this.readStored({ ...location, offset: window.start, storedSize: window.length });
      const bytes = await window.data;
      if (--window.remaining === 0) window.data = undefined;
      // a copy, so a record waiting in the writer does not keep the whole window in memory
      const data = Buffer.from(bytes.subarray(location.offset - window.start, location.offset - window.start + location.storedSize));
      const raw = await verifyObject(location, data);
      if (awaitsCompression(location.type, location.codec, location.rawSize)) {
        await writer.add(location.hash, location.type, await encodeObject(raw, 'small', location.type), location.rawSize);
        recompressed++;
      } else {
        await writer.add(location.hash, location.type, { data, codec: location.codec }, location.rawSize);
      }
    };
    // a few copies at once, so reads, decompression and compression overlap on the thread pool
    const results = await Promise.allSettled(
      Array.from({ length: REPACK_CONCURRENCY }, async () => {
        const slices = new TimeSlices();
        while (!failed && next < copies.length) {
          try {
            await copyOne(next++);
          } catch (error) {
            failed = true;
            throw error;
          }
          if (slices.due) await slices.pause();
        }
      }),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await writer.abort(); // a damaged live object stops the collection: nothing is removed
      throw failure.reason;
    }
    const written = await writer.finish();
    if (!written) return { pack: undefined, relyOn: [...plan.kept], recompressed };
    const name = path.basename(written.file);
    this.addPack(name, written.index, written.size, true);
    return { pack: name, relyOn: [name, ...plan.kept], recompressed };
  }

  /**
   * Deletes a pack a collection planned to drop, unless one of its objects that is live now would be
   * lost: checked after a refresh, so the caller must hold the store lock (no point is being made, no
   * other pack removed). `live`: what the listed points reach now (the plan's live set and what points
   * made since reach). When every pack of `relyOn` still exists, the plan's live objects are there and
   * only `added` (the objects live now that were not when the plan was made) is looked up; otherwise
   * every object of the pack is. False: the pack was gone already, or is kept.
   */
  async dropPack(name: string, safe: { live: ReadonlySet<string>; relyOn: readonly string[]; added: Iterable<string> }): Promise<boolean> {
    await this.refresh();
    const pack = this.packs.get(name);
    if (!pack) return false;
    const neededHere = (hash: string) => safe.live.has(hash) && this.find(hash, name) === undefined;
    if (safe.relyOn.every((other) => this.packs.has(other))) {
      for (const hash of safe.added) if (pack.index.find(hashBytes(hash, this.wanted)!) >= 0 && neededHere(hash)) return false;
    } else {
      for (let i = 0; i < pack.index.count; i++) if (neededHere(pack.index.hashAt(i))) return false;
    }
    await this.deletePack(name);
    return true;
  }

  /** Reads every object of every pack and checks its hash; also reports packs whose index is damaged. */
  async verifyAll(onProgress?: (done: number, total: number) => void): Promise<BrokenObject[]> {
    await this.refresh();
    this.checkIndexes();
    const broken: BrokenObject[] = [...this.damagedPacks].map(([pack, problem]) => ({ pack, problem }));
    const total = [...this.packs.values()].reduce((sum, pack) => sum + pack.index.count, 0);
    let done = 0;
    for (const [name, pack] of this.packs) {
      for (let i = 0; i < pack.index.count; i++) {
        try {
          const entry = pack.index.entryAt(i, name);
          await verifyObject(entry, await this.readStored({ ...entry, pack: name }));
        } catch (error) {
          broken.push({ pack: name, hash: pack.index.hashAt(i), problem: describeCause(error) });
        }
        if (++done % 1000 === 0) onProgress?.(done, total);
      }
    }
    return broken;
  }

  /**
   * Repairs damaged packs: the objects that still verify are copied into a new pack, and the damaged
   * pack is moved to `quarantineDir`. Caller holds the store lock. Returns the number of objects saved.
   */
  async salvage(packNames: Iterable<string>, quarantineDir: string): Promise<{ saved: number; lost: number }> {
    let saved = 0;
    let lost = 0;
    await ensurePrivateDir(quarantineDir);
    for (const name of new Set(packNames)) {
      const file = path.join(this.dir, name);
      const writer = new PackWriter(this.dir);
      const known = this.packs.get(name)?.index.count;
      let recovered = 0;
      for await (const record of scanPackRecords(file)) {
        try {
          // the record names only a prefix of its hash: the content must hash to it
          const raw = await decodeObject(record.data, record.codec, record.rawSize);
          const hash = hashObject(record.type, raw);
          if (raw.length !== record.rawSize || !hash.startsWith(record.hashPrefix)) continue;
          if (!this.find(hash, name)) await writer.add(hash, record.type, { data: Buffer.from(record.data), codec: record.codec }, record.rawSize);
          recovered++;
        } catch {
          // a damaged record: dropped, counted below
        }
      }
      const written = await writer.finish();
      if (written) this.addPack(path.basename(written.file), written.index, written.size);
      saved += recovered;
      if (known !== undefined) lost += Math.max(0, known - recovered);
      this.forgetPack(name);
      this.forgetDamage(name);
      await this.closeHandle(name);
      try {
        await fs.rename(file, path.join(quarantineDir, `${Date.now()}-${name}`));
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw ioError(`move the damaged pack ${name} aside`, error);
      }
    }
    return { saved, lost };
  }

  /** Removes temporary pack files left by writers that crashed more than `olderThanMs` ago. Caller holds the store lock. */
  async removeStaleTemporaries(olderThanMs = 3_600_000): Promise<number> {
    let removed = 0;
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith('.partial')) continue;
      const file = path.join(this.dir, name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat && Date.now() - stat.mtimeMs > olderThanMs) {
        await fs.rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    for (const name of [...this.handles.keys()]) await this.closeHandle(name);
    for (const pack of this.packs.values()) pack.index.close();
  }

  /**
   * @internal called by a committed batch. A `preferred` pack (a repack's) is searched first, so its
   * copies are read rather than those in the packs it replaces; then the packs whose index is held
   * whole, then those whose index is read in place (a miss there costs a read of the pack's file: a
   * long history's collected packs, loaded first by name, cost every look-up of a recent point's
   * trees a read each), each in the order they were loaded. A pack keeps its place once added.
   */
  addPack(name: string, index: PackIndex, size: number, preferred = false, trees?: ReadonlyMap<string, TreeObject>): void {
    this.packChanges++;
    const pack: LoadedPack = { name, index, size, inPlace: !preferred && !index.verified };
    this.packs.set(name, pack);
    const firstInPlace = pack.inPlace ? -1 : this.searchOrder.findIndex((other) => other.inPlace);
    if (preferred) this.searchOrder = [pack, ...this.searchOrder];
    else if (firstInPlace < 0) this.searchOrder = [...this.searchOrder, pack];
    else this.searchOrder = [...this.searchOrder.slice(0, firstInPlace), pack, ...this.searchOrder.slice(firstInPlace)];
    // the trees a point just wrote are the ones read next (a restore plans against its safety point);
    // only those `decodeTree` would accept, so the cache never holds a tree a read would refuse
    for (const [hash, tree] of trees ?? []) if (hasSafeNames(tree) && index.find(hashBytes(hash, this.wanted)!) >= 0) this.cacheTree(hash, tree);
  }

  private forgetPack(name: string): void {
    const pack = this.packs.get(name);
    if (!pack) return;
    this.packChanges++;
    this.packs.delete(name);
    pack.index.close();
    this.searchOrder = this.searchOrder.filter((other) => other !== pack);
    if (this.lastHad === pack) this.lastHad = undefined;
    for (const bad of this.badRecords) if (bad.startsWith(`${name}/`)) this.badRecords.delete(bad);
    this.completeTrees.clear();
    // a decoded tree must not outlive its object (salvage, garbage collection)
    for (const hash of this.trees.keys()) {
      // an index read in place may no longer be readable (its pack removed): every tree is looked up again
      const inPack = !pack.index.verified || pack.index.find(hashBytes(hash, this.wanted)!) >= 0;
      if (inPack && !this.has(hash)) this.trees.delete(hash);
    }
  }

  private async deletePack(name: string): Promise<void> {
    this.forgetPack(name);
    await this.closeHandle(name);
    try {
      await fs.rm(path.join(this.dir, name), { force: true });
    } catch (error) {
      throw ioError(`remove the pack ${name}`, error);
    }
  }

  /**
   * The open handle of a pack; concurrent first reads share one open (a promise per pack), so none leaks.
   * At most MAX_OPEN_PACKS stay open: the least recently used is evicted, and closed once no read uses it.
   */
  private handle(pack: string): PackHandle {
    const handle = this.handles.get(pack);
    if (handle) {
      this.handles.delete(pack);
      this.handles.set(pack, handle);
      return handle;
    }
    if (this.handles.size >= MAX_OPEN_PACKS) void this.closeHandle(this.handles.keys().next().value!);
    const opened: PackHandle = { file: fs.open(path.join(this.dir, pack), 'r'), readers: 0, evicted: false };
    this.handles.set(pack, opened);
    opened.file.catch(() => {
      if (this.handles.get(pack) === opened) this.handles.delete(pack);
    });
    return opened;
  }

  private async closeHandle(pack: string): Promise<void> {
    const handle = this.handles.get(pack);
    if (!handle) return;
    this.handles.delete(pack);
    handle.evicted = true;
    if (handle.readers === 0) await closePackHandle(handle);
  }
}

/** An open pack file and the reads in flight on it. */
interface PackHandle {
  readonly file: Promise<fs.FileHandle>;
  readers: number;
  evicted: boolean;
}

async function closePackHandle(handle: PackHandle): Promise<void> {
  await handle.file.then((h) => h.close()).catch(() => undefined);
}

/** Whether a pack holds a record the repack compresses again (`awaitsCompression`). */
function holdsUncompressed(index: PackIndex): boolean {
  for (let i = 0; i < index.count; i++) {
    const kind = index.kindAt(i);
    if (kind && awaitsCompression(kind.type, kind.codec, index.rawSizeAt(i))) return true;
  }
  return false;
}

async function verifyObject(entry: PackEntry, data: Buffer): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await decodeObject(data, entry.codec, entry.rawSize);
  } catch (error) {
    throw StateError.snapshotLoad(`Stored object ${entry.hash.slice(0, 12)} is damaged (${describeCause(error)}).`, error);
  }
  if (raw.length !== entry.rawSize || hashObject(entry.type, raw) !== entry.hash) {
    throw StateError.snapshotLoad(`Stored object ${entry.hash.slice(0, 12)} is damaged: its content does not match its hash.`);
  }
  return raw;
}

/** The objects one write adds, collected in one pack; readable by the writer before `commit`. */
export class ObjectBatch implements ObjectWriter {
  private committed = false;
  private deferredBytes = 0;
  /** The trees put in this batch, as objects: capture diffs against them before they are committed. */
  private readonly trees = new Map<string, TreeObject>();

  constructor(
    private readonly store: ObjectStore,
    private readonly writer: PackWriter,
    private readonly effort: Effort = 'fast',
  ) {}

  get addedObjects(): number {
    return this.writer.objectCount;
  }

  get addedBytes(): number {
    return this.writer.bytesWritten;
  }

  has(hash: string): boolean {
    return this.writer.has(hash) || this.store.has(hash);
  }

  async putBlob(content: Buffer): Promise<string> {
    return this.put('blob', content);
  }

  async putTree(tree: TreeObject): Promise<string> {
    if (this.committed) throw new Error('object batch already committed');
    const raw = encodeTree(tree);
    const hash = hashObject('tree', raw);
    // one look-up across the packs, not two: a new tree is searched for in every one of them
    if (this.has(hash)) return hash;
    this.trees.set(hash, tree);
    return this.add('tree', raw, hash);
  }

  async readBlob(hash: string): Promise<Buffer> {
    return this.readPending(hash, 'blob') ?? this.store.readBlob(hash);
  }

  async readTree(hash: string): Promise<TreeObject> {
    const own = this.trees.get(hash);
    if (own) return own;
    const pending = this.readPending(hash, 'tree');
    return pending ? decodeTree(await pending, hash) : this.store.readTree(hash);
  }

  /** Makes the new objects durable and visible; `packName`: the pack's file name instead of a new one. */
  async commit(options: { packName?: string } = {}): Promise<void> {
    if (this.committed) return;
    this.committed = true;
    const trees = this.trees.size <= RECENT_TREES_KEPT ? new Map(this.trees) : undefined;
    this.trees.clear();
    const written = await this.writer.finish(options.packName);
    if (written) this.store.addPack(path.basename(written.file), written.index, written.size, false, trees);
  }

  async abort(): Promise<void> {
    this.committed = true;
    this.trees.clear();
    await this.writer.abort();
  }

  private async put(type: ObjectType, raw: Buffer, hash = hashObject(type, raw)): Promise<string> {
    if (this.committed) throw new Error('object batch already committed');
    if (this.has(hash)) return hash;
    return this.add(type, raw, hash);
  }

  private async add(type: ObjectType, raw: Buffer, hash: string): Promise<string> {
    const encoded = await encodeObject(raw, this.effortFor(type, raw.length), type);
    await this.writer.add(hash, type, encoded, raw.length);
    return hash;
  }

  private effortFor(type: ObjectType, size: number): Effort {
    if (this.effort !== 'fast' || type !== 'blob' || this.deferredBytes + size > DEFERRED_BYTES_PER_BATCH) return this.effort;
    this.deferredBytes += size;
    return 'deferred';
  }

  private readPending(hash: string, type: ObjectType): Promise<Buffer> | undefined {
    const entry = this.writer.entry(hash);
    if (!entry || entry.type !== type) return undefined;
    return this.writer.readData(entry).then((data) => verifyObject(entry, data));
  }
}
