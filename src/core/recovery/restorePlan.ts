import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { BUILTIN_EXCLUDES, diffTrees, lookupEntry, type EntryInfo, type FileChange } from '../capture';
import { isLeftOut } from '../capture/untracked';
import { describeCause, errorCode, ioError, StateError, unreadableReason } from '../errors';
import { readSmallFileSync, readWholeFile, SYNC_READ_BYTES } from '../capture/fsCalls';
import { hashObject } from '../objects/hash';
import type { ObjectReader } from '../objects/objectStore';
import type { CaptureRules, Exclusion } from '../capture/inclusionRules';
import { InclusionRules } from '../capture/inclusionRules';
import type { Logger } from '../logger';
import type { PointSummary, WorkspaceRoot } from '../schemas';
import { ChangedMeanwhile, ConfinedRoot, Unreachable } from './confinedFolders';
import type { MappedPoint } from './folderMapping';
import { absolutePath, isUnder, resolveInsideWorkspace, rootNamed, splitPointPath, type WorkspaceTarget } from './workspacePaths';
import { nowMs } from '../clock';
import { pointTime } from '../ids';

const NEVER_RESTORED: ReadonlySet<string> = new Set(BUILTIN_EXCLUDES);

export interface RestorePlan {
  /** Files the point has and the workspace lacks. */
  readonly add: readonly FileChange[];
  /** Files whose content, kind or mode differ. */
  readonly modify: readonly FileChange[];
  /** Tracked files the point does not have. */
  readonly remove: readonly FileChange[];
}

export interface RestoreOutcome {
  readonly written: string[];
  readonly removed: string[];
  readonly skipped: Array<{ path: string; reason: string }>;
}

/**
 * What restoring `targetRoot` over the workspace whose current tracked files are `currentRoot` does,
 * limited to `paths` (files or folders, point paths) when given. Only tracked files appear in
 * `currentRoot`, so files that are ignored, excluded or untracked are never planned for deletion.
 */
export async function planRestore(objects: ObjectReader, currentRoot: string, targetRoot: string, paths?: readonly string[]): Promise<RestorePlan> {
  const diff = await diffTrees(objects, currentRoot, targetRoot);
  const wanted = (change: FileChange) => !paths || paths.some((filter) => isUnder(change.path, filter));
  return { add: diff.added.filter(wanted), modify: diff.modified.filter(wanted), remove: diff.deleted.filter(wanted) };
}

/**
 * Of `paths`, which differ between a restore's safety point and the point of its result, those the
 * restore made: where the result holds what the restored point (`target`, in the workspace's folder
 * names) holds, the same entry or no file in either. Where they differ the path changed some other way:
 * a file that a `.gitignore` the restore removed no longer ignores, an edit made while it ran.
 */
export async function madeByRestore(target: MappedPoint, objects: ObjectReader, resultRoot: string, paths: readonly string[]): Promise<string[]> {
  const made: string[] = [];
  for (const p of paths) {
    const [wanted, left] = await Promise.all([lookupEntry(target.objects, target.root, p), lookupEntry(objects, resultRoot, p)]);
    if (sameEntry(wanted, left)) made.push(p);
  }
  return made;
}

function sameEntry(a: EntryInfo | undefined, b: EntryInfo | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  // a folder where a link or a file was (the restore replaced it): made by the restore whatever it holds,
  // as only some of the point's files in it may have been restored; those are paths of their own
  if (a.kind === 'd' && b.kind === 'd') return true;
  return a.kind === b.kind && a.hash === b.hash && a.mode === b.mode;
}

/** Why `applyRestore` leaves a file the plan writes: something not tracked is at its path (`stat`: its `lstat`); `undefined` when nothing is. */
function whatIsInTheWay(change: FileChange, stat: Stats | null | undefined, plan: RestorePlan): string | undefined {
  if (stat?.isDirectory()) return 'a folder with untracked files is in the way';
  if (stat && !stat.isFile() && !stat.isSymbolicLink()) return 'a pipe, socket or device that is not tracked is in the way';
  if (stat && !change.before) return rulesChangedAbove(plan, change.path) ? `${UNTRACKED_IN_THE_WAY}${ANOTHER_RESTORE}` : UNTRACKED_IN_THE_WAY;
  return undefined;
}

const UNTRACKED_IN_THE_WAY = 'a file that is not tracked (ignored, excluded or over the size limit) is in the way';
const ANOTHER_RESTORE =
  "; this restore also sets the .gitignore above it as the point had it: if that tracks this file, restoring again replaces it (its content now kept first in that restore's safety point)";

/** Whether the plan writes or deletes a `.gitignore` in a folder above `pointPath` (or beside it). */
function rulesChangedAbove(plan: RestorePlan, pointPath: string): boolean {
  return [...plan.add, ...plan.modify, ...plan.remove].some((c) => {
    if (!c.path.endsWith('/.gitignore')) return false;
    const folder = c.path.slice(0, -'.gitignore'.length);
    return pointPath.startsWith(folder);
  });
}

/**
 * Of a plan's deletions, the files that the ignore rules as the restore leaves them would leave out:
 * where the plan writes or deletes a `.gitignore` (a point from before a `.gitignore` line, or from
 * before a restore that removed the `.gitignore`), a tracked file the point lacks may be one those
 * rules ignore (build output, a local config): the restore leaves it, as it leaves every ignored file,
 * rather than delete what the person kept out of points. Each with why. Only `.gitignore` files change
 * with a restore; the other rules are the workspace's (`rules`).
 */
