import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ensurePrivateDir, parseJournalLines, PRIVATE_FILE_MODE, readDocumentSync, replaceLink, writeDocumentBytes } from '../documents';
import { describeCause, errorCode } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { captureCacheDocument, captureCacheJournalLineSchema, SCHEMA_VERSION, type CaptureCacheColumns, type CaptureCacheEntry, type TreeEntry } from '../schemas';
import { sameEntries } from '../objects/tree';
import { ColumnEntries } from './columnEntries';
import { GitignoreCache } from './inclusionRules';
import { plural } from '../format';
import { randomHex } from '../randomHex';

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

/** Whether two stats of a file are the same: size, mtime, ctime, inode and mode. */
export function sameFileStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.mode === b.mode;
}

/** Racy files remembered for `takeSettled`, at most (the oldest are dropped first). */
const MAX_RECENT = 10_000;

/** A file hashed while racy: its stat and hash then (`CaptureCache.takeSettled`). */
export interface RecentFile {
  readonly root: string;
  readonly rel: string;
  readonly stat: FileStamp;
  readonly hash: string;
}

/** The journal is folded into the document once it is larger than this, or than an eighth of the document. */
const MIN_JOURNAL_BYTES = 64 * 1024;
/** Largest journal read; a bigger one is ignored (the document alone is used). */
const MAX_JOURNAL_READ_BYTES = 64 * 1024 * 1024;
/** Lookups of files up to this size that a cache not yet read answers as misses, at most `UNREAD_LOOKUPS` of them. */
const UNREAD_LOOKUP_MAX_SIZE = 64 * 1024;
const UNREAD_LOOKUPS = 16;
/**
 * The start of every document this version writes (`encodeDocument`): its schema version and generation,
 * which is all a journal line needs. Anything else (an older form, another writer's spacing) is read whole.
 */
