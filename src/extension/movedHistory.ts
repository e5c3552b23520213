import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import * as z from 'zod';
import { adoptStore, copyHistory, describeCause, findFolderHistories, findMovedStores, folderFiles, type AdoptResult, type FolderFiles, type FolderHistory, type MovedStore, type RecoveryStore } from '../core';
import type { Log } from './log';
import type { PointsModel } from './pointsModel';
import type { Prompts } from './prompts';
import { siblingStores } from './storeFolder';
import type { WorkspaceFolders } from './workspaceFolders';

export const CONTINUE_HISTORY = 'Continue History';
export const COPY_HISTORY = 'Copy History';
export const NOT_NOW = 'Not Now';
export const DONT_ASK_AGAIN = "Don't Ask Again";

/** The workspace-state key of the stores this workspace declined to continue, and how. */
const DECLINED_KEY = 'recoveryPoints.movedHistory.declined';
/**
 * The workspace-state key set while an offer waits for its answer. A notification hides in the
 * notification centre after 15 s: a window closed before it was answered asks again at its next start,
 * though this folder has points of its own by then.
 */
const UNANSWERED_KEY = 'recoveryPoints.movedHistory.unanswered';
/** "Not Now" (or closing the notification): that store is not offered again for this long. */
const NOT_NOW_MS = 7 * 24 * 60 * 60 * 1000;

const declinedSchema = z.record(z.string(), z.object({ answer: z.enum(['notNow', 'never']), at: z.number() }));
type Declined = z.infer<typeof declinedSchema>;

/**
 * History that follows a moved or renamed folder. VS Code keys workspace storage by the folder's
 * path, so a moved folder opens with an empty store while its history sits in the old storage
 * folder. When a folder with no history opens, the stores beside this one are searched for one whose
 * recorded folder is gone and whose newest point holds most of this folder's files (by path and
 * content hash); the person is asked, in one notification, whether to continue it here (asked again
 * at the next start when the window closed before the answer). An answer other than "Continue History"
 * is kept in the workspace state, per store: "Not Now" (or closing the notification) for a week,
 * "Don't Ask Again" for good (`recovery-points adopt` still can).
 *
 * VS Code keys it by the window's shape too: a folder opened on its own, and the same folder in a
 * workspace of several ("Add Folder to Workspace…"), have histories apart. A window with no history
 * whose folders another window's history holds (where they are now) is offered a copy of it, which
 * that window keeps; declined answers are kept the same way.
 */
export class MovedHistory {
  /** The offer made at start-up, while it waits for its answer and after (`undefined` when none was made). */
  startup: Promise<AdoptResult | undefined> | undefined;
  /** The copy of another window's history last offered (at start-up, or by `offerCopy`), while it waits for its answer and after. */
  copyOffer: Promise<number | undefined> | undefined;
  /** The last question asked: which store, in which words. */
  lastOffer: { readonly storeDir: string; readonly message: string } | undefined;
  /** The clock the declined answers are measured by. */
  now: () => number = Date.now;

  constructor(
    private readonly store: RecoveryStore,
    private readonly model: PointsModel,
    private readonly folders: WorkspaceFolders,
    private readonly workspaceState: vscode.Memento,
    private readonly log: Log,
    private readonly prompts: Prompts,
  ) {}

  /**
   * What activation does once the start-up point is made: the offer, when the window opened a single
   * folder that had no history (`hadHistory`: points were listed before the start-up point), or whose
   * last window closed while the offer waited for its answer.
   */
  atStartup(hadHistory: boolean): Promise<AdoptResult | undefined> {
    if (hadHistory && this.workspaceState.get(UNANSWERED_KEY) !== true) return Promise.resolve(undefined);
    // a moved folder first (only a window of one folder is matched by its files); else the same folders in another window
    this.startup = (this.folders.all.length === 1 ? this.offer() : Promise.resolve(undefined)).then(async (adopted) => {
      if (adopted || this.lastOffer) return adopted;
      await this.offerCopy();
      return undefined;
    });
    return this.startup;
  }

