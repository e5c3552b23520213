import * as fs from 'node:fs/promises';
import { diffTrees, findEntry, type FileChange, type FileInfo } from '../capture/treeWalk';
import { Semaphore, settleAll } from '../capture/concurrency';
import { errorCode, ioError, StateError } from '../errors';
import { hashObject } from '../objects/hash';
import type { ObjectReader } from '../objects/objectStore';
import type { ChangeIndex } from '../recovery/changeIndex';
import { isUntracked } from '../capture/untracked';
import { mapFolders, toPointFolderPath, toWorkspacePath, type FolderMapping } from '../recovery/folderMapping';
import { absolutePath } from '../recovery/workspacePaths';
import type { RecoveryStore } from '../recoveryStore';
import type { PointSummary, WorkspaceRoot } from '../schemas';
import { TimeSlices } from '../timeSlices';
import { contentChange, isBinary, lineSimilarity, type LineCounts } from './lineChanges';

/** What a file's history is read from: the stored objects, the points (newest first) and the workspace's folders. */
export interface HistorySource {
  readonly objects: ObjectReader;
  readonly points: readonly PointSummary[];
  readonly roots: readonly WorkspaceRoot[];
  /** The store's change index: each point's changes against the one before it, so a listing reads no tree for most points. */
  readonly changes?: ChangeIndex;
}

/** The version of a file one entry of its history stands for, as the entry before it had it. */
export interface VersionRef {
  /** A point holding that version (the newest of its run). */
  readonly pointId: string;
  /** The point where that version first appeared. */
  readonly appearedIn: string;
  /** In the workspace's folder names. */
  readonly path: string;
  /** In the point's own folder names (what `lookupEntry` on that point's root takes). */
  readonly pointPath: string;
  readonly hash: string;
}

/**
 * One entry of a file's history: a version (new content, or the same content under a new name) at the
 * point where it first appeared, or the file's deletion at the point that no longer held it.
 */
export interface FileVersion {
  readonly kind: 'version' | 'deleted';
  /** The point where this version first appeared (where the file was deleted). */
  readonly point: PointSummary;
  /** The newest point of the run of points holding this version (without the file, for a deletion). */
  readonly lastPointId: string;
  /** Points in that run. */
  readonly pointCount: number;
  /** The newest labelled point of that run, if any (a label names a version people look for). */
  readonly labelledPoint?: PointSummary;
  /** The file's path in the workspace's folder names (the deleted path for a deletion). */
  readonly path: string;
  /** The path in the point's own folder names. */
  readonly pointPath: string;
  /** The content's hash; `null` for a deletion. */
  readonly hash: string | null;
  readonly size: number;
  readonly binary: boolean;
  /** Lines added and removed against the entry before it (nothing before: every line added); `null` for binary content. */
  readonly lines: LineCounts | null;
  /** The path before a rename the point's tree shows (a delete and an add of the same content). */
  readonly renamedFrom?: string;
  /** The version before it (`null`: the file did not exist before, or was deleted). For a deletion, the version deleted. */
  readonly previous: VersionRef | null;
  /** For a deletion: the file went on under this path (the point added its content there: a rename or a move), in workspace names. */
  readonly renamedTo?: string;
  /** For a deletion: the file was still on disk, and the point stopped tracking it (ignored, excluded, too large since). */
  readonly noLongerTracked?: boolean;
  /** The file became a link or a file (no line counts then), or only its executable bit changed (`chmod +x`, the content the version before's). */
  readonly modeChange?: 'now executable' | 'no longer executable' | 'now a link' | 'now a file';
  /** The id of an older entry's point with the same content (the file went back to it: an undo, a restore). */
  readonly sameAsPointId?: string;
  /** The file on disk holds this content now (for a deletion: the file does not exist now). Only the newest such entry. */
  readonly current: boolean;
  /**
   * Clean-up removed points where this entry's change may have happened: `before`, the points before
   * its point (the oldest kept, not the first made: the version may be older than it, and its lines
   * are counted against nothing); `between`, points between the entry before and its point (the
   * change happened in one of them or in its point, which its name need not be about).
   */
  readonly earlierRemoved?: 'before' | 'between';
}

