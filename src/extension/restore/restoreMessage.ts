import { formatRelativeTime, plural } from '../../core/format';
import { FOLDER_LEFT_OUT, pointTime, quotedPointName, undoDone, type PointSummary, type RestoreResult } from '../../core';

/**
 * What a restore's notification says, naming the point and, for one file, the file:
 * `Restored src/app.ts from 'Saved app.ts' (5 min ago).`, `Restored 3 files and deleted 1 from "before refactoring" (2 h ago).`
 */
/** `undid`: for an undo, the point whose restore it undid (`RestoreResult.undid`); `point` is then the safety point it restored. */
export function restoreMessage(point: PointSummary, outcome: RestoreResult['outcome'], isUndo: boolean, display: (pointPath: string) => string, undid?: PointSummary | null): string {
  const { written, removed, skipped } = outcome;
  const folders = skipped.filter((s) => s.reason === FOLDER_LEFT_OUT).map((s) => s.path);
  const files = skipped.length - folders.length;
  const skippedNote =
    (folders.length > 0 ? ` The point's ${folders.length === 1 ? 'folder' : 'folders'} ${folders.join(', ')} ${folders.length === 1 ? 'is' : 'are'} in no folder of this workspace: left out.` : '') +
    (files > 0 ? ` ${plural(files, 'file')} skipped (see the log).` : '');
  const named = (paths: readonly string[]) => (paths.length === 1 ? display(paths[0]!) : plural(paths.length, 'file'));
  const parts = [...(written.length > 0 ? [`${isUndo ? 'put back' : 'restored'} ${named(written)}`] : []), ...(removed.length > 0 ? [`deleted ${named(removed)}`] : [])];
  const done = parts.length > 0 ? parts.join(' and ') : 'changed no files';
  if (isUndo) return `${undoDone(undid, point)}: ${done}.${skippedNote}`;
  const sentence = `${done[0]!.toUpperCase()}${done.slice(1)}`;
  return `${sentence} from ${quotedPointName(point)} (${formatRelativeTime(pointTime(point))}).${skippedNote}`;
}
