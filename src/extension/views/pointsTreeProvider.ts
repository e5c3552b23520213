import * as vscode from 'vscode';
import { formatBytes, formatChangeCounts, formatRelativeTime, plural, shownCounts } from '../../core/format';
import { describeCause, describeHead, isNowTracked, isPinned, isUntracked, pointBase, pointTime, type FileChange, type PointSummary, type RecoveryStore, type TreeDiff, type Trigger } from '../../core';
import { changeTree, type ChangeFolder } from '../../core/history/changeTree';
import { POINT_SCHEME, PointContentProvider } from './pointContentProvider';
import { versionTabTitle } from './changeDiffs';
import type { Log } from '../log';
import { pointPaths } from '../pointPaths';
import type { PointsModel } from '../pointsModel';
import type { WorkspaceFolders } from '../workspaceFolders';
import { PointsFilter } from './pointsFilter';

export type ChangeKind = 'added' | 'modified' | 'deleted';

export class DayNode {
  readonly kind = 'day';
  constructor(
    readonly label: string,
    readonly points: PointSummary[],
    readonly expanded: boolean,
  ) {}
}

export class PointNode {
  readonly kind = 'point';
  constructor(readonly point: PointSummary) {}
}

export class FileNode {
  readonly kind = 'file';
  constructor(
    readonly point: PointSummary,
    /** Its path is the point's (the folder under the name it had then). */
    readonly change: FileChange,
    readonly changeKind: ChangeKind,
    /** The same file in this workspace's folder names; `undefined` when its folder is not in this workspace. */
    readonly workspacePath: string | undefined,
    /** The point the change is against (`pointBase`: the parent while it is kept); `undefined` for none. */
    readonly base: PointSummary | undefined,
  ) {}
}

/** A folder of a point's changed files (a compressed chain of single-child folders is one node). */
export class FolderNode {
  readonly kind = 'folder';
  constructor(
    readonly point: PointSummary,
    readonly folder: ChangeFolder<FileNode>,
    readonly expanded: boolean,
  ) {}
}

/** "All files": the point's whole file tree, every file it holds. */
export class AllFilesNode {
  readonly kind = 'allFiles';
  constructor(readonly point: PointSummary) {}
}

/** A file or folder as the point holds it (under "All files"), opened read-only. */
export class StoredNode {
  readonly kind = 'stored';
  constructor(
    readonly point: PointSummary,
    /** The point path (`folder/rel`, in the point's folder names). */
    readonly path: string,
    readonly isFolder: boolean,
    readonly hash: string,
    readonly size: number,
  ) {}
}

export type Node = DayNode | PointNode | FileNode | FolderNode | AllFilesNode | StoredNode;

/** Points with more changed files than this show their folders collapsed. */
const EXPAND_UP_TO = 50;

/** The codicon of each trigger, in the points tree and the File History view. */
export const TRIGGER_ICONS: Record<Trigger, string> = {
  manual: 'bookmark',
  save: 'save',
  external: 'file-symlink-directory',
  'before-restore': 'shield',
  restore: 'history',
  startup: 'folder-opened',
  agent: 'robot',
};

const TRIGGER_WORDS: Record<Trigger, string> = {
  manual: 'Created by hand',
  save: 'Saved in the editor',
  external: 'Changed on disk, not by a save in an editor (the explorer, a terminal, another program)',
  'before-restore': 'Safety point before a restore',
  restore: 'As a restore left the files',
  startup: 'When the folder was opened: files as they were found, or changed while the editor was closed',
  agent: "Made by an AI agent's hook",
};

const CHANGE_ICONS: Record<ChangeKind, [string, string]> = {
  added: ['diff-added', 'gitDecoration.addedResourceForeground'],
  modified: ['diff-modified', 'gitDecoration.modifiedResourceForeground'],
  deleted: ['diff-removed', 'gitDecoration.deletedResourceForeground'],
};

/** A deletion that is not one: the point stopped tracking a file still on disk (`isUntracked`). */
const UNTRACKED_ICON: [string, string] = ['eye-closed', 'gitDecoration.ignoredResourceForeground'];
/** An addition that is not one: the point began tracking a file that was on disk before (`isNowTracked`). */
const NOW_TRACKED_ICON: [string, string] = ['eye', 'gitDecoration.addedResourceForeground'];

