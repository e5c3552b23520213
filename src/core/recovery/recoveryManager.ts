import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import { diffTrees, isNowTracked, isRestoreTempName, isUntracked, lookupEntry, pairRenames, trackingCounts, type FileChange, type KnownFile, type RenamedFile, type TreeDiff } from '../capture';
import { currentFileHash } from '../history/fileHistory';
import { describeCause, shortPath, StateError } from '../errors';
import { Metrics } from '../metrics';
import { emptyContextState, MAX_UNTRACKED_WRITES, pointIdSchema, type ContextSnapshot, type ContextState, type LastRestore, type PointSummary, type WorkspaceRoot } from '../schemas';
import { removeStaleDocumentTemporaries } from '../documents';
import { removeStaleLockLeftovers, type Hold } from '../lock/storeLock';
import { FIRST_POINT_SUMMARY, restoredPointName, safetyPointName, shownFirstPointName, undoChain } from '../pointNames';
import type { GcResult, ObjectReader } from '../objects/objectStore';
import type { PersistenceManager } from '../state/persistenceManager';
import type { StateManager } from '../state/stateManager';
import { claimsAmong, readClaims } from '../state/pointPacks';
import type { KnownTree, SnapshotOptions } from '../state/stateRepository';
import { collectGarbageInProcess } from '../capture/captureProcess';
import { headsMovedSince, type MovedHead } from '../capture/gitHead';
import { collectReachable, findMissing } from './reachability';
import { isShownAgainstAnother, pointBase, pointBases } from './pointBase';
import { collectInSlices, type CollectionStart, type UnderLock } from './collection';
import { LARGE_PAIR_CHANGES } from './changeIndex';
import {
  applyRestore,
  checkPlanOnDisk,
  ignoredAfterRestore,
  untrackedAdditions,
  insideStore,
  leftOutByPoint,
  lostContent,
  damagedContent,
  withKeptContent,
  madeByRestore,
  onDiskWhenPointWasMade,
  onlyPaths,
  planRestore,
  unreadableInPlan,
  unwritableInPlan,
  withoutInnerFolders,
  withoutPaths,
  withoutWhatIsInTheWay,
  type DiskStamp,
  type RestoreOutcome,
  type RestorePlan,
} from './restorePlan';
import { absolutePath, isUnder } from './workspacePaths';
import { filtersInWorkspace, folderId, foldersStillElsewhere, inFoldersOf, isFolder, inOwnFolder, isIdentity, mapPoint, toPointFolderPath, type FolderMapping, type MappedPoint } from './folderMapping';
import { applySizeLimit, decideRetention, DEFAULT_RETENTION, isPinned, type RetentionPolicy } from './retention';
import { plural } from '../format';
import { storeBytesBesidePacks } from '../storeLayout';

export interface RestoreOptions {
  /** Restore only these point paths (files or folders); the whole point when absent. */
  readonly paths?: readonly string[];
  /**
   * Absolute paths the caller vouches are the only ones changed since the newest point (what
   * `createRecoveryPoint` takes as `changedPaths`): the safety point is then captured in hint mode over
   * them plus every path the restore will write or delete. Absent: the safety point is a full scan.
   */
  readonly changedPaths?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (message: string) => void;
  /** This restore undoes the restore of that point (its id): names the safety point and the result after it. */
  readonly undoOf?: string;
  /**
   * Of the planned files, change only these point paths (workspace names): an undo's, the files the
   * undone restore changed. Unlike `paths`, not recorded as the restore's scope.
   */
  readonly within?: ReadonlySet<string>;
  /** An undo's: the only folders (point paths) it removes when its deletions leave them empty, those the undone restore created. */
  readonly prunable?: ReadonlySet<string>;
  /** An undo's: the identities of the undone restore's folders (`LastRestore.folderIds`), so a folder moved since is followed (`mapFolders`). */
  readonly folderIds?: Readonly<Record<string, string>>;
  /** An undo's: the files the undone restore created that no point holds (`LastRestore.untrackedWrites`), deleted while they hold what it wrote. */
  readonly untrackedToRemove?: LastRestore['untrackedWrites'];
}

export interface RestoreResult {
  /** The ContextState the restored point captured (its editor session, its data). */
  readonly state: ContextState;
  readonly point: PointSummary;
  readonly safetyPointId: string;
  /** The point of the workspace as the restore left it (`undefined`: nothing changed, or it could not be made; see the log). */
  readonly restoredPointId: string | undefined;
  /** How the safety point was captured: over the hinted and planned paths, or by a full scan. */
  readonly safetyCapture: 'hint' | 'full';
  readonly plan: RestorePlan;
  readonly outcome: RestoreOutcome;
  /** How the point's folders met the workspace's (plan and outcome paths use the workspace's names). */
  readonly folders: FolderMapping;
  /** An undo of a restore that was itself an undo: the files go back to what the restore before it wrote. */
  readonly redo?: true;
  /** For an undo: the point whose restore it undid (`null`: no longer kept). */
  readonly undid?: PointSummary | null;
  /** For an undo: the files it wrote or deleted that had been changed since that restore (the changes are in its safety point). */
  readonly replacedEdits?: readonly string[];
}

/** What a restore would change (paths in the workspace's folder names), and how the point's folders map onto the workspace's. */
export interface RestorePreview extends RestorePlan {
  readonly folders: FolderMapping;
  /** Files the point holds that the restore will leave as they are, with why (something not tracked is in their way); not in the plan. */
  readonly leftAlone: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  /** Workspace folders whose repository is on another branch than when the point was made: the restore changes their files, not the branch. */
  readonly headsMoved: readonly MovedHead[];
}

/** The progress message just before the files to overwrite or delete are compared with the safety point. */
export const CHECKING_MESSAGE = 'Checking the files to restore';
/** Saves of the change index after reads added to it are at least this far apart (it is also saved after a clean-up and on close). */
const CHANGE_INDEX_SAVE_MS = 30_000;
/** More paths than this to look at make the safety point a full scan. */
const MAX_HINTED_PATHS = 5_000;

export interface CleanupReport {
  readonly removedPoints: number;
  readonly reasons: Record<string, number>;
  readonly removedObjects: number;
  readonly freedBytes: number;
  /** Packs merged into one by the collection's repack (0: none rewritten). */
  readonly mergedPacks: number;
  /** Objects recompressed from the fast codec while repacking. */
  readonly recompressed: number;
}

export interface VerifyReport {
  readonly objectsChecked: number;
  readonly pointsChecked: number;
  readonly brokenObjects: ReadonlyArray<{ pack: string; hash?: string; problem: string }>;
  /** `restorable`: only some files' content is lost; the point stays listed (a repair keeps it) and restores its other files. */
  readonly brokenPoints: ReadonlyArray<{ id: string; problems: string[]; restorable?: boolean }>;
  readonly stateProblem: string | null;
  readonly repaired: { readonly objectsSaved: number; readonly pointsQuarantined: number; readonly pointsKept: number; readonly stateRecovered: boolean } | null;
  readonly ok: boolean;
  /** Whether a repair would change anything (damaged objects, a point it cannot list, the state file). */
  readonly needsRepair: boolean;
}

export interface StoreStats {
  readonly points: number;
  /** Points a person labelled, which clean-up keeps (an agent's turn labels are thinned like any point: not counted). */
  readonly labelledPoints: number;
  readonly newestPointId: string | null;
  readonly objects: number;
  readonly blobs: number;
  readonly trees: number;
  readonly packs: number;
  readonly storedBytes: number;
  readonly diskBytes: number;
  /** What the whole store folder takes: the packs and everything beside them (manifests, caches, logs, temporary files). */
  readonly totalDiskBytes: number;
  /** Sum over points of the size of the files each captured: what full copies would take. */
  readonly logicalBytes: number;
  /** logicalBytes / storedBytes. */
  readonly dedupRatio: number;
  readonly timings: ReturnType<Metrics['snapshot']>;
}

/**
 * Creates, restores, lists and cleans up recovery points (the spec's RecoveryManager). Every restore
 * first creates a safety point of the workspace, and records it so "undo" can restore it.
 */