const DOCUMENT_HEAD = /^\{"schemaVersion":(\d+),"generation":"([0-9a-f]{1,64})","columns":\{/;
const DOCUMENT_HEAD_BYTES = 128;

/**
 * Remembers, per root and root-relative path, the stat of a file when it was hashed and its hash, so
 * an unchanged file is not read again. Loaded from / saved to one document in the store; a missing or
 * damaged document is an empty cache. The cache is only an optimisation: a wrong entry can make a
 * point miss a change only if size, mtime, ctime and inode all stayed the same.
 *
 * A save does not rewrite the document: it appends the entries set and dropped since the last save
 * as one line to a journal next to it (`<file>.journal`), and the document is rewritten (with a new
 * generation, which retires the journal's lines) only when the journal has grown large. Every line is
 * validated when loaded; a torn or invalid line is skipped. Skipping a line, or a line of an older
 * save replayed, can only make the cache miss files: each entry was true when it was recorded.
 *
 * It also holds, in memory only, the parsed ignore files (`gitignores`) for hint captures.
 */
export class CaptureCache {
  private readonly roots = new Map<string, Map<string, CaptureCacheEntry>>();
  private changed = false;
  /** Changes since the last save, per root: the entry set, or `null` for one dropped. */
  private pending = new Map<string, Map<string, CaptureCacheEntry | null>>();
  /** Whether the next save rewrites the whole document (roots dropped, cleared, or no document of this generation yet). */
  private rewrite = true;
  /** Generation of the document on disk that the journal's lines apply to. */
  private generation: string | undefined;
  private documentBytes = 0;
  private journalBytes = 0;
  /** Whether damaged columns of the document (found as their entries were used) were seen to. */
  private damageNoticed = false;
  /** Whether the document and its journal were read (a deferred cache reads them when first needed). */
  private loaded = true;
  /** Lookups answered as misses without reading the document (`lookup`). */
  private unreadLookups = 0;
  /** Files `record` left out as racy, by `root\0rel`, oldest first: `takeSettled` gives them back once their window has passed. */
  private readonly recent = new Map<string, RecentFile>();
  /** Parsed `.gitignore` files, kept between captures (not saved). */
  readonly gitignores = new GitignoreCache();
  /** The last tree of each folder scanned, kept between captures (not saved). */
  readonly folderTrees = new FolderTrees();

  private constructor(
    /** Where it is saved; `undefined` for a cache kept in memory only. */
    readonly file: string | undefined,
    private readonly logger: Logger,
  ) {}

  /** An empty cache; `file` is where `save` writes it. */
  static empty(file?: string, logger: Logger = silentLogger): CaptureCache {
    return new CaptureCache(file, logger);
  }

  /** Where the journal of the document `file` is kept. */
  static journalFile(file: string): string {
    return `${file}.journal`;
  }

  /** Loads the cache (the document, then its journal) at once; a missing, unreadable or invalid file gives an empty cache (never an error). */
  static async load(file: string, logger: Logger = silentLogger): Promise<CaptureCache> {
    const cache = CaptureCache.deferred(file, logger);
    cache.ensureLoaded();
    return cache;
  }

  /**
   * The cache of `file`, read when first needed: a point of a few small files (a save, an agent's
   * hook) records their entries and appends them to the journal without reading the document
   * (`saveUnread`); any lookup that needs the document's entries reads it whole, and validates it, first.
   */
  static deferred(file: string, logger: Logger = silentLogger): CaptureCache {
    const cache = new CaptureCache(file, logger);
    cache.loaded = false;
    cache.rewrite = false;
    return cache;
  }

  /**
   * Reads the document and its journal, once; what was recorded before stays on top of them. A
   * missing, unreadable or invalid file gives an empty cache that is written anew at the next save.
   */
  private ensureLoaded(): void {
    if (this.loaded) return;
    this.loaded = true;
    const file = this.file!;
    const recorded = this.pending;
    this.pending = new Map();
    this.rewrite = true;
    try {
      const read = readDocumentSync(file, captureCacheDocument);
      const doc = read?.value;
      if (doc) {
        if ('columns' in doc) {
          for (const [root, columns] of Object.entries(doc.columns)) this.roots.set(root, new ColumnEntries(columns));
        } else {
          for (const [root, entries] of Object.entries(doc.roots)) this.roots.set(root, new Map(Object.entries(entries)));
        }
        this.documentBytes = read.stamp.size;
        if (doc.generation !== undefined) {
          this.generation = doc.generation;
          this.rewrite = false;
          this.replayJournal(CaptureCache.journalFile(file));
        }
      }
    } catch (error) {
      this.logger.warn(`The capture cache ${file} could not be used and is rebuilt: ${describeCause(error)}`);
      this.roots.clear();
      this.changed = true;
      this.rewrite = true;
    }
    for (const [root, changes] of recorded) {
      for (const [rel, entry] of changes) {
        if (entry === null) this.forget(root, rel);
        else this.setEntry(root, rel, entry);
      }
    }
  }

  /**
   * Reads the cache again from its file, after another process (a first point captured in a process of
   * its own) saved it: the entries and their generation are the file's, the in-memory folder trees and
   * ignore files are dropped.
   */
  async reload(): Promise<void> {
    if (this.file === undefined) return;
    this.roots.clear();
    this.changed = false;
    this.pending = new Map();
    this.rewrite = false;
    this.loaded = false;
    this.generation = undefined;
    this.documentBytes = 0;
    this.journalBytes = 0;
    this.unreadLookups = 0;
    this.damageNoticed = false;
    this.gitignores.clear();
    this.folderTrees.clear();
  }

  /** Applies the journal's valid lines of the loaded document's generation; any other line is skipped. */
  private replayJournal(journal: string): void {
    let text: string;
    try {
      const stat = fsSync.statSync(journal);
      if (stat.size > MAX_JOURNAL_READ_BYTES) throw new Error(`it is ${stat.size} bytes`);
      text = fsSync.readFileSync(journal, 'utf8');
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') {
        this.logger.warn(`The capture cache journal ${journal} is not used: ${describeCause(error)}`);
        this.rewrite = true;
        this.changed = true;
      }
      return;
    }
    this.journalBytes = Buffer.byteLength(text);
    const { lines, unreadable: skipped } = parseJournalLines(text, captureCacheJournalLineSchema);
    for (const line of lines) {
      if (line.g !== this.generation) continue;
      for (const [root, rels] of Object.entries(line.del)) for (const rel of rels) this.roots.get(root)?.delete(rel);
      for (const [root, entries] of Object.entries(line.set)) {
        let map = this.roots.get(root);
        if (!map) this.roots.set(root, (map = new Map()));
        for (const [rel, entry] of Object.entries(entries)) map.set(rel, entry);
      }
    }
    if (skipped > 0) {
      // a torn line (a crash while appending): the document is rewritten on the next save
      this.logger.warn(`The capture cache journal ${journal} has ${plural(skipped, 'unreadable line')}; they are ignored.`);
      this.rewrite = true;
      this.changed = true;
    }
  }

  /** Whether there are changes not yet saved. */
  get dirty(): boolean {
    this.noticeDamage();
    return this.changed;
  }

  /**
   * The document's entries are checked as they are used (`ColumnEntries`): columns found damaged have
   * had their entries dropped, and the document is written anew at the next save, as after a load that
   * refused it.
   */
  private noticeDamage(): void {
    if (this.damageNoticed) return;
    for (const entries of this.roots.values()) {
      if (!(entries instanceof ColumnEntries) || !entries.damaged) continue;
      this.damageNoticed = true;
      this.logger.warn(`The capture cache ${this.file} holds an entry that is not valid; its entries are not used and it is rebuilt.`);
      this.changed = true;
      this.rewrite = true;
      return;
    }
  }

  /** Number of entries, of one root or of all. */
  size(root?: string): number {
    this.ensureLoaded();
    if (root !== undefined) return this.roots.get(root)?.size ?? 0;
    let total = 0;
    for (const entries of this.roots.values()) total += entries.size;
    return total;
  }

  /** Whether there is an entry for the path at all (whatever its stat). */
  has(root: string, rel: string): boolean {
    this.ensureLoaded();
    return this.roots.get(root)?.has(rel) ?? false;
  }

  /**
   * Whether `lookup` may find the path's hash: it has an entry, or the document is not read yet (then
   * the file's stat tells `lookup` whether reading the document is worth it).
   */
  mayHave(root: string, rel: string): boolean {
    return !this.loaded || this.has(root, rel);
  }

  /**
   * The hash of the file if its stat is exactly the one recorded (size, mtime, ctime, inode), else
   * `undefined`. Before the document is read, the first few lookups of small files are misses without
   * reading it: reading such a file costs less than reading every entry of the workspace.
   */
  lookup(root: string, rel: string, stat: FileStamp): string | undefined {
    if (!this.loaded && stat.size <= UNREAD_LOOKUP_MAX_SIZE && ++this.unreadLookups <= UNREAD_LOOKUPS) return undefined;
    return CaptureCache.matching(this.entry(root, rel), stat);
  }

  /** The entry of a path, if any (to look it up once, before the file's stat is known). */
  entry(root: string, rel: string): CaptureCacheEntry | undefined {
    this.ensureLoaded();
    return this.roots.get(root)?.get(rel);
  }

  /** The hash of `entry` if `stat` is exactly the one recorded (size, mtime, ctime, inode), else `undefined`. */
  static matching(entry: CaptureCacheEntry | undefined, stat: FileStamp): string | undefined {
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
      const key = `${root}\0${rel}`;
      this.recent.delete(key);
      this.recent.set(key, { root, rel, stat: { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, mode: stat.mode }, hash });
      if (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.keys().next().value!);
      return;
    }
    this.recent.delete(`${root}\0${rel}`);
    this.setEntry(root, rel, [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, hash, stat.mode & 0o777]);
  }

  /**
   * The files `record` left out as racy whose mtime is now outside the window (`now`: ms since the
   * epoch), taken off the list: read again, and found unchanged, they can be recorded now. The others
   * stay on the list.
   */
  takeSettled(now: number): RecentFile[] {
    const settled: RecentFile[] = [];
    for (const [key, file] of this.recent) {
      if (file.stat.mtimeMs > now - RACY_WINDOW_MS) continue;
      this.recent.delete(key);
      settled.push(file);
    }
    return settled;
  }

  private setEntry(root: string, rel: string, entry: CaptureCacheEntry): void {
    if (!this.loaded) {
      this.changedEntry(root, rel, entry);
      return;
    }
    let entries = this.roots.get(root);
    if (!entries) {
      entries = new Map();
      this.roots.set(root, entries);
    }
    const old = entries.get(rel);
    if (old && old[0] === entry[0] && old[1] === entry[1] && old[2] === entry[2] && old[3] === entry[3] && old[4] === entry[4] && old[5] === entry[5]) return;
    entries.set(rel, entry);
    this.changedEntry(root, rel, entry);
  }

  /** Drops the entry of one path. */
  forget(root: string, rel: string): void {
    if (!this.loaded) this.changedEntry(root, rel, null);
    else if (this.roots.get(root)?.delete(rel)) this.changedEntry(root, rel, null);
  }

  private changedEntry(root: string, rel: string, entry: CaptureCacheEntry | null): void {
    this.changed = true;
    if (this.rewrite) return; // the whole document is written next: no need to track
    let changes = this.pending.get(root);
    if (!changes) this.pending.set(root, (changes = new Map()));
    changes.set(rel, entry);
  }

  /**
   * Drops the entries of `root` not in `keep`: all of them, or (with `under`) only those inside the
   * given folders (`''` is the whole root).
   */
  prune(root: string, keep: ReadonlySet<string>, under?: Iterable<string>): void {
    const folders = under === undefined ? null : new Set(under);
    if (folders?.size === 0) return;
    this.ensureLoaded();
    const entries = this.roots.get(root);
    if (!entries) return;
    const wholeRoot = folders === null || folders.has('');
    for (const rel of entries.keys()) {
      if (keep.has(rel)) continue;
      if (!wholeRoot && !isUnderAny(rel, folders!)) continue;
      entries.delete(rel);
      this.changedEntry(root, rel, null);
    }
  }

  /** Drops the roots not named (workspace folders that were removed). */
  retainRoots(names: Iterable<string>): void {
    this.ensureLoaded();
    const keep = new Set(names);
    for (const root of [...this.roots.keys()]) {
      if (keep.has(root)) continue;
      this.roots.delete(root);
      this.changed = true;
      this.rewrite = true;
    }
  }

  clear(): void {
    this.ensureLoaded();
    if (this.roots.size > 0) {
      this.changed = true;
      this.rewrite = true;
    }
    this.roots.clear();
    this.gitignores.clear();
    this.folderTrees.clear();
  }

  /**
   * Saves the changes, if any (not fsynced: the cache can always be rebuilt): one line appended to the
   * journal, or the whole document when the journal is large or the cache was reset. Never throws: a
   * cache that cannot be written is logged and stays dirty. Returns whether it was written.
   */
  async save(): Promise<boolean> {
    this.noticeDamage();
    if (!this.changed || this.file === undefined) return false;
    try {
      if (!this.loaded) {
        if (await this.saveUnread(this.file)) return true;
        this.ensureLoaded();
      }
      if (!this.rewrite) {
        const line = this.journalLine();
        const bytes = Buffer.byteLength(line);
        if (this.journalBytes + bytes <= Math.max(MIN_JOURNAL_BYTES, this.documentBytes / 8)) {
          try {
            replaceLink(CaptureCache.journalFile(this.file));
            await fs.appendFile(CaptureCache.journalFile(this.file), line, { mode: PRIVATE_FILE_MODE });
          } catch (error) {
            this.rewrite = true; // a line may be torn: retire the journal with a new document next time
            throw error;
          }
          this.journalBytes += bytes;
          this.pending = new Map();
          this.changed = false;
          return true;
        }
      }
      await this.writeWhole();
      return true;
    } catch (error) {
      this.logger.warn(`Could not save the capture cache ${this.file}: ${describeCause(error)}`);
      return false;
    }
  }

  /**
   * Appends the changes to the journal of a document that was not read, when its head names a
   * generation, its journal ends with a whole line, and the line keeps the journal under its limit;
   * otherwise returns false and the caller reads the document. The line applies only to that
   * generation, and only if the document is found valid when it is read: a damaged one is refused
   * with its journal, and each entry of the line was true when recorded.
   */
  private async saveUnread(file: string): Promise<boolean> {
    let generation: string;
    let documentBytes: number;
    let journalBytes = 0;
    const journal = CaptureCache.journalFile(file);
    try {
      const head = readHead(file, DOCUMENT_HEAD_BYTES);
      const match = DOCUMENT_HEAD.exec(head.text);
      if (!match || Number(match[1]) !== SCHEMA_VERSION) return false;
      generation = match[2]!;
      documentBytes = head.size;
      const tail = readTail(journal);
      if (tail !== undefined) {
        if (tail.size > 0 && tail.last !== 0x0a) return false; // a torn line: read, and rewrite the document
        journalBytes = tail.size;
      }
    } catch {
      return false;
    }
    this.generation = generation;
    const line = this.journalLine();
    const bytes = Buffer.byteLength(line);
    if (journalBytes + bytes > Math.max(MIN_JOURNAL_BYTES, documentBytes / 8)) return false;
    replaceLink(journal);
    await fs.appendFile(journal, line, { mode: PRIVATE_FILE_MODE });
    this.pending = new Map();
    this.changed = false;
    return true;
  }

  /** The pending changes as one journal line (with its newline). */
  private journalLine(): string {
    const set: Record<string, Record<string, CaptureCacheEntry>> = Object.create(null);
    const del: Record<string, string[]> = Object.create(null);
    for (const [root, changes] of this.pending) {
      const rootSet: Record<string, CaptureCacheEntry> = Object.create(null);
      const rootDel: string[] = [];
      for (const [rel, entry] of changes) {
        if (entry === null) rootDel.push(rel);
        else rootSet[rel] = entry;
      }
      set[root] = rootSet;
      del[root] = rootDel;
    }
    return `${JSON.stringify({ g: this.generation, set, del })}\n`;
  }

  /** Writes the whole document under a new generation; the journal's lines no longer apply and it is removed. */
  private async writeWhole(): Promise<void> {
    const file = this.file!;
    const generation = randomHex(8);
    await ensurePrivateDir(path.dirname(file));
    // built here from entries of the right types: validated when read, not before every write
    await writeDocumentBytes(file, captureCacheDocument, documentBytes(generation, this.roots), { durable: false });
    this.generation = generation;
    this.rewrite = false;
    this.pending = new Map();
    this.changed = false;
    this.documentBytes = await fs.stat(file).then(
      (stat) => stat.size,
      () => 0,
    );
    this.journalBytes = 0;
    await fs.rm(CaptureCache.journalFile(file), { force: true }).catch((error: unknown) => {
      this.logger.debug(`The old capture cache journal was not removed (its lines are ignored): ${describeCause(error)}`);
    });
  }
}

