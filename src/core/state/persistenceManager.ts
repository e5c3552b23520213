import { createHash } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { captureWorkspace, CaptureCache, InclusionRules, sameFileStamp, DEFAULT_CAPTURE_RULES, DEFAULT_SECRET_EXCLUDES, DEFAULT_SECRET_KEEP, SECRET_FOLDER_NAMES, countChanges, diffTrees, lookupEntry, type CaptureRules, type SkippedPath, type TreeDiff } from '../capture';
import { captureInProcess, type CapturedElsewhere, type CaptureProcessOptions } from '../capture/captureProcess';
import { readGitActions, switchedHead, withGitHeads } from '../capture/gitHead';
import { existedBefore, modifiedSince, stillOnDisk, trackingCounts } from '../capture/untracked';
import { readSmallFileSync, SYNC_READ_BYTES } from '../capture/fsCalls';
import { hashObject } from '../objects/hash';
import { ensurePrivateDirSync, fsyncDirSync, fsyncFileSync, parseDocument, quarantineFile, readDocument, readDocumentSync, sameStamp, statStampSync, writeDocumentSync, type FileStamp } from '../documents';
import { Emitter, type Event } from '../events';
import { describeCause, errorCode, ioError, isNotWritable, shortPath, StateError, storeNotWritable, StoreNotWritableError } from '../errors';
import { newPointId, pointIdTime, pointTime } from '../ids';
import { silentLogger, type Logger } from '../logger';
import { plural } from '../format';
import { ObjectStore, type ObjectBatch, type ObjectReader, type ObjectWriter } from '../objects/objectStore';
import { ChangeIndex } from '../recovery/changeIndex';
import type { RetentionPolicy } from '../recovery/retention';
import { inFoldersOf, mapFolders } from '../recovery/folderMapping';
import { absolutePath, toPointPath } from '../recovery/workspacePaths';
import { isSafeName } from '../objects/tree';
import {
  captureRulesDocument,
  retentionDocument,
  pointIdSchema,
  snapshotDocument,
  stateDocument,
  MAX_LABEL_LENGTH,
  MAX_UNTRACKED_PATHS,
  SCHEMA_VERSION,
  type ChangeCounts,
  type DocumentType,
  type ContextSnapshot,
  type ContextState,
  type PointSummary,
  type Trigger,
  type WorkspaceRoot,
} from '../schemas';
import { StoreLayout } from '../storeLayout';
import { storeForm } from '../lock/storeFormat';
import { StoreLock, type Hold } from '../lock/storeLock';
import { checkStorePlacement, movedWorkspaceFolder, recordedRealPath } from '../storePlacement';
import { describeChanges, FIRST_POINT_SUMMARY, type ChangeContext, type OwnChange } from '../pointNames';
import { AuditLog } from './auditLog';
import { knownCapture } from './knownCapture';
import { KnownListing } from './knownListing';
import { ManifestText } from './manifestText';
import { PointIndexFile } from './pointIndex';
import { claimingPackName, claimsAmong, dropClaims, listObjectsFolder, readClaims, type PackClaim } from './pointPacks';
import { isPointId } from './pointSummaryCheck';
import type { SnapshotOptions, StateRepository } from './stateRepository';

export interface PersistenceOptions {
  /** The workspace folders whose files points capture. */
  readonly roots: readonly WorkspaceRoot[];
  /** Absent: the rules the extension keeps in the store (`saveCaptureRules`), or else the defaults. */
  readonly rules?: Partial<CaptureRules>;
  /** Who is writing, for the audit log and the state: `extension`, `cli`, … with the process id. */
  readonly actor?: string;
  readonly logger?: Logger;
  /** The store folder (objects, cache, audit log, lock); defaults to the state file's folder. */
  readonly storeDir?: string;
  readonly lockStaleMs?: number;
  readonly lockWaitMs?: number;
  /** Capture a store's first point in a process of its own (the extension: its host keeps none of that memory). */
  readonly captureProcess?: CaptureProcessOptions;
}

/** New points' changes kept for a change index not loaded yet (the newest ones). */
const MAX_PENDING_CHANGES = 64;

/** How long a garbage collection waits for another process's to end. */
const COLLECTION_LOCK_WAIT_MS = 15 * 60_000;

/** Writes of the capture cache after hint-mode points are spaced out; full scans always save it. */
const CACHE_SAVE_INTERVAL_MS = 30_000;

/**
 * The store on disk (the spec's PersistenceManager): the state file, one manifest per point in the
 * snapshots folder with an index of their summaries, and the content-addressed objects.
 *
 * Write order for a point: its objects and its manifest (one pack: fsync, rename, fsync folder; the pack
 * claims the point, see `pointPacks.ts`) → its manifest file (atomic, no fsync: read from the pack when a
 * crash lost or tore it) → the index (a cache, rebuilt from the folder when it disagrees). A point is
 * therefore listed only once everything it references is durable. All writes hold the store lock.
 */
export class PersistenceManager implements StateRepository {
  readonly layout: StoreLayout;
  readonly lock: StoreLock;
  /** Held by a garbage collection from start to end (it holds `lock` only in slices), so two never overlap. */
  readonly collectionLock: StoreLock;
  readonly audit: AuditLog;
  readonly actor: string;
  readonly logger: Logger;
  private roots: WorkspaceRoot[];
  private rules: CaptureRules;
  private readonly captureProcess: CaptureProcessOptions | undefined;
  private readonly remade = new Emitter<string>();
  /** The store's folder was removed while this process had it open, and a new, empty store was made in its place: what to tell a person. */
  readonly onStoreRemade: Event<string> = this.remade.event;
  /** Each made on first use; a failed attempt is tried again by the next caller. */
  private readonly folders = new OnFirstUse(async () => {
    for (const dir of [this.layout.root, this.layout.pointsDir, this.layout.cacheDir]) ensurePrivateDirSync(dir);
  });
  private readonly objectStore = new OnFirstUse(() => this.ensureFolders().then(() => ObjectStore.open(this.layout.objectsDir)));
  private readonly cache = new OnFirstUse(() => this.ensureFolders().then(() => CaptureCache.deferred(this.layout.captureCacheFile)));
  private readonly changes = new OnFirstUse(async () => {
    await this.ensureFolders();
    const index = await ChangeIndex.load(this.layout.changeIndexFile, this.logger);
    for (const [from, to, folders, diff] of this.newPointChanges.splice(0)) index.record(from, to, folders, diff);
    return index;
  });
  /** New points' changes made before the change index was loaded: recorded into it when it is. */
  private readonly newPointChanges: Array<[string | null, string, readonly string[], TreeDiff]> = [];
  private lastCacheSave = 0;
  /** The rules changed since the last full scan: the previous point may hold files they now leave out. */
  private fullScanNeeded = false;
  /** The newest point this process wrote: hints are relative to it, so an older parent (it was deleted) calls for a full scan. */
  private hintBase: string | undefined;
  /** The workspace folders' identities when this process last made a point (`rootIdentities`, a line each). */
  private rootIds: string | undefined;
  private readonly index: PointIndexFile;
  /** What this process knows the listing to be while the index and the points folder are unchanged (see `KnownListing`). */
  private readonly known: KnownListing;
  /** File names in the points folder already checked to be point ids: a listing checks only new ones. */
  private readonly checkedIds = new Set<string>();
  /** A restore by this process wrote these files after safety point `pointId`: with them, a hint on that point is complete. */
  private restoredOver: { pointId: string; paths: readonly string[] } | undefined;
  /** Points whose manifest was read from their pack (the file missing or damaged): the next listing under the lock settles them. */
  private readonly readFromPacks = new Set<string>();
  /** Checks and writes the text of the manifests that go into the points' packs. */
  private readonly manifestText = new ManifestText();
  /**
   * The points as listed under a hold of the store lock, with the objects folder's names read for it:
   * no other process writes while the lock is held, so a point made later in the same hold uses them
   * instead of listing both folders again. Forgotten by every write here; `objects`: the object
   * store's generation then (a pack added or dropped through it makes the listing stale too);
   * `objectNames` undefined: the objects folder was not read, being unchanged since this process last
   * read it or wrote its own pack into it (`KnownListing`).
   */
  private heldListing: { hold: Hold; points: readonly PointSummary[]; objectNames: readonly string[] | undefined; objects: number | undefined } | undefined;
  /** The state file as this process last read or wrote it: an unchanged file is not parsed again. */
  private stateCache: { stamp: FileStamp; state: ContextState } | undefined;

