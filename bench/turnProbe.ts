/**
 * Finds the long turns of the event loop in one operation, for reading with its CPU profile: a
 * setImmediate loop notes each gap between two turns longer than `--min` ms (wall, from the monotonic
 * clock the profile's timestamps use) and writes them to `--out` as JSON; `bench/lib/turnProfile.ts`
 * then names what ran in each.
 *   node --cpu-prof --cpu-prof-interval 100 --import tsx bench/turnProbe.ts history|changes DIR --out FILE   (a store of bench/profileHistory.ts setup)
 *   node --cpu-prof --cpu-prof-interval 100 --import tsx bench/turnProbe.ts search DIR --out FILE            (a store of bench/profileSearch.ts setup)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { RecoveryStore, searchHistory } from '../src/core/index';
import { readFileHistory } from '../src/core/history/fileHistory';
import type { Workspace } from './lib/workspace';
import { numberOption, optionValue } from './lib/scriptOptions';

const [mode, dir] = process.argv.slice(2);
const minMs = numberOption('--min', 4);
const micros = () => Number(process.hrtime.bigint() / 1000n);

const GC_KINDS: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks' };

interface LongTurn {
  startUs: number;
  endUs: number;
  cpuMs: number;
  /** Garbage collections within the turn: kind and wall ms. */
  gc?: string;
}

async function probe(work: () => Promise<unknown>): Promise<LongTurn[]> {
  const long: LongTurn[] = [];
  const collections: Array<{ at: number; ms: number; kind: string }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) collections.push({ at: e.startTime, ms: e.duration, kind: GC_KINDS[((e as unknown as { detail: { kind: number } }).detail).kind] ?? '?' });
  });
  observer.observe({ entryTypes: ['gc'] });
  const originUs = micros() - performance.now() * 1000;
  const cpuNow = () => {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  };
  let running = true;
  let last = micros();
  let lastCpu = cpuNow();
  const ping = () => {
    const now = micros();
    const cpu = cpuNow();
    if ((now - last) / 1000 >= minMs) long.push({ startUs: last, endUs: now, cpuMs: cpu - lastCpu });
    last = now;
    lastCpu = cpu;
    if (running) setImmediate(ping);
  };
  setImmediate(ping);
  const began = performance.now();
  await work();
  process.stdout.write(`work from ${began.toFixed(0)} to ${performance.now().toFixed(0)} ms after the process's start\n`);
  running = false;
  const now = micros();
  if ((now - last) / 1000 >= minMs) long.push({ startUs: last, endUs: now, cpuMs: cpuNow() - lastCpu });
  // the observer hears of collections at a later turn
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  for (const turn of long) {
    const inside = collections.filter((c) => originUs + c.at * 1000 >= turn.startUs && originUs + c.at * 1000 <= turn.endUs);
    if (inside.length > 0) turn.gc = inside.map((c) => `${c.kind} ${c.ms.toFixed(1)}`).join(', ');
  }
  return long;
}

async function main(): Promise<void> {
  if (!dir) throw new Error('DIR?');
  let long;
  if (mode === 'search') {
    const store = await RecoveryStore.open({ storeDir: path.join(dir, 'search-store'), roots: [{ name: 'ws', path: path.join(dir, 'search-ws') }], actor: 'bench' });
    long = await probe(async () => {
      for await (const _hit of searchHistory(store, 'zanzibarquokka'));
    });
    await store.close();
  } else {
    const ws = JSON.parse(fs.readFileSync(path.join(dir, 'ws.json'), 'utf8')) as Workspace;
    const store = await RecoveryStore.open({ storeDir: path.join(dir, 'store'), roots: [{ name: 'ws', path: ws.ours }], actor: 'bench' });
    const points = await store.recovery.listRecoveryPoints();
    long = await probe(() => (mode === 'changes' ? store.recovery.changedFiles(points[points.length - 1]!.id) : readFileHistory(store, `ws/${ws.editable[numberOption('--file', 0)]!}`)));
    await store.close();
  }
  fs.writeFileSync(optionValue('--out') ?? 'turns.json', JSON.stringify(long));
  for (const t of long) process.stdout.write(`turn ${((t.endUs - t.startUs) / 1000).toFixed(1)} ms wall, ${t.cpuMs.toFixed(1)} ms cpu${t.gc ? `; GC: ${t.gc}` : ''}\n`);
}

void main();