/** Entries encoded into one piece of the document's text at a time. */
const ENCODE_BATCH = 4096;

/**
 * The document's JSON text (what `JSON.stringify` gives for `{ schemaVersion, generation, columns }`,
 * with `toColumns` of each root) as bytes, encoded in pieces of a few thousand entries, twice: once to
 * count the bytes, once into one buffer of that size. A large cache never becomes one string, one
 * list per column, nor pieces waiting to be joined, on top of its bytes.
 */
export function documentBytes(generation: string, roots: ReadonlyMap<string, ReadonlyMap<string, CaptureCacheEntry>>): Buffer {
  let total = 0;
  encodeDocument(generation, roots, (piece) => {
    total += Buffer.byteLength(piece);
  });
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  encodeDocument(generation, roots, (piece) => {
    at += bytes.write(piece, at);
  });
  return bytes;
}

function encodeDocument(generation: string, roots: ReadonlyMap<string, ReadonlyMap<string, CaptureCacheEntry>>, emit: (piece: string) => void): void {
  emit(`{"schemaVersion":${JSON.stringify(SCHEMA_VERSION)},"generation":${JSON.stringify(generation)},"columns":{`);
  let firstRoot = true;
  for (const [root, entries] of roots) {
    emit(`${firstRoot ? '' : ','}${JSON.stringify(root)}:{`);
    firstRoot = false;
    const column = (key: keyof CaptureCacheColumns, quoted: boolean, encode: (rel: string, entry: CaptureCacheEntry) => string) => {
      const separator = quoted ? '' : ',';
      emit(`${JSON.stringify(key)}:${quoted ? '"' : '['}`);
      let piece: string[] = [];
      let first = true;
      for (const [rel, entry] of entries) {
        piece.push(encode(rel, entry));
        if (piece.length === ENCODE_BATCH) {
          emit((first ? '' : separator) + piece.join(separator));
          first = false;
          piece = [];
        }
      }
      if (piece.length > 0) emit((first ? '' : separator) + piece.join(separator));
      emit(quoted ? '"' : ']');
    };
    column('paths', false, (rel) => JSON.stringify(rel));
    emit(',');
    column('sizes', false, (_, e) => JSON.stringify(e[0]));
    emit(',');
    column('mtimes', false, (_, e) => JSON.stringify(e[1]));
    emit(',');
    column('ctimes', false, (_, e) => JSON.stringify(e[2]));
    emit(',');
    column('inodes', false, (_, e) => JSON.stringify(e[3]));
    emit(',');
    column('hashes', true, (_, e) => e[4]);
    emit(',');
    column('modes', false, (_, e) => JSON.stringify(e[5]));
    emit('}');
  }
  emit('}}');
}