export interface FileHistory {
  /** The workspace path asked for. */
  readonly path: string;
  /** Newest first. */
  readonly versions: FileVersion[];
  /** The hash of the file on disk now; `null` when it does not exist, `undefined` when not looked at. */
  readonly currentHash: string | null | undefined;
}

export interface FileHistoryOptions {
  /** The hash of the file on disk now (`null`: it does not exist); marks the version equal to it. */
  readonly currentHash?: string | null;
  /** Count lines added and removed (reads every version's content); on by default. */
  readonly lineCounts?: boolean;
}

/** Contents read at once while counting lines. */
const READ_CONCURRENCY = 8;

interface PointState {
  readonly path: string;
  readonly pointPath: string;
  readonly entry: FileInfo;
}

/** A point's state under a workspace path, and that path in the point's folder names (`undefined`: no folder of the point stands for it). */
interface KnownState {
  readonly pointPath: string | undefined;
  readonly state: PointState | null;
}

/**
 * The distinct versions of one file across the points, newest first: each once, at the point it
 * first appeared, with its line changes against the version before; renames followed where a point's
 * tree shows the file's content deleted under one path and added under another. Only the trees on the
 * file's path are read, and a folder whose tree hash equals one already looked at is not read again.
 */
export async function fileHistory(source: HistorySource, workspacePath: string, options: FileHistoryOptions = {}): Promise<FileHistory> {
  const walker = new PathWalker(source.objects, source.roots, source.changes);
  // one budget of thread time for the whole listing: each step gives the event loop its turns from it
  const slices = new TimeSlices();
  const states = await walker.statesNewestFirst(source.points, workspacePath, slices);
  await slices.pause();
  const versions = collapse(source.points, states);
  await slices.pause();
  for (const v of versions) {
    if (v.kind !== 'deleted' || v.noLongerTracked || !v.previous) continue;
    const older = source.points.find((p) => p.id === v.previous!.pointId);
    const to = older && (await walker.renameTarget(older, v.point, v.previous.pointPath, v.previous.hash));
    if (to) (v as { renamedTo?: string }).renamedTo = to;
  }
  if (options.lineCounts !== false) await countVersionLines(source.objects, versions, source.changes, slices);
  // a link's target against a file's lines counts nothing a person edited
  for (const v of versions) if (v.modeChange === 'now a link' || v.modeChange === 'now a file') (v as { lines: LineCounts | null }).lines = null;
  markCurrent(versions, options.currentHash);
  return { path: workspacePath, versions, currentHash: options.currentHash };
}

/**
 * A file's history from an open store: its points now, named as `list` and the editor show them (a
 * first point below a history brought in is named by what changed since it), and the file on disk for
 * the "current" mark.
 */
export async function readFileHistory(store: RecoveryStore, workspacePath: string, options: Omit<FileHistoryOptions, 'currentHash'> = {}): Promise<FileHistory> {
  const roots = store.persistence.workspaceRoots;
  const [points, objects, changes, currentHash] = await Promise.all([
    store.persistence.listSnapshots().then((listed) => store.recovery.listShownPoints(listed)),
    store.persistence.objects(),
    store.persistence.changeIndex(),
    currentFileHash(roots, workspacePath),
  ]);
  try {
    return await fileHistory({ objects, points, roots, changes }, workspacePath, { ...options, currentHash });
  } finally {
    store.recovery.saveChangeIndexSoon();
  }
}