  constructor(statePath: string, snapshotsPath: string, options: PersistenceOptions) {
    this.layout = new StoreLayout(options.storeDir ?? path.dirname(statePath), { stateFile: statePath, pointsDir: snapshotsPath });
    this.actor = options.actor ?? `library:${process.pid}`;
    this.logger = options.logger ?? silentLogger;
    this.lock = new StoreLock(this.layout.root, {
      staleMs: options.lockStaleMs,
      waitMs: options.lockWaitMs,
      onCompromised: (error) => {
        this.forgetListing();
        this.logger.error(`The store lock was lost while held (${describeCause(error)}); another process may have taken it over.`);
      },
      checkWritable: () => {
        this.remakeRemovedStore();
        this.assertWritable();
      },
      onStoreGone: () => this.remakeRemovedStore(),
    });
    // one garbage collection at a time per store: a collection holds `lock` only in slices (it may wait long: a clean-up of a long history takes minutes)
    this.collectionLock = new StoreLock(this.layout.root, {
      name: 'collection.lock',
      staleMs: options.lockStaleMs,
      waitMs: Math.max(options.lockWaitMs ?? 0, COLLECTION_LOCK_WAIT_MS),
      onCompromised: (error) => this.logger.error(`The store's collection lock was lost while held (${describeCause(error)}); another process may have taken it over.`),
      checkWritable: () => {
        this.remakeRemovedStore();
        this.assertWritable();
      },
      onStoreGone: () => this.remakeRemovedStore(),
    });
    this.audit = new AuditLog(this.layout.auditLogFile, this.actor);
    this.index = new PointIndexFile(this.layout.pointIndexFile, this.logger);
    this.known = new KnownListing([this.index.file, this.index.journalFile, this.layout.pointsDir, this.layout.objectsDir], () => this.lock.takeovers);
    this.roots = validateRoots(options.roots);
    checkStorePlacement(this.layout.root, this.roots);
    this.rules = { ...DEFAULT_CAPTURE_RULES, ...(options.rules ?? this.savedCaptureRules()) };
    this.captureProcess = options.captureProcess;
  }

  /** Creates the store's folders (owner-only) and loads the object index. Called by every operation. */
  async open(): Promise<{ objects: ObjectStore; cache: CaptureCache }> {
    const [objects, cache] = await Promise.all([this.objects(), this.captureCache()]);
    return { objects, cache };
  }

  /** Creates the store's folders (owner-only). Listing points and reading the state need no more than this. */
  ensureFolders(): Promise<void> {
    return this.folders.get();
  }

  /** The object store, opened on first use (listing points and reading the state never need it). */
  objects(): Promise<ObjectStore> {
    return this.objectStore.get();
  }

  /** The changes between points (a cache), loaded on first use: only a file's history and a point's changes read it. */
  changeIndex(): Promise<ChangeIndex> {
    return this.changes.get();
  }

  /** The change index when something has read it in this process; `undefined` when nothing has. */
  loadedChangeIndex(): Promise<ChangeIndex> | undefined {
    return this.changes.started;
  }

  /** Whether reading the change index costs more than comparing a pair's trees (`ChangeIndex.costsMoreThanComparing`). */
  changeIndexCostsMoreThanComparing(changes: number): boolean {
    return ChangeIndex.costsMoreThanComparing(this.layout.changeIndexFile, changes);
  }

  /** A large pair of the change index from its own document, without loading the index (`ChangeIndex.readLargePair`). */
  largeChangePair(from: string | null, to: string): Promise<TreeDiff | undefined> {
    return ChangeIndex.readLargePair(this.layout.changeIndexFile, from, to);
  }

  /** Saves the change index when it changed; a failure is logged (it is rebuilt from the trees). */
  async saveChangeIndex(): Promise<void> {
    const index = await this.changes.started?.catch(() => undefined);
    try {
      await index?.save();
    } catch (error) {
      this.logger.warn(`Could not save the change index (${describeCause(error)}); it is rebuilt as it is read.`);
    }
  }

  /** The capture cache, loaded on first use: only capturing and restoring need it, not reading points. */
  captureCache(): Promise<CaptureCache> {
    return this.cache.get();
  }

  get workspaceRoots(): readonly WorkspaceRoot[] {
    return this.roots;
  }

  /** Where a first point is captured and garbage collected, when not in this process. */
  get workProcess(): CaptureProcessOptions | undefined {
    return this.captureProcess;
  }

  get captureRules(): CaptureRules {
    return this.rules;
  }

  /**
   * The rules the extension made its points with, as it saved them; `undefined` when it saved none or
   * the file is damaged (then the defaults, with a warning).
   */
  private savedCaptureRules(): CaptureRules | undefined {
    return this.readKept(this.layout.captureRulesFile, captureRulesDocument, 'capture rules', 'the default rules apply')?.rules;
  }

  /**
   * Keeps this store's capture rules in the store (the extension calls it with its settings), so the
   * command-line tool, the agent hooks and the MCP server, which open the store without settings,
   * capture and restore by the same rules. Written only when they changed.
   */
  saveCaptureRules(): void {
    const rules: CaptureRules = { respectGitignore: this.rules.respectGitignore, excludes: [...this.rules.excludes], excludeSecrets: this.rules.excludeSecrets, maxFileSize: this.rules.maxFileSize };
    if (isDeepStrictEqual(this.savedCaptureRules(), rules)) return;
    this.keep(this.layout.captureRulesFile, captureRulesDocument, { schemaVersion: SCHEMA_VERSION, rules });
  }

  /** The retention limits the extension saved (`saveRetention`); `undefined` when none or damaged (then the defaults, with a warning). */
  savedRetention(): RetentionPolicy | undefined {
    return this.readKept(this.layout.retentionFile, retentionDocument, 'retention limits', 'the default limits apply')?.retention;
  }

  /** Keeps the extension's retention limits in the store, for the clean-ups the tools start. Written only when they changed. */
  saveRetention(policy: RetentionPolicy): void {
    const retention: RetentionPolicy = { maxRecoveryPoints: policy.maxRecoveryPoints, maxAgeDays: policy.maxAgeDays, maxTotalBytes: policy.maxTotalBytes };
    if (isDeepStrictEqual(this.savedRetention(), retention)) return;
    this.keep(this.layout.retentionFile, retentionDocument, { schemaVersion: SCHEMA_VERSION, retention });
  }

  private readKept<T>(file: string, type: DocumentType<T>, what: string, fallback: string): T | undefined {
    try {
      return readDocumentSync(file, type)?.value;
    } catch (error) {
      this.logger.warn(`The ${what} the editor saved in the store cannot be read (${describeCause(error)}); ${fallback}.`);
      return undefined;
    }
  }

  private keep<T>(file: string, type: DocumentType<T>, value: T): void {
    ensurePrivateDirSync(this.layout.root);
    writeDocumentSync(file, type, value);
  }

  /** New workspace folders or rules apply from the next point on. */
  configure(change: { roots?: readonly WorkspaceRoot[]; rules?: Partial<CaptureRules> }): void {
    if (change.roots) {
      const roots = validateRoots(change.roots);
      checkStorePlacement(this.layout.root, roots);
      this.roots = roots;
    }
    if (change.rules) {
      const rules = { ...this.rules, ...change.rules };
      if (!isDeepStrictEqual(rules, this.rules)) this.fullScanNeeded = true;
      this.rules = rules;
    }
  }

  /**
   * Throws StoreNotWritableError when a folder of the store, or the audit log (appended in place),
   * cannot be written: checked under the lock before every writing operation, so such a store fails
   * before anything is written instead of half-way (a point listed, its audit entry missing).
   */
  assertWritable(): void {
    const { root, pointsDir, objectsDir, cacheDir, auditLogFile } = this.layout;
    for (const [target, mode] of [
      [root, fsSync.constants.W_OK | fsSync.constants.X_OK],
      [pointsDir, fsSync.constants.W_OK | fsSync.constants.X_OK],
      [objectsDir, fsSync.constants.W_OK | fsSync.constants.X_OK],
      [cacheDir, fsSync.constants.W_OK | fsSync.constants.X_OK],
      [auditLogFile, fsSync.constants.W_OK],
    ] as const) {
      try {
        fsSync.accessSync(target, mode);
      } catch (error) {
        if (isNotWritable(error)) throw storeNotWritable(this.layout.root, error);
        // missing: made when needed
      }
    }
  }

  // ── state ──────────────────────────────────────────────────────────────

  async saveState(state: ContextState): Promise<void> {
    await this.ensureFolders();
    try {
      writeDocumentSync(this.layout.stateFile, stateDocument, state);
      const stamp = statStampSync(this.layout.stateFile);
      this.stateCache = stamp ? { stamp, state: structuredClone(state) } : undefined;
    } catch (error) {
      this.stateCache = undefined;
      throw StateError.saveError(`Could not save the recovery state: ${describeCause(error)}`, error);
    }
  }

