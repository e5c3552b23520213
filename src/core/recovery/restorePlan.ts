import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { BUILTIN_EXCLUDES, diffTrees, type FileChange } from '../capture';
import { describeCause, errorCode, ioError, StateError } from '../errors';
import type { ObjectReader } from '../objects/objectStore';
import type { WorkspaceRoot } from '../schemas';
import { isUnder, resolveInsideWorkspace } from './workspacePaths';

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
 * Carries out a plan: deletions first (so a folder may replace a file), then each file written to a
 * temporary name beside it, fsynced, given its mode and renamed over the old one. Paths are checked
 * against the workspace before every write; a file that exists but is not tracked is never overwritten.
 */
export async function applyRestore(
  objects: ObjectReader,
  roots: readonly WorkspaceRoot[],
  plan: RestorePlan,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<RestoreOutcome> {
  const outcome: RestoreOutcome = { written: [], removed: [], skipped: [] };
  const total = plan.add.length + plan.modify.length + plan.remove.length;
  let done = 0;
  const touchedDirs = new Set<string>();
  for (const change of plan.remove) {
    options.signal?.throwIfAborted();
    const target = await checkedTarget(roots, change.path, outcome);
    if (!target) continue;
    try {
      const stat = await fs.lstat(target);
      if (stat.isDirectory()) {
        outcome.skipped.push({ path: change.path, reason: 'is now a folder' });
      } else {
        await fs.unlink(target);
        outcome.removed.push(change.path);
        touchedDirs.add(path.dirname(target));
      }
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw ioError(`delete ${target}`, error);
    }
    options.onProgress?.(++done, total);
  }
  await pruneEmptyFolders(roots, touchedDirs);
  for (const change of [...plan.add, ...plan.modify]) {
    options.signal?.throwIfAborted();
    const entry = change.after!;
    const target = await checkedTarget(roots, change.path, outcome);
    if (!target) continue;
    const existing = await fs.lstat(target).catch((error) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(ioError(`check ${target}`, error))));
    if (existing?.isDirectory()) {
      outcome.skipped.push({ path: change.path, reason: 'a folder with untracked files is in the way' });
      continue;
    }
    if (existing && !change.before) {
      outcome.skipped.push({ path: change.path, reason: 'a file that is not tracked (ignored or excluded) is in the way' });
      continue;
    }
    const content = await objects.readBlob(entry.hash);
    const dir = path.dirname(target);
    const created = await fs.mkdir(dir, { recursive: true }).catch((error) => Promise.reject(ioError(`create the folder ${dir}`, error)));
    try {
      await writeAtomically(target, entry.kind, content, entry.mode);
    } catch (error) {
      if (created !== undefined) await removeCreatedFolders(dir, created);
      throw error;
    }
    outcome.written.push(change.path);
    options.onProgress?.(++done, total);
  }
  return outcome;
}

async function checkedTarget(roots: readonly WorkspaceRoot[], pointPath: string, outcome: RestoreOutcome): Promise<string | undefined> {
  // Points never capture these folders (the user's repository, dependencies), so a path into one comes
  // from a foreign or hostile point: writing there could plant a git hook.
  const reserved = pointPath.split('/').slice(1).find((part) => NEVER_RESTORED.has(part));
  if (reserved !== undefined) {
    outcome.skipped.push({ path: pointPath, reason: `recovery points never write inside "${reserved}" folders` });
    return undefined;
  }
  try {
    return await resolveInsideWorkspace(roots, pointPath);
  } catch (error) {
    if (!(error instanceof StateError) || error.kind !== 'InvalidState') throw error;
    outcome.skipped.push({ path: pointPath, reason: describeCause(error) });
    return undefined;
  }
}

async function writeAtomically(target: string, kind: 'f' | 'l' | 'd', content: Buffer, mode: number): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target).slice(0, 100)}.rp-${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (kind === 'l') {
      await fs.symlink(content.toString('utf8'), temp);
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
