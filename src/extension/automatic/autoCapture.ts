import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BUILTIN_EXCLUDES, describeCause, isRestoreTempName, StateError, type RecoveryStore, type SnapshotOptions, type Trigger } from '../../core';
import type { Configuration } from '../configuration';
import type { Log } from '../log';
import type { PointsModel } from '../pointsModel';
import type { WorkspaceFolders } from '../workspaceFolders';

const EXTERNAL_QUIET_MS = 1500;
const EXTERNAL_MAX_WAIT_MS = 10_000;
/** How long after our own restore wrote a file its watcher events may still arrive. */
const OWN_WRITE_ECHO_MS = 10_000;
/** Our own writes that never reported their end (an error) stop hiding events after this long. */
const OWN_WRITE_MAX_MS = 5 * 60_000;
/** Hints save a full walk; a full scan still runs this often, catching anything a watcher missed. */
const FULL_SCAN_INTERVAL_MS = 10 * 60_000;
/** More changed paths than this are captured with a full scan. */
const MAX_HINTS = 5_000;
const CLEANUP_EVERY = 25;
/**
 * A point that added this much (a first point, a branch switch) is followed by a clean-up, which
 * repacks its pack with stronger compression in the background — as git runs its automatic gc.
 */
const CLEANUP_AFTER_BYTES = 16 * 1024 * 1024;

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
  /** Files we wrote ourselves (a restore; a save when points on save are off): while the write runs (no stat yet), then with the size and mtime it left (null: deleted). */
  private readonly ownWrites = new Map<string, { until: number; stat?: FileStamp | null }>();
  private readonly echoChecks = new Set<Promise<void>>();
  /** Paths of the hinted captures queued or running: not in a point yet. */
  private readonly capturing = new Map<number, readonly string[]>();
  private captureCount = 0;
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

  /** Our own restore is about to write these files: their watcher events are ignored until `endOwnWrites`, and the next point scans fully. */
  beginOwnWrites(paths: Iterable<string>): void {
    const until = Date.now() + OWN_WRITE_MAX_MS;
    for (const p of paths) this.ownWrites.set(p, { until });
    this.fullScanNeeded = true;
  }

  /**
   * The restore is done. A watcher event for one of these files is its echo only while the file still
   * has the size and modification time the restore left: a later change by another program is recorded.
   */
  async endOwnWrites(paths: Iterable<string>): Promise<void> {
    const now = Date.now();
    for (const [file, own] of this.ownWrites) if (now > own.until) this.ownWrites.delete(file);
    const until = now + OWN_WRITE_ECHO_MS;
    await Promise.all([...paths].map(async (p) => this.ownWrites.set(p, { until, stat: await stamp(p) })));
  }

  /** Creates the pending points now (deactivation, before a restore). */
  async flush(): Promise<void> {
    await Promise.all(this.echoChecks);
    if (this.saveTimer) this.runSaves();
    if (this.externalTimer) this.runExternal();
    await this.queue;
  }

  /**
   * Every path changed since the newest point, as far as the save tracker and the file watcher know:
   * `undefined` when they cannot vouch for that (no full scan since start-up, since our own restore
   * wrote files, or since a point failed; the full-scan interval passed; points on save or on outside
   * changes turned off; an event still being checked; our own restore still writing; too many paths).
   * What `createRecoveryPoint` and `restore` take as `changedPaths`.
   */
  changedSinceNewestPoint(): string[] | undefined {
    if (this.disposed || this.fullScanNeeded || Date.now() - this.lastFullScan > FULL_SCAN_INTERVAL_MS) return undefined;
    if (!this.config.onSave || !this.config.onExternalChange || this.echoChecks.size > 0) return undefined;
    const paths = new Set([...this.savedPaths, ...this.externalPaths]);
    for (const queued of this.capturing.values()) for (const p of queued) paths.add(p);
    // A file our restore wrote may have changed again and back to the stamp the restore left, its events
    // taken for echoes: while its echo window lasts it counts as changed.
    const now = Date.now();
    for (const [file, own] of this.ownWrites) {
      if (now > own.until) continue;
      if (own.stat === undefined) return undefined; // our own write still running
      paths.add(file);
    }
    return paths.size > MAX_HINTS ? undefined : [...paths];
  }

  private onSaved(uri: vscode.Uri): void {
    if (this.disposed || uri.scheme !== 'file' || !this.folders.toPointPath(uri)) return;
    // The save's own watcher event is not a change outside the editor. With points on save, the save
    // point captures the file (an event arriving after that point finds it unchanged: no point).
    this.externalPaths.delete(uri.fsPath);
    if (!this.config.onSave) {
      this.ownWrites.set(uri.fsPath, { until: Date.now() + OWN_WRITE_MAX_MS });
      void this.endOwnWrites([uri.fsPath]);
      return;
    }
    this.savedPaths.add(uri.fsPath);
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.runSaves(), this.config.mergeWindowMs);
  }

  private onExternalChange(uri: vscode.Uri): void {
    if (this.disposed || !this.config.onExternalChange || uri.scheme !== 'file') return;
    const file = uri.fsPath;
    if (file.split(/[\\/]/).some((part) => BUILTIN_EXCLUDES.includes(part))) return;
    if (isRestoreTempName(path.basename(file))) return;
    if (this.savedPaths.has(file)) return;
    const own = this.ownWrites.get(file);
    if (own && Date.now() > own.until) this.ownWrites.delete(file);
    else if (own && own.stat === undefined) return;
    else if (own) {
      const expected = own.stat!;
      const check = stamp(file).then((now) => {
        if (sameStamp(now, expected)) return;
        // Changed by someone else since our write: later events for it are never our echo (a file we
        // deleted, recreated and deleted again would otherwise look like the state we left).
        this.ownWrites.delete(file);
        this.queueExternal(file);
      });
      this.echoChecks.add(check);
      void check.finally(() => this.echoChecks.delete(check));
      return;
    }
    this.queueExternal(file);
  }

  private queueExternal(file: string): void {
    if (this.disposed) return;
    const now = Date.now();
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
    const id = ++this.captureCount;
    if (paths) this.capturing.set(id, paths);
    const run = this.queue.then(() => this.capture(trigger, paths, full)).finally(() => this.capturing.delete(id));
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
        if (++this.pointsSinceCleanup >= CLEANUP_EVERY || point.addedBytes >= CLEANUP_AFTER_BYTES) {
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

interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

/** A file's size and modification time; null when it does not exist. */
async function stamp(file: string): Promise<FileStamp | null> {
  try {
    const stat = await fs.stat(file);
    return { size: stat.size, mtimeMs: stat.mtimeMs };
  } catch {
    return null;
  }
}

function sameStamp(a: FileStamp | null, b: FileStamp | null): boolean {
  return a === b || (a !== null && b !== null && a.size === b.size && a.mtimeMs === b.mtimeMs);
}