  storeState(state: ContextState): Promise<void> {
    return this.saveState(state);
  }

  /** The state file, or `undefined` when there is none. Throws InvalidState when it is corrupt. */
  async loadState(): Promise<ContextState | undefined> {
    try {
      const stamp = statStampSync(this.layout.stateFile);
      if (!stamp) return undefined;
      if (this.stateCache && sameStamp(this.stateCache.stamp, stamp)) return structuredClone(this.stateCache.state);
      const read = readDocumentSync(this.layout.stateFile, stateDocument);
      this.stateCache = read ? { stamp: read.stamp, state: read.value } : undefined;
      return read ? structuredClone(read.value) : undefined;
    } catch (error) {
      this.stateCache = undefined;
      if (error instanceof StateError && error.kind === 'InvalidState') throw error;
      throw StateError.loadError(`Could not load the recovery state: ${describeCause(error)}`, error);
    }
  }

  /** Moves a broken state file into quarantine, returning where it went. */
  async quarantineState(reason: string): Promise<string> {
    this.stateCache = undefined;
    return quarantineFile(this.layout.stateFile, this.layout.quarantineDir, reason);
  }

  // ── points ─────────────────────────────────────────────────────────────

  /** Creates a point of the workspace; `within`: the caller's hold of the store lock. */
  async createSnapshot(state: ContextState, options: SnapshotOptions = {}, within?: Hold): Promise<ContextSnapshot | undefined> {
    const started = Date.now();
    const label = options.label?.trim() || null;
    // checked before the capture, not by the manifest's schema after it
    if (label !== null && label.length > MAX_LABEL_LENGTH) throw StateError.invalidState(`A label may have at most ${MAX_LABEL_LENGTH} characters; this one has ${label.length}.`);
    const { objects, cache } = await this.open();
    return this.lock.run(async (hold) => {
      const held = this.listingOfThisHold(objects, hold);
      // the listing this point builds on, as known with the index's files then: its line is appended against it
      let base = held ? this.known.current : undefined;
      this.forgetListing();
      if (held && !held.objectNames) await objects.refreshSkipped();
      else await objects.refresh(held?.objectNames);
      let listed: PointSummary[];
      if (held) {
        listed = held.points.slice();
      } else {
        listed = await this.listSnapshots({ deletesNothing: true, hold });
        base = this.known.current;
      }
      const parent = listed[0];
      const batch = objects.beginBatch(options.deferCompression ? { effort: 'deferred' } : {});
      try {
        // A hint lists what changed since the newest point this process wrote. When that point is gone
        // (deleted, quarantined), the parent is older and misses changes; a safety point holds the files
        // from before a restore, which then changed them: a hint on it needs the restore's paths, known
        // only to the process that restored. Otherwise these call for a full scan.
        const afterOwnRestore = parent !== undefined && this.restoredOver?.pointId === parent.id;
        const rootIds = rootIdentities(this.roots);
        const useHint =
          options.changedPaths !== undefined &&
          this.sameRootsAsBefore(rootIds) &&
          parent !== undefined &&
          (parent.trigger !== 'before-restore' || afterOwnRestore) &&
          (this.hintBase === undefined || parent.id >= this.hintBase) &&
          !this.fullScanNeeded &&
          parent.rules === rulesDigest(this.rules) &&
          sameRoots(parent.roots, this.roots);
        const roots = this.resolvedRootsOf(listed);
        options.onProgress?.(useHint ? 'Capturing changed files' : 'Capturing the workspace');
        options.onCaptureMode?.(useHint ? 'hint' : 'full');
        const changedPaths = useHint && afterOwnRestore ? [...options.changedPaths!, ...this.restoredOver!.paths] : options.changedPaths;
        // (saved bytes are not handed to another process: such a first point is captured here)
        const elsewhere = parent === undefined && this.captureProcess && !options.savedContent ? await this.captureFirstElsewhere(this.captureProcess, roots, objects, cache, options) : undefined;
        // a tree known to the caller, planned against the newest point under these folders and rules
        const knownTree = options.knownTree;
        const given =
          knownTree && parent?.id === knownTree.parentId && knownTree.rules === rulesDigest(this.rules) && sameRoots(parent.roots, this.roots)
            ? await knownCapture({ known: knownTree, files: options.knownFiles, roots, rules: this.rules, neverCapture: [this.layout.root], cache, logger: this.logger })
            : undefined;
        const captured = given ?? elsewhere?.captured ?? (await captureWorkspace({
          roots,
          rules: this.rules,
          neverCapture: [this.layout.root],
          objects: batch,
          cache,
          previousRoot: useHint ? parent.root : this.unreadableFallback(parent),
          previousFileCount: useHint ? parent.fileCount : undefined,
          changedPaths: useHint ? changedPaths : undefined,
          previousOutsideRules: useHint ? outsideRulesOf(parent.roots) : undefined,
          listHintedFolders: options.listHintedFolders,
          knownFiles: options.knownFiles,
          savedContent: options.savedContent,
          keepMissingRoots: options.trigger !== 'before-restore' && options.trigger !== 'restore',
          likelyRoot: options.likelyRoot,
          logger: this.logger,
          signal: options.signal,
          onProgress: options.onProgress ? (n) => options.onProgress!(`Captured ${n} files`) : undefined,
        }));
        // With no point yet, "unchanged" is nothing captured: an empty folder gets no empty first point.
        if (options.skipIfUnchanged && (parent ? parent.root === captured.root : captured.fileCount === 0)) {
          if (parent && captured.mode === 'full') {
            // the newest point matches the files and the rules: later hints may build on it
            this.fullScanNeeded = false;
            this.hintBase = parent.id;
            this.rootIds = rootIds.join('\n');
          }
          await batch.abort();
          return undefined;
        }
        // The change counts are a description: a damaged newest point must not block every later point (and so every restore).
        let comparedWith = null as string | null;
        // A first point only counts its files: the list of every path of a large workspace was its memory peak.
        const withDiff = (diff: TreeDiff) => ({ diff, counts: { added: diff.added.length, modified: diff.modified.length, deleted: diff.deleted.length } });
        const changes = await (async (): Promise<{ diff?: TreeDiff; counts: ChangeCounts }> => {
          if (!parent) return { counts: elsewhere?.counts ?? (await countChanges(batch, null, captured.root)) };
          // a hint capture over the parent's own folders that changed files only lists them itself
          if (captured.changes && captured.mode === 'hint') {
            comparedWith = parent.root;
            return withDiff(captured.changes);
          }
          // A renamed or moved folder is compared with itself under its old name, not as every file deleted and added.
          const before = await inFoldersOf(batch, parent, { roots });
          const diff = await diffTrees(before.objects, before.root, captured.root);
          comparedWith = before.root;
          return withDiff(diff);
        })().catch(async (error: unknown) => {
          if (!parent || !(error instanceof StateError) || error.kind !== 'SnapshotLoadError') throw error;
          this.logger.warn(`The newest recovery point ${parent.id} cannot be read (${describeCause(error)}); the new point lists every file as added. Run "Verify Store" with repair.`);
          return withDiff(await diffTrees(batch, null, captured.root));
        });
        // a capture from what the caller knows reads no rules: they are those of the point it builds on
        const outsideRules = given && parent ? Object.fromEntries(outsideRulesOf(parent.roots)) : captured.outsideRules;
        const tracking = parent && changes.diff ? this.trackingChanges(parent, changes.diff, roots, captured.rulesChanged === true || outsideRulesChanged(parent.roots, outsideRules)) : {};
        const identities = new Map(this.roots.map((root, i) => [root.path, rootIds[i]!]));
        const pointRoots = withGitHeads(roots).map((root) => withFolderId(outsideRules?.[root.name] ? { ...root, outsideRules: outsideRules[root.name] } : root, identities.get(root.path)));
        const switched = parent ? switchedHead(parent.roots, pointRoots) : undefined;
        const rootFolders = elsewhere?.rootFolders ?? (await batch.readTree(captured.root)).e.filter((e) => e[1] === 'd').map((e) => e[0]);
        const addedBytes = elsewhere?.addedBytes ?? batch.addedBytes;
        const trigger: Trigger = options.trigger ?? 'manual';
        // a start-up point's files written since the editor opened (saved while the extension was starting) were not changed while it was closed
        const sinceOpened =
          trigger === 'startup' && options.openedAt !== undefined && options.summary === undefined && changes.diff
            ? await modifiedSince([...changes.diff.modified, ...changes.diff.added], (p) => absolutePath(roots, p), options.openedAt)
            : undefined;
        const made = Date.now();
        const snapshot: ContextSnapshot = {
          schemaVersion: SCHEMA_VERSION,
          // Later than every listed point even when the clock went back or another process wrote in the same millisecond; `createdAt` is when.
          id: newPointId(parent ? Math.max(made, pointIdTime(parent.id) + 1) : made),
          createdAt: new Date(made).toISOString(),
          trigger,
          label,
          summary: (options.summary ?? (captured.mode === 'hint' ? options.summaryIfHinted : undefined) ?? (changes.diff ? describeChanges(trigger, changes.diff, tracking, {
            saved: trigger === 'save' && captured.mode === 'full' ? savedPaths(roots, options.savedPaths ?? options.changedPaths) : undefined,
            switched,
            gitActions: parent && (trigger === 'external' || trigger === 'startup') ? readGitActions(roots, pointTime(parent)) : undefined,
            whileOff: options.whileAutomaticOff,
            sinceOpened,
            folders: parent ? foldersChanged(parent.roots, pointRoots) : undefined,
            own: ownChangesIn(roots, options.ownChanges),
          }) : FIRST_POINT_SUMMARY)).slice(0, 500),
          actor: this.actor,
          root: captured.root,
          roots: pointRoots,
          parentId: parent?.id ?? null,
          changes: changes.diff ? { ...changes.counts, ...trackingCounts(changes.diff, tracking) } : changes.counts,
          fileCount: captured.fileCount,
          totalSize: captured.totalSize,
          addedBytes,
          rules: rulesDigest(this.rules),
          ...(options.agent ? { agent: options.agent.slice(0, 100) } : {}),
          ...tracking,
          ...(await this.leftOutOf(parent, captured, roots, batch, captured.mode === 'full' && !given)),
          state,
        };
        options.onProgress?.('Saving the point');
        // a caller that gave up (a hook out of time, whose agent's command may be running now) gets no point: its name would be untrue of its files
        options.signal?.throwIfAborted();
        if (elsewhere || batch.addedObjects === 0) {
          // the first point's pack was written by the capture process, or the point adds no object
          // (nothing changed): no pack to hold the manifest, which is made durable on its own
          this.forgetListing();
          await batch.commit();
          this.writeManifest(snapshot);
          fsyncDirSync(this.layout.pointsDir);
        } else {
          await this.commitWithManifest(batch, snapshot, hold);
        }
        // A first point's list of every file is left to the change index to build when it is asked for (it is the capture's memory peak).
        if (changes.diff && parent && comparedWith === parent.root) this.noteNewPointChanges(comparedWith, captured.root, rootFolders, changes.diff);
        if (captured.mode === 'full') this.fullScanNeeded = false;
        this.hintBase = snapshot.id;
        this.rootIds = rootIds.join('\n');
        this.forgetListing();
        const summary = summaryOf(snapshot);
        this.known.appendOwn(base, summary, () => this.index.append(summary));
        if (captured.mode === 'full' || Date.now() - this.lastCacheSave > CACHE_SAVE_INTERVAL_MS) await this.saveCache();
        await this.recordDone({
          action: 'create',
          pointId: snapshot.id,
          details: { trigger, mode: given ? 'known' : captured.mode, files: captured.fileCount, filesHashed: captured.filesHashed, addedBytes, ms: Date.now() - started, ...(elsewhere ? { captureProcess: true } : {}) },
        });
        reportSkipped(this.logger, snapshot.id, captured.skipped);
        return snapshot;
      } catch (error) {
        // what the listing is after a failed write is not known: the next one reads the folder
        this.forgetListing();
        await batch.abort();
        if (error instanceof StateError && error.kind !== 'IoError') throw error;
        if (isAbort(error)) throw error;
        throw StateError.snapshotCreation(`Could not create a recovery point: ${describeCause(error)}`, error);
      }
    }, { within });
  }

