/**
 * The history search's longest holds of the event loop, on a store made once and kept, so runs before
 * and after a change (or under `node --cpu-prof`, `--trace-gc`) search the same store:
 *   node --import tsx bench/profileSearch.ts setup DIR [--megabytes N]   (100 MB of distinct text, 4 points, repacked)
 *   node --import tsx bench/profileSearch.ts slices DIR [--rounds N]     the plain-text search: longest turn (wall, CPU), whole search (wall, CPU)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { RecoveryStore, searchHistory } from '../src/core/index';
import { benchHistorySearch } from './lib/historySearch';
import { measureSlices } from './lib/loopSlices';
import { numberOption } from './lib/scriptOptions';

const [mode, dir] = process.argv.slice(2);

async function main(): Promise<void> {
  if (!dir) throw new Error('DIR?');
  if (mode === 'setup') {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    await benchHistorySearch(dir, { megabytes: numberOption('--megabytes', 100), generations: 4, rounds: 0, seed: 'recovery-points-bench', log: (m) => process.stdout.write(`${m}\n`), keep: true });
    return;
  }
  const store = await RecoveryStore.open({ storeDir: path.join(dir, 'search-store'), roots: [{ name: 'ws', path: path.join(dir, 'search-ws') }], actor: 'bench' });
  try {
    for (let r = 0; r < numberOption('--rounds', 1); r++) {
      const collections = { major: 0, minor: 0, longestMajorMs: 0 };
      const observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const major = (e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
          collections[major ? 'major' : 'minor']++;
          if (major) collections.longestMajorMs = Math.max(collections.longestMajorMs, e.duration);
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      const cpu = process.cpuUsage();
      const t = performance.now();
      let hits = 0;
      const { slices } = await measureSlices(async () => {
        for await (const _hit of searchHistory(store, 'zanzibarquokka')) hits++;
      });
      const used = process.cpuUsage(cpu);
      await new Promise((resolve) => setTimeout(resolve, 50));
      observer.disconnect();
      const heap = process.memoryUsage();
      process.stdout.write(
        `search: ${hits} hits, longest turn wall ${slices.longestWallMs.toFixed(1)} ms cpu ${slices.longestCpuMs.toFixed(1)} ms (${slices.turns} turns); whole wall ${(performance.now() - t).toFixed(0)} ms cpu ${((used.user + used.system) / 1000).toFixed(0)} ms; heap ${(heap.heapUsed / 2 ** 20).toFixed(1)} MB, rss ${(heap.rss / 2 ** 20).toFixed(0)} MB; collections: ${collections.major} major (longest ${collections.longestMajorMs.toFixed(1)} ms), ${collections.minor} minor\n`,
      );
    }
  } finally {
    await store.close();
  }
}

void main();
