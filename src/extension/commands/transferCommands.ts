import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { exportBundle, importBundle, pointTime, type RecoveryStore } from '../../core';
import { formatBytes, formatRelativeTime, plural } from '../../core/format';
import type { Log } from '../log';
import { CONTINUE_HISTORY, COPY_HISTORY, describeCopies, describeMoved, type MovedHistory } from '../movedHistory';
import type { PointsModel } from '../pointsModel';
import type { Prompts } from '../prompts';
import type { WorkspaceFolders } from '../workspaceFolders';
import { UserFacingError, type CommandHandler } from './commandCenter';

export interface TransferServices {
  readonly store: RecoveryStore;
  readonly model: PointsModel;
  readonly folders: WorkspaceFolders;
  readonly log: Log;
  readonly prompts: Prompts;
  readonly movedHistory: MovedHistory;
}

const BUNDLE_FILTERS = { 'Recovery Points bundle': ['rpbundle'], 'All files': ['*'] };

/**
 * Export Recovery Points… and Import Recovery Points…: history as one file, to another machine or a
 * dev container; Continue History of a Moved Folder…: the history a move or rename left behind; Copy
 * History from Another Window…: the history of this workspace's folders in a window of another shape.
 */
export function transferCommands(s: TransferServices): Record<string, CommandHandler> {
  return {
    'recoveryPoints.export': async () => {
      await s.model.refresh();
      const points = s.model.points;
      if (points.length === 0) throw new UserFacingError('There are no recovery points to export yet.');
      const chosen = await s.prompts.pickMany(
        points.map((p) => ({ label: p.label ?? p.summary, description: formatRelativeTime(pointTime(p)), detail: p.id, picked: true, id: p.id })),
        { title: 'Export Recovery Points', placeHolder: 'Untick the points to leave out (all are ticked)' },
      );
      if (!chosen) return undefined;
      if (chosen.length === 0) throw new UserFacingError('No point was chosen: nothing to export.');
      const name = `${s.folders.all[0]?.name ?? 'workspace'}-recovery-points.rpbundle`;
      const target = await s.prompts.file('save', { title: 'Export Recovery Points', saveLabel: 'Export', defaultUri: vscode.Uri.file(path.join(os.homedir(), name)), filters: BUNDLE_FILTERS });
      if (!target) return undefined;
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Exporting recovery points' }, (progress) =>
        exportBundle(s.store, target.fsPath, { replaceAnyFile: true, pointIds: chosen.map((c) => c.id), onProgress: (message) => progress.report({ message }) }),
      );
      s.log.info('command', `Exported ${result.points.length} points (${result.objects} objects, ${result.bytes} bytes) to ${result.file}`);
      void vscode.window.showInformationMessage(`Exported ${result.points.length} recovery point${result.points.length === 1 ? '' : 's'} (${formatBytes(result.bytes)}) to ${result.file}.`);
      return result;
    },

    'recoveryPoints.import': async () => {
      const source = await s.prompts.file('open', { title: 'Import Recovery Points', openLabel: 'Import', filters: BUNDLE_FILTERS });
      if (!source) return undefined;
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Importing recovery points' }, (progress) =>
        importBundle(s.store, source.fsPath, { onProgress: (message) => progress.report({ message }) }),
      );
      await s.model.refresh();
      s.log.info('command', `Imported ${result.added.length} points from ${source.fsPath} (${result.objectsAdded} objects written, ${result.objectsPresent} present, ${result.skipped.length} points already here)`);
      const already = result.skipped.length > 0 ? ` ${result.skipped.length} ${result.skipped.length === 1 ? 'was' : 'were'} already here.` : '';
      void vscode.window.showInformationMessage(`Imported ${result.added.length} recovery point${result.added.length === 1 ? '' : 's'} (${formatBytes(result.bytesWritten)} written).${already}`);
      return result;
    },

    // the start-up offer asked for again: histories declined before ("Not Now", "Don't Ask Again") are searched too
    'recoveryPoints.continueMovedHistory': async () => {
      if (s.folders.all.length !== 1) {
        throw new UserFacingError('Continue History of a Moved Folder works in a window with one folder. In a workspace of several folders, run "recovery-points adopt --from STORE_FOLDER" in a terminal.');
      }
      const found = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Looking for the history of a moved folder' }, () => s.movedHistory.search());
      if (found.length === 0) {
        throw new UserFacingError(
          "No history of a moved or renamed folder matches this folder: a history is found when its folder no longer exists where it was and most of this folder's files are in its newest point. The history of a folder that still exists (this folder's copy) comes here as a bundle: Export Recovery Points… there, then Import Recovery Points… here; this same folder's history in another window: Copy History from Another Window….",
        );
      }
      const chosen =
        found.length === 1
          ? (await s.prompts.ask('information', `This folder looks like ${describeMoved(found[0]!)}. Continue its history here (${plural(found[0]!.points, 'recovery point')})?`, { modal: true }, CONTINUE_HISTORY)) === CONTINUE_HISTORY
            ? found[0]
            : undefined
          : (
              await s.prompts.pick(
                found.map((match) => ({ label: match.recordedFolders.join(', '), description: `${plural(match.points, 'point')}, ${Math.round(match.score.share * 100)} % of the files match`, detail: match.storeDir, match })),
                { title: 'Continue History of a Moved Folder', placeHolder: 'The history to continue here' },
              )
            )?.match;
      if (!chosen) return undefined;
      await s.movedHistory.forgetDeclined(chosen.storeDir);
      return s.movedHistory.adopt(chosen);
    },

    // the start-up copy offer asked for again, also for histories declined before
    'recoveryPoints.copyFolderHistory': async () => {
      const found = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: "Looking for this workspace's folders in other windows' histories" }, () => s.movedHistory.histories());
      if (found.length === 0) {
        throw new UserFacingError(
          "No other window's history holds a folder of this workspace where it is now (a folder opened on its own, or in a workspace of several folders). The history of a folder that was moved or renamed: Continue History of a Moved Folder….",
        );
      }
      const describe = (h: (typeof found)[number]) => describeCopies([h], s.folders.all.length);
      const chosen =
        found.length === 1
          ? (await s.prompts.ask('information', `${describe(found[0]!)} Copy it into this window's history? The other window keeps its.`, { modal: true }, COPY_HISTORY)) === COPY_HISTORY
            ? found[0]
            : undefined
          : (
              await s.prompts.pick(
                found.map((h) => ({
                  label: h.recordedFolders.map((f) => path.basename(f)).join(', '),
                  description: `${plural(h.points, 'point')}, the newest ${formatRelativeTime(pointTime(h.newest))}`,
                  detail: h.storeDir,
                  h,
                })),
                { title: 'Copy History from Another Window', placeHolder: 'The history to copy into this window' },
              )
            )?.h;
      if (!chosen) return undefined;
      await s.movedHistory.forgetDeclined(chosen.storeDir);
      return s.movedHistory.copy([chosen]);
    },
  };
}
