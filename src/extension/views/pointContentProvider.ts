import * as vscode from 'vscode';
import { lookupEntry, type RecoveryStore } from '../../core';

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
    const entry = await lookupEntry(objects, point.root, uri.path.replace(/^\//, ''));
    if (!entry || entry.kind === 'd') return '';
    return (await objects.readBlob(entry.hash)).toString('utf8');
  }
}