/** The content hash of a workspace file on disk now, as a point stores it (a link: its target's path); `null` when it does not exist (or is a folder). */
export async function currentFileHash(roots: readonly WorkspaceRoot[], workspacePath: string): Promise<string | null> {
  const file = absolutePath(roots, workspacePath);
  if (file === undefined) return null;
  try {
    if ((await fs.lstat(file)).isSymbolicLink()) return hashObject('blob', await fs.readlink(file, { encoding: 'buffer' }));
    return hashObject('blob', await fs.readFile(file));
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'EISDIR' || errorCode(error) === 'ENOTDIR') return null;
    throw ioError(`read ${file}`, error);
  }
}

/** Folder trees read at once. */
const TREE_READ_CONCURRENCY = 16;
/** A file renamed and edited in one point is followed when this share of its lines is the same. */
const SIMILAR_THRESHOLD = 0.5;
/** Deleted files read to find where a renamed and edited file came from, at most. */
const SIMILAR_CANDIDATES = 16;
/** Files past this size are followed only when renamed unchanged. */
const SIMILAR_MAX_BYTES = 1024 * 1024;

/** 2: the same file name; 1: the same extension; 0: neither. */
function nameNearness(path: string, other: string): number {
  const name = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const extension = (n: string) => (n.lastIndexOf('.') > 0 ? n.slice(n.lastIndexOf('.')) : '');
  if (name(path) === name(other)) return 2;
  return extension(name(path)) !== '' && extension(name(path)) === extension(name(other)) ? 1 : 0;
}
/** Walk results remembered per object store before the memory is dropped and built again. */
const WALK_CACHE_LIMIT = 200_000;

/**
 * What a (tree hash, path below it) led to, per object store. Trees are content-addressed and never
 * change, so this stays true for as long as the store is open: a listing made again after a new point
 * reads only that point's trees.
 */
interface WalkCache {
  readonly found: Map<string, Promise<FileInfo | null>>;
  readonly mappings: Map<string, Promise<FolderMapping | null>>;
  /**
   * What a whole lookup gave, by point root, point folders, workspace folders and path: a listing made
   * again finds each point's state with one lookup, without a promise per tree on the path.
   */
  readonly states: Map<string, PointState | null>;
  /** Rename sources found between two point roots for a path and content (`null`: none). */
  readonly renames: Map<string, PointState | null>;
  /**
   * Each point's state by workspace folders and path, found through the change index: a listing made
   * again looks each point up in a small map, and builds no key per point.
   */
  readonly pointStates: WeakMap<PointSummary, Map<string, KnownState>>;
  /** Mappings by a point root's folder names and the point's folders (most points share one). */
  readonly folderMappings: Map<string, FolderMapping | null>;
  /** Entries in `pointStates`. */
  pointStateCount: number;
}
const walkCaches = new WeakMap<ObjectReader, WalkCache>();
const pointRootsKeys = new WeakMap<PointSummary, string>();

/** Finds a file's entry in each point by walking only the trees on its path, remembering what each tree hash led to. */
class PathWalker {
  private readonly cache: WalkCache;
  private readonly limit = new Semaphore(TREE_READ_CONCURRENCY);
  private readonly rootsKey: string;

  constructor(
    private readonly objects: ObjectReader,
    private readonly roots: readonly WorkspaceRoot[],
    private readonly changes: ChangeIndex | undefined,
  ) {
    let cache = walkCaches.get(objects);
    if (!cache || cache.found.size + cache.states.size + cache.pointStateCount > WALK_CACHE_LIMIT) {
      cache = { found: new Map(), mappings: new Map(), states: new Map(), renames: new Map(), pointStates: new WeakMap(), folderMappings: new Map(), pointStateCount: 0 };
      walkCaches.set(objects, cache);
    }
    this.cache = cache;
    this.rootsKey = JSON.stringify(roots.map((r) => [r.name, r.path]));
  }

