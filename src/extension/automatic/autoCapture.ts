import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  BUILTIN_EXCLUDES,
  describeCause,
  editorOperationsName,
  isRestoreTempName,
  isSecretPath,
  hashObject,
  OtherWindowSaves,
  otherWindowSaveName,
  PendingSaves,
  RACY_WINDOW_MS,
  savedBeforeStopName,
  StateError,
  type EditorFileOperation,
  type RecoveryStore,
  type SavedContent,
  type SnapshotOptions,
  type Trigger,
} from '../../core';
import { CAPTURE_RULE_SETTINGS, SECTION, type Configuration } from '../configuration';
import type { Log } from '../log';
import type { PointsModel } from '../pointsModel';
import type { WorkspaceFolders } from '../workspaceFolders';
import { HintValidity } from './hintValidity';
import { NewFolderWatches } from './newFolderWatches';
import { holds, SavedVersions, type TakenSaves } from './savedVersions';

const EXTERNAL_QUIET_MS = 1500;
const EXTERNAL_MAX_WAIT_MS = 10_000;
/** Beyond its longest merge window, how long another window that saved files is given to make their point. */
const OTHER_WINDOW_GRACE_MS = 5_000;
/**
 * How long a change on disk to a file with unsaved edits in an editor waits for the editor's save
 * event. A save writes the file before the extension host hears of it (in a remote or web window the
 * renderer tells it only after the server's write returned, seconds later on a busy machine), so the
 * watcher's event comes first; taken as a change outside the editor, it named the save's point wrongly.
 */
