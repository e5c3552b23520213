import { captureCacheEntriesValid, type CaptureCacheColumns, type CaptureCacheEntry } from '../schemas';

/** Lookups answered from the columns before they are made into a Map: a hint capture needs a few per changed path. */
const LOOKUPS_BEFORE_MAP = 16;

/**
 * One root's capture-cache entries as the document holds them (parallel columns), made into a Map only
 * when many entries or all of them are needed. A point of a few files (a save, an agent's hook) looks up
 * a handful of paths: a scan of the path column costs far less than building an entry per file of the
 * workspace (tens of thousands) in a process that exits right after.
 *
 * The document's shape was checked when it was read; each entry's values are checked here before they
 * are first used, one entry at a lookup, all of them when the Map is made. Columns holding a value no
 * entry may have are damaged: every entry they held is dropped (as a damaged document is when read) and
 * `damaged` tells the cache to write itself anew.
 */
export class ColumnEntries extends Map<string, CaptureCacheEntry> {
  private columns: CaptureCacheColumns | undefined;
  /** Entries set (or `null`: deleted) while the columns still stand in for the Map. */
  private readonly changes = new Map<string, CaptureCacheEntry | null>();
  private lookups = 0;
  private hadDamage = false;

  constructor(
    columns: CaptureCacheColumns,
    private readonly lookupsBeforeMap = LOOKUPS_BEFORE_MAP,
  ) {
    super();
    this.columns = columns;
  }

  override get(rel: string): CaptureCacheEntry | undefined {
    const c = this.columns;
    if (!c) return super.get(rel);
    const changed = this.changes.get(rel);
    if (changed !== undefined) return changed ?? undefined;
    if (++this.lookups > this.lookupsBeforeMap) {
      this.fill();
      return super.get(rel);
    }
    // the last one, as a Map made from the columns would keep
    const i = c.paths.lastIndexOf(rel);
    if (i === -1) return undefined;
    if (captureCacheEntriesValid(c, i, i + 1)) return entryAt(c, i);
    this.dropColumns();
    return super.get(rel);
  }

  /** Whether the columns held a value no entry may have (their entries were dropped). */
  get damaged(): boolean {
    return this.hadDamage;
  }

  override has(rel: string): boolean {
    return this.get(rel) !== undefined;
  }

  override set(rel: string, entry: CaptureCacheEntry): this {
    if (this.columns) this.changes.set(rel, entry);
    else super.set(rel, entry);
    return this;
  }

  override delete(rel: string): boolean {
    if (this.get(rel) === undefined) return false;
    // the lookup may have made the Map
    if (this.columns) this.changes.set(rel, null);
    else super.delete(rel);
    return true;
  }

  override clear(): void {
    this.columns = undefined;
    this.changes.clear();
    super.clear();
  }

  override get size(): number {
    this.fill();
    return super.size;
  }

  override keys(): MapIterator<string> {
    this.fill();
    return super.keys();
  }

  override values(): MapIterator<CaptureCacheEntry> {
    this.fill();
    return super.values();
  }

  override entries(): MapIterator<[string, CaptureCacheEntry]> {
    this.fill();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, CaptureCacheEntry]> {
    return this.entries();
  }

  override forEach(callback: (value: CaptureCacheEntry, key: string, map: Map<string, CaptureCacheEntry>) => void, thisArg?: unknown): void {
    this.fill();
    super.forEach(callback, thisArg);
  }

  private fill(): void {
    const c = this.columns;
    if (!c) return;
    if (!captureCacheEntriesValid(c, 0, c.paths.length)) {
      this.dropColumns();
      return;
    }
    this.columns = undefined;
    for (let i = 0; i < c.paths.length; i++) super.set(c.paths[i]!, entryAt(c, i));
    this.applyChanges();
  }

  /** Damaged columns: none of their entries is used; what was set or deleted since stays. */
  private dropColumns(): void {
    this.columns = undefined;
    this.hadDamage = true;
    this.applyChanges();
  }

  private applyChanges(): void {
    for (const [rel, entry] of this.changes) {
      if (entry === null) super.delete(rel);
      else super.set(rel, entry);
    }
    this.changes.clear();
  }
}

function entryAt(c: CaptureCacheColumns, i: number): CaptureCacheEntry {
  return [c.sizes[i]!, c.mtimes[i]!, c.ctimes[i]!, c.inodes[i]!, c.hashes.slice(i * 64, i * 64 + 64), c.modes[i]!];
}
