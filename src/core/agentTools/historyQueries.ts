import { statSync } from 'node:fs';
import { StateError } from '../errors';
import { groupDigits, plural } from '../format';
import { readFileHistory, type FileVersion } from '../history/fileHistory';
import { searchHistory, type SearchProgress } from '../history/search';
import { isBinaryContent, SearchPattern } from '../history/searchPattern';
import type { VersionSpan } from '../history/versionPlaces';
import { readVersionContent, throughLinkSentence } from '../history/versionContent';
import { absolutePath } from '../recovery/workspacePaths';
import type { RecoveryStore } from '../recoveryStore';
import { agentPath, agentPointPaths, findPoint } from './agentQueries';
import { MAX_READ_BYTES, type FileHistoryInput, type ReadFileVersionInput, type SearchHistoryInput } from './toolInputs';

/** One entry of a file's history as an agent (and `recovery-points log --json`) sees it. */
export interface FileVersionJson {
  /** `version`: new content (or a rename); `deleted`: the point that no longer held the file. */
  readonly kind: 'version' | 'deleted';
  /** The point where this version first appeared. */
  readonly pointId: string;
  readonly createdAt: string;
  readonly trigger: string;
  readonly label: string | null;
  readonly summary: string;
  readonly actor: string;
  /** The newest point of the run of points that kept this version, and how many points that run holds. */
  readonly lastPointId: string;
  readonly pointCount: number;
  /** In the workspace's folder names (`folder/src/app.ts`); agents get it as they give paths (`src/app.ts`, see `agentPath`). */
  readonly path: string;
  /** The content's hash (what read_file_version takes as `version`); `null` for a deletion. */
  readonly hash: string | null;
  readonly size: number;
  readonly binary: boolean;
  /** Lines added and removed against the version before; `null` for binary content and deletions. */
  readonly added: number | null;
  readonly removed: number | null;
  readonly renamedFrom: string | null;
  /** For a deletion: the path the file went on under (a rename or a move in that point). */
  readonly renamedTo: string | null;
  /** The file became a link or a file ("now a link": no line counts), or only its executable bit changed ("now executable"). */
  readonly modeChange: string | null;
  readonly previousPointId: string | null;
  /** An older point whose version had the same content (an undo or a restore went back to it). */
  readonly sameAsPointId: string | null;
  /** For a deletion: the file was not deleted, it was still on disk and the point stopped tracking it (ignored, excluded, too large since). */
  readonly noLongerTracked: boolean;
  /** The file on disk holds this content now. */
  readonly current: boolean;
  /** Clean-up removed points where this change may have happened: "before" (the oldest kept point: the version may be older), "between" (between the entry before and this point). */
  readonly earlierRemoved: 'before' | 'between' | null;
}

export function fileVersionJson(v: FileVersion): FileVersionJson {
  return {
    kind: v.kind,
    pointId: v.point.id,
    createdAt: v.point.createdAt,
    trigger: v.point.trigger,
    label: v.point.label,
    summary: v.point.summary,
    actor: v.point.actor,
    lastPointId: v.lastPointId,
    pointCount: v.pointCount,
    path: v.path,
    hash: v.hash,
    size: v.size,
    binary: v.binary,
    added: v.lines?.added ?? null,
    removed: v.lines?.removed ?? null,
    renamedFrom: v.renamedFrom ?? null,
    renamedTo: v.renamedTo ?? null,
    modeChange: v.modeChange ?? null,
    previousPointId: v.previous?.pointId ?? null,
    sameAsPointId: v.sameAsPointId ?? null,
    noLongerTracked: v.noLongerTracked === true,
    current: v.current,
    earlierRemoved: v.earlierRemoved ?? null,
  };
}

export interface AgentFileHistory {
  readonly path: string;
  /** Newest first, at most `limit`. */
  readonly versions: FileVersionJson[];
  /** Entries in the whole history (more than returned when the limit cut it). */
  readonly total: number;
  /** The file exists on disk now. */
  readonly existsNow: boolean;
}