export async function ignoredAfterRestore(
  objects: ObjectReader,
  roots: readonly WorkspaceRoot[],
  plan: RestorePlan,
  rules: CaptureRules,
  options: { readonly neverCapture?: readonly string[]; readonly logger?: Logger } = {},
): Promise<Array<{ path: string; reason: string }>> {
  if (plan.remove.length === 0 || !rules.respectGitignore) return [];
  if (!plan.add.concat(plan.modify, plan.remove).some((c) => c.path.endsWith('/.gitignore'))) return [];
  return (await gitignoredAfterRestore(objects, roots, plan, plan.remove, rules, options)).map((path) => ({ path, reason: IGNORED_AFTER_RESTORE }));
}

/** Of `removals`, the paths the `.gitignore` files as the restore leaves them (the point's) ignore. */
async function gitignoredAfterRestore(
  objects: ObjectReader,
  roots: readonly WorkspaceRoot[],
  plan: RestorePlan,
  candidates: readonly FileChange[],
  rules: CaptureRules,
  options: { readonly neverCapture?: readonly string[]; readonly logger?: Logger },
): Promise<string[]> {
  const exclusions = await exclusionsAfterRestore(objects, roots, plan, candidates, rules, options);
  return [...exclusions].filter(([, exclusion]) => exclusion.rule === 'gitignore').map(([path]) => path);
}

/** Of `candidates`, those the capture rules leave out once the restore has set the `.gitignore` files as the point has them, with the rule. */
async function exclusionsAfterRestore(
  objects: ObjectReader,
  roots: readonly WorkspaceRoot[],
  plan: RestorePlan,
  candidates: readonly FileChange[],
  rules: CaptureRules,
  options: { readonly neverCapture?: readonly string[]; readonly logger?: Logger },
): Promise<Map<string, Exclusion>> {
  const gitignores = new Map<string, FileChange>();
  for (const change of [...plan.add, ...plan.modify, ...plan.remove]) if (change.path.endsWith('/.gitignore')) gitignores.set(change.path, change);
  const excluded = new Map<string, Exclusion>();
  for (const root of roots) {
    const inRoot = candidates.filter((c) => c.path.startsWith(`${root.name}/`) && !gitignores.has(c.path));
    if (inRoot.length === 0) continue;
    const textAfter = (dirRel: string): Promise<string | null> | undefined => {
      const change = gitignores.get(`${root.name}/${dirRel === '' ? '' : `${dirRel}/`}.gitignore`);
      if (!change) return undefined;
      const after = change.after;
      return after && after.kind === 'f' ? objects.readBlob(after.hash).then((bytes) => bytes.toString('utf8')) : Promise.resolve(null);
    };
    const after = await InclusionRules.create(root, rules, { neverCapture: options.neverCapture, roots, logger: options.logger, gitignoreText: textAfter });
    for (const change of inRoot) {
      const exclusion = await after.exclusion(change.path.slice(root.name.length + 1), false);
      if (exclusion) excluded.set(change.path, exclusion);
    }
  }
  return excluded;
}

/**
 * The files the plan creates where nothing is now that the capture rules, as the restore leaves them,
 * leave out of points (an exclude, a `.gitignore` line or a smaller size limit since the point): no
 * point of the restore's result holds them, so its undo must be told to remove them.
 */
export async function untrackedAdditions(
  objects: ObjectReader,
  roots: readonly WorkspaceRoot[],
  plan: RestorePlan,
  rules: CaptureRules,
  options: { readonly neverCapture?: readonly string[]; readonly logger?: Logger } = {},
): Promise<FileChange[]> {
  const absent = plan.add.filter((change) => {
    const file = absolutePath(roots, change.path);
    return change.after?.kind === 'f' && file !== undefined && lstatOrNothing(file) === undefined;
  });
  if (absent.length === 0) return [];
  const tooLarge = absent.filter((change) => change.after!.size > rules.maxFileSize);
  const excluded = await exclusionsAfterRestore(objects, roots, plan, absent.filter((change) => change.after!.size <= rules.maxFileSize), rules, options);
  return [...tooLarge, ...absent.filter((change) => excluded.has(change.path))];
}

/**
 * The tracked files the plan deletes that were on disk when `point` was made, left out by its capture
 * (larger than the size limit then, unreadable): the point does not say they were not there, so the
 * restore leaves them as they are. `toPointPath`: a workspace path under the point's folder names.
 */
export function leftOutByPoint(point: Pick<PointSummary, 'leftOut'>, plan: RestorePlan, toPointPath: (workspacePath: string) => string | undefined): Array<{ path: string; reason: string }> {
  if (!point.leftOut) return [];
  return plan.remove
    .filter((change) => {
      const inPoint = toPointPath(change.path);
      return inPoint !== undefined && isLeftOut(point, inPoint);
    })
    .map((change) => ({ path: change.path, reason: LEFT_OUT_BY_POINT }));
}

/**
 * The files the plan deletes that were on disk when `point` was made and that the point did not hold:
 * the point does not say they were not there, so the restore leaves them as they are. Two kinds, told
 * by one `lstat` each:
 * - unchanged since (no write, rename or change of mode: the inode's change time is older): they were
 *   at that path, as they are (ignored or excluded by the rules of then, or left out);
 * - there then (the inode was made before), changed or not since, and ignored by the point's
 *   `.gitignore` files, whatever `respectGitignore` says now: a point of such a file, there and not
 *   ignored, would hold it.
 * A file renamed there or made since (and one changed since that no `.gitignore` of the point ignores)
 * is deleted as the point says; so is every file a point dated after now would delete.
 * `madeElsewhere`: whether a workspace path is in a folder the point was not made in (a point of
 * another folder's history, imported, mapped by name or as the only folder): the same files are left,
 * and the reason says that the point was made there, not that it left them out.
 */