  /**
   * The paths on disk the point's capture left out (its `skipped`, but for the files whose previous
   * version it kept), and, unless it looked at every file, its parent's that it did not capture now.
   */
  private async leftOutOf(
    parent: PointSummary | undefined,
    captured: { readonly root: string; readonly skipped: readonly SkippedPath[]; readonly changes?: TreeDiff },
    roots: readonly WorkspaceRoot[],
    objects: ObjectReader,
    scannedAll: boolean,
  ): Promise<Pick<PointSummary, 'leftOut'>> {
    const paths = new Set<string>();
    for (const skip of captured.skipped) {
      // a path no tree can hold is in no restore's plan
      if (skip.kind === 'kept-previous' || skip.kind === 'moved' || skip.kind === 'bad-name' || skip.kind === 'path-too-long') continue;
      try {
        const pointPath = toPointPath(roots, skip.path);
        if (pointPath.length <= MAX_POINT_PATH) paths.add(pointPath);
      } catch {
        // outside every folder: nothing a restore plans
      }
    }
    if (parent?.leftOut && !scannedAll) {
      // a file left out is dropped once captured (none is in the parent: a hint capture's own list of
      // changes says which); a folder left out stays, as a hint capture may have captured some of its files only
      const added = captured.changes && new Set(captured.changes.added.map((c) => c.path));
      const capturedNow = async (p: string) => {
        if (added) return added.has(p);
        const entry = await lookupEntry(objects, captured.root, p).catch(() => undefined);
        return entry !== undefined && entry.kind !== 'd';
      };
      for (const p of parent.leftOut) if (!paths.has(p) && !(await capturedNow(p))) paths.add(p);
    }
    return paths.size === 0 ? {} : { leftOut: [...paths].sort().slice(0, MAX_UNTRACKED_PATHS) };
  }

  /**
   * The point's deletions of files still on disk (the capture stopped tracking them: a rule added) and,
   * where the rules changed with it (a `.gitignore` among its changes, an ignore file the capture
   * found changed, other capture settings), its additions of files created before its parent (a rule
   * taken out): one `lstat` per such change. Also for a comparison of a point (`parent`) with the
   * files on disk (`diff`).
   */
  trackingChanges(parent: PointSummary, diff: TreeDiff, roots: readonly WorkspaceRoot[], ignoreFileChanged: boolean): Pick<PointSummary, 'untracked' | 'nowTracked'> {
    const onDisk = (p: string) => absolutePath(roots, p);
    const untracked = diff.deleted.length > 0 ? stillOnDisk(diff.deleted, onDisk) : [];
    const rulesChanged =
      diff.added.length > 0 &&
      (ignoreFileChanged ||
        (parent.rules !== undefined && parent.rules !== rulesDigest(this.rules)) ||
        [diff.added, diff.modified, diff.deleted].some((list) => list.some((c) => c.path.endsWith('/.gitignore'))));
    const nowTracked = rulesChanged ? existedBefore(diff.added, onDisk, pointTime(parent)) : [];
    return { ...(untracked.length > 0 ? { untracked } : {}), ...(nowTracked.length > 0 ? { nowTracked } : {}) };
  }

  /**
   * Commits a point's pack with its manifest in it, named for the point (it claims the point, see
   * `pointPacks.ts`): the pack's fsync, rename and folder fsync make the point durable. The manifest
   * file is then written without fsync and without the points folder's: after a power loss that tore
   * or lost it, it is read from the pack. Should the file fail to be written, the pack gives up its
   * claim, so the point, reported as failed, is not listed.
   */
  private async commitWithManifest(batch: ObjectBatch, snapshot: ContextSnapshot, hold: Hold): Promise<void> {
    let text: string;
    try {
      text = this.manifestText.of(snapshot);
    } catch (error) {
      throw StateError.snapshotCreation(`Could not save recovery point ${snapshot.id}: ${describeCause(error)}`, error);
    }
    const manifest = await batch.putBlob(Buffer.from(text));
    const packName = claimingPackName(snapshot.id, manifest);
    this.forgetListing();
    await batch.commit({ packName });
    // format 2: the pack is the point's only record until a clean-up settles it (earlier builds, which list manifest files, cannot open the store)
    if (hold.format === 2) return;
    try {
      this.writeManifest(snapshot, { durable: false });
    } catch (error) {
      try {
        dropClaims(this.layout.objectsDir, [{ pointId: snapshot.id, manifest, pack: packName }]);
      } catch (renameError) {
        this.logger.warn(`Recovery point ${snapshot.id} could not be withdrawn (${describeCause(renameError)}); it is listed from its pack.`);
      }
      throw error;
    }
  }

