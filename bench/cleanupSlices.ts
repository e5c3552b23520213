/**
 * How a clean-up shares the store with the points made while it runs (issue #14, target 3: "clean-up
 * and repacking stay in the background and bounded per slice"), on a long history smaller than the
 * `--long-history` run's:
 *
 *   node --import tsx bench/cleanupSlices.ts grow DIR [files] [points] [edits]
 *     a synthetic workspace and a store grown as `--long-history` grows one (a clean-up every 100
 *     points), ending with the points made since the last clean-up (so the measured one repacks);
 *   node --import tsx bench/cleanupSlices.ts measure DIR SRC [--elsewhere]
 *     on a copy of that store, the code under SRC (this tree's `src`, or an older commit's, for old and
 *     new side by side in fresh processes) runs one clean-up while a one-file point with the save hint
 *     is asked for every 100 ms; prints one line of JSON: the clean-up's wall and CPU time, the
 *     longest hold of the store lock by the clean-up, the longest turn of the event loop, and how long
 *     each point took from being asked for. `--elsewhere`: the collection in a process of its own, as
 *     the extension runs it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { growLongHistory } from './lib/longHistory';
import { measureSlices } from './lib/loopSlices';
import { Rng } from './lib/random';
import { createSynthetic, editIn, type Workspace } from './lib/workspace';

const SEED = 'cleanup-slices';

async function grow(dir: string, files: number, points: number, edits: number): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const ws = createSynthetic(dir, files, SEED);
  fs.writeFileSync(path.join(dir, 'workspace.json'), JSON.stringify(ws));
  const grown = await growLongHistory(ws, path.join(dir, 'store'), { points, editsPerPoint: edits, cleanupEvery: 100, rounds: 1, seed: SEED, log: (m) => console.error(m) });
  console.log(JSON.stringify(grown));
}

async function measure(dir: string, src: string, elsewhere: boolean): Promise<void> {
  const ws = JSON.parse(fs.readFileSync(path.join(dir, 'workspace.json'), 'utf8')) as Workspace;
  const storeDir = path.join(dir, `store-copy-${process.pid}`);
  fs.cpSync(path.join(dir, 'store'), storeDir, { recursive: true });
  const workspace = path.join(dir, `ws-copy-${process.pid}`);
  fs.cpSync(ws.ours, workspace, { recursive: true, preserveTimestamps: true });
  const core = (await import(path.resolve(src, 'core/index.ts'))) as typeof import('../src/core/index');
  const { StoreLock } = core;
  const pointContext = new AsyncLocalStorage<boolean>();
  const holds: number[] = [];
  const proto = StoreLock.prototype as unknown as { runLocked: (operation: (hold: unknown) => Promise<unknown>) => Promise<unknown> };
  const runLocked = proto.runLocked;
  proto.runLocked = async function (this: unknown, operation: (hold: unknown) => Promise<unknown>) {
    // the store lock only (a collection also holds its own `collection.lock` from start to end)
    const byPoint = pointContext.getStore() === true || (this as { options: { name?: string } }).options.name !== undefined;
    return runLocked.call(this, async (hold: unknown) => {
      const t = performance.now();
      try {
        return await operation(hold);
      } finally {
        const ms = performance.now() - t;
        if (!byPoint) holds.push(ms);
      }
    });
  };
  const captureProcess = elsewhere ? { script: path.resolve(src, 'core/capture/captureProcessMain.ts'), execArgv: ['--import', 'tsx'] } : undefined;
  const store = await core.RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: workspace }], actor: 'bench', retention: { maxRecoveryPoints: 1e6, maxAgeDays: 0, maxTotalBytes: 0 }, captureProcess });
  const rng = new Rng(`${SEED}:during`);
  // one untimed point: what a running extension has warm
  await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [editIn([workspace], rng.pick(ws.editable), 'warm')] });
  const pointMs: number[] = [];
  let running = true;
  const points = (async () => {
    for (let i = 0; running; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!running) break;
      const file = editIn([workspace], rng.pick(ws.editable), `during-${i}`);
      const t = performance.now();
      await pointContext.run(true, () => store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] }));
      pointMs.push(performance.now() - t);
    }
  })();
  holds.length = 0;
  const cpu = process.cpuUsage();
  const t = performance.now();
  const { result, slices } = await measureSlices(() => store.recovery.cleanupRecoveryPoints());
  const wallMs = performance.now() - t;
  const used = process.cpuUsage(cpu);
  running = false;
  await points;
  await store.close();
  fs.rmSync(storeDir, { recursive: true, force: true });
  fs.rmSync(workspace, { recursive: true, force: true });
  const sorted = [...pointMs].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      src,
      elsewhere,
      cleanupWallMs: Math.round(wallMs),
      cleanupCpuMs: Math.round((used.user + used.system) / 1000),
      longestLockHoldMs: Math.round(Math.max(0, ...holds)),
      lockHolds: holds.length,
      longestTurnMs: Math.round(slices.longestWallMs),
      longestTurnCpuMs: Math.round(slices.longestCpuMs),
      pointsDuring: pointMs.length,
      pointMedianMs: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
      pointLongestMs: Math.round(sorted.at(-1) ?? 0),
      removedObjects: result.removedObjects,
      mergedPacks: result.mergedPacks,
      recompressed: result.recompressed,
    }),
  );
}

async function main(): Promise<void> {
  const [mode, dir, ...rest] = process.argv.slice(2);
  if (mode === 'grow' && dir) await grow(dir, Number(rest[0] ?? 10_000), Number(rest[1] ?? 350), Number(rest[2] ?? 40));
  else if (mode === 'measure' && dir && rest[0]) await measure(dir, rest[0], rest.includes('--elsewhere'));
  else {
    console.error('usage: cleanupSlices.ts grow DIR [files] [points] [edits] | measure DIR SRC [--elsewhere]');
    process.exitCode = 2;
  }
}

void main();