export async function onDiskWhenPointWasMade(
  objects: ObjectReader,
  roots: readonly WorkspaceRoot[],
  plan: RestorePlan,
  rules: CaptureRules,
  point: Pick<PointSummary, 'id' | 'createdAt'>,
  options: { readonly neverCapture?: readonly string[]; readonly logger?: Logger; readonly madeElsewhere?: (workspacePath: string) => boolean } = {},
): Promise<Array<{ path: string; reason: string }>> {
  const elsewhere = (p: string) => options.madeElsewhere?.(p) === true;
  const before = pointTimeToCompare(point);
  if (before === undefined) return [];
  const left: Array<{ path: string; reason: string }> = [];
  const existed: FileChange[] = [];
  for (const change of plan.remove) {
    const file = absolutePath(roots, change.path);
    const stat = file === undefined ? undefined : lstatOrNothing(file);
    if (stat === undefined || stat.isDirectory()) continue;
    if (stat.ctimeMs < before) left.push({ path: change.path, reason: elsewhere(change.path) ? UNCHANGED_SINCE_POINT_ELSEWHERE : UNCHANGED_SINCE_POINT });
    else if (stat.birthtimeMs > 0 && stat.birthtimeMs < before) existed.push(change);
  }
  if (existed.length === 0) return left;
  const ignored = await gitignoredAfterRestore(objects, roots, plan, existed, { ...rules, respectGitignore: true }, options);
  return [...left, ...ignored.map((path) => ({ path, reason: elsewhere(path) ? IGNORED_BY_POINT_ELSEWHERE : IGNORED_WHEN_POINT_WAS_MADE }))];
}

/** A file's times come from a coarser clock than a point's creation time: changed this little before a point, it may have changed just after. */
const UNCHANGED_MARGIN_MS = 1000;

/**
 * The time files' times are compared with to tell whether they were there before `point`: when it
 * was made, less the margin. `undefined` for a point made after now (while the clock was ahead, or by
 * another machine's): file times tell nothing then.
 */
function pointTimeToCompare(point: Pick<PointSummary, 'id' | 'createdAt'>): number | undefined {
  const made = pointTime(point);
  return Number.isNaN(made) || made > Date.now() ? undefined : made - UNCHANGED_MARGIN_MS;
}

