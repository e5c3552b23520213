import type { Dirent, Stats } from 'node:fs';
import { realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { errorCode, escapeName, ioError, shortPath, StateError, unreadableReason } from '../errors';
import { formatBytes, plural } from '../format';
import { silentLogger, type Logger } from '../logger';
import type { ObjectWriter } from '../objects/objectStore';
import { isSafeName, makeTree, sameEntries } from '../objects/tree';
import type { TreeEntry, TreeObject, WorkspaceRoot } from '../schemas';
import { CaptureCache, sameFileStamp, type FileStamp, type FolderTree } from './captureCache';
import { Semaphore, settleAll, TaskPool } from './concurrency';
import { listFolder, lstat, readdirBytes, readlink, readWholeFile, stat as statFollow, SyncFs, type WholeFile } from './fsCalls';
import { pathBelow, withLinkedPaths } from './hintLinks';
import { InclusionRules, ruleFileFolder, type CaptureRules } from './inclusionRules';
import { addEntryChange, countFiles, lookupEntry, sortDiff, type TreeDiff } from './treeWalk';

export interface CaptureInput {
  /** Workspace folders: unique safe names, absolute paths. */
  readonly roots: readonly WorkspaceRoot[];
  readonly rules: CaptureRules;
  /** Absolute paths never captured (the store folder, when it lies inside a workspace folder). */
  readonly neverCapture?: readonly string[];
  /** Where every new blob and tree is put (a batch of the object store). */
  readonly objects: ObjectWriter;
  readonly cache: CaptureCache;
  /**
   * Root tree of the previous point; with `changedPaths`, only those paths are looked at. Without
   * them (a full scan) it is where a file or folder that cannot be read now (permission denied) is
   * taken from: unreadable is not deleted. Give it only when that point captured the same folders
   * with the same rules.
   */
  readonly previousRoot?: string | null;
  /**
   * The previous point's `fileCount`, so a hint capture need not count the previous tree's files.
   * Optional: when absent the previous tree is walked to count them.
   */
  readonly previousFileCount?: number;
  /**
   * Absolute paths that changed since the previous point (files or folders, existing or deleted):
   * a rename gives both names. Every change must be listed: what is not listed is taken from the
   * previous point as it was.
   */
  readonly changedPaths?: readonly string[];
  /**
   * With `changedPaths`: the previous point's `outsideRulesDigest` of each root, by root name. A root
   * whose rules from outside its files read otherwise now (`.git/info/exclude` edited since, seen by a
   * process that had not read it before) is scanned again.
   */
  readonly previousOutsideRules?: ReadonlyMap<string, string>;
  readonly logger?: Logger;
  /** Called now and then with the number of files captured so far. */
  readonly onProgress?: (filesDone: number) => void;
  readonly signal?: AbortSignal;
  /**
   * Make the small file-system calls (lstat, readdir, reading files up to 256 kB) synchronously, in
   * slices of a few milliseconds, while the file system answers fast (default). `false`: every call
   * goes through the thread pool.
   */
  readonly syncCalls?: boolean;
  /**
   * Files whose content the caller knows, by absolute path: a restore that has just written them. A
   * file whose `lstat` is still exactly the recorded one takes the recorded hash without being read
   * again (not recorded in the capture cache: the file is within its racy window).
   */
  readonly knownFiles?: ReadonlyMap<string, KnownFile>;
  /**
   * What the editor saved, by absolute path, for files changed on disk since (a checkout or a reset
   * right after the save): the point holds these bytes, whatever the disk holds now, gone or changed.
   * A hint capture takes such a path as a file; a full scan takes it where it lists the file.
   */
  readonly savedContent?: ReadonlyMap<string, SavedContent>;
  /**
   * A workspace folder that is not there (moved, renamed or deleted under a running editor) keeps its
   * files as `previousRoot` holds them, so a point of history never records every file deleted. Not
   * for the workspace as a restore plans against it (the folder must be made again) nor a safety point.
   */
  readonly keepMissingRoots?: boolean;
  /**
   * A stored root tree that the folders a hint capture rebuilds probably equal (a restore's result: the
   * restored point). A rebuilt folder whose entries are exactly those of this tree's folder at the same
   * path takes that folder's hash instead of being encoded and hashed again.
   */
  readonly likelyRoot?: string;
  /**
   * The hint comes from a file watcher, which can miss an event: the folder of each hinted path is
   * listed too, and a name that appeared in it or left it since the previous point joins the hint.
   */
  readonly listHintedFolders?: boolean;
}

/** A file's bytes and mode as the editor saved them. */
export interface SavedContent {
  readonly content: Buffer;
  readonly mode: number;
}

/** A file a caller has just written: its stat right after (size, mtime, ctime, inode, mode) and its content's hash. */
export interface KnownFile {
  readonly stamp: FileStamp;
  readonly hash: string;
}

export interface CaptureResult {
  /** Hash of the root tree: one folder entry per workspace root, named by the root's name. */
  readonly root: string;
  /** Files and symbolic links captured. */
  readonly fileCount: number;
  /** Bytes of every captured file (and link target). */
  readonly totalSize: number;
  readonly mode: 'full' | 'hint';
  /** Files whose content was read and hashed (the others came from the cache or the previous point). */
  readonly filesHashed: number;
  /**
   * Paths that are included by the rules but could not be captured, sorted by path: larger than
   * `maxFileSize`, unreadable (permission denied, a name that cannot be stored), not a file, folder or
   * link (a named pipe, a socket, a device). Every reason is a phrase a person understands.
   */
  readonly skipped: readonly SkippedPath[];
  /**
   * Hint mode, when every change was a file's or a link's (no folder scanned, added or removed): the
   * files added, modified and deleted since `previousRoot`, as `diffTrees` lists them, without
   * comparing the trees. `undefined` otherwise.
   */
  readonly changes?: TreeDiff;
  /** Hint mode: an ignore file (a `.gitignore`, `.git/info/exclude`) read differently than before, whose folder was scanned again. */
  readonly rulesChanged?: boolean;
  /** Each root's `outsideRulesDigest` (the git rules no point records), by root name; absent where git's rules are not followed. */
  readonly outsideRules?: Readonly<Record<string, string>>;
}

/** Why a capture left a path out: the kinds a caller (or a test) tells apart. */
export type SkipKind = 'too-large' | 'special' | 'unreadable' | 'path-too-long' | 'bad-name' | 'kept-previous' | 'moved';

/** A path a capture left out although the rules include it, and why (`"a named pipe (FIFO)"`). */
export interface SkippedPath {
  /** Absolute path (a name that is not valid UTF-8 escaped as `\xNN`). */
  readonly path: string;
  readonly reason: string;
  /** `kept-previous`: not read now, the previous point's version kept (unreadable is not deleted). */
  readonly kind: SkipKind;
}

/** Files (and folder listings) read at once. */
const IO_CONCURRENCY = 32;
/** File content held in memory at once, at most (one larger file is read on its own). */
const BYTES_IN_FLIGHT = 16 * 1024 * 1024;
const PROGRESS_EVERY = 250;

type Kind = 'f' | 'l' | 'd';

/** The result of scanning one folder: its entry (`null` when nothing in it is captured) and its file count. */
interface Scanned {
  readonly entry: TreeEntry | null;
  readonly files: number;
}

/** A folder being scanned: it is finished (its tree put) when its last entry is done. */
interface FolderJob {
  readonly rel: string;
  /** device:inode of the folders above it, to stop at a bind-mount loop. */
  readonly ancestors: ReadonlySet<string>;
  readonly parent: FolderJob | null;
  /** For the folder a scan started at: receives the result. */
  readonly done?: (scanned: Scanned) => void;
  entries: TreeEntry[];
  pending: number;
  files: number;
}

class CaptureContext {
  readonly io = new Semaphore(IO_CONCURRENCY);
  /** Runs the folder walk's tasks (list a folder, capture a file). */
  readonly pool = new TaskPool(IO_CONCURRENCY, (error) => this.abortScans(error));
  private readonly scans = new Set<(error: unknown) => void>();
  readonly bytes = new Semaphore(BYTES_IN_FLIGHT);
  /** Small file-system calls made synchronously in short slices, while the file system is fast. */
  readonly syncFs: SyncFs;
  readonly logger: Logger;
  readonly skipped: SkippedPath[] = [];
  filesDone = 0;
  filesHashed = 0;
  private failure: unknown = undefined;
  private failed = false;
  private readonly lstats = new Map<string, Promise<Stats>>();

  constructor(readonly input: CaptureInput) {
    this.logger = input.logger ?? silentLogger;
    this.syncFs = new SyncFs(input.syncCalls ?? true);
  }

  get objects(): ObjectWriter {
    return this.input.objects;
  }

  get cache(): CaptureCache {
    return this.input.cache;
  }

  /** Throws if the capture was aborted or another task failed, so no more work is started. */
  check(): void {
    if (this.failed) throw this.failure;
    this.input.signal?.throwIfAborted();
  }

  fail(error: unknown): never {
    if (!this.failed) {
      this.failed = true;
      this.failure = error;
    }
    throw error;
  }

  /** Registers a folder scan to be rejected if any task of the walk fails. */
  watchScan(reject: (error: unknown) => void): () => void {
    this.scans.add(reject);
    return () => this.scans.delete(reject);
  }

  private abortScans(error: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.failure = error;
    }
    this.pool.clear();
    for (const reject of [...this.scans]) reject(this.failure);
    this.scans.clear();
  }

  /** A file-system call under the concurrency limit. */
  async fsCall<T>(call: () => Promise<T>): Promise<T> {
    return this.io.run(async () => {
      this.check();
      return call();
    });
  }

  /**
   * A small call (`lstat`, `stat`) made synchronously while the synchronous calls are fast (see
   * `SyncFs`), else through the thread pool under the concurrency limit.
   */
  async smallFsCall<T>(sync: (fs: SyncFs) => T, call: () => Promise<T>): Promise<T> {
    if (!this.syncFs.enabled) return this.fsCall(call);
    this.check();
    const result = sync(this.syncFs);
    if (this.syncFs.due) await this.pause();
    return result;
  }

  /** `lstat` by absolute path, once per capture: a hint's links and its classification look at the same folders. */
  lstatOnce(abs: string): Promise<Stats> {
    let stat = this.lstats.get(abs);
    if (!stat) {
      stat = this.smallFsCall((sync) => sync.lstat(abs), () => lstat(abs));
      this.lstats.set(abs, stat);
    }
    return stat;
  }

  /** Lets the event loop run (call when `syncFs.due`: the current slice of synchronous work is used up). */
  async pause(): Promise<void> {
    await this.syncFs.pause();
    this.check();
  }

  skip(path: string, reason: string, kind: SkipKind): void {
    this.skipped.push({ path, reason, kind });
  }

  tooLarge(path: string, size: number): void {
    const limit = this.input.rules.maxFileSize;
    // "10.0 MB, over … of 10.0 MB" says nothing: bytes then
    const [shown, of] = formatBytes(size) === formatBytes(limit) ? [`${size.toLocaleString('en-US')} bytes`, `${limit.toLocaleString('en-US')} bytes`] : [formatBytes(size), formatBytes(limit)];
    this.skip(path, `${shown}, over the maximum file size of ${of}`, 'too-large');
  }

  fileDone(): void {
    this.filesDone++;
    if (this.filesDone % PROGRESS_EVERY === 0) this.input.onProgress?.(this.filesDone);
  }
}