  /**
   * Offers a copy of the histories other windows hold of this workspace's folders (the newest for
   * each folder), in one notification; returns how many points were copied, if any.
   */
  offerCopy(): Promise<number | undefined> {
    this.copyOffer = (async () => {
      const declined = this.declined();
      const histories = pickPerFolder(await this.histories((storeDir) => !this.isDeclined(declined, storeDir)));
      if (histories.length === 0) {
        await this.answered();
        return undefined;
      }
      const message = `${describeCopies(histories, this.folders.all.length)} Copy ${histories.length === 1 && histories[0]!.folders.length === 1 ? 'it' : 'them'} into this window's history? The other window keeps ${histories.length === 1 ? 'its' : 'theirs'}.`;
      await this.workspaceState.update(UNANSWERED_KEY, true);
      this.lastOffer = { storeDir: histories[0]!.storeDir, message };
      const choice = await this.prompts.ask('information', message, {}, COPY_HISTORY, NOT_NOW, DONT_ASK_AGAIN);
      if (choice !== COPY_HISTORY) {
        const answer = choice === DONT_ASK_AGAIN ? 'never' : 'notNow';
        for (const history of histories) await this.remember(history.storeDir, answer);
        await this.answered();
        this.log.info('transfer', `Not copying the history of ${histories.map((h) => h.storeDir).join(', ')}: ${answer === 'never' ? 'not asked again' : 'not asked again for a week'} (Copy History from Another Window… still can).`);
        return undefined;
      }
      return this.copy(histories);
    })();
    return this.copyOffer;
  }

  /** The histories other windows hold of this workspace's folders, newest first (`include`: which sibling stores to examine). */
  async histories(include: (storeDir: string) => boolean = () => true): Promise<FolderHistory[]> {
    const candidates = (await siblingStores(this.store.persistence.layout.root)).filter(include);
    if (candidates.length === 0) return [];
    const found = await findFolderHistories(candidates, this.folders.all.map((f) => f.path), { log: (m) => this.log.debug('transfer', m) });
    for (const h of found) this.log.info('transfer', `${h.storeDir} (${h.recordedFolders.join(', ')}, ${h.points} points) holds ${h.folders.join(', ')} of this workspace.`);
    return found;
  }

