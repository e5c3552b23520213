import * as path from 'node:path';
import { formatBytes, formatChangeCounts, formatRelativeTime, plural, countsAsJson } from '../core/format';
import { withoutRenamed, type RenamedFile } from '../core/capture/renames';
import type { TreeDiff } from '../core/capture/treeWalk';
import { StateError } from '../core/errors';
import { ambiguousRef, labelNote, pointsNamedBy, pointTime } from '../core/ids';
import { describeMapping, type FolderMapping } from '../core/recovery/folderMapping';
import { pointBase } from '../core/recovery/pointBase';
import type { RestorePreview, RestoreResult } from '../core/recovery/recoveryManager';
import { absolutePath, toPointPath, typedPath } from '../core/recovery/workspacePaths';
import { isNowTracked, isUntracked } from '../core/capture/untracked';
import { movedTo } from '../core/transfer/adoptStore';
import { describeHead, headsMovedNote, undoDone } from '../core/pointNames';
import { headsMovedSince, type MovedHead } from '../core/capture/gitHead';
import type { RecoveryStore } from '../core/recoveryStore';
import type { PointSummary, WorkspaceRoot } from '../core/schemas';
import { InputError } from './args';
import type { CommandSpec } from './commandIndex';
import { escapeForTerminal as t } from './terminalText';

/** Writes what a command produced: `human` for people, `data` for `--json`. */
export interface Output {
  result(human: string, data: unknown): void;
  progress(message: string): void;
  /** Bytes as they are, to standard output (`cat`). */
  bytes(data: Uint8Array): void;
  /** The exit code the command ends with when it returns (a problem found, a search stopped). */
  exitWith(code: number): void;
}

const REMOVAL_REASONS: Record<string, string> = { thinned: 'thinned out', age: 'past the age limit', count: 'over the count limit', size: 'over the size limit' };