/** One workspace root during a capture. */
class RootScan {
  /** Paths of files found (for pruning the cache of the folders scanned). */
  readonly seen = new Set<string>();
  /** The root's normalised path ending with a separator: what `abs` puts before a relative path. */
  private readonly base: string;
  /** The trees of the folders scanned, by folder path (for `CaptureCache.folderTrees`). */
  readonly trees = new Map<string, FolderTree>();

  constructor(
    readonly ctx: CaptureContext,
    readonly root: WorkspaceRoot,
    readonly rules: InclusionRules,
    /** The root's real path (links resolved), when known. */
    private readonly realBase?: string,
  ) {
    const normal = path.normalize(root.path);
    this.base = normal.endsWith(path.sep) ? normal : normal + path.sep;
  }

  /** Where `rel` really is (links resolved), to check what is opened against; `undefined` when the root's real path is unknown. */
  real(rel: string): string | undefined {
    if (this.realBase === undefined) return undefined;
    return rel === '' ? this.realBase : `${this.realBase}${this.realBase.endsWith(path.sep) ? '' : path.sep}${path.sep === '/' ? rel : rel.replaceAll('/', path.sep)}`;
  }

  /** A folder or file that was moved, or reached through a folder swapped for a link, while it was captured: left out and reported. */
  moved(abs: string): void {
    this.ctx.skip(abs, 'it was moved or replaced by a link while it was captured', 'moved');
  }

  /** `path.join(root, ...rel.split('/'))` without the cost: every part is a safe name (no separator, `.` or `..`). */
  abs(rel: string): string {
    if (rel === '') return this.root.path;
    return this.base + (path.sep === '/' ? rel : rel.replaceAll('/', path.sep));
  }

  /**
   * Scans folder `rel` (which must be included, and whose ancestors are real folders) and puts its
   * tree; `ancestors` are the device:inode of the folders above it, to stop at a bind-mount loop.
   * Returns a null entry when nothing in it is captured (or it vanished). The walk runs on the
   * capture's task pool, so every folder scanned at the same time shares one concurrency limit.
   */
  scanFolder(rel: string, ancestors: ReadonlySet<string>): Promise<Scanned> {
    return new Promise<Scanned>((resolve, reject) => {
      const unwatch = this.ctx.watchScan(reject);
      const done = (scanned: Scanned) => {
        unwatch();
        resolve(scanned);
      };
      const job: FolderJob = { rel, ancestors, parent: null, done, entries: [], pending: 0, files: 0 };
      this.ctx.pool.push(() => this.listFolder(job));
    });
  }

