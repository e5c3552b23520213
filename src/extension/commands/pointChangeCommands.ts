import * as path from 'node:path';
import * as vscode from 'vscode';
import writeFileAtomic from 'write-file-atomic';
import { formatChangeCounts, formatRelativeTime, plural } from '../../core/format';
import { isUntracked, pointTime, type PointSummary, type RecoveryStore, type RenamedFile, type TreeDiff } from '../../core';
import { comparisonPatch, deletedFiles, fileVersionChange, fileVersionPatch, folderHistory, pointChange, pointChangePatch, type DeletedFile } from '../../core/history/pointChanges';
import type { AutoCapture } from '../automatic/autoCapture';
import type { PointsModel } from '../pointsModel';
import type { Prompts } from '../prompts';
import type { RestoreFlow } from '../restore/restoreFlow';
import { noLongerTrackedNote, openChanges, sidesTitle, type ChangePlaces, type Side } from '../views/changeDiffs';
import { VersionNode } from '../views/fileHistoryProvider';
import { FolderNode, PointNode } from '../views/pointsTreeProvider';
import type { WorkspaceFolders } from '../workspaceFolders';
import { UserFacingError, type CommandHandler } from './commandCenter';
import { pointFromArgOrPick, pointPickItem } from './pickers';

export interface PointChangeServices {
  readonly store: RecoveryStore;
  readonly model: PointsModel;
  readonly folders: WorkspaceFolders;
  readonly restore: RestoreFlow;
  readonly prompts: Prompts;
  /** Its pending points are made before a folder's history is read, so a save still in the merge window is listed. */
  readonly auto: Pick<AutoCapture, 'flush'>;
}

/** A comparison someone asked for: a point's own change (`to` is the point), two points, or a point and the current files. */
interface Comparison {
  readonly from: Side;
  readonly to: Side;
  readonly title: string;
  /** With `untracked`: files the older side holds that a later point, or the current files, no longer track (still on disk); `renamed`: files renamed or moved between the sides. */
  readonly diff: TreeDiff & Pick<PointSummary, 'untracked'> & { readonly renamed?: readonly RenamedFile[] };
  readonly patch: (binary: boolean) => Promise<string>;
  /** The name "Save as Patch…" offers. */
  readonly fileName?: string;
  /** Its paths shown and read elsewhere (a folder's history across a rename). */
  readonly places?: ChangePlaces;
}

type SecondPick = vscode.QuickPickItem & { readonly side: 'own' | 'workspace' | PointSummary };