export const COMMANDS: Record<string, CommandSpec> = {
  snapshot: {
    positionals: [0, 0],
    options: ['--label', '--changed'],
    run: async (store, args, out) => {
      const changedPaths = args.changed?.map((p) => absoluteInWorkspace(store, p, args.cwd));
      const point = await store.recovery.createRecoveryPoint(undefined, {
        trigger: 'manual',
        label: args.label ?? null,
        changedPaths,
        onProgress: (m) => out.progress(m),
      });
      const note = point!.label ? labelNote(await store.recovery.listRecoveryPoints(), point!) : undefined;
      out.result(`Created recovery point ${point!.id} (${plural(point!.fileCount, 'file')}, ${formatChangeCounts(point!.changes)}, ${formatBytes(point!.addedBytes)} added)${note ? `\nNote: ${t(note)}` : ''}`, point!.id);
    },
  },
  list: {
    positionals: [0, 0],
    withoutFolder: true,
    run: async (store, _args, out, listed) => {
      const points = await store.recovery.listShownPoints(listed);
      const counts = points.map((p) => formatChangeCounts(p.changes));
      const width = Math.max(16, ...counts.map((c) => c.length + 1));
      // the counts of a point whose parent is gone (clean-up, a bundle of some points) are against the point below it, not what its name says
      const listedIds = new Set(points.map((p) => p.id));
      const parentGone = (p: PointSummary) => p.parentId !== null && !listedIds.has(p.parentId);
      const lines = points.map(
        (p, i) =>
          `${p.id}  ${formatRelativeTime(pointTime(p)).padEnd(12)} ${p.trigger.padEnd(14)} ${counts[i]!.padEnd(width)} ${p.label ? `[${t(p.label)}] ` : ''}${t(p.summary)}${!parentGone(p) ? '' : i < points.length - 1 ? ' (counted since the point below: the one it was made after is not kept)' : ' (every file counted as new: the points before it are not kept)'}`,
      );
      const moved = points.length === 0 ? movedTo(store.persistence.layout.root) : undefined;
      const none = moved ? `No recovery points here: this folder's history was moved to ${t(moved.movedTo)} (${new Date(moved.at).toLocaleString()}).` : 'No recovery points yet.';
      out.result(points.length === 0 ? none : lines.join('\n'), points.map((p) => ({ ...p, changes: countsAsJson(p.changes) })));
    },
  },
  show: {
    positionals: [1, 1],
    withoutFolder: true,
    options: ['--patch', '--binary'],
    run: async (store, args, out, points) => {
      const id = await resolveId(store, args.positionals[0]!, points);
      if (args.patch) {
        const { pointChangePatch } = await import('../core/history/pointChanges.js');
        writePatch(out, await pointChangePatch(store, id, { binary: args.binary }, points));
        return;
      }
      const point = await store.persistence.requireSnapshot(id);
      const changes = await store.recovery.changedFiles(id, points);
      // against the point it is shown against (its parent while kept), as the counts and files below are
      const base = pointBase(points, point);
      const { changes: counts, summary: shownSummary } = await store.recovery.shownPoint(point, base, changes);
      const human = [
        `Point     ${point.id}${point.label ? `  [${t(point.label)}]` : ''}`,
        `Created   ${point.createdAt} (${formatRelativeTime(Date.parse(point.createdAt))}) by ${t(point.actor)}`,
        `Trigger   ${point.trigger}: ${t(shownSummary)}`,
        `Files     ${point.fileCount} (${formatBytes(point.totalSize)}), ${formatChangeCounts(counts)} against ${base?.id ?? 'nothing'}`,
        `Folders   ${point.roots.map((r) => `${t(r.name)} = ${t(r.path)}${r.head ? ` (${t(describeHead(r.head))})` : ''}`).join(', ')}`,
        ...formatDiff(changes, store.persistence.workspaceRoots, point),
      ].join('\n');
      const { state: _state, ...summary } = point;
      // a root's digest of git's rules from outside it, and its folder identity, are the captures' and the mapping's business, not a reader's
      const roots = summary.roots.map(({ outsideRules: _rules, id: _id, ...root }) => root);
      out.result(human, { ...summary, roots, summary: shownSummary, changes: countsAsJson(counts), sessionTabs: point.state.session.groups.flatMap((g) => g.tabs.map((t) => t.path)), changedFiles: diffAsJson(changes, point) });
    },
  },
  diff: {
    positionals: [1, 2],
    options: ['--patch', '--binary'],
    run: async (store, args, out, points) => {
      const from = await resolveId(store, args.positionals[0]!, points);
      const to = args.positionals[1] ? await resolveId(store, args.positionals[1], points) : undefined;
      if (args.patch) {
        const { comparisonPatch } = await import('../core/history/pointChanges.js');
        writePatch(out, await comparisonPatch(store, from, to, { binary: args.binary }));
        return;
      }
      const diff = await store.recovery.diff(from, to);
      const lines = formatDiff(diff, store.persistence.workspaceRoots, diff);
      const folders = diff.folders ? formatMapping(diff.folders) : [];
      out.result([...folders, ...(lines.length === 0 ? ['No differences.'] : lines)].join('\n'), { ...diffAsJson(diff, diff), ...mappingAsJson(diff.folders) });
    },
  },
  restore: {
    positionals: [1, 1],
    withoutFolder: true,
    options: ['--paths', '--dry-run'],
    run: async (store, args, out, points) => {
      const id = await resolveId(store, args.positionals[0]!, points);
      const roots = store.persistence.workspaceRoots;
      const paths = args.paths?.map((p) => pathArgument(store, p, args.cwd));
      if (paths) await refuseUnknownPaths(store, id, args.paths!, paths);
      if (args.dryRun) {
        const plan = await store.recovery.previewRestore(id, paths);
        const target = points.find((p) => p.id === id);
        const { hooksTouchedByPlan, hooksTouchedNote } = await import('../hooks/hookInstaller.js');
        const onDisk = (list: ReadonlyArray<{ path: string }>) => list.flatMap((c) => absolutePath(roots, c.path) ?? []);
        const touched = await hooksTouchedByPlan(roots[0]!.path, onDisk(plan.remove), [...onDisk(plan.modify), ...onDisk(plan.add)]);
        const hookLines = hooksTouchedNote(touched, (location) => t(path.relative(roots[0]!.path, location)), (agent) => `"recovery-points hooks install --agent ${agent}" puts them back`).map((note) => `Note: ${note}.`);
        out.result([...formatMapping(plan.folders), formatPreview(plan, roots, target), ...headsMovedLines(plan.headsMoved, roots), ...hookLines].join('\n'), {
          point: id,
          ...previewAsJson(plan),
          ...mappingAsJson(plan.folders),
          ...headsMovedAsJson(plan.headsMoved),
          ...(touched.length > 0 ? { hooksTouched: touched } : {}),
        });
        return;
      }
      const { hooksRemovedByRestore, hooksRemovedNote, projectHooks } = await import('../hooks/hookInstaller.js');
      const hooksBefore = await projectHooks(roots[0]!.path);
      const result = await stoppable(out, (signal) => store.recovery.restore(id, { paths, signal, onProgress: (m) => out.progress(m) }));
      const hooksRemoved = await hooksRemovedByRestore(roots[0]!.path, hooksBefore);
      const hookNotes = hooksRemovedNote(hooksRemoved, (location) => t(path.relative(roots[0]!.path, location)), (agent) => `run "recovery-points hooks install --agent ${agent}" to put them back.`);
      const skipped = skippedLines(result, roots);
      const moved = headsMovedSince(result.point.roots, result.folders.pairs, roots);
      out.result(
        [
          ...formatMapping(result.folders),
          `Restored ${result.point.id}: ${result.outcome.written.length} written, ${result.outcome.removed.length} deleted.`,
          ...skipped,
          ...headsMovedLines(moved, roots),
          ...hookNotes.map((note) => `Note: ${note}`),
          result.outcome.written.length + result.outcome.removed.length > 0
            ? `Safety point ${result.safetyPointId} holds the files as they were; "recovery-points undo" brings them back.`
            : `Safety point ${result.safetyPointId} holds the files as they were; nothing changed, so "recovery-points undo" still undoes the restore before this one, if any.`,
        ].join('\n'),
        {
          ...outcomeAsJson(result),
          ...headsMovedAsJson(moved),
          ...(hooksRemoved.length > 0 ? { hooksRemoved } : {}),
        },
      );
    },
  },
  undo: {
    positionals: [0, 0],
    options: ['--dry-run'],
    run: async (store, args, out) => {
      const roots = store.persistence.workspaceRoots;
      if (args.dryRun) {
        const plan = await store.recovery.previewUndo();
        const what = undoDone(plan.undid, plan.safety).replace(/^Undid/, 'Would undo').replace(/^Redid/, 'Would redo');
        const lines = changeLines(roots, plan.add, plan.modify, plan.remove);
        const left = plan.leftAlone.map((l) => `  ${t(typedPath(roots, l.path))}: ${t(l.reason)}`);
        out.result(
          [
            ...formatMapping(plan.folders),
            lines.length === 0 ? `${what}: nothing to put back${left.length === 0 ? ', the files already match' : ''}.` : `${what}: put back ${plural(lines.length, 'file')} from safety point ${plan.safetyPointId}:`,
            ...lines,
            ...(left.length === 0 ? [] : [`Would leave ${plural(left.length, 'file')} as ${left.length === 1 ? 'it is' : 'they are'}:`, ...left]),
            ...editedNote(plan.editedSince, roots, 'would replace'),
          ].join('\n'),
          { safetyPointId: plan.safetyPointId, ...(plan.undid ? { undoes: plan.undid.id } : {}), ...previewAsJson(plan), ...mappingAsJson(plan.folders), ...(plan.editedSince.length > 0 ? { editedSince: plan.editedSince } : {}) },
        );
        return;
      }
      const result = await stoppable(out, (signal) => store.recovery.undoLastRestore({ signal, onProgress: (m) => out.progress(m) }));
      out.result(
        [
          ...formatMapping(result.folders),
          `${undoDone(result.undid, result.point)}: ${result.outcome.written.length} written, ${result.outcome.removed.length} deleted (safety point ${result.safetyPointId}).`,
          ...skippedLines(result, roots),
          ...editedNote(result.replacedEdits ?? [], roots, 'replaced'),
        ].join('\n'),
        {
          ...outcomeAsJson(result),
          ...(result.replacedEdits ? { replacedEdits: result.replacedEdits } : {}),
        },
      );
    },
  },
  verify: {
    positionals: [0, 0],
    options: ['--repair'],
    run: async (store, args, out) => {
      const report = await store.recovery.verify({ repair: args.repair, onProgress: (m) => out.progress(m) });
      const lines = [
        `Checked ${report.objectsChecked} objects and ${report.pointsChecked} points.`,
        ...report.brokenObjects.map((b) => `  broken object ${b.hash?.slice(0, 12) ?? '(pack)'} in ${t(b.pack)}: ${t(b.problem)}`),
        ...report.brokenPoints.map((b) => (b.restorable ? `  point ${b.id} lost some files' content (it restores its other files): ${t(b.problems.join('; '))}` : `  broken point ${b.id}: ${t(b.problems.join('; '))}`)),
        ...(report.stateProblem ? [`  state file: ${t(report.stateProblem)}`] : []),
        ...(report.repaired ? [`Repaired: ${report.repaired.objectsSaved} objects saved, ${report.repaired.pointsQuarantined} points moved to quarantine${report.repaired.pointsKept > 0 ? `, ${report.repaired.pointsKept} points kept (they restore all but the lost files)` : ''}${report.repaired.stateRecovered ? ', state recovered' : ''}.`] : []),
        report.ok
          ? 'The store is healthy.'
          : args.repair
            ? 'Problems were found and repaired.'
            : report.needsRepair
              ? 'Problems were found: run "recovery-points verify --repair" to move broken parts aside.'
              : 'Some files\' content is lost for good: the points above restore their other files. Nothing to repair.',
      ];
      out.result(lines.join('\n'), report);
      if (!report.ok && !args.repair) out.exitWith(1);
    },
  },
  cleanup: {
    positionals: [0, 0],
    options: ['--if-due'],
    run: async (store, args, out) => {
      if (args.ifDue) {
        const { cleanupDue } = await import('../core/recovery/cleanupDue.js');
        if (!(await cleanupDue(store.persistence.layout.root))) {
          out.result('No clean-up is due.', { due: false });
          return;
        }
      }
      const report = await store.recovery.cleanupRecoveryPoints();
      const reasons = Object.entries(report.reasons).map(([reason, count]) => `${count} ${REMOVAL_REASONS[reason] ?? reason}`);
      out.result(
        `Removed ${plural(report.removedPoints, 'recovery point')}${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''} and ${plural(report.removedObjects, 'unreferenced object')}, freed ${formatBytes(report.freedBytes)}${report.mergedPacks > 0 ? `; merged ${plural(report.mergedPacks, 'pack')}` : ''}.`,
        report,
      );
    },
  },
  gc: {
    positionals: [0, 0],
    run: async (store, _args, out) => {
      const result = await store.recovery.collectGarbage();
      out.result(`Removed ${plural(result.removedObjects, 'unreferenced object')}, freed ${formatBytes(result.freedBytes)}.`, result);
    },
  },
  stats: {
    positionals: [0, 0],
    withoutFolder: true,
    run: async (store, _args, out) => {
      const s = await store.recovery.stats();
      out.result(
        [
          `Points       ${s.points} (${s.labelledPoints} labelled)`,
          `Objects      ${s.objects} (${plural(s.blobs, 'file content')}, ${plural(s.trees, 'folder')}) in ${plural(s.packs, 'pack')}`,
          `On disk      ${formatBytes(s.totalDiskBytes)} (packs ${formatBytes(s.diskBytes)}, stored ${formatBytes(s.storedBytes)})`,
          `Captured     ${formatBytes(s.logicalBytes)} across all points`,
          // a tiny store's own records outweigh its files: 0.02×, not 0.0×
          `Dedup ratio  ${s.dedupRatio >= 0.1 || s.dedupRatio === 0 ? s.dedupRatio.toFixed(1) : s.dedupRatio.toPrecision(1)}× (full copies of every point's files ÷ stored)`,
        ].join('\n'),
        s,
      );
    },
  },
};