  /** Lists a folder and queues its entries (folders are listed in turn, files captured). */
  private async listFolder(job: FolderJob): Promise<void> {
    const ctx = this.ctx;
    const rel = job.rel;
    const abs = this.abs(rel);
    let listing: Dirent[];
    let identity: string;
    try {
      ctx.check();
      const sync = ctx.syncFs.enabled ? ctx.syncFs : null;
      // listed through the open folder: a folder swapped for a link meanwhile is never listed in its place
      const real = this.real(rel);
      const listed = sync ? sync.listFolder(abs, real, rel === '') : await ctx.fsCall(() => listFolder(abs, real, rel === ''));
      if (listed.kind === 'not-a-folder') return this.finishFolder(job);
      if (listed.kind === 'moved') {
        if (rel === '') throw StateError.invalidState(`The workspace folder ${abs} no longer leads to ${real}: it was replaced while it was captured.`);
        this.moved(abs);
        return this.finishFolder(job);
      }
      const stat = listed.stat;
      identity = `${stat.dev}:${stat.ino}`;
      if (job.ancestors.has(identity)) {
        ctx.logger.warn(`Skipping ${shortPath(abs)}: it is the same folder as one of its parents (a bind mount loop).`);
        return this.finishFolder(job);
      }
      listing = listed.entries;
      // Node decodes names as UTF-8, so a name that is not valid UTF-8 reads with U+FFFD in its place
      if (listing.some((dirent) => dirent.name.includes('\uFFFD'))) listing = this.validNames(abs, sync ? sync.readdirBytes(abs) : await ctx.fsCall(() => readdirBytes(abs)));
    } catch (error) {
      return this.finishFolder(job, await this.cannotRead(rel, error));
    }
    const hasGitignore = listing.some((d) => d.name === '.gitignore' && d.isFile());
    const folderRules = await this.rules.folderRules(rel, hasGitignore);
    const children: { rel: string; kind: Kind; unreadable?: unknown }[] = [];
    for (const dirent of listing) {
      const name = dirent.name;
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (!isSafeName(name)) {
        const childAbs = path.join(abs, name);
        ctx.logger.warn(`Skipping ${shortPath(childAbs)}: its name cannot be stored in a recovery point.`);
        ctx.skip(childAbs, 'its name cannot be stored in a recovery point', 'unreadable');
        continue;
      }
      // `undefined`: the file system did not say (DT_UNKNOWN), so ask
      const known = direntKind(dirent);
      const kind = known === undefined ? await this.kindOf(childRel) : known;
      if (kind === null) continue;
      if (typeof kind === 'object' && 'error' in kind) {
        // it could not even be looked at: what the previous point had there stands
        children.push({ rel: childRel, kind: 'f', unreadable: kind.error });
        continue;
      }
      if (this.rules.excludes(childRel, kind === 'd', folderRules)) continue;
      if (typeof kind === 'object') {
        ctx.skip(path.join(abs, name), kind.special, 'special');
        continue;
      }
      children.push({ rel: childRel, kind });
    }
    const below = new Set(job.ancestors).add(identity);
    listing = [];
    // Files the cache vouches for are done here, without a task each; the rest is queued.
    const tasks: (() => Promise<void>)[] = [];
    for (const child of children) {
      if (child.unreadable !== undefined) {
        const error = child.unreadable;
        tasks.push(async () => {
          const kept = await this.cannotRead(child.rel, error);
          await this.entryDone(job, kept.entry, kept.files);
        });
        continue;
      }
      if (child.kind === 'd') {
        const sub: FolderJob = { rel: child.rel, ancestors: below, parent: job, entries: [], pending: 0, files: 0 };
        tasks.push(() => this.listFolder(sub));
        continue;
      }
      const cached = child.kind === 'f' ? this.cachedFile(child.rel) : undefined;
      if (cached === undefined) {
        const kind = child.kind;
        tasks.push(async () => {
          const entry = await this.captureFile(child.rel, kind);
          await this.entryDone(job, entry, entry ? 1 : 0);
        });
      } else if (cached !== null) {
        job.entries.push(cached);
        job.files++;
      }
      if (ctx.syncFs.due) await ctx.pause();
    }
    // set before any task starts: a task may finish while the next ones are queued
    job.pending = tasks.length;
    if (tasks.length === 0) return this.finishFolder(job);
    for (const task of tasks) ctx.pool.push(task);
  }

  /**
   * A file with a cache entry, looked at with one synchronous lstat: its entry when the cache vouches
   * for its content, `null` when it is left out (too large), `undefined` when `captureFile` must look
   * at it (no entry, changed, not a regular file any more, an error, or synchronous calls are off).
   */
  private cachedFile(rel: string): TreeEntry | null | undefined {
    const ctx = this.ctx;
    if (!ctx.syncFs.enabled) return undefined;
    const recorded = ctx.cache.entry(this.root.name, rel);
    if (recorded === undefined) return undefined;
    const abs = this.abs(rel);
    let stat: Stats;
    try {
      stat = ctx.syncFs.lstat(abs);
    } catch {
      return undefined; // captureFile looks again and reports it
    }
    if (!stat.isFile()) return undefined;
    if (stat.size > this.rules.rules.maxFileSize) {
      ctx.tooLarge(abs, stat.size);
      return null;
    }
    const cached = CaptureCache.matching(recorded, stat);
    if (cached === undefined || !ctx.objects.has(cached)) return undefined;
    this.seen.add(rel);
    ctx.fileDone();
    return [baseName(rel, this.root.name), 'f', cached, stat.size, stat.mode & 0o777];
  }

  private async entryDone(job: FolderJob, entry: TreeEntry | null, files: number): Promise<void> {
    if (entry) job.entries.push(entry);
    job.files += files;
    if (--job.pending === 0) await this.finishFolder(job);
  }

  /**
   * Puts a folder whose entries are all done and hands it to its parent (or to the scan's caller);
   * `instead`: the folder could not be listed, and this stands for it.
   */
  private async finishFolder(job: FolderJob, instead?: Scanned): Promise<void> {
    const entries = job.entries;
    job.entries = [];
    let scanned: Scanned = instead ?? { entry: null, files: 0 };
    if (instead === undefined && (entries.length > 0 || job.rel === '')) scanned = { entry: await this.putFolder(baseName(job.rel, this.root.name), entries, job.rel), files: job.files };
    if (job.parent) await this.entryDone(job.parent, scanned.entry, scanned.files);
    else job.done!(scanned);
  }