export class RecoveryManager {
  readonly metrics: Metrics;
  private readonly retention: RetentionPolicy;
  private readonly stateManager: StateManager | undefined;
  private lastIndexSave = 0;
  /** The clean-up or collection running in this process, if any. */
  private collecting: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly persistence: PersistenceManager,
    maxRecoveryPoints = DEFAULT_RETENTION.maxRecoveryPoints,
    options: { retention?: Partial<RetentionPolicy>; stateManager?: StateManager; metrics?: Metrics } = {},
  ) {
    this.retention = { ...DEFAULT_RETENTION, ...options.retention, maxRecoveryPoints };
    this.stateManager = options.stateManager;
    this.metrics = options.metrics ?? new Metrics();
  }

  get retentionPolicy(): RetentionPolicy {
    return this.retention;
  }

  configureRetention(change: Partial<RetentionPolicy>): void {
    Object.assign(this.retention, change);
  }

  /** Creates a point of the workspace and `state`; `undefined` when `skipIfUnchanged` and nothing changed. */
  async createRecoveryPoint(state?: ContextState, options: SnapshotOptions = {}): Promise<ContextSnapshot | undefined> {
    return this.metrics.time(`create (${options.changedPaths ? 'hint' : 'full'})`, () =>
      this.persistence.lock.run(async (hold) => {
        const captured = state ?? (await this.currentState(hold));
        const snapshot = await this.persistence.createSnapshot(captured, options, hold);
        if (snapshot) this.stateManager?.noteNewestPoint(snapshot.id);
        return snapshot;
      }),
    );
  }

  /** The spec's recover: restores the whole point (or `paths` of it) and returns the state it captured. */
  async recoverFromSnapshot(snapshotId: string, options: RestoreOptions = {}): Promise<ContextState> {
    return (await this.restore(snapshotId, options)).state;
  }

  /** Restores one file (or folder) of a point. */
  async restoreFile(snapshotId: string, pointPath: string, options: Omit<RestoreOptions, 'paths'> = {}): Promise<RestoreResult> {
    return this.restore(snapshotId, { ...options, paths: [pointPath] });
  }

  /** Restores a point (or `options.paths` of it); `within`: the caller's hold of the store lock. */
  async restore(snapshotId: string, options: RestoreOptions = {}, within?: Hold): Promise<RestoreResult> {
    return this.metrics.time(`restore (${options.changedPaths ? 'hint' : 'full'})`, () =>
      this.persistence.lock.run(async (hold) => {
        const target = await this.persistence.requireSnapshot(snapshotId);
        // `null`: an undo of a point no longer listed
        const undoOf = options.undoOf === undefined ? undefined : ((await this.persistence.listSnapshots({ hold })).find((p) => p.id === options.undoOf) ?? null);
        const { objects, cache } = await this.persistence.open();
        // a folder lost to damage leaves the point's file list unknown; a file's lost content leaves that file alone (below)
        const missing = await findMissing(objects, target.root, new Map(), objects.completeTrees, true);
        if (missing.length > 0) throw StateError.snapshotLoad(`Recovery point ${snapshotId} cannot be restored: ${missing[0]}. Run "Verify Store".`);
        const roots = this.persistence.workspaceRoots;
        // The point seen under the workspace's folder names, so every step below works in those names.
        const mapped = await mapPoint(objects, target, roots, options.folderIds);
        const scope = options.paths ? filtersInWorkspace(mapped.mapping, roots, options.paths) : undefined;
        const untracked = await untrackedRemovals(roots, options.untrackedToRemove);
        const planAgainst = async (current: string) => withRemovals(await planFor(roots, mapped, current, scope, options.within), untracked.removals);
        options.onProgress?.('Creating a safety point of the current files');
        const hint = options.changedPaths ? await this.safetyHint(mapped, scope, options.changedPaths, hold) : undefined;
        let safety = await this.safetyPoint(target, hint, undoOf, hold);
        let plan = await planAgainst(safety.snapshot.root);
        options.onProgress?.(CHECKING_MESSAGE);
        let check = await checkPlanOnDisk(roots, plan, cache, options.signal);
        if (check.changed.length > 0) {
          // The plan was made against files that have changed since (a hint that missed a change, or an
          // edit while the safety point was made): capture everything and plan again.
          this.persistence.logger.warn(`${plural(check.changed.length, 'file')} to restore changed while the safety point was made (${check.changed[0]}); making a full safety point.`);
          options.onProgress?.('Creating a safety point of the current files');
          safety = await this.safetyPoint(target, undefined, undoOf, hold);
          plan = await planAgainst(safety.snapshot.root);
          options.onProgress?.(CHECKING_MESSAGE);
          check = await checkPlanOnDisk(roots, plan, cache, options.signal);
        }
        const safetyId = safety.snapshot.id;
        const paths = scope ? [...scope] : null;
        // Recorded before any file changes, so that a restore that fails part way can still be undone.
        const lastRestore: LastRestore = { restoredPointId: target.id, safetyPointId: safetyId, at: new Date().toISOString(), paths, ...realPathsOf(roots), ...folderIdsOf(roots) };
        // a restore that turns out to change nothing gives the undo back to the restore before it (an agent's retried call, a second click)
        const previousRestore = this.stateManager ? (await this.currentState(hold)).lastRestore : null;
        await this.stateManager?.updateState({ lastRestore, newestPointId: safetyId }, hold);
        // content that is damaged would stop the restore part way: read and checked before any file changes (and kept for the writes, up to a bound)
        const preread = new Map<string, Buffer>();
        const damaged = await damagedContent(objects, plan, options.signal, preread);
        options.onProgress?.(`Restoring ${plan.add.length + plan.modify.length + plan.remove.length} files`);
        // Files still changing are left as they are: their current bytes are in no point. So are files that could not be checked.
        const lost = [...lostContent(objects, plan), ...damaged];
        const ignored = withoutRepeats([
          ...(await this.ignoredAfter(objects, plan)),
          ...leftOutByPoint(target, plan, (p) => toPointFolderPath(mapped.mapping, p)),
          ...(await this.onDiskWhenMade(objects, plan, target, mapped.mapping)),
          ...insideStore(roots, plan, this.persistence.layout.root),
        ]).filter((left) => !untracked.paths.has(left.path));
        // the files it creates that no point after it will hold: recorded, so that its undo deletes them
        const untrackedAdds = await untrackedAdditions(objects, roots, plan, this.persistence.captureRules, { neverCapture: [this.persistence.layout.root], logger: this.persistence.logger });
        const settled = new Set([...check.changed, ...check.unreadable.map((u) => u.path), ...lost.map((l) => l.path), ...ignored.map((i) => i.path)]);
        ignored.push(...unwritableInPlan(roots, plan).filter((u) => !settled.has(u.path)));
        const unsettled = new Set([...check.changed, ...check.unreadable.map((u) => u.path), ...lost.map((l) => l.path), ...ignored.map((i) => i.path)]);
        const writable = unsettled.size === 0 ? plan : withoutPaths(plan, unsettled);
        this.persistence.noteRestoreWrites(safetyId, planPaths(roots, writable));
        let outcome: RestoreOutcome;
        // what the result point takes without reading the files again: the point's own hashes
        const written = new Map<string, KnownFile>();
        const onWritten = (pointPath: string, hash: string, stamp: DiskStamp) => {
          const file = absolutePath(roots, pointPath);
          if (file !== undefined) written.set(file, { stamp, hash });
        };
        const createdFolders: string[] = [];
        // kept for the undo of a restore that adds files, which removes these folders and no others once they
        // are empty again; until it is written (a restore killed part way, a full disk) the undo removes every
        // folder its deletions leave empty, as before
        const recordCreatedFolders = () => {
          if (writable.add.length === 0 && createdFolders.length === 0) return undefined;
          const untrackedWrites = untrackedAdds
            .filter((c) => written.has(absolutePath(roots, c.path)!))
            .slice(0, MAX_UNTRACKED_WRITES)
            .map((c) => ({ path: c.path, hash: c.after!.hash, size: c.after!.size, mode: c.after!.mode }));
          return this.stateManager?.updateState({ lastRestore: { ...lastRestore, createdFolders, ...(untrackedWrites.length > 0 ? { untrackedWrites } : {}) } }, hold);
        };
        try {
          // the safety point's folders carry where each really was: a folder replaced since is refused
          outcome = await applyRestore(withKeptContent(objects, preread), safety.snapshot.roots, writable, {
            signal: options.signal,
            expected: check.stamps,
            onWritten,
            onFolderCreated: (folder) => createdFolders.push(folder),
            prunable: options.prunable,
          });
        } catch (error) {
          await Promise.resolve(recordCreatedFolders()).catch(() => undefined);
          await this.persistence.audit
            .append({ action: 'restore', pointId: target.id, details: { safetyPointId: safetyId, safety: safety.capture, failed: describeCause(error), paths } })
            .catch(() => undefined);
          // the files changed before the failure stay changed: say so, and how to put them back
          const partWay = `The restore stopped part way${written.size > 0 ? `, after writing ${plural(written.size, 'file')}` : ''}: Undo Last Restore (recovery-points undo) puts back every file it changed (safety point ${safetyId}).`;
          if (isAbort(error)) throw StateError.invalidState(`The restore was stopped${written.size > 0 ? ` after writing ${plural(written.size, 'file')}` : ''}: Undo Last Restore (recovery-points undo) puts back every file it changed (safety point ${safetyId}).`, error);
          throw error instanceof StateError ? new StateError(error.kind, `${error.message.replace(/\.?$/, '.')} ${partWay}`, error.cause ?? error) : StateError.io(`${describeCause(error)}. ${partWay}`, error);
        }
        for (const changed of check.changed) outcome.skipped.push({ path: changed, reason: 'it kept changing on disk while the restore was being prepared; left as it is' });
        for (const skipped of check.unreadable) outcome.skipped.push(skipped);
        for (const skipped of lost) outcome.skipped.push(skipped);
        for (const skipped of ignored) outcome.skipped.push(skipped);
        for (const skipped of untracked.left) outcome.skipped.push(skipped);
        for (const folder of mapped.mapping.unmapped) {
          if (!options.paths || options.paths.some((filter) => isUnder(filter, folder))) outcome.skipped.push({ path: folder, reason: FOLDER_LEFT_OUT });
        }
        // an undo of it reads what it changed from the point of its result, which a restore that changed nothing does not make
        if (outcome.written.length + outcome.removed.length === 0) await this.stateManager?.updateState({ lastRestore: previousRestore ?? { ...lastRestore, nothingChanged: true } }, hold);
        else await recordCreatedFolders();
        await this.persistence.recordDone({
          action: 'restore',
          pointId: target.id,
          details: { safetyPointId: safetyId, safety: safety.capture, written: outcome.written.length, removed: outcome.removed.length, skipped: outcome.skipped.length, paths },
        });
        // every change of the plan carried out over the whole workspace: the files are the restored point's
        const exact =
          scope === undefined &&
          options.within === undefined &&
          isIdentity(mapped.mapping) &&
          outcome.skipped.length === 0 &&
          outcome.written.length === plan.add.length + plan.modify.length &&
          outcome.removed.length === plan.remove.length;
        const knownTree = exact && target.rules !== undefined ? { parentId: safetyId, root: target.root, fileCount: target.fileCount, totalSize: target.totalSize, rules: target.rules, changes: { added: [...plan.add], modified: [...plan.modify], deleted: [...plan.remove] } } : undefined;
        const restoredPointId = await this.restoredPoint(target, mapped.root, plan, outcome, undoOf, written, scope, knownTree, hold);
        return { state: target.state, point: target, safetyPointId: safetyId, restoredPointId, safetyCapture: safety.capture, plan, outcome, folders: mapped.mapping, ...(undoOf !== undefined ? { undid: undoOf } : {}), ...(undoOf !== undefined && undoChain(target)?.redo ? { redo: true as const } : {}) };
      }, { within }),
    );
  }

  /**
   * The paths a hint-mode safety point must look at: the caller's changes since the newest point, and
   * every path where the newest point and the target differ (within `paths`). The workspace differs
   * from the newest point only at the caller's paths, so every path the plan will write or delete is
   * among these, and its current bytes are read into the safety point. `undefined`: scan everything.
   */
  private async safetyHint(target: MappedPoint, paths: readonly string[] | undefined, changedPaths: readonly string[], hold: Hold): Promise<string[] | undefined> {
    const newest = (await this.persistence.listSnapshots({ hold }))[0];
    // A newest point of other folders is no base for a hint (the capture scans everything then anyway).
    if (!newest || !sameFolders(newest, this.persistence.workspaceRoots)) return undefined;
    const diff = await diffTrees(target.objects, await target.covered(newest.root), target.root);
    const planned = [...diff.added, ...diff.modified, ...diff.deleted].filter((change) => !paths || paths.some((filter) => isUnder(change.path, filter)));
    if (planned.length + changedPaths.length > MAX_HINTED_PATHS) return undefined;
    const roots = this.persistence.workspaceRoots;
    const hint = [...changedPaths];
    for (const change of planned) {
      const file = absolutePath(roots, change.path);
      if (file !== undefined) hint.push(file);
    }
    return hint;
  }

  /**
   * Records the workspace as the restore left it, as a point of its own, so that later points describe
   * only what happened after it. Its capture looks at the paths of the plan (on top of the safety point,
   * which holds everything else); the files the restore wrote (`written`) take the point's own hashes,
   * without being read again, while their stat is the one the write left; the folders it rebuilds take
   * the restored point's trees (`restoredRoot`, seen under the workspace's folder names) where their
   * entries are the same, without being encoded again. A failure is logged, not thrown: the files are
   * restored.
   */
  private async restoredPoint(
    target: ContextSnapshot,
    restoredRoot: string,
    plan: RestorePlan,
    outcome: RestoreOutcome,
    undoOf: PointSummary | null | undefined,
    written: ReadonlyMap<string, KnownFile>,
    asked: readonly string[] | undefined,
    knownTree: KnownTree | undefined,
    hold: Hold,
  ): Promise<string | undefined> {
    const files = outcome.written.length + outcome.removed.length;
    if (files === 0) return undefined;
    try {
      const point = await this.persistence.createSnapshot(await this.currentState(hold), {
        trigger: 'restore',
        summary: restoredPointName(target, files, undoOf, asked ? { written: outcome.written, removed: outcome.removed, asked } : undefined).slice(0, 500),
        changedPaths: planPaths(this.persistence.workspaceRoots, plan),
        knownFiles: written,
        likelyRoot: restoredRoot,
        knownTree,
        skipIfUnchanged: true,
      }, hold);
      // like any point: the newest point's id is derived from the listing, so the state file is not written again
      if (point) this.stateManager?.noteNewestPoint(point.id);
      return point?.id;
    } catch (error) {
      this.persistence.logger.warn(`The files are restored, but the point recording them could not be made (${describeCause(error)}); the next point will.`);
      return undefined;
    }
  }

  /** The plan's deletions of files on disk when `point` was made that it did not hold (`onDiskWhenPointWasMade`): left as they are. */
  private onDiskWhenMade(objects: ObjectReader, plan: RestorePlan, point: PointSummary, mapping: FolderMapping): Promise<Array<{ path: string; reason: string }>> {
    // a folder of the point that is not known to be this one (another project's, imported): its reasons say so
    const madeElsewhere = (workspacePath: string) => !inOwnFolder(mapping, workspacePath);
    return onDiskWhenPointWasMade(objects, this.persistence.workspaceRoots, plan, this.persistence.captureRules, point, { neverCapture: [this.persistence.layout.root], logger: this.persistence.logger, madeElsewhere });
  }

  /** The plan's deletions that the `.gitignore` files as the restore leaves them ignore (`ignoredAfterRestore`): left as they are. */
  private ignoredAfter(objects: ObjectReader, plan: RestorePlan): Promise<Array<{ path: string; reason: string }>> {
    return ignoredAfterRestore(objects, this.persistence.workspaceRoots, plan, this.persistence.captureRules, { neverCapture: [this.persistence.layout.root], logger: this.persistence.logger });
  }

  /** Creates the safety point (in hint mode over `hint` when given and the store can use it). */
  private async safetyPoint(target: ContextSnapshot, hint: readonly string[] | undefined, undoOf: PointSummary | null | undefined, hold: Hold): Promise<{ snapshot: ContextSnapshot; capture: 'hint' | 'full' }> {
    let capture: 'hint' | 'full' = 'full';
    const snapshot = await this.persistence.createSnapshot(await this.currentState(hold), {
      trigger: 'before-restore',
      summary: safetyPointName(target, undoOf).slice(0, 500),
      changedPaths: hint,
      deferCompression: true,
      onCaptureMode: (mode) => (capture = mode),
    }, hold);
    return { snapshot: snapshot!, capture };
  }

  /**
   * What restoring would change, without changing anything. With `changedPaths` empty (the caller
   * vouches nothing changed since the newest point) the plan is made against the newest point instead
   * of a scan of the workspace, unless that point is a safety point (a restore changed files since).
   */
  async previewRestore(snapshotId: string, paths?: readonly string[], options: Pick<RestoreOptions, 'changedPaths' | 'within' | 'folderIds' | 'untrackedToRemove'> = {}): Promise<RestorePreview> {
    const target = await this.persistence.requireSnapshot(snapshotId);
    const roots = this.persistence.workspaceRoots;
    const untracked = await untrackedRemovals(roots, options.untrackedToRemove);
    const preview = async (objects: ObjectReader, current: string): Promise<RestorePreview> => {
      const mapped = await mapPoint(objects, target, roots, options.folderIds);
      const scope = paths ? filtersInWorkspace(mapped.mapping, roots, paths) : undefined;
      const planned = withRemovals(await planFor(roots, mapped, current, scope, options.within), untracked.removals);
      const lost = withoutRepeats([
        ...lostContent(objects, planned),
        ...(await damagedContent(objects, planned)),
        ...(await this.ignoredAfter(objects, planned)),
        ...leftOutByPoint(target, planned, (p) => toPointFolderPath(mapped.mapping, p)),
        ...(await this.onDiskWhenMade(objects, planned, target, mapped.mapping)),
        ...insideStore(roots, planned, this.persistence.layout.root),
      ]).filter((left) => !untracked.paths.has(left.path));
      lost.push(...untracked.left);
      lost.push(...unreadableInPlan(roots, planned).filter((u) => !lost.some((l) => l.path === u.path)));
      lost.push(...unwritableInPlan(roots, planned).filter((u) => !lost.some((l) => l.path === u.path)));
      const { plan, leftAlone } = withoutWhatIsInTheWay(roots, lost.length === 0 ? planned : withoutPaths(planned, new Set(lost.map((l) => l.path))));
      leftAlone.push(...lost);
      return { ...plan, leftAlone, folders: mapped.mapping, headsMoved: headsMovedSince(target.roots, mapped.mapping.pairs, roots) };
    };
    if (options.changedPaths?.length === 0 && this.persistence.rootsAsBefore()) {
      const newest = (await this.persistence.listSnapshots())[0];
      if (newest && sameFolders(newest, roots) && newest.trigger !== 'before-restore') return preview(await this.persistence.objects(), newest.root);
    }
    return this.persistence.withCurrentTree(preview);
  }

  /** How a point's folders map onto the workspace's (InvalidState when none does). */
  async folderMapping(snapshotId: string): Promise<FolderMapping> {
    const point = await this.persistence.requireSnapshot(snapshotId);
    return (await mapPoint(await this.persistence.objects(), point, this.persistence.workspaceRoots)).mapping;
  }

  /**
   * Restores the safety point of the last restore over the files that restore changed, so files edited
   * since that it never touched keep their edits (the undo's own safety point keeps every file).
   */
  async undoLastRestore(options: Omit<RestoreOptions, 'paths' | 'within' | 'undoOf' | 'prunable' | 'folderIds' | 'untrackedToRemove'> = {}): Promise<RestoreResult> {
    return this.persistence.lock.run(async (hold) => {
      const state = await this.currentState(hold);
      const last = state.lastRestore;
      if (!last) throw StateError.invalidState('There is no restore to undo.');
      const result = await this.restore(last.safetyPointId, { ...options, ...(await this.undoScope(last, hold)) }, hold);
      const replacedEdits = await this.replacedSinceRestore(last, result, hold);
      return replacedEdits.length > 0 ? { ...result, replacedEdits } : result;
    });
  }

  /**
   * Of the files an undo wrote or deleted, those its own safety point holds otherwise than the point of
   * the undone restore's result: changes made since that restore, read from the two trees (the safety
   * point read the files already).
   */
  private async replacedSinceRestore(last: LastRestore, undo: RestoreResult, hold: Hold): Promise<string[]> {
    const touched = [...undo.outcome.written, ...undo.outcome.removed];
    if (touched.length === 0) return [];
    const points = await this.persistence.listSnapshots({ hold });
    const restored = points.find((p) => p.parentId === last.safetyPointId && p.trigger === 'restore');
    const before = points.find((p) => p.id === undo.safetyPointId);
    const roots = this.persistence.workspaceRoots;
    if (!restored || !before || !sameFolders(before, roots)) return [];
    const left = await this.seenFromWorkspace(await this.persistence.objects(), restored, last);
    if (!left) return [];
    const diff = await diffTrees(left.objects, left.root, before.root);
    const changed = new Set([...diff.added, ...diff.modified, ...diff.deleted].map((c) => c.path));
    return touched.filter((p) => changed.has(p));
  }

  /**
   * Of `paths` (workspace point paths an undo of `last` would write or delete), those changed since
   * that restore left them: on disk now otherwise than in the point of its result. The undo replaces
   * such edits (its own safety point keeps them). Empty when that point is not there to tell.
   */
  async editedSinceRestore(last: LastRestore, paths: readonly string[]): Promise<string[]> {
    if (paths.length === 0) return [];
    const roots = this.persistence.workspaceRoots;
    const points = await this.persistence.listSnapshots();
    const result = points.find((p) => p.parentId === last.safetyPointId && p.trigger === 'restore');
    const mapped = result && (await this.seenFromWorkspace(await this.persistence.objects(), result, last));
    if (!mapped) return [];
    const edited: string[] = [];
    // a file it created that no point holds: the undo deletes it only while it holds what the restore wrote
    const untracked = new Set(last.untrackedWrites?.map((w) => w.path));
    for (const pointPath of paths) {
      if (untracked.has(pointPath)) continue;
      const left = await lookupEntry(mapped.objects, mapped.root, pointPath).catch(() => undefined);
      const now = await currentFileHash(roots, pointPath).catch(() => undefined);
      if (now === undefined) continue; // cannot be read: the restore leaves it and says so
      if ((left?.kind === 'd' ? null : (left?.hash ?? null)) !== now) edited.push(pointPath);
    }
    return edited;
  }

  /**
   * A restore (or undo) that was killed while it wrote files, as the newest point shows it: that point
   * added the temporary files only a restore writes (`isRestoreTempName`). `safety`: the newest safety
   * point before it, which holds the files as they were before that restore; `leftovers`: the
   * temporary files. `undefined` when the newest point shows none.
   */
  async interruptedRestore(): Promise<{ readonly safety: PointSummary | undefined; readonly leftovers: readonly string[] } | undefined> {
    const points = await this.persistence.listSnapshots();
    const newest = points[0];
    if (!newest || newest.changes.added === 0) return undefined;
    const changes = await this.changedFiles(newest.id, points);
    const leftovers = changes.added.map((c) => c.path).filter((p) => isRestoreTempName(p.slice(p.lastIndexOf('/') + 1)));
    if (leftovers.length === 0) return undefined;
    return { safety: points.find((p) => p.trigger === 'before-restore'), leftovers };
  }

  /** What Undo Last Restore would change, without changing anything: its safety point's preview within the undo's scope, and the point whose restore it undoes. */
  async previewUndo(): Promise<RestorePreview & { safetyPointId: string; safety: PointSummary; undid: PointSummary | null; editedSince: string[] }> {
    const { last, scope, points } = await this.persistence.lock.run(async (hold) => {
      const last = (await this.currentState(hold)).lastRestore;
      if (!last) throw StateError.invalidState('There is no restore to undo.');
      return { last, scope: await this.undoScope(last, hold), points: await this.persistence.listSnapshots({ hold }) };
    });
    if (!points.some((p) => p.id === last.safetyPointId)) throw StateError.invalidState('The safety point of the last restore no longer exists.');
    const preview = await this.previewRestore(last.safetyPointId, scope.paths, { within: scope.within, folderIds: scope.folderIds, untrackedToRemove: scope.untrackedToRemove });
    const editedSince = await this.editedSinceRestore(last, [...preview.add, ...preview.modify, ...preview.remove].map((c) => c.path));
    return { ...preview, safetyPointId: last.safetyPointId, safety: points.find((p) => p.id === last.safetyPointId)!, undid: points.find((p) => p.id === scope.undoOf) ?? null, editedSince };
  }

  /**
   * What an undo of `last` restores from its safety point: the restore's paths, and within them the
   * files it changed: none when it changed nothing; else where its safety point and the point of its
   * result differ and that point holds what the restored point does (`madeByRestore`); when that point
   * is not there (the restore failed part way, the point was deleted), the files it planned to change
   * (for a restore that was itself an undo, more than it changed).
   */
  async undoScope(last: LastRestore, hold?: Hold): Promise<Pick<RestoreOptions, 'paths' | 'within' | 'undoOf' | 'prunable' | 'folderIds' | 'untrackedToRemove'>> {
    const scope = { paths: last.paths ?? undefined, undoOf: last.restoredPointId, prunable: last.createdFolders && new Set(last.createdFolders), folderIds: last.folderIds, untrackedToRemove: last.untrackedWrites };
    if (last.nothingChanged) return { ...scope, within: new Set() };
    const points = await this.persistence.listSnapshots({ hold });
    const safety = points.find((p) => p.id === last.safetyPointId);
    const roots = this.persistence.workspaceRoots;
    if (safety && !sameFolders(safety, roots)) {
      // a folder moved or renamed since takes its undo along; one still there is where the undo belongs
      const elsewhere = foldersStillElsewhere(safety, roots, last.realPaths, last.folderIds)[0];
      // the last restore was itself an undo when the point it restored is a safety point
      const lastKind = points.find((p) => p.id === last.restoredPointId)?.trigger === 'before-restore' ? 'The last undo' : 'The last restore';
      if (elsewhere?.workspace !== undefined) {
        throw StateError.invalidState(
          elsewhere.moved
            ? `${lastKind} was made in ${shortPath(elsewhere.point)}, which was moved or removed since, and this workspace's ${shortPath(elsewhere.workspace)} is another folder (a copy?): undo it where that folder is now. To put the files it replaced here instead, restore its safety point ${safety.id} (look at what it would change first).`
            : `${lastKind} was made in ${shortPath(elsewhere.point)}, which is still there, not in this workspace's ${shortPath(elsewhere.workspace)}: undo it there. To put the files it replaced here instead, restore its safety point ${safety.id} (look at what it would change first).`,
        );
      }
      if (elsewhere) {
        throw StateError.invalidState(
          `${lastKind} also changed ${shortPath(elsewhere.point)}, which is still there but not a folder of this workspace: undo it in a workspace with all its folders (${safety.roots.map((r) => shortPath(r.path)).join(', ')}), or it would be undone only in part.`,
        );
      }
    }
    if (!safety) return scope;
    // the points seen in the workspace's folders as they are now, one overlay reading them all
    let objects: ObjectReader = await this.persistence.objects();
    const inWorkspace = async (point: PointSummary): Promise<MappedPoint | undefined> => {
      const mapped = await this.seenFromWorkspace(objects, point, last);
      if (mapped) objects = mapped.objects;
      return mapped;
    };
    const from = await inWorkspace(safety);
    if (!from) return scope;
    const result = points.find((p) => p.parentId === safety.id && p.trigger === 'restore');
    const to = result && (await inWorkspace(result));
    const targetPoint = points.find((p) => p.id === last.restoredPointId);
    const target = targetPoint && (await inWorkspace(targetPoint));
    if (to) {
      const changed = await diffTrees(objects, from.root, to.root);
      const paths = changed.added.concat(changed.modified, changed.deleted).map((c) => c.path);
      return { ...scope, within: new Set(target ? await madeByRestore({ ...target, objects }, objects, to.root, paths) : paths) };
    }
    if (!target) return scope;
    const plan = await planFor(roots, { ...target, objects }, from.root, scope.paths && filtersInWorkspace(target.mapping, roots, scope.paths), undefined);
    return { ...scope, within: new Set(plan.add.concat(plan.modify, plan.remove).map((c) => c.path)) };
  }

  /**
   * `point` seen in the workspace's folders as they are now, renamed or (the folders of `last`, the
   * restore an undo undoes) moved since; `undefined` when none of its folders is in the workspace.
   */
  private async seenFromWorkspace(objects: ObjectReader, point: PointSummary, last: LastRestore): Promise<MappedPoint | undefined> {
    return mapPoint(objects, point, this.persistence.workspaceRoots, last.folderIds).catch((error: unknown) => {
      if (error instanceof StateError) return undefined;
      throw error;
    });
  }

  async listRecoveryPoints(): Promise<PointSummary[]> {
    return this.metrics.time('list', () => this.persistence.listSnapshots());
  }

  /**
   * The points as people are shown them, newest first: a point shown against another point than the one
   * it was made after (`pointBase`: its parent was cleaned up, or it began a history that a moved folder's
   * or a bundle's points were added below) has the counts of that change, and a first point the name of
   * what it changed since. Every other point is the listed summary itself, and so is a point whose trees
   * cannot be compared (a damaged store: logged, and listed all the same). `listed`: the points just listed.
   */
  async listShownPoints(listed?: readonly PointSummary[]): Promise<PointSummary[]> {
    const points = listed ?? (await this.listRecoveryPoints());
    const bases = pointBases(points);
    const shown: PointSummary[] = [];
    for (const point of points) {
      shown.push(
        await this.shownPoint(point, bases.get(point.id)).catch((error: unknown) => {
          this.persistence.logger.warn(`Point ${point.id} is shown with the counts it was made with: its change could not be read (${describeCause(error)}).`);
          return point;
        }),
      );
    }
    return shown;
  }

  /** One point as `listShownPoints` shows it; `base`: its `pointBase`; `change`: its change against that, when the caller has it (`changedFiles`). */
  async shownPoint(point: PointSummary, base: PointSummary | undefined, change?: TreeDiff): Promise<PointSummary> {
    // a point made before the counts kept its files that stopped or began being tracked has them counted from its change
    const uncounted = (point.untracked || point.nowTracked) && point.changes.untracked === undefined && point.changes.nowTracked === undefined;
    if (!isShownAgainstAnother(point, base) && !uncounted) return point;
    const diff = change ?? (await this.diffPoints(base, point));
    const changes = { added: diff.added.length, modified: diff.modified.length, deleted: diff.deleted.length, ...trackingCounts(diff, point) };
    const summary = point.parentId === null && base && point.summary === FIRST_POINT_SUMMARY ? shownFirstPointName(point, base, diff, isFolder) : point.summary;
    return { ...point, changes, summary };
  }

  /**
   * Files a point changed (what the tree view lists under a point): against `pointBase`, its parent
   * while that is listed. `listed`: points the caller just listed, so going through many points does not
   * list them again for each (the store is listed again when the point or its parent is not there).
   * `many`: the caller asks for many points' changes, so the change index is read once for them all
   * (without it, a point asked for alone may be compared from its trees: `diffPoints`).
   */
  async changedFiles(snapshotId: string, listed?: readonly PointSummary[], options: { many?: boolean } = {}): Promise<TreeDiff> {
    const find = (points: readonly PointSummary[], id: string) => points.find((p) => p.id === id);
    let points = listed ?? (await this.persistence.listSnapshots());
    let point = find(points, snapshotId);
    if (listed && (!point || (point.parentId && !find(points, point.parentId)))) {
      points = await this.persistence.listSnapshots();
      point = find(points, snapshotId);
    }
    if (!point) throw StateError.snapshotNotFound(snapshotId);
    const base = pointBase(points, point);
    return this.diffPoints(base, point, options.many ? undefined : changeCountAgainst(base, point));
  }

  /**
   * What changed from `older` (nothing when absent) to `newer`, in `newer`'s folder names (a renamed
   * folder is not every file deleted and added). `expected`: how many changes the pair holds, when
   * known and the caller asks for this pair alone. The change index holds every listed pair, and its
   * main document grows with every point: while nothing in this process has read it, a pair asked for
   * alone is read from its own document when large, and compared from its trees when that costs less
   * than reading the document.
   */
  private async diffPoints(older: Pick<PointSummary, 'root' | 'roots'> | undefined, newer: Pick<PointSummary, 'root' | 'roots'>, expected?: number): Promise<TreeDiff> {
    if (expected !== undefined && !this.persistence.loadedChangeIndex()) {
      const objects = await this.persistence.objects();
      const before = older ? await inFoldersOf(objects, older, newer) : { objects, root: null };
      if (expected >= LARGE_PAIR_CHANGES) {
        const saved = await this.persistence.largeChangePair(before.root, newer.root);
        if (saved) return saved;
      } else if (this.persistence.changeIndexCostsMoreThanComparing(expected)) {
        return diffTrees(before.objects, before.root, newer.root);
      }
    }
    const [objects, index] = await Promise.all([this.persistence.objects(), this.persistence.changeIndex()]);
    try {
      if (!older) return await index.changes(objects, null, newer.root);
      const before = await inFoldersOf(objects, older, newer);
      return await index.changes(before.objects, before.root, newer.root);
    } finally {
      this.saveChangeIndexSoon();
    }
  }

  /**
   * Brings the change index up to the listed points: drops the pairs of points no longer listed, adds
   * each point's changes against the one before it and the oldest's against nothing, and saves it. Run
   * after a clean-up or collection (outside the lock: the index is a cache of what the trees say); a
   * failure is logged, never thrown.
   */
  async refreshChangeIndex(): Promise<void> {
    try {
      const points = await this.persistence.listSnapshots();
      const [objects, index] = await Promise.all([this.persistence.objects(), this.persistence.changeIndex()]);
      index.retain(points);
      await index.complete(objects, points);
      this.lastIndexSave = Date.now();
      await this.persistence.saveChangeIndex();
    } catch (error) {
      this.persistence.logger.warn(`The change index could not be brought up to date (${describeCause(error)}); it is filled in as points are read.`);
    }
  }

  /** Saves the change index in the background after reads added to it, at most every CHANGE_INDEX_SAVE_MS (and when the store closes). */
  saveChangeIndexSoon(): void {
    if (Date.now() - this.lastIndexSave < CHANGE_INDEX_SAVE_MS) return;
    this.lastIndexSave = Date.now();
    void this.persistence.saveChangeIndex();
  }

  /**
   * Differences from point `fromId` to point `toId`, or to the current workspace files when `toId` is
   * absent: then in the workspace's folder names, over the folders the point holds (`folders` says how).
   * Files the older side holds that a later point stopped tracking (still on disk then: ignored,
   * excluded, too large since) are in `untracked`, not deleted, and files a later point began tracking
   * (on disk before it) in `nowTracked`: against the files on disk, as they are now; between two points,
   * as the points between them recorded it (`trackingBetween`). A file deleted at one path and added
   * at another (renamed, moved, its folder renamed; `pairRenames`) stays in both lists and is named in
   * `renamed`, so the comparison can show it as one file.
   */
  async diff(fromId: string, toId?: string): Promise<TreeDiff & Pick<PointSummary, 'untracked' | 'nowTracked'> & { folders?: FolderMapping; renamed?: RenamedFile[] }> {
    const from = await this.persistence.requireSnapshot(fromId);
    if (toId) {
      const to = await this.persistence.requireSnapshot(toId);
      const diff = await this.diffPoints(from, to);
      const tracking = await this.trackingBetween(from, to, diff);
      // a file that only stopped or began being tracked is no half of a move
      return { ...diff, ...tracking, ...renamedIn(diff, tracking) };
    }
    return this.persistence.withCurrentTree(async (objects, current) => {
      const roots = this.persistence.workspaceRoots;
      const mapped = await mapPoint(objects, from, roots);
      const diff = await diffTrees(mapped.objects, mapped.root, await mapped.covered(current));
      const tracking = this.persistence.trackingChanges(from, diff, roots, false);
      return { ...diff, ...tracking, ...renamedIn(diff, tracking), folders: mapped.mapping };
    });
  }

  /**
   * Of two points' differences (`older` to `newer`), the deletions that are no deletion: the newest
   * point after `older` that stopped the file's tracking (its `untracked`) is followed, up to `newer`,
   * by none that holds it again; and the additions that are no creation: the newest that began it
   * (its `nowTracked`) is followed by none without it. Compared newer to older, nothing is marked.
   */
  private async trackingBetween(older: PointSummary, newer: PointSummary, diff: TreeDiff): Promise<Pick<PointSummary, 'untracked' | 'nowTracked'>> {
    if (older.id >= newer.id || diff.deleted.length + diff.added.length === 0) return {};
    const between = (await this.persistence.listSnapshots()).filter((p) => p.id > older.id && p.id <= newer.id);
    if (!between.some((p) => p.untracked || p.nowTracked)) return {};
    between.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const objects = await this.persistence.objects();
    const holds = async (point: PointSummary, path: string) => {
      const entry = await lookupEntry(objects, point.root, path).catch(() => undefined);
      return entry !== undefined && entry.kind !== 'd';
    };
    /** Whether the newest point of `between` that `marks` the path is followed by none where `held` is false. */
    const lastMarked = async (path: string, marks: (p: PointSummary) => boolean, held: boolean) => {
      const at = between.findIndex(marks);
      if (at < 0) return false;
      for (const later of between.slice(0, at)) if ((await holds(later, path)) !== held) return false;
      return true;
    };
    const untracked: string[] = [];
    for (const c of diff.deleted) if (await lastMarked(c.path, (p) => isUntracked(p, c.path), false)) untracked.push(c.path);
    const nowTracked: string[] = [];
    for (const c of diff.added) if (await lastMarked(c.path, (p) => isNowTracked(p, c.path), true)) nowTracked.push(c.path);
    return { ...(untracked.length > 0 ? { untracked } : {}), ...(nowTracked.length > 0 ? { nowTracked } : {}) };
  }

  /**
   * Rotation (thinning, age, count, size; labelled points and the last restore's safety point kept),
   * then garbage collection. The lock is held for the rotation and then only in short slices of the
   * collection (`collectInSlices`), so points are made while it runs.
   */
  async cleanupRecoveryPoints(): Promise<CleanupReport> {
    const report = await this.metrics.time('cleanup', () =>
      this.oneCollectionAtATime(async () => {
        const { remove, reasons, start } = await this.persistence.lock.run((hold) => this.rotateLocked(hold));
        const gc = await this.collectFrom(start, 'auto', (result) => ({ action: 'cleanup', details: { removed: remove.length, ids: remove, reasons, removedObjects: result.removedObjects, freedBytes: result.freedBytes } }));
        return { removedPoints: remove.length, reasons, ...gc };
      }),
    );
    await this.refreshChangeIndex();
    return report;
  }

  /** Which points the retention rules remove, and their removal; then the points and packs a collection starts from. Caller holds the lock. */
  private async rotateLocked(hold: Hold): Promise<{ remove: string[]; reasons: Record<string, number>; start: CollectionStart }> {
    const points = await this.persistence.listSnapshots({ hold });
    const state = await this.currentState(hold);
    const protectedIds = new Set(state.lastRestore ? [state.lastRestore.safetyPointId] : []);
    const decision = decideRetention(points, this.retention, Date.now(), protectedIds);
    const reasons: Record<string, number> = {};
    for (const { reason } of decision.remove) reasons[reason] = (reasons[reason] ?? 0) + 1;
    const keep = new Set(decision.keep);
    const kept = points.filter((p) => keep.has(p.id));
    const objects = await this.persistence.objects();
    const cumulative = new Array<number>(kept.length).fill(0);
    // No point can pass the size limit when every pack together does not: then no tree is read (a
    // first point of 50k files is 5,000 trees, which the object store would keep decoded).
    const limit = this.retention.maxTotalBytes;
    await objects.refresh();
    if (limit > 0 && objects.packBytes() > limit) {
      await collectReachable(objects, kept.map((p) => p.root), (hash, index) => {
        cumulative[index]! += objects.storedSize(hash);
      });
    }
    for (let i = 1; i < cumulative.length; i++) cumulative[i]! += cumulative[i - 1]!;
    const bySize = applySizeLimit(kept, cumulative, limit, protectedIds);
    if (bySize.length > 0) reasons.size = bySize.length;
    const remove = [...decision.remove.map((r) => r.id), ...bySize];
    if (remove.length > 0) await this.persistence.deleteSnapshots(remove, 'cleanup', hold);
    return { remove, reasons, start: await this.collectionStartLocked(hold) };
  }

  async deletePoints(ids: readonly string[]): Promise<number> {
    return this.persistence.lock.run(async (hold) => {
      const removed = await this.persistence.deleteSnapshots(ids, 'delete', hold);
      await this.nameNewestPointInState(hold);
      return removed;
    });
  }

  /**
   * After points left the listing (deleted, quarantined): the state file names the newest point still
   * listed. Compared with the file as written, not with the state as loaded (whose newest point is
   * derived from the listing, so it always looks right): the file may name a point made before newer
   * ones, which no longer exists. Caller holds the lock.
   */
  private async nameNewestPointInState(hold: Hold): Promise<void> {
    const newest = (await this.persistence.listSnapshots({ hold }))[0]?.id ?? null;
    const written = await this.persistence.loadState().catch(() => undefined);
    if (written?.newestPointId !== newest) await this.stateManager?.updateState({ newestPointId: newest }, hold);
  }

  /** Garbage collection; `repack: 'all'` also merges every pack into one (recompressing fast-codec objects). Holds the lock in short slices, as a clean-up does. */
  async collectGarbage(options: { repack?: 'auto' | 'all' } = {}): Promise<GcResult> {
    const result = await this.metrics.time('gc', () =>
      this.oneCollectionAtATime(async () => {
        const start = await this.persistence.lock.run((hold) => this.collectionStartLocked(hold));
        return this.collectFrom(start, options.repack ?? 'auto', (gc) => ({ action: 'gc', details: { ...gc } }));
      }),
    );
    await this.refreshChangeIndex();
    return result;
  }

  /** The listed points' roots and the packs that exist, at one moment. Caller holds the lock. */
  private async collectionStartLocked(hold: Hold): Promise<CollectionStart> {
    const objects = await this.persistence.objects();
    // the collection drops the manifests points' packs hold: first each manifest file is made durable
    await this.persistence.settleManifests();
    await objects.refresh();
    const roots = (await this.persistence.listSnapshots({ hold })).map((p) => p.root);
    // a pack that still claims a point (its manifest file could not be written) holds that point's
    // only manifest: the collection leaves it as it is, and the next one settles it
    const packs = objects.packNames();
    const claiming = new Set([...claimsAmong(packs).values()].map((claim) => claim.pack));
    return { roots, packs: packs.filter((name) => !claiming.has(name)) };
  }

  /**
   * Garbage collection from `start` (a tree that cannot be read aborts it), holding the lock only in
   * slices: in a process of its own when the store has one (repacking recompresses what the points
   * wrote: that memory is not the caller's to keep), otherwise here. The last slice removes stale
   * temporary files and writes the audit entry `audit` makes.
   */
  private async collectFrom(start: CollectionStart, repack: 'auto' | 'all', audit: (result: GcResult) => Parameters<PersistenceManager['recordDone']>[0]): Promise<GcResult> {
    const objects = await this.persistence.objects();
    const underLock: UnderLock = (work) => this.persistence.lock.run(async (hold) => work((await this.persistence.listSnapshots({ hold })).map((p) => p.root)));
    const elsewhere = this.persistence.workProcess;
    const result = elsewhere
      ? await collectGarbageInProcess(elsewhere, { objectsDir: this.persistence.layout.objectsDir, changeIndexFile: this.persistence.layout.changeIndexFile, ...start, repack }, underLock, this.persistence.logger)
      : await collectInSlices(objects, start, underLock, { repack });
    await this.persistence.lock.run(async () => {
      await objects.refresh();
      await objects.removeStaleTemporaries();
      const { root, pointsDir, cacheDir } = this.persistence.layout;
      for (const dir of [root, pointsDir, cacheDir]) await removeStaleDocumentTemporaries(dir);
      await removeStaleLockLeftovers(root);
      await this.persistence.recordDone(audit(result));
    });
    return result;
  }

  /** Resolves once the clean-ups and collections started so far have ended (whether they failed or not). */
  async collectionsDone(): Promise<void> {
    await this.collecting.catch(() => undefined);
  }

  /**
   * Clean-ups and collections run one at a time per store, across processes (the collection lock;
   * were two to overlap, one could read a pack the other removed). Each pack's removal is still
   * checked under the store lock against every listed point.
   */
  private oneCollectionAtATime<T>(work: () => Promise<T>): Promise<T> {
    const mine = this.collecting.catch(() => undefined).then(() => this.persistence.collectionLock.run(work));
    this.collecting = mine;
    return mine;
  }

  /** Checks every object, point and the state file; with `repair`, salvages and quarantines what is broken. */
  async verify(options: { repair?: boolean; onProgress?: (message: string) => void } = {}): Promise<VerifyReport> {
    return this.metrics.time('verify', () => this.persistence.lock.run((hold) => this.verifyLocked(options, hold), { mayWrite: options.repair === true }));
  }

  private async verifyLocked(options: { repair?: boolean; onProgress?: (message: string) => void }, hold: Hold): Promise<VerifyReport> {
    const objects = await this.persistence.objects();
    // a repair moves damaged packs aside by name, with the manifests they may hold: each manifest file made durable first
    if (options.repair) await this.persistence.settleManifests();
    options.onProgress?.('Checking stored objects');
    const brokenObjects = await objects.verifyAll();
    const objectsChecked = objects.stats().objects;
    const brokenHashes = new Set(brokenObjects.flatMap((b) => (b.hash ? [b.hash] : [])));
    let repaired: { objectsSaved: number; pointsQuarantined: number; pointsKept: number; stateRecovered: boolean } | null = null;
    // points whose only record is a damaged pack that claims them (its manifest unreadable, so not settled above): they go to quarantine with it
    let lostWithPacks: Array<{ id: string; problems: string[] }> = [];
    if (options.repair && brokenObjects.length > 0) {
      const damaged = new Set(brokenObjects.map((b) => b.pack));
      const { objectsDir } = this.persistence.layout;
      lostWithPacks = [...readClaims(objectsDir).values()]
        .filter((claim) => damaged.has(claim.pack) && !fsSync.existsSync(this.persistence.layout.manifestFile(claim.pointId)))
        .map((claim) => ({ id: claim.pointId, problems: [`its manifest is in the damaged pack ${claim.pack}, moved to quarantine`] }));
      const saved = await objects.salvage(damaged, this.persistence.layout.quarantineDir);
      repaired = { objectsSaved: saved.saved, pointsQuarantined: lostWithPacks.length, pointsKept: 0, stateRecovered: false };
      brokenHashes.clear();
    }
    options.onProgress?.('Checking recovery points');
    const brokenPoints = await this.checkPoints(brokenHashes);
    let stateProblem: string | null = null;
    try {
      await this.persistence.loadState();
    } catch (error) {
      stateProblem = describeCause(error);
    }
    if (options.repair && (brokenPoints.length > 0 || stateProblem || lostWithPacks.length > 0)) {
      repaired ??= { objectsSaved: 0, pointsQuarantined: 0, pointsKept: 0, stateRecovered: false };
      for (const point of brokenPoints) {
        // a point that lost some files' content still restores the rest: moved aside, its intact content would go with the next clean-up
        if (point.restorable) {
          repaired.pointsKept++;
          continue;
        }
        await this.persistence.quarantineSnapshot(point.id, point.problems.join('\n'));
        repaired.pointsQuarantined++;
      }
      if (stateProblem && this.stateManager) {
        await this.stateManager.syncState(hold);
        repaired.stateRecovered = true;
      }
      if (repaired.pointsQuarantined > 0) await this.nameNewestPointInState(hold);
    }
    brokenPoints.push(...lostWithPacks);
    if (repaired) await this.persistence.recordDone({ action: 'repair', details: { ...repaired, brokenObjects: brokenObjects.length, brokenPoints: brokenPoints.map((p) => p.id) } });
    const pointsChecked = (await this.pointIds()).size + (repaired?.pointsQuarantined ?? 0);
    return {
      objectsChecked,
      pointsChecked,
      brokenObjects,
      brokenPoints,
      stateProblem,
      repaired,
      ok: brokenObjects.length === 0 && brokenPoints.length === 0 && stateProblem === null,
      needsRepair: brokenObjects.length > 0 || stateProblem !== null || brokenPoints.some((p) => !p.restorable),
    };
  }

  /** The ids of the manifest files and of the points whose packs claim them (a manifest file missing or torn there is read from the pack). */
  private async pointIds(): Promise<Set<string>> {
    const names = (await fs.readdir(this.persistence.layout.pointsDir)).filter((n) => n.endsWith('.json') && n !== 'index.json');
    return new Set([...names.map((name) => name.slice(0, -5)), ...readClaims(this.persistence.layout.objectsDir).keys()]);
  }

  private async checkPoints(brokenHashes: ReadonlySet<string>): Promise<Array<{ id: string; problems: string[]; restorable?: boolean }>> {
    const objects = await this.persistence.objects();
    const broken: Array<{ id: string; problems: string[]; restorable?: boolean }> = [];
    const known = new Map<string, string[]>();
    const knownTrees = new Map<string, string[]>();
    for (const id of [...(await this.pointIds())].sort()) {
      if (!pointIdSchema.safeParse(id).success) continue;
      let snapshot: ContextSnapshot | undefined;
      try {
        snapshot = await this.persistence.loadSnapshot(id);
      } catch (error) {
        broken.push({ id, problems: [describeCause(error)] });
        continue;
      }
      if (!snapshot) continue;
      const problems = await findMissing(objects, snapshot.root, known);
      const damaged = [...(await collectReachable(objects, [snapshot.root]).catch(() => new Set<string>()))].filter((h) => brokenHashes.has(h));
      const damagedAt = damaged.length > 0 ? await filesHolding(objects, snapshot.root, new Set(damaged)) : new Map<string, string>();
      for (const h of damaged) problems.push(damagedAt.has(h) ? `the content of "${damagedAt.get(h)}" (stored object ${h.slice(0, 12)}) is damaged` : `stored object ${h.slice(0, 12)} is damaged`);
      if (snapshot.id !== id) problems.push(`its manifest names a different id (${snapshot.id})`);
      if (problems.length === 0) continue;
      // a tree read twice (findMissing and the walk above) says its damage once
      problems.splice(0, problems.length, ...new Set(problems));
      const restorable = damaged.length === 0 && snapshot.id === id && (await findMissing(objects, snapshot.root, knownTrees, undefined, true)).length === 0;
      broken.push({ id, problems, restorable });
    }
    return broken;
  }

  async stats(): Promise<StoreStats> {
    const objects = await this.persistence.objects();
    await objects.refresh();
    const points = await this.persistence.listSnapshots();
    const o = objects.stats();
    const logicalBytes = points.reduce((sum, p) => sum + p.totalSize, 0);
    return {
      points: points.length,
      labelledPoints: points.filter(isPinned).length,
      newestPointId: points[0]?.id ?? null,
      objects: o.objects,
      blobs: o.blobs,
      trees: o.trees,
      packs: o.packs,
      storedBytes: o.storedBytes,
      diskBytes: o.diskBytes,
      totalDiskBytes: o.diskBytes + (await storeBytesBesidePacks(this.persistence.layout)),
      logicalBytes,
      dedupRatio: o.storedBytes > 0 ? logicalBytes / o.storedBytes : 0,
      timings: this.metrics.snapshot(),
    };
  }

  /** The state as saved now (another window or the command-line tool may have changed it since we cached it). */
  private async currentState(hold: Hold): Promise<ContextState> {
    if (this.stateManager) return this.stateManager.syncState(hold);
    try {
      return (await this.persistence.loadState()) ?? emptyContextState(this.persistence.actor);
    } catch {
      return emptyContextState(this.persistence.actor);
    }
  }
}