const SAVE_IN_FLIGHT_MAX_MS = 10_000;
/** How long after our own restore wrote a file its watcher events may still arrive. */
const OWN_WRITE_ECHO_MS = 10_000;
/** Our own writes that never reported their end (an error) stop hiding events after this long. */
const OWN_WRITE_MAX_MS = 5 * 60_000;
/** How long a change this extension announced (`nameOwnChange`) names the point of that change. */
const OWN_CHANGE_NAME_MS = 60_000;
/** More changed paths than this are captured with a full scan. */
const MAX_HINTS = 5_000;
const CLEANUP_EVERY = 25;
/** A periodic check due while changes wait for their point is tried again this much later. */
const FULL_CHECK_RETRY_MS = 5_000;
const PERIODIC_CHECK = 'the periodic check for changes the file watcher did not report (fullCheckMinutes)';
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
  private readonly pendingSaves: PendingSaves;
  private readonly savedVersions: SavedVersions;
  private readonly externalPaths = new Set<string>();
  /** Deletions, renames and creations done through the editor (the explorer) since the last outside-change point. */
  private editorOperations: EditorFileOperation[] = [];
  /** Files this extension is about to write itself, other than by a restore (by path prefix), and the name of their point. */
  /** `nameOwnChange`'s names by prefix; `written`: the file (or the folder's files) at the prefix as the extension left it (`ownChangeWritten`). */
  private readonly ownChanges = new Map<string, { readonly name: string; readonly until: number; readonly written?: string | null }>();
  private readonly validity: HintValidity;
  private readonly otherWindows: OtherWindowSaves;
  private readonly pendingChanged = new vscode.EventEmitter<void>();
  /** Fires when a point starts or stops waiting (for the status bar). */
  readonly onDidChangePending = this.pendingChanged.event;
  private savesSince = 0;
  /** Files we wrote ourselves (a restore; a save when points on save are off): while the write runs (no stat yet), then with the size and mtime it left (null: deleted). */
  private readonly ownWrites = new Map<string, { until: number; stat?: FileStamp | null }>();
  private readonly echoChecks = new Set<Promise<void>>();
  /**
   * Changes on disk that were all saves of another window of this folder: that window's point names
   * them ("Saved app.ts"); this one waits for it, and makes the point itself ("Saved in another window")
   * when it does not come. `examining`: changes being looked up in the other windows' saves.
   */
  private readonly othersSaves = new Set<string>();
  private othersSavesTimer: NodeJS.Timeout | undefined;
  private readonly examining = new Set<string>();
  private readonly examinations = new Set<Promise<void>>();
  /** Paths of the hinted captures queued or running: not in a point yet. */
  private readonly capturing = new Map<number, readonly string[]>();
  private captureCount = 0;
  /** Captures queued after automatic points were turned off (a later id than this) are not made while they stay off. */
  private offAfter = Number.POSITIVE_INFINITY;
  private saveTimer: NodeJS.Timeout | undefined;
  private externalTimer: NodeJS.Timeout | undefined;
  /** Reads again, once their racy window has passed, the files a point read just after they changed. */
  private settleTimer: NodeJS.Timeout | undefined;
  private fullCheckTimer: NodeJS.Timeout | undefined;
  private externalSince = 0;
  /** When the pending outside changes started waiting for an editor's save (0: not waiting). */
  private heldForSaveSince = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private errorShown = false;
  private pointsSinceCleanup = 0;
  private watchers: vscode.Disposable[] = [];
  /** The folders below a new folder, which VS Code's watcher may never watch (Linux). */
  private readonly newFolders: NewFolderWatches;
  private disposed = false;
  /** Whether automatic points were on at the last settings change: turned on again, a point checks every file. */
  private wasAutomatic: boolean;

  constructor(
    private readonly store: RecoveryStore,
    private readonly folders: WorkspaceFolders,
    private readonly config: Configuration,
    private readonly model: PointsModel,
    private readonly log: Log,
    /** Called after each point made (or found not needed): the store was free (the hooks' waiting points are taken then). */
    private readonly storeWasFree: () => void = () => undefined,
  ) {
    this.validity = new HintValidity(log, () => config.fullCheckMs);
    this.wasAutomatic = config.automatic;
    this.otherWindows = new OtherWindowSaves(store.persistence.layout.savesDir, store.persistence.actor, log.forCore('capture'));
    this.pendingSaves = new PendingSaves(store.persistence.layout.pendingSavesDir, process.pid, log.forCore('capture'));
    // a file points leave out as one that may hold secrets (.env) is not written to the store, even for a moment
    this.savedVersions = new SavedVersions(this.pendingSaves, (file) => {
      const pointPath = this.folders.toPointPath(vscode.Uri.file(file));
      return !(this.config.captureRules.excludeSecrets && pointPath !== undefined && isSecretPath(pointPath.slice(pointPath.indexOf('/') + 1)));
    });
    vscode.workspace.onDidSaveTextDocument((doc) => this.onSaved(doc.uri), undefined, this.disposables);
    vscode.workspace.onDidSaveNotebookDocument((doc) => this.onSaved(doc.uri), undefined, this.disposables);
    vscode.workspace.onDidDeleteFiles((e) => this.onEditorOperations(e.files.map((uri) => ({ kind: 'delete', path: uri.fsPath }))), undefined, this.disposables);
    vscode.workspace.onDidCreateFiles((e) => this.onEditorOperations(e.files.map((uri) => ({ kind: 'create', path: uri.fsPath }))), undefined, this.disposables);
    vscode.workspace.onDidRenameFiles((e) => this.onEditorOperations(e.files.map((f) => ({ kind: 'rename', from: f.oldUri.fsPath, to: f.newUri.fsPath }))), undefined, this.disposables);
    vscode.workspace.onDidChangeConfiguration((event) => this.onSettingsChanged(event), undefined, this.disposables);
    this.disposables.push(this.pendingChanged);
    this.newFolders = new NewFolderWatches((file) => this.onExternalChange(vscode.Uri.file(file)), (folder) => isExcludedPath(folder.split(/[\\/]/)), log);
    this.createWatchers();
    // the first one an interval after activation: the start-up point (when it is on) has just checked every file
    this.scheduleFullCheck(config.fullCheckMs);
  }

  /** Why the next point must check every file (`undefined`: the hints are complete). */
  get hintGap(): string | undefined {
    return this.validity.reason;
  }

  /** Changes waiting for their point (the merge window, or the quiet time after changes on disk). */
  get pending(): { readonly files: number; readonly since: number } | undefined {
    const files = new Set([...this.savedPaths, ...this.externalPaths]).size;
    if (files === 0) return undefined;
    const since = Math.min(...[this.savedPaths.size > 0 ? this.savesSince : Infinity, this.externalPaths.size > 0 ? this.externalSince : Infinity]);
    return { files, since };
  }

  /** The watchers follow the workspace folders. */
  createWatchers(): void {
    if (this.watchers.length > 0) this.validity.invalidate('the workspace folders changed');
    for (const w of this.watchers) w.dispose();
    this.watchers = vscode.workspace.workspaceFolders?.filter((f) => f.uri.scheme === 'file').map((folder) => {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/*'));
      const handler = (uri: vscode.Uri) => this.onExternalChange(uri);
      watcher.onDidCreate((uri) => {
        handler(uri);
        if (uri.scheme === 'file') this.newFolders.created(uri.fsPath);
      });
      watcher.onDidChange(handler);
      watcher.onDidDelete(handler);
      return watcher;
    }) ?? [];
  }

  /** A folder added to the workspace: a point of its files as they are, before the first edit of one changes it. */
  foldersAdded(): Promise<void> {
    if (!this.config.automatic) return Promise.resolve();
    return this.enqueue('external', undefined, { full: 'a folder was added to the workspace' });
  }

  /**
   * The saves a window killed before their point left (`PendingSaves`) get that point first; then the
   * start-up point: a full scan compared with the newest point (files changed while the editor was closed).
   */
  async startup(): Promise<void> {
    await this.recoverSaves().catch((error: unknown) => this.log.error('capture', `Could not make the point of the saves a window left when it stopped: ${describeCause(error)}`, error));
    if (!this.config.onStartup) return;
    // the editor opened when its extension host did: files written since were not changed while it was closed
    return this.enqueue('startup', undefined, { full: 'start-up check', openedAt: Date.now() - process.uptime() * 1000 });
  }

  /**
   * A window killed in a save's merge window (or whose point failed) left the saved bytes on disk:
   * those that no point holds get the point that window would have made, its newest point with the
   * saved files as saved, even when they changed on disk since. Queued before the start-up point.
   */
  private async recoverSaves(): Promise<void> {
    const claimed = await this.pendingSaves.claimOrphans();
    if (claimed.saves.length === 0) return claimed.done();
    const objects = await this.store.persistence.objects();
    const missing = claimed.saves.filter((save) => this.folders.toPointPath(vscode.Uri.file(save.path)) && !objects.has(hashObject('blob', save.content)));
    if (missing.length === 0) {
      this.log.debug('capture', `${claimed.saves.length} save(s) a stopped window kept are in points already`);
      return claimed.done();
    }
    const changed = new Map<string, SavedContent>();
    for (const save of missing) if (!(await holds(save.path, save.content))) changed.set(save.path, { content: save.content, mode: save.mode });
    const paths = missing.map((save) => save.path);
    this.log.info('capture', `A window stopped before the point of ${paths.length} saved file(s) was made (${paths.map((p) => path.basename(p)).join(', ')}; ${changed.size} changed on disk since): that point is made now`);
    // named so when it is the newest point with the saves; a full scan (the store's rules changed since, say) is named by all it found
    void this.enqueue('save', paths, { gap: null, hintedName: savedBeforeStopName(paths), saves: { changed, release: claimed.done } });
  }

  /**
   * Every `fullCheckMinutes` without a full scan, one runs by itself: a watcher can stop reporting a
   * folder (one deleted and made again by a tool, a network drive, a folder over the watcher's limit),
   * and nothing else would make a point of the changes it misses. It makes a point only when it finds one.
   */
  private scheduleFullCheck(delay?: number): void {
    clearTimeout(this.fullCheckTimer);
    this.fullCheckTimer = undefined;
    const interval = this.config.fullCheckMs;
    if (this.disposed || interval === 0) return;
    const due = delay ?? Math.max(0, this.validity.lastFullScan + interval - Date.now());
    this.fullCheckTimer = setTimeout(() => void this.runFullCheck(interval), Math.max(due, 1000));
  }

  private async runFullCheck(interval: number): Promise<void> {
    if (this.disposed) return;
    const wait = this.validity.lastFullScan + interval - Date.now();
    if (wait > 0) return this.scheduleFullCheck(wait);
    if (this.pending || this.capturing.size > 0 || this.examining.size > 0 || this.othersSaves.size > 0) return this.scheduleFullCheck(FULL_CHECK_RETRY_MS);
    if (this.config.onExternalChange) await this.enqueue('external', undefined, { full: PERIODIC_CHECK, quiet: true }).catch(() => undefined);
    // a check that failed (or automatic points off) waits a whole interval before the next
    this.scheduleFullCheck(this.config.onExternalChange && this.validity.lastFullScan + interval > Date.now() ? undefined : interval);
  }

  /** Our own restore is about to write these files: their watcher events are ignored until `endOwnWrites`, and the next point scans fully. */
  beginOwnWrites(paths: Iterable<string>): void {
    const until = Date.now() + OWN_WRITE_MAX_MS;
    for (const p of paths) this.ownWrites.set(p, { until });
    this.validity.invalidate('a restore is writing files');
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
    // the files the restore wrote (and those its safety point read), kept in the capture cache once they can be: an undo reads none of them
    this.settleRecentFilesLater();
  }

  /**
   * This extension is about to write the files at `prefix` (a file, the files beside it that start with
   * its name, or a folder's), not as a restore: for at most a minute, a point of changes to those files
   * is named `name` instead of "Changed outside the editor". `undefined`: it wrote nothing after all.
   * Call `ownChangeWritten` once written, so that a change of the file by someone else is not.
   */
  nameOwnChange(prefix: string, name: string | undefined): void {
    if (name === undefined) this.ownChanges.delete(prefix);
    else this.ownChanges.set(prefix, { name, until: Date.now() + OWN_CHANGE_NAME_MS });
  }

  /**
   * The extension wrote the file at `prefix` that `nameOwnChange` announced: from now on its name
   * holds only while the file is as written (its size and modification time; for a folder, Cline's
   * hook scripts, each of its files'). A save by the person, even within the minute, is theirs.
   */
  async ownChangeWritten(prefix: string): Promise<void> {
    const own = this.ownChanges.get(prefix);
    if (own) this.ownChanges.set(prefix, { ...own, written: await writtenStamp(prefix) });
  }

  /** The own changes still in force: announced less than a minute ago, their file (once written) still as the extension left it. */
  private async liveOwnChanges(): Promise<Array<{ prefix: string; name: string }>> {
    const now = Date.now();
    const live: Array<{ prefix: string; name: string }> = [];
    for (const [prefix, change] of [...this.ownChanges]) {
      const stale = change.until <= now || (change.written !== undefined && change.written !== (await writtenStamp(prefix)));
      if (stale) {
        if (this.ownChanges.get(prefix) === change) this.ownChanges.delete(prefix);
      } else live.push({ prefix, name: change.name });
    }
    return live;
  }

  /** The name `nameOwnChange` gave every one of `paths`, when they have one. */
  private async ownChangeName(paths: readonly string[]): Promise<string | undefined> {
    const live = await this.liveOwnChanges();
    const names = new Set<string>();
    for (const p of paths) {
      // the watcher may report the folder made for the file
      const own = live.find(({ prefix }) => p.startsWith(prefix) || prefix.startsWith(p + path.sep));
      if (!own) return undefined;
      names.add(own.name);
    }
    return names.size === 1 ? [...names][0] : undefined;
  }

  /** Creates the pending points now (deactivation, before a restore). */
  async flush(): Promise<void> {
    await Promise.all(this.echoChecks);
    if (this.saveTimer) this.runSaves();
    if (this.externalTimer) this.runExternal(true);
    await Promise.all(this.examinations);
    if (this.othersSavesTimer) this.runOthersSaves();
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
    if (this.disposed || this.validity.reason !== undefined) return undefined;
    if (!this.config.onSave || !this.config.onExternalChange || this.echoChecks.size > 0) return undefined;
    const paths = new Set([...this.savedPaths, ...this.externalPaths, ...this.othersSaves, ...this.examining]);
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
    // Other windows of this folder learn that this change on disk was a save (their watchers see it too).
    void stamp(uri.fsPath).then((saved) => saved && this.otherWindows.record([{ path: uri.fsPath, ...saved }]));
    // The save's own watcher event is not a change outside the editor. With points on save, the save
    // point captures the file (an event arriving after that point finds it unchanged: no point).
    this.externalPaths.delete(uri.fsPath);
    if (!this.config.onSave) {
      this.validity.invalidate(this.config.automatic ? 'a file was saved while points on save are off' : 'a file was saved while automatic points are off');
      this.ownWrites.set(uri.fsPath, { until: Date.now() + OWN_WRITE_MAX_MS });
      void this.endOwnWrites([uri.fsPath]);
      return;
    }
    const now = Date.now();
    if (this.savedPaths.size === 0) this.savesSince = now;
    this.savedPaths.add(uri.fsPath);
    this.savedVersions.keep(uri.fsPath);
    clearTimeout(this.saveTimer);
    // Each save restarts the merge window, but while saves keep coming a point is still made at least every mergeWindowMaxSeconds.
    const wait = Math.min(this.config.mergeWindowMs, Math.max(0, this.savesSince + this.config.mergeWindowMaxMs - now));
    this.saveTimer = setTimeout(() => this.runSaves(), wait);
    this.pendingChanged.fire();
  }

  /** A deletion, rename or creation through the editor: its watcher events follow, and its point is named after it. */
  private onEditorOperations(operations: EditorFileOperation[]): void {
    if (this.disposed) return;
    const inWorkspace = operations.filter((op) => [op.kind === 'rename' ? op.from : op.path, op.kind === 'rename' ? op.to : op.path].some((p) => this.folders.toPointPath(vscode.Uri.file(p))));
    if (inWorkspace.length === 0) return;
    if (!this.config.onExternalChange) {
      this.validity.invalidate('files were deleted, renamed or created while points on outside changes are off');
      return;
    }
    this.editorOperations.push(...inWorkspace);
    for (const op of inWorkspace) for (const p of op.kind === 'rename' ? [op.from, op.to] : [op.path]) this.queueExternal(p);
  }

  private onSettingsChanged(event: vscode.ConfigurationChangeEvent): void {
    if (this.disposed) return;
    const automatic = this.config.automatic;
    if (!automatic && this.wasAutomatic) {
      // what was saved or changed before they were turned off is still kept, with the hints as they
      // were then; what comes after is not (a change right after would otherwise join a full scan)
      if (this.saveTimer) this.runSaves(this.validity.reason ?? null);
      if (this.externalTimer) this.runExternal(true);
      this.offAfter = this.captureCount;
    }
    if (automatic) this.offAfter = Number.POSITIVE_INFINITY;
    if (event.affectsConfiguration(`${SECTION}.automatic`) && (!this.config.onSave || !this.config.onExternalChange)) {
      this.validity.invalidate('automatic points, or one of their triggers, were turned off');
    }
    // turned on again: what changed while they were off is kept at once (a checkout next would otherwise take it away unseen)
    if (automatic && !this.wasAutomatic) void this.enqueue('external', undefined, { full: 'automatic points turned on', whileOff: true });
    this.wasAutomatic = automatic;
    if (CAPTURE_RULE_SETTINGS.some((key) => event.affectsConfiguration(key))) this.validity.invalidate('the settings that choose which files are captured changed');
    if (event.affectsConfiguration('files.watcherExclude')) this.validity.invalidate('files.watcherExclude changed (the file watcher may not have reported some changes)');
    if (event.affectsConfiguration(`${SECTION}.fullCheckMinutes`)) this.scheduleFullCheck();
  }

  private onExternalChange(uri: vscode.Uri): void {
    if (this.disposed || uri.scheme !== 'file') return;
    const file = uri.fsPath;
    const parts = file.split(/[\\/]/);
    // `.git/info/exclude` holds ignore rules: a hint capture reads it again when it is listed. A
    // watcher may report only the creation of `.git` or `.git/info` around it, so those count too.
    if (!isGitRuleEvent(parts) && isExcludedPath(parts)) return;
    if (isRestoreTempName(path.basename(file))) return;
    if (!this.config.onExternalChange) {
      this.validity.invalidate(this.config.automatic ? 'a file changed on disk while points on outside changes are off' : 'a file changed on disk while automatic points are off');
      return;
    }
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
    this.pendingChanged.fire();
  }

  /**
   * The name of a point of changes on disk, when people would recognise them: the editor's own
   * deletions and renames, or saves in another window of this folder. `undefined`: the store names it
   * ("Switched branch x → master" when a workspace folder's HEAD moved since the newest point,
   * otherwise "Changed outside the editor").
   */
  private async nameExternal(paths: readonly string[], operations: readonly EditorFileOperation[]): Promise<string | undefined> {
    const own = paths.length > 0 ? await this.ownChangeName(paths) : undefined;
    if (own) return own;
    const touched = operations.flatMap((op) => (op.kind === 'rename' ? [op.from, op.to] : [op.path]));
    if (operations.length > 0 && paths.every((p) => touched.some((t) => p === t || p.startsWith(t + path.sep)))) return editorOperationsName(operations);
    const elsewhere = await this.otherWindows.savedElsewhere(paths);
    if (paths.length > 0 && elsewhere.size === paths.length) return otherWindowSaveName(paths);
    return undefined;
  }

  /** `gap`: why the hints were incomplete when the saves were taken (`null`: they were complete), instead of when their point is made. */
  private runSaves(gap?: string | null): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const paths = [...this.savedPaths];
    this.savedPaths.clear();
    this.pendingChanged.fire();
    if (paths.length === 0) return;
    // a file this extension wrote through the editor (a setting): named for what wrote it, not "Saved settings.json"
    void this.enqueue('save', paths, { ...(gap === undefined ? {} : { gap }), name: () => this.ownChangeName(paths) });
  }

  private runExternal(now = false): void {
    clearTimeout(this.externalTimer);
    this.externalTimer = undefined;
    if (!now && this.waitForSave()) return;
    this.heldForSaveSince = 0;
    const paths = [...this.externalPaths];
    this.externalPaths.clear();
    const operations = this.editorOperations;
    this.editorOperations = [];
    this.pendingChanged.fire();
    if (paths.length === 0) return;
    if (now || operations.length > 0) {
      void this.enqueue('external', paths, { name: () => this.nameExternal(paths, operations) });
      return;
    }
    for (const p of paths) this.examining.add(p);
    const examination = this.otherWindows
      .savedElsewhere(paths)
      .catch(() => new Set<string>())
      .then((elsewhere) => {
        for (const p of paths) this.examining.delete(p);
        if (this.disposed) return;
        if (paths.every((p) => elsewhere.has(p))) this.awaitOtherWindow(paths);
        else void this.enqueue('external', paths, { name: () => this.nameExternal(paths, operations) });
      });
    this.examinations.add(examination);
    void examination.finally(() => this.examinations.delete(examination));
  }

  /** Saves of another window: its point is waited for; when it does not come, this window makes one. */
  private awaitOtherWindow(paths: readonly string[]): void {
    for (const p of paths) this.othersSaves.add(p);
    clearTimeout(this.othersSavesTimer);
    this.othersSavesTimer = setTimeout(() => this.runOthersSaves(), this.config.mergeWindowMaxMs + OTHER_WINDOW_GRACE_MS);
    this.log.debug('capture', `${paths.length} file(s) saved in another window of this folder: its point is waited for`);
  }

  private runOthersSaves(): void {
    clearTimeout(this.othersSavesTimer);
    this.othersSavesTimer = undefined;
    const paths = [...this.othersSaves];
    this.othersSaves.clear();
    // nothing is made when the other window's point holds them already
    if (paths.length > 0) void this.enqueue('external', paths, { name: () => this.nameExternal(paths, []) });
  }

  /**
   * True (and the point put off a little) while a changed file has unsaved edits in an editor: most
   * likely the editor is saving it, and its save event will make the point a save's.
   */
  private waitForSave(): boolean {
    const unsaved = [...vscode.workspace.textDocuments, ...vscode.workspace.notebookDocuments].some((doc) => doc.isDirty && doc.uri.scheme === 'file' && this.externalPaths.has(doc.uri.fsPath));
    if (!unsaved) return false;
    const now = Date.now();
    if (this.heldForSaveSince === 0) this.heldForSaveSince = now;
    if (now - this.heldForSaveSince >= SAVE_IN_FLIGHT_MAX_MS) return false;
    this.externalTimer = setTimeout(() => this.runExternal(), EXTERNAL_QUIET_MS);
    return true;
  }

  private enqueue(trigger: Trigger, paths: string[] | undefined, how: CaptureHow = {}): Promise<void> {
    const id = ++this.captureCount;
    if (paths) this.capturing.set(id, paths);
    const run = this.queue.then(() => (id > this.offAfter && !this.config.automatic ? undefined : this.capture(trigger, paths, how))).finally(() => this.capturing.delete(id));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async capture(trigger: Trigger, paths: string[] | undefined, { full, name, hintedName, whileOff = false, quiet = false, gap, saves, openedAt }: CaptureHow): Promise<void> {
    if (this.disposed) return;
    const token = this.validity.token();
    const fullReason = full ?? (!paths ? 'no changed paths known' : paths.length > MAX_HINTS ? 'too many changed files' : gap === undefined ? this.validity.reason : (gap ?? undefined));
    let mode: 'hint' | 'full' = fullReason === undefined ? 'hint' : 'full';
    const started = Date.now();
    // saved files the disk no longer holds as saved (a checkout in the merge window): the point holds what was saved
    const taken: TakenSaves | undefined = saves ?? (trigger === 'save' && paths ? await this.savedVersions.take(paths) : undefined);
    const saved = taken?.changed ?? new Map<string, SavedContent>();
    try {
      const summary = await name?.().catch(() => undefined);
      const options: SnapshotOptions = {
        trigger,
        summary,
        summaryIfHinted: hintedName,
        savedContent: saved.size > 0 ? saved : undefined,
        whileAutomaticOff: whileOff,
        openedAt,
        // a setting the extension wrote, found by a scan (turning automatic points on) or among other changes
        ownChanges: await this.liveOwnChanges(),
        skipIfUnchanged: true,
        changedPaths: fullReason === undefined ? paths : undefined,
        savedPaths: trigger === 'save' ? paths : undefined,
        // a watcher can miss an event (a file deleted next to one changed): their folders are listed too
        listHintedFolders: trigger === 'external',
        onCaptureMode: (m) => (mode = m),
      };
      const create = () => this.store.recovery.createRecoveryPoint(undefined, options);
      const point = await (quiet ? create() : this.withWindowProgress(trigger, create));
      if (mode === 'full') this.validity.fullScanDone(token);
      await taken?.release();
      if (saved.size > 0) {
        this.log.info('capture', `${saved.size} saved file(s) changed on disk before their point was made (${[...saved.keys()].map((p) => path.basename(p)).join(', ')}): the point holds them as saved, and the change on disk gets a point of its own`);
        void this.enqueue('external', [...saved.keys()]);
      }
      this.settleRecentFilesLater();
      this.errorShown = false;
      if (point) {
        const how = mode === 'hint' ? `${paths!.length} hinted` : `full scan: ${fullReason ?? 'the store asked for one'}`;
        this.log.info('capture', `${trigger} point ${point.id} "${point.summary}" (${how}, ${point.changes.added}+ ${point.changes.modified}~ ${point.changes.deleted}-) in ${Date.now() - started} ms`);
        await this.model.refresh();
        if (++this.pointsSinceCleanup >= CLEANUP_EVERY || point.addedBytes >= CLEANUP_AFTER_BYTES) {
          this.pointsSinceCleanup = 0;
          await this.cleanup();
        }
      } else {
        this.log.debug('capture', `${trigger}: nothing changed since the newest point (${Date.now() - started} ms)`);
      }
      this.storeWasFree();
    } catch (error) {
      this.validity.invalidate(`an automatic point failed (${describeCause(error)})`);
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

  /**
   * A point hashes the files changed outside the editor 1.5 s after they changed, within the capture
   * cache's racy window, and a restore has just written the files it restored: the cache does not keep
   * them, so the next capture (a restore's safety point, an undo's) would read them all again. Once the
   * window has passed they are read again in idle time and kept.
   */
  private settleRecentFilesLater(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      if (this.disposed) return;
      this.store.persistence.settleRecentFiles().then(
        (recorded) => recorded > 0 && this.log.debug('capture', `Kept ${recorded} files read just after they changed in the capture cache`),
        (error: unknown) => this.log.warn('capture', `Could not read again the files read just after they changed (${describeCause(error)}); the next point reads them.`),
      );
    }, RACY_WINDOW_MS + 500);
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
    clearTimeout(this.othersSavesTimer);
    clearTimeout(this.settleTimer);
    clearTimeout(this.fullCheckTimer);
    this.savedVersions.clear();
    void this.pendingSaves.close();
    for (const w of this.watchers) w.dispose();
    this.newFolders.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * How a queued point is made: `full`, a scan of every file and why; `name`, its name when people would
 * recognise the changes; `whileOff`, the point turning automatic points on again makes; `quiet`, no
 * progress in the status bar (a check that usually finds nothing).
 */
interface CaptureHow {
  readonly full?: string;
  readonly name?: () => Promise<string | undefined>;
  /** Its name when the store captures it by the paths it was given (not when it scans every file). */
  readonly hintedName?: string;
  readonly whileOff?: boolean;
  readonly quiet?: boolean;
  /** Why the hints were incomplete when the point was queued (`null`: complete), when that, not the moment it is made, counts. */
  readonly gap?: string | null;
  /** The saves the point holds, when not those waiting in this window (a stopped window's). */
  readonly saves?: TakenSaves;
  /** A start-up point's: when the editor opened (`SnapshotOptions.openedAt`). */
  readonly openedAt?: number;
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

/**
 * What `ownChangeWritten` compares: the size and modification time of the file at `prefix`, or of each
 * file in the folder there (a folder's own time does not change when a file in it is edited); null when
 * nothing is there.
 */
async function writtenStamp(prefix: string): Promise<string | null> {
  try {
    const stat = await fs.stat(prefix);
    if (!stat.isDirectory()) return `${stat.size} ${stat.mtimeMs}`;
    const names = (await fs.readdir(prefix)).sort();
    const files = await Promise.all(names.map(async (name) => `${name}\0${JSON.stringify(await stamp(path.join(prefix, name)))}`));
    return files.join('\0');
  } catch {
    return null;
  }
}

function sameStamp(a: FileStamp | null, b: FileStamp | null): boolean {
  return a === b || (a !== null && b !== null && a.size === b.size && a.mtimeMs === b.mtimeMs);
}

/** A path (split into its parts) in a folder points always leave out (`.git`, `node_modules`). */
function isExcludedPath(parts: readonly string[]): boolean {
  return parts.some((part) => BUILTIN_EXCLUDES.includes(part));
}

/** `.git`, `.git/info` or `.git/info/exclude` (the path split into its parts): where git's own exclude rules live. */
function isGitRuleEvent(parts: readonly string[]): boolean {
  const at = parts.lastIndexOf('.git');
  if (at === -1 || parts.indexOf('.git') !== at) return false;
  const below = parts.slice(at + 1).join('/');
  return below === '' || below === 'info' || below === 'info/exclude';
}