  /**
   * Puts the tree of a folder (named `name` in its parent). With `rel`, the folder's path in a scan, a
   * folder whose entries are those of its last tree takes that tree's hash without encoding it again.
   */
  async putFolder(name: string, entries: TreeEntry[], rel?: string, likely?: { hash: string; tree: TreeObject }): Promise<TreeEntry> {
    const tree = makeTree(entries);
    let size = 0;
    for (const entry of entries) size += entry[3];
    const objects = this.ctx.objects;
    let hash = rel === undefined ? undefined : this.ctx.cache.folderTrees.sameTree(this.root.name, rel, tree.e);
    if (hash === undefined && likely && likely.tree.v === tree.v && sameEntries(likely.tree.e, tree.e)) hash = likely.hash;
    if (hash === undefined || !objects.has(hash)) hash = await objects.putTree(tree);
    if (rel !== undefined) this.trees.set(rel, { entries: tree.e, hash });
    return [name, 'd', hash, size, 0];
  }

  /** `f`, `l`, `d`, what else it is (a socket, fifo or device), `null` when it is gone, or the error that kept it from being looked at. */
  async kindOf(rel: string): Promise<Kind | Special | null | { error: unknown }> {
    try {
      const stat = await this.ctx.fsCall(() => lstat(this.abs(rel)));
      return statKind(stat) ?? specialKind(stat) ?? null;
    } catch (error) {
      const code = errorCode(error);
      return code === 'ENOENT' || code === 'ENOTDIR' ? null : { error };
    }
  }

  /** The listing without the names that are not valid UTF-8 (each skipped with a warning), the others named as text. */
  private validNames(abs: string, listing: Dirent<Buffer>[]): Dirent[] {
    const valid: Dirent[] = [];
    for (const dirent of listing) {
      const raw = dirent.name;
      const name = raw.toString('utf8');
      if (Buffer.from(name, 'utf8').equals(raw)) {
        (dirent as unknown as { name: string }).name = name;
        valid.push(dirent as unknown as Dirent);
        continue;
      }
      const shown = `${abs}${path.sep}${escapeName(raw)}`;
      this.ctx.logger.warn(`Skipping ${shortPath(shown)}: its name is not valid UTF-8, so it cannot be stored in a recovery point${dirent.isDirectory() ? ' (nor anything in that folder)' : ''}.`);
      this.ctx.skip(shown, 'its name is not valid UTF-8', 'bad-name');
    }
    return valid;
  }

  /** Captures one file or symbolic link; `null` when it is left out (gone, too large, unreadable, not a regular file). */
  async captureFile(rel: string, kind: 'f' | 'l'): Promise<TreeEntry | null> {
    const ctx = this.ctx;
    const abs = this.abs(rel);
    const name = baseName(rel, this.root.name);
    const saved = ctx.input.savedContent?.get(abs);
    if (saved) {
      // not recorded in the capture cache: the disk holds something else now
      const hash = await ctx.objects.putBlob(saved.content);
      ctx.fileDone();
      return [name, 'f', hash, saved.content.length, saved.mode & 0o777];
    }
    try {
      if (kind === 'l') {
        // the target's own bytes, which need not be valid UTF-8
        const content = ctx.syncFs.enabled ? ctx.syncFs.readlink(abs) : await ctx.fsCall(() => readlink(abs));
        const hash = await ctx.objects.putBlob(content);
        this.seen.add(rel);
        ctx.fileDone();
        return [name, 'l', hash, content.length, 0];
      }
      // With no cache entry the file is read at once (the open file's stat is what counts);
      // otherwise its stat decides whether it must be read.
      const known = ctx.input.knownFiles?.get(abs);
      if (known !== undefined || ctx.cache.mayHave(this.root.name, rel)) {
        ctx.check();
        const stat = ctx.syncFs.enabled ? ctx.syncFs.lstat(abs) : await ctx.fsCall(() => lstat(abs));
        if (!stat.isFile()) {
          const now = statKind(stat);
          return now === 'l' ? this.captureFile(rel, 'l') : null; // replaced while we looked
        }
        if (stat.size > this.rules.rules.maxFileSize) {
          ctx.tooLarge(abs, stat.size);
          return null;
        }
        const knownHash = known !== undefined && sameFileStamp(known.stamp, stat) ? known.hash : undefined;
        const cached = knownHash ?? ctx.cache.lookup(this.root.name, rel, stat);
        if (cached !== undefined && ctx.objects.has(cached)) {
          // just written: kept aside as racy until it can be read again (`CaptureCache.takeSettled`)
          if (knownHash !== undefined) ctx.cache.record(this.root.name, rel, stat, knownHash, Date.now());
          this.seen.add(rel);
          ctx.fileDone();
          return [name, 'f', cached, stat.size, stat.mode & 0o777];
        }
      }
      // The content is counted against the memory budget from before it is read until it is stored.
      let held = 0;
      const reserve = async (size: number) => {
        held = await ctx.bytes.acquire(Math.max(size, 1));
      };
      try {
        // it became a link: O_NOFOLLOW refused it
        const becameLink = (error: unknown): 'link' => {
          if (errorCode(error) === 'ELOOP') return 'link';
          throw error;
        };
        let read: WholeFile | 'link' | undefined;
        if (ctx.syncFs.enabled) {
          ctx.check();
          try {
            read = ctx.syncFs.readSmallFile(abs, this.rules.rules.maxFileSize, this.real(rel));
          } catch (error) {
            read = becameLink(error);
          }
        }
        read ??= await ctx.fsCall(() => readWholeFile(abs, this.rules.rules.maxFileSize, reserve, this.real(rel))).catch(becameLink);
        if (ctx.syncFs.due) await ctx.pause();
        if (read === 'link') return await this.captureFile(rel, 'l');
        if (read.kind === 'too-large') ctx.tooLarge(abs, read.size);
        if (read.kind === 'moved') this.moved(abs);
        if (read.kind !== 'read') return null;
        const { content, stat: readStat, readAt: hashedAt } = read;
        const hash = await ctx.objects.putBlob(content);
        ctx.filesHashed++;
        if (content.length === readStat.size) ctx.cache.record(this.root.name, rel, readStat, hash, hashedAt);
        else ctx.cache.forget(this.root.name, rel);
        this.seen.add(rel);
        ctx.fileDone();
        return [name, 'f', hash, content.length, readStat.mode & 0o777];
      } finally {
        if (held > 0) ctx.bytes.release(held);
      }
    } catch (error) {
      const kept = await this.cannotRead(rel, error);
      return kept.entry?.[1] === 'd' ? null : kept.entry;
    }
  }

