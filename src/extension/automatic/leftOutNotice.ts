import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { pointTime, type PointSummary } from '../../core';
import { formatBytes } from '../../core/format';
import type { Configuration } from '../configuration';
import type { Prompts } from '../prompts';
import type { WorkspaceFolders } from '../workspaceFolders';

const SILENCED_KEY = 'recoveryPoints.leftOutNotice.silenced';
const OPEN_SETTINGS = 'Change the Limit';
const SILENCE = "Don't Show Again";

/**
 * Says once when a new point leaves out a file the point before it did not (larger than
 * `maxFileSizeMB`, unreadable): such a file has no history from then on, which a person would
 * otherwise learn only when they look for it. Files left out from the start (the first point's), or
 * by points made before the window opened, are not announced; each file once a window.
 */
export class LeftOutNotice implements vscode.Disposable {
  private readonly told = new Set<string>();
  private seen: string | undefined;
  /** Points made before the window opened were told about then. */
  private readonly since = Date.now();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly points: { readonly points: readonly PointSummary[]; readonly onDidChange: vscode.Event<void> },
    private readonly folders: WorkspaceFolders,
    private readonly config: Configuration,
    private readonly prompts: Prompts,
    private readonly globalState: vscode.Memento,
  ) {
    this.subscription = points.onDidChange(() => this.check());
  }

  private check(): void {
    const [newest, ...older] = this.points.points;
    if (!newest || newest.id === this.seen) return;
    this.seen = newest.id;
    if (pointTime(newest) < this.since || this.globalState.get(SILENCED_KEY) === true) return;
    const parent = older.find((p) => p.id === newest.parentId);
    if (!parent) return;
    const before = new Set(parent.leftOut ?? []);
    const fresh = (newest.leftOut ?? []).filter((p) => !before.has(p) && !this.told.has(p));
    if (fresh.length === 0) return;
    for (const p of fresh) this.told.add(p);
    void this.tell(fresh);
  }

  private async tell(paths: readonly string[]): Promise<void> {
    const limit = this.config.captureRules.maxFileSize;
    const why = (p: string) => {
      const file = this.folders.toUri(p)?.fsPath;
      const size = file ? fs.statSync(file, { throwIfNoEntry: false })?.size : undefined;
      return size !== undefined && size > limit ? `${formatBytes(size)}, over the ${formatBytes(limit)} limit` : 'it could not be read (see the log)';
    };
    const named = paths.slice(0, 3).map((p) => `${this.folders.display(p)} (${why(p)})`);
    const more = paths.length > 3 ? ` and ${paths.length - 3} more` : '';
    const choice = await this.prompts.notify('warning', `Recovery points now leave out ${named.join(', ')}${more}: changes to ${paths.length === 1 ? 'it' : 'them'} are not kept.`, OPEN_SETTINGS, SILENCE);
    if (choice === OPEN_SETTINGS) await openLimitSetting();
    if (choice === SILENCE) await this.globalState.update(SILENCED_KEY, true);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

/** The Settings editor at `maxFileSizeMB`, on the tab whose value counts: the workspace's when it sets one. */
async function openLimitSetting(): Promise<void> {
  const key = 'recoveryPoints.maxFileSizeMB';
  const inWorkspace = vscode.workspace.getConfiguration().inspect(key)?.workspaceValue !== undefined;
  await vscode.commands.executeCommand(inWorkspace ? 'workbench.action.openWorkspaceSettings' : 'workbench.action.openSettings', key);
}