/** The real folders of workspace folders opened through a link (`LastRestore.realPaths`); nothing when there is none. */
function realPathsOf(roots: readonly WorkspaceRoot[]): Pick<LastRestore, 'realPaths'> {
  const linked: Record<string, string> = {};
  for (const root of roots) {
    try {
      const real = fsSync.realpathSync(root.path);
      if (real !== root.path) linked[root.name] = real;
    } catch {
      // a folder the restore makes again: no link to follow
    }
  }
  return Object.keys(linked).length > 0 ? { realPaths: linked } : {};
}

/** Each workspace folder's identity on disk (`LastRestore.folderIds`). */
function folderIdsOf(roots: readonly WorkspaceRoot[]): Pick<LastRestore, 'folderIds'> {
  const ids: Record<string, string> = {};
  for (const root of roots) {
    const id = folderId(root.path);
    if (id !== undefined) ids[root.name] = id;
  }
  return Object.keys(ids).length > 0 ? { folderIds: ids } : {};
}

/** True when `point` was taken of exactly these workspace folders (names and paths, in order). */
function sameFolders(point: PointSummary, roots: readonly WorkspaceRoot[]): boolean {
  return point.roots.length === roots.length && point.roots.every((r, i) => r.name === roots[i]!.name && r.path === roots[i]!.path);
}

