import { withoutRenamed, type MovedHead, type RenamedFile, type TreeDiff } from '../capture';
import { isNowTracked, isUntracked } from '../capture/untracked';
import { StateError } from '../errors';
import { firstPathNamingNothing } from '../history/versionContent';
import { ambiguousRef, labelNote, pointsNamedBy, pointTime } from '../ids';
import { countsAsJson, plural, type TrackingCounts } from '../format';
import { headsMovedNote, undoDone } from '../pointNames';
import type { RestoreResult } from '../recovery/recoveryManager';
import { pointBase } from '../recovery/pointBase';
import { absolutePath, isUnder, toPointPath } from '../recovery/workspacePaths';
import type { RecoveryStore } from '../recoveryStore';
import type { GitHead, PointSummary, WorkspaceRoot } from '../schemas';
import type { ListPointsInput, RestoreInput, ShowChangesInput } from './toolInputs';

/** A point as an agent sees it. */
export interface AgentPoint {
  readonly id: string;
  readonly createdAt: string;
  readonly trigger: string;
  readonly label: string | null;
  readonly summary: string;
  readonly actor: string;
  /** The agent that made the point (its hook, or the MCP client that asked for it); absent for every other point. */
  readonly agent?: string;
  /** Files added, modified and deleted; `noLongerTracked` and `nowTracked`: how many of those deleted and added only stopped or began being tracked (still on disk). */
  readonly changes: TrackingCounts;
  readonly fileCount: number;
  /** The git branch (or detached commit) each workspace folder was on, by folder name; absent when none is known. */
  readonly heads?: Record<string, GitHead>;
}

export function agentPoint(p: PointSummary): AgentPoint {
  const heads = p.roots.flatMap((r) => (r.head ? [[r.name, r.head] as const] : []));
  return { id: p.id, createdAt: p.createdAt, trigger: p.trigger, label: p.label, summary: p.summary, actor: p.actor, ...(p.agent ? { agent: p.agent } : {}), changes: countsAsJson(p.changes), fileCount: p.fileCount, ...(heads.length > 0 ? { heads: Object.fromEntries(heads) } : {}) };
}

/** What an agent is told of the point it created: its id and size, and a note when its label names other points too. */
export async function createdPointSentence(store: RecoveryStore, point: PointSummary): Promise<string> {
  const note = labelNote(await store.recovery.listRecoveryPoints(), point);
  return `Created recovery point ${point.id} "${point.label ?? ''}" (${plural(point.fileCount, 'file')}).${note ? ` Note: ${note}` : ''}`;
}

/** The point an agent named: a full id, a unique prefix of it or of its last part, `latest`, or its label. */
export async function findPoint(store: RecoveryStore, ref: string): Promise<PointSummary> {
  const matches = pointsNamedBy(await store.recovery.listRecoveryPoints(), ref);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw StateError.invalidState(ambiguousRef(ref, matches));
  throw StateError.snapshotNotFound(ref);
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A time given as an ISO date-time or a duration back from `now` (`30m`, `2h`, `7d`). */
export function parseAgentTime(text: string, name: string, now = Date.now()): number {
  const duration = DURATION.exec(text.trim());
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]!.toLowerCase()]!;
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw StateError.invalidState(`${name} "${text}" is neither a date-time (2026-11-29T14:00:00Z) nor a duration (30m, 2h, 7d).`);
  return time;
}

/**
 * Point paths (`root/rel`) for paths an agent gave: relative to the (first) workspace folder, or
 * absolute inside a workspace folder. Anything that leads outside the workspace is refused, as the
 * command-line tool refuses it.
 */
export function agentPointPaths(store: RecoveryStore, inputs: readonly string[]): string[] {
  const roots = store.persistence.workspaceRoots;
  return inputs.map((input) => {
    if (input.includes('\0')) throw StateError.invalidState(`Refusing the path ${JSON.stringify(input)}: it contains a NUL character.`);
    return toPointPath(roots, input, roots[0]!.path);
  });
}

