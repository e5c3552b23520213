import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeCause, pointTime, type PointSummary, type RecoveryStore } from '../../core';
import { formatRelativeTime, plural } from '../../core/format';
import { currentFileHash, fileHistory, type FileHistory, type FileVersion } from '../../core/history/fileHistory';
import type { Log } from '../log';
import type { PointsModel } from '../pointsModel';
import type { WorkspaceFolders } from '../workspaceFolders';
import { TRIGGER_ICONS } from './pointsTreeProvider';

/** One row of the File History view: a version of the file (or its deletion). */
export class VersionNode {
  readonly kind = 'version';
  constructor(
    readonly version: FileVersion,
    /** The file whose history this is (workspace path). */
    readonly file: string,
  ) {}
}

/**
 * Where a renamed version came from, as short as tells it: "renamed from old.ts" in the same folder,
 * "moved from library/" under the same name, else the old path ("renamed from library/helper.js").
 */
export function describeRename(from: string, to: string, display: (workspacePath: string) => string): string {
  const [fromDir, fromName] = [path.posix.dirname(from), path.posix.basename(from)];
  const [toDir, toName] = [path.posix.dirname(to), path.posix.basename(to)];
  if (fromDir === toDir) return `renamed from ${fromName}`;
  return fromName === toName ? `moved from ${display(fromDir)}/` : `renamed from ${display(from)}`;
}

/** `+3 −1`, `binary`, `deleted`, `no longer tracked`: what a version changed against the one before it. */
export function describeVersionChange(version: FileVersion): string {
  if (version.noLongerTracked === true) return 'no longer tracked';
  if (version.renamedTo) return `renamed to ${version.renamedTo.slice(version.renamedTo.lastIndexOf('/') + 1)}`;
  if (version.kind === 'deleted') return `deleted${version.lines ? ` \u2212${version.lines.removed}` : ''}`;
  if (!version.lines) return version.modeChange ?? 'binary';
  return `+${version.lines.added} \u2212${version.lines.removed}`;
}