  /**
   * The file in each point (newest first). All points are looked up at once under the asked path;
   * where a point lacks the file its newer neighbour holds, a rename is looked for, and the older
   * points are looked up again under the old path.
   */
  async statesNewestFirst(points: readonly PointSummary[], workspacePath: string, slices: TimeSlices): Promise<Array<PointState | null>> {
    const states = new Array<PointState | null>(points.length).fill(null);
    let from = 0;
    let wsPath = workspacePath;
    while (from < points.length) {
      const path = wsPath;
      await this.lookUp(points, from, path, states, slices);
      let renamedAt = -1;
      for (let i = from; i < points.length; i++) {
        const newer = i > 0 ? states[i - 1] : null;
        if (states[i] || !newer) continue;
        const renamed = await this.renamedState(points[i]!, points[i - 1]!, newer);
        if (renamed) {
          states[i] = renamed;
          wsPath = renamed.path;
          renamedAt = i;
          break;
        }
      }
      if (renamedAt < 0) break;
      from = renamedAt + 1;
    }
    return states;
  }

  /**
   * Fills `states[from…]` with each point's state under `wsPath`. With a change index, from the oldest
   * point up: a point holds what the one before it held, unless their changes name the path (looked up
   * in the trees only where the path in the point's folder names is not the same as before). What each
   * point held is remembered by point, so a listing made again costs a map look-up per point; the work
   * gives the event loop a turn every few milliseconds.
   */
  private async lookUp(points: readonly PointSummary[], from: number, wsPath: string, states: Array<PointState | null>, slices: TimeSlices): Promise<void> {
    const changes = this.changes;
    if (!changes) return this.lookUpInTrees(points, from, wsPath, states);
    const query = `${this.rootsKey}\0${wsPath}`;
    // the path in the folder names of the last mapping met (most points share one mapping)
    let lastMapping: FolderMapping | null | undefined;
    let lastPointPath: string | undefined;
    let olderPath: string | undefined;
    for (let i = points.length - 1; i >= from; i--) {
      if ((i & 7) === 0) await slices.pause();
      const point = points[i]!;
      let known = this.cache.pointStates.get(point)?.get(query);
      if (!known) {
        const mapping = changes.heldFolders(point.root) ? this.heldMapping(point) : ((await this.mapping(point)) ?? null);
        if (mapping !== lastMapping) {
          lastMapping = mapping;
          lastPointPath = mapping ? toPointFolderPath(mapping, wsPath) : undefined;
        }
        const pointPath = lastPointPath;
        let state: PointState | null;
        if (pointPath === undefined) state = null;
        else if (pointPath === olderPath) {
          const older = points[i + 1]!.root;
          const held = changes.heldChangeAt(older, point.root, pointPath);
          const change = held !== undefined ? held : ((await changes.changeAt(this.objects, older, point.root, pointPath)) ?? null);
          state = change ? (change.after ? { path: wsPath, pointPath, entry: change.after } : null) : states[i + 1]!;
        } else state = await this.cachedStateAt(point, wsPath);
        known = { pointPath, state };
        this.rememberState(point, query, known);
      }
      states[i] = known.state;
      olderPath = known.pointPath;
    }
  }

  private rememberState(point: PointSummary, query: string, known: KnownState): void {
    let byQuery = this.cache.pointStates.get(point);
    if (!byQuery) this.cache.pointStates.set(point, (byQuery = new Map()));
    byQuery.set(query, known);
    this.cache.pointStateCount++;
  }

  /** The point's folder mapping when the change index holds its root's folder names (`null`: no folder maps). */
  private heldMapping(point: PointSummary): FolderMapping | null {
    const folders = pointFolders(this.changes!.heldFolders(point.root)!, point);
    let key = this.rootsKey;
    for (const folder of folders) key += `\0${folder.name}\0${folder.path ?? ''}\0${folder.id ?? ''}`;
    let mapping = this.cache.folderMappings.get(key);
    if (mapping === undefined) {
      mapping = mapOrNull(folders, this.roots);
      this.cache.folderMappings.set(key, mapping);
    }
    return mapping;
  }

