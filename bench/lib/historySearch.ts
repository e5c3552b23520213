/**
 * Search over the store's history: a store holding `megabytes` of distinct text, written as
 * `generations` points that each rewrite every file with new text. A few lines hold a rare word,
 * in the newest and the oldest generation; the search looks for it (plain text, case-insensitive:
 * the default in the editor), and for a regular expression, and times the first hit and the whole search.
 * With `worker` (the bundled `dist/searchWorker.js`), each round also runs the plain search the
 * editor's way, in a worker thread started for it, interleaved with the in-process one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { RecoveryStore, searchHistory, type SearchHit, type SearchOptions, type SearchProgress } from '../../src/core/index';
import { searchHistoryInWorker, type SearchWorkerOptions } from '../../src/core/history/searchWorker';
import { Rng } from './random';

const FILES = 400;
const NEEDLE = 'zanzibarQuokka';
const WORDS = (
  'const let function return export import from interface type class extends implements async await new this ' +
  'value index count items result error options config state store point file path name size list map set ' +
  'if else for while switch case break continue throw try catch finally null undefined true false string number'
).split(' ');

export interface SearchBenchResult {
  readonly versions: number;
  readonly megabytes: number;
  readonly points: number;
  readonly first: number[];
  readonly total: number[];
  readonly regexTotal: number[];
  /** CPU time (user + system) of each plain-text search: what it costs on one core whatever else the machine runs. */
  readonly cpu: number[];
  /** The longest the event loop was held during each plain-text search, ms (what an editor on the same thread would wait). */
  readonly longestSlice: number[];
  /** Major garbage collections of the main thread's heap during each plain-text search (what held the thread longest before the worker). */
  readonly majorGcs: number[];
  /** The most CPU the main thread spent in one turn during each plain-text search, ms (Linux; NaN elsewhere). */
  readonly longestTurnCpu: number[];
  readonly hits: number;
  /** The plain-text search in a worker thread (the editor's way), when a worker script was given: first (including the worker's start), whole, CPU of the process (both threads), longest hold of the main thread. */
  readonly worker?: { readonly first: number[]; readonly total: number[]; readonly cpu: number[]; readonly longestSlice: number[]; readonly majorGcs: number[]; readonly longestTurnCpu: number[]; readonly hits: number };
  /** Highest resident memory seen during the searches, MB, and at the start. */
  readonly rssStartMB: number;
  readonly rssPeakMB: number;
}

