import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeCause, RecoveryStore, type CaptureProcessOptions } from '../core';
import { formatBytes, plural } from '../core/format';
import { AutoCapture } from './automatic/autoCapture';
import { LeftOutNotice } from './automatic/leftOutNotice';
import { CommandCenter, UserFacingError } from './commands/commandCenter';
import { historyCommands } from './commands/historyCommands';
import { pointChangeCommands } from './commands/pointChangeCommands';
import { selectionHistoryCommands } from './commands/selectionHistoryCommands';
import { recoveryCommands } from './commands/recoveryCommands';
import { searchCommands } from './commands/searchCommands';
import type { SearchWorkerOptions } from '../core/history/searchWorker';
import type { SearchRuns } from './search/searchResults';
import { transferCommands } from './commands/transferCommands';
import { agentCommands, extensionLauncher, repairAgentHooks } from './commands/agentCommands';
import { startToolDetached, type ToolLauncher } from '../cli/detachedTool';
import { resumeWaitingHooks } from '../hooks/waitingHooks';
import { Configuration } from './configuration';
import { registerLanguageModelTools } from './languageModelTools';
import { Log } from './log';
import { DeferredTreeProvider } from './views/deferredTreeProvider';
import { PointsModel } from './pointsModel';
import { Prompts } from './prompts';
import { RestoreFlow } from './restore/restoreFlow';
import { SessionTracker } from './session/sessionTracker';
import { MovedHistory } from './movedHistory';
import { sharedStoreFolder } from './storeFolder';
import { FileHistoryProvider } from './views/fileHistoryProvider';
import { POINT_SCHEME, PointContentProvider } from './views/pointContentProvider';
import { showFilterState } from './views/pointsFilter';
import { PointsTreeProvider } from './views/pointsTreeProvider';
import { RecoveryStatusBar } from './views/statusBar';
import { WorkspaceFolders } from './workspaceFolders';

/** What `activate` returns: the live services, for the extension-host tests and other extensions. */
export interface RecoveryPointsApi {
  readonly store: RecoveryStore | undefined;
  readonly model: PointsModel | undefined;
  readonly auto: AutoCapture | undefined;
  /** The tree view's data (day → point → changed files) and the view itself. */
  readonly tree: PointsTreeProvider | undefined;
  readonly view: vscode.TreeView<unknown> | undefined;
  readonly statusBar: RecoveryStatusBar | undefined;
  /** Every question asked of the person; tests script the answers with `prompts.answerNext(...)`. */
  readonly prompts: Prompts;
  readonly ready: Promise<void>;
  /** How long activation took until the store was open and the view filled (ms); `undefined` before that. */
  readonly activationMs: number | undefined;
  /** Where activation's time went: opening the store, listing the points; and how long the extension host had run before activation began. */
  readonly activationSteps: { readonly storeOpenMs: number; readonly listMs: number; readonly hostUptimeMs: number; readonly hostBusy: number } | undefined;
  /** Restores as a person asks for them (reviews, questions, undo), and the notice of a restore interrupted before it finished. */
  readonly restore: RestoreFlow | undefined;
  /** The offer to continue the history of a moved folder (made at start-up when the folder has none). */
  readonly movedHistory: MovedHistory | undefined;
  /** The File History view's data (the versions of the active editor's file). */
  readonly fileHistory: FileHistoryProvider | undefined;
  /** The language-model tools by name (what `vscode.lm.invokeTool` calls; tests call `prepareInvocation` through it). */
  readonly languageModelTools: ReadonlyMap<string, vscode.LanguageModelTool<object>> | undefined;
  /** How many Search History runs went to a worker thread, and how many ran in the extension host. */
  readonly searchRuns: SearchRuns;
  /** The start-up check of the agents' hooks (`repairAgentHooks`): installs again those that name paths now gone. */
  readonly checkAgentHooks: (() => Promise<void>) | undefined;
}

const TICK_MS = 60_000;