/** When the point a version appeared in was made, as the rows and diff titles show it: "14:02:33" today, else date and time. */
export function versionTime(point: Pick<PointSummary, 'id' | 'createdAt'>, now = new Date()): string {
  const at = new Date(pointTime(point));
  const sameDay = at.toDateString() === now.toDateString();
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return sameDay ? time : `${at.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
}

/**
 * The distinct versions of the active editor's file (or of the file chosen with Show File History),
 * newest first; follows the active editor and lists again when points are made or the file is saved.
 */
export class FileHistoryProvider implements vscode.TreeDataProvider<VersionNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<VersionNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private file: string | undefined;
  private listing: Promise<FileHistory | undefined> | undefined;
  private view: vscode.TreeView<VersionNode> | undefined;
  private readonly listed = new vscode.EventEmitter<FileHistory | undefined>();
  /** Fires after each listing (tests wait for it; the view's title is set from it). */
  readonly onDidList = this.listed.event;

  constructor(
    private readonly store: RecoveryStore,
    private readonly model: PointsModel,
    private readonly folders: WorkspaceFolders,
    private readonly log: Log,
  ) {
    vscode.window.onDidChangeActiveTextEditor((editor) => this.follow(editor), undefined, this.disposables);
    model.onDidChange(() => this.refresh(), undefined, this.disposables);
    vscode.workspace.onDidSaveTextDocument((doc) => doc.uri.scheme === 'file' && this.folders.toPointPath(doc.uri) === this.file && this.refresh(), undefined, this.disposables);
    this.follow(vscode.window.activeTextEditor);
  }

  attach(view: vscode.TreeView<VersionNode>): void {
    this.view = view;
    this.describe(undefined);
  }

  /** The workspace file shown (`folder/rel`), if any. */
  get currentFile(): string | undefined {
    return this.file;
  }

  /** Shows the history of `file` (a workspace path); the next active editor of another file replaces it. */
  show(file: string): Promise<FileHistory | undefined> {
    if (file !== this.file) {
      this.file = file;
      this.listing = undefined;
      this.changed.fire(undefined);
    }
    return this.history();
  }

  /** Lists again (new points, a save of the file). */
  refresh(): void {
    this.listing = undefined;
    this.changed.fire(undefined);
  }

  /** The listing shown now (made on first use after each change). */
  history(): Promise<FileHistory | undefined> {
    if (!this.file) return Promise.resolve(undefined);
    if (!this.listing) {
      const file = this.file;
      this.listing = this.list(file).then(
        (history) => {
          if (file === this.file) {
            this.describe(history);
            this.listed.fire(history);
          }
          return history;
        },
        (error: unknown) => {
          this.log.error('view', `Could not list the history of ${file}: ${describeCause(error)}`, error);
          if (this.view) this.view.message = `The history of ${this.folders.display(file)} could not be read: ${describeCause(error)}`;
          return undefined;
        },
      );
    }
    return this.listing;
  }

  async getChildren(node?: VersionNode): Promise<VersionNode[]> {
    if (node) return [];
    const file = this.file;
    const history = await this.history();
    if (!history || !file) return [];
    return history.versions.map((v) => new VersionNode(v, file));
  }

  getTreeItem(node: VersionNode): vscode.TreeItem {
    const v = node.version;
    const item = new vscode.TreeItem(versionTime(v.point), vscode.TreeItemCollapsibleState.None);
    item.id = `version:${node.file}:${v.point.id}:${v.kind}`;
    const labelled = v.labelledPoint && v.labelledPoint !== v.point ? ` · [${v.labelledPoint.label}]` : '';
    const what = `${v.point.label ?? v.point.summary}${labelled}`;
    const renamed = (v.renamedFrom ? ` · ${describeRename(v.renamedFrom, v.path, (p) => this.folders.display(p))}` : '') + (v.modeChange && v.lines ? ` · ${v.modeChange}` : '');
    const removed = v.earlierRemoved === 'before' ? ' · or earlier' : v.earlierRemoved === 'between' ? ' · or in a point not kept' : '';
    // the file went back to an older version (an undo, a restore, an edit undone)
    const same = v.sameAsPointId ? ` · same as ${versionTime(this.model.timed(v.sameAsPointId))}` : '';
    item.description = `${describeVersionChange(v)}  ${what}${renamed}${removed}${same}${v.current ? ' · current' : ''}`;
    item.iconPath = new vscode.ThemeIcon(
      v.kind === 'deleted' ? (v.noLongerTracked ? 'eye-closed' : 'trash') : v.current ? 'circle-filled' : v.point.label ? 'pinned' : TRIGGER_ICONS[v.point.trigger],
      v.current ? new vscode.ThemeColor('charts.green') : undefined,
    );
    item.contextValue = v.kind === 'deleted' ? 'version.deleted' : v.current ? 'version.current' : 'version';
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escapeMarkdown(what)}**\n\n`);
    tooltip.appendMarkdown(`${new Date(pointTime(v.point)).toLocaleString()} (${formatRelativeTime(pointTime(v.point))})\n\n`);
    if (v.noLongerTracked) tooltip.appendMarkdown(`${escapeMarkdown(this.folders.display(v.path))} is no longer tracked from this point on: it was still on disk, and ignored, excluded or too large since. Not deleted.\n\n`);
    else if (v.kind === 'deleted' && v.renamedTo) tooltip.appendMarkdown(`${escapeMarkdown(this.folders.display(v.path))} was renamed to ${escapeMarkdown(this.folders.display(v.renamedTo))} in this point.\n\n`);
    else if (v.kind === 'deleted') tooltip.appendMarkdown(`${escapeMarkdown(this.folders.display(v.path))} was deleted in this point.\n\n`);
    else tooltip.appendMarkdown(`${escapeMarkdown(describeVersionChange(v))} against the version before · kept by ${plural(v.pointCount, 'point')}\n\n`);
    if (v.renamedFrom) tooltip.appendMarkdown(`Renamed from ${escapeMarkdown(this.folders.display(v.renamedFrom))}\n\n`);
    if (v.modeChange) tooltip.appendMarkdown(`The file is ${v.modeChange}.\n\n`);
    if (v.sameAsPointId) tooltip.appendMarkdown('The same content as an older version (the file went back to it).\n\n');
    if (v.earlierRemoved === 'before') tooltip.appendMarkdown('The oldest version kept: clean-up removed the points before this one, so the file may have had this content earlier, and its lines are counted as new.\n\n');
    if (v.earlierRemoved === 'between') tooltip.appendMarkdown('Clean-up removed points between this one and the version below: the change may have been made in one of them, not by what this point is named after.\n\n');
    if (v.current) tooltip.appendMarkdown(v.kind === 'deleted' ? '$(circle-filled) The file does not exist now.' : '$(circle-filled) The current file has this content.');
    item.tooltip = tooltip;
    item.command = { command: 'recoveryPoints.history.openChange', title: 'Show What Changed', arguments: [node] };
    return item;
  }

  private async list(file: string): Promise<FileHistory> {
    await this.model.refresh();
    const roots = this.folders.all;
    const [objects, currentHash] = await Promise.all([this.store.persistence.objects(), currentFileHash(roots, file)]);
    return fileHistory({ objects, points: this.model.points, roots }, file, { currentHash });
  }

  private follow(editor: vscode.TextEditor | undefined): void {
    const file = editor ? this.folders.toPointPath(editor.document.uri) : undefined;
    // Editors of other kinds (a diff of a version, an output channel) keep the file shown.
    if (file !== undefined) void this.show(file);
  }

  private describe(history: FileHistory | undefined): void {
    if (!this.view) return;
    if (!this.file) {
      this.view.description = undefined;
      this.view.message = 'Open a file of the workspace to see its versions.';
      return;
    }
    this.view.description = this.folders.display(this.file);
    if (!history) return;
    const versions = history.versions.length;
    this.view.message = versions === 0 ? `No recovery point holds ${this.folders.display(this.file)} yet.` : undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
    this.listed.dispose();
  }
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
