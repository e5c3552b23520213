import { Worker } from 'node:worker_threads';
import { describeCause, StateError, type StateErrorKind } from '../errors';
import type { RecoveryStore } from '../recoveryStore';
import type { CaptureRules } from '../capture';
import type { WorkspaceRoot } from '../schemas';
import type { SearchHit, SearchOptions, SearchProgress } from './search';
import { SearchPattern } from './searchPattern';

/** Where a search runs when not on the caller's thread: a worker thread running `script`. */
export interface SearchWorkerOptions {
  /** `dist/searchWorker.js` in the extension (bundled from `src/core/history/searchWorkerMain.ts`). */
  readonly script: string;
}

/** The search options a worker receives (the signal and the progress callback stay with the caller). */
export type WorkerSearchOptions = Pick<SearchOptions, 'regex' | 'caseSensitive' | 'paths' | 'maxLinesPerVersion' | 'sliceMs'>;

/** The worker's `workerData`: what it opens of the store, and the search. */
export interface SearchWorkerData {
  readonly storeDir: string;
  readonly roots: readonly WorkspaceRoot[];
  readonly rules: CaptureRules;
  readonly pattern: string;
  readonly options: WorkerSearchOptions;
}

/** What the search gave, in its order: a progress report or a hit. */
export type SearchEvent = { readonly hit: SearchHit } | { readonly progress: SearchProgress };

export type FromSearchWorker =
  | { readonly type: 'events'; readonly events: readonly SearchEvent[] }
  | { readonly type: 'end'; readonly progress: SearchProgress }
  | { readonly type: 'failed'; readonly kind?: StateErrorKind; readonly code?: string; readonly message: string };

export type ToSearchWorker = { readonly type: 'cancel' };

/** How long a cancelled search's worker has to end by itself before it is stopped. */
const CANCEL_GRACE_MS = 250;

type Received = FromSearchWorker | { readonly type: 'crashed'; readonly error: Error } | { readonly type: 'exited'; readonly code: number };

/**
 * `searchHistory` run in a worker thread: the same hits in the same order, the same progress reports
 * and the same errors, while the caller's thread and heap do none of the reading and matching (an
 * extension host's major garbage collections during a long search held its thread 20–40 ms). The
 * worker opens the store itself, reads it without the lock as the search does in process, and ends
 * with the search. Aborting `signal` stops it like the in-process search: no hit is given after it.
 */
export async function* searchHistoryInWorker(worker: SearchWorkerOptions, store: RecoveryStore, pattern: string, options: SearchOptions = {}): AsyncGenerator<SearchHit, SearchProgress> {
  // a malformed pattern is refused here, with the in-process search's words, before a worker starts
  new SearchPattern(pattern, options);
  const data: SearchWorkerData = {
    storeDir: store.persistence.layout.root,
    roots: store.persistence.workspaceRoots,
    rules: store.persistence.captureRules,
    pattern,
    options: { regex: options.regex, caseSensitive: options.caseSensitive, paths: options.paths, maxLinesPerVersion: options.maxLinesPerVersion, sliceMs: options.sliceMs },
  };
  const received: Received[] = [];
  let wake: (() => void) | undefined;
  const receive = (message: Received) => {
    received.push(message);
    wake?.();
    wake = undefined;
  };
  const thread = new Worker(worker.script, { workerData: data, execArgv: [] });
  thread.on('message', receive);
  thread.on('error', (error) => receive({ type: 'crashed', error }));
  thread.on('exit', (code) => receive({ type: 'exited', code }));
  let last: SearchProgress | undefined;
  let stopping: NodeJS.Timeout | undefined;
  const cancel = () => {
    thread.postMessage({ type: 'cancel' } satisfies ToSearchWorker);
    // the worker hears a cancel between versions; one match that runs on (a regular expression that
    // backtracks without end, `(a+)+$`) never lets it: the thread is stopped where it is
    stopping ??= setTimeout(() => void thread.terminate(), CANCEL_GRACE_MS);
  };
  const signal = options.signal;
  signal?.addEventListener('abort', cancel, { once: true });
  if (signal?.aborted) cancel();
  try {
    for (;;) {
      while (received.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const message = received.shift()!;
      switch (message.type) {
        case 'events':
          for (const event of message.events) {
            if (signal?.aborted) break;
            if ('hit' in event) yield event.hit;
            else {
              last = event.progress;
              options.onProgress?.(event.progress);
            }
          }
          break;
        case 'end':
          if (!signal?.aborted) return message.progress;
          {
            // stopped here: the worker may have searched on before it heard, as far as the caller knows it did not finish
            const stopped = { ...message.progress, done: false };
            options.onProgress?.(stopped);
            return stopped;
          }
        case 'failed':
          throw message.kind ? new StateError(message.kind, message.message) : Object.assign(new Error(message.message), message.code ? { code: message.code } : {});
        case 'crashed':
          throw StateError.io(`The search's worker thread failed: ${describeCause(message.error)}`, message.error);
        case 'exited':
          if (signal?.aborted) {
            const stopped: SearchProgress = { total: 0, searched: 0, totalBytes: 0, searchedBytes: 0, matches: 0, binary: 0, unreadable: 0, ...last, done: false };
            options.onProgress?.(stopped);
            return stopped;
          }
          throw StateError.io(`The search's worker thread ended before the search did (exit code ${message.code}).`);
      }
    }
  } finally {
    clearTimeout(stopping);
    signal?.removeEventListener('abort', cancel);
    void thread.terminate();
  }
}