  /** The point's state under `wsPath`, from the trees (remembered). */
  private async cachedStateAt(point: PointSummary, wsPath: string): Promise<PointState | null> {
    const key = `${point.root}\0${this.pointRootsKey(point)}\0${this.rootsKey}\0${wsPath}`;
    const known = this.cache.states.get(key);
    if (known !== undefined) return known;
    const state = await this.stateAt(point, wsPath);
    this.cache.states.set(key, state);
    return state;
  }

  /** Fills `states[from…]` from the trees: remembered ones at once, the others read. */
  private async lookUpInTrees(points: readonly PointSummary[], from: number, wsPath: string, states: Array<PointState | null>): Promise<void> {
    const pending: Array<Promise<void>> = [];
    for (let i = from; i < points.length; i++) {
      const point = points[i]!;
      const key = `${point.root}\0${this.pointRootsKey(point)}\0${this.rootsKey}\0${wsPath}`;
      const known = this.cache.states.get(key);
      if (known !== undefined) {
        states[i] = known;
        continue;
      }
      pending.push(
        this.stateAt(point, wsPath).then((state) => {
          states[i] = state;
          this.cache.states.set(key, state);
        }),
      );
    }
    await settleAll(pending);
  }

  /** The state of `older` when `newer`'s file was renamed from another path between them; `null` when it was not. */
  private async renamedState(older: PointSummary, newer: PointSummary, state: PointState): Promise<PointState | null> {
    const key = `${older.root}\0${this.pointRootsKey(older)}\0${newer.root}\0${this.rootsKey}\0${state.path}\0${state.pointPath}\0${state.entry.kind}\0${state.entry.hash}`;
    const known = this.cache.renames.get(key);
    if (known !== undefined) return known;
    const mapping = await this.mapping(older);
    const source = mapping && (await this.renameSource(older, newer, state));
    const renamedPath = mapping && source ? toWorkspacePath(mapping, source.path) : undefined;
    const renamed = source && renamedPath !== undefined ? { path: renamedPath, pointPath: source.path, entry: source.before! } : null;
    this.cache.renames.set(key, renamed);
    return renamed;
  }

  /** The point's folders as a key (made once per point summary). */
  private pointRootsKey(point: PointSummary): string {
    let key = pointRootsKeys.get(point);
    if (key === undefined) {
      key = JSON.stringify(point.roots.map((r) => [r.name, r.path]));
      pointRootsKeys.set(point, key);
    }
    return key;
  }

  private async stateAt(point: PointSummary, wsPath: string): Promise<PointState | null> {
    const mapping = await this.mapping(point);
    const pointPath = mapping ? toPointFolderPath(mapping, wsPath) : undefined;
    if (pointPath === undefined) return null;
    const parts = pointPath.split('/');
    const suffixes = parts.map((_, i) => parts.slice(i).join('/'));
    const entry = await this.entryAt(point.root, parts, suffixes, 0);
    return entry ? { path: wsPath, pointPath, entry } : null;
  }

  /**
   * Where `newer`'s file came from when `older` lacks its path: a file `older` holds that `newer`
   * deleted (not one it only stopped tracking, still on disk), with the same content (the nearest name
   * first when several match); failing that, a text file it deleted that shares at least half its
   * lines (renamed and edited in one point) and that no other file it added is more like.
   */
  private async renameSource(older: PointSummary, newer: PointSummary, state: PointState): Promise<FileChange | undefined> {
    const diff = this.changes ? await this.changes.changes(this.objects, older.root, newer.root) : await diffTrees(this.objects, older.root, newer.root);
    if (!diff.added.some((c) => c.path === state.pointPath)) return undefined;
    const deleted = diff.deleted.filter((c) => !isUntracked(newer, c.path));
    const candidates = deleted.filter((c) => c.before?.hash === state.entry.hash && c.before.kind === state.entry.kind);
    const base = state.pointPath.slice(state.pointPath.lastIndexOf('/') + 1);
    const same = candidates.find((c) => c.path.endsWith(`/${base}`)) ?? candidates[0];
    if (same || state.entry.kind !== 'f') return same;
    const similar = await this.mostAlike(state.entry, state.pointPath, deleted, (c) => c.before!);
    if (!similar) return undefined;
    // a source goes to the added file most like it (git pairs each with one): not to a copy of it, nor to a lesser match
    const others = diff.added.filter((c) => c.path !== state.pointPath);
    if (others.some((c) => c.after?.hash === similar.change.before!.hash)) return undefined;
    const rival = await this.mostAlike(similar.change.before!, similar.change.path, others, (c) => c.after!);
    return rival && rival.score > similar.score ? undefined : similar.change;
  }

