import { lstatSync } from 'node:fs';
import { MAX_UNTRACKED_PATHS } from '../schemas';
import type { FileChange } from './treeWalk';

/**
 * Of the files a point no longer has (`deleted`, point paths), those still on disk when it was made:
 * the capture stopped tracking them (a `.gitignore` line or an exclude added, a file grown past the size
 * limit), nobody deleted them. Kept short: a folder stands for every file below it when all the deleted
 * files below it, two or more, are still on disk (`dist` for a `dist/` line added to `.gitignore`). `file`: where a
 * point path is on disk (`undefined`: outside every folder).
 */
export function stillOnDisk(deleted: readonly FileChange[], file: (pointPath: string) => string | undefined): string[] {
  const present: string[] = [];
  for (const change of deleted) {
    const at = file(change.path);
    let found = false;
    try {
      found = at !== undefined && lstatSync(at, { throwIfNoEntry: false }) !== undefined;
    } catch {
      found = false; // a path through a file, or one that cannot be looked at: counted as deleted
    }
    if (found) present.push(change.path);
  }
  if (present.length === 0) return present;
  // how many deleted files, and how many of them present, below each folder
  const below = new Map<string, { deleted: number; present: number }>();
  const count = (p: string, isPresent: boolean) => {
    for (let slash = p.lastIndexOf('/'); slash > 0; slash = p.lastIndexOf('/', slash - 1)) {
      const folder = p.slice(0, slash);
      const counts = below.get(folder) ?? { deleted: 0, present: 0 };
      counts.deleted++;
      if (isPresent) counts.present++;
      below.set(folder, counts);
    }
  };
  const presentSet = new Set(present);
  for (const change of deleted) count(change.path, presentSet.has(change.path));
  // each present file under the outermost folder (below a workspace folder) whose deleted files are all present
  const kept = new Set<string>();
  for (const p of present) {
    let outermost = p;
    const parts = p.split('/');
    for (let depth = 2; depth < parts.length; depth++) {
      const folder = parts.slice(0, depth).join('/');
      const counts = below.get(folder)!;
      if (counts.deleted === counts.present && counts.deleted > 1) {
        outermost = folder;
        break;
      }
    }
    kept.add(outermost);
  }
  return [...kept].sort().slice(0, MAX_UNTRACKED_PATHS);
}

/** Whether `point` stopped tracking `pointPath` (a file still on disk when the point was made), rather than it being deleted. */
export function isUntracked(point: { readonly untracked?: readonly string[] }, pointPath: string): boolean {
  const untracked = point.untracked;
  if (!untracked) return false;
  for (const p of untracked) if (pointPath === p || (pointPath.length > p.length && pointPath.startsWith(p) && pointPath[p.length] === '/')) return true;
  return false;
}