/** The points, grouped by day, newest first; each expands to the files it changed against the point before it (`pointBase`). */
export class PointsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly changes = new Map<string, Promise<TreeDiff>>();
  private readonly parents = new WeakMap<Node, Node>();
  private readonly subscription: vscode.Disposable;
  /** Which points the tree shows ("Filter…" in the view's title). */
  readonly filter: PointsFilter;

  constructor(
    private readonly store: RecoveryStore,
    private readonly model: PointsModel,
    private readonly folders: WorkspaceFolders,
    private readonly log: Log,
  ) {
    this.filter = new PointsFilter(store, log);
    this.subscription = vscode.Disposable.from(
      model.onDidChange(() => this.changed.fire(undefined)),
      this.filter.onDidChange(() => this.changed.fire(undefined)),
      this.filter,
    );
  }

  /** Relative times age: the whole tree is refreshed now and then. */
  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] | Promise<Node[]> {
    if (!node) return this.filter.active ? this.filter.apply(this.model.points).then((points) => groupByDay(points)) : groupByDay(this.model.points);
    if (node instanceof DayNode) return node.points.map((p) => new PointNode(p));
    if (node instanceof PointNode) return this.changedFiles(node.point);
    if (node instanceof FolderNode) return this.folderChildren(node);
    if (node instanceof AllFilesNode) return this.storedChildren(node.point, undefined);
    if (node instanceof StoredNode && node.isFolder) return this.storedChildren(node.point, node);
    return [];
  }

  getParent(node: Node): Node | undefined {
    if (node instanceof PointNode) return groupByDay(this.model.points).find((day) => day.points.some((p) => p.id === node.point.id));
    if (node instanceof FileNode || node instanceof FolderNode || node instanceof StoredNode || node instanceof AllFilesNode) return this.parents.get(node) ?? new PointNode(node.point);
    return undefined;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node instanceof DayNode) {
      const item = new vscode.TreeItem(node.label, node.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `day:${node.label}`;
      item.description = plural(node.points.length, 'point');
      item.contextValue = 'day';
      return item;
    }
    if (node instanceof PointNode) return this.pointItem(node.point);
    if (node instanceof FolderNode) return this.folderItem(node);
    if (node instanceof AllFilesNode) return this.allFilesItem(node);
    if (node instanceof StoredNode) return this.storedItem(node);
    return this.fileItem(node);
  }

  private pointItem(point: PointSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(point.label ?? point.summary, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `point:${point.id}`;
    item.description = `${formatRelativeTime(pointTime(point))}  ${formatChangeCounts(point.changes)}`;
    item.iconPath = new vscode.ThemeIcon(isPinned(point) ? 'pinned' : TRIGGER_ICONS[point.trigger]);
    item.contextValue = point.label ? 'point.labelled' : 'point';
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escape(point.label ?? point.summary)}**\n\n`);
    if (point.label) tooltip.appendMarkdown(`${escape(point.summary)}\n\n`);
    tooltip.appendMarkdown(`${new Date(pointTime(point)).toLocaleString()} (${formatRelativeTime(pointTime(point))})\n\n`);
    const made = point.agent ? `Made by ${point.agent} (agent hook)` : TRIGGER_WORDS[point.trigger];
    // a labelled point made by hand is summed up "Created by hand" just above
    if (!(point.label && point.summary === made)) tooltip.appendMarkdown(`$(${TRIGGER_ICONS[point.trigger]}) ${escape(made)}\n\n`);
    const heads = point.roots.flatMap((r) => (!r.head ? [] : point.roots.length === 1 ? [describeHead(r.head).replace(/^o/, 'O')] : [`${r.name} ${describeHead(r.head)}`]));
    if (heads.length > 0) tooltip.appendMarkdown(`$(git-branch) ${escape(heads.join(', '))}\n\n`);
    const base = pointBase(this.model.points, point);
    const shown = shownCounts(point.changes);
    const tracking = `${shown.noLongerTracked ? `, ${shown.noLongerTracked} no longer tracked (still on disk)` : ''}${shown.nowTracked ? `, ${shown.nowTracked} now tracked (already on disk)` : ''}`;
    const counts = `${shown.added} added, ${shown.modified} modified, ${shown.deleted} deleted${tracking}`;
    const changed = !base
      ? point.parentId === null ? 'The first point: every file is new in it' : 'The oldest point kept (the ones before it were deleted or cleaned up): every file it holds is shown as new'
      : base.id === point.parentId ? `${counts} since the point before` : `${counts} since the point before it in this list${point.parentId === null ? '' : '; its name says what changed since the point it was made after, which is no longer kept (deleted or cleaned up)'}`;
    tooltip.appendMarkdown(`${changed} · holds ${plural(point.fileCount, 'file')}, ${formatBytes(point.totalSize)} · took ${formatBytes(point.addedBytes)} of new disk space`);
    if (isPinned(point)) tooltip.appendMarkdown('\n\n$(pinned) Labelled: clean-up never removes it');
    item.tooltip = tooltip;
    return item;
  }

  private folderItem(node: FolderNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.folder.label, node.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `folder:${node.point.id}:${node.folder.path}`;
    item.description = plural(node.folder.fileCount, 'file');
    item.iconPath = vscode.ThemeIcon.Folder;
    item.resourceUri = vscode.Uri.from({ scheme: POINT_SCHEME, path: `/${node.folder.path}` });
    item.tooltip = `${node.folder.path}: ${plural(node.folder.fileCount, 'file')} changed in this point`;
    item.contextValue = 'changedFolder';
    return item;
  }

  private allFilesItem(node: AllFilesNode): vscode.TreeItem {
    const item = new vscode.TreeItem('All files', vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `all:${node.point.id}`;
    item.description = plural(node.point.fileCount, 'file');
    item.iconPath = new vscode.ThemeIcon('files');
    item.tooltip = 'Every file this point holds, as it holds them (read-only)';
    item.contextValue = 'allFiles';
    return item;
  }

  private storedItem(node: StoredNode): vscode.TreeItem {
    const name = node.path.slice(node.path.lastIndexOf('/') + 1);
    const item = new vscode.TreeItem(name, node.isFolder ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `stored:${node.point.id}:${node.path}`;
    const uri = PointContentProvider.uri(node.path, node.point.id);
    item.resourceUri = uri;
    item.iconPath = node.isFolder ? vscode.ThemeIcon.Folder : vscode.ThemeIcon.File;
    item.description = node.isFolder ? '' : formatBytes(node.size);
    item.contextValue = node.isFolder ? 'storedFolder' : 'storedFile';
    if (!node.isFolder) {
      item.tooltip = `${this.folders.display(node.path)} as this point holds it (read-only)`;
      item.command = { command: 'vscode.open', title: 'Open', arguments: [uri, { preview: true }, versionTabTitle(uri, node.point)] };
    }
    return item;
  }

  private fileItem(node: FileNode): vscode.TreeItem {
    const uri = node.workspacePath === undefined ? undefined : this.folders.toUri(node.workspacePath);
    const display = this.folders.display(node.workspacePath ?? node.change.path);
    const slash = display.lastIndexOf('/');
    const item = new vscode.TreeItem(display.slice(slash + 1), vscode.TreeItemCollapsibleState.None);
    item.id = `file:${node.point.id}:${node.change.path}`;
    // not the file's own uri: the source control's letters and colours (M, U, D) say how the file
    // stands now, and on a row of a past point they read as what that point changed
    item.resourceUri = uri?.with({ scheme: POINT_SCHEME });
    const untracked = node.changeKind === 'deleted' && isUntracked(node.point, node.change.path);
    const nowTracked = node.changeKind === 'added' && isNowTracked(node.point, node.change.path);
    const [icon, color] = untracked ? UNTRACKED_ICON : nowTracked ? NOW_TRACKED_ICON : CHANGE_ICONS[node.changeKind];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    if (untracked) item.description = 'no longer tracked';
    if (nowTracked) item.description = 'now tracked';
    item.tooltip = untracked
      ? `${display} — no longer tracked from this point on: it was still on disk, and ignored, excluded or too large since. Not deleted. Click to see the version the point before it held.`
      : nowTracked
        ? `${display} — tracked from this point on: it was on disk before, ignored or excluded until now. Not created. Click to see the version this point holds.`
        : `${display} — ${node.changeKind} in this point. Click to see what this point changed in it.`;
    item.contextValue = `file.${node.changeKind}`;
    item.command = { command: 'recoveryPoints.openChange', title: 'Open Changes', arguments: [node] };
    return item;
  }

  private async changedFiles(point: PointSummary): Promise<Node[]> {
    const base = pointBase(this.model.points, point);
    // by the point it is against too: a clean-up that removes a point's parent changes its changes
    const key = `${point.id} ${base?.id ?? ''}`;
    let diff = this.changes.get(key);
    if (!diff) {
      diff = this.store.recovery.changedFiles(point.id);
      this.changes.set(key, diff);
      diff.catch(() => this.changes.delete(key));
    }
    const pointNode = new PointNode(point);
    let files: FileNode[];
    try {
      const d = await diff;
      // Mapped on every listing (not cached with the changes): the workspace's folders may have changed since.
      const paths = await pointPaths(await this.store.persistence.objects(), this.folders, point);
      const node = (c: FileChange, kind: ChangeKind) => new FileNode(point, c, kind, paths.toWorkspace(c.path), base);
      files = [...d.modified.map((c) => node(c, 'modified')), ...d.added.map((c) => node(c, 'added')), ...d.deleted.map((c) => node(c, 'deleted'))];
    } catch (error) {
      this.log.error('view', `Could not list the files of point ${point.id}: ${describeCause(error)}`, error);
      files = [];
    }
    const top = changeTree(files, (f) => this.folders.display(f.workspacePath ?? f.change.path));
    const all = new AllFilesNode(point);
    this.parents.set(all, pointNode);
    return [...this.folderChildren(new FolderNode(point, top, files.length <= EXPAND_UP_TO), pointNode), all];
  }

  private folderChildren(node: FolderNode, parent: Node = node): Node[] {
    const children: Node[] = [...node.folder.folders.map((f) => new FolderNode(node.point, f, node.expanded)), ...node.folder.files.map((f) => f.item)];
    for (const child of children) this.parents.set(child, parent);
    return children;
  }

  /** The entries of a folder the point holds (its top: the workspace folder's entries when it holds one). */
  private async storedChildren(point: PointSummary, folder: StoredNode | undefined): Promise<Node[]> {
    try {
      const objects = await this.store.persistence.objects();
      let path = folder?.path ?? '';
      let tree = await objects.readTree(folder?.hash ?? point.root);
      if (!folder && tree.e.length === 1 && tree.e[0]![1] === 'd' && this.folders.all.length === 1) {
        path = tree.e[0]![0];
        tree = await objects.readTree(tree.e[0]![2]);
      }
      const children = tree.e
        .map((e) => new StoredNode(point, path === '' ? e[0] : `${path}/${e[0]}`, e[1] === 'd', e[2], e[3]))
        .sort((a, b) => Number(b.isFolder) - Number(a.isFolder) || a.path.localeCompare(b.path));
      for (const child of children) this.parents.set(child, folder ?? new AllFilesNode(point));
      return children;
    } catch (error) {
      this.log.error('view', `Could not list the files point ${point.id} holds: ${describeCause(error)}`, error);
      return [];
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** A day holding a point this recent starts expanded too: work that ran past midnight stays in sight. */
const RECENT_MS = 3 * 3_600_000;

/** Days, newest first: "Today", "Yesterday", then dates. Today (or the newest day) starts expanded, and any day with a point of the last three hours. */
export function groupByDay(points: readonly PointSummary[], now = new Date()): DayNode[] {
  const days = new Map<string, PointSummary[]>();
  for (const point of points) {
    const key = dayLabel(new Date(pointTime(point)), now);
    days.set(key, [...(days.get(key) ?? []), point]);
  }
  const recent = (list: readonly PointSummary[]) => list.some((p) => now.getTime() - pointTime(p) < RECENT_MS);
  return [...days].map(([label, list], i) => new DayNode(label, list, i === 0 || recent(list)));
}

function dayLabel(date: Date, now: Date): string {
  const startOf = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(now) - startOf(date)) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return date.toLocaleDateString(undefined, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
