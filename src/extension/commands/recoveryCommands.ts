import * as vscode from 'vscode';
import { formatBytes } from '../../core/format';
import { toWorkspacePath, type RecoveryStore } from '../../core';
import type { AutoCapture } from '../automatic/autoCapture';
import type { Configuration } from '../configuration';
import type { Log } from '../log';
import type { PointsModel } from '../pointsModel';
import type { Prompts } from '../prompts';
import type { RestoreFlow } from '../restore/restoreFlow';
import type { SessionTracker } from '../session/sessionTracker';
import { PointContentProvider } from '../views/pointContentProvider';
import { FileNode, PointNode } from '../views/pointsTreeProvider';
import type { WorkspaceFolders } from '../workspaceFolders';
import { UserFacingError, type CommandHandler } from './commandCenter';
import { fileFromArg, pickFileVersion, pointFromArgOrPick } from './pickers';

export interface CommandServices {
  readonly store: RecoveryStore;
  readonly model: PointsModel;
  readonly folders: WorkspaceFolders;
  readonly config: Configuration;
  readonly auto: AutoCapture;
  readonly session: SessionTracker;
  readonly restore: RestoreFlow;
  readonly log: Log;
  readonly prompts: Prompts;
}

/** Every command of the extension, by id. Errors go to the CommandCenter's one handler. */
export function recoveryCommands(s: CommandServices): Record<string, CommandHandler> {
  const diff = async (pointId: string, pointPath: string) => {
    // A path of the point whose folder the workspace now knows under another name (renamed, or named anew in the workspace file).
    const renamed = async () => {
      const mapping = await s.store.recovery.folderMapping(pointId).catch(() => undefined);
      const inWorkspace = mapping && toWorkspacePath(mapping, pointPath);
      return inWorkspace === undefined ? undefined : s.folders.toUri(inWorkspace);
    };
    const current = s.folders.toUri(pointPath) ?? (await renamed());
    const exists = current ? await vscode.workspace.fs.stat(current).then(() => true, () => false) : false;
    const right = exists && current ? current : PointContentProvider.uri(pointPath, undefined);
    const point = s.model.find(pointId);
    const when = point ? ` (${point.label ?? point.summary})` : '';
    await vscode.commands.executeCommand('vscode.diff', PointContentProvider.uri(pointPath, pointId), right, `${s.folders.display(pointPath)}${when} ↔ Current`);
  };

  return {
    'recoveryPoints.create': async () => {
      const label = await s.prompts.input({
        title: 'Create Recovery Point',
        prompt: 'A label keeps the point from being removed by clean-up. Leave empty for no label.',
        placeHolder: 'Label (optional), for example "before refactoring"',
        validateInput: (v) => (v.length > 200 ? 'At most 200 characters.' : undefined),
      });
      if (label === undefined) return undefined;
      await s.auto.flush();
      await s.session.flush();
      const point = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Creating recovery point' }, (progress) =>
        s.store.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: label.trim() || null, onProgress: (message) => progress.report({ message }) }),
      );
      await s.model.refresh();
      s.log.info('command', `Created point ${point!.id}${point!.label ? ` "${point!.label}"` : ''}`);
      void vscode.window.setStatusBarMessage(`$(check) Recovery point created (${point!.fileCount} files)`, 4000);
      return point!.id;
    },

    /** The point the merge window is waiting for, now (the status bar's click while one is pending). */
    'recoveryPoints.createPending': async () => {
      const before = s.model.points[0]?.id;
      await s.auto.flush();
      await s.model.refresh();
      const newest = s.model.points[0];
      if (newest && newest.id !== before) void vscode.window.setStatusBarMessage(`$(check) ${newest.summary}`, 4000);
      return newest && newest.id !== before ? newest.id : undefined;
    },

    'recoveryPoints.restore': async (arg?: unknown) => {
      const point = await pointFromArgOrPick(s.prompts, s.model, arg, 'Choose the recovery point to restore');
      if (!point) return undefined;
      return s.restore.run({ point, review: true });
    },

    'recoveryPoints.restoreFile': async (arg?: unknown) => {
      const pointPath = fileFromArg(s.folders, arg);
      if (!pointPath) throw new UserFacingError('Open a file of the workspace (or pick one in the Recovery Points view) to restore it.');
      const point = arg instanceof FileNode ? arg.point : await pickFileVersion(s.prompts, s.store, s.model, s.folders, pointPath, `Restore ${s.folders.display(pointPath)} as it was in…`);
      if (!point) return undefined;
      return s.restore.run({ point, paths: [pointPath] });
    },

    'recoveryPoints.compare': async (arg?: unknown) => {
      if (arg instanceof PointNode) {
        const changes = await s.store.recovery.changedFiles(arg.point.id);
        const files = [...changes.modified, ...changes.added, ...changes.deleted];
        if (files.length === 0) throw new UserFacingError('This point changed no files.');
        const pick = await s.prompts.pick(files.map((c) => ({ label: s.folders.display(c.path), path: c.path })), { placeHolder: 'Compare which file with its current version?' });
        if (pick) await diff(arg.point.id, pick.path);
        return undefined;
      }
      const pointPath = fileFromArg(s.folders, arg);
      if (!pointPath) {
        const point = await pointFromArgOrPick(s.prompts, s.model, undefined, 'Compare the current files with…');
        if (!point) return undefined;
        const changes = await s.store.recovery.diff(point.id);
        const files = [...changes.modified, ...changes.added, ...changes.deleted];
        if (files.length === 0) {
          void vscode.window.showInformationMessage('The current files match this recovery point.');
          return undefined;
        }
        const pick = await s.prompts.pick(files.map((c) => ({ label: s.folders.display(c.path), path: c.path })), { placeHolder: 'Files that differ: compare which one?' });
        if (pick) await diff(point.id, pick.path);
        return undefined;
      }
      const point = arg instanceof FileNode ? arg.point : await pickFileVersion(s.prompts, s.store, s.model, s.folders, pointPath, `Compare ${s.folders.display(pointPath)} with the version in…`);
      if (point) await diff(point.id, pointPath);
      return undefined;
    },

    'recoveryPoints.openChange': async (arg?: unknown) => {
      if (!(arg instanceof FileNode)) return undefined;
      if (arg.changeKind === 'deleted') {
        const parent = arg.point.parentId;
        await vscode.commands.executeCommand('vscode.diff', PointContentProvider.uri(arg.change.path, parent ?? undefined), PointContentProvider.uri(arg.change.path, undefined), `${s.folders.display(arg.change.path)} (deleted in this point)`);
        return undefined;
      }
      await diff(arg.point.id, arg.change.path);
      return undefined;
    },

    'recoveryPoints.undoRestore': async () => {
      const state = await s.store.state.syncState();
      if (!state.lastRestore) throw new UserFacingError('There is no restore to undo.');
      const point = s.model.find(state.lastRestore.safetyPointId) ?? (await s.store.recovery.listRecoveryPoints()).find((p) => p.id === state.lastRestore!.safetyPointId);
      if (!point) throw new UserFacingError('The safety point of the last restore no longer exists.');
      return s.restore.run({ point, paths: state.lastRestore.paths ?? undefined, isUndo: true, undoOf: state.lastRestore.restoredPointId });
    },

    'recoveryPoints.label': async (arg?: unknown) => {
      const point = await pointFromArgOrPick(s.prompts, s.model, arg, 'Label which recovery point?');
      if (!point) return undefined;
      const label = await s.prompts.input({
        title: 'Label Recovery Point',
        prompt: 'Labelled points are never removed by clean-up. Clear the text to remove the label.',
        value: point.label ?? '',
        validateInput: (v) => (v.length > 200 ? 'At most 200 characters.' : undefined),
      });
      if (label === undefined) return undefined;
      await s.store.persistence.setLabel(point.id, label.trim() || null);
      await s.model.refresh();
      return undefined;
    },

    'recoveryPoints.delete': async (arg?: unknown) => {
      const point = await pointFromArgOrPick(s.prompts, s.model, arg, 'Delete which recovery point?');
      if (!point) return undefined;
      const choice = await s.prompts.ask('warning', `Delete the recovery point "${point.label ?? point.summary}"?`, { modal: true, detail: 'Its files stay available through other points that share them; this cannot be undone.' }, 'Delete');
      if (choice !== 'Delete') return undefined;
      await s.store.recovery.deletePoints([point.id]);
      await s.model.refresh();
      return undefined;
    },

    'recoveryPoints.cleanup': async () => {
      const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Cleaning up recovery points' }, () => s.store.recovery.cleanupRecoveryPoints());
      await s.model.refresh();
      void vscode.window.showInformationMessage(`Clean-up removed ${report.removedPoints} point(s) and freed ${formatBytes(report.freedBytes)}.`);
      return report;
    },

    'recoveryPoints.verify': async () => {
      const run = (repair: boolean) =>
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: repair ? 'Repairing the recovery point store' : 'Verifying the recovery point store' }, (progress) =>
          s.store.recovery.verify({ repair, onProgress: (message) => progress.report({ message }) }),
        );
      const report = await run(false);
      for (const b of report.brokenObjects) s.log.warn('store', `Broken object ${b.hash ?? ''} in ${b.pack}: ${b.problem}`);
      for (const b of report.brokenPoints) s.log.warn('store', `Broken point ${b.id}: ${b.problems.join('; ')}`);
      if (report.ok) {
        void vscode.window.showInformationMessage(`The store is healthy: ${report.objectsChecked} objects and ${report.pointsChecked} points checked.`);
        return report;
      }
      const choice = await s.prompts.ask(
        'warning',
        `The store has problems: ${report.brokenObjects.length} broken object(s), ${report.brokenPoints.length} broken point(s)${report.stateProblem ? ', a damaged state file' : ''}.`,
        { detail: 'Repair moves broken parts to the quarantine folder and keeps everything that is intact.' },
        'Repair',
        'Show Log',
      );
      if (choice === 'Show Log') s.log.show();
      if (choice !== 'Repair') return report;
      const repaired = await run(true);
      await s.model.refresh();
      const message = `Repaired: ${repaired.repaired?.objectsSaved ?? 0} objects kept, ${repaired.repaired?.pointsQuarantined ?? 0} point(s) moved to quarantine.`;
      s.log.info('store', message);
      void vscode.window.showInformationMessage(message);
      return repaired;
    },

    'recoveryPoints.showLog': () => s.log.show(),

    'recoveryPoints.showStats': async () => {
      const stats = await s.store.recovery.stats();
      const lines = [
        `${stats.points} points (${stats.labelledPoints} labelled)`,
        `${formatBytes(stats.diskBytes)} on disk for ${formatBytes(stats.logicalBytes)} captured (${stats.dedupRatio.toFixed(1)}× deduplication)`,
        `${stats.objects} objects: ${stats.blobs} file contents, ${stats.trees} folders, in ${stats.packs} packs`,
        ...Object.entries(stats.timings).map(([op, t]) => `${op}: ${t.count}× avg ${(t.totalMs / t.count).toFixed(1)} ms, max ${t.maxMs.toFixed(1)} ms`),
      ];
      s.log.info('store', `Statistics: ${lines.join(' · ')}`);
      void s.prompts.ask('information', 'Recovery Points statistics', { modal: true, detail: lines.join('\n') });
      return stats;
    },

    'recoveryPoints.toggleAutomatic': async () => {
      const enabled = !s.config.automatic;
      await s.config.setAutomatic(enabled);
      void vscode.window.showInformationMessage(`Automatic recovery points are ${enabled ? 'on' : 'off'}.`);
      return enabled;
    },

    'recoveryPoints.refresh': () => s.model.refresh(),
  };
}