function lstatOrNothing(file: string): Stats | undefined {
  try {
    return lstatSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

const IGNORED_WHEN_POINT_WAS_MADE = 'it was on disk when the point was made, whose .gitignore ignores it: left as it is';

const UNCHANGED_SINCE_POINT = 'it has not changed since before the point was made, which did not hold it (ignored or excluded then): left as it is';

// a point of another folder (another project's history, imported): it says nothing of this folder's files then
const UNCHANGED_SINCE_POINT_ELSEWHERE = 'the point was made in another folder, which did not hold it, and it has not changed here since before then: left as it is';

const IGNORED_BY_POINT_ELSEWHERE = 'the point was made in another folder, whose .gitignore ignores it: left as it is';

/**
 * Of a plan's changes, those inside the store's own folder (a store kept in the workspace, and a point
 * made before it was one, or in another store): a restore never writes or deletes there, as a point
 * never captures it. `storeRoot`: the store folder's absolute path.
 */
export function insideStore(roots: readonly WorkspaceRoot[], plan: RestorePlan, storeRoot: string): Array<{ path: string; reason: string }> {
  const store = path.resolve(storeRoot);
  return [...plan.add, ...plan.modify, ...plan.remove]
    .filter((change) => {
      const file = absolutePath(roots, change.path);
      return file !== undefined && (file === store || file.startsWith(store + path.sep));
    })
    .map((change) => ({ path: change.path, reason: INSIDE_STORE }));
}

const INSIDE_STORE = "it is inside the recovery point store's own folder, which a restore never writes: left as it is";

const LEFT_OUT_BY_POINT = 'it was on disk when the point was made, which left it out (over the size limit, unreadable or not a regular file then): left as it is';

const IGNORED_AFTER_RESTORE = 'the .gitignore the restore puts back ignores it: left as it is, as every ignored file';

/**
 * What a preview shows: the plan without the files it would write where something not tracked is in
 * the way (a file ignored since the point, a folder, a link or a file where a folder on the way should
 * be), which `applyRestore` leaves as they are, and those files with why; and without, unnamed, the
 * files not tracked that already hold what the point does.
 */
export function withoutWhatIsInTheWay(roots: readonly WorkspaceRoot[], plan: RestorePlan): { plan: RestorePlan; leftAlone: Array<{ path: string; reason: string }> } {
  const leftAlone: Array<{ path: string; reason: string }> = [];
  const already = new Set<string>();
  let compared = 0;
  const removed = new Set(plan.remove.map((c) => c.path));
  // what each folder on the way was found to be: a folder's files share it (one lstat a folder, not one a file and depth)
  const folders = new Map<string, string>();
  for (const change of [...plan.add, ...plan.modify]) {
    const file = absolutePath(roots, change.path);
    const onTheWay = folderOnTheWay(roots, change.path, removed, folders);
    if (onTheWay === 'cleared') continue;
    if (onTheWay) {
      leftAlone.push({ path: change.path, reason: onTheWay });
      continue;
    }
    let stat: Stats | undefined;
    try {
      stat = file === undefined ? undefined : lstatSync(file, { throwIfNoEntry: false });
    } catch {
      stat = undefined; // a path through a file, or one that cannot be looked at: the restore says so when it gets there
    }
    // a folder of tracked files the plan deletes is gone (its emptied folders removed) before the file is written
    if (stat?.isDirectory() && emptiedByPlan(file!, change.path, removed)) continue;
    const reason = whatIsInTheWay(change, stat, plan);
    if (!reason) continue;
    // a file not tracked that holds what the point does is not in the way: there is nothing to do at it
    // (read on the caller's thread: up to a budget, past which such files are named as in the way)
    const size = stat?.isFile() && stat.size === change.after?.size ? stat.size : 0; // only a file of the point's size is read
    if (compared + size <= PREVIEW_COMPARE_BYTES && holdsAlready(file, stat, change)) already.add(change.path);
    else leftAlone.push({ path: change.path, reason });
    compared += size;
  }
  const dropped = new Set([...leftAlone.map((l) => l.path), ...already]);
  return { plan: dropped.size === 0 ? plan : withoutPaths(plan, dropped), leftAlone };
}

/** A preview reads at most this much of the files not tracked in the way, to tell those that already hold the point's content. */
const PREVIEW_COMPARE_BYTES = 16 * 1024 * 1024;

/**
 * Whether the file at `file` (not tracked: `stat` is its `lstat`) already holds what `change` writes,
 * its content and whether it is executable; files up to `SYNC_READ_BYTES` are compared (a larger
 * one, over the size limit most often, counts as different).
 */
function holdsAlready(file: string | undefined, stat: Stats | null | undefined, change: FileChange): boolean {
  const after = change.after;
  if (file === undefined || !stat?.isFile() || after?.kind !== 'f' || stat.size !== after.size || (stat.mode & 0o100) !== (after.mode & 0o100)) return false;
  try {
    const read = readSmallFileSync(file, SYNC_READ_BYTES);
    return read?.kind === 'read' && hashObject('blob', read.content) === after.hash;
  } catch {
    return false;
  }
}

/** Why a restore leaves a file whose stored content is gone: `verify` reports the points that lost it. */
export const LOST_CONTENT = 'its content in this point was lost to damage in the store (verify names the points that lost it)';

/** The files the plan writes whose content is not in the store (lost to damage, or moved aside by a repair), with why they are left. */
export function lostContent(objects: ObjectReader, plan: RestorePlan): Array<{ path: string; reason: string }> {
  const lost: Array<{ path: string; reason: string }> = [];
  for (const change of [...plan.add, ...plan.modify]) {
    if (change.after && !objects.has(change.after.hash)) lost.push({ path: change.path, reason: LOST_CONTENT });
  }
  return lost;
}

/**
 * The files the plan writes whose stored content is damaged: read and checked against its hash, as
 * `verify` and the restore itself read it (`ObjectStore.read`), with why they are left: a restore
 * leaves them as it leaves content that is missing (`lostContent`), and its preview says so, where
 * the restore would otherwise stop part way at the first. Each object is read once, however many
 * files hold it.
 */
export async function damagedContent(objects: ObjectReader, plan: RestorePlan, signal?: AbortSignal, keep?: Map<string, Buffer>): Promise<Array<{ path: string; reason: string }>> {
  const paths = new Map<string, string[]>();
  for (const change of [...plan.add, ...plan.modify]) {
    const hash = change.after?.hash;
    if (hash === undefined || !objects.has(hash)) continue;
    const list = paths.get(hash);
    if (list) list.push(change.path);
    else paths.set(hash, [change.path]);
  }
  let kept = 0;
  const read = async (hash: string) => {
    const bytes = await objects.readBlob(hash);
    if (keep && kept + bytes.length <= contentReadAhead.maxBytes) {
      keep.set(hash, bytes);
      kept += bytes.length;
    }
  };
  const damaged = await inParallel([...paths.keys()], signal, async (hash) => ((await isDamaged(() => read(hash))) ? hash : undefined));
  return damaged.flatMap((hash) => (hash === undefined ? [] : paths.get(hash)!.map((p) => ({ path: p, reason: LOST_CONTENT }))));
}

/** What `damagedContent` keeps of the content it read, for the restore's writes, at most (tests set it to 0 to see the writes read the store). */
export const contentReadAhead = { maxBytes: 64 * 1024 * 1024 };

/** `objects`, reading the blobs `kept` holds from there (each once: the entry is let go as it is taken). */
export function withKeptContent(objects: ObjectReader, kept: Map<string, Buffer>): ObjectReader {
  return {
    has: (hash) => objects.has(hash),
    readTree: (hash) => objects.readTree(hash),
    readBlob: (hash) => {
      const bytes = kept.get(hash);
      if (!bytes) return objects.readBlob(hash);
      kept.delete(hash);
      return Promise.resolve(bytes);
    },
  };
}

/** Whether `read` fails because the stored content is damaged or gone (not for a failure to read the store at all). */
async function isDamaged(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (error) {
    if (error instanceof StateError && error.kind === 'SnapshotLoadError') return true;
    throw error;
  }
}

/**
 * What `applyRestore` meets on the way to `pointPath`'s folder: `'cleared'` when a folder on the way is
 * a file or link the plan deletes first (nothing is in the way then), why it skips the file when one is
 * a link or a file the plan leaves (as `ConfinedRoot` says it), `undefined` when the folders are
 * folders or not there yet (made as the file is written).
 */
function folderOnTheWay(roots: readonly WorkspaceRoot[], pointPath: string, removed: ReadonlySet<string>, known: Map<string, string>): string | undefined {
  const [rootName, ...names] = pointPath.split('/');
  const root = rootNamed(roots, rootName!);
  if (!root) return undefined;
  for (let depth = 1; depth < names.length; depth++) {
    const rel = names.slice(0, depth);
    const folder = [rootName, ...rel].join('/');
    // 'folder': a folder, look deeper; 'absent': nothing there (made as the file is written)
    let found = known.get(folder);
    if (found === undefined) {
      found = removed.has(folder) ? 'cleared' : folderAt(path.join(root.path, ...rel));
      known.set(folder, found);
    }
    if (found === 'absent') return undefined;
    if (found !== 'folder') return found;
  }
  return undefined;
}

/** What is at a folder's place on the way: 'folder', 'absent', or why a file cannot be written below it. */
function folderAt(at: string): string {
  let stat: Stats | undefined;
  try {
    stat = lstatSync(at, { throwIfNoEntry: false });
  } catch {
    return 'absent'; // the restore says so when it gets there
  }
  if (!stat) return 'absent';
  if (stat.isSymbolicLink()) return `${at} is a symbolic link, and writing through it could leave the workspace`;
  if (!stat.isDirectory()) return `${at} is a file, not a folder`;
  return 'folder';
}

/** Whether the plan's deletions (`removed`) empty the folder `dir` (point path `pointDir`), so that `applyRestore` removes it: every file below it deleted, no folder below it left empty. */
function emptiedByPlan(dir: string, pointDir: string, removed: ReadonlySet<string>): boolean {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  // a folder with nothing in it is removed only when a deletion in it empties it
  if (entries.length === 0) return false;
  return entries.every((e) => (e.isDirectory() ? emptiedByPlan(path.join(dir, e.name), `${pointDir}/${e.name}`, removed) : removed.has(`${pointDir}/${e.name}`)));
}

/** The plan's changes to the given point paths only. */
export function onlyPaths(plan: RestorePlan, keep: ReadonlySet<string>): RestorePlan {
  const kept = (change: FileChange) => keep.has(change.path);
  return { add: plan.add.filter(kept), modify: plan.modify.filter(kept), remove: plan.remove.filter(kept) };
}

/**
 * The plan without what a workspace folder holds of another folder inside it: a point made before the
 * outer folder's captures left the inner one out has those files twice. The inner folder's own entries
 * restore them, once.
 */
export function withoutInnerFolders(roots: readonly WorkspaceRoot[], plan: RestorePlan): RestorePlan {
  const inner: string[] = [];
  for (const root of roots) {
    for (const other of roots) {
      const rel = path.relative(path.resolve(root.path), path.resolve(other.path));
      if (rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) inner.push(`${root.name}/${rel.split(path.sep).join('/')}`);
    }
  }
  if (inner.length === 0) return plan;
  const keep = (change: FileChange) => !inner.some((folder) => change.path === folder || change.path.startsWith(`${folder}/`));
  return { add: plan.add.filter(keep), modify: plan.modify.filter(keep), remove: plan.remove.filter(keep) };
}

/** The plan without the given point paths. */
export function withoutPaths(plan: RestorePlan, leave: ReadonlySet<string>): RestorePlan {
  const keep = (change: FileChange) => !leave.has(change.path);
  return { add: plan.add.filter(keep), modify: plan.modify.filter(keep), remove: plan.remove.filter(keep) };
}

export interface PlanCheck {
  /** Planned paths whose file on disk is no longer what the plan was made against. */
  readonly changed: string[];
  /** The `lstat` of every other file the plan overwrites or deletes: `applyRestore`'s `expected`. */
  readonly stamps: Map<string, DiskStamp | null>;
  /** Planned paths that could not be looked at (permission denied, a path too long): left out of the restore, with why. */
  readonly unreadable: Array<{ path: string; reason: string }>;
}

/** Looks up the hash recorded for a file with this stat (the capture cache). */
export interface HashCache {
  lookup(root: string, rel: string, stat: DiskStamp): string | undefined;
}

/**
 * Compares every file the plan overwrites or deletes with what the plan expects there (the `before`
 * side: the safety point's file): kind, mode, and content (by the capture cache when its stat matches,
 * else by reading and hashing the file). Paths the point adds, and paths that cannot name a workspace
 * file, are left to `applyRestore`, which never overwrites an untracked file and skips unsafe paths.
 */
export async function checkPlanOnDisk(roots: readonly WorkspaceRoot[], plan: RestorePlan, cache: HashCache, signal?: AbortSignal): Promise<PlanCheck> {
  const changes = [...plan.remove, ...plan.add, ...plan.modify];
  const slices = new Slices();
  const results = await inParallel(changes, signal, async (change): Promise<DiskStamp | 'changed' | 'unknown' | { unreadable: string }> => {
    await slices.due();
    let parts: string[];
    try {
      parts = splitPointPath(change.path);
    } catch {
      return 'unknown';
    }
    const root = rootNamed(roots, parts[0]!);
    if (!root) return 'unknown';
    const rel = parts.slice(1).join('/');
    const file = path.join(root.path, ...parts.slice(1));
    // What cannot be looked at (a folder above it unreadable, a path too long) is left as it is, never half-restored.
    let unreadable: string | undefined;
    // synchronous: a few microseconds, where a thread-pool round trip costs 0.1–0.3 ms
    let stat: Stats | null;
    try {
      stat = lstatSync(file);
    } catch (error) {
      const code = errorCode(error);
      unreadable = code === 'ENOENT' || code === 'ENOTDIR' ? undefined : (unreadableReason(error) ?? undefined);
      // a path the point adds is looked at again when it is written
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && unreadable === undefined && change.before) throw ioError(`check ${file}`, error);
      stat = null;
    }
    if (unreadable !== undefined) return { unreadable };
    // A path the point adds: `applyRestore` never overwrites what it finds there.
    const before = change.before;
    if (!before) return 'unknown';
    if (stat === null) return 'changed';
    if (before.kind === 'l') {
      if (!stat.isSymbolicLink()) return 'changed';
      const target = await fs.readlink(file, { encoding: 'buffer' }).catch(() => undefined);
      return target !== undefined && hashObject('blob', target) === before.hash ? stampOf(stat) : 'changed';
    }
    if (!stat.isFile()) return 'changed';
    if (stat.size !== before.size || (stat.mode & 0o777) !== before.mode) {
      // a file made unreadable (mode 000) differs in mode: its current bytes are in no point, not "changing"
      const unreadable = unreadableNow(file);
      return unreadable === undefined ? 'changed' : { unreadable };
    }
    if (cache.lookup(root.name, rel, stat) === before.hash) return stampOf(stat);
    const read = await Promise.resolve()
      .then(() => (before.size <= SYNC_READ_BYTES ? readSmallFileSync(file, before.size) : undefined) ?? readWholeFile(file, before.size))
      .catch((error: unknown) => {
        unreadable = unreadableReason(error) ?? undefined;
        return undefined;
      });
    if (unreadable !== undefined) return { unreadable };
    if (read?.kind !== 'read' || changedSinceCheck(new Map([['', stampOf(stat)]]), '', read.stat)) return 'changed';
    return hashObject('blob', read.content) === before.hash ? stampOf(stat) : 'changed';
  });
  const check: PlanCheck = { changed: [], stamps: new Map(), unreadable: [] };
  changes.forEach((change, i) => {
    const result = results[i]!;
    if (result === 'changed') check.changed.push(change.path);
    else if (typeof result === 'object' && 'unreadable' in result) check.unreadable.push(uncheckable(change.path, result.unreadable));
    else if (result !== 'unknown') check.stamps.set(change.path, result);
  });
  return check;
}

function uncheckable(pointPath: string, why: string): { path: string; reason: string } {
  return { path: pointPath, reason: `it could not be read (${why}), so its content now is in no point; left as it is` };
}

/**
 * The files the plan changes or deletes that cannot be read now (a file made mode 000): the restore
 * leaves them as they are (`checkPlanOnDisk`), so a preview lists them as left alone.
 */
export function unreadableInPlan(roots: readonly WorkspaceRoot[], plan: RestorePlan): Array<{ path: string; reason: string }> {
  const found: Array<{ path: string; reason: string }> = [];
  for (const change of [...plan.modify, ...plan.remove]) {
    const file = absolutePath(roots, change.path);
    if (file === undefined) continue;
    let stat: Stats | undefined;
    try {
      stat = lstatSync(file, { throwIfNoEntry: false });
    } catch (error) {
      const why = unreadableReason(error);
      if (why) found.push(uncheckable(change.path, why));
      continue;
    }
    const why = stat?.isFile() ? unreadableNow(file) : undefined;
    if (why) found.push(uncheckable(change.path, why));
  }
  return found;
}

/**
 * The files the plan writes or deletes whose folder cannot be written now (made read-only, another
 * user's, on a read-only disk): the restore leaves them as they are instead of stopping part way at the
 * first of them, and a preview lists them as left alone. A folder still to be made is judged by the
 * nearest one on disk.
 */
export function unwritableInPlan(roots: readonly WorkspaceRoot[], plan: RestorePlan): Array<{ path: string; reason: string }> {
  const verdicts = new Map<string, string | undefined>();
  const whyNot = (dir: string): string | undefined => {
    if (verdicts.has(dir)) return verdicts.get(dir);
    let why: string | undefined;
    const parent = path.dirname(dir);
    let stat: Stats | undefined;
    try {
      stat = lstatSync(dir, { throwIfNoEntry: false });
    } catch {
      stat = undefined; // a path through a file: the restore replaces it
    }
    // not a folder yet (to be made, or a file or link the restore replaces): the folder it is made in
    if (!stat?.isDirectory()) {
      why = parent !== dir ? whyNot(parent) : undefined;
    } else {
      try {
        accessSync(dir, fsConstants.W_OK | fsConstants.X_OK);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EACCES' || code === 'EPERM') why = 'permission denied';
        else if (code === 'EROFS') why = 'a read-only file system';
      }
    }
    verdicts.set(dir, why);
    return why;
  };
  const found: Array<{ path: string; reason: string }> = [];
  for (const change of [...plan.add, ...plan.modify, ...plan.remove]) {
    const file = absolutePath(roots, change.path);
    const why = file === undefined ? undefined : whyNot(path.dirname(file));
    if (why) found.push({ path: change.path, reason: `its folder cannot be written (${why}): left as it is` });
  }
  return found;
}

/** Why a regular file cannot be read now (`permission denied`), or `undefined` when it can (or is gone). */
export function unreadableNow(file: string): string | undefined {
  try {
    accessSync(file, fsConstants.R_OK);
    return undefined;
  } catch (error) {
    return unreadableReason(error) ?? undefined;
  }
}

/** Main-thread time the check's synchronous calls take at most before the event loop gets a turn. */
const SLICE_MS = 8;

class Slices {
  private started = nowMs();

  async due(): Promise<void> {
    if (nowMs() - this.started < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.started = nowMs();
  }
}

function stampOf(stat: DiskStamp): DiskStamp {
  return { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, mode: stat.mode };
}

/** Files written (and deleted) at once: enough to keep the thread pool and the disk busy, few buffers held. */
const WRITE_CONCURRENCY = 8;

/** The fields of a path's `lstat` that change when it is written, replaced or deleted. */
export interface DiskStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly mode: number;
}

export interface ApplyOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * What each planned path was on disk when the plan was checked (`null`: nothing there), from
   * `checkPlanOnDisk`. A path whose `lstat` differs just before it is written or deleted changed after
   * the safety point captured it: it is skipped, never overwritten.
   */
  readonly expected?: ReadonlyMap<string, DiskStamp | null>;
  /** Told of each file written (not links): its point path, its entry's hash and its `lstat` right after. */
  readonly onWritten?: (pointPath: string, hash: string, stamp: DiskStamp) => void;
  /** Told of each folder created to write a file into (its point path), as it is made. */
  readonly onFolderCreated?: (pointPath: string) => void;
  /**
   * The only folders (point paths) that may be removed when the deletions leave them empty: an undo's,
   * the folders the undone restore created. Absent: every folder left empty is removed.
   */
  readonly prunable?: ReadonlySet<string>;
}

