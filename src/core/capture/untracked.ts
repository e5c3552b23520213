import { lstatSync, statSync, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import * as path from 'node:path';
import { MAX_UNTRACKED_PATHS } from '../schemas';
import type { FileChange } from './treeWalk';

/** Where a point path is on disk (`undefined`: outside every workspace folder). */
type OnDisk = (pointPath: string) => string | undefined;

/**
 * Of the files a point no longer has (`deleted`, point paths), those still on disk when it was made:
 * as files or links: the capture stopped tracking them (a `.gitignore` line or an exclude added, a
 * file grown past the size limit), nobody deleted them. Kept short (`shortList`).
 */
export function stillOnDisk(deleted: readonly FileChange[], file: OnDisk): string[] {
  // a removed folder's files are not looked at one by one: a folder deleted with 50,000 files costs its folders' lstats
  const folders = new Map<string, boolean>();
  const folderThere = (dir: string): boolean => {
    let there = folders.get(dir);
    if (there === undefined) {
      const parent = path.dirname(dir);
      there = (parent === dir || folderThere(parent)) && isFolder(dir);
      folders.set(dir, there);
    }
    return there;
  };
  return shortList(
    deleted,
    deleted.filter((change) => {
      const at = file(change.path);
      if (at === undefined || !folderThere(path.dirname(at))) return false;
      // a folder, a pipe or a socket in its place: the file was deleted
      const stat = statOf(at);
      return stat !== undefined && (stat.isFile() || stat.isSymbolicLink());
    }),
  );
}

/**
 * Of the files a point has that the point before it (made at `parentTime`) did not (`added`), those
 * created on disk before that point: it did not track them (a `.gitignore` line taken out, an exclude
 * removed), nobody created them now. Kept short (`shortList`). The caller asks only where the rules
 * changed with the point: a file moved in from outside the workspace keeps its creation time too.
 */
export function existedBefore(added: readonly FileChange[], file: OnDisk, parentTime: number): string[] {
  return shortList(
    added,
    added.filter((change) => {
      const stat = statOf(file(change.path));
      // a file system that keeps no creation time gives 0 (or the change time, which is no older)
      return stat !== undefined && stat.birthtimeMs > 0 && stat.birthtimeMs < parentTime;
    }),
  );
}

/**
 * Of the files a point added or modified (point paths), those modified on disk at or after `time`: their
 * content was written since then. One `lstat` each, a few at a time. A file moved or copied with its
 * times kept is not among them, nor a deletion (no time to tell).
 */
export async function modifiedSince(changes: readonly FileChange[], file: OnDisk, time: number): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < changes.length; i += 64) {
    await Promise.all(
      changes.slice(i, i + 64).map(async (change) => {
        const at = file(change.path);
        const stat = at === undefined ? undefined : await lstat(at).catch(() => undefined);
        if (stat && stat.mtimeMs >= time) found.add(change.path);
      }),
    );
  }
  return found;
}

/** A folder, links followed (a workspace folder may be opened through a link). */
function isFolder(dir: string): boolean {
  try {
    return statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

function statOf(at: string | undefined): Stats | undefined {
  try {
    return at === undefined ? undefined : lstatSync(at, { throwIfNoEntry: false });
  } catch {
    return undefined; // a path through a file, or one that cannot be looked at
  }
}

/**
 * `chosen` (some of `all`) as a short list of paths: a folder stands for every file below it when all
 * the changes below it, two or more, are chosen (`dist` for a `dist/` line added to `.gitignore`); at
 * most `MAX_UNTRACKED_PATHS`.
 */
function shortList(all: readonly FileChange[], chosen: readonly FileChange[]): string[] {
  if (chosen.length === 0) return [];
  // how many changes, and how many of them chosen, below each folder
  const below = new Map<string, { all: number; chosen: number }>();
  const isChosen = new Set(chosen.map((c) => c.path));
  for (const { path: p } of all) {
    for (let slash = p.lastIndexOf('/'); slash > 0; slash = p.lastIndexOf('/', slash - 1)) {
      const folder = p.slice(0, slash);
      const counts = below.get(folder) ?? { all: 0, chosen: 0 };
      counts.all++;
      if (isChosen.has(p)) counts.chosen++;
      below.set(folder, counts);
    }
  }
  // each chosen file under the outermost folder (below a workspace folder) whose changes are all chosen
  const kept = new Set<string>();
  for (const { path: p } of chosen) {
    let outermost = p;
    const parts = p.split('/');
    for (let depth = 2; depth < parts.length; depth++) {
      const counts = below.get(parts.slice(0, depth).join('/'))!;
      if (counts.all === counts.chosen && counts.all > 1) {
        outermost = parts.slice(0, depth).join('/');
        break;
      }
    }
    kept.add(outermost);
  }
  return [...kept].sort().slice(0, MAX_UNTRACKED_PATHS);
}

/** Whether `pointPath` is in a short list of paths (`untracked`, `nowTracked`): named there, or below a folder named there. */
function inList(list: readonly string[] | undefined, pointPath: string): boolean {
  if (!list) return false;
  for (const p of list) if (pointPath === p || (pointPath.length > p.length && pointPath.startsWith(p) && pointPath[p.length] === '/')) return true;
  return false;
}

/** Whether `point`'s capture left out `pointPath` (or a folder above it), a file on disk then: too large, unreadable. */
export function isLeftOut(point: { readonly leftOut?: readonly string[] }, pointPath: string): boolean {
  return inList(point.leftOut, pointPath);
}

/** Whether `point` stopped tracking `pointPath` (a file still on disk when the point was made), rather than it being deleted. */
export function isUntracked(point: { readonly untracked?: readonly string[] }, pointPath: string): boolean {
  return inList(point.untracked, pointPath);
}

/** Whether `point` began tracking `pointPath` (a file on disk before the point before it), rather than it being created. */
export function isNowTracked(point: { readonly nowTracked?: readonly string[] }, pointPath: string): boolean {
  return inList(point.nowTracked, pointPath);
}

/** How many of a point's deletions and additions (`changes`, against its parent) its `untracked` and `nowTracked` lists name (`ChangeCounts`' own two). */
export function trackingCounts(
  changes: { readonly added: readonly FileChange[]; readonly deleted: readonly FileChange[] },
  tracking: { readonly untracked?: readonly string[]; readonly nowTracked?: readonly string[] },
): { untracked?: number; nowTracked?: number } {
  const untracked = tracking.untracked ? changes.deleted.filter((c) => isUntracked(tracking, c.path)).length : 0;
  const nowTracked = tracking.nowTracked ? changes.added.filter((c) => isNowTracked(tracking, c.path)).length : 0;
  return { ...(untracked > 0 ? { untracked } : {}), ...(nowTracked > 0 ? { nowTracked } : {}) };
}
