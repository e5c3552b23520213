import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { BUILTIN_EXCLUDES, diffTrees, type FileChange } from '../capture';
import { describeCause, errorCode, ioError, StateError, unreadableReason } from '../errors';
import { readWholeFile } from '../capture/fsCalls';
import { hashObject } from '../objects/hash';
import type { ObjectReader } from '../objects/objectStore';
import type { WorkspaceRoot } from '../schemas';
import { isUnder, resolveInsideWorkspace, splitPointPath } from './workspacePaths';

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
  const results = await inParallel(changes, signal, async (change): Promise<DiskStamp | 'changed' | 'unknown' | { unreadable: string }> => {
    let parts: string[];
    try {
      parts = splitPointPath(change.path);
    } catch {
      return 'unknown';
    }
    const root = roots.find((r) => r.name === parts[0]);
    if (!root) return 'unknown';
    const rel = parts.slice(1).join('/');
    const file = path.join(root.path, ...parts.slice(1));
    // What cannot be looked at (a folder above it unreadable, a path too long) is left as it is, never half-restored.
    let unreadable: string | undefined;
    const stat = await fs.lstat(file).catch((error) => {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      unreadable = unreadableReason(error) ?? undefined;
      // a path the point adds is looked at again when it is written
      return unreadable !== undefined || !change.before ? null : Promise.reject(ioError(`check ${file}`, error));
    });
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
    if (!stat.isFile() || stat.size !== before.size || (stat.mode & 0o777) !== before.mode) return 'changed';
    if (cache.lookup(root.name, rel, stat) === before.hash) return stampOf(stat);
    const read = await readWholeFile(file, before.size).catch((error: unknown) => {
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
    else if (typeof result === 'object' && 'unreadable' in result) check.unreadable.push({ path: change.path, reason: `it could not be checked (${result.unreadable}); left as it is` });
    else if (result !== 'unknown') check.stamps.set(change.path, result);
  });
  return check;
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
}

/**
 * Carries out a plan: deletions first (so a folder may replace a file), then the files, several at
 * once, each written to a temporary name beside it, fsynced, given its mode and renamed over the old
 * one; each folder is created once. Paths are checked against the workspace before every write; a
 * file that exists but is not tracked is never overwritten. The outcome lists paths in plan order.
 */
export async function applyRestore(objects: ObjectReader, roots: readonly WorkspaceRoot[], plan: RestorePlan, options: ApplyOptions = {}): Promise<RestoreOutcome> {
  const total = plan.add.length + plan.modify.length + plan.remove.length;
  let done = 0;
  const progress = () => options.onProgress?.(++done, total);
  const removals = await inParallel(plan.remove, options.signal, async (change): Promise<Step> => {
    const checked = await checkedTarget(roots, change.path);
    if (typeof checked !== 'string') return checked;
    const target = checked;
    let stat;
    try {
      stat = await fs.lstat(target);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw ioError(`delete ${target}`, error);
      progress();
      return { kind: 'none' };
    }
    if (stat.isDirectory()) return { kind: 'skipped', reason: 'is now a folder' };
    if (changedSinceCheck(options.expected, change.path, stat)) return { kind: 'skipped', reason: CHANGED_SINCE_CHECK };
    try {
      await fs.unlink(target);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw ioError(`delete ${target}`, error);
    }
    progress();
    return { kind: 'removed', dir: path.dirname(target) };
  });
  await pruneEmptyFolders(roots, new Set(removals.flatMap((step) => (step.kind === 'removed' ? [step.dir] : []))));
  // Each folder is made once; the first folder each `mkdir` created is kept, so a failed restore
  // can remove the empty folders it made (no point or undo would ever remove them).
  const folders = new Map<string, Promise<string | undefined>>();
  const makeFolder = (dir: string) => {
    let made = folders.get(dir);
    if (!made) {
      made = fs.mkdir(dir, { recursive: true }).catch((error) => Promise.reject(ioError(`create the folder ${dir}`, error)));
      folders.set(dir, made);
    }
    return made;
  };
  const writing = inParallel([...plan.add, ...plan.modify], options.signal, async (change): Promise<Step> => {
    const entry = change.after!;
    const checked = await checkedTarget(roots, change.path);
    if (typeof checked !== 'string') return checked;
    const target = checked;
    const existing = await fs.lstat(target).catch((error) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(ioError(`check ${target}`, error))));
    if (existing?.isDirectory()) return { kind: 'skipped', reason: 'a folder with untracked files is in the way' };
    if (existing && !change.before) return { kind: 'skipped', reason: 'a file that is not tracked (ignored or excluded) is in the way' };
    if (changedSinceCheck(options.expected, change.path, existing ?? null)) return { kind: 'skipped', reason: CHANGED_SINCE_CHECK };
    const content = await objects.readBlob(entry.hash);
    await makeFolder(path.dirname(target));
    await writeAtomically(target, entry.kind, content, entry.mode);
    progress();
    return { kind: 'written' };
  });
  let writes: Step[];
  try {
    writes = await writing;
  } catch (error) {
    for (const [dir, made] of [...folders].sort((a, b) => b[0].length - a[0].length)) {
      const created = await made.catch(() => undefined);
      if (created !== undefined) await removeCreatedFolders(dir, created);
    }
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
}

type Step = { readonly kind: 'written' | 'none' } | { readonly kind: 'removed'; readonly dir: string } | { readonly kind: 'skipped'; readonly reason: string };

const CHANGED_SINCE_CHECK = 'it changed on disk while the restore was being prepared; left as it is';

function changedSinceCheck(expected: ReadonlyMap<string, DiskStamp | null> | undefined, pointPath: string, now: DiskStamp | null): boolean {
  if (!expected?.has(pointPath)) return false;
  const was = expected.get(pointPath)!;
  if (was === null || now === null) return was !== now;
  return was.size !== now.size || was.mtimeMs !== now.mtimeMs || was.ctimeMs !== now.ctimeMs || was.ino !== now.ino || was.mode !== now.mode;
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

/** The workspace file a point path names, or why it is skipped. */
async function checkedTarget(roots: readonly WorkspaceRoot[], pointPath: string): Promise<string | Step> {
  // Points never capture these folders (the user's repository, dependencies), so a path into one comes
  // from a foreign or hostile point: writing there could plant a git hook.
  const reserved = pointPath.split('/').slice(1).find((part) => NEVER_RESTORED.has(part));
  if (reserved !== undefined) return { kind: 'skipped', reason: `recovery points never write inside "${reserved}" folders` };
  try {
    return await resolveInsideWorkspace(roots, pointPath);
  } catch (error) {
    if (!(error instanceof StateError) || error.kind !== 'InvalidState') throw error;
    return { kind: 'skipped', reason: describeCause(error) };
  }
}

/** The temporary file a restore writes beside its target before renaming it into place (`isRestoreTempName` knows its name). */
export function restoreTempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target).slice(0, 100)}.rp-${randomBytes(4).toString('hex')}.tmp`);
}

async function writeAtomically(target: string, kind: 'f' | 'l' | 'd', content: Buffer, mode: number): Promise<void> {
  const temp = restoreTempName(target);
  try {
    if (kind === 'l') {
      await fs.symlink(content, temp); // the target's exact bytes
    } else {
      const handle = await fs.open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(content);
        // permission bits only: a point never sets setuid, setgid or sticky bits
        await handle.chmod(mode & 0o777);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw ioError(`write ${target}`, error);
  }
}

/** Removes the folders `mkdir` just created for a file that could not be written (a full disk), deepest first, up to `created`. */
async function removeCreatedFolders(dir: string, created: string): Promise<void> {
  for (let current = dir; current.startsWith(created); current = path.dirname(current)) {
    if (!(await fs.rmdir(current).then(() => true, () => false)) || current === created) return;
  }
}

/** Removes folders that deletions left empty, up to (not including) the workspace folder. */
async function pruneEmptyFolders(roots: readonly WorkspaceRoot[], dirs: Set<string>): Promise<void> {
  const rootPaths = new Set(roots.map((r) => path.resolve(r.path)));
  const sorted = [...dirs].sort((a, b) => b.length - a.length);
  for (let dir of sorted) {
    while (!rootPaths.has(dir) && [...rootPaths].some((root) => dir.startsWith(root + path.sep))) {
      try {
        await fs.rmdir(dir);
      } catch {
        break;
      }
      dir = path.dirname(dir);
    }
  }
}
