import * as path from 'node:path';
import * as vscode from 'vscode';
import { hooksRemovedByRestore, hooksRemovedNote, projectHooks } from '../../hooks/hookInstaller';
import { describeMapping, headsMovedNote, inOwnFolder, quotedPointName, type LastRestore, type PointSummary, type RecoveryStore, type RestorePreview, type RestoreResult } from '../../core';
import type { AutoCapture } from '../automatic/autoCapture';
import { UserFacingError } from '../commands/commandCenter';
import type { Configuration } from '../configuration';
import type { Log } from '../log';
import type { PointsModel } from '../pointsModel';
import type { Prompts } from '../prompts';
import { reopenEditors } from '../session/reopenEditors';
import type { SessionTracker } from '../session/sessionTracker';
import type { WorkspaceFolders } from '../workspaceFolders';
import { restoreMessage } from './restoreMessage';
import { PointContentProvider } from '../views/pointContentProvider';
import { plural } from '../../core/format';

export interface RestoreRequest {
  readonly point: PointSummary;
  /** Restore only these point paths; the whole point when absent. */
  readonly paths?: readonly string[];
  /** Let the person review the files and untick some (the whole-point command). */
  readonly review?: boolean;
  /** One file: show the diff of what the restore writes and ask first (Restore File from Recovery Point…). */
  readonly confirmFile?: boolean;
  /** Undo: restore the previous safety point without a review. */
  readonly isUndo?: boolean;
  /** For an undo: the point whose restore it undoes (names the points it makes). */
  readonly undoOf?: string;
  /** For an undo: the restore it undoes, to ask first when files it changed were edited since. */
  readonly undoing?: LastRestore;
  /** For an undo: the only files it changes (those the undone restore changed). */
  readonly within?: ReadonlySet<string>;
  /** For an undo: the only folders it removes once empty (those the undone restore created). */
  readonly prunable?: ReadonlySet<string>;
  /** For an undo: the undone restore's folders by identity (a folder moved since is followed). */
  readonly folderIds?: Readonly<Record<string, string>>;
  /** For an undo: the files the undone restore created that no point holds (it deletes them). */
  readonly untrackedToRemove?: LastRestore['untrackedWrites'];
}

/**
 * Restores through the editor: pending automatic points first, a review of the files with checkboxes,
 * a choice for files with unsaved edits (save, discard or cancel), the core's restore (which makes a
 * safety point), then open editors brought up to date and, if the setting says so, the point's layout.
 */
const SET_UP_AGAIN = 'Set Up Agent Checkpoints…';
const REVIEW_SAFETY_POINT = 'Review and Restore It';
const UNDO = 'Undo';
const DELETE_IT_TOO = 'Delete It Too';
const LEAVE_THOSE_FILES = 'Leave Those Files';

export class RestoreFlow {
  constructor(
    private readonly store: RecoveryStore,
    private readonly model: PointsModel,
    private readonly folders: WorkspaceFolders,
    private readonly config: Configuration,
    private readonly auto: AutoCapture,
    private readonly session: SessionTracker,
    private readonly log: Log,
    private readonly prompts: Prompts,
  ) {}