/** The composition root: creates every service once, owns their lifetimes and disposes them in reverse order. */
export class Container implements vscode.Disposable, RecoveryPointsApi {
  private readonly disposables: vscode.Disposable[] = [];
  store: RecoveryStore | undefined;
  model: PointsModel | undefined;
  auto: AutoCapture | undefined;
  tree: PointsTreeProvider | undefined;
  view: vscode.TreeView<unknown> | undefined;
  restore: RestoreFlow | undefined;
  movedHistory: MovedHistory | undefined;
  fileHistory: FileHistoryProvider | undefined;
  languageModelTools: ReadonlyMap<string, vscode.LanguageModelTool<object>> | undefined;
  statusBar: RecoveryStatusBar | undefined;
  checkAgentHooks: (() => Promise<void>) | undefined;
  readonly prompts = new Prompts();
  readonly searchRuns: SearchRuns = { inWorker: 0, inHost: 0 };
  private session: SessionTracker | undefined;
  readonly ready: Promise<void>;
  activationMs: number | undefined;
  activationSteps: RecoveryPointsApi['activationSteps'];
  private log: Log | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    const log = (this.log = this.own(new Log()));
    const commands = this.own(new CommandCenter(log, this.prompts));
    const folders = new WorkspaceFolders();
    const config = new Configuration();
    commands.register({ 'recoveryPoints.showLog': () => log.show() });
    const hasFolder = folders.hasFolder && context.storageUri !== undefined;
    void vscode.commands.executeCommand('setContext', 'recoveryPoints.hasFolder', hasFolder);
    // the view's welcome (package.json): "open a folder" by `workbenchState` or this, never while a folder's points are still loading
    void vscode.commands.executeCommand('setContext', 'recoveryPoints.noFolder', !hasFolder);
    if (!hasFolder || !context.storageUri) {
      log.info('activation', 'No folder is open: recovery points need a workspace folder.');
      commands.register(noFolderCommands());
      this.ready = Promise.resolve();
      return;
    }
    this.ready = this.start(context.storageUri, log, commands, folders, config);
  }

  private async start(storageUri: vscode.Uri, log: Log, commands: CommandCenter, folders: WorkspaceFolders, config: Configuration): Promise<void> {
    const started = performance.now();
    const hostUptimeMs = process.uptime() * 1000;
    const loopAtStart = performance.eventLoopUtilization();
    // created before the store opens, so the view says it is loading instead of VS Code's "no data provider"
    const points = this.own(new DeferredTreeProvider<unknown>());
    const view = this.own(vscode.window.createTreeView('recoveryPoints.points', { treeDataProvider: points, showCollapseAll: true }));
    this.view = view;
    try {
      const storeDir = await sharedStoreFolder(storageUri.fsPath);
      const store = await RecoveryStore.open({
        storeDir,
        roots: folders.all,
        rules: config.captureRules,
        retention: config.retention,
        actor: `extension:${process.pid}`,
        logger: log.forCore('store'),
        captureProcess: captureProcessOf(this.context.extensionPath, log),
      });
      this.store = store;
      this.disposables.push({ dispose: () => void store.close() });
      // folders of one name keep the numbers the newest point gave them, whatever their order now
      const newest = (await store.persistence.listSnapshots())[0];
      if (newest && folders.all.length > 1) {
        const before = folders.all.map((r) => r.name).join('\0');
        if (folders.refresh(newest.roots).map((r) => r.name).join('\0') !== before) store.persistence.configure({ roots: folders.all });
      }
      keepStoreSettings(store, log);
      const model = (this.model = this.own(new PointsModel(store, log)));
      const session = (this.session = this.own(new SessionTracker(store.state, folders, log)));
      const takeWaitingHooks = waitingHooksTaker(storeDir, this.context.extensionPath, log);
      const auto = (this.auto = this.own(new AutoCapture(store, folders, config, model, log, takeWaitingHooks)));
      this.own(new LeftOutNotice(model, folders, config, this.prompts, this.context.globalState));
      const tree = (this.tree = this.own(new PointsTreeProvider(store, model, folders, log)));
      points.attach(tree as vscode.TreeDataProvider<unknown>);
      const statusBar = (this.statusBar = this.own(new RecoveryStatusBar(model, () => config.automatic, auto)));
      this.own(vscode.workspace.registerTextDocumentContentProvider(POINT_SCHEME, new PointContentProvider(store)));
      const restore = (this.restore = new RestoreFlow(store, model, folders, config, auto, session, log, this.prompts));
      const searchWorker = searchWorkerOf(this.context.extensionPath, log);
      commands.register(recoveryCommands({ store, model, folders, config, auto, session, restore, log, prompts: this.prompts }));
      const movedHistory = (this.movedHistory = new MovedHistory(store, model, folders, this.context.workspaceState, log, this.prompts));
      commands.register(transferCommands({ store, model, folders, log, prompts: this.prompts, movedHistory }));
      commands.register(searchCommands({ store, folders, filter: tree.filter, log, prompts: this.prompts, searchWorker, searchRuns: this.searchRuns }));
      this.own(showFilterState(view, tree.filter));
      const fileHistory = (this.fileHistory = this.own(new FileHistoryProvider(store, model, folders, log)));
      fileHistory.attach(this.own(vscode.window.createTreeView('recoveryPoints.fileHistory', { treeDataProvider: fileHistory })));
      commands.register(historyCommands({ store, model, folders, history: fileHistory, restore, prompts: this.prompts }));
      commands.register(pointChangeCommands({ store, model, folders, restore, auto, prompts: this.prompts }));
      commands.register(selectionHistoryCommands({ store, model, folders, auto, prompts: this.prompts }));
      const lmTools = registerLanguageModelTools({ store, model, auto, session, restore, log, searchWorker });
      this.own(lmTools.registration);
      this.languageModelTools = lmTools.tools;
      const agentServices = { folders, auto, log, prompts: this.prompts, extensionPath: this.context.extensionPath };
      commands.register(agentCommands(agentServices));
      this.checkAgentHooks = () => repairAgentHooks(agentServices);

      const updateView = () => {
        // A view alone in its container has no header of its own (so no description): VS Code shows
        // "Container: view title" instead, so the count and the store's size go into the title.
        view.title = model.storeBytes === undefined ? plural(model.points.length, 'point') : `${plural(model.points.length, 'point')} · ${formatBytes(model.storeBytes)}`;
        void vscode.commands.executeCommand('setContext', 'recoveryPoints.hasPoints', model.points.length > 0);
      };
      this.own(model.onDidChange(updateView));
      this.own(store.state.onWarning((message) => void this.prompts.notify('warning', `Recovery Points: ${message}`)));
      // a store made again in place of a removed one: the command-line tool and the agents go on capturing by this window's settings
      this.own(store.persistence.onStoreRemade(() => keepStoreSettings(store, log)));
      this.own(store.state.onDidChangeState(({ state }) => void vscode.commands.executeCommand('setContext', 'recoveryPoints.canUndoRestore', state.lastRestore !== null)));
      const showAutomatic = () => void vscode.commands.executeCommand('setContext', 'recoveryPoints.automatic', config.automatic);
      showAutomatic();
      // a limit mistyped (an empty value, a negative number) is its default, and said so once
      let invalidShown = '';
      const warnInvalid = () => {
        const invalid = config.invalidSettings().join('; ');
        if (invalid !== '' && invalid !== invalidShown) void this.prompts.notify('warning', `Recovery Points: ${invalid}.`);
        invalidShown = invalid;
      };
      warnInvalid();
      this.own(config.onDidChange(() => {
        showAutomatic();
        warnInvalid();
        store.persistence.configure({ rules: config.captureRules });
        store.recovery.configureRetention(config.retention);
        keepStoreSettings(store, log);
        statusBar.update();
        log.info('activation', 'Settings changed; they apply from the next point on.');
      }));
      this.own(vscode.workspace.onDidChangeWorkspaceFolders((event) => {
        store.persistence.configure({ roots: folders.refresh() });
        auto.createWatchers();
        if (event.added.length > 0) void auto.foldersAdded();
      }));
      const tick = setInterval(() => {
        tree.refresh();
        statusBar.update();
      }, TICK_MS);
      this.disposables.push({ dispose: () => clearInterval(tick) });

      // Ready means the points are listed. Nothing before that waits for the window (a context key is a
      // round trip to a workbench that, during a reload, is busy restoring itself: seconds) or for the
      // store's lock (the state; the closing window may hold the lock while it saves).
      const opened = performance.now();
      void store.state.getState().then(
        (state) => vscode.commands.executeCommand('setContext', 'recoveryPoints.canUndoRestore', state.lastRestore !== null),
        (error: unknown) => log.warn('activation', `Could not read the state: ${describeCause(error)}`),
      );
      await model.refresh().listed;
      updateView();
      // after `hasPoints`: the view's welcome says "No recovery points yet" only once they are listed
      void vscode.commands.executeCommand('setContext', 'recoveryPoints.listed', true);
      this.activationMs = performance.now() - started;
      // The extension host's thread is shared with every other extension: how busy it was while we waited.
      const hostBusy = performance.eventLoopUtilization(loopAtStart).utilization;
      this.activationSteps = { storeOpenMs: opened - started, listMs: performance.now() - opened, hostUptimeMs, hostBusy };
      log.info('activation', `Ready in ${this.activationMs.toFixed(0)} ms: ${plural(model.points.length, 'point')} in ${storeDir} (store opened in ${(opened - started).toFixed(0)} ms, points listed in ${(performance.now() - opened).toFixed(0)} ms; the extension host's thread was busy ${Math.round(hostBusy * 100)} % of that time)`);
      const hadHistory = model.points.length > 0;
      const startupPoint = auto.startup();
      // the store opened, the start-up point made: agents' hooks left waiting while no waiter ran get their points
      void startupPoint.then(takeWaitingHooks, () => undefined);
      void startupPoint.then(() => restore.tellInterrupted()).catch((error) => log.warn('restore', `Looking for an interrupted restore failed: ${describeCause(error)}`));
      void startupPoint.then(() => movedHistory.atStartup(hadHistory)).catch((error) => log.warn('transfer', `Looking for the history of a moved folder failed: ${describeCause(error)}`));
      void this.checkAgentHooks().catch((error) => log.warn('command', `Checking the agent checkpoint hooks failed: ${describeCause(error)}`));
    } catch (error) {
      log.error('activation', `Recovery Points could not open its store: ${describeCause(error)}`, error);
      void vscode.commands.executeCommand('setContext', 'recoveryPoints.failed', true);
      void vscode.window.showErrorMessage(`Recovery Points could not start: ${describeCause(error)}`, 'Show Log').then((choice) => choice && log.show());
    }
  }

  /**
   * Creates pending points and saves the session before the window closes. VS Code disposes the
   * extension's subscriptions (this container among them) right after it calls `deactivate`, without
   * waiting for it: `dispose` then waits for this.
   */
  shutdown(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async close(): Promise<void> {
    const started = performance.now();
    await this.ready.catch(() => undefined);
    await this.auto?.flush().catch(() => undefined);
    await this.session?.flush().catch(() => undefined);
    await this.store?.close().catch(() => undefined);
    this.log?.info('activation', `Closed in ${(performance.now() - started).toFixed(0)} ms`);
  }

  private own<T extends vscode.Disposable>(disposable: T): T {
    this.disposables.push(disposable);
    return disposable;
  }

  dispose(): void {
    if (this.closing) {
      void this.closing.finally(() => this.disposeAll());
      return;
    }
    this.disposeAll();
  }

  private disposeAll(): void {
    for (const d of this.disposables.reverse()) {
      try {
        d.dispose();
      } catch {
        // keep disposing the rest
      }
    }
    this.disposables.length = 0;
  }
}