/**
 * The point a person named: `latest`, or a unique prefix of its id or of the id's last part (`af351b`
 * of `20261130T132341796Z-af351b`). A name that fits no point is bad input (exit 2), as an unknown path is.
 * `listed`: the points the command just listed (a listing reads the index and the points folder: once a command).
 */
export async function resolveId(store: RecoveryStore, wanted: string, listed?: readonly PointSummary[]): Promise<string> {
  const matches = pointsNamedBy(listed ?? (await store.recovery.listRecoveryPoints()), wanted);
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) throw new InputError(ambiguousRef(wanted, matches));
  throw new InputError(StateError.snapshotNotFound(wanted).message);
}

/** A path a person typed, as a workspace path (`folder/rel`); a path outside the workspace is bad input (exit 2). */
export function pathArgument(store: RecoveryStore, input: string, cwd: string): string {
  try {
    return toPointPath(store.persistence.workspaceRoots, input, cwd);
  } catch (error) {
    if (error instanceof StateError) throw new InputError(error.message);
    throw error;
  }
}

/**
 * Runs a restore that Ctrl+C stops between files: it then says how far it got and that `undo` puts the
 * files back (or that nothing changed), where Node's own end would print nothing. A second Ctrl+C ends
 * the process at once.
 */
async function stoppable<T>(out: Output, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => {
    out.progress('Stopping after the files being written (Ctrl+C again ends at once)');
    process.once('SIGINT', () => process.exit(130));
    controller.abort();
  };
  process.once('SIGINT', stop);
  try {
    return await work(controller.signal);
  } catch (error) {
    // stopped before any file changed (the restore words a stop after it began to write)
    if (controller.signal.aborted && !(error instanceof StateError)) throw StateError.invalidState('Stopped (Ctrl+C) before any file was changed.');
    throw error;
  } finally {
    process.removeListener('SIGINT', stop);
  }
}

