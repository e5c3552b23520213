import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describeCause } from '../errors';
import { RecoveryStore } from '../recoveryStore';
import type { PointSummary } from '../schemas';
import { PersistenceManager } from '../state/persistenceManager';
import { realPathOf } from '../realPath';
import { movedTo } from './adoptStore';
import { exportBundle } from './exportBundle';
import { importBundle, type ImportResult } from './importBundle';

/** Another window's history that holds folders of this workspace (the same folders, where they are now). */
export interface FolderHistory {
  readonly storeDir: string;
  /** This workspace's folders its newest point holds. */
  readonly folders: string[];
  /** Every folder its newest point recorded (the other window's workspace). */
  readonly recordedFolders: string[];
  readonly points: number;
  readonly newest: PointSummary;
}

/**
 * Among `candidates` (store folders of other windows), the histories whose newest point holds one of
 * `folders`, by real path: the same folder opened in a window of another shape (on its own, or in a
 * workspace of several folders), whose history VS Code keeps apart. Newest history first; histories
 * moved away (`adoptStore`) and unreadable or empty stores are passed over.
 */
export async function findFolderHistories(candidates: readonly string[], folders: readonly string[], options: { log?: (message: string) => void } = {}): Promise<FolderHistory[]> {
  const wanted = new Map(folders.map((folder) => [realPathOf(folder), folder]));
  const found: FolderHistory[] = [];
  for (const storeDir of candidates) {
    try {
      if (movedTo(storeDir)) continue;
      const persistence = new PersistenceManager(path.join(storeDir, 'state.json'), path.join(storeDir, 'points'), { storeDir, roots: [], lockWaitMs: 2000 });
      let points: PointSummary[];
      try {
        points = await persistence.listSnapshots();
      } finally {
        persistence.lock.dispose();
      }
      const newest = points[0];
      if (!newest) continue;
      const held = newest.roots.map((root) => wanted.get(realPathOf(root.path))).filter((folder): folder is string => folder !== undefined);
      if (held.length > 0) found.push({ storeDir, folders: held, recordedFolders: newest.roots.map((r) => r.path), points: points.length, newest });
    } catch (error) {
      options.log?.(`The store ${storeDir} was passed over (${describeCause(error)}).`);
    }
  }
  return found.sort((a, b) => (a.newest.id < b.newest.id ? 1 : a.newest.id > b.newest.id ? -1 : 0));
}

/**
 * Copies every point of the store in `from` into `into`, which keeps them beside its own; `from`
 * keeps them too (unlike `adoptStore`, which moves a moved folder's history). Through a bundle in
 * `into`'s cache folder, so the copy is checked as an import is (every object re-hashed before
 * anything is listed) and a copy that fails or is killed lists nothing.
 */
export async function copyHistory(into: RecoveryStore, from: string, options: { onProgress?: (message: string) => void } = {}): Promise<ImportResult> {
  const source = await RecoveryStore.open({ storeDir: from, roots: [], lockWaitMs: 2000, actor: into.persistence.actor });
  const bundle = path.join(into.persistence.layout.cacheDir, `copy-${randomBytes(4).toString('hex')}.rpbundle`);
  try {
    await fs.mkdir(path.dirname(bundle), { recursive: true });
    await exportBundle(source, bundle, { onProgress: options.onProgress });
    return await importBundle(into, bundle, { onProgress: options.onProgress });
  } finally {
    await fs.rm(bundle, { force: true });
    await source.close().catch(() => undefined);
  }
}