  /** Copies other windows' histories into this store (the offer accepted, or the command); errors are shown, not thrown. Returns how many points were copied. */
  async copy(histories: readonly FolderHistory[]): Promise<number | undefined> {
    const named = histories.flatMap((h) => h.folders.map((f) => this.folders.all.find((root) => root.path === f)?.name ?? path.basename(f)));
    try {
      let copied = 0;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Copying the history from another window' }, async (progress) => {
        for (const history of histories) {
          const result = await copyHistory(this.store, history.storeDir, { onProgress: (message) => progress.report({ message }) });
          copied += result.added.length;
          this.log.info('transfer', `Copied ${result.added.length} points from ${history.storeDir} (${result.skipped.length} already here, ${result.objectsAdded} objects written).`);
        }
      });
      await this.answered();
      await this.model.refresh();
      this.mergeAdopted();
      void vscode.window.showInformationMessage(`Recovery Points: copied the history of ${named.join(', ')} (${copied} point${copied === 1 ? '' : 's'}).`);
      return copied;
    } catch (error) {
      this.log.error('transfer', `Could not copy the history of ${named.join(', ')}: ${describeCause(error)}`, error);
      void vscode.window.showErrorMessage(`Recovery Points could not copy the history of ${named.join(', ')}: ${describeCause(error)}`);
      return undefined;
    }
  }

  /** Looks for the store of a moved folder and offers to adopt it; returns what was adopted, if anything. */
  async offer(): Promise<AdoptResult | undefined> {
    const declined = this.declined();
    const best = (await this.search((storeDir) => !this.isDeclined(declined, storeDir)))[0];
    if (!best) {
      await this.answered();
      return undefined;
    }
    const message = `This folder looks like ${describeMoved(best)}. Continue its history here (${best.points} recovery point${best.points === 1 ? '' : 's'})?`;
    await this.workspaceState.update(UNANSWERED_KEY, true);
    this.lastOffer = { storeDir: best.storeDir, message };
    const choice = await this.prompts.ask('information', message, {}, CONTINUE_HISTORY, NOT_NOW, DONT_ASK_AGAIN);
    if (choice !== CONTINUE_HISTORY) {
      const answer = choice === DONT_ASK_AGAIN ? 'never' : 'notNow';
      await this.remember(best.storeDir, answer);
      await this.answered();
      this.log.info('transfer', `Not continuing the history of ${best.storeDir}: ${answer === 'never' ? 'not asked again' : 'not asked again for a week'} (Continue History of a Moved Folder… and recovery-points adopt --from still can).`);
      return undefined;
    }
    return this.adopt(best);
  }

  /**
   * The histories this folder may continue, best match first (`include`: which sibling stores to
   * examine). Only a window of one folder has any: a moved folder is matched by its files.
   */
  async search(include: (storeDir: string) => boolean = () => true): Promise<MovedStore[]> {
    if (this.folders.all.length !== 1) return [];
    const candidates = (await siblingStores(this.store.persistence.layout.root)).filter(include);
    if (candidates.length === 0) return [];
    const found = await findMovedStores(candidates, await this.currentFiles(), { log: (m) => this.log.debug('transfer', m) });
    for (const match of found) this.log.info('transfer', `${match.storeDir} (${match.recordedFolders.join(', ')}, ${match.points} points) matches ${match.score.matched} of ${match.score.total} files of this folder.`);
    return found;
  }

  /** Adopts a moved folder's store into this one (the offer accepted, or the command); errors are shown, not thrown. */
  async adopt(best: MovedStore): Promise<AdoptResult | undefined> {
    const folder = best.recordedFolders.join(', ');
    try {
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Continuing the history of the moved folder' }, () =>
        adoptStore(this.store.persistence, best.storeDir, { state: this.store.state }),
      );
      await this.answered();
      await this.model.refresh();
      this.log.info('transfer', `Adopted ${result.adopted.length} points from ${result.from}.`);
      this.mergeAdopted();
      const undo = result.lastRestore ? ' Undo Last Restore still undoes its last restore.' : '';
      void this.prompts.notify('information', `Recovery Points: continued the history of ${folder} (${result.adopted.length} point${result.adopted.length === 1 ? '' : 's'}).${undo}`);
      return result;
    } catch (error) {
      this.log.error('transfer', `Could not adopt ${best.storeDir}: ${describeCause(error)}`, error);
      void vscode.window.showErrorMessage(`Recovery Points could not continue the history of ${folder}: ${describeCause(error)}`);
      return undefined;
    }
  }

  /** The adopted packs and this folder's own first point hold the same files twice until a clean-up merges them: one now, in the background. */
  private mergeAdopted(): void {
    this.store.recovery.cleanupRecoveryPoints().then(
      (report) => {
        this.log.info('transfer', `Clean-up after continuing the history: ${report.removedPoints} points removed, ${report.mergedPacks} packs merged, ${report.freedBytes} bytes freed.`);
        void this.model.refresh();
        // the view then shows fewer points than the notice of the continued history counted: say why
        if (report.removedPoints > 0) void this.prompts.notify('information', `Recovery Points: the clean-up after it removed ${report.removedPoints} of the points, as every clean-up does (${cleanupReasons(report.reasons)}).`);
      },
      (error: unknown) => this.log.warn('transfer', `The clean-up after continuing the history failed (${describeCause(error)}); the next one merges the packs.`),
    );
  }

  /** Forgets a declined offer of that store (the person chose to continue it after all). */
  async forgetDeclined(storeDir: string): Promise<void> {
    const declined = this.declined();
    if (!(storeDir in declined)) return;
    delete declined[storeDir];
    await this.workspaceState.update(DECLINED_KEY, declined);
  }

  /** This folder's files: the newest point's (the first scan made it), or a scan that writes nothing. */
  private async currentFiles(): Promise<FolderFiles> {
    const newest = (await this.store.persistence.listSnapshots())[0];
    const objects = await this.store.persistence.objects();
    if (newest) return folderFiles(objects, newest.root);
    return this.store.persistence.withCurrentTree((writer, root) => folderFiles(writer, root));
  }

  /** No offer waits for its answer (a failed adoption leaves it waiting: the next start asks again). */
  private async answered(): Promise<void> {
    if (this.workspaceState.get(UNANSWERED_KEY) !== undefined) await this.workspaceState.update(UNANSWERED_KEY, undefined);
  }

  /** The declined stores kept in the workspace state (an unreadable value counts as none). */
  private declined(): Declined {
    const parsed = declinedSchema.safeParse(this.workspaceState.get(DECLINED_KEY) ?? {});
    if (!parsed.success) this.log.warn('transfer', 'The declined offers in the workspace state are unreadable; they are forgotten.');
    return parsed.success ? parsed.data : {};
  }

  /** Keeps an answer in the workspace state; answers about stores that no longer exist are dropped. */
  private async remember(storeDir: string, answer: Declined[string]['answer']): Promise<void> {
    const kept: Declined = {};
    for (const [dir, entry] of Object.entries(this.declined())) if (await fs.stat(dir).then(() => true, () => false)) kept[dir] = entry;
    kept[storeDir] = { answer, at: this.now() };
    await this.workspaceState.update(DECLINED_KEY, kept);
  }

  private isDeclined(declined: Declined, storeDir: string): boolean {
    const entry = declined[storeDir];
    if (!entry) return false;
    return entry.answer === 'never' || this.now() - entry.at < NOT_NOW_MS;
  }
}