  async run(request: RestoreRequest): Promise<RestoreResult | undefined> {
    await this.auto.flush();
    let paths = request.paths;
    let within = request.within;
    const plan = await this.store.recovery.previewRestore(request.point.id, paths, { changedPaths: this.auto.changedSinceNewestPoint(), within: request.within, folderIds: request.folderIds, untrackedToRemove: request.untrackedToRemove });
    const changes = [...plan.modify, ...plan.add, ...plan.remove];
    // Plan paths use the workspace's folder names; say how the point's folders were matched to them.
    const mapping = describeMapping(plan.folders);
    if (mapping.length > 0) this.log.info('restore', `Folders of ${request.point.id}: ${mapping.join('; ')}`);
    for (const left of plan.leftAlone) this.log.info('restore', `Left as it is: ${left.path} (${left.reason})`);
    if (changes.length === 0) {
      if (plan.leftAlone.length > 0) void this.prompts.notify('information', `Nothing to restore: ${leftAloneNote(plan.leftAlone, (p) => this.folders.display(p))}.`);
      else if (request.isUndo) void this.prompts.notify('information', 'The files the last restore changed are already as they were before it.');
      else void this.prompts.notify('information', request.paths?.length === 1 ? `${this.folders.display(request.paths[0]!)} already matches the recovery point.` : 'The files already match the recovery point.');
      return undefined;
    }
    if (request.confirmFile && changes.length === 1 && !(await this.confirmFile(plan, request.point))) return undefined;
    if (request.undoing && !(await this.confirmUndoOverEdits(request.undoing, changes.map((c) => c.path)))) return undefined;
    if (request.review) {
      const chosen = await this.review(plan, request.point, request.paths);
      if (!chosen) return undefined;
      if (chosen.length < changes.length) paths = chosen;
      // what the review listed and nothing else: a file changed or made since it was shown is left as it is
      within = new Set(chosen);
    }
    const affected = new Set(paths !== request.paths && paths ? paths : changes.map((c) => c.path));
    const dirty = vscode.workspace.textDocuments.filter((doc) => {
      const p = doc.isDirty ? this.folders.toPointPath(doc.uri) : undefined;
      return p !== undefined && affected.has(p);
    });
    let discard: vscode.TextDocument[] = [];
    if (dirty.length > 0) {
      const names = dirty.map((d) => this.folders.display(this.folders.toPointPath(d.uri)!)).slice(0, 5).join(', ');
      const removed = new Set(plan.remove.map((c) => c.path));
      const deleted = dirty.filter((d) => removed.has(this.folders.toPointPath(d.uri)!)).length;
      const does = deleted === 0 ? 'overwrite' : deleted === dirty.length ? 'delete' : 'overwrite or delete';
      const choice = await this.prompts.ask(
        'warning',
        `${dirty.length === 1 ? `${names} has` : `${dirty.length} files (${names}) have`} unsaved changes that the restore would ${does}.`,
        { modal: true, detail: 'Save keeps your edits in the safety point made before the restore, so "Undo Last Restore" brings them back. Discard drops them.' },
        'Save and Restore',
        'Discard and Restore',
      );
      if (!choice) return undefined;
      if (choice === 'Save and Restore') {
        await saveBeforeRestore(dirty, (doc) => this.folders.display(this.folders.toPointPath(doc.uri)!));
        await this.auto.flush();
      } else {
        discard = dirty;
      }
    }
    await this.session.flush();
    const uris = [...affected].map((p) => this.folders.toUri(p)?.fsPath).filter((p): p is string => p !== undefined);
    // Asked before our own writes begin (they call for a full scan): what changed since the newest point.
    const changedPaths = this.auto.changedSinceNewestPoint();
    const gap = this.auto.hintGap;
    this.auto.beginOwnWrites(uris);
    const title = request.isUndo ? 'Undoing the last restore' : `Restoring ${request.point.label ? `"${request.point.label}"` : 'recovery point'}`;
    const project = this.folders.all[0]!.path;
    const hooksBefore = request.isUndo ? [] : await projectHooks(project).catch(() => []);
    let result: RestoreResult;
    try {
      result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: false }, (progress) =>
        this.store.recovery.restore(request.point.id, {
          paths,
          changedPaths,
          undoOf: request.undoOf,
          within,
          prunable: request.prunable,
          folderIds: request.folderIds,
          untrackedToRemove: request.untrackedToRemove,
          onProgress: (message) => progress.report({ message }),
        }),
      );
    } finally {
      await this.auto.endOwnWrites(uris);
    }
    this.log.info('restore', `Restored ${request.point.id}: ${result.outcome.written.length} written, ${result.outcome.removed.length} deleted, ${result.outcome.skipped.length} skipped; safety point ${result.safetyPointId} (${result.safetyCapture === 'hint' ? `hint mode, ${changedPaths!.length} changed since the newest point` : `full scan${changedPaths ? '' : `: ${gap ?? 'the hints were incomplete'}`}`}); the files as restored are point ${result.restoredPointId ?? '(none)'}`);
    for (const skipped of result.outcome.skipped) this.log.warn('restore', `Skipped ${skipped.path}: ${skipped.reason}`);
    await this.reloadEditors(new Set([...result.outcome.written, ...result.outcome.removed]), discard);
    if (!paths && this.config.restoreEditorLayout && !request.isUndo) await reopenEditors(result.state.session, result.folders, this.folders, this.log);
    await this.model.refresh();
    await vscode.commands.executeCommand('setContext', 'recoveryPoints.canUndoRestore', true);
    const summary = restoreMessage(request.point, result.outcome, request.isUndo === true, (p) => this.folders.display(p), result.undid);
    // a restore that changed nothing is no restore to undo (the last restore stays the one before it)
    const changed = result.outcome.written.length + result.outcome.removed.length > 0;
    void this.prompts.notify('information', summary, ...(request.isUndo || !changed ? [] : [UNDO])).then((choice) => {
      if (choice === UNDO) void this.undoFromNotice(result.safetyPointId);
    });
    const hooksRemoved = await hooksRemovedByRestore(project, hooksBefore).catch(() => []);
    for (const note of hooksRemovedNote(hooksRemoved, (location) => path.relative(project, location), () => 'Set Up Agent Checkpoints… puts them back.')) {
      this.log.warn('restore', note);
      void this.prompts.notify('warning', `${note[0]!.toUpperCase()}${note.slice(1)}`, SET_UP_AGAIN).then((choice) => {
        if (choice === SET_UP_AGAIN) void vscode.commands.executeCommand('recoveryPoints.setUpAgentCheckpoints');
      });
    }
    return result;
  }

  /**
   * After the start-up point: a restore the editor (or the tool) was stopped in the middle of left
   * files as it had got to, and its temporary files; says so, and offers the safety point made before
   * it (which holds the files as they were then) for a reviewed restore.
   */
  async tellInterrupted(): Promise<void> {
    const interrupted = await this.store.recovery.interruptedRestore();
    if (!interrupted) return;
    const temps = interrupted.leftovers.map((p) => this.folders.display(p));
    const left = `${plural(temps.length, 'temporary file')} of it (${temps.slice(0, 2).join(', ')}${temps.length > 2 ? ', …' : ''})`;
    this.log.warn('restore', `A restore was interrupted: the newest point holds ${left}.`);
    const safety = interrupted.safety;
    const message = `A restore was interrupted before it finished: some files may be as it left them, with ${left}.${safety ? ` "${safety.label ?? safety.summary}", the safety point made before it, holds the files as they were then.` : ''}`;
    if (!safety) {
      void this.prompts.notify('warning', message);
      return;
    }
    const choice = await this.prompts.notify('warning', message, REVIEW_SAFETY_POINT);
    if (choice === REVIEW_SAFETY_POINT) await this.run({ point: safety, review: true });
  }

  /**
   * The Undo button of a restore's notification (which stays on screen): undoes that restore while it
   * is still the last one. Once it was undone, or another restore came after it, Undo Last Restore
   * would undo something else (redo it, or undo the later one): nothing is done, and that is said.
   */
  async undoFromNotice(safetyPointId: string): Promise<void> {
    const last = (await this.store.state.syncState()).lastRestore;
    if (last?.safetyPointId !== safetyPointId) {
      void this.prompts.notify('information', 'That restore was undone already, or another restore came after it: nothing was changed. Undo Last Restore undoes the last one.');
      return;
    }
    await vscode.commands.executeCommand('recoveryPoints.undoRestore');
  }

  /** Undoes the last restore (the person's or an agent's): restores its safety point over the files that restore changed. */
  async undoLast(): Promise<RestoreResult | undefined> {
    const state = await this.store.state.syncState();
    if (!state.lastRestore) throw new UserFacingError('There is no restore to undo.');
    const last = state.lastRestore;
    const point = this.model.find(last.safetyPointId) ?? (await this.store.recovery.listRecoveryPoints()).find((p) => p.id === last.safetyPointId);
    if (!point) throw new UserFacingError('The safety point of the last restore no longer exists.');
    return this.run({ point, ...(await this.store.recovery.undoScope(last)), isUndo: true, undoing: last });
  }

  /** An undo that would replace edits made since the restore it undoes: asked first; no question when there are none. */
  private async confirmUndoOverEdits(last: LastRestore, paths: readonly string[]): Promise<boolean> {
    const edited = await this.store.recovery.editedSinceRestore(last, paths);
    if (edited.length === 0) return true;
    const names = edited.slice(0, 3).map((p) => this.folders.display(p)).join(', ') + (edited.length > 3 ? ', …' : '');
    const choice = await this.prompts.ask(
      'warning',
      `${edited.length === 1 ? `${names} was` : `${edited.length} files (${names}) were`} changed since the restore: undoing it puts back ${edited.length === 1 ? 'its' : 'their'} version from before the restore over those changes.`,
      { modal: true, detail: 'The safety point made first keeps the changes: Undo Last Restore again brings them back.' },
      'Undo Anyway',
    );
    return choice === 'Undo Anyway';
  }

  /** One file's restore, asked as File History's Restore This Version asks: the diff of what it writes, then a question. */
  private async confirmFile(plan: RestorePreview, point: PointSummary): Promise<boolean> {
    const deletes = plan.remove.length > 0;
    const file = [...plan.modify, ...plan.add, ...plan.remove][0]!.path;
    const now = plan.add.length > 0 ? undefined : this.folders.toUri(file);
    const empty = PointContentProvider.uri(file, undefined);
    const title = `${path.posix.basename(file)}: Current \u2194 ${quotedPointName(point)} (what the restore will write)`;
    await vscode.commands.executeCommand('vscode.diff', now ?? empty, deletes ? empty : PointContentProvider.uri(file, point.id), title, { preview: true });
    const what = deletes ? 'deletes the file (the safety point keeps it)' : now ? 'writes the point\'s version over the file' : 'creates the file';
    const choice = await this.prompts.ask(
      'warning',
      `Restore ${this.folders.display(file)} as it was in ${quotedPointName(point)}?`,
      { modal: true, detail: `The diff shows what the restore changes: it ${what}. A safety point of the current files is made first: "Undo Last Restore" brings them back.` },
      'Restore',
    );
    return choice === 'Restore';
  }

  /** The files a restore will change, ticked; `paths` (one folder, from Restore Folder…) is named in the title. */
  private async review(plan: RestorePreview, point: PointSummary, paths: readonly string[] | undefined): Promise<string[] | undefined> {
    type Item = vscode.QuickPickItem & { path: string };
    // the icon apart from the label: a label's `$(icon)` is read out raw by screen readers and the checkbox's tooltip
    const item = (path: string, icon: string, what: string): Item => ({ label: this.folders.display(path), iconPath: new vscode.ThemeIcon(icon), description: what, path, picked: true });
    // a point of another folder (another project's history, imported): its versions were never here, so nothing is "changed back"
    const ownFolder = (file: string) => inOwnFolder(plan.folders, file);
    const items: Item[] = [
      ...plan.modify.map((c) => item(c.path, 'diff-modified', ownFolder(c.path) ? 'will be changed back' : 'will be replaced by the point\'s version')),
      ...plan.add.map((c) => item(c.path, 'diff-added', ownFolder(c.path) ? 'will be restored' : 'will be created from the point')),
      ...plan.remove.map((c) => item(c.path, 'diff-removed', 'will be deleted (kept in the safety point)')),
    ];
    const mapping = describeMapping(plan.folders);
    const left = plan.leftAlone.length > 0 ? ` — ${leftAloneNote(plan.leftAlone, (p) => this.folders.display(p))}` : '';
    const moved = plan.headsMoved.length > 0 ? ` — ${headsMovedNote(plan.headsMoved, this.folders.all.length === 1)}` : '';
    const picked = await this.prompts.pickMany(items, {
      title: `Restore ${paths?.length === 1 ? `${this.folders.display(paths[0]!)} from ${quotedPointName(point)}` : (point.label ?? point.summary)}${mapping.length > 0 ? ` (${mapping.join('; ')})` : ''}${left}${moved}`,
      placeHolder: 'Untick what to leave as it is (the restore can be undone)',
      matchOnDescription: true,
    });
    if (!picked || picked.length === 0) return undefined;
    return this.withWhatTheyNeed(plan, picked.map((p) => p.path));
  }

  /**
   * Files ticked inside a path whose deletion was unticked (a link or a file where the point has a
   * folder): the restore cannot write them without deleting it first, and would skip them. Asked
   * before anything changes: delete it too, or leave those files. `undefined`: cancelled.
   */
  private async withWhatTheyNeed(plan: RestorePreview, chosen: string[]): Promise<string[] | undefined> {
    const ticked = new Set(chosen);
    const inside = (file: string, folder: string) => file.startsWith(`${folder}/`);
    const needed = plan.remove.map((c) => c.path).filter((p) => !ticked.has(p) && chosen.some((file) => inside(file, p)));
    if (needed.length === 0) return chosen;
    const dependents = chosen.filter((file) => needed.some((p) => inside(file, p)));
    const first = this.folders.display(needed[0]!);
    const files = dependents.length === 1 ? this.folders.display(dependents[0]!) : `${dependents.length} files ticked`;
    const choice = await this.prompts.ask(
      'warning',
      `${files} ${dependents.length === 1 ? 'is' : 'are'} inside ${first}${needed.length > 1 ? ` (and ${needed.length - 1} more)` : ''}, which you left unticked: it is a link or a file where the point has a folder, so the restore can write ${dependents.length === 1 ? 'it' : 'them'} only by deleting it first.`,
      { modal: true, detail: 'What is deleted is kept in the safety point made first: Undo Last Restore brings it back.' },
      DELETE_IT_TOO,
      LEAVE_THOSE_FILES,
    );
    if (choice === DELETE_IT_TOO) return [...chosen, ...needed];
    if (choice === LEAVE_THOSE_FILES) {
      const rest = chosen.filter((file) => !dependents.includes(file));
      return rest.length > 0 ? rest : undefined;
    }
    return undefined;
  }

  /** Editors show what is on disk now: dirty ones the person chose to discard are reverted; clean ones are reloaded by VS Code, and we wait for that. */
  private async reloadEditors(changed: ReadonlySet<string>, discard: readonly vscode.TextDocument[]): Promise<void> {
    for (const doc of discard) {
      if (doc.isClosed) continue;
      await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: false });
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    const open = vscode.workspace.textDocuments.filter((doc) => {
      const p = this.folders.toPointPath(doc.uri);
      return p !== undefined && changed.has(p) && !doc.isDirty;
    });
    await Promise.all(open.map((doc) => waitForDiskContent(doc)));
  }
}

