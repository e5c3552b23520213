import * as path from 'node:path';
import { StateError } from './errors';
import { realPathOf } from './realPath';
import type { WorkspaceRoot } from './schemas';

/**
 * Refuses a store folder that is a workspace folder or contains one: the store would then capture its
 * own files, and a restore of an older point would delete the packs it needs. Paths are compared with
 * links resolved (a store that does not exist yet: its nearest existing folder). A store inside a
 * workspace folder is fine: captures leave it out.
 */
export function checkStorePlacement(storeDir: string, roots: readonly WorkspaceRoot[]): void {
  const store = realPathOf(storeDir);
  for (const root of roots) {
    const workspace = realPathOf(root.path);
    const rel = path.relative(store, workspace);
    if (rel === '') throw StateError.invalidState(`The store folder ${storeDir} is the workspace folder ${root.path}: choose a store folder outside the workspace.`);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
      throw StateError.invalidState(`The store folder ${storeDir} contains the workspace folder ${root.path}: choose a store folder outside the workspace.`);
    }
  }
}

/** A workspace folder that now leads somewhere other than where the store recorded it (it became a link, or its link changed). */
export function movedWorkspaceFolder(folder: string, now: string | undefined, recorded: string): StateError {
  return StateError.invalidState(
    `The workspace folder ${folder} now leads to ${now ?? 'nowhere'}, but this store recorded it at ${recorded}: refusing to follow it into another folder. If the folder moved on purpose, open it by its real path.`,
  );
}

/** Where the newest point that recorded this workspace folder (same name and path) found it; `undefined` when none did. */
export function recordedRealPath(points: ReadonlyArray<{ roots: readonly WorkspaceRoot[] }>, root: WorkspaceRoot): string | undefined {
  for (const point of points) {
    const found = point.roots.find((r) => r.name === root.name && r.path === root.path && r.realPath !== undefined);
    if (found) return found.realPath;
  }
  return undefined;
}
