import type * as vscode from 'vscode';
import { pointFolderMapping, toPointFolderPath, toWorkspacePath, type FolderMapping, type ObjectReader, type PointSummary } from '../core';
import type { WorkspaceFolders } from './workspaceFolders';

/**
 * One point's paths seen from this workspace. A point's paths start with the names its folders had
 * when it was made; a folder renamed or moved since (on disk, or named anew in a .code-workspace
 * file) is found through the core's folder mapping, so old points open, compare and restore the
 * files of the folder that stands for theirs now.
 */
export class PointPaths {
  constructor(
    private readonly folders: WorkspaceFolders,
    /** `undefined`: no folder of the point maps onto this workspace. */
    readonly mapping: FolderMapping | undefined,
  ) {}

  /** A point path (`pointFolder/rel`) as a workspace path, or `undefined` when its folder is not in this workspace. */
  toWorkspace(pointPath: string): string | undefined {
    return this.mapping ? toWorkspacePath(this.mapping, pointPath) : undefined;
  }

  /** A workspace path as this point names it, or `undefined` when the point does not hold that folder. */
  toPoint(workspacePath: string): string | undefined {
    return this.mapping ? toPointFolderPath(this.mapping, workspacePath) : undefined;
  }

  /** The workspace file that stands for a point path now. */
  toUri(pointPath: string): vscode.Uri | undefined {
    const inWorkspace = this.toWorkspace(pointPath);
    return inWorkspace === undefined ? undefined : this.folders.toUri(inWorkspace);
  }
}

/** `point`'s paths in this workspace (reads the point's root tree). */
export async function pointPaths(objects: ObjectReader, folders: WorkspaceFolders, point: Pick<PointSummary, 'root' | 'roots'>): Promise<PointPaths> {
  const mapping = await pointFolderMapping(objects, point, folders.all).catch(() => undefined);
  return new PointPaths(folders, mapping);
}