  /**
   * A store's first point, captured in a process of its own (`captureProcess`): its pack is committed
   * and the capture cache saved there; here the pack is loaded and the cache read again.
   */
  private async captureFirstElsewhere(helper: CaptureProcessOptions, roots: readonly WorkspaceRoot[], objects: ObjectStore, cache: CaptureCache, options: SnapshotOptions): Promise<CapturedElsewhere> {
    const request = { objectsDir: this.layout.objectsDir, cacheFile: this.layout.captureCacheFile, roots, rules: this.rules, neverCapture: [this.layout.root], skipIfEmpty: options.skipIfUnchanged ?? false };
    const onProgress = options.onProgress ? (n: number) => options.onProgress!(`Captured ${n} files`) : undefined;
    this.forgetListing();
    const result = await captureInProcess(helper, request, { logger: this.logger, signal: options.signal, onProgress });
    await objects.refresh();
    await cache.reload();
    // the workspace folders' own ignore files as the point was made with them, so that the next point
    // tells a change of them (`.git/info/exclude` edited, which file watchers rarely report) from rules it knew
    for (const root of roots) {
      const rules = await InclusionRules.create(root, this.rules, { neverCapture: request.neverCapture, roots, gitignores: cache.gitignores, logger: this.logger });
      await rules.folderRules('').catch(() => undefined);
    }
    return result;
  }

  /**
   * The workspace folders with where each really is now (links resolved, `realPath`). A folder that now
   * leads somewhere other than where this store's newest point of it recorded (it was replaced by a
   * link, or its link changed) is refused: captures and restores never follow it into another folder.
   */
  async resolvedRoots(hold?: Hold): Promise<WorkspaceRoot[]> {
    return this.resolvedRootsOf(await this.listSnapshots({ hold }));
  }

  /**
   * `resolvedRoots` against points already listed. Resolved at every call, with `realpath(3)` itself
   * (a few in-kernel `readlink`s, microseconds): a real path kept from an earlier call could only be
   * trusted after checking every folder on its way, which costs as much.
   */
  private resolvedRootsOf(points: readonly PointSummary[]): WorkspaceRoot[] {
    return this.roots.map((root) => {
      const real = realPathNow(root.path);
      if (real === undefined) return root;
      const recorded = recordedRealPath(points, root);
      if (recorded !== undefined && recorded !== real) throw movedWorkspaceFolder(root.path, real, recorded);
      return { ...root, realPath: real };
    });
  }

  /**
   * The tree a full scan takes what it cannot read from (unreadable is not deleted): the newest
   * point's, when it captured the same folders with the same rules.
   */
  private unreadableFallback(newest: PointSummary | undefined): string | null {
    return newest !== undefined && newest.rules === rulesDigest(this.rules) && sameRoots(newest.roots, this.roots) ? newest.root : null;
  }

  /**
   * A restore by this process is writing or deleting `paths` (absolute) over safety point `pointId`;
   * the next point may then build on that safety point with a hint plus these paths. `undefined`
   * (the paths are not known): the next point after it scans everything.
   */
  noteRestoreWrites(pointId: string, paths: readonly string[] | undefined): void {
    this.restoredOver = paths ? { pointId, paths: [...paths] } : undefined;
  }

  /**
   * Captures the workspace as it is now into objects that are never committed, and runs `work` on its
   * root tree: for previews and comparisons with the current files without writing a point.
   */
  async withCurrentTree<T>(work: (objects: ObjectWriter, root: string) => Promise<T>): Promise<T> {
    const { objects, cache } = await this.open();
    return this.lock.run(async (hold) => {
      const batch = objects.beginBatch();
      try {
        const listed = await this.listSnapshots({ hold });
        const previousRoot = this.unreadableFallback(listed[0]);
        const captured = await captureWorkspace({ roots: this.resolvedRootsOf(listed), rules: this.rules, neverCapture: [this.layout.root], objects: batch, cache, logger: this.logger, previousRoot });
        return await work(batch, captured.root);
      } finally {
        await batch.abort();
      }
    }, { mayWrite: false });
  }

  async loadSnapshot(id: string): Promise<ContextSnapshot | undefined> {
    if (!pointIdSchema.safeParse(id).success) return undefined;
    let snapshot: ContextSnapshot | undefined;
    let failure: StateError | undefined;
    try {
      snapshot = await this.readManifestFile(id);
    } catch (error) {
      failure = error instanceof StateError && error.kind === 'SnapshotLoadError' ? error : StateError.snapshotLoad(`Recovery point ${id} cannot be read: ${describeCause(error)}`, error);
    }
    if (snapshot && !failure) return snapshot;
    // missing or torn (written without fsync, then a power loss): the point's pack holds it
    const claim = readClaims(this.layout.objectsDir).get(id);
    if (!claim) {
      if (failure) throw failure;
      // settled just now by a clean-up (it writes the file before the pack gives up its claim), or deleted
      return snapshot ?? (await this.readManifestFile(id));
    }
    try {
      const fromPack = await this.manifestFromPack(claim);
      // settled by the next listing: a damaged file, or a missing one where the file is written with the point (format 1)
      if (failure || storeForm(this.layout.root).form !== 'linked') this.readFromPacks.add(id);
      return fromPack;
    } catch (error) {
      if (failure) throw failure;
      // the pack settled and repacked meanwhile: its file is written now
      const settled = await this.readManifestFile(id).catch(() => undefined);
      if (settled) return settled;
      throw StateError.snapshotLoad(`Recovery point ${id} cannot be read from its pack: ${describeCause(error)}`, error);
    }
  }

  /** A point's manifest file, checked (`undefined`: there is none). */
  private async readManifestFile(id: string): Promise<ContextSnapshot | undefined> {
    let snapshot: ContextSnapshot | undefined;
    try {
      snapshot = await readDocument(this.layout.manifestFile(id), snapshotDocument);
    } catch (error) {
      throw StateError.snapshotLoad(`Recovery point ${id} cannot be read: ${describeCause(error)}`, error);
    }
    // A manifest names its own file: one naming another id would be listed twice, or under an id that has no file.
    if (snapshot && snapshot.id !== id) throw StateError.snapshotLoad(`Recovery point ${id} cannot be read: its manifest names a different id (${snapshot.id}).`);
    return snapshot;
  }

  /** The manifest a point's pack holds, checked as a manifest file is. */
  private async manifestFromPack(claim: PackClaim): Promise<ContextSnapshot> {
    const bytes = await (await this.objects()).readBlob(claim.manifest);
    const snapshot = parseDocument(snapshotDocument, bytes.toString('utf8'), `in the pack ${claim.pack}`);
    if (snapshot.id !== claim.pointId) throw StateError.snapshotLoad(`The pack ${claim.pack} holds the manifest of another point (${snapshot.id}).`);
    return snapshot;
  }

  /**
   * Makes the manifests of points whose packs still claim them durable on their own, then drops the
   * claims: each manifest file is written again from its pack when it is missing or damaged, or else
   * fsynced; then the points folder is fsynced, the packs renamed to ordinary names, and the objects
   * folder fsynced. Before a garbage collection or a salvage (which drop the manifests' records with
   * their packs), an adoption (which links packs by name), after a label (the pack's copy has the old
   * one), and when a listing read a manifest from its pack. `ids`: only these points. A manifest that
   * cannot be read from anywhere keeps its claim, with a warning. Returns the claims dropped.
   * Caller holds the lock.
   */
  async settleManifests(ids?: ReadonlySet<string>): Promise<PackClaim[]> {
    const claims = [...readClaims(this.layout.objectsDir).values()].filter((claim) => !ids || ids.has(claim.pointId));
    if (claims.length === 0) return [];
    const settled: PackClaim[] = [];
    for (const claim of claims) {
      const file = this.layout.manifestFile(claim.pointId);
      let whole = false;
      try {
        whole = readDocumentSync(file, snapshotDocument)?.value.id === claim.pointId;
      } catch {
        // damaged: written again below
      }
      try {
        if (whole) fsyncFileSync(file);
        else this.writeManifest(await this.manifestFromPack(claim));
        settled.push(claim);
      } catch (error) {
        this.logger.warn(`The manifest of recovery point ${claim.pointId} could not be made durable (${describeCause(error)}); its pack keeps it.`);
      }
    }
    if (settled.length === 0) return [];
    fsyncDirSync(this.layout.pointsDir);
    this.dropClaimsDurably(settled);
    await this.packsRenamed();
    for (const claim of settled) this.readFromPacks.delete(claim.pointId);
    return settled;
  }

  /** Packs give up their claims (renamed), durably: a claim a power loss brought back would list a deleted point again. */
  private dropClaimsDurably(claims: readonly PackClaim[]): void {
    if (claims.length === 0) return;
    this.forgetListing();
    dropClaims(this.layout.objectsDir, claims);
    fsyncDirSync(this.layout.objectsDir);
  }

  /** This process's object store learns the packs' new names now (it would on a read that missed). */
  private async packsRenamed(): Promise<void> {
    const objects = await this.objectStore.started?.catch(() => undefined);
    await objects?.refresh();
  }