/** For each folder, the newest history that holds it (a history holding several is taken once). */
function pickPerFolder(found: readonly FolderHistory[]): FolderHistory[] {
  const taken = new Set<string>();
  const picked: FolderHistory[] = [];
  for (const history of found) {
    const folders = history.folders.filter((f) => !taken.has(f));
    if (folders.length === 0) continue;
    for (const f of folders) taken.add(f);
    picked.push({ ...history, folders });
  }
  return picked;
}

/** "app has 86 recovery points from a window of app on its own." / "app and lib have recovery points from other windows (86 and 12)." */
export function describeCopies(histories: readonly FolderHistory[], workspaceFolders: number): string {
  const base = (p: string) => path.basename(p) || p;
  const where = (h: FolderHistory) => (h.recordedFolders.length === 1 ? `a window of ${base(h.recordedFolders[0]!)}${workspaceFolders > 1 ? ' on its own' : ''}` : `a workspace of ${h.recordedFolders.map(base).join(', ')}`);
  const folders = histories.flatMap((h) => h.folders.map(base));
  const names = folders.length === 1 ? folders[0]! : `${folders.slice(0, -1).join(', ')} and ${folders.at(-1)}`;
  if (histories.length === 1) return `${names} ${folders.length === 1 ? 'has' : 'have'} ${histories[0]!.points} recovery point${histories[0]!.points === 1 ? '' : 's'} from ${where(histories[0]!)}.`;
  return `${names} have recovery points from other windows (${histories.map((h) => `${h.points} from ${where(h)}`).join('; ')}).`;
}

/** "/old/app, which was moved or renamed (96 % of the files match)". */
export function describeMoved(found: MovedStore): string {
  return `${found.recordedFolders.join(', ')}, which was moved or renamed (${Math.round(found.score.share * 100)} % of the files match)`;
}

/** "older than maxAgeDays: 3, over maxPoints: 24": why a clean-up removed points, by setting. */
function cleanupReasons(reasons: Readonly<Record<string, number>>): string {
  const names: Record<string, string> = { count: 'over maxPoints', age: 'older than maxAgeDays', size: 'over maxStoreSizeMB', thinned: 'thinned out as they age (one per 10 minutes after an hour, per hour after a day, per day after a week)' };
  return Object.entries(reasons)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${names[reason] ?? reason}: ${count}`)
    .join(', ');
}
