/**
 * The worker thread a search runs in (`searchHistoryInWorker`): bundled as `dist/searchWorker.js`.
 * It opens the store `workerData` names, runs `searchHistory`, and posts what it finds in batches:
 * the first progress (what it will search) and the first hit at once, then every BATCH_MS or
 * BATCH_HITS hits, so messages cost the caller little. (A match that runs on without end holds the
 * thread: what was not posted before it never is.)
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { errorCode, StateError } from '../errors';
import { RecoveryStore } from '../recoveryStore';
import { searchHistory, type SearchProgress } from './search';
import type { FromSearchWorker, SearchEvent, SearchWorkerData, ToSearchWorker } from './searchWorker';

const BATCH_MS = 10;
const BATCH_HITS = 50;

async function serveSearch(port: MessagePort, data: SearchWorkerData): Promise<void> {
  const controller = new AbortController();
  const onMessage = (message: ToSearchWorker) => {
    if (message.type === 'cancel') controller.abort();
  };
  port.on('message', onMessage);
  let pending: SearchEvent[] = [];
  let pendingHits = 0;
  let sentHit = false;
  let sentProgress = false;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    port.postMessage({ type: 'events', events: pending } satisfies FromSearchWorker);
    pending = [];
    pendingHits = 0;
  };
  const add = (event: SearchEvent) => {
    pending.push(event);
    if ('hit' in event) {
      pendingHits++;
      if (!sentHit || pendingHits >= BATCH_HITS) {
        sentHit = true;
        flush();
        return;
      }
    } else if (!sentProgress) {
      sentProgress = true;
      flush();
      return;
    }
    timer ??= setTimeout(flush, BATCH_MS);
  };

  let store: RecoveryStore | undefined;
  let outcome: FromSearchWorker;
  try {
    store = await RecoveryStore.open({ storeDir: data.storeDir, roots: data.roots, rules: data.rules, actor: `search:${process.pid}` });
    const search = searchHistory(store, data.pattern, { ...data.options, signal: controller.signal, onProgress: (progress) => add({ progress }) });
    let progress: SearchProgress | undefined;
    while (progress === undefined) {
      const next = await search.next();
      if (next.done) progress = next.value;
      else add({ hit: next.value });
    }
    outcome = { type: 'end', progress };
  } catch (error) {
    outcome = error instanceof StateError ? { type: 'failed', kind: error.kind, message: error.message } : { type: 'failed', code: errorCode(error), message: error instanceof Error ? error.message : String(error) };
  }
  flush();
  // only the object store holds files open: nothing was written, so closing needs no lock
  const objects = await store?.persistence.objects().catch(() => undefined);
  await objects?.close().catch(() => undefined);
  // the lock's own file, if a listing here took the lock (a worker's exit removes nothing: its process lives on)
  store?.persistence.lock.dispose();
  port.postMessage(outcome);
  port.off('message', onMessage);
}

if (parentPort) void serveSearch(parentPort, workerData as SearchWorkerData);