/** The files of a point a restore leaves as they are, in a few words: `dist/app.js is left as it is: a file that is not tracked … is in the way`. */
function leftAloneNote(leftAlone: RestorePreview['leftAlone'], display: (pointPath: string) => string): string {
  // a reason that ends "…: left as it is" says so once, in front
  const bare = (reason: string) => reason.replace(/: left as it is$/, '');
  if (leftAlone.length === 1) return `${display(leftAlone[0]!.path)} is left as it is: ${bare(leftAlone[0]!.reason)}`;
  const reasons = new Set(leftAlone.map((l) => l.reason));
  const why = [...reasons].every((r) => r.endsWith('is in the way')) ? 'files or folders not tracked now are in the way' : reasons.size === 1 ? bare(leftAlone[0]!.reason) : 'each for its reason (the log names them)';
  return `${plural(leftAlone.length, 'file')} (${leftAlone.slice(0, 3).map((l) => display(l.path)).join(', ')}${leftAlone.length > 3 ? ', …' : ''}) left as they are: ${why}`;
}

/** Resolves when an open (clean) document's text equals its file on disk, or after a few seconds. */
async function waitForDiskContent(doc: vscode.TextDocument, timeoutMs = 3000): Promise<void> {
  const matches = async () => {
    try {
      return Buffer.from(await vscode.workspace.fs.readFile(doc.uri)).toString('utf8') === doc.getText();
    } catch {
      return true;
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await matches()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * "Save and Restore": saves each document with unsaved edits, and stops the restore before anything
 * changes when one was not saved: its save failed, or reported success with the editor still dirty (a
 * conflict with the disk, an edit during the save), which kept nothing the safety point could hold.
 */
export async function saveBeforeRestore<D extends Pick<vscode.TextDocument, 'save' | 'isDirty'>>(docs: readonly D[], name: (doc: D) => string): Promise<void> {
  for (const doc of docs) if (!(await doc.save()) || doc.isDirty) throw new UserFacingError(`${name(doc)} could not be saved; nothing was restored.`);
}
