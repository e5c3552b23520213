import * as vscode from 'vscode';
import { formatBytes, formatChangeCounts, formatRelativeTime, plural } from '../../core/format';
import { describeCause, pointIdTime, type FileChange, type PointSummary, type RecoveryStore, type TreeDiff, type Trigger } from '../../core';
import type { Log } from '../log';
import type { PointsModel } from '../pointsModel';
import type { WorkspaceFolders } from '../workspaceFolders';

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
    readonly change: FileChange,
    readonly changeKind: ChangeKind,
  ) {}
}

export type Node = DayNode | PointNode | FileNode;

const TRIGGER_ICONS: Record<Trigger, string> = {
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
  external: 'Changed outside the editor',
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

/** The points, grouped by day, newest first; each expands to the files it changed against its parent. */
export class PointsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly changes = new Map<string, Promise<TreeDiff>>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly store: RecoveryStore,
    private readonly model: PointsModel,
    private readonly folders: WorkspaceFolders,
    private readonly log: Log,
  ) {
    this.subscription = model.onDidChange(() => this.changed.fire(undefined));
  }

  /** Relative times age: the whole tree is refreshed now and then. */
  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] | Promise<Node[]> {
    if (!node) return groupByDay(this.model.points);
    if (node instanceof DayNode) return node.points.map((p) => new PointNode(p));
    if (node instanceof PointNode) return this.changedFiles(node.point);
    return [];
  }

  getParent(node: Node): Node | undefined {
    if (node instanceof PointNode) return groupByDay(this.model.points).find((day) => day.points.some((p) => p.id === node.point.id));
    if (node instanceof FileNode) return new PointNode(node.point);
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
    return this.fileItem(node);
  }

  private pointItem(point: PointSummary): vscode.TreeItem {
    const total = point.changes.added + point.changes.modified + point.changes.deleted;
    const item = new vscode.TreeItem(point.label ?? point.summary, total > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `point:${point.id}`;
    item.description = `${formatRelativeTime(pointIdTime(point.id))}  ${formatChangeCounts(point.changes)}`;
    // an agent's turn is labelled too, but shows whose it is
    item.iconPath = new vscode.ThemeIcon(point.label && point.trigger !== 'agent' ? 'pinned' : TRIGGER_ICONS[point.trigger]);
    item.contextValue = point.label ? 'point.labelled' : 'point';
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escape(point.label ?? point.summary)}**\n\n`);
    if (point.label) tooltip.appendMarkdown(`${escape(point.summary)}\n\n`);
    tooltip.appendMarkdown(`${new Date(pointIdTime(point.id)).toLocaleString()} (${formatRelativeTime(pointIdTime(point.id))})\n\n`);
    tooltip.appendMarkdown(`$(${TRIGGER_ICONS[point.trigger]}) ${escape(point.agent ? `Made by ${point.agent} (agent hook)` : TRIGGER_WORDS[point.trigger])}\n\n`);
    const changed = point.parentId === null ? 'The first point: every file is new in it' : `${point.changes.added} added, ${point.changes.modified} modified, ${point.changes.deleted} deleted since the point before`;
    tooltip.appendMarkdown(`${changed} · holds ${plural(point.fileCount, 'file')}, ${formatBytes(point.totalSize)} · took ${formatBytes(point.addedBytes)} of new disk space`);
    if (point.label) tooltip.appendMarkdown('\n\n$(pinned) Labelled: clean-up never removes it');
    item.tooltip = tooltip;
    return item;
  }

  private fileItem(node: FileNode): vscode.TreeItem {
    const uri = this.folders.toUri(node.change.path);
    const display = this.folders.display(node.change.path);
    const slash = display.lastIndexOf('/');
    const item = new vscode.TreeItem(display.slice(slash + 1), vscode.TreeItemCollapsibleState.None);
    item.id = `file:${node.point.id}:${node.change.path}`;
    item.description = slash > 0 ? display.slice(0, slash) : '';
    item.resourceUri = uri;
    const [icon, color] = CHANGE_ICONS[node.changeKind];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    item.tooltip = `${display} — ${node.changeKind} in this point. Click to compare this point's version with the current file.`;
    item.contextValue = `file.${node.changeKind}`;
    item.command = { command: 'recoveryPoints.openChange', title: 'Open Changes', arguments: [node] };
    return item;
  }

  private async changedFiles(point: PointSummary): Promise<Node[]> {
    let diff = this.changes.get(point.id);
    if (!diff) {
      diff = this.store.recovery.changedFiles(point.id);
      this.changes.set(point.id, diff);
      diff.catch(() => this.changes.delete(point.id));
    }
    try {
      const d = await diff;
      return [
        ...d.modified.map((c) => new FileNode(point, c, 'modified')),
        ...d.added.map((c) => new FileNode(point, c, 'added')),
        ...d.deleted.map((c) => new FileNode(point, c, 'deleted')),
      ];
    } catch (error) {
      this.log.error('view', `Could not list the files of point ${point.id}: ${describeCause(error)}`, error);
      return [];
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** Days, newest first: "Today", "Yesterday", then dates. Today (or the newest day) starts expanded. */
export function groupByDay(points: readonly PointSummary[], now = new Date()): DayNode[] {
  const days = new Map<string, PointSummary[]>();
  for (const point of points) {
    const key = dayLabel(new Date(pointIdTime(point.id)), now);
    days.set(key, [...(days.get(key) ?? []), point]);
  }
  return [...days].map(([label, list], i) => new DayNode(label, list, i === 0));
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
