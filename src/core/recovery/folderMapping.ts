import { realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { StateError } from '../errors';
import type { ObjectReader } from '../objects/objectStore';
import { hashTree, makeTree } from '../objects/tree';
import type { PointSummary, TreeEntry, TreeObject, WorkspaceRoot } from '../schemas';

/** One folder of a point and the workspace folder that stands for it now. */
export interface FolderPair {
  readonly point: string;
  readonly workspace: string;
  /**
   * Same name; else same path on disk; else the same folder reached through a link; else the same
   * folder on disk (its identity, as the point or an undo recorded it), renamed or moved since; else
   * the only folder of a one-folder point and workspace.
   */
  readonly by: 'name' | 'path' | 'link' | 'moved' | 'single';
  /** A pair by name whose folders are in different places: where the point's was, and the workspace's is. */
  readonly places?: { readonly point: string; readonly workspace: string };
}

/**
 * How a point's folders (the entries of its root tree) meet the workspace's folders. A restore, a
 * preview or a comparison sees the point through it: point folders under their workspace names, and
 * only the workspace folders the point holds — a workspace folder the point does not know is not
 * captured, never empty.
 */
export interface FolderMapping {
  readonly pairs: readonly FolderPair[];
  /** Point folders no workspace folder stands for: left out. */
  readonly unmapped: readonly string[];
  /** Workspace folders the point does not hold: never touched. */
  readonly uncovered: readonly string[];
}

/**
 * Maps a point's folders onto the workspace's: by path (the same folder, whatever its name now: two
 * folders of one name reordered, or names swapped in the workspace file), then by name, then by the
 * real folder a link leads to, then a point folder gone from its path onto the workspace folder that
 * is that folder on disk, renamed or moved (by the identity the point recorded, `WorkspaceRoot.id`, or
 * with `folderIds`, those an undo record keeps); then a one-folder point onto a one-folder workspace
 * whatever the names.
 * Throws InvalidState when no folder maps.
 */
export function mapFolders(
  pointFolders: ReadonlyArray<{ readonly name: string; readonly path?: string; readonly id?: string }>,
  workspace: readonly WorkspaceRoot[],
  folderIds: Readonly<Record<string, string>> = {},
): FolderMapping {
  const pairs: FolderPair[] = [];
  const taken = new Set<string>();
  const pair = (point: string, ws: string, by: FolderPair['by'], places?: FolderPair['places']) => {
    pairs.push({ point, workspace: ws, by, ...(places ? { places } : {}) });
    taken.add(ws);
  };
  const left = () => pointFolders.filter((f) => !pairs.some((p) => p.point === f.name));
  // the same folder by its path first: a name can pass to another folder (two folders of one name, reordered)
  for (const folder of pointFolders) {
    if (folder.path === undefined) continue;
    const same = workspace.find((r) => !taken.has(r.name) && path.resolve(r.path) === path.resolve(folder.path!));
    if (same) pair(folder.name, same.name, same.name === folder.name ? 'name' : 'path');
  }
  for (const folder of left()) {
    const same = workspace.find((r) => !taken.has(r.name) && r.name === folder.name);
    if (!same) continue;
    const elsewhere = folder.path !== undefined && path.resolve(folder.path) !== path.resolve(same.path);
    pair(folder.name, folder.name, 'name', elsewhere ? { point: folder.path!, workspace: same.path } : undefined);
  }
  for (const folder of left()) {
    if (folder.path === undefined || !isFolder(folder.path)) continue;
    const linked = workspace.find((r) => !taken.has(r.name) && realPath(r.path) === realPath(folder.path!));
    if (linked) pair(folder.name, linked.name, 'link');
  }
  // renamed or moved on disk (the workspace file updated): the folder the point recorded, by device, inode and creation time
  for (const folder of left()) {
    if (folder.id === undefined || folder.path === undefined || isFolder(folder.path)) continue;
    const moved = workspace.find((r) => !taken.has(r.name) && folderIdentity(r.path) === folder.id);
    if (moved) pair(folder.name, moved.name, 'moved');
  }
  for (const folder of left()) {
    const recorded = folderIds[folder.name];
    if (recorded === undefined || folder.path === undefined || isFolder(folder.path)) continue;
    const moved = workspace.find((r) => !taken.has(r.name) && folderId(r.path) === recorded);
    if (moved) pair(folder.name, moved.name, 'moved');
  }
  if (pointFolders.length === 1 && workspace.length === 1 && pairs.length === 0) pair(pointFolders[0]!.name, workspace[0]!.name, 'single');
  if (pairs.length === 0) {
    const listed = (names: string[]) => (names.length === 0 ? 'none' : names.map((n) => `"${n}"`).join(', '));
    throw StateError.invalidState(
      `This recovery point's folders (${listed(pointFolders.map((f) => f.name))}) match none of this workspace's folders (${listed(workspace.map((r) => r.name))}) by name or by path, so nothing can be restored or compared safely. Open the workspace with the point's folders, or restore single files by path.`,
    );
  }
  const order = workspace.map((r) => r.name);
  return {
    pairs: pairs.sort((a, b) => order.indexOf(a.workspace) - order.indexOf(b.workspace)),
    unmapped: left().map((f) => f.name),
    uncovered: workspace.filter((r) => !taken.has(r.name)).map((r) => r.name),
  };
}

/**
 * The folders of `point` that are still on disk somewhere else than the workspace folder that stands
 * for them now (`point`'s path and that folder's): the point was made in another folder that is still
 * there (another project's store, a copy), not in this one under an old name or place.
 */
export function foldersStillElsewhere(
  point: Pick<PointSummary, 'roots'>,
  workspace: readonly WorkspaceRoot[],
  realPaths: Readonly<Record<string, string>> = {},
  folderIds: Readonly<Record<string, string>> = {},
): Array<{ point: string; workspace: string | undefined; moved?: true }> {
  let mapping: FolderMapping;
  try {
    mapping = mapFolders(point.roots, workspace, folderIds);
  } catch {
    return [];
  }
  // where a point folder is on disk: the path it was opened by, else (a link removed since) the real folder it led to
  const stillAt = (name: string): string | undefined => {
    const was = point.roots.find((r) => r.name === name)?.path;
    if (was !== undefined && isFolder(was)) return was;
    const realWas = realPaths[name];
    return realWas !== undefined && isFolder(realWas) ? realWas : undefined;
  };
  const elsewhere: Array<{ point: string; workspace: string | undefined; moved?: true }> = [];
  for (const pair of mapping.pairs) {
    const now = workspace.find((r) => r.name === pair.workspace)!.path;
    const was = point.roots.find((r) => r.name === pair.point)?.path;
    if (was !== undefined && path.resolve(was) === path.resolve(now)) continue;
    const there = stillAt(pair.point);
    if (there !== undefined) {
      if (realPath(there) !== realPath(now)) elsewhere.push({ point: there, workspace: now });
      continue;
    }
    // gone from its place: a move on one disk keeps the folder's inode, a copy (or another folder) has its own
    const recorded = folderIds[pair.point];
    const current = folderId(now);
    if (was !== undefined && recorded !== undefined && current !== undefined && current !== recorded && sameDevice(current, recorded)) {
      elsewhere.push({ point: was, workspace: now, moved: true });
    }
  }
  // a folder of the point this workspace lacks, still on disk: an undo here would undo only part of it
  for (const name of mapping.unmapped) {
    const there = stillAt(name);
    if (there !== undefined) elsewhere.push({ point: there, workspace: undefined });
  }
  return elsewhere;
}

/** The folder's real path, links followed; its resolved path when it cannot be looked at. */
function realPath(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    return path.resolve(folder);
  }
}

