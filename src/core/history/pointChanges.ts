import * as fs from 'node:fs/promises';
import { diffTrees, lookupEntry, pairRenames, type FileInfo, type TreeDiff } from '../capture';
import { isUntracked } from '../capture/untracked';
import { StateError } from '../errors';
import type { ObjectReader } from '../objects/objectStore';
import { mapFolders, mapPoint, toPointFolderPath, toWorkspacePath, type FolderMapping } from '../recovery/folderMapping';
import { pointBase, pointBases } from '../recovery/pointBase';
import { isPinned } from '../recovery/retention';
import { absolutePath } from '../recovery/workspacePaths';
import type { RecoveryStore } from '../recoveryStore';
import type { PointSummary } from '../schemas';
import type { FileVersion } from './fileHistory';
import { unifiedPatch, type PatchOptions } from './patch';

/** What one point changed: its parent's files against its own (paths in the point's folder names). */
export interface PointChange {
  readonly point: PointSummary;
  /** The point it is shown against (`pointBase`: its parent while listed); the diff is against nothing without one. */
  readonly parent: PointSummary | undefined;
  readonly diff: TreeDiff;
}

/** A point's change; `listed`: the points the caller just listed, so the store is not listed again. */
export async function pointChange(store: RecoveryStore, pointId: string, listed?: readonly PointSummary[]): Promise<PointChange> {
  const points = listed ?? (await store.recovery.listRecoveryPoints());
  const point = points.find((p) => p.id === pointId);
  if (!point) throw StateError.snapshotNotFound(pointId);
  return { point, parent: pointBase(points, point), diff: await store.recovery.changedFiles(pointId, points) };
}

/** The unified patch of a point's change (parent → point). */
export async function pointChangePatch(store: RecoveryStore, pointId: string, options: PatchOptions = {}, listed?: readonly PointSummary[]): Promise<string> {
  const change = await pointChange(store, pointId, listed);
  const stripFolder = options.stripFolder ?? singleFolder(change.point, change.parent);
  return unifiedPatch(await store.persistence.objects(), change.diff, { ...options, stripFolder });
}

/**
 * The unified patch from point `fromId` to point `toId`, or to the current workspace files when `toId`
 * is absent (then in the workspace's folder names). Paths lose their folder name when both sides hold
 * a single folder, so the patch applies inside it.
 */
export async function comparisonPatch(store: RecoveryStore, fromId: string, toId: string | undefined, options: PatchOptions = {}): Promise<string> {
  const from = await store.persistence.requireSnapshot(fromId);
  if (toId) {
    const to = await store.persistence.requireSnapshot(toId);
    const diff = await store.recovery.diff(fromId, toId);
    // a file a point between them stopped tracking is still on disk: no deletion of it in the patch, as the comparison shows none
    const tracked = diff.untracked ? { ...diff, deleted: diff.deleted.filter((c) => !isUntracked(diff, c.path)) } : diff;
    return unifiedPatch(await store.persistence.objects(), tracked, { ...options, stripFolder: options.stripFolder ?? singleFolder(from, to) });
  }
  const roots = store.persistence.workspaceRoots;
  return store.persistence.withCurrentTree(async (objects, current) => {
    const mapped = await mapPoint(objects, from, roots);
    const diff = await diffTrees(mapped.objects, mapped.root, await mapped.covered(current));
    // a file the point holds that is on disk but no longer tracked (ignored since) is not deleted
    const tracking = store.persistence.trackingChanges(from, diff, roots, false);
    const tracked = tracking.untracked ? { ...diff, deleted: diff.deleted.filter((c) => !isUntracked(tracking, c.path)) } : diff;
    return unifiedPatch(mapped.objects, tracked, { ...options, stripFolder: options.stripFolder ?? (roots.length === 1 && from.roots.length === 1) });
  });
}

/**
 * What one entry of a file's history changed, as a diff of that file alone (workspace folder names):
 * the version before it against this one; a rename as the old path deleted and the new one added; a
 * deletion as the file deleted; the first version as the file added.
 */
export async function fileVersionChange(store: RecoveryStore, version: FileVersion): Promise<TreeDiff> {
  const objects = await store.persistence.objects();
  const entry = async (pointId: string, pointPath: string): Promise<FileInfo | undefined> => {
    const point = await store.persistence.requireSnapshot(pointId);
    const found = await lookupEntry(objects, point.root, pointPath);
    return found && found.kind !== 'd' ? { ...found, kind: found.kind } : undefined;
  };
  const before = version.previous ? await entry(version.previous.pointId, version.previous.pointPath) : undefined;
  const after = version.kind === 'version' ? await entry(version.point.id, version.pointPath) : undefined;
  const diff: TreeDiff = { added: [], modified: [], deleted: [] };
  if (before && after && version.previous!.path === version.path) diff.modified.push({ path: version.path, before, after });
  else {
    if (before) diff.deleted.push({ path: version.previous!.path, before });
    if (after) diff.added.push({ path: version.path, after });
  }
  return diff;
}

