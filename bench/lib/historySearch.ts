/**
 * Search over the store's history: a store holding `megabytes` of distinct text, written as
 * `generations` points that each rewrite every file with new text. A few lines hold a rare word,
 * in the newest and the oldest generation; the search looks for it (plain text, case-insensitive:
 * the default in the editor), and for a regular expression, and times the first hit and the whole search.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RecoveryStore, searchHistory, type SearchOptions } from '../../src/core/index';
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
  readonly hits: number;
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

export async function benchHistorySearch(tmp: string, options: { megabytes: number; generations: number; rounds: number; seed: string; log: (m: string) => void; keep?: boolean }): Promise<SearchBenchResult> {
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
  const run = async (pattern: string, searchOptions: SearchOptions) => {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    let firstAt: number | undefined;
    let count = 0;
    for await (const _hit of searchHistory(store, pattern, {
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
    return { firstMs: firstAt ?? NaN, totalMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000, count, longestSliceMs: delay.max / 1e6 };
  };
  for (let r = 0; r < options.rounds; r++) {
    const plain = await run(NEEDLE.toLowerCase(), {});
    first.push(plain.firstMs);
    total.push(plain.totalMs);
    cpu.push(plain.cpuMs);
    longestSlice.push(plain.longestSliceMs);
    hits = plain.count;
    regexTotal.push((await run(`${NEEDLE}\\b|quokka\\d{3}`, { regex: true, caseSensitive: true })).totalMs);
  }
  await store.close();
  if (!options.keep) {
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(storeDir, { recursive: true, force: true });
  }
  return { versions, megabytes: bytes / 1024 / 1024, points: options.generations, first, total, regexTotal, cpu, longestSlice, hits, rssStartMB, rssPeakMB: rssPeak };
}
