import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatRelativeTime, plural } from '../core/format';
import { checkPathGlobs, searchHistory, SearchPattern, StateError, typedPath, type SearchHit, type SearchProgress, type VersionSpan, type WorkspaceRoot } from '../core';
import { searchHistoryInWorker, type SearchWorkerOptions } from '../core/history/searchWorker';
import type { CommandSpec } from './commandIndex';
import { escapeForTerminal as t } from './terminalText';

/**
 * `search PATTERN`: every version of every file the store holds, each distinct content once, newest
 * first, printed as found (with `--json`: one JSON object per line, a summary last). Ctrl+C stops it.
 */
export const SEARCH_COMMANDS: Record<string, CommandSpec> = {
  search: {
    positionals: [1, 1],
    withoutFolder: true,
    options: ['--regex', '--case-sensitive', '--paths'],
    run: async (store, args, out) => {
      const pattern = args.positionals[0]!;
      const options = { regex: args.regex, caseSensitive: args.caseSensitive };
      try {
        new SearchPattern(pattern, options);
        checkPathGlobs(args.paths ?? []);
      } catch (error) {
        if (!(error instanceof StateError)) throw error;
        process.stderr.write(`recovery-points: ${t(error.message)}\n`);
        out.exitWith(2);
        return;
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      // a reader that went away (`| head`) ends the search instead of failing on the next write
      const closed = (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? stop() : undefined);
      process.stdout.on('error', closed);
      const write = (text: string) => process.stdout.write(`${text}\n`);
      let last: SearchProgress | undefined;
      // a regular expression that backtracks without end (`(a+)+$`) never finishes a version: a script
      // or an agent without a terminal to press Ctrl+C in would wait forever
      let lastProgressAt = 0;
      let stalled = false;
      const watchdog = args.regex
        ? setInterval(() => {
            if (lastProgressAt === 0 || Date.now() - lastProgressAt < STALL_MS) return;
            stalled = true;
            stop();
          }, 1000)
        : undefined;
      try {
        const searchOptions = {
          ...options,
          paths: args.paths,
          signal: controller.signal,
          onProgress: (p: SearchProgress) => {
            last = p;
            lastProgressAt = Date.now();
          },
        };
        // in a worker, so that Ctrl+C stops even a match that runs on without end (`(a+)+$` on a long line)
        const worker = searchWorkerBeside();
        const search = worker ? searchHistoryInWorker(worker, store, pattern, searchOptions) : searchHistory(store, pattern, searchOptions);
        for await (const hit of search) write(args.json ? JSON.stringify(hit) : formatHit(hit, store.persistence.workspaceRoots));
      } finally {
        process.removeListener('SIGINT', stop);
        clearInterval(watchdog);
      }
      if (stalled) {
        process.stderr.write(`recovery-points: the search was stopped: one version took more than ${STALL_MS / 1000} s to search with this regular expression (one that backtracks without end, as "(a+)+$" does?).\n`);
        out.exitWith(1);
      }
      if (!last || process.stdout.destroyed) return;
      if (args.json) write(JSON.stringify({ summary: last }));
      else write(formatSummary(last));
      if (!last.done && !stalled) out.exitWith(130);
    },
  },
};

/** A regular expression's search stops when no version has been searched for this long. */
const STALL_MS = Number(process.env.RECOVERY_POINTS_SEARCH_STALL_MS) > 0 ? Number(process.env.RECOVERY_POINTS_SEARCH_STALL_MS) : 30_000;

/** The search's worker thread bundled beside the tool (`dist/searchWorker.js`); without it (run from source), the search runs in process. */
export function searchWorkerBeside(): SearchWorkerOptions | undefined {
  const script = path.join(__dirname, '..', 'searchWorker.js');
  return fs.existsSync(script) ? { script } : undefined;
}

function formatHit(hit: SearchHit, roots: readonly WorkspaceRoot[]): string {
  const width = String(hit.lines.at(-1)?.line ?? 0).length;
  return [
    ...hit.spans.map((span) => formatSpan(span, roots)),
    ...hit.lines.map((l) => `  ${String(l.line).padStart(width)}: ${t(l.preview.replace(/\t/g, '  '))}`),
    ...(hit.moreLines ? ['  … more matching lines'] : []),
    '',
  ].join('\n');
}

function formatSpan(span: VersionSpan, roots: readonly WorkspaceRoot[]): string {
  const when = (time: string) => formatRelativeTime(Date.parse(time));
  const shown = t(typedPath(roots, span.path));
  return span.firstPointId === span.lastPointId
    ? `${shown}  in point ${span.firstPointId} (${when(span.firstTime)})`
    : `${shown}  in points ${span.firstPointId} (${when(span.firstTime)}) … ${span.lastPointId} (${when(span.lastTime)})`;
}

export function formatSummary(p: SearchProgress): string {
  const found = p.matches === 0 ? 'No matches' : `${plural(p.matches, 'matching version')}`;
  const skipped = [p.binary > 0 ? `${p.binary} binary skipped` : '', p.unreadable > 0 ? `${p.unreadable} unreadable` : ''].filter(Boolean).join(', ');
  // stopped before the worker reported what it would search: no count to give
  const searched = p.done ? `${plural(p.total, 'version')} searched` : p.total === 0 ? 'stopped before any version was searched' : `stopped after ${p.searched} of ${plural(p.total, 'version')}`;
  return `${found} (${searched}${skipped ? `; ${skipped}` : ''}).`;
}