/** The paths of a restore an agent asked for, as point paths; one that names nothing in the point or the workspace (a typo) is refused. */
export async function agentRestorePaths(store: RecoveryStore, pointId: string, inputs: readonly string[]): Promise<string[]> {
  const paths = agentPointPaths(store, inputs);
  const nothing = await firstPathNamingNothing(store, pointId, paths);
  if (nothing !== undefined) throw StateError.invalidState(`Neither recovery point ${pointId} nor the workspace has anything at ${inputs[nothing]}: check the path.`);
  return paths;
}

/**
 * A point path (`root/rel`) as agents give paths: relative to the first workspace folder, absolute in
 * another one, so that every path a tool returns can be passed back to a tool as it is. A path under a
 * folder the workspace no longer has stays a point path.
 */
export function agentPath(roots: readonly WorkspaceRoot[], pointPath: string): string {
  const first = roots[0]?.name;
  if (first !== undefined && pointPath.startsWith(`${first}/`)) return pointPath.slice(first.length + 1);
  if (pointPath === first) return '.';
  return absolutePath(roots, pointPath) ?? pointPath;
}

/** Points newest first, filtered as the input says. */
export async function listAgentPoints(store: RecoveryStore, input: ListPointsInput, now = Date.now()): Promise<AgentPoint[]> {
  const since = input.since === undefined ? undefined : parseAgentTime(input.since, 'since', now);
  const until = input.until === undefined ? undefined : parseAgentTime(input.until, 'until', now);
  const actor = input.actor?.toLowerCase();
  const under = input.path === undefined ? undefined : agentPointPaths(store, [input.path])[0]!;
  const found: AgentPoint[] = [];
  const points = await store.recovery.listRecoveryPoints();
  for (const point of points) {
    if (found.length >= input.limit) break;
    const time = pointTime(point);
    if (since !== undefined && time < since) continue;
    if (until !== undefined && time > until) continue;
    if (input.trigger && point.trigger !== input.trigger) continue;
    if (actor && !point.actor.toLowerCase().includes(actor)) continue;
    let change: TreeDiff | undefined;
    if (under !== undefined) {
      change = await store.recovery.changedFiles(point.id, points, { many: true });
      if (!changedPaths(change).some((p) => isUnder(p, under))) continue;
    }
    found.push(agentPoint(await store.recovery.shownPoint(point, pointBase(points, point), change)));
  }
  return found;
}

export interface AgentChanges {
  readonly point: string;
  /** The point it is shown against (`pointBase`: its parent while kept), another point's id, `current`, or `null` (against nothing). */
  readonly against: string | null;
  readonly added: string[];
  readonly modified: string[];
  readonly deleted: string[];
  /** Of `added`, the files the point began tracking that were on disk before (a `.gitignore` line taken out): not created. Only for a point's own changes. */
  readonly nowTracked?: string[];
  /** Of `deleted`, the files the point stopped tracking while they were on disk (a `.gitignore` line added): not deleted. Only for a point's own changes. */
  readonly noLongerTracked?: string[];
  /** Against another point or the current files: files renamed or moved (their folder renamed), `changed` when their content changed too; not in `added` or `deleted`. */
  readonly renamed?: Array<{ from: string; to: string; changed: boolean }>;
}

