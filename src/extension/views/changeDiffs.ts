import * as vscode from 'vscode';
import { isUntracked, pointTime, type FileChange, type PointSummary, type RenamedFile, type TreeDiff } from '../../core';
import { plural } from '../../core/format';
import type { WorkspaceFolders } from '../workspaceFolders';
import { PointContentProvider } from './pointContentProvider';

/** A point as far as its time shown goes: when it was made (`pointTime`: its `createdAt`, not its id's time). */
export type TimedPoint = Pick<PointSummary, 'id' | 'createdAt'>;

/** One side of a comparison: a point, nothing (`undefined`: empty), or the current workspace files. */
export type Side = TimedPoint | undefined | 'workspace';

/** One file of a multi-file diff: the resource it is named by, its two sides. */
export type ChangeResource = [label: vscode.Uri, original: vscode.Uri | undefined, modified: vscode.Uri | undefined];

/** "14:02" for when a point was made, with seconds when `other` is in the same minute, with the date when on another day. */
export function formatPointTime(point: TimedPoint, other?: TimedPoint): string {
  const at = new Date(pointTime(point));
  const options: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' };
  if (other) {
    const them = new Date(pointTime(other));
    if (Math.floor(at.getTime() / 60_000) === Math.floor(them.getTime() / 60_000)) options.second = '2-digit';
    if (at.toDateString() !== them.toDateString()) Object.assign(options, { month: 'short', day: 'numeric' });
  } else if (at.toDateString() !== new Date().toDateString()) Object.assign(options, { month: 'short', day: 'numeric' });
  return at.toLocaleString(undefined, options);
}

/** "14:02 ↔ 14:05", "14:02 ↔ Current", "∅ ↔ 14:05" (nothing before). */
export function sidesTitle(from: Side, to: Side): string {
  const name = (side: Side, other: Side) => (side === 'workspace' ? 'Current' : side === undefined ? '\u2205' : formatPointTime(side, other === 'workspace' ? undefined : other));
  return `${name(from, to)} \u2194 ${name(to, from)}`;
}

/** The document of a path on one side (`undefined` on that side: an empty document). */
function sideUri(folders: WorkspaceFolders, side: Side, path: string): vscode.Uri {
  if (side === 'workspace') return folders.toUri(path) ?? PointContentProvider.uri(path, undefined);
  return PointContentProvider.uri(path, side?.id);
}

/** The two documents of one changed file between `from` and `to` (a side without the file is empty). */
export function changeUris(folders: WorkspaceFolders, from: Side, to: Side, change: FileChange): { original: vscode.Uri; modified: vscode.Uri } {
  return {
    original: change.before ? sideUri(folders, from, change.path) : PointContentProvider.uri(change.path, undefined),
    modified: change.after ? sideUri(folders, to, change.path) : PointContentProvider.uri(change.path, undefined),
  };
}

/** Opens one file's change in a diff editor, its title carrying the sides' times. */
export async function openFileChange(folders: WorkspaceFolders, from: Side, to: Side, change: FileChange): Promise<{ original: vscode.Uri; modified: vscode.Uri; title: string }> {
  const { original, modified } = changeUris(folders, from, to, change);
  const name = folders.display(change.path).split('/').at(-1)!;
  const when = to === 'workspace' ? 'now' : to === undefined ? '' : formatPointTime(to);
  const title = !change.before ? `${name} (added ${when})` : !change.after ? `${name} (deleted ${when})` : `${name} (${sidesTitle(from, to)})`;
  await vscode.commands.executeCommand('vscode.diff', original, modified, title, { preview: true });
  return { original, modified, title };
}

/**
 * Where a diff's paths are, when not where its sides and the workspace have them: a folder renamed
 * since (shown under its name now) or by the change (its files read where they were on the left).
 */
export interface ChangePlaces {
  /** The workspace path a file is shown as. */
  readonly shown: (path: string) => string;
  /** The file's path on the left side. */
  readonly before: (path: string) => string;
}

/**
 * Every file of a diff in VS Code's multi-file diff editor (`vscode.changes`); returns what it opened.
 * A file the older side holds that is on disk but no longer tracked (`untracked`) is no deletion:
 * against the current files it is shown against the file on disk; between points, where no side holds
 * it, it is left out of the list and the title says so (`notTracked`: those left out), as the tree
 * names such a row "no longer tracked". A file renamed or moved between the sides (`renamed`) is one
 * entry under its new path, its old path's content on the left.
 */
export async function openChanges(
  folders: WorkspaceFolders,
  title: string,
  from: Side,
  to: Side,
  diff: TreeDiff & Pick<PointSummary, 'untracked'> & { readonly renamed?: readonly RenamedFile[] },
  places?: ChangePlaces,
): Promise<{ title: string; resources: ChangeResource[]; notTracked: string[] }> {
  const notTracked = to === 'workspace' ? [] : diff.deleted.filter((c) => isUntracked(diff, c.path)).map((c) => c.path);
  const renamedFrom = new Map((diff.renamed ?? []).map((r) => [r.to, r.from]));
  const left = new Set([...notTracked, ...renamedFrom.values()]);
  const changes = [...diff.modified, ...diff.added, ...diff.deleted].filter((c) => !left.has(c.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const resources: ChangeResource[] = changes.map((change) => {
    const was = renamedFrom.get(change.path);
    if (was !== undefined) return [folders.toUri(change.path) ?? sideUri(folders, to, change.path), sideUri(folders, from, was), sideUri(folders, to, change.path)];
    const { original, modified } = changeUris(folders, from, to, change);
    const onDisk = to === 'workspace' && !change.after && isUntracked(diff, change.path) ? folders.toUri(change.path) : undefined;
    const before = places && change.before ? sideUri(folders, from, places.before(change.path)) : original;
    return [folders.toUri(places?.shown(change.path) ?? change.path) ?? modified, change.before ? before : undefined, onDisk ?? (change.after ? modified : undefined)];
  });
  const shown = notTracked.length === 0 ? title : `${title} \u2014 ${noLongerTrackedNote(folders, notTracked)}, not shown`;
  await vscode.commands.executeCommand('vscode.changes', shown, resources);
  return { title: shown, resources, notTracked };
}

/** "notes.txt no longer tracked", "3 files no longer tracked": files still on disk that a point stopped tracking. */
export function noLongerTrackedNote(folders: WorkspaceFolders, paths: readonly string[]): string {
  return `${paths.length === 1 ? folders.display(paths[0]!).split('/').at(-1)! : plural(paths.length, 'file')} no longer tracked`;
}

/** The tab title of a version (`PointContentProvider.uri`) `point` holds, "format.ts (14:02)": without the time it reads as the workspace file's own tab. */
export function versionTabTitle(uri: vscode.Uri, point: TimedPoint): string {
  return `${uri.path.slice(uri.path.lastIndexOf('/') + 1)} (${formatPointTime(point)})`;
}

/** Opens a version `point` holds (`PointContentProvider.uri`) read-only, in a tab titled with the point's time. */
export async function openVersion(uri: vscode.Uri, point: TimedPoint, options: vscode.TextDocumentShowOptions = {}): Promise<vscode.TextEditor | undefined> {
  await vscode.commands.executeCommand('vscode.open', uri, { preview: true, ...options }, versionTabTitle(uri, point));
  return vscode.window.visibleTextEditors.find((editor) => editor.document.uri.toString() === uri.toString());
}
