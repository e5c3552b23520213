import { isDeepStrictEqual } from 'node:util';
import * as vscode from 'vscode';
import { describeCause, type EditorSession, type EditorTab, type StateManager } from '../../core';
import type { Log } from '../log';
import type { WorkspaceFolders } from '../workspaceFolders';

const QUIET_MS = 1500;

/** Keeps the state's editor session (open tabs per group, the active tab, selections) current, so every point records it. */
export class SessionTracker implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private last: EditorSession | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: StateManager,
    private readonly folders: WorkspaceFolders,
    private readonly log: Log,
  ) {
    const schedule = () => this.schedule();
    vscode.window.tabGroups.onDidChangeTabs(schedule, undefined, this.disposables);
    vscode.window.tabGroups.onDidChangeTabGroups(schedule, undefined, this.disposables);
    vscode.window.onDidChangeActiveTextEditor(schedule, undefined, this.disposables);
    vscode.window.onDidChangeTextEditorSelection(schedule, undefined, this.disposables);
    this.schedule();
  }

  /** The session as it is now. */
  capture(): EditorSession {
    const selections = new Map<string, vscode.Selection[]>();
    for (const editor of vscode.window.visibleTextEditors) selections.set(editor.document.uri.toString(), [...editor.selections]);
    const groups = vscode.window.tabGroups.all.map((group) => ({
      viewColumn: group.viewColumn,
      tabs: group.tabs.flatMap((tab): EditorTab[] => {
        const uri = tabUri(tab);
        if (!uri) return [];
        return [{
          path: this.folders.toPointPath(uri) ?? uri.toString(),
          isActive: tab.isActive,
          isPinned: tab.isPinned,
          isPreview: tab.isPreview,
          selections: (selections.get(uri.toString()) ?? []).slice(0, 100).map((s) => ({
            anchor: [s.anchor.line, s.anchor.character] as [number, number],
            active: [s.active.line, s.active.character] as [number, number],
          })),
        }];
      }).slice(0, 500),
    }));
    return { groups: groups.slice(0, 50), activeViewColumn: vscode.window.tabGroups.activeTabGroup?.viewColumn ?? null };
  }

  /** Writes the session now if it changed (before a point, at shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const session = this.capture();
    if (isDeepStrictEqual(session, this.last)) return this.writing;
    this.last = session;
    this.writing = this.writing.then(async () => {
      try {
        await this.state.updateState({ session });
      } catch (error) {
        this.log.warn('session', `Could not save the editor session: ${describeCause(error)}`);
      }
    });
    return this.writing;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), QUIET_MS);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

function tabUri(tab: vscode.Tab): vscode.Uri | undefined {
  const input = tab.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputNotebook) return input.uri;
  return undefined;
}