/** What a point changed against the point before it (`pointBase`), or how it differs from another point or from the current files. */
export async function agentChanges(store: RecoveryStore, input: ShowChangesInput): Promise<AgentChanges> {
  const point = await findPoint(store, input.point);
  let against: string | null;
  let diff: TreeDiff;
  // which files only stopped or began being tracked: the point's own changes, or the comparison with the files on disk
  let tracking: Pick<PointSummary, 'untracked' | 'nowTracked'> | undefined = point;
  let renamed: readonly RenamedFile[] | undefined;
  if (input.against === undefined) {
    const points = await store.recovery.listRecoveryPoints();
    against = pointBase(points, point)?.id ?? null;
    diff = await store.recovery.changedFiles(point.id, points);
  } else if (input.against === 'current') {
    against = 'current';
    const compared = await store.recovery.diff(point.id);
    diff = tracking = compared;
    renamed = compared.renamed;
  } else {
    // from the other point to this one, each folder by the folder it became; files that only stopped or began being tracked between them marked
    const other = await findPoint(store, input.against);
    against = other.id;
    const compared = await store.recovery.diff(other.id, point.id);
    diff = tracking = compared;
    renamed = compared.renamed;
  }
  const roots = store.persistence.workspaceRoots;
  // a renamed file once, as renamed: not a deletion and an addition
  if (renamed) diff = withoutRenamed(diff, renamed);
  const changes = { point: point.id, against, ...pathsOf(roots, diff), ...(renamed ? { renamed: renamed.map((r) => ({ from: agentPath(roots, r.from), to: agentPath(roots, r.to), changed: r.changed })) } : {}) };
  if (!tracking) return changes;
  return {
    ...changes,
    ...(tracking.nowTracked ? { nowTracked: diff.added.filter((c) => isNowTracked(tracking, c.path)).map((c) => agentPath(roots, c.path)) } : {}),
    ...(tracking.untracked ? { noLongerTracked: diff.deleted.filter((c) => isUntracked(tracking, c.path)).map((c) => agentPath(roots, c.path)) } : {}),
  };
}

/** "3 files differ between point … and the current files." */
export function describeAgentChanges(changes: AgentChanges): string {
  const total = changes.added.length + changes.modified.length + changes.deleted.length + (changes.renamed?.length ?? 0);
  const against = changes.against === null ? 'nothing (it is the first point)' : changes.against === 'current' ? 'the current files' : `point ${changes.against}`;
  return `${plural(total, 'file')} ${total === 1 ? 'differs' : 'differ'} between point ${changes.point} and ${against}.`;
}

export interface AgentPreview {
  readonly point: string;
  /** The point paths the restore is limited to; `null` for the whole point. */
  readonly paths: string[] | null;
  /** Files the restore would create (the point has them, the workspace does not). */
  readonly create: string[];
  /** Files it would overwrite with the point's version. */
  readonly overwrite: string[];
  /** Tracked files it would delete (the point does not have them); they are kept in the safety point. */
  readonly delete: string[];
  /** Files of the point it would leave as they are, with why (a file not tracked now, or a folder, is in the way). */
  readonly leftAlone: Array<{ path: string; reason: string }>;
  /** Workspace folders whose repository is on another branch (or commit) than when the point was made: the restore changes their files, not the branch. */
  readonly headsMoved?: readonly MovedHead[];
}

/** What restoring would write and delete, without changing anything. */
export async function agentPreview(store: RecoveryStore, input: RestoreInput, changedPaths?: readonly string[]): Promise<AgentPreview> {
  const point = await findPoint(store, input.point);
  const paths = input.paths ? await agentRestorePaths(store, point.id, input.paths) : undefined;
  const plan = await store.recovery.previewRestore(point.id, paths, { changedPaths });
  const shown = (list: ReadonlyArray<{ path: string }>) => list.map((c) => agentPath(store.persistence.workspaceRoots, c.path));
  const roots = store.persistence.workspaceRoots;
  return {
    point: point.id,
    paths: paths ? paths.map((p) => agentPath(roots, p)) : null,
    create: shown(plan.add),
    overwrite: shown(plan.modify),
    delete: shown(plan.remove),
    leftAlone: plan.leftAlone.map((l) => ({ path: agentPath(roots, l.path), reason: l.reason })),
    ...(plan.headsMoved.length > 0 ? { headsMoved: plan.headsMoved } : {}),
  };
}