function text(rng: Rng, bytes: number, needle: boolean): string {
  const lines: string[] = [];
  let size = 0;
  const needleAt = needle ? rng.int(Math.max(1, Math.floor(bytes / 60))) : -1;
  while (size < bytes) {
    const words: string[] = [];
    const n = 4 + rng.int(8);
    for (let i = 0; i < n; i++) words.push(lines.length === needleAt && i === 2 ? NEEDLE : rng.pick(WORDS));
    const line = `${'  '.repeat(rng.int(4))}${words.join(' ')}${rng.int(4) === 0 ? ` // ${rng.u32().toString(36)}` : ';'}`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** Bundles the worker the extension searches in (as `npm run build` makes `dist/searchWorker.js`), so it runs without a TypeScript loader. */
export async function bundleSearchWorker(tmp: string): Promise<SearchWorkerOptions> {
  const outfile = path.join(tmp, 'searchWorker.cjs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({ entryPoints: [path.join(__dirname, '..', '..', 'src', 'core', 'history', 'searchWorkerMain.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'warning' });
  return { script: outfile };
}

/** CPU time of the calling thread, ms (Linux: `/proc/thread-self/schedstat`, nanoseconds on the CPU), or undefined elsewhere. */
function threadCpuMs(): number | undefined {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

/**
 * The most CPU the main thread spent between two turns of a 1 ms timer: the longest turn's own work,
 * which a loaded machine does not stretch (the event loop's delay also counts the time the thread
 * waited for a core). Its resolution is the scheduler's accounting, up to a tick (4 ms on this
 * machine). `stop()` gives it, or NaN where threads' CPU cannot be read.
 */
function probeTurnCpu(): { stop: () => number } {
  let longest = 0;
  let last = threadCpuMs();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const now = threadCpuMs();
    if (now !== undefined && last !== undefined) longest = Math.max(longest, now - last);
    last = threadCpuMs();
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  return {
    stop: () => {
      clearTimeout(timer);
      tick();
      clearTimeout(timer);
      return last === undefined ? NaN : longest;
    },
  };
}

/** A full garbage collection of this process, so no search pays for the garbage of the one before. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

export async function benchHistorySearch(
  tmp: string,
  options: { megabytes: number; generations: number; rounds: number; seed: string; log: (m: string) => void; keep?: boolean; worker?: SearchWorkerOptions },
): Promise<SearchBenchResult> {
  const ws = path.join(tmp, 'search-ws');
  const storeDir = path.join(tmp, 'search-store');
  fs.rmSync(ws, { recursive: true, force: true });
  fs.rmSync(storeDir, { recursive: true, force: true });
  const rng = new Rng(`${options.seed}-search`);
  const perFile = Math.round((options.megabytes * 1024 * 1024) / options.generations / FILES);
  options.log(`history search: ${options.generations} points × ${FILES} files × ${Math.round(perFile / 1024)} KB of new text each`);
  let store = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: ws }], actor: 'bench' });
  for (let g = 0; g < options.generations; g++) {
    for (let f = 0; f < FILES; f++) {
      const file = path.join(ws, `pkg${f % 20}`, `module${f}.ts`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const needle = (g === 0 || g === options.generations - 1) && f % 97 === 13;
      fs.writeFileSync(file, text(rng, perFile, needle));
    }
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
  }
  await store.recovery.collectGarbage({ repack: 'all' }); // as the extension's clean-up leaves it (brotli)
  await store.close();
  store = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: ws }], actor: 'bench' });

  const first: number[] = [];
  const total: number[] = [];
  const regexTotal: number[] = [];
  const cpu: number[] = [];
  const longestSlice: number[] = [];
  let versions = 0;
  let bytes = 0;
  let hits = 0;
  const rssStartMB = process.memoryUsage().rss / 1024 / 1024;
  let rssPeak = rssStartMB;
  const majorGcs: number[] = [];
  const longestTurnCpu: number[] = [];
  const worker = options.worker && { first: [] as number[], total: [] as number[], cpu: [] as number[], longestSlice: [] as number[], majorGcs: [] as number[], longestTurnCpu: [] as number[], hits: 0 };
  const run = async (pattern: string, searchOptions: SearchOptions, inWorker?: SearchWorkerOptions) => {
    collectGarbage();
    const search = (o: SearchOptions): AsyncGenerator<SearchHit, SearchProgress> => (inWorker ? searchHistoryInWorker(inWorker, store, pattern, o) : searchHistory(store, pattern, o));
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const gcs: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
    observer.observe({ entryTypes: ['gc'] });
    const turns = probeTurnCpu();
    let firstAt: number | undefined;
    let count = 0;
    for await (const _hit of search({
      ...searchOptions,
      onProgress: (p) => {
        versions = p.total;
        bytes = p.totalBytes;
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss / 1024 / 1024);
      },
    })) {
      firstAt ??= performance.now() - started;
      count++;
    }
    const used = process.cpuUsage(cpuBefore);
    delay.disable();
    const turnCpu = turns.stop();
    gcs.push(...observer.takeRecords());
    observer.disconnect();
    const major = gcs.filter((e) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR).length;
    return { firstMs: firstAt ?? NaN, totalMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000, count, longestSliceMs: delay.max / 1e6, major, turnCpu };
  };
  for (let r = 0; r < options.rounds; r++) {
    const plain = await run(NEEDLE.toLowerCase(), {});
    first.push(plain.firstMs);
    total.push(plain.totalMs);
    cpu.push(plain.cpuMs);
    longestSlice.push(plain.longestSliceMs);
    majorGcs.push(plain.major);
    longestTurnCpu.push(plain.turnCpu);
    hits = plain.count;
    regexTotal.push((await run(`${NEEDLE}\\b|quokka\\d{3}`, { regex: true, caseSensitive: true })).totalMs);
    if (worker && options.worker) {
      const inWorker = await run(NEEDLE.toLowerCase(), {}, options.worker);
      worker.first.push(inWorker.firstMs);
      worker.total.push(inWorker.totalMs);
      worker.cpu.push(inWorker.cpuMs);
      worker.longestSlice.push(inWorker.longestSliceMs);
      worker.majorGcs.push(inWorker.major);
      worker.longestTurnCpu.push(inWorker.turnCpu);
      worker.hits = inWorker.count;
    }
  }
  await store.close();
  if (!options.keep) {
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(storeDir, { recursive: true, force: true });
  }
  return { versions, megabytes: bytes / 1024 / 1024, points: options.generations, first, total, regexTotal, cpu, longestSlice, majorGcs, longestTurnCpu, hits, worker, rssStartMB, rssPeakMB: rssPeak };
}
