import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { formatBytes, formatRelativeTime, plural } from '../../core/format';
import { pointTime, withoutRenamed, type PointSummary, type RecoveryStore, type RetentionPolicy, type StoreStats } from '../../core';
import type { AutoCapture } from '../automatic/autoCapture';
import type { Configuration } from '../configuration';
import type { Log } from '../log';
import { pointPaths } from '../pointPaths';
import type { PointsModel } from '../pointsModel';
import type { Prompts } from '../prompts';
import type { RestoreFlow } from '../restore/restoreFlow';
import type { SessionTracker } from '../session/sessionTracker';
import { PointContentProvider } from '../views/pointContentProvider';
import { openFileChange } from '../views/changeDiffs';
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
  /**
   * A point's version of a file ↔ the current file. `path` is a workspace path, or the point's own
   * path of a file whose folder is not in this workspace (then compared with nothing); `before`: where
   * the point held it, for a file renamed or moved since.
   */
  const diff = async (pointId: string, path: string, before = path) => {
    const current = s.folders.toUri(path);
    const exists = current ? await vscode.workspace.fs.stat(current).then(() => true, () => false) : false;
    const right = exists && current ? current : PointContentProvider.uri(path, undefined);
    const point = s.model.find(pointId);
    const when = point ? ` (${point.label ?? point.summary})` : '';
    await vscode.commands.executeCommand('vscode.diff', PointContentProvider.uri(before, pointId), right, `${s.folders.display(path)}${when} ↔ Current`);
  };
  /** A point's changed files as the workspace names them, for a pick. */
  const changedFilePicks = async (point: PointSummary) => {
    const changes = await s.store.recovery.changedFiles(point.id);
    const paths = await pointPaths(await s.store.persistence.objects(), s.folders, point);
    return [...changes.modified, ...changes.added, ...changes.deleted].map((c) => paths.toWorkspace(c.path) ?? c.path).map((path) => ({ label: s.folders.display(path), path }));
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
      void vscode.window.setStatusBarMessage(`$(check) Recovery point created (${plural(point!.fileCount, 'file')})`, 4000);
      return point!.id;
    },

    /** The point the merge window is waiting for, now (the status bar's click while one is pending). */
    'recoveryPoints.createPending': async () => {
      const before = s.model.points[0]?.id;
      await s.auto.flush();
      await s.model.refresh();
      const newest = s.model.points[0];
      if (newest && newest.id !== before) {
        void vscode.window.setStatusBarMessage(`$(check) ${newest.summary}`, 4000);
        return newest.id;
      }
      void s.prompts.notify('information', 'No changes were waiting for a recovery point.');
      return undefined;
    },

    'recoveryPoints.restore': async (arg?: unknown) => {
      const point = await pointFromArgOrPick(s.prompts, s.model, arg, 'Choose the recovery point to restore');
      if (!point) return undefined;
      return s.restore.run({ point, review: true });
    },

    'recoveryPoints.restoreFile': async (arg?: unknown) => {
      // A row that shows a file deleted: the file as it was before (the parent's version) comes back.
      if (arg instanceof FileNode && arg.changeKind === 'deleted') {
        const base = arg.base?.id;
        const parent = base ? (s.model.find(base) ?? (await s.store.recovery.listRecoveryPoints()).find((p) => p.id === base)) : undefined;
        const deleted = arg.workspacePath ?? arg.change.path;
        if (!parent) throw new UserFacingError(`The point before this one no longer exists, so ${s.folders.display(deleted)} cannot be brought back from here; try Restore Deleted File….`);
        return s.restore.run({ point: parent, paths: [deleted], confirmFile: true });
      }
      const file = fileFromArg(s.folders, arg);
      if (!file) throw new UserFacingError('Open a file of the workspace (or pick one in the Recovery Points view) to restore it.');
      const point = arg instanceof FileNode ? arg.point : await pickFileVersion(s.prompts, s.store, s.model, s.folders, file, `Restore ${s.folders.display(file)} as it was in…`);
      if (!point) return undefined;
      return s.restore.run({ point, paths: [file], confirmFile: true });
    },

    'recoveryPoints.compare': async (arg?: unknown) => {
      if (arg instanceof PointNode) {
        const files = await changedFilePicks(arg.point);
        if (files.length === 0) throw new UserFacingError('This point changed no files.');
        const pick = await s.prompts.pick(files, { placeHolder: 'Compare which file with its current version?' });
        if (pick) await diff(arg.point.id, pick.path);
        return undefined;
      }
      const file = fileFromArg(s.folders, arg);
      if (!file) {
        const point = await pointFromArgOrPick(s.prompts, s.model, undefined, 'Compare the current files with…');
        if (!point) return undefined;
        const changes = await s.store.recovery.diff(point.id);
        // a file renamed or moved since: once, under its path now, compared with where it was
        const rest = withoutRenamed(changes, changes.renamed);
        const files = [...rest.modified, ...rest.added, ...rest.deleted].map((c) => ({ label: s.folders.display(c.path), path: c.path, before: c.path }));
        files.push(...(changes.renamed ?? []).map((r) => ({ label: s.folders.display(r.to), description: `renamed from ${s.folders.display(r.from)}${r.changed ? ', and changed' : ''}`, path: r.to, before: r.from })));
        if (files.length === 0) {
          void vscode.window.showInformationMessage('The current files match this recovery point.');
          return undefined;
        }
        const pick = await s.prompts.pick(files, { placeHolder: 'Files that differ: compare which one?' });
        if (pick) await diff(point.id, pick.path, pick.before);
        return undefined;
      }
      const point = arg instanceof FileNode ? arg.point : await pickFileVersion(s.prompts, s.store, s.model, s.folders, file, `Compare ${s.folders.display(file)} with the version in…`);
      if (point) await diff(point.id, file);
      return undefined;
    },

    /** A changed file's row: what the point changed in it (the version it is shown against ↔ its own). */
    'recoveryPoints.openChange': async (arg?: unknown) => {
      if (!(arg instanceof FileNode)) return undefined;
      return openFileChange(s.folders, arg.base, arg.point, arg.change);
    },

    'recoveryPoints.undoRestore': async () => s.restore.undoLast(),

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
      const last = (await s.store.state.syncState()).lastRestore;
      const undoLost = last?.safetyPointId === point.id ? ' It is the safety point of the last restore: Undo Last Restore will no longer be possible.' : '';
      // Keep comes first: the default button (Enter) of the dialog leaves the point alone.
      const choice = await s.prompts.ask(
        'warning',
        `Delete "${point.label ?? point.summary}"?`,
        {
          modal: true,
          detail: `You will no longer be able to restore your files as they were on ${new Date(pointTime(point)).toLocaleString()}. The other points keep their files; the point after this one will show what changed since the point before it.${undoLost} This cannot be undone.`,
        },
        'Keep',
        'Delete',
      );
      if (choice !== 'Delete') return undefined;
      await s.store.recovery.deletePoints([point.id]);
      await s.model.refresh();
      return undefined;
    },

    'recoveryPoints.cleanup': async () => {
      // The store's size before and after, as the view's title shows it: a repack shrinks the store
      // without freeing any object, so the objects' freed bytes alone can say "0 B" while it shrank.
      await s.model.refresh();
      const before = s.model.storeBytes ?? 0;
      const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Cleaning up recovery points' }, () => s.store.recovery.cleanupRecoveryPoints());
      await s.model.refresh();
      const after = s.model.storeBytes ?? 0;
      const removed = report.removedPoints > 0 ? `removed ${plural(report.removedPoints, 'point')}` : 'removed no points';
      const size = after < before ? `the store went from ${formatBytes(before)} to ${formatBytes(after)}` : `the store stays at ${formatBytes(after)}`;
      void s.prompts.notify('information', `Clean-up ${removed}; ${size}.`);
      return { ...report, storeBytesBefore: before, storeBytesAfter: after };
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
        void s.prompts.notify('information', `The store is healthy: ${plural(report.objectsChecked, 'object')} and ${plural(report.pointsChecked, 'point')} checked.`);
        return report;
      }
      if (!report.needsRepair) {
        const lost = report.brokenPoints.length;
        const message = `${lost === 1 ? '1 point has' : `${lost} points have`} lost some files' content for good; ${lost === 1 ? 'it restores its' : 'they restore their'} other files. Nothing to repair.`;
        void s.prompts.notify('warning', message, 'Show Log').then((choice) => choice === 'Show Log' && s.log.show());
        return report;
      }
      const choice = await s.prompts.ask(
        'warning',
        `The store has problems: ${plural(report.brokenObjects.length, 'broken object')}, ${plural(report.brokenPoints.length, 'broken point')}${report.stateProblem ? ', a damaged state file' : ''}.`,
        { detail: 'Repair moves broken parts to the quarantine folder and keeps everything that is intact.' },
        'Repair',
        'Show Log',
      );
      if (choice === 'Show Log') s.log.show();
      if (choice !== 'Repair') return report;
      const repaired = await run(true);
      await s.model.refresh();
      const kept = repaired.repaired?.pointsKept ?? 0;
      const message = `Repaired: ${plural(repaired.repaired?.objectsSaved ?? 0, 'object')} kept, ${plural(repaired.repaired?.pointsQuarantined ?? 0, 'point')} moved to quarantine${kept > 0 ? `; ${plural(kept, 'point')} that lost some files' content kept (${kept === 1 ? 'it restores its' : 'they restore their'} other files)` : ''}.`;
      s.log.info('store', message);
      void s.prompts.notify('information', message);
      return repaired;
    },

    'recoveryPoints.showStats': async () => {
      const stats = await s.store.recovery.stats();
      await s.model.refresh();
      const lines = statisticsForPeople(stats, s.model.points, s.config.retention);
      const developer = [
        `${plural(stats.objects, 'object')}: ${plural(stats.blobs, 'file content')}, ${plural(stats.trees, 'folder')}, in ${plural(stats.packs, 'pack')}`,
        ...Object.entries(stats.timings).map(([op, t]) => `${op}: ${t.count}× avg ${(t.totalMs / t.count).toFixed(1)} ms, max ${t.maxMs.toFixed(1)} ms`),
      ];
      s.log.info('store', `Statistics: ${[...lines, ...developer].join(' · ')}`);
      void s.prompts.ask('information', 'Recovery Points', { modal: true, detail: lines.join('\n') });
      return { ...stats, summary: lines };
    },

    'recoveryPoints.turnOnAutomatic': () => setAutomatic(s, true),
    'recoveryPoints.turnOffAutomatic': () => setAutomatic(s, false),

    'recoveryPoints.refresh': () => s.model.refresh(),
  };
}

