import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RecoveryStore } from '../../core';
import { currentFileHash, type FileHistory, type FileVersion } from '../../core/history/fileHistory';
import { plural } from '../../core/format';
import { countLines, isBinary, lineCounts } from '../../core/history/lineChanges';
import type { PointsModel } from '../pointsModel';
import type { Prompts } from '../prompts';
import type { RestoreFlow } from '../restore/restoreFlow';
import { describeRename, versionTime, VersionNode, type FileHistoryProvider } from '../views/fileHistoryProvider';
import { openVersion } from '../views/changeDiffs';
import { PointContentProvider } from '../views/pointContentProvider';
import type { WorkspaceFolders } from '../workspaceFolders';
import { UserFacingError, type CommandHandler } from './commandCenter';

export interface HistoryCommandServices {
  readonly store: RecoveryStore;
  readonly model: Pick<PointsModel, 'timed'>;
  readonly folders: WorkspaceFolders;
  readonly history: FileHistoryProvider;
  readonly restore: RestoreFlow;
  readonly prompts: Prompts;
}

/** A diff the File History opened: its two sides and its title (returned for the tests). */
export interface OpenedDiff {
  readonly left: vscode.Uri;
  readonly right: vscode.Uri;
  readonly title: string;
}

/** The File History view's commands: show a file's history, and each version's actions. */
export function historyCommands(s: HistoryCommandServices): Record<string, CommandHandler> {
  const versionUri = (v: FileVersion) => PointContentProvider.uri(v.pointPath, v.point.id);
  const name = (v: FileVersion) => path.posix.basename(v.path);
  const diff = async (left: vscode.Uri, right: vscode.Uri, title: string): Promise<OpenedDiff> => {
    await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: true });
    return { left, right, title };
  };
  const current = async (v: FileVersion): Promise<vscode.Uri | undefined> => {
    const uri = s.folders.toUri(v.path);
    return uri && (await vscode.workspace.fs.stat(uri).then(() => true, () => false)) ? uri : undefined;
  };
  /** What restoring `v` changes in the file as the preview shows it (an open editor's text, unsaved edits included). */
  const restoreChange = async (v: FileVersion, now: vscode.Uri | undefined): Promise<string> => {
    const restored = await (await s.store.persistence.objects()).readBlob(v.hash!);
    if (!now) return `the file does not exist now, and is created${isBinary(restored) ? '' : ` (${plural(countLines(restored.toString('utf8')), 'line')})`}`;
    const open = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === now.toString());
    const text = open ? Buffer.from(open.getText()) : await vscode.workspace.fs.readFile(now);
    if (isBinary(restored) || isBinary(text)) return 'the binary file is replaced whole';
    const lines = lineCounts(Buffer.from(text).toString('utf8'), restored.toString('utf8'));
    return `+${lines.added} \u2212${lines.removed} lines against the file as it is now${open?.isDirty ? ', unsaved edits included' : ''}`;
  };
  const node = (arg: unknown): VersionNode => {
    if (arg instanceof VersionNode) return arg;
    throw new UserFacingError('Choose a version in the File History view first.');
  };

  return {
    'recoveryPoints.showFileHistory': async (arg?: unknown): Promise<FileHistory | undefined> => {
      const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
      const file = uri ? s.folders.toPointPath(uri) : s.history.currentFile;
      if (!file) throw new UserFacingError('Open a file of the workspace (or choose one in the explorer) to see its history.');
      const listing = s.history.show(file);
      await vscode.commands.executeCommand('recoveryPoints.fileHistory.focus');
      return listing;
    },

    /** A row's click: what changed in that version, against the version before it. */
    'recoveryPoints.history.openChange': async (arg?: unknown): Promise<OpenedDiff> => {
      const v = node(arg).version;
      const what = v.point.label ?? v.point.summary;
      if (v.kind === 'deleted') {
        const before = v.previous!;
        return diff(PointContentProvider.uri(before.pointPath, before.pointId), PointContentProvider.uri(v.pointPath, undefined), `${name(v)} (deleted ${versionTime(v.point)}) ${what}`);
      }
      if (!v.previous) return diff(PointContentProvider.uri(v.pointPath, undefined), versionUri(v), `${name(v)} (${v.earlierRemoved === 'before' ? 'the oldest kept,' : 'created'} ${versionTime(v.point)}) ${what}`);
      const before = v.previous;
      const beforeTime = versionTime(s.model.timed(before.appearedIn));
      const renamed = v.renamedFrom ? `, ${describeRename(v.renamedFrom, v.path, (p) => s.folders.display(p))}` : '';
      return diff(PointContentProvider.uri(before.pointPath, before.pointId), versionUri(v), `${name(v)} (${beforeTime} \u2194 ${versionTime(v.point)}${renamed}) ${what}`);
    },

    'recoveryPoints.history.compareWithCurrent': async (arg?: unknown): Promise<OpenedDiff | undefined> => {
      const v = node(arg).version;
      const left = v.kind === 'deleted' ? PointContentProvider.uri(v.previous!.pointPath, v.previous!.pointId) : versionUri(v);
      if (v.current) {
        void s.prompts.notify('information', v.kind === 'deleted' ? `${s.folders.display(v.path)} does not exist now, as in this point.` : `This version of ${s.folders.display(v.path)} is the current file: there is nothing to compare.`);
        return undefined;
      }
      const right = (await current(v)) ?? PointContentProvider.uri(v.pointPath, undefined);
      return diff(left, right, `${name(v)} (${versionTime(v.point)}) \u2194 Current`);
    },

    /** Restores the file as this version has it: a preview of the change, a question, then the usual restore (safety point, undo). */
    'recoveryPoints.history.restoreVersion': async (arg?: unknown) => {
      const v = node(arg).version;
      if (v.kind === 'deleted') throw new UserFacingError('This row is the file\'s deletion: restore the version below it to bring the file back.');
      // the row's mark is as of the list; the file may have come back to this version since
      if (v.current || (v.hash !== undefined && (await currentFileHash(s.store.persistence.workspaceRoots, v.path).catch(() => undefined)) === v.hash)) {
        void s.prompts.notify('information', `${s.folders.display(v.path)} already has this content.`);
        return undefined;
      }
      const now = await current(v);
      await diff(now ?? PointContentProvider.uri(v.pointPath, undefined), versionUri(v), `${name(v)}: Current \u2194 ${versionTime(v.point)} (what the restore will write)`);
      const change = await restoreChange(v, now);
      const elsewhere = v.path !== node(arg).file ? ` This version was at ${s.folders.display(v.path)}: the restore writes it there and leaves ${s.folders.display(node(arg).file)} as it is.` : '';
      const choice = await s.prompts.ask(
        'warning',
        `Restore ${s.folders.display(v.path)} as it was at ${versionTime(v.point)} (${v.point.label ?? v.point.summary})?`,
        { modal: true, detail: `The diff shows what the restore changes: ${change}. A safety point of the current files is made first: "Undo Last Restore" brings them back.${elsewhere}` },
        'Restore',
      );
      if (choice !== 'Restore') return undefined;
      return s.restore.run({ point: v.point, paths: [v.path] });
    },

    'recoveryPoints.history.copyContent': async (arg?: unknown): Promise<string> => {
      const v = node(arg).version;
      const hash = v.kind === 'deleted' ? v.previous!.hash : v.hash!;
      const bytes = await (await s.store.persistence.objects()).readBlob(hash);
      if (isBinary(bytes)) throw new UserFacingError('This version is a binary file: open it read-only or restore it instead of copying it as text.');
      const text = bytes.toString('utf8');
      await vscode.env.clipboard.writeText(text);
      void vscode.window.setStatusBarMessage(`$(check) Copied ${name(v)} as it was at ${versionTime(v.point)}`, 4000);
      return text;
    },

    'recoveryPoints.history.openVersion': async (arg?: unknown): Promise<vscode.Uri> => {
      const v = node(arg).version;
      const uri = v.kind === 'deleted' ? PointContentProvider.uri(v.previous!.pointPath, v.previous!.pointId) : versionUri(v);
      await openVersion(uri, v.kind === 'deleted' ? s.model.timed(v.previous!.pointId) : v.point);
      return uri;
    },
  };
}