/**
 * Refuses a path to restore that names nothing: neither in the point nor in the workspace (a typo
 * would otherwise answer "nothing to restore"). A path only the workspace has is one the restore deletes.
 */
async function refuseUnknownPaths(store: RecoveryStore, id: string, typed: readonly string[], paths: readonly string[]): Promise<void> {
  const { firstPathNamingNothing, throughLinkSentence } = await import('../core/history/versionContent.js');
  const nothing = await firstPathNamingNothing(store, id, paths);
  if (nothing !== undefined) {
    // through a link inside the workspace, the path is on disk but in no point (a point holds the link itself)
    const roots = store.persistence.workspaceRoots;
    throw new InputError(throughLinkSentence(roots, typed[nothing]!, paths[nothing]!, (link) => t(typedPath(roots, link))) ?? `Neither recovery point ${id} nor the workspace has anything at ${typed[nothing]}.`);
  }
}


function absoluteInWorkspace(store: RecoveryStore, input: string, cwd: string): string {
  const roots = store.persistence.workspaceRoots;
  const pointPath = pathArgument(store, input, cwd);
  const [rootName, ...rest] = pointPath.split('/');
  const root = roots.find((r) => r.name === rootName)!;
  return [root.path, ...rest].join('/');
}

/** A patch as it is (the output adds the last newline back), or `{ patch }` with --json. */
function writePatch(out: Output, patch: string): void {
  out.result(patch.replace(/\n$/, ''), { patch });
}