  /**
   * Handles a failed file-system call on a path being captured: gone (or changed kind) → nothing;
   * unreadable (permission denied, locked, a path too long) → the previous point's version when it
   * has one (unreadable is not deleted), else nothing, said in a warning and listed either way; an
   * abort or a store error → rethrown.
   */
  async cannotRead(rel: string, error: unknown): Promise<Scanned> {
    const ctx = this.ctx;
    const abs = this.abs(rel);
    if (ctx.input.signal?.aborted || error instanceof StateError) ctx.fail(error);
    const why = unreadableReason(error);
    if (why === null) return { entry: null, files: 0 };
    if (why === undefined) return ctx.fail(ioError(`read ${shortPath(abs)}`, error));
    const kept = await this.previousVersion(rel);
    if (kept) {
      ctx.logger.warn(`Could not read ${shortPath(abs)} (${why}): the recovery point keeps its version from the previous point.`);
      ctx.skip(abs, `${why}; its version from the previous point is kept`, 'kept-previous');
      return kept;
    }
    ctx.logger.warn(`Skipping ${shortPath(abs)}: ${why}.`);
    ctx.skip(abs, why, errorCode(error) === 'ENAMETOOLONG' ? 'path-too-long' : 'unreadable');
    return { entry: null, files: 0 };
  }

  /** The entry (and file count) the previous point has at `rel`, if any and if it can be read. */
  async previousVersion(rel: string): Promise<Scanned | null> {
    const objects = this.ctx.objects;
    const previousRoot = this.ctx.input.previousRoot;
    if (!previousRoot) return null;
    try {
      const found = await lookupEntry(objects, previousRoot, rel === '' ? this.root.name : `${this.root.name}/${rel}`);
      if (!found) return null;
      const entry: TreeEntry = [baseName(rel, this.root.name), found.kind, found.hash, found.size, found.mode];
      return { entry, files: found.kind === 'd' ? await countFiles(objects, found.hash) : 1 };
    } catch (error) {
      if (!(error instanceof StateError) || error.kind !== 'SnapshotLoadError') throw error;
      return null; // a damaged previous point: the path is skipped as if it had none
    }
  }
}

/** An entry that is neither a file, a folder nor a link: never captured, and said so. */
interface Special {
  readonly special: string;
}

function specialKind(entry: Dirent | Stats): Special | undefined {
  if (entry.isFIFO()) return { special: 'a named pipe (FIFO)' };
  if (entry.isSocket()) return { special: 'a socket' };
  if (entry.isBlockDevice()) return { special: 'a block device' };
  if (entry.isCharacterDevice()) return { special: 'a character device' };
  return undefined;
}

function direntKind(dirent: Dirent): Kind | Special | undefined {
  if (dirent.isDirectory()) return 'd';
  if (dirent.isFile()) return 'f';
  if (dirent.isSymbolicLink()) return 'l';
  return specialKind(dirent);
}

function statKind(stat: Stats): Kind | null {
  if (stat.isDirectory()) return 'd';
  if (stat.isFile()) return 'f';
  if (stat.isSymbolicLink()) return 'l';
  return null;
}

function baseName(rel: string, rootName: string): string {
  return rel === '' ? rootName : rel.slice(rel.lastIndexOf('/') + 1);
}

/** `a/b/c` → `['a', 'a/b']`. */
function ancestorsOf(rel: string): string[] {
  const out: string[] = [];
  for (let at = rel.indexOf('/'); at >= 0; at = rel.indexOf('/', at + 1)) out.push(rel.slice(0, at));
  return out;
}

function validateRoots(roots: readonly WorkspaceRoot[]): void {
  const names = new Set<string>();
  for (const root of roots) {
    if (!isSafeName(root.name)) throw StateError.snapshotCreation(`The workspace folder name "${root.name}" cannot be used in a recovery point.`);
    if (names.has(root.name)) throw StateError.snapshotCreation(`Two workspace folders are named "${root.name}"; give them different names.`);
    if (!path.isAbsolute(root.path)) throw StateError.snapshotCreation(`The workspace folder path "${root.path}" is not absolute.`);
    names.add(root.name);
  }
}

// ---------------------------------------------------------------------------------------------
// Full scan

async function scanRoot(scan: RootScan): Promise<Scanned> {
  scan.rules.resetCache();
  const ctx = scan.ctx;
  let problem: string | undefined;
  try {
    const stat = await ctx.fsCall(() => statFollow(scan.root.path));
    if (!stat.isDirectory()) problem = 'it is not a folder';
  } catch (error) {
    if (ctx.input.signal?.aborted) throw error;
    if (errorCode(error) !== 'ENOENT' && unreadableReason(error)) {
      const kept = await scan.previousVersion('');
      if (kept?.entry?.[1] === 'd') {
        ctx.logger.warn(`Could not read the workspace folder ${shortPath(scan.root.path)} (${unreadableReason(error)}): the recovery point keeps its version from the previous point.`);
        ctx.skip(scan.root.path, `${unreadableReason(error)}; its version from the previous point is kept`, 'kept-previous');
        return kept;
      }
    }
    problem = errorCode(error) === 'ENOENT' ? 'it does not exist' : `it cannot be read (${errorCode(error) ?? String(error)})`;
  }
  if (problem !== undefined) {
    // moved, renamed or deleted under a running editor: a point never empties a folder it cannot see
    const kept = ctx.input.keepMissingRoots ? await scan.previousVersion('') : null;
    if (kept?.entry?.[1] === 'd') {
      ctx.logger.warn(`The workspace folder ${shortPath(scan.root.path)} is not there (${problem}: moved, renamed or deleted?): the recovery point keeps its files as they were in the previous point.`);
      ctx.skip(scan.root.path, `the workspace folder is not there (${problem}); its version from the previous point is kept`, 'kept-previous');
      return kept;
    }
    ctx.logger.warn(`The workspace folder ${shortPath(scan.root.path)} is recorded as empty: ${problem}.`);
    ctx.skip(scan.root.path, `the workspace folder is recorded as empty: ${problem}`, 'unreadable');
    scan.ctx.cache.prune(scan.root.name, new Set());
    return { entry: await scan.putFolder(scan.root.name, []), files: 0 };
  }
  const result = await scan.scanFolder('', new Set());
  scan.ctx.cache.prune(scan.root.name, scan.seen);
  scan.ctx.cache.folderTrees.replace(scan.root.name, scan.trees);
  return { entry: result.entry ?? (await scan.putFolder(scan.root.name, [])), files: result.files };
}

// ---------------------------------------------------------------------------------------------
// Hint mode

/** A folder of the previous tree, loaded when a change below it is applied. */
class OverlayFolder {
  changed = false;
  constructor(
    /** The folder's entry in the previous tree (`null` for a folder created by this capture). */
    readonly base: TreeEntry | null,
    readonly entries: Map<string, TreeEntry | OverlayFolder>,
  ) {}
}

type HintOp =
  | { readonly type: 'delete'; readonly realAncestors: number }
  | { readonly type: 'folder' }
  | { readonly type: 'file'; readonly kind: 'f' | 'l' }
  /** The path (or a folder above it) could not be looked at: the previous point's version stands. */
  | { readonly type: 'keep'; readonly error: unknown };