export function describePreview(preview: AgentPreview): string {
  const count = preview.create.length + preview.overwrite.length + preview.delete.length;
  const left = preview.leftAlone.length === 0 ? '' : ` It would leave ${plural(preview.leftAlone.length, 'file')} of the point as ${preview.leftAlone.length === 1 ? 'it is' : 'they are'} (leftAlone says why for each: something not tracked in the way, a link on the way, content lost to damage).`;
  if (count === 0) return `Nothing to restore: the files ${left ? 'that differ from' : 'already match'} point ${preview.point}${left ? ' cannot be restored.' : '.'}${left}`;
  const moved = preview.headsMoved ? ` Note: ${headsMovedNote(preview.headsMoved, false)} (headsMoved).` : '';
  return `Restoring point ${preview.point}${preview.paths ? ` (${preview.paths.join(', ')})` : ''} would create ${preview.create.length}, overwrite ${preview.overwrite.length} and delete ${preview.delete.length} files.${left}${moved} A safety point is made first, so the restore can be undone; files that are not tracked (ignored, excluded, untracked) are never touched.`;
}

export interface AgentRestoreReport {
  readonly restored: string;
  readonly safetyPointId: string;
  /** The point of the files as the restore left them (`null` when nothing changed). */
  readonly restoredPointId: string | null;
  readonly written: string[];
  readonly removed: string[];
  readonly skipped: Array<{ path: string; reason: string }>;
  /** An undo of an undo: the files are back as the restore before it wrote them. */
  readonly redo?: true;
  /** For an undo: which restore it undid ("Undid the restore of 'Saved app.ts' (restored 5 min ago)"). */
  readonly undone?: string;
  /** For an undo: the files it replaced that had been changed since that restore (the undo's safety point keeps the changes). */
  readonly replacedEdits?: string[];
}

export function agentRestoreReport(roots: readonly WorkspaceRoot[], result: RestoreResult): AgentRestoreReport {
  return {
    restored: result.point.id,
    safetyPointId: result.safetyPointId,
    restoredPointId: result.restoredPointId ?? null,
    written: result.outcome.written.map((p) => agentPath(roots, p)),
    removed: result.outcome.removed.map((p) => agentPath(roots, p)),
    skipped: result.outcome.skipped.map((s) => ({ ...s, path: agentPath(roots, s.path) })),
    ...(result.redo ? { redo: true as const } : {}),
    ...(result.undid !== undefined ? { undone: undoDone(result.undid, result.point) } : {}),
    ...(result.replacedEdits ? { replacedEdits: result.replacedEdits.map((p) => agentPath(roots, p)) } : {}),
  };
}

/** `undoTool`: the name the agent calls the undo tool by. */
export function describeRestore(report: AgentRestoreReport, isUndo: boolean, undoTool: string): string {
  const counts = `${report.written.length} written, ${report.removed.length} deleted${report.skipped.length > 0 ? `, ${report.skipped.length} skipped` : ''}`;
  return isUndo
    ? `${report.undone ?? 'Undid the last restore'}: ${counts}.${report.replacedEdits ? ` It replaced changes made since the restore to ${report.replacedEdits.join(', ')}.` : ''} Safety point ${report.safetyPointId} holds the files as they were just before this undo.`
    : report.written.length + report.removed.length > 0
      ? `Restored point ${report.restored}: ${counts}. Safety point ${report.safetyPointId} holds the files as they were before; ${undoTool} puts them back.`
      : `Restored point ${report.restored}: ${counts}, so nothing changed. Safety point ${report.safetyPointId} holds the files as they are; ${undoTool} still undoes the restore before this one, if any.`;
}

function pathsOf(roots: readonly WorkspaceRoot[], diff: TreeDiff): { added: string[]; modified: string[]; deleted: string[] } {
  const shown = (list: ReadonlyArray<{ path: string }>) => list.map((c) => agentPath(roots, c.path));
  return { added: shown(diff.added), modified: shown(diff.modified), deleted: shown(diff.deleted) };
}

function changedPaths(diff: TreeDiff): string[] {
  return [...diff.added, ...diff.modified, ...diff.deleted].map((c) => c.path);
}
