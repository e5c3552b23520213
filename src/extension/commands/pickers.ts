import * as vscode from 'vscode';
import { formatChangeCounts, formatRelativeTime } from '../../core/format';
import * as fs from 'node:fs/promises';
import { InclusionRules, pointTime, type ExclusionRule, type PointSummary, type RecoveryStore } from '../../core';
import { formatBytes } from '../../core/format';
import { currentFileHash, fileHistory } from '../../core/history/fileHistory';
import { describeVersionChange, versionTime } from '../views/fileHistoryProvider';
import { FileNode, PointNode } from '../views/pointsTreeProvider';
import type { PointsModel } from '../pointsModel';
import type { Prompts } from '../prompts';
import type { WorkspaceFolders } from '../workspaceFolders';
import { UserFacingError } from './commandCenter';

export interface PointPick extends vscode.QuickPickItem {
  readonly point: PointSummary;
}

export function pointPickItem(point: PointSummary): PointPick {
  return {
    label: `$(${point.label ? 'pinned' : 'history'}) ${point.label ?? point.summary}`,
    description: `${formatRelativeTime(pointTime(point))}  ${formatChangeCounts(point.changes)}`,
    detail: point.label ? point.summary : undefined,
    point,
  };
}

/** The point a tree item names, or one the person picks. */
export async function pointFromArgOrPick(prompts: Prompts, model: PointsModel, arg: unknown, placeHolder: string): Promise<PointSummary | undefined> {
  if (arg instanceof PointNode) return arg.point;
  if (arg instanceof FileNode) return arg.point;
  await model.refresh();
  if (model.points.length === 0) throw new UserFacingError('There are no recovery points yet.');
  const pick = await prompts.pick(model.points.map(pointPickItem), { placeHolder, matchOnDescription: true, matchOnDetail: true });
  return pick?.point;
}

/**
 * The workspace file an argument names (its workspace path): a tree file, an explorer URI, or the
 * active editor's file. A tree file whose folder is not in this workspace keeps its point path.
 */
export function fileFromArg(folders: WorkspaceFolders, arg: unknown): string | undefined {
  if (arg instanceof FileNode) return arg.workspacePath ?? arg.change.path;
  if (arg instanceof vscode.Uri) return folders.toPointPath(arg);
  const active = vscode.window.activeTextEditor?.document.uri;
  return active ? folders.toPointPath(active) : undefined;
}

/**
 * The distinct versions of a file, newest first, each once at the point it first appeared (the File
 * History's listing), the one equal to the current file marked; versions the file had under another
 * name (before a rename) are left out, as these commands act on this path.
 */
export async function pickFileVersion(prompts: Prompts, store: RecoveryStore, model: PointsModel, folders: WorkspaceFolders, pointPath: string, placeHolder: string): Promise<PointSummary | undefined> {
  await model.refresh();
  const [objects, currentHash] = await Promise.all([store.persistence.objects(), currentFileHash(folders.all, pointPath)]);
  const history = await fileHistory({ objects, points: model.points, roots: folders.all }, pointPath, { currentHash });
  // a content that came back (an undo, a restore) is one version here: its newest entry
  const seen = new Set<string>();
  const items: Array<PointPick & { readonly current: boolean }> = history.versions
    .filter((v) => v.kind === 'version' && v.path === pointPath && !seen.has(v.hash!) && seen.add(v.hash!))
    .map((v) => ({
      // A label in the version's run of points names it as the person labelled it (the content is the same).
      label: `$(${v.current ? 'circle-filled' : v.labelledPoint ? 'pinned' : 'history'}) ${v.labelledPoint?.label ?? v.point.summary}`,
      // clean-up removed the points before it: the change may have been made in one of them, not by what this point is named after
      description: `${versionTime(v.point)}  ${describeVersionChange(v)}${v.earlierRemoved === 'between' ? '  (or in a point not kept)' : v.earlierRemoved === 'before' ? '  (or earlier)' : ''}${v.current ? '  (current file)' : ''}`,
      detail: v.labelledPoint ? v.point.summary : undefined,
      point: v.labelledPoint ?? v.point,
      current: v.current,
    }));
  if (items.length === 0) throw new UserFacingError(`No recovery point holds ${folders.display(pointPath)}${await whyNotCaptured(store, folders, pointPath)}.`);
  const pick = await prompts.pick(items, { placeHolder, matchOnDescription: true });
  if (pick?.current) {
    void prompts.notify('information', `That version of ${folders.display(pointPath)} is the current file: there is nothing to compare or restore.`);
    return undefined;
  }
  return pick?.point;
}

const EXCLUDED_BECAUSE: Record<ExclusionRule, string> = {
  secret: 'files that usually hold secrets are never captured; the setting recoveryPoints.excludeSecrets changes that',
  exclude: 'it matches a pattern of the setting recoveryPoints.exclude',
  gitignore: 'a .gitignore file leaves it out; the setting recoveryPoints.respectGitignore changes that',
  builtin: '.git, node_modules, .hg and .svn folders are never captured',
  store: 'it is in the folder of the recovery point store',
  folder: 'it is in another workspace folder, which keeps its own history',
};

/** Why the capture rules leave a file out (`": …"`), or `" yet"` when they would capture it (it is new since the newest point). */
async function whyNotCaptured(store: RecoveryStore, folders: WorkspaceFolders, workspacePath: string): Promise<string> {
  const slash = workspacePath.indexOf('/');
  const root = folders.all.find((r) => r.name === workspacePath.slice(0, slash));
  if (!root) return '';
  const rules = store.persistence.captureRules;
  const inclusion = await InclusionRules.create(root, rules, { neverCapture: [store.persistence.layout.root], roots: folders.all });
  const excluded = await inclusion.exclusion(workspacePath.slice(slash + 1), false);
  if (excluded) return `: ${EXCLUDED_BECAUSE[excluded.rule]}`;
  const size = await fs.stat(folders.toUri(workspacePath)!.fsPath).then((stat) => stat.size, () => undefined);
  if (size !== undefined && size > rules.maxFileSize) return `: it is larger than ${formatBytes(rules.maxFileSize)}, the setting recoveryPoints.maxFileSizeMB`;
  return ' yet';
}