/**
 * Carries out a plan: deletions first (so a folder may replace a file), then the files, several at
 * once, each written to a temporary name beside it, fsynced, given its mode and renamed over the old
 * one. Every operation happens inside the workspace folders opened for the restore, folder by folder
 * without following links (`ConfinedRoot`): a folder swapped for a link meanwhile is skipped, never
 * written through. A file that exists but is not tracked is never overwritten. The outcome lists paths
 * in plan order.
 */
export async function applyRestore(objects: ObjectReader, roots: readonly WorkspaceRoot[], plan: RestorePlan, options: ApplyOptions = {}): Promise<RestoreOutcome> {
  const total = plan.add.length + plan.modify.length + plan.remove.length;
  let done = 0;
  const progress = () => options.onProgress?.(++done, total);
  const opened = new Map<string, Promise<ConfinedRoot>>();
  const confined = (root: WorkspaceRoot) => {
    let pending = opened.get(root.name);
    if (!pending) {
      pending = ConfinedRoot.open(root, { onCreated: options.onFolderCreated && ((rel) => options.onFolderCreated!(`${root.name}/${rel}`)) });
      opened.set(root.name, pending);
    }
    return pending;
  };
  const linksRemoved = new Set<number>();
  try {
    const removals = await inParallel(plan.remove, options.signal, async (change): Promise<Step> => {
      const target = checkedTarget(roots, change.path);
      if ('kind' in target) return target;
      const folder = await confined(target.root);
      return skipUnreachable(async () => {
        const stat = await folder.lstat(target.rel);
        if (stat === null) {
          progress();
          return { kind: 'none' };
        }
        if (stat.isDirectory()) return { kind: 'skipped', reason: 'is now a folder' };
        if (changedSinceCheck(options.expected, change.path, stat)) return { kind: 'skipped', reason: CHANGED_SINCE_CHECK };
        // the file's other names (hard links) get a new change time from this deletion, and only that
        if (stat.isFile() && stat.nlink > 1) linksRemoved.add(stat.ino);
        await folder.unlink(target.rel);
        progress();
        return { kind: 'removed', root: target.root.name, dir: parentOf(target.rel) };
      });
    });
    await pruneEmptyFolders(roots, confined, removals, options.prunable);
    const writing = inParallel([...plan.add, ...plan.modify], options.signal, async (change): Promise<Step> => {
      const entry = change.after!;
      const target = checkedTarget(roots, change.path);
      if ('kind' in target) return target;
      const folder = await confined(target.root);
      return skipUnreachable(async () => {
        const existing = await folder.lstat(target.rel);
        const inTheWay = whatIsInTheWay(change, existing, plan);
        if (inTheWay) return holdsAlready(path.join(target.root.path, target.rel), existing, change) ? { kind: 'none' } : { kind: 'skipped', reason: inTheWay };
        if (changedSinceCheck(options.expected, change.path, existing, linksRemoved)) return { kind: 'skipped', reason: CHANGED_SINCE_CHECK };
        const content = await objects.readBlob(entry.hash);
        const stillAsChecked = (now: Stats | null) => !changedSinceCheck(options.expected, change.path, now, linksRemoved);
        let stamp: Stats | undefined;
        try {
          stamp = await folder.writeAtomically(target.rel, restoreTempName(target.rel.slice(target.rel.lastIndexOf('/') + 1)), entry.kind, content, entry.mode, stillAsChecked);
        } catch (error) {
          if (error instanceof ChangedMeanwhile) return { kind: 'skipped', reason: CHANGED_SINCE_CHECK };
          throw error;
        }
        if (stamp) options.onWritten?.(change.path, entry.hash, stampOf(stamp));
        progress();
        return { kind: 'written' };
      });
    });
    let writes: Step[];
    try {
      writes = await writing;
    } catch (error) {
      // The empty folders this restore made: no point or undo would ever remove them.
      for (const pending of opened.values()) await (await pending.catch(() => undefined))?.removeCreatedFolders();
      throw error;
    }
    const outcome: RestoreOutcome = { written: [], removed: [], skipped: [] };
    const record = (changes: readonly FileChange[], steps: readonly Step[], into: string[]) =>
      changes.forEach((change, i) => {
        const step = steps[i]!;
        if (step.kind === 'skipped') outcome.skipped.push({ path: change.path, reason: step.reason });
        else if (step.kind !== 'none') into.push(change.path);
      });
    record(plan.remove, removals, outcome.removed);
    record([...plan.add, ...plan.modify], writes, outcome.written);
    return outcome;
  } finally {
    for (const pending of opened.values()) await (await pending.catch(() => undefined))?.close();
  }
}

