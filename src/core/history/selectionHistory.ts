import { diffArrays } from 'diff';
import type { ObjectReader } from '../objects/objectStore';
import type { RecoveryStore } from '../recoveryStore';
import { readFileHistory, type FileHistory, type FileVersion } from './fileHistory';
import { isBinary, type LineCounts } from './lineChanges';

/** Lines of a text, 0-based: `start` included, `end` excluded. */
export interface LineRange {
  readonly start: number;
  readonly end: number;
}

/** A version of the file that changed the tracked lines. */
export interface SelectionVersion {
  /** The File History's entry of that version. */
  readonly version: FileVersion;
  /** Where the tracked lines are in this version. */
  readonly range: LineRange;
  /** Those lines (without line breaks). */
  readonly lines: readonly string[];
  /** Where they were in the version before it, and its lines; `null` when they did not exist before (added here, or the file was created). */
  readonly before: { readonly range: LineRange; readonly lines: readonly string[] } | null;
  /** Lines added and removed inside the region against the version before it. */
  readonly counts: LineCounts;
}

export interface SelectionHistory {
  readonly path: string;
  /** The lines asked about, in the text given as current. */
  readonly range: LineRange;
  /** The versions in which those lines changed, newest first. */
  readonly versions: SelectionVersion[];
}

/** Past this many lines changed between two versions, their diff is not searched for: the whole file counts as changed. */
const MAX_EDIT_LENGTH = 20_000;

/** A text's lines without their breaks (`\n` or `\r\n`); a final line break does not start a line. */
export function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** A run of lines that is the same on both sides, or changed (removed from `older`, added in `newer`, or both). */
interface Segment {
  readonly same: boolean;
  readonly older: LineRange;
  readonly newer: LineRange;
}

/** The line diff of two texts as alternating runs of same and changed lines; `undefined` when too different to search. */
function segments(older: readonly string[], newer: readonly string[]): Segment[] | undefined {
  const changes = diffArrays(older as string[], newer as string[], { maxEditLength: MAX_EDIT_LENGTH });
  if (!changes) return undefined;
  const out: Segment[] = [];
  let o = 0;
  let n = 0;
  for (const change of changes) {
    const count = change.count ?? change.value.length;
    const same = !change.added && !change.removed;
    const last = out[out.length - 1];
    const olderEnd = change.added ? o : o + count;
    const newerEnd = change.removed ? n : n + count;
    if (last && !last.same && !same) out[out.length - 1] = { same: false, older: { start: last.older.start, end: olderEnd }, newer: { start: last.newer.start, end: newerEnd } };
    else out.push({ same, older: { start: o, end: olderEnd }, newer: { start: n, end: newerEnd } });
    o = olderEnd;
    n = newerEnd;
  }
  return out;
}

/**
 * Where `range` of the newer text lies in the older one: each end is carried through the same lines,
 * and an end that falls in changed lines takes that change in whole (as JetBrains and `git log -L`
 * track a range). `undefined` when the texts are too different to tell.
 */
export function mapRange(older: readonly string[], newer: readonly string[], range: LineRange): LineRange | undefined {
  const diff = segments(older, newer);
  if (!diff) return undefined;
  const containing = (line: number) => diff.find((s) => s.newer.start <= line && line < s.newer.end);
  const startAt = (line: number): number => {
    const s = containing(line);
    if (!s) return older.length;
    return s.same ? s.older.start + (line - s.newer.start) : s.older.start;
  };
  if (range.end <= range.start) {
    const at = startAt(range.start);
    return { start: at, end: at };
  }
  const start = startAt(range.start);
  const last = containing(range.end - 1)!;
  const end = last.same ? last.older.start + (range.end - 1 - last.newer.start) + 1 : last.older.end;
  return { start, end: Math.max(start, end) };
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

function regionCounts(before: readonly string[], after: readonly string[]): LineCounts {
  const changes = diffArrays(before as string[], after as string[], { maxEditLength: MAX_EDIT_LENGTH });
  if (!changes) return { added: after.length, removed: before.length };
  let added = 0;
  let removed = 0;
  for (const change of changes) {
    if (change.added) added += change.count ?? change.value.length;
    else if (change.removed) removed += change.count ?? change.value.length;
  }
  return { added, removed };
}

/**
 * The versions of a file (its File History, newest first) in which the lines `range` of `currentText`
 * changed: the range is carried back through each version by line diff, and a version is listed when
 * the lines in its range differ from the lines in the version before it. The walk stops where the
 * lines did not exist yet (or the file did not, or was binary).
 */
export async function selectionHistory(objects: ObjectReader, history: FileHistory, currentText: string, range: LineRange): Promise<SelectionHistory> {
  const versions: SelectionVersion[] = [];
  let newerLines = splitLines(currentText);
  let newerRange = clamp(range, newerLines.length);
  let newer: { version: FileVersion; lines: string[]; range: LineRange } | undefined;
  const done = (): SelectionHistory => ({ path: history.path, range, versions });

  for (const version of history.versions) {
    if (version.kind === 'deleted' || version.hash === null) {
      // The file did not exist after this version's point: a deletion before anything was listed (a file deleted on disk and still open) is passed over.
      if (newer) break;
      continue;
    }
    const bytes = await objects.readBlob(version.hash);
    if (isBinary(bytes)) break;
    const lines = splitLines(bytes.toString('utf8'));
    const mapped = mapRange(lines, newerLines, newerRange);
    if (!mapped) break;
    if (newer) {
      const newerRegion = newer.lines.slice(newer.range.start, newer.range.end);
      const olderRegion = lines.slice(mapped.start, mapped.end);
      if (!sameLines(newerRegion, olderRegion)) versions.push(listed(newer, { range: mapped, lines: olderRegion }));
    }
    if (mapped.end <= mapped.start) return done();
    newer = { version, lines, range: mapped };
    newerLines = lines;
    newerRange = mapped;
  }
  // The oldest version reached: its lines were new there (the file was created, or came back after a deletion).
  if (newer) versions.push(listed(newer, null));
  return done();
}

function listed(version: { version: FileVersion; lines: string[]; range: LineRange }, before: SelectionVersion['before']): SelectionVersion {
  const lines = version.lines.slice(version.range.start, version.range.end);
  return { version: version.version, range: version.range, lines, before, counts: regionCounts(before?.lines ?? [], lines) };
}

function clamp(range: LineRange, lineCount: number): LineRange {
  const start = Math.max(0, Math.min(range.start, lineCount));
  return { start, end: Math.max(start, Math.min(range.end, lineCount)) };
}

/** The history of lines `range` of a workspace file whose text is `currentText` now (an editor's, saved or not). */
export async function readSelectionHistory(store: RecoveryStore, workspacePath: string, currentText: string, range: LineRange): Promise<SelectionHistory> {
  const [history, objects] = await Promise.all([readFileHistory(store, workspacePath, { lineCounts: false }), store.persistence.objects()]);
  return selectionHistory(objects, history, currentText, range);
}