  /** A point's manifest, or SnapshotNotFound. */
  async requireSnapshot(id: string): Promise<ContextSnapshot> {
    const snapshot = await this.loadSnapshot(id);
    if (!snapshot) throw StateError.snapshotNotFound(id);
    return snapshot;
  }

  /**
   * Every point, newest first. The index is cross-checked against the points folder, so a point whose
   * manifest was written but whose index update was lost (a crash) is still listed, and a deleted one is not.
   * `deletesNothing`: the caller deletes and collects nothing by this listing (a point, the state's newest
   * point); under the store lock it may then be the listing this process knows, without reading the
   * points folder, while the index and the folder are provably unchanged (`KnownListing`). Every other
   * caller gets the full listing. `hold`: the caller's hold of the store lock (a listing that must
   * rewrite the index takes the lock).
   */
  async listSnapshots(options: { deletesNothing?: boolean; hold?: Hold } = {}): Promise<PointSummary[]> {
    const hold = this.lock.holds(options.hold) ? options.hold : undefined;
    if (!hold) this.lock.checkNotNested();
    await this.ensureFolders();
    if (options.deletesNothing && hold) {
      const known = await this.knownListing(hold);
      if (known) return known;
    }
    this.known.forget();
    const before = this.known.stamps();
    const takeovers = this.lock.takeovers;
    const listed = await this.reconcileIndex();
    // manifests read from their packs are written again (settled) by the first listing after it
    if (!listed.changed && this.readFromPacks.size === 0) {
      this.known.remember(listed.points, before, takeovers);
      await this.keepListing(listed, hold);
      return listed.points;
    }
    // Rewrite the index under the lock, from a fresh look, so a concurrent writer's update is not undone.
    return this.lock
      .run(async (held) => {
        if (this.readFromPacks.size > 0) await this.settleManifests(new Set(this.readFromPacks));
        const fresh = await this.reconcileIndex();
        let written = !fresh.changed;
        if (fresh.changed) {
          await this.writeIndex(fresh.points).then(
            () => (written = true),
            (error) => this.logger.debug(`index not rewritten: ${describeCause(error)}`),
          );
        }
        // under the lock only this process writes: the files now are those of this listing
        if (written && this.readFromPacks.size === 0) this.known.remember(fresh.points, this.known.stamps(), this.lock.takeovers);
        await this.keepListing(fresh, held);
        return fresh.points;
      }, { within: hold })
      .catch((error: unknown) => {
        // a read-only store is listed as it is, its index left stale
        if (error instanceof StoreNotWritableError) return listed.points;
        throw error;
      });
  }

  /** Keeps a listing made while holding the lock, for a point made later in the same hold (`heldListing`). */
  private async keepListing(listed: { points: readonly PointSummary[]; objectNames: readonly string[] | undefined }, hold: Hold | undefined): Promise<void> {
    if (!hold || this.readFromPacks.size > 0) return;
    const objects = await this.objectStore.started?.catch(() => undefined);
    this.heldListing = { hold, points: listed.points.slice(), objectNames: listed.objectNames, objects: objects?.generation };
  }

  /** The listing kept in this hold of the lock, when nothing was written since (see `heldListing`). */
  private listingOfThisHold(objects: ObjectStore, hold: Hold): { points: readonly PointSummary[]; objectNames: readonly string[] | undefined } | undefined {
    const held = this.heldListing;
    if (!held || held.hold !== hold || held.objects !== objects.generation || this.readFromPacks.size > 0) return undefined;
    return held;
  }

  /**
   * The listing this process knows (`KnownListing`), checked under the store lock, with the objects
   * folder's names kept for this hold when they had to be read for the claims; `undefined`: list in full.
   */
  private async knownListing(hold: Hold): Promise<PointSummary[] | undefined> {
    if (this.readFromPacks.size > 0) return undefined;
    let objectNames: string[] | undefined;
    const known = this.known.recall(() => claimsAmong((objectNames = listObjectsFolder(this.layout.objectsDir))).keys());
    if (!known) return undefined;
    await this.keepListing({ points: known.points, objectNames }, hold);
    return known.points.slice();
  }

  /** Forgets the listing kept for this hold and the one this process knows: called by every write to the points folder, the index or the packs' names. */
  private forgetListing(): void {
    this.heldListing = undefined;
    this.known.forget();
  }

  /**
   * Whether the workspace folders are the folders this process last made a point of (true when it has
   * made none), and each is there: a hint lists what changed inside a folder, so a folder removed
   * since (or removed and made again: the editor's watcher of it stops) calls for a full scan.
   */
  rootsAsBefore(): boolean {
    return this.sameRootsAsBefore(rootIdentities(this.roots));
  }

  private sameRootsAsBefore(ids: readonly string[]): boolean {
    return !ids.includes(NO_FOLDER) && (this.rootIds === undefined || this.rootIds === ids.join('\n'));
  }

  /**
   * Before an operation that may write, and when the store lock cannot be taken for one: when the
   * store was removed while this process had it open (by hand, or with the editor's storage), a new,
   * empty store is made in its place, so points go on being made instead of every one failing. What
   * this process knew of the old one is forgotten; its next point captures every file. A store is its
   * points and objects folders: the folder itself may be there again, made by a write of the capture
   * cache or the audit log since. Only the points folder gone: it is made again, and the points are
   * listed from their packs. False when the store is there.
   */
  private remakeRemovedStore(): boolean {
    if (!isGone(this.layout.pointsDir)) return false;
    const objectsKept = !isGone(this.layout.objectsDir);
    for (const dir of [this.layout.root, this.layout.pointsDir, this.layout.cacheDir, this.layout.objectsDir]) ensurePrivateDirSync(dir);
    this.forgetListing();
    if (objectsKept) {
      this.logger.warn(`The points folder of the recovery point store ${this.layout.root} was removed; it was made again, and the points are listed from their packs.`);
      return true;
    }
    this.stateCache = undefined;
    this.hintBase = undefined;
    this.rootIds = undefined;
    const message = `The recovery point store ${this.layout.root} was removed while it was in use, with every point it held; a new, empty store was started in its place.`;
    this.logger.warn(message);
    this.remade.fire(message);
    return true;
  }