/**
 * Added, modified and removed files as a person reads them: paths as they type them (`typedPath`);
 * `of`: the point whose own changes they are, which marks the additions and deletions that are files
 * it began or stopped tracking (`isNowTracked`, `isUntracked`).
 */
function changeLines(roots: readonly WorkspaceRoot[], added: readonly { path: string }[], modified: readonly { path: string }[], removed: readonly { path: string }[], of?: Tracking): string[] {
  const shown = (p: string) => t(typedPath(roots, p));
  const appeared = (p: string) => `  + ${shown(p)}${of && isNowTracked(of, p) ? '  (now tracked, not created)' : ''}`;
  const gone = (p: string) => `  \u2212 ${shown(p)}${of && isUntracked(of, p) ? '  (no longer tracked, not deleted)' : ''}`;
  return [...added.map((c) => appeared(c.path)), ...modified.map((c) => `  ~ ${shown(c.path)}`), ...removed.map((c) => gone(c.path))];
}

/** Which of a change's files only stopped or began being tracked: a point's (its own changes), or a comparison's with the files on disk. */
type Tracking = Pick<PointSummary, 'untracked' | 'nowTracked'>;

/** A change with the files it renamed or moved (`renamed`: a comparison's), which are listed once, as renamed, not as a deletion and an addition. */
type ChangeWithRenames = TreeDiff & { readonly renamed?: readonly RenamedFile[] };

/** A point's changes (`of`: that point) or a comparison's; a renamed file as "R old → new". */
function formatDiff(diff: ChangeWithRenames, roots: readonly WorkspaceRoot[], of?: Tracking): string[] {
  const rest = withoutRenamed(diff, diff.renamed);
  const shown = (p: string) => t(typedPath(roots, p));
  const renamed = (diff.renamed ?? []).map((r) => `  R ${shown(r.from)} \u2192 ${shown(r.to)}${r.changed ? '  (and changed)' : ''}`);
  const lines = changeLines(roots, rest.added, rest.modified, [], of);
  return [...lines, ...renamed, ...changeLines(roots, [], [], rest.deleted, of)];
}