  /** Where a file deleted at `newer` went on: a file of the same content `newer` added (the same name first), in workspace names. */
  async renameTarget(older: PointSummary, newer: PointSummary, pointPath: string, hash: string): Promise<string | undefined> {
    const diff = this.changes ? await this.changes.changes(this.objects, older.root, newer.root) : await diffTrees(this.objects, older.root, newer.root);
    const candidates = diff.added.filter((c) => c.after?.hash === hash);
    if (candidates.length === 0) return undefined;
    const base = pointPath.slice(pointPath.lastIndexOf('/') + 1);
    const to = (candidates.find((c) => c.path.endsWith(`/${base}`)) ?? candidates[0]!).path;
    const mapping = await this.mapping(newer);
    return mapping ? toWorkspacePath(mapping, to) : undefined;
  }

  /**
   * Of `changes`, the text file (`side` of it) most like the file `entry` at `at`, when at least half of
   * their lines are the same (git's rename detection's threshold); only files of a like size are read,
   * the nearest names first, at most a few.
   */
  private async mostAlike(entry: FileInfo, at: string, changes: readonly FileChange[], side: (c: FileChange) => FileInfo): Promise<{ change: FileChange; score: number } | undefined> {
    const size = entry.size;
    if (size === 0 || size > SIMILAR_MAX_BYTES) return undefined;
    const likeSized = changes.filter((c) => {
      const file = side(c) as FileInfo | undefined;
      return file?.kind === 'f' && file.size * 2 >= size && file.size <= size * 2;
    });
    if (likeSized.length === 0) return undefined;
    const text = await this.textOf(entry.hash);
    if (text === undefined) return undefined;
    const nearness = (c: FileChange) => nameNearness(c.path, at) * 1e12 - Math.abs(side(c).size - size);
    let best: { change: FileChange; score: number } | undefined;
    for (const c of likeSized.sort((a, b) => nearness(b) - nearness(a)).slice(0, SIMILAR_CANDIDATES)) {
      const other = await this.textOf(side(c).hash);
      const score = other === undefined ? 0 : lineSimilarity(other, text);
      if (score >= SIMILAR_THRESHOLD && (!best || score > best.score)) best = { change: c, score };
    }
    return best;
  }

  /** A blob's text; `undefined` for a binary file. */
  private async textOf(hash: string): Promise<string | undefined> {
    const bytes = await this.limit.run(() => this.objects.readBlob(hash));
    return isBinary(bytes) ? undefined : bytes.toString('utf8');
  }

  /** How the point's folders meet the workspace's; `undefined` when none does. */
  private async mapping(point: PointSummary): Promise<FolderMapping | undefined> {
    const key = `${point.root}\0${this.pointRootsKey(point)}\0${this.rootsKey}`;
    let mapping = this.cache.mappings.get(key);
    if (!mapping) {
      mapping = (async () => {
        const names = this.changes
          ? await this.changes.folders(this.objects, point.root)
          : (await this.limit.run(() => this.objects.readTree(point.root))).e.filter((e) => e[1] === 'd').map((e) => e[0]);
        return mapOrNull(pointFolders(names, point), this.roots);
      })();
      this.remember(this.cache.mappings, key, mapping);
    }
    return (await mapping) ?? undefined;
  }

