import * as path from 'node:path';
import { ensurePrivateDir, readDocument, writeDocument } from '../documents';
import { describeCause } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { captureCacheDocument, SCHEMA_VERSION, type CaptureCacheEntry } from '../schemas';
import { GitignoreCache } from './inclusionRules';

/** What the cache compares: the fields of `fs.Stats` that change when a file's content may have. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly mode: number;
}

/**
 * A file whose mtime is this close to (or after) the moment it was read may change again within the
 * file system's timestamp resolution without its stat changing, so its hash is not trusted: it is
 * read again next time (git's "racy clean" rule).
 */
export const RACY_WINDOW_MS = 2000;

/**
 * Remembers, per root and root-relative path, the stat of a file when it was hashed and its hash, so
 * an unchanged file is not read again. Loaded from / saved to one document in the store; a missing or
 * damaged document is an empty cache. The cache is only an optimisation: a wrong entry can make a
 * point miss a change only if size, mtime, ctime and inode all stayed the same.
 *
 * It also holds, in memory only, the parsed ignore files (`gitignores`) for hint captures.
 */
export class CaptureCache {
  private readonly roots = new Map<string, Map<string, CaptureCacheEntry>>();
  private changed = false;
  /** Parsed `.gitignore` files, kept between captures (not saved). */
  readonly gitignores = new GitignoreCache();

  private constructor(
    /** Where it is saved; `undefined` for a cache kept in memory only. */
    readonly file: string | undefined,
    private readonly logger: Logger,
  ) {}

  /** An empty cache; `file` is where `save` writes it. */
  static empty(file?: string, logger: Logger = silentLogger): CaptureCache {
    return new CaptureCache(file, logger);
  }

  /** Loads the cache; a missing, unreadable or invalid file gives an empty cache (never an error). */
  static async load(file: string, logger: Logger = silentLogger): Promise<CaptureCache> {
    const cache = new CaptureCache(file, logger);
    try {
      const doc = await readDocument(file, captureCacheDocument);
      if (doc) {
        for (const [root, entries] of Object.entries(doc.roots)) cache.roots.set(root, new Map(Object.entries(entries)));
      }
    } catch (error) {
      logger.warn(`The capture cache ${file} could not be used and is rebuilt: ${describeCause(error)}`);
      cache.roots.clear();
      cache.changed = true;
    }
    return cache;
  }

  /** Whether there are changes not yet saved. */
  get dirty(): boolean {
    return this.changed;
  }

  /** Number of entries, of one root or of all. */
  size(root?: string): number {
    if (root !== undefined) return this.roots.get(root)?.size ?? 0;
    let total = 0;
    for (const entries of this.roots.values()) total += entries.size;
    return total;
  }

  /** Whether there is an entry for the path at all (whatever its stat). */
  has(root: string, rel: string): boolean {
    return this.roots.get(root)?.has(rel) ?? false;
  }

  /** The hash of the file if its stat is exactly the one recorded (size, mtime, ctime, inode), else `undefined`. */
  lookup(root: string, rel: string, stat: FileStamp): string | undefined {
    const entry = this.roots.get(root)?.get(rel);
    if (!entry) return undefined;
    const [size, mtimeMs, ctimeMs, ino, hash] = entry;
    return size === stat.size && mtimeMs === stat.mtimeMs && ctimeMs === stat.ctimeMs && ino === stat.ino ? hash : undefined;
  }

  /**
   * Records that the file with this stat has this hash. `hashedAt` is when its content was read
   * (ms since the epoch): a racy file (mtime within `RACY_WINDOW_MS` before that, or later) is not
   * recorded and its old entry is dropped, so it is read again next time.
   */
  record(root: string, rel: string, stat: FileStamp, hash: string, hashedAt: number): void {
    if (stat.mtimeMs > hashedAt - RACY_WINDOW_MS) {
      this.forget(root, rel);
      return;
    }
    let entries = this.roots.get(root);
    if (!entries) {
      entries = new Map();
      this.roots.set(root, entries);
    }
    const old = entries.get(rel);
    const mode = stat.mode & 0o777;
    if (old && old[0] === stat.size && old[1] === stat.mtimeMs && old[2] === stat.ctimeMs && old[3] === stat.ino && old[4] === hash && old[5] === mode) return;
    entries.set(rel, [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, hash, mode]);
    this.changed = true;
  }

  /** Drops the entry of one path. */
  forget(root: string, rel: string): void {
    if (this.roots.get(root)?.delete(rel)) this.changed = true;
  }

  /**
   * Drops the entries of `root` not in `keep`: all of them, or (with `under`) only those inside the
   * given folders (`''` is the whole root).
   */
  prune(root: string, keep: ReadonlySet<string>, under?: Iterable<string>): void {
    const entries = this.roots.get(root);
    if (!entries) return;
    const folders = under === undefined ? null : new Set(under);
    if (folders?.size === 0) return;
    const wholeRoot = folders === null || folders.has('');
    for (const rel of entries.keys()) {
      if (keep.has(rel)) continue;
      if (!wholeRoot && !isUnderAny(rel, folders!)) continue;
      entries.delete(rel);
      this.changed = true;
    }
  }

  /** Drops the roots not named (workspace folders that were removed). */
  retainRoots(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const root of [...this.roots.keys()]) {
      if (keep.has(root)) continue;
      this.roots.delete(root);
      this.changed = true;
    }
  }

  clear(): void {
    if (this.roots.size > 0) this.changed = true;
    this.roots.clear();
    this.gitignores.clear();
  }

  /**
   * Writes the cache if it changed (not fsynced: it can always be rebuilt). Never throws: a cache that
   * cannot be written is logged and stays dirty. Returns whether it was written.
   */
  async save(): Promise<boolean> {
    if (!this.changed || this.file === undefined) return false;
    const roots: Record<string, Record<string, CaptureCacheEntry>> = {};
    for (const [root, entries] of this.roots) {
      Object.defineProperty(roots, root, { value: Object.fromEntries(entries), enumerable: true, writable: true, configurable: true });
    }
    try {
      await ensurePrivateDir(path.dirname(this.file));
      await writeDocument(this.file, captureCacheDocument, { schemaVersion: SCHEMA_VERSION, roots }, { durable: false });
      this.changed = false;
      return true;
    } catch (error) {
      this.logger.warn(`Could not save the capture cache ${this.file}: ${describeCause(error)}`);
      return false;
    }
  }
}

function isUnderAny(rel: string, folders: ReadonlySet<string>): boolean {
  if (folders.has(rel)) return true;
  for (let at = rel.indexOf('/'); at >= 0; at = rel.indexOf('/', at + 1)) {
    if (folders.has(rel.slice(0, at))) return true;
  }
  return false;
}