  private async reconcileIndex(): Promise<{ points: PointSummary[]; changed: boolean; objectNames: readonly string[] }> {
    // a point whose manifest file is missing (format 2 before a clean-up, killed before it was written, lost with a power loss) is listed from its pack;
    // the packs are listed first: a clean-up settling a point writes its file before its pack gives up the claim, so one of the two is seen
    const objectNames = listObjectsFolder(this.layout.objectsDir);
    let listed: string[];
    try {
      listed = fsSync.readdirSync(this.layout.pointsDir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { points: [], changed: false, objectNames };
      throw ioError(`list the recovery points in ${this.layout.pointsDir}`, error);
    }
    const claimed = claimsAmong(objectNames);
    const indexed = await this.readIndex();
    // the usual case: the index lists exactly the folder's points, newest first
    if (this.indexMatches(indexed, listed, claimed.keys())) return { points: indexed.slice(), changed: this.index.damaged, objectNames };
    const names = listed.filter((name) => name.endsWith('.json') && name !== 'index.json');
    const ids = new Set(names.map((name) => name.slice(0, -5)).filter((id) => this.isPointId(id)));
    for (const id of claimed.keys()) ids.add(id);
    const byId = new Map(indexed.filter((p) => ids.has(p.id)).map((p) => [p.id, p]));
    let changed = byId.size !== indexed.length || this.index.damaged;
    for (const id of ids) {
      if (byId.has(id)) continue;
      try {
        const snapshot = await this.loadSnapshot(id);
        if (snapshot) byId.set(id, summaryOf(snapshot));
        changed = true;
      } catch (error) {
        this.logger.warn(`Recovery point ${id} is damaged and is not listed (${describeCause(error)}). Run "Verify Store" with repair to move it aside.`);
      }
    }
    return { points: [...byId.values()].sort(newestFirst), changed, objectNames };
  }

  /**
   * Whether `indexed` (as `readIndex` just gave it) lists exactly the points of the folder's names and
   * of the packs' claims, newest first: every point manifest in the folder is indexed, every claimed
   * point is indexed, and the index lists as many as the folder's manifests and the claims together. Checked name by name against the index's names
   * (kept with the index between points), not by a set of the folder's ids: at 2,000 points that set and
   * the comparison cost 2.2 ms of every point. `false` (not sure) leaves it to the full comparison.
   */
  private indexMatches(indexed: readonly PointSummary[], listed: readonly string[], claimed: Iterable<string>): boolean {
    const manifests = this.index.manifestNames(indexed);
    if (!manifests?.ordered) return false;
    // a claimed point may have no manifest file (format 2 writes none until a clean-up)
    const claimedNames = new Set<string>();
    for (const id of claimed) {
      if (!manifests.names.has(`${id}.json`)) return false;
      claimedNames.add(`${id}.json`);
    }
    let inFolder = 0;
    let claimedInFolder = 0;
    for (const name of listed) {
      if (manifests.names.has(name)) {
        inFolder++;
        if (claimedNames.has(name)) claimedInFolder++;
      } else if (name.endsWith('.json') && name !== 'index.json' && this.isPointId(name.slice(0, -5))) return false;
    }
    return inFolder + claimedNames.size - claimedInFolder === indexed.length;
  }

  /** Changes a point's label (labelled points are kept by clean-up); `null` removes it. */
  async setLabel(id: string, label: string | null): Promise<ContextSnapshot> {
    return this.lock.run(async () => {
      const snapshot = await this.requireSnapshot(id);
      const updated = { ...snapshot, label: label?.trim() ? label.trim().slice(0, 200) : null };
      // The index only learns of manifests it lacks, so its entry goes first: a crash before the
      // manifest is renamed keeps the old label, a crash after it lists the new one (never the index's stale copy).
      await this.updateIndex((points) => points.filter((p) => p.id !== id));
      this.writeManifest(updated);
      // the pack's copy has the old label: the new manifest must not be lost to it
      await this.settleManifests(new Set([id]));
      await this.updateIndex((points) => points.map((p) => (p.id === id ? summaryOf(updated) : p)));
      await this.recordDone({ action: 'label', pointId: id, details: { label: updated.label } });
      return updated;
    });
  }

  /**
   * Lists points brought from elsewhere (an import, an adopted store) whose objects are already
   * durable in this store: their manifests (atomic, fsync, folder fsync), then the index and one
   * audit line. Caller holds the lock.
   */
  async addSnapshots(snapshots: readonly ContextSnapshot[], action: 'import' | 'adopt', details: Record<string, string | number>): Promise<void> {
    if (snapshots.length === 0) return;
    // a store that had no point has no state file yet: it takes the newest added point's state now, as
    // a recovery from a lost state file would, without the warning that it was lost (it never existed)
    if (!statStampSync(this.layout.stateFile)) {
      const newest = snapshots.reduce((a, b) => (b.id > a.id ? b : a));
      await this.saveState({ ...newest.state, newestPointId: newest.id, updatedAt: new Date().toISOString(), updatedBy: this.actor });
    }
    for (const snapshot of snapshots) this.writeManifest(snapshot);
    fsyncDirSync(this.layout.pointsDir);
    const added = new Map(snapshots.map((s) => [s.id, summaryOf(s)]));
    await this.updateIndex((points) => [...points.filter((p) => !added.has(p.id)), ...added.values()]);
    await this.audit.append({ action, details: { ...details, points: snapshots.length, first: snapshots[0]!.id, last: snapshots[snapshots.length - 1]!.id } });
  }

  /** Removes points' manifests (their objects go at the next garbage collection). `within`: the caller's hold of the store lock, else it is taken. */
  async deleteSnapshots(ids: readonly string[], reason: 'delete' | 'cleanup' = 'delete', within?: Hold): Promise<number> {
    return this.lock.run(async () => {
      this.forgetListing();
      let removed = 0;
      const claims = readClaims(this.layout.objectsDir);
      for (const id of ids) {
        if (!pointIdSchema.safeParse(id).success) continue;
        try {
          await fs.rm(this.layout.manifestFile(id));
          removed++;
        } catch (error) {
          if (errorCode(error) !== 'ENOENT') throw ioError(`delete recovery point ${id}`, error);
          if (claims.has(id)) removed++; // listed from its pack alone
        }
      }
      fsyncDirSync(this.layout.pointsDir);
      // then its pack gives up the point, so it does not come back (a crash before this: it does)
      this.dropClaimsDurably(ids.flatMap((id) => claims.get(id) ?? []));
      await this.packsRenamed();
      const gone = new Set(ids);
      await this.updateIndex((points) => points.filter((p) => !gone.has(p.id)));
      if (reason === 'delete' && removed > 0) await this.recordDone({ action: 'delete', details: { ids: [...ids] } });
      return removed;
    }, { within });
  }

  /**
   * Writes the audit entry of a change already made. The store was checked to be writable before the
   * change; should the append still fail (a disk filling at that moment), the change stands and is
   * reported as made, with a warning: reporting it as failed while it is listed would mislead.
   */
  async recordDone(entry: Parameters<AuditLog['append']>[0]): Promise<void> {
    try {
      await this.audit.append(entry);
    } catch (error) {
      this.logger.warn(`The ${entry.action} ${entry.pointId ? `of recovery point ${entry.pointId} ` : ''}was done, but its audit log entry could not be written: ${describeCause(error)}`);
    }
  }

  /** Moves a damaged manifest aside. Caller holds the lock. */
  async quarantineSnapshot(id: string, reason: string): Promise<void> {
    this.forgetListing();
    // its pack gives it up first (its manifest file written from it when missing), so the manifest moved aside does not come back from there
    await this.settleManifests(new Set([id]));
    const claim = readClaims(this.layout.objectsDir).get(id);
    if (claim) {
      this.dropClaimsDurably([claim]);
      await this.packsRenamed();
    }
    if (!claim || fsSync.existsSync(this.layout.manifestFile(id))) await quarantineFile(this.layout.manifestFile(id), this.layout.quarantineDir, reason);
    await this.updateIndex((points) => points.filter((p) => p.id !== id));
  }

  async saveCache(): Promise<void> {
    const cache = await this.captureCache();
    try {
      await cache.save();
      this.lastCacheSave = Date.now();
    } catch (error) {
      this.logger.warn(`Could not save the capture cache (${describeCause(error)}); the next point will re-read files.`);
    }
  }

  /**
   * Reads again the files captured while racy (changed within `RACY_WINDOW_MS` of being read, so left
   * out of the capture cache) whose window has passed, and records each that is still what was
   * captured: same stat, same content. The next capture that looks at them takes their hash without
   * reading them: a restore's safety point and its check, above all after changes made outside the
   * editor, whose points come 1.5 s after them. Idle work for a process that keeps its store open (the
   * extension); files over 256 kB are left to the next capture. Returns how many were recorded.
   */
  async settleRecentFiles(): Promise<number> {
    const cache = await this.captureCache();
    const settled = cache.takeSettled(Date.now());
    if (settled.length === 0) return 0;
    return this.lock.run(
      async () => {
        let recorded = 0;
        for (const file of settled) {
          const abs = absolutePath(this.roots, `${file.root}/${file.rel}`);
          if (abs === undefined || file.stat.size > SYNC_READ_BYTES) continue;
          let read: ReturnType<typeof readSmallFileSync>;
          try {
            read = readSmallFileSync(abs, SYNC_READ_BYTES);
          } catch {
            continue; // gone or unreadable: the next capture says so
          }
          if (read?.kind !== 'read' || !sameFileStamp(read.stat, file.stat) || read.content.length !== file.stat.size) continue;
          if (hashObject('blob', read.content) !== file.hash) continue; // changed within its stat: the next capture reads it
          cache.record(file.root, file.rel, read.stat, file.hash, read.readAt);
          recorded++;
        }
        return recorded;
      },
      { mayWrite: false },
    );
  }

  /**
   * Keeps a new point's changes (against its parent's root as it is, or against nothing) for the change
   * index. Only in memory: saved with the index when it is read and saved, so a point writes nothing more.
   */
  private noteNewPointChanges(from: string | null, root: string, folders: readonly string[], changes: TreeDiff): void {
    const loaded = this.changes.started;
    if (loaded) void loaded.then((index) => index.record(from, root, folders, changes), () => undefined);
    else if (this.newPointChanges.push([from, root, folders, changes]) > MAX_PENDING_CHANGES) this.newPointChanges.shift();
  }

  /** Saves what is only in memory and closes open files. */
  async close(): Promise<void> {
    const cache = await this.cache.started?.catch(() => undefined);
    if (cache?.dirty) await this.saveCache();
    await this.saveChangeIndex();
    const objects = await this.objectStore.started?.catch(() => undefined);
    await objects?.close();
  }

  private writeManifest(snapshot: ContextSnapshot, options: { durable?: boolean } = {}): void {
    this.forgetListing();
    try {
      writeDocumentSync(this.layout.manifestFile(snapshot.id), snapshotDocument, snapshot, options.durable === false ? { durable: false, trusted: true } : {});
    } catch (error) {
      throw StateError.snapshotCreation(`Could not save recovery point ${snapshot.id}: ${describeCause(error)}`, error);
    }
  }

  private isPointId(id: string): boolean {
    if (this.checkedIds.has(id)) return true;
    if (!isPointId(id)) return false;
    this.checkedIds.add(id);
    return true;
  }

  private async readIndex(): Promise<PointSummary[]> {
    try {
      return this.index.read();
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') this.logger.warn(`The point index could not be read and is rebuilt from the manifests (${describeCause(error)}).`);
      return [];
    }
  }

  /** The index is a cache of the manifests: written without fsync; a lost or stale index is rebuilt on the next listing. */
  private async writeIndex(points: PointSummary[]): Promise<void> {
    this.forgetListing();
    this.index.write(points);
  }

  private async updateIndex(change: (points: PointSummary[]) => PointSummary[]): Promise<void> {
    const current = await this.readIndex();
    await this.writeIndex(change(current).sort(newestFirst));
  }
}

/** A value made on first use and kept; when making it fails, the next caller tries again. */
class OnFirstUse<T> {
  private pending: Promise<T> | undefined;

