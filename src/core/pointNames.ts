import * as path from 'node:path';
import type { FileChange, MovedHead, TreeDiff } from './capture';
import { movedPrefixes, pairRenames } from './capture/renames';
import { isNowTracked, isUntracked } from './capture/untracked';
import { formatRelativeTime, groupDigits, plural } from './format';
import { pointTime } from './ids';
import type { GitHead, PointSummary, Trigger } from './schemas';

/**
 * Every point's name in words people recognise ("Saved app.ts", "Switched branch x → master",
 * "Restored 'Saved app.ts' (20 files)"): built here, for the extension and the command-line tool alike.
 */

/**
 * "app.ts, util.ts", "a.ts, b.ts, c.ts and 397 more", "ws/index.js, router/index.js", "no changes". Of
 * more than three files, where they are when their names alone would not say (`whereFilesAre`): "g0.js,
 * g1.js, g10.js and 1,197 more in 40 folders", "… and 397 more in src/gen".
 */
export function describeFiles(paths: readonly string[]): string {
  if (paths.length === 0) return 'no changes';
  const shown = paths.slice(0, 3).map((p) => p.replaceAll('\\', '/'));
  const names = shown.map((p) => path.posix.basename(p));
  // files of the same name are told apart by their folder's, as the editor's tabs do
  const labels = names.map((name, i) => (names.indexOf(name) === names.lastIndexOf(name) ? name : shown[i]!.split('/').slice(-2).join('/')));
  return paths.length <= 3 ? labels.join(', ') : `${labels.join(', ')} and ${groupDigits(paths.length - 3)} more${whereFilesAre(paths)}`;
}

/** A folder named in a point's name is cut to its last two parts beyond this length ("…/generated/api"). */
const MAX_NAMED_FOLDER = 40;

/**
 * " in src/gen" (every file in that folder), " in 40 folders", " in 40 folders under src" (below a
 * common folder), or nothing: the files are at the top of one workspace folder, or the paths are not
 * point paths (`folder/rel`), whose first part, the workspace folder's name, is left out.
 */
function whereFilesAre(paths: readonly string[]): string {
  if (paths.some((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p))) return '';
  const folders = new Set(paths.map((p) => path.posix.dirname(p.replaceAll('\\', '/'))));
  let common: string[] | undefined;
  for (const folder of folders) {
    const parts = folder === '.' ? [] : folder.split('/');
    if (!common) common = parts;
    else {
      let n = 0;
      while (n < common.length && n < parts.length && common[n] === parts[n]) n++;
      common = common.slice(0, n);
    }
  }
  const below = (common ?? []).slice(1);
  const named = below.join('/');
  const shown = named.length > MAX_NAMED_FOLDER && below.length > 2 ? `\u2026/${below.slice(-2).join('/')}` : named;
  if (folders.size === 1) return shown ? ` in ${shown}` : '';
  return ` in ${groupDigits(folders.size)} folders${shown ? ` under ${shown}` : ''}`;
}

/** The name of a point made with nothing before it. */
export const FIRST_POINT_SUMMARY = 'First recovery point';

/** What else is known of how a point's changes came about, for its name (`describeChanges`). */
export interface ChangeContext {
  /**
   * For a save whose point looked at every file (the editor could not vouch for what it saw), the
   * saved files' point paths: the other changes are named as made outside the editor.
   */
  readonly saved?: ReadonlySet<string>;
  /** The repository's HEAD the point before and now, when they differ: "Switched branch x → master". */
  readonly switched?: { readonly before: GitHead; readonly after: GitHead };
  /** The git commands that moved HEAD since the point before (`readGitActions`): "git pull: app.ts". */
  readonly gitActions?: readonly string[];
  /** Changes on disk (`external`) that happened while automatic points were off. */
  readonly whileOff?: boolean;
  /** For a start-up point: its changed files (point paths) modified on disk after the editor opened, not while it was closed. */
  readonly sinceOpened?: ReadonlySet<string>;
  /** Workspace folders the point before did not have, and those it had that are gone from the workspace: named as such, not as their files' changes. */
  readonly folders?: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly moved?: readonly string[] };
  /**
   * Changes the caller itself made (a setting it wrote), each with its name: `matches` tells its files'
   * point paths. Named first, and the rest as usual after them ("Turned automatic recovery points on
   * (settings.json); changed while automatic points were off: app.ts").
   */
  readonly own?: readonly OwnChange[];
}