/** What changed in a point, any two points, folders and deleted files; patches of all of them. */
export function pointChangeCommands(s: PointChangeServices): Record<string, CommandHandler> {
  const name = (point: PointSummary) => point.label ?? point.summary;

  const ownChange = async (point: PointSummary): Promise<Comparison> => {
    const change = await pointChange(s.store, point.id);
    const from = change.parent;
    // the files it stopped tracking, as its rows in the tree name them
    const diff = point.untracked ? { ...change.diff, untracked: point.untracked } : change.diff;
    return { from, to: point, title: `${name(point)} (${sidesTitle(from, point)})`, diff, patch: (binary) => pointChangePatch(s.store, point.id, { binary }) };
  };

  const between = async (a: PointSummary, b: PointSummary | 'workspace'): Promise<Comparison> => {
    if (b === 'workspace') {
      const diff = await s.store.recovery.diff(a.id);
      return { from: a, to: 'workspace', title: `${name(a)} \u2194 Current files (${sidesTitle(a, 'workspace')})`, diff, patch: (binary) => comparisonPatch(s.store, a.id, undefined, { binary }) };
    }
    const [older, newer] = a.id < b.id ? [a, b] : [b, a];
    const diff = await s.store.recovery.diff(older.id, newer.id);
    return { from: older, to: newer, title: `${name(older)} \u2194 ${name(newer)} (${sidesTitle(older, newer)})`, diff, patch: (binary) => comparisonPatch(s.store, older.id, newer.id, { binary }) };
  };

  /** A File History row's change: the version before it against this one (only that file). */
  const versionChange = async (node: VersionNode): Promise<Comparison> => {
    const v = node.version;
    const diff = await fileVersionChange(s.store, v);
    const from = v.previous ? s.model.timed(v.previous.pointId) : undefined;
    const to = v.kind === 'deleted' ? undefined : v.point;
    const fileName = `${path.posix.basename(v.path)}.patch`;
    return { from, to, title: `${s.folders.display(v.path)} (${sidesTitle(from, v.point)})`, diff, patch: (binary) => fileVersionPatch(s.store, v, { binary }), fileName };
  };

  /** The comparison a row names (its point's change, a file version's change), or two picks: a point, then its own change, the current files or another point. */
  const comparisonFromArgOrPick = async (arg: unknown, offerOwn: boolean, placeHolder: string): Promise<Comparison | undefined> => {
    if (arg instanceof VersionNode && offerOwn) return versionChange(arg);
    if (arg instanceof PointNode && offerOwn) return ownChange(arg.point);
    // From a point's row (Compare Recovery Points…): that point, compared with a second one picked.
    const first = await pointFromArgOrPick(s.prompts, s.model, arg instanceof PointNode ? arg : undefined, placeHolder);
    if (!first) return undefined;
    const items: SecondPick[] = [
      ...(offerOwn ? [{ label: '$(git-commit) What this point changed', description: 'against the point before it', side: 'own' as const }] : []),
      { label: '$(files) Current files', description: 'the workspace as it is now', side: 'workspace' },
      ...s.model.points.filter((p) => p.id !== first.id).map((p): SecondPick => ({ ...pointPickItem(p), side: p })),
    ];
    const second = await s.prompts.pick(items, { placeHolder: `Compare "${name(first)}" with…`, matchOnDescription: true });
    if (!second) return undefined;
    if (second.side === 'own') return ownChange(first);
    return between(first, second.side);
  };

  const open = async (comparison: Comparison) => {
    const { diff } = comparison;
    if (diff.added.length + diff.modified.length + diff.deleted.length === 0) {
      void s.prompts.notify('information', 'No files differ.');
      return undefined;
    }
    const notTracked = comparison.to === 'workspace' ? [] : diff.deleted.filter((c) => isUntracked(diff, c.path)).map((c) => c.path);
    if (notTracked.length === diff.added.length + diff.modified.length + diff.deleted.length) {
      void s.prompts.notify('information', `No tracked files differ: ${noLongerTrackedNote(s.folders, notTracked)} (still on disk, ignored or excluded since; not deleted).`);
      return undefined;
    }
    return openChanges(s.folders, comparison.title, comparison.from, comparison.to, comparison.diff, comparison.places);
  };

  /** The workspace path (`folder/rel`) of a folder the explorer names. */
  const folderFromArg = (arg: unknown): string => {
    const uri = arg instanceof vscode.Uri ? arg : undefined;
    if (!uri) throw new UserFacingError('Right-click a folder in the Explorer to see its history.');
    const root = s.folders.all.find((r) => path.resolve(r.path) === path.resolve(uri.fsPath));
    const folder = root?.name ?? s.folders.toPointPath(uri);
    if (!folder) throw new UserFacingError(`${uri.fsPath} is not in a folder of this workspace.`);
    return folder;
  };

  /** The points that changed `folder`; `labelled`: and the labelled points that hold it unchanged (for a restore); else followed back through renames. */
  const folderPointPick = async (folder: string, placeHolder: string, labelled = false) => {
    const history = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Reading the folder\'s history' }, async () => {
      await s.auto.flush();
      return folderHistory(s.store, folder, { labelled, followRenames: !labelled });
    });
    if (history.length === 0) throw new UserFacingError(`No recovery point changed anything in ${s.folders.display(folder) || folder}.`);
    const renamed = (h: (typeof history)[number]) => (h.renamedFrom !== undefined ? `renamed from ${s.folders.display(h.renamedFrom) || h.renamedFrom}, ` : '');
    const changes = (h: (typeof history)[number]) =>
      renamed(h) + (countFiles(h.diff) === 0 ? (h.renamedFrom !== undefined ? 'no file changed' : 'no change in this folder') : `${formatChangeCounts({ added: h.diff.added.length, modified: h.diff.modified.length, deleted: h.diff.deleted.length })} in this folder`);
    const items = history.map((h) => ({ ...pointPickItem(h.point), description: `${formatRelativeTime(pointTime(h.point))}  ${changes(h)}`, change: h }));
    return (await s.prompts.pick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true }))?.change;
  };

  return {
    /** "Open Changes" on a point (or a folder of its changes): every changed file in the multi-file diff editor. */
    'recoveryPoints.openPointChanges': async (arg?: unknown) => {
      if (arg instanceof FolderNode) {
        const comparison = await ownChange(arg.point);
        const under = (p: string) => s.folders.display(p).startsWith(`${arg.folder.path}/`);
        const diff = { ...comparison.diff, added: comparison.diff.added.filter((c) => under(c.path)), modified: comparison.diff.modified.filter((c) => under(c.path)), deleted: comparison.diff.deleted.filter((c) => under(c.path)) };
        return open({ ...comparison, diff, title: `${arg.folder.path} \u2014 ${comparison.title}` });
      }
      const point = await pointFromArgOrPick(s.prompts, s.model, arg, 'Open the changes of which recovery point?');
      return point ? open(await ownChange(point)) : undefined;
    },

    'recoveryPoints.comparePoints': async (arg?: unknown) => {
      const comparison = await comparisonFromArgOrPick(arg, false, 'Compare which recovery point…');
      return comparison ? open(comparison) : undefined;
    },

    'recoveryPoints.copyPatch': async (arg?: unknown) => {
      const comparison = await comparisonFromArgOrPick(arg, true, 'Copy the changes of which recovery point as a patch?');
      if (!comparison) return undefined;
      const patch = await comparison.patch(false);
      if (patch === '') throw new UserFacingError('No files differ: there is no patch to copy.');
      await vscode.env.clipboard.writeText(patch);
      void vscode.window.setStatusBarMessage(`$(check) Patch copied (${plural(countFiles(comparison.diff), 'file')})`, 4000);
      return patch;
    },

    'recoveryPoints.savePatch': async (arg?: unknown) => {
      const comparison = await comparisonFromArgOrPick(arg, true, 'Save the changes of which recovery point as a patch?');
      if (!comparison) return undefined;
      // A saved patch is for applying: binary files carry their bytes (as `git diff --binary`).
      const patch = await comparison.patch(true);
      if (patch === '') throw new UserFacingError('No files differ: there is no patch to save.');
      const folder = s.folders.all[0]!.path;
      const target = await s.prompts.file('save', { title: 'Save as Patch', saveLabel: 'Save', defaultUri: vscode.Uri.file(path.join(folder, comparison.fileName ?? 'recovery-point.patch')), filters: { Patches: ['patch', 'diff'] } });
      if (!target) return undefined;
      await writeFileAtomic(target.fsPath, patch);
      void s.prompts.notify('information', `Saved the patch of ${plural(countFiles(comparison.diff), 'file')} to ${target.fsPath}. Apply it with "git apply".`);
      return target.fsPath;
    },

    'recoveryPoints.restoreDeleted': async () => {
      const found = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Looking for deleted files in the recovery points', cancellable: true }, (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return deletedFiles(s.store, abort.signal);
      });
      if (found.length === 0) throw new UserFacingError('No recovery point holds a file that the workspace no longer has.');
      const items = found.map((file) => ({
        label: `$(diff-removed) ${s.folders.display(file.path)}`,
        description: `deleted ${formatRelativeTime(pointTime(file.deletedIn))}${file.orEarlier ? ' or earlier' : ''}`,
        detail: `in "${name(file.deletedIn)}"${file.orEarlier ? ' or in a point clean-up removed before it' : ''}; restores it as it was in "${name(file.version)}"`,
        file,
      }));
      const chosen = await s.prompts.pickMany(items, { title: 'Restore Deleted Files', placeHolder: 'Type to filter by name; tick the files to bring back (newest deletion first)', matchOnDescription: true });
      if (!chosen) return undefined;
      if (chosen.length === 0) {
        // OK (or Enter) with no box ticked: the files start unticked, so say why nothing came back
        void s.prompts.notify('information', 'No file was ticked, so none was restored: tick the files to bring back (Space, or their boxes), then OK.');
        return undefined;
      }
      const byVersion = new Map<string, DeletedFile[]>();
      for (const { file } of chosen) byVersion.set(file.version.id, [...(byVersion.get(file.version.id) ?? []), file]);
      const results = [];
      for (const files of byVersion.values()) results.push(await s.restore.run({ point: files[0]!.version, paths: files.map((f) => f.pointPath) }));
      return results;
    },

    'recoveryPoints.showFolderHistory': async (arg?: unknown) => {
      const folder = folderFromArg(arg);
      const change = await folderPointPick(folder, `Points that changed ${s.folders.display(`${folder}/`) || folder}: open one's changes there`);
      if (!change) return undefined;
      const parent = change.base;
      const shown = s.folders.display(folder) || folder;
      if (change.renamedFrom !== undefined && countFiles(change.diff) === 0) {
        void s.prompts.notify('information', `No file in ${shown} changed in "${name(change.point)}": it renamed the folder from ${s.folders.display(change.renamedFrom) || change.renamedFrom}.`);
        return undefined;
      }
      // the folder's paths then, shown under its name now, the left side read where its files were
      const rest = (p: string) => p.slice(change.folder.length);
      const places: ChangePlaces = { shown: (p) => `${folder}${rest(p)}`, before: (p) => `${change.baseFolder}${rest(p)}` };
      return open({ from: parent, to: change.point, title: `${shown} \u2014 ${name(change.point)} (${sidesTitle(parent, change.point)})`, diff: change.diff, places, patch: () => Promise.resolve('') });
    },

    'recoveryPoints.restoreFolder': async (arg?: unknown) => {
      const folder = folderFromArg(arg);
      const change = await folderPointPick(folder, `Restore ${s.folders.display(`${folder}/`) || folder} as it was in…`, true);
      if (!change) return undefined;
      return s.restore.run({ point: change.point, paths: [change.folder], review: true });
    },
  };
}

/** The files a comparison holds, a renamed or moved one (`renamed`) counted once. */
function countFiles(diff: TreeDiff & { readonly renamed?: readonly RenamedFile[] }): number {
  return diff.added.length + diff.modified.length + diff.deleted.length - (diff.renamed?.length ?? 0);
}