class HintRoot {
  private readonly stats = new Map<string, Promise<Stats | null>>();
  /** Paths whose lstat failed for a reason other than absence (permission denied, a path too long), with the error. */
  private readonly denied = new Map<string, unknown>();
  /** Change in the number of files from the previous point. */
  fileDelta = 0;
  /** An ignore file read differently than the rules known before (its folder scanned again). */
  rulesChanged = false;
  /** The files' changes (`CaptureResult.changes`); `undefined` once a change is a folder's. */
  changes: TreeDiff | undefined = { added: [], modified: [], deleted: [] };

  constructor(
    readonly scan: RootScan,
    readonly previous: TreeEntry,
    /** The root's folder in `CaptureInput.likelyRoot`, when that tree has one. */
    readonly likely?: TreeEntry,
    /** The git rules from outside the root's files differ from the previous point's (`CaptureInput.previousOutsideRules`): scan the root again. */
    readonly outsideRulesChanged = false,
  ) {}

  private get ctx(): CaptureContext {
    return this.scan.ctx;
  }

  /** lstat (stat for the root), memoised for the capture; `null` when it does not exist. */
  private statOf(rel: string): Promise<Stats | null> {
    let stat = this.stats.get(rel);
    if (!stat) {
      const abs = this.scan.abs(rel);
      stat = (rel === '' ? this.ctx.smallFsCall((sync) => sync.stat(abs), () => statFollow(abs)) : this.ctx.lstatOnce(abs)).catch((error: unknown) => {
        const code = errorCode(error);
        if (code === 'ENOENT' || code === 'ENOTDIR') return null;
        if (this.ctx.input.signal?.aborted) throw error;
        if (!unreadableReason(error)) throw ioError(`look at ${shortPath(abs)}`, error);
        this.denied.set(rel, error);
        return null;
      });
      this.stats.set(rel, stat);
    }
    return stat;
  }

  /**
   * What to do for one changed path. A removal also says how many of the path's ancestors are real
   * folders on disk: a file or link the previous tree has in one of those places is stale too.
   */
  private async classify(rel: string): Promise<HintOp> {
    const rules = this.scan.rules;
    const names = rel.split('/');
    const prefixes = names.map((_, i) => names.slice(0, i + 1).join('/'));
    // the first part a full scan would neither enter nor record, judged by its name and path alone
    // (the path itself judged as a folder, the looser rule: once its kind is known, `isIncluded` below judges it as what it is)
    let stop = prefixes.findIndex((prefix, i) => !isSafeName(names[i]!) || rules.excludedByPath(prefix, true));
    if (stop < 0) stop = names.length;
    let real = 0;
    while (real < Math.min(stop, names.length - 1) && (await this.statOf(prefixes[real]!))?.isDirectory()) real++;
    if (real < Math.min(stop, names.length - 1) && this.denied.has(prefixes[real]!)) return { type: 'keep', error: this.denied.get(prefixes[real]!) };
    const gone: HintOp = { type: 'delete', realAncestors: real };
    // saved in the editor and changed on disk since (deleted, or its folder): the saved bytes are the point's
    if (stop === names.length && this.ctx.input.savedContent?.has(this.scan.abs(rel)) && (await rules.isIncluded(rel, false))) return { type: 'file', kind: 'f' };
    if (stop < names.length || real < names.length - 1) return gone;
    const stat = await this.statOf(rel);
    if (this.denied.has(rel)) return { type: 'keep', error: this.denied.get(rel) };
    const kind = stat ? statKind(stat) : null;
    const special = stat && kind === null ? specialKind(stat) : undefined;
    if (special && (await rules.isIncluded(rel, false))) this.ctx.skip(this.scan.abs(rel), special.special, 'special');
    if (kind === null) return gone;
    if (!(await rules.isIncluded(rel, kind === 'd'))) return gone;
    return kind === 'd' ? { type: 'folder' } : { type: 'file', kind };
  }