/** The absolute paths a restore plan writes or deletes; `undefined` when there are too many (or one has no place on disk) for a hint. */
function planPaths(roots: readonly WorkspaceRoot[], plan: RestorePlan): string[] | undefined {
  const changes = [...plan.add, ...plan.modify, ...plan.remove];
  if (changes.length > MAX_HINTED_PATHS) return undefined;
  const files = changes.map((change) => absolutePath(roots, change.path));
  return files.every((file) => file !== undefined) ? (files as string[]) : undefined;
}

/**
 * What restoring `mapped` over the workspace's `current` tree changes: within `scope` (filters), then
 * only the paths `within` names, and the temporary files a killed restore left (which the point does
 * not hold: an undo removes them as a whole restore does).
 */
async function planFor(roots: readonly WorkspaceRoot[], mapped: MappedPoint, current: string, scope: readonly string[] | undefined, within: ReadonlySet<string> | undefined): Promise<RestorePlan> {
  // a folder inside another that the point holds restores its own files (a point from before the outer
  // folder's captures left it out has them twice); one it does not hold is restored as the outer folder's
  const held = roots.filter((r) => !mapped.mapping.uncovered.includes(r.name));
  const plan = withoutInnerFolders(held, await planRestore(mapped.objects, await mapped.covered(current), mapped.root, scope));
  if (!within) return plan;
  const leftovers = plan.remove.filter((change) => isRestoreTempName(change.path.slice(change.path.lastIndexOf('/') + 1))).map((change) => change.path);
  return onlyPaths(plan, leftovers.length === 0 ? within : new Set([...within, ...leftovers]));
}