/** Automatic points on or off for this workspace (its setting, not every workspace's user setting). */
async function setAutomatic(s: CommandServices, enabled: boolean): Promise<boolean> {
  // a workspace setting: written to the workspace file, or to the folder's .vscode/settings.json (its point is named for what wrote it)
  const workspaceFile = vscode.workspace.workspaceFile?.scheme === 'file' ? vscode.workspace.workspaceFile.fsPath : undefined;
  const settingsFile = workspaceFile ?? (s.folders.all[0] && join(s.folders.all[0].path, '.vscode', 'settings.json'));
  if (settingsFile) s.auto.nameOwnChange(settingsFile, `Turned automatic recovery points ${enabled ? 'on' : 'off'} (${basename(settingsFile)})`);
  await s.config.setAutomatic(enabled);
  if (settingsFile) await s.auto.ownChangeWritten(settingsFile);
  const where = vscode.workspace.workspaceFile ? 'this workspace' : 'this folder';
  void s.prompts.notify('information', `Automatic recovery points are ${enabled ? 'on' : 'off'} for ${where}.${enabled ? '' : ' Create Recovery Point… still makes one when you ask.'}`);
  return enabled;
}

/** Statistics as a person reads them: how far back history goes, the disk it takes, the limits that apply. */
function statisticsForPeople(stats: StoreStats, points: readonly PointSummary[], limits: RetentionPolicy): string[] {
  const oldest = points.at(-1);
  const history = oldest
    ? `History goes back to ${new Date(pointTime(oldest)).toLocaleString()} (${formatRelativeTime(pointTime(oldest))}): ${plural(stats.points, 'recovery point')}, ${stats.labelledPoints} labelled.`
    : 'There are no recovery points yet.';
  const disk = `They take ${formatBytes(stats.totalDiskBytes)} on disk; full copies of the same files would take ${formatBytes(stats.logicalBytes)}.`;
  const keep = [
    `at most ${plural(limits.maxRecoveryPoints, 'point')}`,
    limits.maxAgeDays > 0 ? `for ${plural(limits.maxAgeDays, 'day')}` : 'with no age limit',
    limits.maxTotalBytes > 0 ? `in up to ${formatBytes(limits.maxTotalBytes)}` : 'with no size limit',
  ];
  return [history, disk, `Clean-up keeps ${keep.join(', ')}; labelled points are always kept (settings: recoveryPoints.maxPoints, maxAgeDays, maxStoreSizeMB).`];
}