/** The unified patch of one entry of a file's history (see `fileVersionChange`); inside the folder when the workspace has one. */
export async function fileVersionPatch(store: RecoveryStore, version: FileVersion, options: PatchOptions = {}): Promise<string> {
  const diff = await fileVersionChange(store, version);
  return unifiedPatch(await store.persistence.objects(), diff, { ...options, stripFolder: options.stripFolder ?? store.persistence.workspaceRoots.length === 1 });
}

/** Both sides hold one folder (the diff names it as one side does, whatever the other called it). */
function singleFolder(a: PointSummary, b: PointSummary | undefined): boolean {
  return a.roots.length === 1 && (!b || b.roots.length === 1);
}

/** A point that changed something under a folder, and what (paths in the point's folder names). */
export interface FolderChange {
  readonly point: PointSummary;
  /** The folder's path in the point's folder names. */
  readonly folder: string;
  /** The point the change is against (`pointBase`), none for the oldest. */
  readonly base: PointSummary | undefined;
  /** The folder's path in the base's folder names (where the left side of a change is read): `folder`'s but for a folder renamed since. */
  readonly baseFolder: string;
  /** In the workspace's folder names: where the folder is now, and (`renamedFrom`) where it was before this point renamed or moved it. */
  readonly workspaceFolder: string;
  readonly renamedFrom?: string;
  readonly diff: TreeDiff;
}

/**
 * The points that changed something under `workspacePath` (a folder in the workspace's names,
 * `folder/rel`), newest first, each with its changes there against the point before it (`pointBase`).
 * `labelled`: also the points a person labelled that hold the folder and changed nothing in it (empty
 * `diff`), the places people look for when they restore it. `followRenames`: a folder that a point
 * renamed or moved (its files deleted there and added here, `pairRenames`) is followed to where it was
 * before: that point is listed with what changed in its files (`renamedFrom`), and the points before
 * it with the folder under its old name (`folder`, `workspaceFolder`).
 */
export async function folderHistory(store: RecoveryStore, workspacePath: string, options: { readonly signal?: AbortSignal; readonly labelled?: boolean; readonly followRenames?: boolean } = {}): Promise<FolderChange[]> {
  const { signal } = options;
  const points = await store.recovery.listRecoveryPoints();
  const bases = pointBases(points);
  const objects = await store.persistence.objects();
  const mappings = new MappingCache(objects, store.persistence.workspaceRoots);
  const found: FolderChange[] = [];
  let wanted = workspacePath;
  for (const point of points) {
    signal?.throwIfAborted();
    const folder = await mappings.inPoint(point, wanted);
    if (folder === undefined) continue;
    const parent = bases.get(point.id);
    let parentFolder = parent && (await mappings.inPoint(parent, wanted));
    const now = await lookupEntry(objects, point.root, folder);
    let before = parent && parentFolder !== undefined ? await lookupEntry(objects, parent.root, parentFolder) : undefined;
    let renamedFrom: string | undefined;
    if (options.followRenames && parent && now?.kind === 'd' && before?.kind !== 'd') {
      const from = await folderMovedFrom(store, points, point, folder, mappings);
      const inParent = from !== undefined ? await mappings.inPoint(parent, from) : undefined;
      const was = inParent !== undefined ? await lookupEntry(objects, parent.root, inParent) : undefined;
      if (was?.kind === 'd') [renamedFrom, parentFolder, before] = [from, inParent, was];
    }
    const change = { point, folder, base: parent, baseFolder: parentFolder ?? folder, workspaceFolder: wanted, ...(renamedFrom !== undefined ? { renamedFrom } : {}) };
    if (renamedFrom !== undefined) wanted = renamedFrom;
    const landmark = options.labelled === true && isPinned(point) && now?.kind === 'd';
    const unchanged = { added: [], modified: [], deleted: [] };
    if (now?.kind === before?.kind && now?.hash === before?.hash) {
      if (landmark || renamedFrom !== undefined) found.push({ ...change, diff: unchanged });
      continue;
    }
    if (now?.kind !== 'd' && before?.kind !== 'd') continue;
    const diff = await diffUnder(objects, before?.kind === 'd' ? before.hash : null, now?.kind === 'd' ? now.hash : null, folder);
    if (diff.added.length + diff.modified.length + diff.deleted.length > 0 || landmark || renamedFrom !== undefined) found.push({ ...change, diff });
  }
  return found;
}

/**
 * Where `point` moved `folder` (its path in the point) from, in the workspace's folder names: the
 * folder most of the files it added there came from, paired with its deletions as a move (`pairRenames`).
 */
