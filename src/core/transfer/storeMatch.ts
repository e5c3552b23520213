import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { listFiles } from '../capture';
import { describeCause } from '../errors';
import type { ObjectReader } from '../objects/objectStore';
import { ObjectStore } from '../objects/objectStore';
import type { PointSummary } from '../schemas';
import { PersistenceManager } from '../state/persistenceManager';
import { MOVED_MARKER } from './adoptStore';

/** A store is offered for a folder when at least this share of the folder's files (path and content) are in its newest point. */
export const MATCH_THRESHOLD = 0.5;
/** Files of a recorded folder that still exists checked for "does it still hold that content". */
const PRESENCE_SAMPLE = 64;

/** A folder's files as `relative path → content hash`, per workspace folder name. */
export type FolderFiles = Map<string, Map<string, string>>;

/** The files of a point's tree, grouped by its workspace folders. */
export async function folderFiles(objects: ObjectReader, root: string): Promise<FolderFiles> {
  const byFolder: FolderFiles = new Map();
  for (const [pointPath, info] of await listFiles(objects, root)) {
    const slash = pointPath.indexOf('/');
    const folder = pointPath.slice(0, slash);
    if (!byFolder.has(folder)) byFolder.set(folder, new Map());
    byFolder.get(folder)!.set(pointPath.slice(slash + 1), info.hash);
  }
  return byFolder;
}

export interface MatchScore {
  /** Files of the current folders whose path and content are in the candidate's newest point. */
  readonly matched: number;
  readonly total: number;
  readonly share: number;
}

/**
 * How closely a point's files match the current folders: for each current folder, the candidate
 * folder holding most of its files with the same relative path and content (names may differ: the
 * folder was renamed), summed over the current folders.
 */
export function matchScore(current: FolderFiles, candidate: FolderFiles): MatchScore {
  let matched = 0;
  let total = 0;
  for (const files of current.values()) {
    total += files.size;
    let best = 0;
    for (const theirs of candidate.values()) {
      let n = 0;
      for (const [rel, hash] of files) if (theirs.get(rel) === hash) n++;
      best = Math.max(best, n);
    }
    matched += best;
  }
  return { matched, total, share: total === 0 ? 0 : matched / total };
}

export interface MovedStore {
  readonly storeDir: string;
  /** The folders its newest point recorded, none of which still holds that history's files. */
  readonly recordedFolders: string[];
  readonly points: number;
  readonly newest: PointSummary;
  readonly score: MatchScore;
}

/**
 * Among `candidates` (store folders), the stores of folders that were moved or renamed to the current
 * one, best match first: their newest point's recorded folders no longer exist (or no longer hold
 * its files), and at least MATCH_THRESHOLD of the current files are in that point. Unreadable or
 * empty candidates are passed over.
 */
export async function findMovedStores(candidates: readonly string[], current: FolderFiles, options: { log?: (message: string) => void } = {}): Promise<MovedStore[]> {
  const found: MovedStore[] = [];
  for (const storeDir of candidates) {
    try {
      const match = await examineCandidate(storeDir, current);
      if (match) found.push(match);
    } catch (error) {
      options.log?.(`The store ${storeDir} was passed over (${describeCause(error)}).`);
    }
  }
  return found.sort((a, b) => b.score.share - a.score.share || b.points - a.points);
}

async function examineCandidate(storeDir: string, current: FolderFiles): Promise<MovedStore | undefined> {
  const stat = await fs.stat(path.join(storeDir, 'points')).catch(() => undefined);
  if (!stat?.isDirectory()) return undefined;
  if (await fs.stat(path.join(storeDir, MOVED_MARKER)).catch(() => undefined)) return undefined;
  const persistence = new PersistenceManager(path.join(storeDir, 'state.json'), path.join(storeDir, 'points'), { storeDir, roots: [], lockWaitMs: 2000 });
  let points: Awaited<ReturnType<PersistenceManager['listSnapshots']>>;
  try {
    points = await persistence.listSnapshots();
  } finally {
    persistence.lock.dispose();
  }
  const newest = points[0];
  if (!newest) return undefined;
  const objects = await ObjectStore.open(path.join(storeDir, 'objects'));
  try {
    const theirs = await folderFiles(objects, newest.root);
    for (const root of newest.roots) {
      if (await stillHoldsFiles(root.path, theirs.get(root.name))) return undefined;
    }
    const score = matchScore(current, theirs);
    if (score.total === 0 || score.share < MATCH_THRESHOLD) return undefined;
    return { storeDir, recordedFolders: newest.roots.map((r) => r.path), points: points.length, newest, score };
  } finally {
    await objects.close();
  }
}

/** Whether a recorded folder still exists with most of a sample of the point's files in it. */
async function stillHoldsFiles(folder: string, files: Map<string, string> | undefined): Promise<boolean> {
  const stat = await fs.stat(folder).catch(() => undefined);
  if (!stat?.isDirectory()) return false;
  const sample = [...(files?.keys() ?? [])].slice(0, PRESENCE_SAMPLE);
  if (sample.length === 0) return true;
  let present = 0;
  for (const rel of sample) if (await fs.lstat(path.join(folder, rel)).catch(() => undefined)) present++;
  return present >= sample.length / 2;
}
