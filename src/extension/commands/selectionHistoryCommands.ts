import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RecoveryStore } from '../../core';
import type { FileVersion } from '../../core/history/fileHistory';
import type { AutoCapture } from '../automatic/autoCapture';
import { readSelectionHistory, type LineRange, type SelectionHistory, type SelectionVersion } from '../../core/history/selectionHistory';
import type { PointsModel } from '../pointsModel';
import type { Prompts } from '../prompts';
import { versionTime } from '../views/fileHistoryProvider';
import { PointContentProvider } from '../views/pointContentProvider';
import { TRIGGER_ICONS } from '../views/pointsTreeProvider';
import type { WorkspaceFolders } from '../workspaceFolders';
import { UserFacingError, type CommandHandler } from './commandCenter';
import type { OpenedDiff } from './historyCommands';

export interface SelectionHistoryServices {
  readonly store: RecoveryStore;
  readonly model: Pick<PointsModel, 'timed'>;
  readonly folders: WorkspaceFolders;
  readonly prompts: Prompts;
  /** Its pending points are made before the history is read, so a save still in the merge window is listed. */
  readonly auto: Pick<AutoCapture, 'flush'>;
}

/** The lines whose history was asked for: the editor's document, its version then, and the lines. */
export interface SelectionRequest {
  readonly document: vscode.TextDocument;
  readonly documentVersion: number;
  readonly range: LineRange;
}

/** What Show History for Selection did (returned for the tests). */
export interface SelectionHistoryResult {
  readonly request: SelectionRequest;
  readonly history: SelectionHistory;
  /** The region's diffs opened from the list. */
  readonly opened: OpenedDiff[];
  /** The lines restored, when a version's lines were. */
  readonly restored?: vscode.Range;
}

const RESTORE_BUTTON: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('discard'), tooltip: 'Restore These Lines' };

/** "lines 3–7" (1-based), "line 3". */
function linesText(range: LineRange): string {
  return range.end - range.start === 1 ? `line ${range.start + 1}` : `lines ${range.start + 1}\u2013${range.end}`;
}

/** The lines an editor's selection covers (a selection ending at the start of a line leaves that line out; none: the cursor's line). */
export function selectedLines(selection: vscode.Selection): LineRange {
  const endLine = selection.end.line > selection.start.line && selection.end.character === 0 ? selection.end.line : selection.end.line + 1;
  return { start: selection.start.line, end: endLine };
}

/**
 * Show History for Selection: the versions in which the selected lines changed, in a list; choosing
 * one shows what it changed in those lines (only those lines, the list staying open), its button
 * restores those lines into the editor as one undoable edit.
 */
export function selectionHistoryCommands(s: SelectionHistoryServices): Record<string, CommandHandler> {
  const openRegionChange = async (entry: SelectionVersion): Promise<OpenedDiff> => {
    const v = entry.version;
    const name = `${path.posix.basename(v.path)}:${linesText(entry.range).replace(/^lines? /, '')}`;
    const what = v.labelledPoint?.label ?? v.point.summary;
    const right = PointContentProvider.uri(v.pointPath, v.point.id, entry.range);
    let left: vscode.Uri;
    let title: string;
    if (entry.before && v.previous) {
      left = PointContentProvider.uri(v.previous.pointPath, v.previous.pointId, entry.before.range);
      title = `${name} (${versionTime(s.model.timed(v.previous.appearedIn))} \u2194 ${versionTime(v.point)}) ${what}`;
    } else {
      left = PointContentProvider.uri(v.pointPath, undefined);
      title = `${name} (added ${versionTime(v.point)}) ${what}`;
    }
    await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: true, preserveFocus: true });
    return { left, right, title };
  };

  const restoreLines = async (request: SelectionRequest, entry: SelectionVersion): Promise<vscode.Range> => {
    const doc = request.document;
    const name = path.basename(doc.uri.fsPath);
    if (doc.isClosed || doc.version !== request.documentVersion) {
      throw new UserFacingError(`${name} changed since the history of its ${linesText(request.range)} was listed: nothing was restored. Select the lines and show their history again.`);
    }
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const last = request.range.end - 1;
    const target = new vscode.Range(request.range.start, 0, last, doc.lineAt(last).text.length);
    const eol = doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    if (!(await editor.edit((edit) => edit.replace(target, entry.lines.join(eol))))) {
      throw new UserFacingError(`The editor of ${name} did not take the restored lines (is it read-only?).`);
    }
    const endLine = request.range.start + Math.max(entry.lines.length, 1) - 1;
    const restored = new vscode.Range(request.range.start, 0, endLine, doc.lineAt(endLine).text.length);
    editor.selection = new vscode.Selection(restored.start, restored.end);
    editor.revealRange(restored);
    void vscode.window.setStatusBarMessage(`$(check) Restored ${linesText(request.range)} as they were at ${versionTime(entry.version.point)} (Undo takes it back)`, 5000);
    return restored;
  };

  return {
    'recoveryPoints.showSelectionHistory': async (): Promise<SelectionHistoryResult | undefined> => {
      const editor = vscode.window.activeTextEditor;
      const file = editor && s.folders.toPointPath(editor.document.uri);
      if (!editor || !file) throw new UserFacingError('Select lines in an editor of a workspace file to see their history.');
      const request: SelectionRequest = { document: editor.document, documentVersion: editor.document.version, range: selectedLines(editor.selection) };
      const where = `${linesText(request.range)} of ${s.folders.display(file)}`;
      const history = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Reading the history of ${where}` }, async () => {
        await s.auto.flush();
        return readSelectionHistory(s.store, file, editor.document.getText(), request.range);
      });
      const opened: OpenedDiff[] = [];
      if (history.versions.length === 0) {
        void s.prompts.notify('information', `No recovery point holds ${where} as they are now: they are new since the newest point, or the file is not captured.`);
        return { request, history, opened };
      }
      const items = history.versions.map((entry) => {
        const v = entry.version;
        return {
          label: `$(${v.labelledPoint ? 'pinned' : TRIGGER_ICONS[v.point.trigger]}) ${v.labelledPoint?.label ?? v.point.summary}`,
          description: `${versionTime(v.point)}  +${entry.counts.added} \u2212${entry.counts.removed} in these lines`,
          detail: `${entry.before ? '' : `${firstSeen(v)} \u00b7 `}${linesText(entry.range)}${v.path !== file ? ` of ${s.folders.display(v.path)}` : ''}`,
          entry,
        };
      });
      const chosen = await s.prompts.pickWithButtons(
        items,
        [RESTORE_BUTTON],
        { title: `History of ${where}`, placeHolder: 'Choose a version to see what it changed in these lines; its button restores them' },
        async (item) => opened.push(await openRegionChange(item.entry)),
      );
      if (!chosen) return { request, history, opened };
      return { request, history, opened, restored: await restoreLines(request, chosen.item.entry) };
    },

    /** Restores the lines of a listed version (the list's button; tests call it with an older request). */
    'recoveryPoints.selectionHistory.restoreLines': (request: unknown, entry: unknown) => restoreLines(request as SelectionRequest, entry as SelectionVersion),
  };
}

/** Where lines with nothing before them came from: the first point made found them there; a point after removed ones may not be where they appeared. */
function firstSeen(v: FileVersion): string {
  if (v.point.parentId === null) return 'the lines were there when the history began';
  return v.earlierRemoved === 'before' ? 'the lines appeared here or earlier' : 'the lines appeared here';
}