/** Whether `folder` is a folder now (links followed). */
export function isFolder(folder: string): boolean {
  return statSync(folder, { throwIfNoEntry: false })?.isDirectory() === true;
}

/** A folder's device, inode and creation time, as a point records it (`WorkspaceRoot.id`); `undefined` when it is no folder. */
export function folderIdentity(folder: string): string | undefined {
  try {
    const stat = statSync(folder);
    return stat.isDirectory() ? `${stat.dev}:${stat.ino}:${stat.birthtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}

/** A folder's device and inode (`dev:ino`), links followed; `undefined` when it cannot be looked at. */
export function folderId(folder: string): string | undefined {
  try {
    const stat = statSync(folder, { bigint: true });
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

function sameDevice(a: string, b: string): boolean {
  return a.slice(0, a.indexOf(':')) === b.slice(0, b.indexOf(':'));
}

/** True when the point's folders are the workspace's, one for one, under the same names. */
export function isIdentity(mapping: FolderMapping): boolean {
  return mapping.unmapped.length === 0 && mapping.uncovered.length === 0 && mapping.pairs.every((p) => p.point === p.workspace);
}

const SAME: Record<FolderPair['by'], string> = { name: 'same name', path: 'same path', link: 'the same folder, through a link', moved: 'the same folder, renamed or moved', single: 'same only folder' };

/**
 * Whether a pair's workspace folder is known to be the point's own folder: at its path, reached
 * through a link, or the same folder renamed or moved. Its files had the point's versions there once.
 * Not a folder of the same name in another place, nor the only folder of each whatever the names:
 * another project's history (a bundle imported) maps so too, and its versions were never here.
 */
export function isSameFolder(pair: FolderPair): boolean {
  return pair.by === 'path' || pair.by === 'link' || pair.by === 'moved' || (pair.by === 'name' && pair.places === undefined);
}

/** Whether a workspace path (`folder/rel`) is in a folder `mapping` pairs with the point's own folder (`isSameFolder`): its files had the point's versions there once. */
export function inOwnFolder(mapping: FolderMapping, workspacePath: string): boolean {
  const folder = workspacePath.split('/')[0];
  return mapping.pairs.some((pair) => pair.workspace === folder && isSameFolder(pair));
}

/** "point folder app → workspace folder app-renamed", one line per folder that is renamed, left out or untouched. */
export function describeMapping(mapping: FolderMapping): string[] {
  return [
    ...mapping.pairs.filter((p) => p.point !== p.workspace).map((p) => `point folder ${p.point} \u2192 workspace folder ${p.workspace} (${SAME[p.by]})`),
    // the same name in another place: a folder moved, or another folder that happens to share its name
    ...mapping.pairs.filter((p) => p.point === p.workspace && p.places).map((p) => `point folder ${p.point} (${p.places!.point}) \u2192 workspace folder ${p.workspace} (${p.places!.workspace}) (same name, another place)`),
    ...mapping.unmapped.map((name) => `point folder ${name} \u2192 not in this workspace (left out)`),
    ...mapping.uncovered.map((name) => `workspace folder ${name} \u2192 not in this point (left as it is)`),
  ];
}

/** A point path (`pointFolder/rel`) under its workspace folder's name; `undefined` for a folder left out. */
export function toWorkspacePath(mapping: FolderMapping, pointPath: string): string | undefined {
  const [first, ...rest] = pointPath.split('/');
  const pair = mapping.pairs.find((p) => p.point === first);
  return pair ? [pair.workspace, ...rest].join('/') : undefined;
}

/** A workspace path (`workspaceFolder/rel`) under the point's folder name; `undefined` for a folder the point does not hold. */
export function toPointFolderPath(mapping: FolderMapping, workspacePath: string): string | undefined {
  const [first, ...rest] = workspacePath.split('/');
  const pair = mapping.pairs.find((p) => p.workspace === first);
  return pair ? [pair.point, ...rest].join('/') : undefined;
}

/**
 * Path filters in workspace names. A filter may name a workspace folder, or (as the point's own file
 * lists do) a point folder that the workspace knows under another name; workspace names come first,
 * and a point folder with the same name as a workspace folder is always mapped to it, so this is never
 * ambiguous.
 */
export function filtersInWorkspace(mapping: FolderMapping, workspace: readonly WorkspaceRoot[], paths: readonly string[]): string[] {
  return paths.map((filter) => {
    const first = filter.split('/')[0];
    if (workspace.some((r) => r.name === first)) return filter;
    return toWorkspacePath(mapping, filter) ?? filter;
  });
}

/**
 * An ObjectReader that also serves trees built in memory (a point's root tree under workspace names),
 * so a comparison through a mapping writes nothing to the store.
 */
export class TreeOverlay implements ObjectReader {
  private readonly trees = new Map<string, TreeObject>();

  constructor(private readonly base: ObjectReader) {}

  add(tree: TreeObject): string {
    const hash = hashTree(tree);
    this.trees.set(hash, tree);
    return hash;
  }

  has(hash: string): boolean {
    return this.trees.has(hash) || this.base.has(hash);
  }

  readBlob(hash: string): Promise<Buffer> {
    return this.base.readBlob(hash);
  }

  readTree(hash: string): Promise<TreeObject> {
    const tree = this.trees.get(hash);
    return tree ? Promise.resolve(tree) : this.base.readTree(hash);
  }
}

/** A point seen from the workspace: its root tree under workspace names, and what the workspace side must be limited to. */
export interface MappedPoint {
  readonly mapping: FolderMapping;
  /** Reads the stored objects and the mapped trees. */
  readonly objects: ObjectReader;
  /** The point's root tree: its mapped folders, renamed to the workspace folders that stand for them. */
  readonly root: string;
  /** A root tree of the workspace (the current files, a safety point) cut to the folders the point holds. */
  covered(workspaceRoot: string): Promise<string>;
}

/** The folders a point holds (the folders of its root tree), with the paths they had when it was made. */
function pointFolders(tree: TreeObject, point: Pick<PointSummary, 'roots'>): Array<{ name: string; path?: string; id?: string }> {
  return tree.e.filter((e) => e[1] === 'd').map((e) => {
    const root = point.roots.find((r) => r.name === e[0]);
    return { name: e[0], path: root?.path, id: root?.id };
  });
}

/** How `point`'s folders map onto `workspace` (reads only its root tree); InvalidState when none maps. */
export async function pointFolderMapping(objects: ObjectReader, point: Pick<PointSummary, 'root' | 'roots'>, workspace: readonly WorkspaceRoot[]): Promise<FolderMapping> {
  return mapFolders(pointFolders(await objects.readTree(point.root), point), workspace);
}

/**
 * Maps `point`'s folders onto `workspace` (InvalidState when none maps) and builds its root tree in
 * workspace names; `folderIds`: as `mapFolders` takes them.
 */
export async function mapPoint(
  objects: ObjectReader,
  point: Pick<PointSummary, 'root' | 'roots'>,
  workspace: readonly WorkspaceRoot[],
  folderIds?: Readonly<Record<string, string>>,
): Promise<MappedPoint> {
  const tree = await objects.readTree(point.root);
  const mapping = mapFolders(pointFolders(tree, point), workspace, folderIds);
  if (isIdentity(mapping)) return { mapping, objects, root: point.root, covered: (root) => Promise.resolve(root) };
  const overlay = new TreeOverlay(objects);
  const root = overlay.add(
    makeTree(
      mapping.pairs.map((pair) => {
        const entry = tree.e.find((e) => e[0] === pair.point)!;
        return [pair.workspace, entry[1], entry[2], entry[3], entry[4]];
      }),
    ),
  );
  const keep = new Set(mapping.pairs.map((p) => p.workspace));
  const grafts = innerFoldersNotHeld(workspace, keep);
  const covered = async (workspaceRoot: string) => {
    const current = await overlay.readTree(workspaceRoot);
    let entries = current.e.filter((e) => keep.has(e[0]));
    for (const graft of grafts) {
      const inner = current.e.find((e) => e[0] === graft.inner);
      const outer = entries.find((e) => e[0] === graft.outer);
      if (!inner || !outer || outer[1] !== 'd') continue;
      const hash = await graftEntry(overlay, outer[2], graft.rel, inner);
      entries = entries.map((e) => (e === outer ? [e[0], 'd', hash, e[3] + inner[3], 0] : e));
    }
    return overlay.add(makeTree(entries));
  };
  return { mapping, objects: overlay, root, covered };
}

/**
 * Workspace folders inside a folder the point holds that the point does not hold themselves (added to
 * the workspace after it): the outer folder's captures then held their files, and leave them out now.
 * A restore compares the point's outer folder with the current files as it held them.
 */
function innerFoldersNotHeld(workspace: readonly WorkspaceRoot[], held: ReadonlySet<string>): Array<{ outer: string; inner: string; rel: string[] }> {
  const grafts: Array<{ outer: string; inner: string; rel: string[] }> = [];
  for (const outer of workspace) {
    if (!held.has(outer.name)) continue;
    for (const inner of workspace) {
      if (held.has(inner.name)) continue;
      const rel = path.relative(path.resolve(outer.path), path.resolve(inner.path));
      if (rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) grafts.push({ outer: outer.name, inner: inner.name, rel: rel.split(path.sep) });
    }
  }
  return grafts;
}

/** Folder `dir` with `entry` put at `rel` below it (folders on the way made), as a new tree in `overlay`. */
async function graftEntry(overlay: TreeOverlay, dir: string | undefined, rel: readonly string[], entry: TreeEntry): Promise<string> {
  const tree = dir === undefined ? { v: 1 as const, e: [] } : await overlay.readTree(dir);
  const [name, ...rest] = rel;
  const existing = tree.e.find((e) => e[0] === name);
  const placed: TreeEntry =
    rest.length === 0 ? [name!, entry[1], entry[2], entry[3], entry[4]] : [name!, 'd', await graftEntry(overlay, existing?.[1] === 'd' ? existing[2] : undefined, rest, entry), (existing?.[1] === 'd' ? existing[3] : 0) + entry[3], 0];
  return overlay.add(makeTree([...tree.e.filter((e) => e[0] !== name), placed]));
}

/**
 * `older`'s root tree in `newer`'s folder names, so that comparing the two shows what changed in the
 * files instead of a renamed or moved folder as all its files deleted and added again. Folders of
 * `older` that no folder of `newer` stands for keep their own names; when nothing maps, `older` is
 * returned as it is.
 */
export async function inFoldersOf(
  objects: ObjectReader,
  older: Pick<PointSummary, 'root' | 'roots'>,
  newer: Pick<PointSummary, 'roots'>,
): Promise<{ readonly objects: ObjectReader; readonly root: string }> {
  const unchanged = { objects, root: older.root };
  // each folder under its name and at its path as before: nothing to map (names swapped between two folders are not)
  const same = (r: { name: string; path: string }) => newer.roots.some((n) => n.name === r.name && path.resolve(n.path) === path.resolve(r.path));
  if (older.roots.every(same)) return unchanged;
  const tree = await objects.readTree(older.root);
  try {
    const mapping = mapFolders(pointFolders(tree, older), newer.roots);
    if (mapping.pairs.every((p) => p.point === p.workspace)) return unchanged;
    const overlay = new TreeOverlay(objects);
    const renamed = new Map(mapping.pairs.map((p) => [p.point, p.workspace]));
    const root = overlay.add(makeTree(tree.e.map((e) => [renamed.get(e[0]) ?? e[0], e[1], e[2], e[3], e[4]])));
    return { objects: overlay, root };
  } catch (error) {
    if (error instanceof StateError) return unchanged;
    throw error;
  }
}
