import * as vscode from 'vscode';
import { BUILTIN_EXCLUDES, describeCause, StateError, type RecoveryStore, type SnapshotOptions, type Trigger } from '../../core';
import type { Configuration } from '../configuration';
import type { Log } from '../log';
import type { PointsModel } from '../pointsModel';
import type { WorkspaceFolders } from '../workspaceFolders';

const EXTERNAL_QUIET_MS = 1500;
const EXTERNAL_MAX_WAIT_MS = 10_000;
/** A watcher event for a file the editor saved this recently belongs to that save. */
const SAVE_ECHO_MS = 5_000;
/** Hints save a full walk; a full scan still runs this often, catching anything a watcher missed. */
const FULL_SCAN_INTERVAL_MS = 10 * 60_000;
/** More changed paths than this are captured with a full scan. */
const MAX_HINTS = 5_000;
const CLEANUP_EVERY = 25;

/**
 * Automatic points: on save (batched within the merge window), on changes made outside the editor
 * (a debounced file watcher, so a branch switch is one point), and at start-up. Saves only record a
 * path; the capture runs later, one at a time, so a save is never slowed. Errors are logged, and
 * shown once until a point succeeds again.
 */
export class AutoCapture implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly savedPaths = new Set<string>();
  private readonly externalPaths = new Set<string>();
  private readonly recentSaves = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();
  private saveTimer: NodeJS.Timeout | undefined;
  private externalTimer: NodeJS.Timeout | undefined;
  private externalSince = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private lastFullScan = 0;
  private fullScanNeeded = true;
  private errorShown = false;
  private pointsSinceCleanup = 0;
  private watchers: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    private readonly store: RecoveryStore,
    private readonly folders: WorkspaceFolders,
    private readonly config: Configuration,
    private readonly model: PointsModel,
    private readonly log: Log,
  ) {
    vscode.workspace.onDidSaveTextDocument((doc) => this.onSaved(doc.uri), undefined, this.disposables);
    vscode.workspace.onDidSaveNotebookDocument((doc) => this.onSaved(doc.uri), undefined, this.disposables);
    this.createWatchers();
  }

  /** The watchers follow the workspace folders. */
  createWatchers(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = vscode.workspace.workspaceFolders?.filter((f) => f.uri.scheme === 'file').map((folder) => {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/*'));
      const handler = (uri: vscode.Uri) => this.onExternalChange(uri);
      watcher.onDidCreate(handler);
      watcher.onDidChange(handler);
      watcher.onDidDelete(handler);
      return watcher;
    }) ?? [];
  }

  /** The start-up point: a full scan compared with the newest point (files changed while the editor was closed). */
  startup(): Promise<void> {
    if (!this.config.onStartup) return Promise.resolve();
    return this.enqueue('startup', undefined, true);
  }

  /** Ignore watcher events for these files until `ms` from now (our own restore writes them), and scan fully next time. */
  suppress(paths: Iterable<string>, ms = 5_000): void {
    const until = Date.now() + ms;
    for (const p of paths) this.suppressed.set(p, until);
    this.fullScanNeeded = true;
  }

  /** Creates the pending points now (deactivation, before a restore). */
  async flush(): Promise<void> {
    if (this.saveTimer) this.runSaves();
    if (this.externalTimer) this.runExternal();
    await this.queue;
  }

  private onSaved(uri: vscode.Uri): void {
    if (this.disposed || !this.config.onSave || uri.scheme !== 'file' || !this.folders.toPointPath(uri)) return;
    this.savedPaths.add(uri.fsPath);
    const now = Date.now();
    for (const [file, at] of this.recentSaves) if (now - at > SAVE_ECHO_MS) this.recentSaves.delete(file);
    for (const [file, until] of this.suppressed) if (now > until) this.suppressed.delete(file);
    this.recentSaves.set(uri.fsPath, now);
    this.externalPaths.delete(uri.fsPath);
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.runSaves(), this.config.mergeWindowMs);
  }

  private onExternalChange(uri: vscode.Uri): void {
    if (this.disposed || !this.config.onExternalChange || uri.scheme !== 'file') return;
    const file = uri.fsPath;
    if (file.split(/[\\/]/).some((part) => BUILTIN_EXCLUDES.includes(part))) return;
    const now = Date.now();
    if (now - (this.recentSaves.get(file) ?? 0) < SAVE_ECHO_MS || this.savedPaths.has(file)) return;
    if (now < (this.suppressed.get(file) ?? 0)) return;
    this.externalPaths.add(file);
    if (this.externalPaths.size === 1) this.externalSince = now;
    clearTimeout(this.externalTimer);
    const wait = Math.min(EXTERNAL_QUIET_MS, Math.max(0, this.externalSince + EXTERNAL_MAX_WAIT_MS - now));
    this.externalTimer = setTimeout(() => this.runExternal(), wait);
  }

  private runSaves(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const paths = [...this.savedPaths];
    this.savedPaths.clear();
    if (paths.length > 0) void this.enqueue('save', paths);
  }

  private runExternal(): void {
    clearTimeout(this.externalTimer);
    this.externalTimer = undefined;
    const paths = [...this.externalPaths];
    this.externalPaths.clear();
    if (paths.length > 0) void this.enqueue('external', paths);
  }

  private enqueue(trigger: Trigger, paths: string[] | undefined, full = false): Promise<void> {
    const run = this.queue.then(() => this.capture(trigger, paths, full));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async capture(trigger: Trigger, paths: string[] | undefined, full: boolean): Promise<void> {
    if (this.disposed) return;
    const scanFully = full || this.fullScanNeeded || Date.now() - this.lastFullScan > FULL_SCAN_INTERVAL_MS || !paths || paths.length > MAX_HINTS;
    const options: SnapshotOptions = { trigger, skipIfUnchanged: true, changedPaths: scanFully ? undefined : paths };
    const started = Date.now();
    try {
      const point = await this.withWindowProgress(trigger, () => this.store.recovery.createRecoveryPoint(undefined, options));
      if (scanFully) {
        this.lastFullScan = Date.now();
        this.fullScanNeeded = false;
      }
      this.errorShown = false;
      if (point) {
        this.log.info('capture', `${trigger} point ${point.id} (${scanFully ? 'full scan' : `${paths!.length} hinted`}, ${point.changes.added}+ ${point.changes.modified}~ ${point.changes.deleted}-) in ${Date.now() - started} ms`);
        await this.model.refresh();
        if (++this.pointsSinceCleanup >= CLEANUP_EVERY) {
          this.pointsSinceCleanup = 0;
          await this.cleanup();
        }
      } else {
        this.log.debug('capture', `${trigger}: nothing changed since the newest point (${Date.now() - started} ms)`);
      }
    } catch (error) {
      this.fullScanNeeded = true;
      this.log.error('capture', `Automatic ${trigger} point failed: ${describeCause(error)}`, error);
      if (!this.errorShown) {
        this.errorShown = true;
        const message = error instanceof StateError ? error.message : describeCause(error);
        void vscode.window.showErrorMessage(`Recovery Points could not create an automatic recovery point: ${message}`, 'Show Log').then((choice) => {
          if (choice) this.log.show();
        });
      }
    }
  }

  private async cleanup(): Promise<void> {
    try {
      const report = await this.store.recovery.cleanupRecoveryPoints();
      if (report.removedPoints > 0 || report.removedObjects > 0) {
        this.log.info('store', `Clean-up removed ${report.removedPoints} points and ${report.removedObjects} objects`);
        await this.model.refresh();
      }
    } catch (error) {
      this.log.error('store', `Automatic clean-up failed: ${describeCause(error)}`, error);
    }
  }

  /** Long automatic work shows in the status bar (never a notification that interrupts). */
  private async withWindowProgress<T>(trigger: Trigger, work: () => Promise<T>): Promise<T> {
    let done = false;
    const result = work().finally(() => (done = true));
    const timer = setTimeout(() => {
      if (!done) void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `$(history) Recovery point (${trigger})` }, () => result.catch(() => undefined));
    }, 500);
    try {
      return await result;
    } finally {
      clearTimeout(timer);
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.saveTimer);
    clearTimeout(this.externalTimer);
    for (const w of this.watchers) w.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