function diffAsJson(diff: ChangeWithRenames, of?: Tracking) {
  const rest = withoutRenamed(diff, diff.renamed);
  const json = { added: rest.added.map((c) => c.path), modified: rest.modified.map((c) => c.path), deleted: rest.deleted.map((c) => c.path) };
  return {
    ...json,
    ...(diff.renamed ? { renamed: diff.renamed.map((r) => ({ from: r.from, to: r.to, changed: r.changed })) } : {}),
    ...(of?.nowTracked ? { nowTracked: json.added.filter((p) => isNowTracked(of, p)) } : {}),
    ...(of?.untracked ? { noLongerTracked: json.deleted.filter((p) => isUntracked(of, p)) } : {}),
  };
}

/** What `restore` and `undo` give in `--json` of what they did. */
function outcomeAsJson(result: RestoreResult) {
  const { written, removed, skipped } = result.outcome;
  return { restored: result.point.id, safetyPointId: result.safetyPointId, written, removed, skipped, ...mappingAsJson(result.folders) };
}

/** The files a restore or an undo left as they were, a line each with why. */
function skippedLines(result: RestoreResult, roots: readonly WorkspaceRoot[]): string[] {
  return result.outcome.skipped.map((s) => `  skipped ${t(typedPath(roots, s.path))}: ${t(s.reason)}`);
}

/** An undo's note on the files changed since the restore it undoes (`undo` again brings those changes back). */
function editedNote(edited: readonly string[], roots: readonly WorkspaceRoot[], verb: 'replaced' | 'would replace'): string[] {
  if (edited.length === 0) return [];
  const names = edited.slice(0, 5).map((p) => t(typedPath(roots, p))).join(', ') + (edited.length > 5 ? ', …' : '');
  return [`Note: this ${verb} changes made since the restore to ${edited.length === 1 ? names : `${edited.length} files (${names})`}; "recovery-points undo" again brings them back.`];
}

/** The folder lines of a dry run, restore or diff: empty when the point's folders are the workspace's. */
function formatMapping(mapping: FolderMapping): string[] {
  const lines = describeMapping(mapping);
  return lines.length === 0 ? [] : ['Folders:', ...lines.map((line) => `  ${line}`)];
}

/** `{ folders }` when the point's folders are not the workspace's one for one under the same names. */
function mappingAsJson(mapping: FolderMapping | undefined): { folders?: FolderMapping } {
  return mapping && describeMapping(mapping).length > 0 ? { folders: mapping } : {};
}

function formatPreview(plan: RestorePreview, roots: readonly WorkspaceRoot[], point: PointSummary | undefined): string {
  const lines = changeLines(roots, plan.add, plan.modify, plan.remove);
  const left = plan.leftAlone.map((l) => `  ${t(typedPath(roots, l.path))}: ${t(l.reason)}`);
  const from = point ? ` from ${point.id}${point.label ? ` [${t(point.label)}]` : ''}` : '';
  return [
    ...(lines.length === 0 ? [`Nothing to restore${from}: the files ${left.length === 0 ? 'already match' : 'that differ cannot be restored'}.`] : [`Would restore ${plural(lines.length, 'file')}${from}:`, ...lines]),
    ...(left.length === 0 ? [] : [`Would leave ${plural(left.length, 'file')} as ${left.length === 1 ? 'it is' : 'they are'}:`, ...left]),
  ].join('\n');
}

/** "Note: the folder was on branch master when the point was made and is on branch feature now: …". */
function headsMovedLines(moved: readonly MovedHead[], roots: readonly WorkspaceRoot[]): string[] {
  return moved.length === 0 ? [] : [`Note: ${t(headsMovedNote(moved, roots.length === 1))}.`];
}

function headsMovedAsJson(moved: readonly MovedHead[]): { headsMoved?: readonly MovedHead[] } {
  return moved.length === 0 ? {} : { headsMoved: moved };
}

function previewAsJson(plan: RestorePreview) {
  return { add: plan.add.map((c) => c.path), modify: plan.modify.map((c) => c.path), remove: plan.remove.map((c) => c.path), leftAlone: plan.leftAlone };
}