  /** The device:inode of the root and of each folder above `rel`, as a full scan would see them. */
  private async ancestorIds(rel: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const folder of ['', ...ancestorsOf(rel)]) {
      const stat = await this.statOf(folder);
      if (stat) ids.add(`${stat.dev}:${stat.ino}`);
    }
    return ids;
  }

  /**
   * The names that appeared in or left the folders of `rels` since the previous point, as paths: what a
   * file watcher that missed an event did not name (`CaptureInput.listHintedFolders`). One listing per
   * folder; a folder missing on disk or in the previous point is left to the hint itself.
   */
  private async strays(rels: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const dir of new Set(rels.filter((rel) => rel !== '').map((rel) => rel.slice(0, Math.max(0, rel.lastIndexOf('/')))))) {
      const before = await this.previousNames(dir);
      if (!before) continue;
      const abs = this.scan.abs(dir);
      const real = this.scan.real(dir);
      const listed = await this.ctx
        .smallFsCall((sync) => sync.listFolder(abs, real, dir === ''), () => listFolder(abs, real, dir === ''))
        .catch(() => undefined);
      if (listed?.kind !== 'listed') continue;
      const at = (name: string) => (dir === '' ? name : `${dir}/${name}`);
      const now = new Set<string>();
      for (const dirent of listed.entries) {
        now.add(dirent.name);
        // a new name counts when a full scan would capture it: an ignored file, a socket or a file over
        // the size limit is in every listing and in no point
        if (before.has(dirent.name) || dirent.name.includes('\uFFFD') || !isSafeName(dirent.name)) continue;
        if (!dirent.isFile() && !dirent.isDirectory() && !dirent.isSymbolicLink()) continue;
        if (!(await this.scan.rules.isIncluded(at(dirent.name), dirent.isDirectory()))) continue;
        if (dirent.isFile() && ((await this.statOf(at(dirent.name)))?.size ?? 0) > this.scan.rules.rules.maxFileSize) continue;
        out.push(at(dirent.name));
      }
      for (const name of before) if (!now.has(name)) out.push(at(name));
    }
    return out;
  }

  /** The names in the previous point's folder `dir` (`''`: the root); `undefined` when it had no such folder. */
  private async previousNames(dir: string): Promise<Set<string> | undefined> {
    const folder = await lookupEntry(this.ctx.objects, this.previous[2], dir);
    if (folder?.kind !== 'd') return undefined;
    return new Set((await this.ctx.objects.readTree(folder.hash)).e.map((e) => e[0]));
  }

  async run(hinted: readonly string[]): Promise<Scanned> {
    const { scan, ctx } = this;
    // listing the hinted folders (`strays`) reads their rules, new ignore files included: only rules read before can show a change
    const rulesReadBefore = new Set<string>();
    for (const rel of hinted) {
      const folders = [ruleFileFolder(rel), rel.slice(0, Math.max(0, rel.lastIndexOf('/')))];
      for (const folder of folders) if (folder !== null && scan.rules.hasCachedRules(folder)) rulesReadBefore.add(folder);
    }
    const named = new Set(hinted);
    const rels = ctx.input.listHintedFolders ? [...hinted, ...(await this.strays(hinted)).filter((rel) => !named.has(rel))] : hinted;
    const missed = rels.length - hinted.length;
    if (missed > 0) ctx.logger.info(`The file watcher did not report ${plural(missed, 'change')} in the folders it named (${rels[hinted.length]}${missed > 1 ? ', …' : ''}): the point includes ${missed > 1 ? 'them' : 'it'}.`);
    const respect = scan.rules.rules.respectGitignore;
    const targets = new Set<string>();
    for (const rel of rels) {
      // A changed path may be (or have been) a folder holding ignore files: forget its rules.
      scan.rules.invalidate(rel);
      const folder = respect ? ruleFileFolder(rel) : null;
      if (folder !== null && !(rulesReadBefore.has(folder) && (await scan.rules.ruleFileUnchanged(rel)))) {
        // new rules for the folder: rescan it with them
        scan.rules.invalidate(folder);
        targets.add(folder);
        this.rulesChanged = true;
      } else {
        targets.add(rel);
      }
    }
    if (respect && !targets.has('') && (this.outsideRulesChanged || (await scan.rules.excludeFileChanged()))) {
      scan.rules.invalidate('');
      targets.add('');
      this.rulesChanged = true;
    }
    // a change of the root itself (or of its rules), or a root that is gone, rescans it
    if (targets.has('') || !(await this.statOf(''))?.isDirectory()) {
      this.changes = undefined;
      const old = await countFiles(ctx.objects, this.previous[2]);
      const result = await scanRoot(scan);
      this.fileDelta = result.files - old;
      return result;
    }
    // A change at a path covers everything below it: keep the outermost paths only.
    const sorted = [...targets].sort();
    const outermost: string[] = [];
    const kept = new Set<string>();
    for (const rel of sorted) {
      if (ancestorsOf(rel).some((ancestor) => kept.has(ancestor))) continue;
      kept.add(rel);
      outermost.push(rel);
    }
    const ops = await settleAll(outermost.map(async (rel) => ({ rel, op: await this.classify(rel) })));
    const results = await settleAll(
      ops.map(async ({ rel, op }): Promise<{ rel: string; op: HintOp; entry: TreeEntry | null; files: number }> => {
        if (op.type === 'folder') {
          const scanned = await scan.scanFolder(rel, await this.ancestorIds(rel));
          return { rel, op, entry: scanned.entry, files: scanned.files };
        }
        if (op.type === 'file') {
          const entry = await scan.captureFile(rel, op.kind);
          return { rel, op, entry, files: entry ? 1 : 0 };
        }
        if (op.type === 'keep') await scan.cannotRead(rel, op.error); // says so; the previous tree already holds its version
        return { rel, op, entry: null, files: 0 };
      }),
    );
    const top = new OverlayFolder(this.previous, await this.load(this.previous));
    const prunedFolders: string[] = [];
    for (const { rel, op, entry, files } of results) {
      if (op.type === 'keep') continue;
      const old = await this.apply(top, rel, entry, op.type === 'delete' ? op.realAncestors : rel.split('/').length - 1);
      if (this.changes && !addEntryChange(this.changes, `${scan.root.name}/${rel}`, old, entry ?? undefined)) this.changes = undefined;
      if (old && entry && old[1] === entry[1] && old[2] === entry[2]) continue; // unchanged
      this.fileDelta += files;
      if (old) {
        if (old[1] === 'd') {
          this.fileDelta -= await countFiles(ctx.objects, old[2]);
          prunedFolders.push(rel);
        } else {
          this.fileDelta -= 1;
        }
      }
      if (op.type === 'folder') prunedFolders.push(rel);
      else if (op.type === 'delete') ctx.cache.forget(scan.root.name, rel);
    }
    ctx.cache.prune(scan.root.name, scan.seen, prunedFolders);
    ctx.cache.folderTrees.merge(scan.root.name, scan.trees);
    const entry = (await this.build(top, scan.root.name, this.likely)) ?? (await scan.putFolder(scan.root.name, []));
    return { entry, files: 0 };
  }

  private async load(entry: TreeEntry): Promise<Map<string, TreeEntry | OverlayFolder>> {
    const tree = await this.ctx.objects.readTree(entry[2]);
    return new Map(tree.e.map((e) => [e[0], e]));
  }

  /**
   * Puts `entry` at `rel` (or removes what is there when `null`), creating missing folders on the way
   * and replacing a file or link that stands where a folder now is: on the way to a new entry, or
   * within the first `realAncestors` ancestors (those that are real folders on disk) of a removal.
   * Returns the entry that was there before, if it came from the previous tree.
   */
  private async apply(top: OverlayFolder, rel: string, entry: TreeEntry | null, realAncestors: number): Promise<TreeEntry | undefined> {
    const parts = rel.split('/');
    const chain: OverlayFolder[] = [top];
    let folder = top;
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i]!;
      const child = folder.entries.get(name);
      let next: OverlayFolder;
      if (child instanceof OverlayFolder) {
        next = child;
      } else if (child && child[1] === 'd') {
        next = new OverlayFolder(child, await this.load(child));
        folder.entries.set(name, next);
      } else {
        if (entry === null && (child === undefined || i >= realAncestors)) break; // nothing to remove below
        if (child) {
          this.fileDelta -= 1; // a file or link stood where a folder now is
          this.changes = undefined;
        }
        next = new OverlayFolder(null, new Map());
        folder.entries.set(name, next);
      }
      chain.push(next);
      folder = next;
    }
    const name = parts[parts.length - 1]!;
    const old = chain.length === parts.length ? folder.entries.get(name) : undefined;
    if (old instanceof OverlayFolder) throw new Error(`internal: ${rel} was changed twice`);
    if (entry === null) {
      if (old !== undefined) folder.entries.delete(name);
    } else {
      if (old && old[1] === entry[1] && old[2] === entry[2] && old[3] === entry[3] && old[4] === entry[4]) return old;
      folder.entries.set(name, entry);
    }
    if (entry !== null || old !== undefined || chain.some((f) => f.base === null)) for (const changed of chain) changed.changed = true;
    return old;
  }

  /**
   * Puts the trees of the changed folders, bottom up; `null` for a folder left empty. `likely`: the
   * folder at the same path in `CaptureInput.likelyRoot`, whose hash a folder with the same entries takes.
   */
  private async build(folder: OverlayFolder, name: string, likely?: TreeEntry): Promise<TreeEntry | null> {
    if (!folder.changed) return folder.base;
    const likelyTree = likely?.[1] === 'd' && this.ctx.objects.has(likely[2]) ? await this.ctx.objects.readTree(likely[2]).catch(() => undefined) : undefined;
    const likelyChildren = likelyTree ? new Map(likelyTree.e.map((e) => [e[0], e])) : undefined;
    const entries: TreeEntry[] = [];
    for (const [childName, child] of folder.entries) {
      const entry = child instanceof OverlayFolder ? await this.build(child, childName, likelyChildren?.get(childName)) : child;
      if (entry) entries.push(entry);
    }
    if (entries.length === 0) return null;
    return this.scan.putFolder(name, entries, undefined, likelyTree && { hash: likely![2], tree: likelyTree });
  }
}