/** A file's distinct versions, newest first, renames followed; InvalidState when no point holds it. */
export async function agentFileHistory(store: RecoveryStore, input: FileHistoryInput): Promise<AgentFileHistory> {
  const path = agentPointPaths(store, [input.path])[0]!;
  const history = await readFileHistory(store, path);
  if (history.versions.length === 0) {
    const onDisk = absolutePath(store.persistence.workspaceRoots, path);
    if (onDisk && statSync(onDisk, { throwIfNoEntry: false })?.isDirectory()) throw StateError.invalidState(`${input.path} is a folder: file_history takes a file (list_points with a path lists the points that changed files under a folder).`);
    throw StateError.invalidState(throughLinkSentence(store.persistence.workspaceRoots, input.path, path, (link) => agentPath(store.persistence.workspaceRoots, link)) ?? `No recovery point holds ${input.path} (as ${path}); searching history may find it under another name.`);
  }
  const roots = store.persistence.workspaceRoots;
  const versions = history.versions.slice(0, input.limit).map((v) => {
    const json = fileVersionJson(v);
    return {
      ...json,
      path: agentPath(roots, json.path),
      renamedFrom: json.renamedFrom === null ? null : agentPath(roots, json.renamedFrom),
      renamedTo: json.renamedTo === null ? null : agentPath(roots, json.renamedTo),
    };
  });
  return { path: agentPath(roots, path), versions, total: history.versions.length, existsNow: history.currentHash !== null };
}

export function describeFileHistory(history: AgentFileHistory): string {
  const shown = history.versions.length < history.total ? `the newest ${history.versions.length} of ${history.total}` : `${history.total}`;
  const current = history.versions.find((v) => v.current);
  const now = !history.existsNow ? 'The file does not exist now.' : current ? `The file on disk now is the version of point ${current.pointId}.` : 'The file on disk now differs from every version listed.';
  return `${plural(history.total, 'history entry', 'history entries')} for ${history.path}, newest first (${shown} shown). ${now}`;
}

export interface AgentFileVersion {
  readonly path: string;
  /** The point the content was read from. */
  readonly pointId: string;
  readonly hash: string;
  /** The whole version's size in bytes, and the lines it has. */
  readonly size: number;
  readonly lines: number;
  /** The text returned: the whole version, or its first lines when `truncated`. */
  readonly text: string;
  readonly truncated: boolean;
  /** Bytes and lines in `text`. */
  readonly shownBytes: number;
  readonly shownLines: number;
}

/**
 * One version's text: the file at a point (under the path given), or a version its history lists
 * (by hash, renames followed). Text longer than `maxBytes` is cut at the last line end before it;
 * binary content is refused.
 */
export async function agentReadFileVersion(store: RecoveryStore, input: ReadFileVersionInput): Promise<AgentFileVersion> {
  const path = agentPointPaths(store, [input.path])[0]!;
  let pointId: string;
  let pointPath: string;
  if (input.point !== undefined) {
    pointId = (await findPoint(store, input.point)).id;
    pointPath = path;
  } else {
    const wanted = input.version!.toLowerCase();
    const versions = (await readFileHistory(store, path, { lineCounts: false })).versions.filter((v) => v.hash?.startsWith(wanted));
    const hashes = new Set(versions.map((v) => v.hash));
    if (hashes.size === 0) throw StateError.invalidState(`No version ${input.version} in the history of ${input.path}; the file's history lists its versions.`);
    if (hashes.size > 1) throw StateError.invalidState(`"${input.version}" matches ${hashes.size} versions of ${input.path}; give more of the hash.`);
    pointId = versions[0]!.lastPointId;
    pointPath = versions[0]!.path;
  }
  const version = await readVersionContent(store, pointId, pointPath);
  if (!version) {
    const roots = store.persistence.workspaceRoots;
    throw StateError.invalidState(throughLinkSentence(roots, input.path, pointPath, (link) => agentPath(roots, link)) ?? `Recovery point ${pointId} does not hold ${input.path} (as ${pointPath}); the file's history lists its versions and the points that hold them.`);
  }
  const bytes = version.bytes;
  if (isBinaryContent(bytes)) throw StateError.invalidState(`${pointPath} in point ${pointId} is binary (${plural(bytes.length, 'byte')}), so it is not returned as text.`);
  const lines = countLines(bytes);
  let shown = bytes;
  if (bytes.length > input.maxBytes) {
    const lastBreak = bytes.lastIndexOf(0x0a, input.maxBytes - 1);
    shown = bytes.subarray(0, lastBreak >= 0 ? lastBreak + 1 : utf8Boundary(bytes, input.maxBytes));
  }
  return {
    path: agentPath(store.persistence.workspaceRoots, pointPath),
    pointId,
    hash: version.hash,
    size: bytes.length,
    lines,
    text: shown.toString('utf8'),
    truncated: shown.length < bytes.length,
    shownBytes: shown.length,
    shownLines: shown.length < bytes.length ? countLines(shown) : lines,
  };
}