/** A change the caller made itself, named for what it did (`ChangeContext.own`). */
export interface OwnChange {
  readonly name: string;
  readonly matches: (pointPath: string) => boolean;
}

/**
 * "Saved app.ts, util.ts", "Changed outside the editor: 1,000 files": what a trigger's changes were.
 * Changes on disk (`external`, `startup`) are named after a branch switch ("Switched branch x →
 * master (while the editor was closed)"), else after the git commands since the point before ("git
 * pull: app.ts"), else after a move ("Moved src/cli → src/tool (34 files)"). `tracking`: the point's
 * deletions of files still on disk (`untracked`) and additions of files that were there before
 * (`nowTracked`), named apart: "Saved .gitignore; no longer tracked: app.js, app.js.map".
 */
export function describeChanges(trigger: Trigger, changes: TreeDiff, tracking: Pick<PointSummary, 'untracked' | 'nowTracked'> = {}, context: ChangeContext = {}): string {
  if (context.own && context.own.length > 0) {
    const ownOf = (c: FileChange) => context.own!.find((own) => own.matches(c.path));
    const names = new Set([...changes.modified, ...changes.added, ...changes.deleted].map(ownOf).filter((own) => own !== undefined).map((own) => own.name));
    if (names.size > 0) {
      const notOwn = (c: FileChange) => ownOf(c) === undefined;
      const rest = { added: changes.added.filter(notOwn), modified: changes.modified.filter(notOwn), deleted: changes.deleted.filter(notOwn) };
      const ownName = [...names].join('; ');
      const folders = context.folders ? context.folders.added.length + context.folders.removed.length + (context.folders.moved?.length ?? 0) : 0;
      if (rest.added.length + rest.modified.length + rest.deleted.length === 0 && !context.switched && folders === 0) return ownName;
      const named = describeChanges(trigger, rest, tracking, { ...context, own: undefined });
      return `${ownName}; ${named.charAt(0).toLowerCase()}${named.slice(1)}`;
    }
  }
  const added = context.folders?.added ?? [];
  const removed = context.folders?.removed ?? [];
  const moved = context.folders?.moved ?? [];
  if (added.length + removed.length + moved.length === 0) return describeInFolders(trigger, changes, tracking, context);
  const under = (names: readonly string[]) => (c: FileChange) => names.some((name) => c.path.startsWith(`${name}/`));
  const folders = (names: readonly string[]) => `${names.length === 1 ? 'folder' : 'folders'} ${names.join(', ')}`;
  const parts = [
    ...(added.length > 0 ? [`Added ${folders(added)} to the workspace (${plural(changes.added.filter(under(added)).length, 'file')})`] : []),
    ...(removed.length > 0 ? [`Removed ${folders(removed)} from the workspace`] : []),
    // renamed or moved on disk (the workspace file following): its files are where they were in it
    ...(moved.length > 0 ? [`${moved.some((m) => /[\\/]/.test(m)) ? 'Moved' : 'Renamed'} ${folders(moved)}`] : []),
  ];
  const elsewhere = (c: FileChange) => !under(added)(c) && !under(removed)(c);
  const rest = { added: changes.added.filter(elsewhere), modified: changes.modified.filter(elsewhere), deleted: changes.deleted.filter(elsewhere) };
  if (rest.added.length + rest.modified.length + rest.deleted.length > 0) {
    const named = describeInFolders(trigger, rest, tracking, context);
    parts.push(`${named.charAt(0).toLowerCase()}${named.slice(1)}`);
  }
  return parts.join('; ');
}