  /** The file (or link) at `parts[i…]` below the tree `treeHash`; folders and missing paths give `null`. */
  private entryAt(treeHash: string, parts: readonly string[], suffixes: readonly string[], i: number): Promise<FileInfo | null> {
    const key = `${treeHash}\0${suffixes[i]}`;
    let found = this.cache.found.get(key);
    if (!found) {
      found = (async () => {
        const entry = findEntry((await this.limit.run(() => this.objects.readTree(treeHash))).e, parts[i]!);
        if (!entry) return null;
        if (i === parts.length - 1) return entry[1] === 'd' ? null : { kind: entry[1], hash: entry[2], size: entry[3], mode: entry[4] };
        return entry[1] === 'd' ? this.entryAt(entry[2], parts, suffixes, i + 1) : null;
      })();
      this.remember(this.cache.found, key, found);
    }
    return found;
  }

  /** Keeps a result, unless it fails (a damaged store may be repaired while it stays open). */
  private remember<T>(map: Map<string, Promise<T>>, key: string, value: Promise<T>): void {
    map.set(key, value);
    value.catch(() => map.delete(key));
  }
}

/** A point's folders: its root's folder names, with their paths on disk when the point recorded them. */
function pointFolders(names: readonly string[], point: PointSummary): Array<{ name: string; path: string | undefined; id: string | undefined }> {
  return names.map((name) => {
    const root = point.roots.find((r) => r.name === name);
    return { name, path: root?.path, id: root?.id };
  });
}

/** How a point's folders meet the workspace's; `null` when none does. */
function mapOrNull(folders: ReadonlyArray<{ name: string; path: string | undefined; id: string | undefined }>, roots: readonly WorkspaceRoot[]): FolderMapping | null {
  try {
    return mapFolders(folders, roots);
  } catch (error) {
    if (error instanceof StateError) return null;
    throw error;
  }
}

/** What tells two versions apart: the content, the kind (a link's target is its content) and the executable bit. */
function identity(entry: FileInfo): string {
  return `${entry.hash}${entry.kind}${entry.kind === 'f' && entry.mode & 0o111 ? 'x' : ''}`;
}

function modeChange(before: FileInfo, after: FileInfo): NonNullable<FileVersion['modeChange']> {
  if (before.kind !== after.kind) return after.kind === 'l' ? 'now a link' : 'now a file';
  return after.mode & 0o111 ? 'now executable' : 'no longer executable';
}

/** Runs of points with the same state become one entry each, newest first. */
function collapse(points: readonly PointSummary[], states: ReadonlyArray<PointState | null>): FileVersion[] {
  const oldestFirst: Array<{ -readonly [K in keyof FileVersion]: FileVersion[K] }> = [];
  let before: PointState | null = null;
  const seen = new Map<string, string>();
  for (let i = points.length - 1; i >= 0; i--) {
    const state = states[i]!;
    const point = points[i]!;
    const last = oldestFirst[oldestFirst.length - 1];
    const older = points[i + 1];
    const removed = point.parentId === null || point.parentId === older?.id ? {} : { earlierRemoved: older ? ('between' as const) : ('before' as const) };
    if (state && before && identity(state.entry) === identity(before.entry) && state.path === before.path) {
      last!.lastPointId = point.id;
      last!.pointCount++;
      if (point.label !== null) last!.labelledPoint = point;
    } else if (state) {
      const previous = before ? { pointId: last!.lastPointId, appearedIn: last!.point.id, path: before.path, pointPath: before.pointPath, hash: before.entry.hash } : null;
      oldestFirst.push({
        kind: 'version',
        point,
        lastPointId: point.id,
        pointCount: 1,
        ...(point.label !== null ? { labelledPoint: point } : {}),
        path: state.path,
        pointPath: state.pointPath,
        hash: state.entry.hash,
        size: state.entry.size,
        binary: false,
        lines: null,
        ...(before && before.path !== state.path ? { renamedFrom: before.path } : {}),
        ...(before && identity(before.entry) !== identity(state.entry) && (before.entry.hash === state.entry.hash || before.entry.kind !== state.entry.kind)
          ? { modeChange: modeChange(before.entry, state.entry) }
          : {}),
        previous,
        // went back to an older version: not the version just before under another name (a rename, a move)
        ...(seen.has(identity(state.entry)) && !(before && identity(before.entry) === identity(state.entry)) ? { sameAsPointId: seen.get(identity(state.entry))! } : {}),
        current: false,
        ...removed,
      });
      if (!seen.has(identity(state.entry))) seen.set(identity(state.entry), point.id);
    } else if (before) {
      oldestFirst.push({
        kind: 'deleted',
        point,
        lastPointId: point.id,
        pointCount: 1,
        path: before.path,
        pointPath: before.pointPath,
        hash: null,
        size: 0,
        binary: false,
        lines: null,
        previous: { pointId: last!.lastPointId, appearedIn: last!.point.id, path: before.path, pointPath: before.pointPath, hash: before.entry.hash },
        ...(isUntracked(point, before.pointPath) ? { noLongerTracked: true } : {}),
        current: false,
        ...removed,
      });
    } else if (last?.kind === 'deleted') {
      last.lastPointId = point.id;
      last.pointCount++;
      if (point.label !== null) last.labelledPoint = point;
    }
    before = state;
  }
  return oldestFirst.reverse();
}