export function describeFileVersion(version: AgentFileVersion): string {
  const whole = `${version.path} as point ${version.pointId} holds it (${plural(version.size, 'byte')}, ${plural(version.lines, 'line')})`;
  if (!version.truncated) return `${whole}.`;
  // no line break within maxBytes: the text ends inside its last line
  const shown = version.text.endsWith('\n') ? `the first ${plural(version.shownLines, 'line')} (${plural(version.shownBytes, 'byte')})` : `the first ${plural(version.shownBytes, 'byte')}, which end inside line ${version.shownLines}`;
  const more =
    version.shownBytes < MAX_READ_BYTES - 64 * 1024
      ? `ask again with a larger maxBytes (at most ${groupDigits(MAX_READ_BYTES)}) for more`
      : `this tool returns at most ${groupDigits(MAX_READ_BYTES)} bytes; the whole version is \`recovery-points cat ${version.pointId} ${version.path}\` in a terminal`;
  return `${whole}. TRUNCATED: only ${shown} are returned; ${more}.`;
}

export interface AgentSearchHit {
  /** The version's content hash (read_file_version takes it as `version`, with one of its paths). */
  readonly hash: string;
  readonly size: number;
  /** Where and when the version was kept, newest first: its path, and the first and last point holding it there. */
  readonly places: readonly VersionSpan[];
  readonly lines: ReadonlyArray<{ line: number; text: string }>;
  readonly moreLines: boolean;
}

export interface AgentSearch {
  readonly pattern: string;
  readonly hits: AgentSearchHit[];
  /** Why the search ended before every version was searched: enough hits, or its time ran out. */
  readonly stopped: 'limit' | 'time' | null;
  readonly searched: number;
  readonly total: number;
  readonly binarySkipped: number;
}

/** How long one search may run before it returns what it found. */
export const SEARCH_TIME_LIMIT_MS = 10_000;

/**
 * Every distinct version of every file the points hold, newest first, searched for the pattern until
 * `limit` versions match or the time limit passes. A malformed pattern is InvalidState before any work.
 * `search`: where it runs (the editor's worker thread, `searchHistoryInWorker`); in process by default.
 */
export async function agentSearchHistory(store: RecoveryStore, input: SearchHistoryInput, timeLimitMs = SEARCH_TIME_LIMIT_MS, search: typeof searchHistory = searchHistory, cancelled?: AbortSignal): Promise<AgentSearch> {
  const options = { regex: input.regex, caseSensitive: input.caseSensitive };
  new SearchPattern(input.pattern, options);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeLimitMs);
  const cancel = () => controller.abort();
  cancelled?.addEventListener('abort', cancel, { once: true });
  const hits: AgentSearchHit[] = [];
  const roots = store.persistence.workspaceRoots;
  let progress: SearchProgress | undefined;
  let stopped: AgentSearch['stopped'] = null;
  try {
    const found = search(store, input.pattern, { ...options, paths: input.paths, maxLinesPerVersion: input.linesPerVersion, signal: controller.signal, onProgress: (p) => (progress = p) });
    for await (const hit of found) {
      hits.push({ hash: hit.hash, size: hit.size, places: hit.spans.map((span) => ({ ...span, path: agentPath(roots, span.path) })), lines: hit.lines.map((l) => ({ line: l.line, text: l.preview })), moreLines: hit.moreLines });
      if (hits.length >= input.limit) {
        stopped = 'limit';
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    cancelled?.removeEventListener('abort', cancel);
  }
  if (stopped === null && controller.signal.aborted) stopped = 'time';
  return { pattern: input.pattern, hits, stopped, searched: progress?.searched ?? 0, total: progress?.total ?? 0, binarySkipped: progress?.binary ?? 0 };
}

export function describeSearch(search: AgentSearch): string {
  // stopped early, "no version matches" would claim what was not searched
  const partial = search.stopped !== null && search.searched < search.total;
  const found =
    search.hits.length === 0
      ? partial
        ? `No version searched matches "${search.pattern}"`
        : `No version of any file matches "${search.pattern}"`
      : `${plural(search.hits.length, 'version')} match "${search.pattern}", newest first`;
  const scope =
    search.stopped === 'limit'
      ? `; stopped at the limit after ${search.searched} of ${plural(search.total, 'version')} (raise limit or narrow paths for more)`
      : search.stopped === 'time' && search.total === 0
        ? '; the time limit ended the search before it had counted the versions to search (narrow paths, or try again)'
        : search.stopped === 'time'
          ? `; the time limit ended the search after ${search.searched} of ${plural(search.total, 'version')} (narrow paths for the rest)`
        : ` (${plural(search.total, 'distinct version')} searched${search.binarySkipped > 0 ? `, ${search.binarySkipped} binary skipped` : ''})`;
  return `${found}${scope}.`;
}

function countLines(bytes: Buffer): number {
  if (bytes.length === 0) return 0;
  let lines = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) lines++;
  return bytes[bytes.length - 1] === 0x0a ? lines : lines + 1;
}

/** The largest length ≤ `max` that does not cut a UTF-8 character. */
function utf8Boundary(bytes: Buffer, max: number): number {
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return end;
}