/** The files a comparison renamed or moved (`pairRenames`, following folders), as `renamed` when there are some; a file that only stopped or began being tracked is no half of a move. */
function renamedIn(diff: TreeDiff, tracking: Pick<PointSummary, 'untracked' | 'nowTracked'>): { renamed?: RenamedFile[] } {
  const renamed = pairRenames({ added: diff.added.filter((c) => !isNowTracked(tracking, c.path)), deleted: diff.deleted.filter((c) => !isUntracked(tracking, c.path)) }, { followFolders: true });
  return renamed.length > 0 ? { renamed } : {};
}

/** How many changes `point` holds against `base` as its manifest counts them: against its parent, or every file against nothing; `Infinity` when shown against another point. */
function changeCountAgainst(base: PointSummary | undefined, point: PointSummary): number {
  if (!base) return point.fileCount;
  if (base.id !== point.parentId) return Number.POSITIVE_INFINITY;
  return point.changes.added + point.changes.modified + point.changes.deleted;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** Why a restore left out a folder of the point (its `skipped` entry's reason, the entry's path the folder's name). */
export const FOLDER_LEFT_OUT = 'no folder of this workspace has its name or path; left out';

/** Each path once, with the first reason given for it. */
function withoutRepeats(left: ReadonlyArray<{ path: string; reason: string }>): Array<{ path: string; reason: string }> {
  const seen = new Set<string>();
  return left.filter((l) => !seen.has(l.path) && seen.add(l.path));
}

const UNTRACKED_CHANGED = 'the restore being undone created it, and it changed since (no point holds it: points leave it out): left as it is';

/**
 * The files an undone restore created that no point holds (`LastRestore.untrackedWrites`): as deletions
 * those that still hold what it wrote; those changed since, left with why; those gone, nothing.
 */
async function untrackedRemovals(roots: readonly WorkspaceRoot[], writes: LastRestore['untrackedWrites']): Promise<{ removals: FileChange[]; left: Array<{ path: string; reason: string }>; paths: ReadonlySet<string> }> {
  const removals: FileChange[] = [];
  const left: Array<{ path: string; reason: string }> = [];
  for (const write of writes ?? []) {
    const now = await currentFileHash(roots, write.path).catch(() => undefined);
    if (now === null) continue;
    if (now === write.hash) removals.push({ path: write.path, before: { kind: 'f', hash: write.hash, size: write.size, mode: write.mode } });
    else left.push({ path: write.path, reason: UNTRACKED_CHANGED });
  }
  return { removals, left, paths: new Set(removals.map((r) => r.path)) };
}

/** `plan` with `removals` among its deletions (those it does not plan already). */
function withRemovals(plan: RestorePlan, removals: readonly FileChange[]): RestorePlan {
  if (removals.length === 0) return plan;
  const planned = new Set([...plan.add, ...plan.modify, ...plan.remove].map((c) => c.path));
  return { ...plan, remove: [...plan.remove, ...removals.filter((r) => !planned.has(r.path))] };
}

/** The path (below `root`) of the first file or folder found holding each of `hashes`; trees that cannot be read are passed by. */
async function filesHolding(objects: ObjectReader, root: string, hashes: ReadonlySet<string>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const visit = async (tree: string, at: string): Promise<void> => {
    const entries = await objects.readTree(tree).then((t) => t.e, () => []);
    for (const [name, kind, child] of entries) {
      const where = at === '' ? name : `${at}/${name}`;
      if (hashes.has(child) && !found.has(child)) found.set(child, where);
      if (kind === 'd') await visit(child, where);
      if (found.size === hashes.size) return;
    }
  };
  await visit(root, '');
  return found;
}