/** `describeChanges` of the changes in folders the point before had too. */
function describeInFolders(trigger: Trigger, changes: TreeDiff, tracking: Pick<PointSummary, 'untracked' | 'nowTracked'>, context: ChangeContext): string {
  const onDisk = trigger === 'external' || trigger === 'startup';
  // a change on disk with a repository's HEAD moved is named after the switch, then its files (which the switch need not explain: a `checkout -b` changes none)
  const switchName = context.switched && onDisk ? switchedBranchName(context.switched.before, context.switched.after) : undefined;
  const off = context.whileOff === true && trigger === 'external';
  // a start-up point with files written since the editor opened: not all of it happened while it was closed
  const opened = trigger === 'startup' && context.sinceOpened !== undefined && [...changes.modified, ...changes.added].some((c) => context.sinceOpened!.has(c.path));
  const when = trigger === 'startup' && !opened ? ' while the editor was closed' : off ? ' while automatic points were off' : '';
  const git = onDisk && context.gitActions && context.gitActions.length > 0 ? context.gitActions.slice(-3).join(', then ') : undefined;
  const files = (rest: TreeDiff) => describeFiles([...rest.modified, ...rest.added, ...rest.deleted].map((c) => c.path));
  const tracked = (rest: TreeDiff) =>
    switchName
      ? `${switchName}${when}${rest.added.length + rest.modified.length + rest.deleted.length > 0 ? `: ${files(rest)}` : ''}`
      : git
        ? `${git}${when}: ${files(rest)}`
        : off
          ? `${changedOrDeleted(rest)} while automatic points were off: ${files(rest)}`
          : describeTracked(trigger, rest, context.saved, opened ? context.sinceOpened : undefined);
  if (!tracking.untracked && !tracking.nowTracked) return tracked(changes);
  const stopped = changes.deleted.filter((c) => isUntracked(tracking, c.path)).map((c) => c.path);
  const started = changes.added.filter((c) => isNowTracked(tracking, c.path)).map((c) => c.path);
  const rest = { added: changes.added.filter((c) => !isNowTracked(tracking, c.path)), modified: changes.modified, deleted: changes.deleted.filter((c) => !isUntracked(tracking, c.path)) };
  const parts = [
    ...(switchName || rest.added.length + rest.modified.length + rest.deleted.length > 0 ? [tracked(rest)] : []),
    ...(started.length > 0 ? [`now tracked: ${describeFiles(started)}`] : []),
    ...(stopped.length > 0 ? [`no longer tracked: ${describeFiles(stopped)}`] : []),
  ];
  const name = parts.join('; ');
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

function describeTracked(trigger: Trigger, changes: TreeDiff, saved?: ReadonlySet<string>, sinceOpened?: ReadonlySet<string>): string {
  // changes on disk that moved a folder or renamed a file (`git mv`): named after the move, then the rest
  const moves = trigger === 'external' || trigger === 'startup' ? describeMoves(changes) : undefined;
  if (moves) {
    const { added, modified, deleted } = moves.rest;
    if (added.length + modified.length + deleted.length === 0) return `${moves.name}${trigger === 'startup' && !sinceOpened ? ' while the editor was closed' : ''}`;
    const rest = describeTracked(trigger, moves.rest, saved, sinceOpened);
    return `${moves.name}; ${rest.charAt(0).toLowerCase()}${rest.slice(1)}`;
  }
  const paths = [...changes.modified, ...changes.added, ...changes.deleted].map((c) => c.path);
  const files = describeFiles(paths);
  const changed = changedOrDeleted(changes);
  switch (trigger) {
    case 'save': {
      const outside = saved ? paths.filter((p) => !saved.has(p)) : [];
      if (outside.length === 0) return `Saved ${files}`;
      const inside = paths.filter((p) => saved!.has(p));
      if (inside.length === 0) return `Changed outside the editor: ${describeFiles(outside)}`;
      return `Saved ${describeFiles(inside)}; changed outside the editor: ${describeFiles(outside)}`;
    }
    case 'external':
      return `${changed} outside the editor: ${files}`;
    case 'startup': {
      // files written since the editor opened (saved while the extension was starting), apart
      const since = sinceOpened ? paths.filter((p) => sinceOpened.has(p)) : [];
      if (since.length === 0) return `${changed} while the editor was closed: ${files}`;
      const closed = paths.filter((p) => !sinceOpened!.has(p));
      if (closed.length === 0) return `Changed since the editor opened: ${files}`;
      return `Changed while the editor was closed: ${describeFiles(closed)}; since it opened: ${describeFiles(since)}`;
    }
    case 'before-restore':
      return `Before restore (${files})`;
    case 'restore':
      return `Restored (${files})`;
    case 'agent':
      return `${changed} by an agent: ${files}`;
    case 'manual':
      // "Created by hand: g.txt" read as g.txt created, for a point that deleted it
      return paths.length === 0 ? 'Created by hand' : `Created by hand; changed: ${files}`;
  }
}

/**
 * A move on disk among `changes`: files deleted at one path and added with the same content at
 * another, all under one folder moved ("Moved src/cli → src/tool (34 files)"), or one file ("Renamed
 * a.ts → b.ts", "Moved a.ts → lib/a.ts"); with what else changed. `undefined` when there is none, or
 * when the renamed files are not one folder's.
 */
function describeMoves(changes: TreeDiff): { readonly name: string; readonly rest: TreeDiff } | undefined {
  const pairs = pairRenames(changes).map((p) => ({ ...p, prefix: movedPrefixes(p.from, p.to) }));
  if (pairs.length === 0) return undefined;
  // one file: its paths; several: the folder they moved from and to, which all of them must share
  let [from, to] = pairs.length === 1 ? [pairs[0]!.from, pairs[0]!.to] : pairs[0]!.prefix;
  if (!pairs.every((p) => pairs.length === 1 || (p.prefix[0] === from && p.prefix[1] === to))) return undefined;
  // a folder moved to the top of its workspace folder (src/cli → cli): named with the folder, not the top
  if (pairs.length > 1 && (!from.includes('/') || !to.includes('/'))) {
    const next = (p: { to: string }) => p.to.slice(to.length + 1).split('/')[0];
    const first = next(pairs[0]!);
    if (pairs.every((p) => next(p) === first)) [from, to] = [`${from}/${first}`, `${to}/${first}`];
  }
  const sameRoot = from.split('/')[0] === to.split('/')[0];
  const show = (p: string) => (sameRoot ? p.split('/').slice(1).join('/') || p : p);
  const name =
    pairs.length > 1
      ? `Moved ${show(from)} \u2192 ${show(to)} (${plural(pairs.length, 'file')})`
      : path.posix.dirname(from) === path.posix.dirname(to)
        ? `Renamed ${path.posix.basename(from)} \u2192 ${path.posix.basename(to)}`
        : `Moved ${show(from)} \u2192 ${show(to)}`;
  const moved = new Set(pairs.flatMap((p) => [p.from, p.to]));
  const keep = (list: TreeDiff['added']) => list.filter((c) => !moved.has(c.path));
  return { name, rest: { added: keep(changes.added), modified: changes.modified, deleted: keep(changes.deleted) } };
}

/**
 * A first point shown against a point listed before it (a moved folder's history brought in below it,
 * or a bundle's): "Moved app → app-2", "Moved app → app-2; changed while the editor was closed:
 * index.js", "Changed while the editor was closed: index.js", "No changes since the point before it".
 * Folders elsewhere that share no file with it were no move: "First recovery point; the points before
 * it are another folder's (app)".
 */
export function shownFirstPointName(point: Pick<PointSummary, 'trigger' | 'roots' | 'fileCount'>, base: Pick<PointSummary, 'roots'>, changes: TreeDiff, stillThere: (folder: string) => boolean = () => false): string {
  const unchanged = changes.added.length + changes.modified.length + changes.deleted.length === 0;
  // the same folder in a window of another shape (a history copied from it): folders added or removed, not moved
  const basePaths = new Set(base.roots.map((r) => r.path));
  const pointPaths = new Set(point.roots.map((r) => r.path));
  const added = point.roots.filter((r) => !basePaths.has(r.path)).map((r) => r.name);
  const removed = base.roots.filter((r) => !pointPaths.has(r.path)).map((r) => r.name);
  if (point.roots.some((r) => basePaths.has(r.path)) && added.length + removed.length > 0) {
    return describeChanges(point.trigger, changes, {}, { folders: { added, removed } });
  }
  const names = (p: Pick<PointSummary, 'roots'>) => p.roots.map((r) => r.name).join(', ');
  const paths = (p: Pick<PointSummary, 'roots'>) => p.roots.map((r) => r.path).join(', ');
  const elsewhere = names(base) !== names(point) ? names(base) : paths(base);
  const moved = paths(base) === paths(point) ? undefined : names(base) !== names(point) ? `${names(base)} \u2192 ${names(point)}` : `${paths(base)} \u2192 ${paths(point)}`;
  // every file of the point is new against them, and some of theirs are gone: another project's history, not this one's;
  // or their folders are all still there (a copy's or a clone's history, imported): nothing moved
  if (moved && point.fileCount > 0 && changes.added.length === point.fileCount && changes.deleted.length > 0) return `${FIRST_POINT_SUMMARY}; the points before it are another folder's (${elsewhere})`;
  if (moved && base.roots.every((r) => stillThere(r.path))) return `${FIRST_POINT_SUMMARY}; the points before it are another folder's (${elsewhere})`;
  const described = describeChanges(point.trigger, changes);
  if (!moved) return unchanged ? 'No changes since the point before it' : described;
  return unchanged ? `Moved ${moved}` : `Moved ${moved}; ${described.charAt(0).toLowerCase()}${described.slice(1)}`;
}

/**
 * How a point is named inside another point's name, one level deep: its label in double quotes, its
 * summary in single quotes, and a point that is itself about a restore by what it is and its time
 * (so names never nest: no "Before restoring 'Before restoring …'").
 */
export function quotedPointName(point: Pick<PointSummary, 'label' | 'summary' | 'trigger' | 'createdAt'>): string {
  if (point.label) return `"${point.label}"`;
  // a restore's safety point and the point of its result are made within a second: told apart by what they are
  if (point.trigger === 'before-restore') return `the safety point of ${formatClock(point.createdAt)}`;
  if (point.trigger === 'restore') return `the point after the restore of ${formatClock(point.createdAt)}`;
  return `'${point.summary}'`;
}

/**
 * What an undo did, naming the restore it undid, which may be older than the person thinks (a restore
 * stopped before it changed anything is no restore to undo): "Undid the restore of 'Saved app.ts'
 * (restored 5 min ago)"; an undo of an undo, "Redid the restore of 'Saved app.ts'", and of that,
 * "Undid the restore of 'Saved app.ts' again". `safety`: the safety point of the restore undone,
 * which the undo restores (its time is when that restore ran).
 */
export function undoDone(undid: Pick<PointSummary, 'label' | 'summary' | 'trigger' | 'createdAt'> | null | undefined, safety: Pick<PointSummary, 'id' | 'summary' | 'createdAt'>, now = Date.now()): string {
  const chain = undoChain(safety);
  if (chain) return chainName(chain, 'Redid', 'Undid');
  return `Undid the restore of ${undid ? quotedPointName(undid) : 'a point no longer kept'} (restored ${formatRelativeTime(pointTime(safety), now)})`;
}

/**
 * An undo of a restore that was an undo or a redo itself, told by that restore's safety point (what
 * the undo restores): after an undo ("Before undoing …") it redoes the first restore, after a redo
 * ("Before redoing …") it undoes it again; with the first restore's point as that name quotes it, when
 * it does. `undefined` after a restore ("Before restoring …"): a plain undo.
 */
export function undoChain(safety: Pick<PointSummary, 'summary'>): { readonly redo: boolean; readonly quoted?: string } | undefined {
  const named = /^Before (undoing|redoing) (?:the restore of )?(.+?)(?: again)?$/.exec(safety.summary);
  if (!named) return undefined;
  const quoted = named[2]!;
  const redo = named[1] === 'undoing';
  return /^(['"]|the point of )/.test(quoted) ? { redo, quoted } : { redo };
}

/** "Redid the restore of 'Saved app.ts'", "Undid the restore of 'Saved app.ts' again" (`redid`, `undid`: the verbs). */
function chainName(chain: NonNullable<ReturnType<typeof undoChain>>, redid: string, undid: string): string {
  if (chain.redo) return `${redid} the restore ${chain.quoted ? `of ${chain.quoted}` : 'the last undo reverted'}`;
  return `${undid} the ${chain.quoted ? `restore of ${chain.quoted}` : 'last restore'} again`;
}

/** A restore's safety point: "Before restoring 'Saved app.ts'"; for an undo, "Before undoing the restore of 'Saved app.ts'". */
export function safetyPointName(target: Pick<PointSummary, 'label' | 'summary' | 'trigger' | 'createdAt'>, undoOf?: Pick<PointSummary, 'label' | 'summary' | 'trigger' | 'createdAt'> | null): string {
  // an undo restores the safety point of the restore it undoes, which was an undo or a redo itself
  const chain = undoOf === undefined ? undefined : undoChain(target);
  if (chain) return `Before ${chainName(chain, 'redoing', 'undoing')}`;
  if (undoOf !== undefined) return undoOf ? `Before undoing the restore of ${quotedPointName(undoOf)}` : 'Before undoing the last restore';
  return `Before restoring ${quotedPointName(target)}`;
}

/**
 * The point a restore leaves: "Restored 'Saved app.ts' (20 files)"; a restore of chosen files
 * (`chosen`: the paths it wrote and those it removed, and the paths it was asked for) names up to three of them
 * (more: the folders asked for, "Restored reliability/ from 'Saved app.ts' (21 files)"), "Restored ids.ts from 'Saved
 * app.ts'", so two such restores from one point read apart; after an undo, "Undid restore of 'Saved app.ts' (2 files)".
 */
export function restoredPointName(
  target: Pick<PointSummary, 'label' | 'summary' | 'trigger' | 'createdAt'>,
  files: number,
  undoOf?: Pick<PointSummary, 'label' | 'summary' | 'trigger' | 'createdAt'> | null,
  chosen?: { readonly written: readonly string[]; readonly removed: readonly string[]; readonly asked?: readonly string[] },
): string {
  const count = `(${plural(files, 'file')})`;
  const chain = undoOf === undefined ? undefined : undoChain(target);
  if (chain) return `${chainName(chain, 'Redid', 'Undid')} ${count}`;
  if (undoOf !== undefined) return undoOf ? `Undid restore of ${quotedPointName(undoOf)} ${count}` : `Undid restore ${count}`;
  const total = chosen ? chosen.written.length + chosen.removed.length : 0;
  if (chosen && total > 0 && total <= 3) {
    // files the point does not have were deleted, not restored
    if (chosen.written.length === 0) return `Deleted ${describeFiles(chosen.removed)} as in ${quotedPointName(target)}`;
    const deleted = chosen.removed.length > 0 ? ` (deleted ${describeFiles(chosen.removed)})` : '';
    return `Restored ${describeFiles(chosen.written)} from ${quotedPointName(target)}${deleted}`;
  }
  // a folder (or a few) restored: named as asked, a folder with its "/"
  if (chosen?.asked && chosen.asked.length > 0 && chosen.asked.length <= 3) {
    const files = new Set([...chosen.written, ...chosen.removed]);
    const asked = chosen.asked.map((p) => (files.has(p) ? path.posix.basename(p) : `${path.posix.basename(p)}/`));
    return `Restored ${asked.join(', ')} from ${quotedPointName(target)} ${count}`;
  }
  return `Restored ${quotedPointName(target)} ${count}`;
}

function headName(head: GitHead): string {
  return 'branch' in head ? head.branch : head.commit.slice(0, 7);
}

/** Where a point's folder was in its repository: "on branch main", "at commit 1a2b3c4". */
export function describeHead(head: GitHead): string {
  return 'branch' in head ? `on branch ${head.branch}` : `at commit ${headName(head)}`;
}

/**
 * What a restore does not change, when a folder's repository moved since the point: "the folder was on
 * branch master when the point was made and is on branch feature now: the restore changes files, not
 * the branch" (`oneFolder`: the workspace has one folder, not named).
 */
export function headsMovedNote(moved: readonly MovedHead[], oneFolder: boolean): string {
  const parts = moved.map((m) => `${oneFolder ? 'the folder' : m.folder} was ${describeHead(m.then)} when the point was made and is ${describeHead(m.now)} now`);
  return `${parts.join('; ')}: the restore changes files, not ${moved.length === 1 ? 'the branch' : 'branches'}`;
}

/** "Switched branch x → master", "Checked out 1a2b3c4 (was on master)". */
export function switchedBranchName(before: GitHead, after: GitHead): string {
  if ('branch' in after && 'branch' in before) return `Switched branch ${before.branch} → ${after.branch}`;
  if ('branch' in after) return `Switched to branch ${after.branch} (from ${headName(before)})`;
  return `Checked out ${headName(after)} (was on ${headName(before)})`;
}

/** A file operation done through the editor (the explorer, a refactoring), by absolute paths. */
export type EditorFileOperation = { readonly kind: 'delete' | 'create'; readonly path: string } | { readonly kind: 'rename'; readonly from: string; readonly to: string };

/** "Deleted x.ts in the explorer", "Renamed a.ts → b.ts", "Created c.ts, d.ts in the explorer". */
export function editorOperationsName(operations: readonly EditorFileOperation[]): string {
  const base = (p: string) => path.basename(p);
  const renames = operations.filter((op) => op.kind === 'rename');
  const paths = (kind: 'delete' | 'create') => operations.flatMap((op) => (op.kind === kind ? [op.path] : []));
  const deletes = paths('delete');
  const creates = paths('create');
  const parts: string[] = [];
  if (renames.length === 1) parts.push(`Renamed ${base(renames[0]!.from)} → ${base(renames[0]!.to)}`);
  else if (renames.length > 1) parts.push(`Renamed ${describeFiles(renames.map((op) => op.from))}`);
  if (deletes.length > 0) parts.push(`Deleted ${describeFiles(deletes)}`);
  if (creates.length > 0) parts.push(`Created ${describeFiles(creates)}`);
  const text = parts.join('; ');
  return renames.length > 0 && deletes.length === 0 && creates.length === 0 ? text : `${text} in the explorer`;
}

/** "Saved app.ts before the editor stopped": the point of saves a window killed in their merge window left. */
export function savedBeforeStopName(paths: readonly string[]): string {
  return `Saved ${describeFiles(paths)} before the editor stopped`;
}

/** "Saved in another window: app.ts". */
export function otherWindowSaveName(paths: readonly string[]): string {
  return `Saved in another window: ${describeFiles(paths)}`;
}

function formatClock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "Deleted" for changes that only deleted files (a folder removed outside the editor, say), as people look for them; "Changed" otherwise. */
function changedOrDeleted(changes: TreeDiff): 'Changed' | 'Deleted' {
  return changes.added.length === 0 && changes.modified.length === 0 && changes.deleted.length > 0 ? 'Deleted' : 'Changed';
}
