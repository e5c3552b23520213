import * as vscode from 'vscode';
import { lookupEntry, toPointFolderPath, type RecoveryStore } from '../../core';
import { splitLines, type LineRange } from '../../core/history/selectionHistory';

export const POINT_SCHEME = 'recovery-point';

/**
 * Read-only documents of a file as a point holds it: `recovery-point:/<point path>?<point id>`.
 * A file the point does not have reads as empty (`?` with no id is always empty). With a fragment
 * `#L3-7`, only those lines (1-based, both included) are read: a selection's region in that version.
 */
export class PointContentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly store: RecoveryStore) {}

  static uri(pointPath: string, pointId: string | undefined, lines?: LineRange): vscode.Uri {
    return vscode.Uri.from({ scheme: POINT_SCHEME, path: `/${pointPath}`, query: pointId ?? '', fragment: lines ? `L${lines.start + 1}-${lines.end}` : '' });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const text = await this.fileContent(uri);
    const lines = /^L(\d+)-(\d+)$/.exec(uri.fragment);
    return lines ? splitLines(text).slice(Number(lines[1]) - 1, Number(lines[2])).join('\n') : text;
  }

  private async fileContent(uri: vscode.Uri): Promise<string> {
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