/** Runs one step; a folder on the way that is a link or a file makes it a skip with that reason. */
async function skipUnreachable(step: () => Promise<Step>): Promise<Step> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof Unreachable) return { kind: 'skipped', reason: error.message };
    throw error;
  }
}

function parentOf(rel: string): string {
  const at = rel.lastIndexOf('/');
  return at < 0 ? '' : rel.slice(0, at);
}

type Step =
  | { readonly kind: 'written' | 'none' }
  | { readonly kind: 'removed'; readonly root: string; readonly dir: string }
  | { readonly kind: 'skipped'; readonly reason: string };

const CHANGED_SINCE_CHECK = 'it changed on disk while the restore was being prepared; left as it is';

/** `linksRemoved`: files (by inode) this restore deleted another name of, whose change time that moved. */
function changedSinceCheck(expected: ReadonlyMap<string, DiskStamp | null> | undefined, pointPath: string, now: DiskStamp | null, linksRemoved?: ReadonlySet<number>): boolean {
  if (!expected?.has(pointPath)) return false;
  const was = expected.get(pointPath)!;
  if (was === null || now === null) return was !== now;
  const ctimeMoved = was.ctimeMs !== now.ctimeMs && !(linksRemoved?.has(now.ino) ?? false);
  return was.size !== now.size || was.mtimeMs !== now.mtimeMs || ctimeMoved || was.ino !== now.ino || was.mode !== now.mode;
}

