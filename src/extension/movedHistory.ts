import * as vscode from 'vscode';
import { adoptStore, describeCause, findMovedStores, folderFiles, type AdoptResult, type FolderFiles, type RecoveryStore } from '../core';
import type { Log } from './log';
import type { PointsModel } from './pointsModel';
import type { Prompts } from './prompts';
import { siblingStores } from './storeFolder';

export const CONTINUE_HISTORY = 'Continue History';
export const NOT_NOW = 'Not Now';

/**
 * History that follows a moved or renamed folder. VS Code keys workspace storage by the folder's
 * path, so a moved folder opens with an empty store while its history sits in the old storage
 * folder. When a folder with no history opens, the stores beside this one are searched for one whose
 * recorded folder is gone and whose newest point holds most of this folder's files (by path and
 * content hash); the person is asked once, in one notification, whether to continue it here.
 */
export class MovedHistory {
  constructor(
    private readonly store: RecoveryStore,
    private readonly model: PointsModel,
    private readonly log: Log,
    private readonly prompts: Prompts,
  ) {}

  /** Looks for the store of a moved folder and offers to adopt it; returns what was adopted, if anything. */
  async offer(): Promise<AdoptResult | undefined> {
    const candidates = await siblingStores(this.store.persistence.layout.root);
    if (candidates.length === 0) return undefined;
    const current = await this.currentFiles();
    const found = await findMovedStores(candidates, current, { log: (m) => this.log.debug('transfer', m) });
    const best = found[0];
    if (!best) return undefined;
    this.log.info('transfer', `${best.storeDir} (${best.recordedFolders.join(', ')}, ${best.points} points) matches ${best.score.matched} of ${best.score.total} files of this folder.`);
    const folder = best.recordedFolders.join(', ');
    const percent = Math.round(best.score.share * 100);
    const choice = await this.prompts.ask(
      'information',
      `This folder looks like ${folder}, which was moved or renamed (${percent} % of the files match). Continue its history here (${best.points} recovery point${best.points === 1 ? '' : 's'})?`,
      {},
      CONTINUE_HISTORY,
      NOT_NOW,
    );
    if (choice !== CONTINUE_HISTORY) return undefined;
    try {
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Continuing the history of the moved folder' }, () =>
        adoptStore(this.store.persistence, best.storeDir),
      );
      await this.model.refresh();
      this.log.info('transfer', `Adopted ${result.adopted.length} points from ${result.from}.`);
      void vscode.window.showInformationMessage(`Recovery Points: continued the history of ${folder} (${result.adopted.length} point${result.adopted.length === 1 ? '' : 's'}).`);
      return result;
    } catch (error) {
      this.log.error('transfer', `Could not adopt ${best.storeDir}: ${describeCause(error)}`, error);
      void vscode.window.showErrorMessage(`Recovery Points could not continue the history of ${folder}: ${describeCause(error)}`);
      return undefined;
    }
  }

  /** This folder's files: the newest point's (the first scan made it), or a scan that writes nothing. */
  private async currentFiles(): Promise<FolderFiles> {
    const newest = (await this.store.persistence.listSnapshots())[0];
    const objects = await this.store.persistence.objects();
    if (newest) return folderFiles(objects, newest.root);
    return this.store.persistence.withCurrentTree((writer, root) => folderFiles(writer, root));
  }
}