  constructor(private readonly make: () => Promise<T>) {}

  /** The value, if making it has started. */
  get started(): Promise<T> | undefined {
    return this.pending;
  }

  get(): Promise<T> {
    this.pending ??= this.make().catch((error: unknown) => {
      this.pending = undefined;
      throw error;
    });
    return this.pending;
  }
}

export function newestFirst(a: PointSummary, b: PointSummary): number {
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function summaryOf(snapshot: ContextSnapshot): PointSummary {
  const { state: _state, ...summary } = snapshot;
  return summary;
}

function validateRoots(roots: readonly WorkspaceRoot[]): WorkspaceRoot[] {
  const names = new Set<string>();
  for (const root of roots) {
    if (!isSafeName(root.name)) throw StateError.invalidState(`The workspace folder name ${JSON.stringify(root.name)} cannot be used.`);
    if (names.has(root.name)) throw StateError.invalidState(`Two workspace folders are named "${root.name}"; give them different names.`);
    if (!path.isAbsolute(root.path)) throw StateError.invalidState(`The workspace folder ${root.path} must be an absolute path.`);
    names.add(root.name);
  }
  return roots.map((root) => ({ name: root.name, path: path.resolve(root.path) }));
}

/**
 * The capture rules in 16 hex digits: the same rules always give the same digest, whatever the order of keys.
 * The built-in secret list counts too (and which of its names leave out a folder), so a version that
 * leaves out more or fewer secrets starts with a full scan.
 */
export function rulesDigest(rules: CaptureRules): string {
  // every value the digest depends on, in a key far cheaper to make than the digest (which spreads, sorts and hashes the secret patterns)
  const key = JSON.stringify([rules.respectGitignore, rules.excludeSecrets, rules.maxFileSize, rules.excludes]);
  if (lastRulesDigest?.key === key) return lastRulesDigest.digest;
  const secrets = rules.excludeSecrets ? [...DEFAULT_SECRET_EXCLUDES, '!', ...DEFAULT_SECRET_KEEP, 'folders', ...SECRET_FOLDER_NAMES] : false;
  const canonical = JSON.stringify([rules.respectGitignore, [...rules.excludes].sort(), secrets, rules.maxFileSize]);
  const digest = createHash('sha256').update(canonical).digest('hex').slice(0, 16);
  lastRulesDigest = { key, digest };
  return digest;
}

/** `rulesDigest`'s last answer: a point asks it twice for the same rules, and the next point again. */
let lastRulesDigest: { key: string; digest: string } | undefined;

/** Skipped paths named in the log one a line, at most; the rest are counted. */
const SKIPPED_SHOWN = 5;

/** Warns that a point left out paths its rules include: how many, then the first few, each with its reason. */
/** The longest path a manifest's path lists hold (`leftOut`). */
const MAX_POINT_PATH = 4096;

function reportSkipped(logger: Logger, pointId: string, skipped: readonly SkippedPath[]): void {
  const report = (heading: string, paths: readonly SkippedPath[]) => {
    if (paths.length === 0) return;
    logger.warn(heading);
    for (const { path: where, reason } of paths.slice(0, SKIPPED_SHOWN)) logger.warn(`  ${shortPath(where)}: ${reason}`);
    if (paths.length > SKIPPED_SHOWN) logger.warn(`  … and ${paths.length - SKIPPED_SHOWN} more.`);
  };
  const kept = skipped.filter((s) => s.kind === 'kept-previous');
  const left = skipped.filter((s) => s.kind !== 'kept-previous');
  report(`Recovery point ${pointId} left out ${plural(left.length, 'path')} that could not be captured:`, left);
  report(`Recovery point ${pointId} could not read ${plural(kept.length, 'path')}; it keeps their versions from the previous point:`, kept);
}

/** Where `file` leads now, links resolved; `undefined` when it does not exist or cannot be resolved. */
function realPathNow(file: string): string | undefined {
  try {
    return fsSync.realpathSync.native(file);
  } catch {
    return undefined;
  }
}

/** A point's `outsideRules` by folder name. */
function outsideRulesOf(roots: readonly WorkspaceRoot[]): Map<string, string> {
  return new Map(roots.flatMap((root) => (root.outsideRules ? [[root.name, root.outsideRules] as const] : [])));
}

/** Whether a folder's git rules from outside its files read otherwise than when the point before was made (both known). */
function outsideRulesChanged(parentRoots: readonly WorkspaceRoot[], now: Readonly<Record<string, string>> | undefined): boolean {
  return parentRoots.some((root) => root.outsideRules !== undefined && now?.[root.name] !== undefined && now[root.name] !== root.outsideRules);
}

function sameRoots(a: readonly WorkspaceRoot[], b: readonly WorkspaceRoot[]): boolean {
  return a.length === b.length && a.every((root, i) => root.name === b[i]!.name && root.path === b[i]!.path);
}

/** `SnapshotOptions.ownChanges` as the names see them: by point path (a file at the prefix or starting with it). */
function ownChangesIn(roots: readonly WorkspaceRoot[], own: SnapshotOptions['ownChanges']): OwnChange[] | undefined {
  if (!own || own.length === 0) return undefined;
  return own.map(({ prefix, name }) => ({
    name,
    matches: (pointPath: string) => absolutePath(roots, pointPath)?.startsWith(prefix) === true,
  }));
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** Whether nothing is at `file` (not: it could not be looked at, which the operation then reports). */
function isGone(file: string): boolean {
  try {
    return fsSync.statSync(file, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

/** Stands in `rootIdentities` for a workspace folder that is gone or cannot be looked at. */
const NO_FOLDER = '-';

/** `root` with its identity (`WorkspaceRoot.id`), when the file system gives a creation time. */
function withFolderId(root: WorkspaceRoot, identity: string | undefined): WorkspaceRoot {
  return identity === undefined || identity === NO_FOLDER || /:0$/.test(identity) ? root : { ...root, id: identity };
}

/** Each workspace folder's device, inode and creation time (links followed; a folder made again may get the removed one's inode). */
function rootIdentities(roots: readonly WorkspaceRoot[]): string[] {
  return roots.map((root) => {
    try {
      const stat = fsSync.statSync(root.path, { throwIfNoEntry: false });
      return stat?.isDirectory() ? `${stat.dev}:${stat.ino}:${stat.birthtimeMs}` : NO_FOLDER;
    } catch {
      return NO_FOLDER;
    }
  });
}

/** The point paths of a save's hinted files (those inside a workspace folder). */
function savedPaths(roots: readonly WorkspaceRoot[], changed: readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (!changed) return undefined;
  const saved = new Set<string>();
  for (const file of changed) {
    try {
      saved.add(toPointPath(roots, file));
    } catch {
      // outside every folder: not in the point
    }
  }
  return saved;
}

/**
 * The folders of `now` that no folder of `before` stands for (added to the workspace), and those of
 * `before` that none of `now` stands for (removed), mapped as a restore maps them (`mapFolders`: a
 * folder renamed or moved is neither: `moved` names those renamed or moved on disk, "delta → delta2").
 * `undefined` when no folder maps.
 */
function foldersChanged(before: readonly WorkspaceRoot[], now: readonly WorkspaceRoot[]): NonNullable<ChangeContext['folders']> | undefined {
  try {
    const mapping = mapFolders(before, now);
    const moved = mapping.pairs
      // by identity, or by name where the point's folder is gone from its place
      .filter((p) => p.by === 'moved' || (p.places !== undefined && isGone(p.places.point)))
      .map((p) => {
        const was = before.find((r) => r.name === p.point)!;
        const is = now.find((r) => r.name === p.workspace)!;
        return was.name === is.name ? `${was.path} \u2192 ${is.path}` : `${was.name} \u2192 ${is.name}`;
      });
    return { added: mapping.uncovered, removed: mapping.unmapped, ...(moved.length > 0 ? { moved } : {}) };
  } catch {
    return undefined;
  }
}
