import * as vscode from 'vscode';
import { formatChangeCounts, formatRelativeTime } from '../../core/format';
import { lookupEntry, pointIdTime, type PointSummary, type RecoveryStore } from '../../core';
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
    description: `${formatRelativeTime(pointIdTime(point.id))}  ${formatChangeCounts(point.changes)}`,
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

/** The workspace file an argument names: a tree file, an explorer URI, or the active editor's file. */
export function fileFromArg(folders: WorkspaceFolders, arg: unknown): string | undefined {
  if (arg instanceof FileNode) return arg.change.path;
  if (arg instanceof vscode.Uri) return folders.toPointPath(arg);
  const active = vscode.window.activeTextEditor?.document.uri;
  return active ? folders.toPointPath(active) : undefined;
}

/** The distinct versions of a file across points, newest first (the newest point holding each version). */
export async function pickFileVersion(prompts: Prompts, store: RecoveryStore, model: PointsModel, folders: WorkspaceFolders, pointPath: string, placeHolder: string): Promise<PointSummary | undefined> {
  await model.refresh();
  const objects = await store.persistence.objects();
  const seen = new Set<string>();
  const items: PointPick[] = [];
  for (const point of model.points) {
    const entry = await lookupEntry(objects, point.root, pointPath).catch(() => undefined);
    if (!entry || entry.kind === 'd' || seen.has(entry.hash)) continue;
    seen.add(entry.hash);
    items.push(pointPickItem(point));
  }
  if (items.length === 0) throw new UserFacingError(`No recovery point holds ${folders.display(pointPath)}.`);
  const pick = await prompts.pick(items, { placeHolder, matchOnDescription: true });
  return pick?.point;
}