/**
 * Fills in each entry's binary flag and line counts against the version before it (remembered in the
 * change index when there is one). The counts are made one at a time, the event loop given a turn
 * every few milliseconds (200 versions never counted before held it for 180 ms in one go), while the
 * contents of the next few are read ahead.
 */
async function countVersionLines(objects: ObjectReader, versions: FileVersion[], index: ChangeIndex | undefined, slices: TimeSlices): Promise<void> {
  const limit = new Semaphore(READ_CONCURRENCY);
  // each content is the "after" of one entry and the "before" of the next: read once, dropped after its second use
  const reads = new Map<string, { bytes: Promise<Buffer>; uses: number }>();
  const started: Array<Promise<Buffer>> = [];
  const fetch = (hash: string) => {
    let known = reads.get(hash);
    if (!known) {
      reads.set(hash, (known = { bytes: limit.run(() => objects.readBlob(hash)), uses: 0 }));
      // a read ahead that the loop never reaches (it stopped at an error) is awaited, not left unhandled
      started.push(known.bytes);
      known.bytes.catch(() => undefined);
    }
    return known;
  };
  const read = (hash: string) => {
    const known = fetch(hash);
    if (++known.uses >= 2) reads.delete(hash);
    return known.bytes;
  };
  const todo: FileVersion[] = [];
  for (const version of versions) {
    const known = index?.lineChange(version.previous?.hash ?? null, version.hash);
    if (known) Object.assign(version, known);
    else todo.push(version);
  }
  let ahead = 0;
  try {
    for (let i = 0; i < todo.length; i++) {
      for (; ahead < Math.min(todo.length, i + READ_CONCURRENCY); ahead++) {
        const next = todo[ahead]!;
        if (next.previous) fetch(next.previous.hash);
        if (next.hash !== null) fetch(next.hash);
      }
      await slices.pause();
      const version = todo[i]!;
      const before = version.previous?.hash ?? null;
      const change = await contentChange(read, before, version.hash);
      index?.recordLineChange(before, version.hash, change);
      Object.assign(version, change);
    }
  } finally {
    await Promise.allSettled(started);
  }
}

function markCurrent(versions: FileVersion[], currentHash: string | null | undefined): void {
  if (currentHash === undefined) return;
  const newest = versions[0];
  if (currentHash === null) {
    if (newest?.kind === 'deleted') (newest as { current: boolean }).current = true;
    return;
  }
  const match = versions.find((v) => v.hash === currentHash);
  if (match) (match as { current: boolean }).current = true;
}
