import * as vscode from 'vscode';
import { lookupEntry, toPointFolderPath, type RecoveryStore } from '../../core';

export const POINT_SCHEME = 'recovery-point';

/**
 * Read-only documents of a file as a point holds it: `recovery-point:/<point path>?<point id>`.
 * A file the point does not have reads as empty (`?` with no id is always empty).
 */
export class PointContentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly store: RecoveryStore) {}

  static uri(pointPath: string, pointId: string | undefined): vscode.Uri {
    return vscode.Uri.from({ scheme: POINT_SCHEME, path: `/${pointPath}`, query: pointId ?? '' });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const pointId = uri.query;
    if (!pointId) return '';
    const point = await this.store.persistence.requireSnapshot(pointId);
    const objects = await this.store.persistence.objects();
    const wanted = uri.path.replace(/^\//, '');
    // A path of the workspace (a comparison with the current files) names the point's folder by the workspace folder that stands for it.
    const entry =
      (await lookupEntry(objects, point.root, wanted)) ??
      (await this.store.recovery.folderMapping(pointId).then(
        (mapping) => {
          const inPoint = toPointFolderPath(mapping, wanted);
          return inPoint === undefined ? undefined : lookupEntry(objects, point.root, inPoint);
        },
        () => undefined,
      ));
    if (!entry || entry.kind === 'd') return '';
    return (await objects.readBlob(entry.hash)).toString('utf8');
  }
}
