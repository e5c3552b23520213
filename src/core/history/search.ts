import type { RecoveryStore } from '../recoveryStore';
import { nextTurn, TimeSlices } from '../timeSlices';
import { isBinaryContent, SearchPattern, type LineMatch, type PatternOptions } from './searchPattern';
import { collectVersionPlaces, type VersionSpan } from './versionPlaces';
import { nowMs } from '../clock';

export interface SearchOptions extends PatternOptions {
  /** Only versions at paths matching one of these globs (picomatch; against `folder/path` and the path inside its folder). */
  readonly paths?: readonly string[];
  /** Stops the search: the iteration ends after the version being read. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: SearchProgress) => void;
  /** Matching lines reported per version (default 100); `moreLines` tells when some were left. */
  readonly maxLinesPerVersion?: number;
  /** Longest stretch of work between two turns of the event loop (default SLICE_MS, 5 ms), so a host stays responsive. */
  readonly sliceMs?: number;
}

export interface SearchProgress {
  /** Distinct versions to search, and searched so far. */
  readonly total: number;
  readonly searched: number;
  readonly totalBytes: number;
  readonly searchedBytes: number;
  readonly matches: number;
  /** Versions left out because they hold binary content (a NUL in the first 8,000 bytes). */
  readonly binary: number;
  /** Versions or points that could not be read (removed by a clean-up meanwhile, or damaged). */
  readonly unreadable: number;
  readonly done: boolean;
}

/** One distinct file version that matches: where and when it was kept, and its matching lines. */
export interface SearchHit {
  readonly hash: string;
  readonly size: number;
  /** Newest first. */
  readonly spans: readonly VersionSpan[];
  readonly lines: readonly LineMatch[];
  readonly moreLines: boolean;
}

const PROGRESS_EVERY_MS = 100;

/**
 * Searches every version of every file the store's points hold, each distinct content once, newest
 * versions first, and yields each matching version as soon as it is read. One version's content is
 * in memory at a time. Throws StateError (InvalidState) for an empty or malformed pattern before any work.
 */
export async function* searchHistory(store: RecoveryStore, pattern: string, options: SearchOptions = {}): AsyncGenerator<SearchHit, SearchProgress> {
  const compiled = new SearchPattern(pattern, options);
  const maxLines = options.maxLinesPerVersion ?? 100;
  const slices = new TimeSlices(options.sliceMs);
  const pause = () => slices.pause();

  const objects = await store.persistence.objects();
  await objects.refresh();
  // the object store's packs and the points index are read in turns of their own
  await nextTurn();
  const points = await store.persistence.listSnapshots();
  await nextTurn();
  const places = await collectVersionPlaces(objects, points, { paths: options.paths, signal: options.signal, pause });
  let progress: SearchProgress = {
    total: places.versions.length,
    searched: 0,
    totalBytes: places.versions.reduce((sum, v) => sum + v.size, 0),
    searchedBytes: 0,
    matches: 0,
    binary: 0,
    unreadable: places.unreadablePoints.length,
    done: false,
  };
  let reported = 0;
  const report = (force = false) => {
    if (!options.onProgress || (!force && nowMs() - reported < PROGRESS_EVERY_MS)) return;
    reported = nowMs();
    options.onProgress(progress);
  };
  report(true);
  const reads = objects.readBlobs(places.versions.map((v) => v.hash), { pause });
  try {
    for (const version of places.versions) {
      if (options.signal?.aborted) break;
      await pause();
      const read = await reads.next();
      let content = read.done ? undefined : read.value.content;
      if (!content) progress = { ...progress, unreadable: progress.unreadable + 1 };
      let hit: SearchHit | undefined;
      if (content && isBinaryContent(content)) progress = { ...progress, binary: progress.binary + 1 };
      else if (content) {
        const found = compiled.matchLines(content, maxLines);
        if (found) hit = { hash: version.hash, size: version.size, spans: version.spans, lines: found.lines, moreLines: found.more };
      }
      content = undefined;
      progress = { ...progress, searched: progress.searched + 1, searchedBytes: progress.searchedBytes + version.size, matches: progress.matches + (hit ? 1 : 0) };
      if (hit) {
        report(true);
        yield hit;
      } else report();
    }
  } finally {
    await reads.return(undefined);
  }
  progress = { ...progress, done: !options.signal?.aborted };
  options.onProgress?.(progress);
  return progress;
}