function noFolderCommands(): Record<string, () => unknown> {
  const needFolder = () => {
    throw new UserFacingError('Recovery Points needs a folder: open a folder or workspace first.');
  };
  const ids = ['create', 'restore', 'restoreFile', 'compare', 'undoRestore', 'label', 'delete', 'cleanup', 'verify', 'showStats', 'turnOnAutomatic', 'turnOffAutomatic', 'refresh', 'openChange', 'export', 'import', 'createPending', 'searchHistory', 'filterPoints', 'clearFilter'];
  ids.push('openPointChanges', 'comparePoints', 'copyPatch', 'savePatch', 'restoreDeleted', 'showFolderHistory', 'restoreFolder');
  return Object.fromEntries(ids.map((id) => [`recoveryPoints.${id}`, needFolder]));
}

/**
 * Agents' hooks that gave up waiting for the store while the editor held it (a first point of a big
 * repository) wait in it for the store's waiter, which gives up in turn after its budget: once the
 * store is free again the editor starts the waiter, this extension's command-line tool, which makes
 * their points oldest first (`resumeWaitingHooks`). Nothing runs when no hook waits.
 */
function waitingHooksTaker(storeDir: string, extensionPath: string, log: Log): () => void {
  let tool: ToolLauncher | undefined;
  return () => {
    try {
      tool ??= extensionLauncher(extensionPath);
      if (resumeWaitingHooks(storeDir, (args) => startToolDetached(args, 'ignore', tool))) log.info('store', 'Agents\' hooks wait in the store for their points: started the waiter that makes them');
    } catch (error) {
      log.warn('store', `Could not start the waiter for the agents' hooks that wait in the store (${describeCause(error)}); the next hook starts it.`);
    }
  };
}