/**
 * Runs `work` on every item, at most `WRITE_CONCURRENCY` at once, and returns the results in item
 * order. After a failure (or an abort) no new item is started; the first error is thrown once the
 * items already running have settled, so nothing is left writing behind the caller's back.
 */
async function inParallel<T, R>(items: readonly T[], signal: AbortSignal | undefined, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        signal?.throwIfAborted();
        results[i] = await work(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/** The workspace folder and root-relative path a point path names, or why it is skipped. */
function checkedTarget(roots: readonly WorkspaceRoot[], pointPath: string): WorkspaceTarget | Step {
  // Points never capture these folders (the user's repository, dependencies), so a path into one comes
  // from a foreign or hostile point: writing there could plant a git hook.
  const reserved = pointPath.split('/').slice(1).find((part) => NEVER_RESTORED.has(part));
  if (reserved !== undefined) return { kind: 'skipped', reason: `recovery points never write inside "${reserved}" folders` };
  try {
    return resolveInsideWorkspace(roots, pointPath);
  } catch (error) {
    if (!(error instanceof StateError) || error.kind !== 'InvalidState') throw error;
    return { kind: 'skipped', reason: describeCause(error) };
  }
}

/** The part of a temporary name that is not the file's own name: `.` before, `.rp-<8 hex>.tmp` after. */
const TEMP_NAME_EXTRA_BYTES = 17;
/** Bytes of the file's name kept in its temporary name: with the extra, well within every file system's 255. */
const TEMP_NAME_BASE_BYTES = 100;

/**
 * The temporary name a restore writes a file under, beside it, before renaming it into place:
 * `.<name>.rp-<8 hex>.tmp` (`isRestoreTempName` knows it), the name cut (on a character boundary)
 * to at most 100 bytes, so the whole name fits the 255-byte limit whatever characters the name has.
 */
export function restoreTempName(name: string): string {
  let base = '';
  let bytes = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > TEMP_NAME_BASE_BYTES) break;
    base += char;
    bytes += size;
  }
  return `.${base}.rp-${randomBytes(4).toString('hex')}.tmp`;
}

/** Longest temporary name, in bytes. */
export const MAX_TEMP_NAME_BYTES = TEMP_NAME_BASE_BYTES + TEMP_NAME_EXTRA_BYTES;

/** Removes folders that deletions left empty (of `prunable`, when given), up to (not including) the workspace folder. */
async function pruneEmptyFolders(
  roots: readonly WorkspaceRoot[],
  confined: (root: WorkspaceRoot) => Promise<ConfinedRoot>,
  removals: readonly Step[],
  prunable: ReadonlySet<string> | undefined,
): Promise<void> {
  for (const root of roots) {
    const dirs = new Set(removals.flatMap((step) => (step.kind === 'removed' && step.root === root.name && step.dir !== '' ? [step.dir] : [])));
    if (dirs.size === 0) continue;
    const folder = await confined(root);
    const sorted = [...dirs].sort((a, b) => b.split('/').length - a.split('/').length);
    for (let dir of sorted) {
      while (dir !== '' && (!prunable || prunable.has(`${root.name}/${dir}`)) && (await folder.removeEmptyFolder(dir))) dir = parentOf(dir);
    }
  }
}
