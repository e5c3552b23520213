import { lstatSync } from 'node:fs';
import { lookupEntry, type EntryInfo } from '../capture/treeWalk';
import { StateError } from '../errors';
import { mapPoint, toPointFolderPath } from '../recovery/folderMapping';
import { absolutePath } from '../recovery/workspacePaths';
import type { RecoveryStore } from '../recoveryStore';
import type { WorkspaceRoot } from '../schemas';

/** A file as a point holds it: its bytes exactly, and the path it has in the point's own folder names. */
export interface VersionContent {
  readonly pointPath: string;
  readonly hash: string;
  readonly bytes: Buffer;
}

/** What a point holds at a workspace path: the path in the point's own folder names and its entry (a file, link or folder). */
export interface PointEntry {
  readonly pointPath: string;
  readonly entry: EntryInfo;
}

/**
 * The entry at a workspace path (`folder/rel/path`, workspace folder names) in a point; `undefined`
 * when the point holds nothing there. SnapshotNotFound for an unknown point.
 */
export async function readPointEntry(store: RecoveryStore, pointId: string, workspacePath: string): Promise<PointEntry | undefined> {
  return (await readPointEntries(store, pointId, [workspacePath]))[0];
}

/** `readPointEntry` for each of `workspacePaths`, the point and its folder mapping read once. */
export async function readPointEntries(store: RecoveryStore, pointId: string, workspacePaths: readonly string[]): Promise<Array<PointEntry | undefined>> {
  const point = await store.persistence.requireSnapshot(pointId);
  const objects = await store.persistence.objects();
  const mapped = await mapPoint(objects, point, store.persistence.workspaceRoots);
  const found: Array<PointEntry | undefined> = [];
  for (const workspacePath of workspacePaths) {
    const pointPath = toPointFolderPath(mapped.mapping, workspacePath);
    const entry = pointPath === undefined ? undefined : await lookupEntry(objects, point.root, pointPath);
    found.push(entry && pointPath !== undefined ? { pointPath, entry } : undefined);
  }
  return found;
}

/**
 * The index of the first of `workspacePaths` that names nothing, neither in the point nor in the
 * workspace (a typo, which a restore would otherwise answer with "nothing to restore"); `undefined`
 * when each names something. A path only the workspace has is one a restore deletes.
 */
export async function firstPathNamingNothing(store: RecoveryStore, pointId: string, workspacePaths: readonly string[]): Promise<number | undefined> {
  const held = await readPointEntries(store, pointId, workspacePaths);
  for (const [i, workspacePath] of workspacePaths.entries()) {
    if (held[i]) continue;
    const onDisk = absolutePath(store.persistence.workspaceRoots, workspacePath);
    // reached through a link inside the workspace: on disk, but in no point (a point holds the link itself)
    if (onDisk && lstatSync(onDisk, { throwIfNoEntry: false }) && !linkOnTheWay(store.persistence.workspaceRoots, workspacePath)) continue;
    return i;
  }
  return undefined;
}

/** The first folder on the way to `pointPath` (below its workspace folder) that is a symbolic link on disk, as a point path. */
export function linkOnTheWay(roots: readonly WorkspaceRoot[], pointPath: string): string | undefined {
  const parts = pointPath.split('/');
  for (let depth = 2; depth < parts.length; depth++) {
    const folder = parts.slice(0, depth).join('/');
    const onDisk = absolutePath(roots, folder);
    if (onDisk && lstatSync(onDisk, { throwIfNoEntry: false })?.isSymbolicLink()) return folder;
  }
  return undefined;
}

/**
 * Why no point holds a path given through a linked folder of the workspace (a point holds the link
 * itself, and the files under the folder it leads to): "docs-link/a.md is inside docs-link, a symbolic
 * link: give the path in the folder it leads to."; `undefined` when no link is on its way. `show`
 * writes the link's path as the caller shows paths.
 */
export function throughLinkSentence(roots: readonly WorkspaceRoot[], typed: string, pointPath: string, show: (linkPath: string) => string): string | undefined {
  const link = linkOnTheWay(roots, pointPath);
  return link === undefined ? undefined : `${typed} is inside ${show(link)}, a symbolic link: give the path in the folder it leads to.`;
}

/**
 * The content of a workspace file (`folder/rel/path`, workspace folder names) in a point; `undefined`
 * when the point does not hold it. SnapshotNotFound for an unknown point, InvalidState for a path that
 * names a folder in the point or a folder no point folder stands for.
 */
export async function readVersionContent(store: RecoveryStore, pointId: string, workspacePath: string): Promise<VersionContent | undefined> {
  const found = await readPointEntry(store, pointId, workspacePath);
  if (!found) return undefined;
  if (found.entry.kind === 'd') throw StateError.invalidState(`${workspacePath} is a folder in recovery point ${pointId}, not a file.`);
  return { pointPath: found.pointPath, hash: found.entry.hash, bytes: await (await store.persistence.objects()).readBlob(found.entry.hash) };
}