/** The script the store's first point is captured in (bundled beside the extension), so the host keeps none of its memory; without it, in the host. */
function captureProcessOf(extensionPath: string, log: Log): CaptureProcessOptions | undefined {
  const script = path.join(extensionPath, 'dist', 'captureProcess.js');
  if (fs.existsSync(script)) return { script };
  log.warn('activation', `${script} is missing: a first recovery point is captured in the extension host.`);
  return undefined;
}

/** The script Search History runs in (bundled beside the extension), so the host's thread and heap do none of it; without it, in the host. */
function searchWorkerOf(extensionPath: string, log: Log): SearchWorkerOptions | undefined {
  const script = path.join(extensionPath, 'dist', 'searchWorker.js');
  if (fs.existsSync(script)) return { script };
  log.warn('activation', `${script} is missing: Search History runs in the extension host.`);
  return undefined;
}

/**
 * The settings' capture rules and retention limits kept in the store, for the command-line tool, the
 * agent hooks and the MCP server (their points and clean-ups follow them); a store that cannot be
 * written only loses that.
 */
function keepStoreSettings(store: RecoveryStore, log: Log): void {
  try {
    store.persistence.saveCaptureRules();
    store.persistence.saveRetention(store.recovery.retentionPolicy);
  } catch (error) {
    log.warn('store', `The capture and retention settings could not be kept in the store for the command-line tool and the agents (${describeCause(error)}).`);
  }
}