async function folderMovedFrom(store: RecoveryStore, points: readonly PointSummary[], point: PointSummary, folder: string, mappings: MappingCache): Promise<string | undefined> {
  const changes = await store.recovery.changedFiles(point.id, points);
  const votes = new Map<string, number>();
  for (const pair of pairRenames(changes)) {
    if (!pair.to.startsWith(`${folder}/`)) continue;
    const rest = pair.to.slice(folder.length);
    if (!pair.from.endsWith(rest)) continue;
    const from = pair.from.slice(0, pair.from.length - rest.length);
    votes.set(from, (votes.get(from) ?? 0) + 1);
  }
  const best = [...votes].sort((a, b) => b[1] - a[1])[0]?.[0];
  const mapping = best !== undefined ? await mappings.of(point) : undefined;
  return mapping && best !== undefined ? toWorkspacePath(mapping, best) : undefined;
}

/** The difference of two folder trees (either may be absent), with paths under `prefix`. */
async function diffUnder(objects: ObjectReader, before: string | null, after: string | null, prefix: string): Promise<TreeDiff> {
  const prefixed = (d: TreeDiff): TreeDiff => ({
    added: d.added.map((c) => ({ ...c, path: `${prefix}/${c.path}` })),
    modified: d.modified.map((c) => ({ ...c, path: `${prefix}/${c.path}` })),
    deleted: d.deleted.map((c) => ({ ...c, path: `${prefix}/${c.path}` })),
  });
  if (after !== null) return prefixed(await diffTrees(objects, before, after));
  // The folder is gone: everything it held was deleted.
  const gone = await diffTrees(objects, null, before!);
  return prefixed({ added: [], modified: [], deleted: gone.added.map((c) => ({ path: c.path, before: c.after })) });
}

/** A file some point holds that the workspace no longer has. */
export interface DeletedFile {
  /** In the workspace's folder names. */
  readonly path: string;
  /** The newest point that holds the file, and the file's path in it. */
  readonly version: PointSummary;
  readonly pointPath: string;
  /** The point that recorded its deletion (the one after `version`). */
  readonly deletedIn: PointSummary;
  /** Points between `version` and `deletedIn` were removed (by clean-up): the deletion may have been in one of them, earlier. */
  readonly orEarlier: boolean;
  readonly size: number;
}

/**
 * Files that a point holds and the workspace lacks, newest deletion first: the deletions between
 * each listed point and the one before it, kept when the newer point does not hold the file again and
 * it is missing on disk now. A file a point stopped tracking (still on disk then: excluded or ignored
 * since) is no deletion of it, and is not listed.
 */
export async function deletedFiles(store: RecoveryStore, signal?: AbortSignal): Promise<DeletedFile[]> {
  const points = await store.recovery.listRecoveryPoints();
  const objects = await store.persistence.objects();
  const roots = store.persistence.workspaceRoots;
  const mappings = new MappingCache(objects, roots);
  const seen = new Set<string>();
  const found: DeletedFile[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    signal?.throwIfAborted();
    const newer = points[i]!;
    const older = points[i + 1]!;
    if (newer.root === older.root) continue;
    const olderMapping = await mappings.of(older);
    if (!olderMapping) continue;
    const diff = await diffTrees(objects, older.root, newer.root);
    for (const change of diff.deleted) {
      // not deleted: the newer point stopped tracking it (excluded, ignored since); a restore of it would write where no point, and no undo, sees
      if (isUntracked(newer, change.path)) continue;
      const path = toWorkspacePath(olderMapping, change.path);
      if (path === undefined || seen.has(path)) continue;
      seen.add(path);
      const inNewer = await mappings.inPoint(newer, path);
      if (inNewer !== undefined && (await lookupEntry(objects, newer.root, inNewer).catch(() => undefined))) continue;
      const file = absolutePath(roots, path);
      if (file === undefined || (await exists(file))) continue;
      found.push({ path, version: older, pointPath: change.path, deletedIn: newer, orEarlier: newer.parentId !== older.id, size: change.before?.size ?? 0 });
    }
  }
  return found;
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}

/** Each point's folder mapping onto the workspace, computed once (`undefined`: none of its folders is in the workspace). */
class MappingCache {
  private readonly cache = new Map<string, Promise<FolderMapping | undefined>>();

  constructor(
    private readonly objects: ObjectReader,
    private readonly roots: Parameters<typeof mapFolders>[1],
  ) {}

  of(point: PointSummary): Promise<FolderMapping | undefined> {
    let mapping = this.cache.get(point.id);
    if (!mapping) {
      mapping = mapPoint(this.objects, point, this.roots).then(
        (m) => m.mapping,
        () => undefined,
      );
      this.cache.set(point.id, mapping);
    }
    return mapping;
  }

  async inPoint(point: PointSummary, workspacePath: string): Promise<string | undefined> {
    const mapping = await this.of(point);
    return mapping && toPointFolderPath(mapping, workspacePath);
  }
}