export function toColumns(entries: ReadonlyMap<string, CaptureCacheEntry>): CaptureCacheColumns {
  const c: CaptureCacheColumns = { paths: [], sizes: [], mtimes: [], ctimes: [], inodes: [], hashes: '', modes: [] };
  const hashes: string[] = [];
  for (const [rel, [size, mtimeMs, ctimeMs, ino, hash, mode]] of entries) {
    c.paths.push(rel);
    c.sizes.push(size);
    c.mtimes.push(mtimeMs);
    c.ctimes.push(ctimeMs);
    c.inodes.push(ino);
    hashes.push(hash);
    c.modes.push(mode);
  }
  c.hashes = hashes.join('');
  return c;
}

/** The first `bytes` bytes of a file (as Latin-1: only compared with ASCII), and its size. */
function readHead(file: string, bytes: number): { text: string; size: number } {
  const fd = fsSync.openSync(file, 'r');
  try {
    const size = fsSync.fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(bytes, size));
    const read = fsSync.readSync(fd, buffer, 0, buffer.length, 0);
    return { text: buffer.toString('latin1', 0, read), size };
  } finally {
    fsSync.closeSync(fd);
  }
}

/** A file's size and last byte, `undefined` when it does not exist. */
function readTail(file: string): { size: number; last: number | undefined } | undefined {
  let fd: number;
  try {
    fd = fsSync.openSync(file, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const size = fsSync.fstatSync(fd).size;
    if (size === 0) return { size, last: undefined };
    const byte = Buffer.alloc(1);
    return { size, last: fsSync.readSync(fd, byte, 0, 1, size - 1) === 1 ? byte[0] : undefined };
  } finally {
    fsSync.closeSync(fd);
  }
}

function isUnderAny(rel: string, folders: ReadonlySet<string>): boolean {
  if (folders.has(rel)) return true;
  for (let at = rel.indexOf('/'); at >= 0; at = rel.indexOf('/', at + 1)) {
    if (folders.has(rel.slice(0, at))) return true;
  }
  return false;
}

/** A folder's sorted tree entries and the hash of the tree object they make. */
export interface FolderTree {
  readonly entries: readonly TreeEntry[];
  readonly hash: string;
}

/**
 * The last tree put for each folder (per root name and root-relative folder path), so that a scan can
 * take the hash of a folder whose entries are all unchanged instead of encoding and hashing its tree
 * again. Equal entries always make the same tree, so an entry here is never wrong, only perhaps
 * unused; the caller still checks that the object is in the store. In memory only.
 */
export class FolderTrees {
  private readonly roots = new Map<string, Map<string, FolderTree>>();

  /** The hash of the tree last put for `rel` if it had exactly these (sorted) entries. */
  sameTree(root: string, rel: string, entries: readonly TreeEntry[]): string | undefined {
    const last = this.roots.get(root)?.get(rel);
    return last && sameEntries(last.entries, entries) ? last.hash : undefined;
  }

  /** After a scan of the whole root: the folders it put replace all of the root's. */
  replace(root: string, trees: Map<string, FolderTree>): void {
    this.roots.set(root, trees);
  }

  /** After a scan of some folders of a root: theirs are updated, the others kept. */
  merge(root: string, trees: Map<string, FolderTree>): void {
    const known = this.roots.get(root);
    if (!known) this.roots.set(root, trees);
    else for (const [rel, tree] of trees) known.set(rel, tree);
  }

  /** Keeps only the roots named. */
  retainRoots(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const root of [...this.roots.keys()]) if (!keep.has(root)) this.roots.delete(root);
  }

  clear(): void {
    this.roots.clear();
  }
}