/** The files of `root` in `savedContent` that are no file on disk now. */
async function savedButGone(ctx: CaptureContext, root: WorkspaceRoot, saved: ReadonlyMap<string, SavedContent> | undefined): Promise<string[]> {
  if (!saved) return [];
  const gone: string[] = [];
  for (const rel of relativePaths(root, [...saved.keys()])) {
    if (rel === '') continue;
    const stat = await ctx.lstatOnce(path.join(root.path, ...rel.split('/'))).catch(() => null);
    if (!stat?.isFile()) gone.push(rel);
  }
  return gone;
}

/** Root-relative paths (with `/`) of the changed paths inside `root`; `''` for the root itself. */
function relativePaths(root: WorkspaceRoot, changed: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of changed) {
    if (!path.isAbsolute(p)) continue;
    // the folder itself: '' (its listing)
    const rel = pathBelow(root.path, p) ?? (path.relative(root.path, p) === '' ? '' : undefined);
    if (rel !== undefined) out.add(rel);
  }
  return [...out];
}

// ---------------------------------------------------------------------------------------------

/**
 * Captures the workspace into the object batch and returns the root tree. With `previousRoot` and
 * `changedPaths` (hint mode) only the changed paths are looked at and the rest is taken from the
 * previous tree; the result is the same tree a full scan would give, provided every change is listed.
 * Throws a StateError (or the signal's reason when aborted); the caller then aborts the batch.
 */
export async function captureWorkspace(input: CaptureInput): Promise<CaptureResult> {
  validateRoots(input.roots);
  input.signal?.throwIfAborted();
  const hint = input.previousRoot != null && input.changedPaths !== undefined;
  try {
    try {
      return await capture(input, hint);
    } catch (error) {
      // A previous point whose trees cannot be read: a full scan does not need them.
      if (!hint || input.signal?.aborted || !(error instanceof StateError) || error.kind !== 'SnapshotLoadError') throw error;
      (input.logger ?? silentLogger).warn(`Capturing the whole workspace: the previous recovery point could not be read (${error.message}).`);
      return await capture(input, false);
    }
  } catch (error) {
    if (input.signal?.aborted) throw input.signal.reason ?? error;
    if (error instanceof StateError) throw error;
    throw StateError.snapshotCreation(`Could not capture the workspace: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}

async function capture(input: CaptureInput, hint: boolean): Promise<CaptureResult> {
  const ctx = new CaptureContext(input);
  try {
    return await captureWith(ctx, input, hint);
  } finally {
    // after a failure, let the tasks still running see it and stop before the caller aborts the batch
    await ctx.pool.idle();
  }
}

async function captureWith(ctx: CaptureContext, input: CaptureInput, hint: boolean): Promise<CaptureResult> {
  const previous = hint ? await input.objects.readTree(input.previousRoot!) : null;
  const previousEntries = new Map((previous?.e ?? []).map((e) => [e[0], e]));
  const likely = hint && input.likelyRoot !== undefined && input.objects.has(input.likelyRoot) ? await input.objects.readTree(input.likelyRoot).catch(() => undefined) : undefined;
  let fileCount = 0;
  const rootEntries: TreeEntry[] = [];
  const hinted = new Set<string>();
  let changes: TreeDiff | undefined = hint ? { added: [], modified: [], deleted: [] } : undefined;
  let rulesChanged = false;
  const outsideRules: Record<string, string> = {};
  const changedPaths = hint ? await withLinkedPaths(input.roots, input.changedPaths!, (file) => ctx.lstatOnce(file).catch(() => null)) : [];
  for (const root of input.roots) {
    const rules = await InclusionRules.create(root, input.rules, { neverCapture: input.neverCapture, roots: input.roots, gitignores: input.cache.gitignores, logger: ctx.logger });
    const scan = new RootScan(ctx, root, rules, root.realPath ?? (await realpath(root.path).catch(() => undefined)));
    const before = previousEntries.get(root.name);
    let result: Scanned;
    if (previous && before && before[1] === 'd') {
      const outsideBefore = input.previousOutsideRules?.get(root.name);
      const outsideChanged = outsideBefore !== undefined && (await rules.outsideRulesDigest()) !== outsideBefore;
      const hintRoot = new HintRoot(scan, before, likely?.e.find((e) => e[0] === root.name), outsideChanged);
      result = await hintRoot.run(relativePaths(root, changedPaths));
      rulesChanged ||= hintRoot.rulesChanged;
      hinted.add(root.name);
      fileCount += hintRoot.fileDelta;
      if (changes && hintRoot.changes) for (const kind of ['added', 'modified', 'deleted'] as const) changes[kind].push(...hintRoot.changes[kind]);
      else changes = undefined;
    } else {
      changes = undefined;
      result = await scanRoot(scan);
      fileCount += result.files;
      // saved files deleted on disk since (or their folder): a listing does not find them, the saved bytes are the point's
      const gone = await savedButGone(ctx, root, input.savedContent);
      if (gone.length > 0) {
        const saved = new HintRoot(scan, result.entry!);
        result = await saved.run(gone);
        fileCount += saved.fileDelta;
      }
    }
    rootEntries.push(result.entry!);
    const outside = await rules.outsideRulesDigest();
    if (outside !== undefined) outsideRules[root.name] = outside;
  }
  if (hinted.size > 0) {
    // the hinted roots' files in the previous point (their change is counted above)
    let previousCount = input.previousFileCount ?? (await countFiles(input.objects, input.previousRoot!));
    for (const [name, entry] of previousEntries) {
      if (!hinted.has(name)) previousCount -= entry[1] === 'd' ? await countFiles(input.objects, entry[2]) : 1;
    }
    fileCount += previousCount;
  }
  // a folder of the previous point that is no workspace folder now: its files are gone
  if (changes && previousEntries.size !== hinted.size) changes = undefined;
  if (!hint) {
    input.cache.retainRoots(input.roots.map((root) => root.name));
    input.cache.folderTrees.retainRoots(input.roots.map((root) => root.name));
  }
  const rootTree = makeTree(rootEntries);
  const rootHash = likely && likely.v === rootTree.v && sameEntries(likely.e, rootTree.e) ? input.likelyRoot! : await input.objects.putTree(rootTree);
  let totalSize = 0;
  for (const entry of rootEntries) totalSize += entry[3];
  input.onProgress?.(ctx.filesDone);
  return {
    root: rootHash,
    fileCount,
    totalSize,
    mode: hint ? 'hint' : 'full',
    filesHashed: ctx.filesHashed,
    skipped: [...ctx.skipped].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    ...(changes ? { changes: sortDiff(changes) } : {}),
    ...(rulesChanged ? { rulesChanged } : {}),
    ...(Object.keys(outsideRules).length > 0 ? { outsideRules } : {}),
  };
}
