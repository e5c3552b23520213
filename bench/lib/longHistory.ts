// A store grown as months of editing grow it: a large workspace, thousands of points, hundreds of
// thousands of objects; then what every new window and every agent hook pays on it (issue #14,
// target 3): opening the store and listing its points in a fresh process, the heap an open store
// holds, and a one-file point with the save hint on the open store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecoveryStore } from '../../src/core/index';
import { Rng } from './random';
import { editIn, type Workspace } from './workspace';

export interface LongHistoryOptions {
  readonly points: number;
  /** Files edited per point (each adds a file version and the folder trees on its path). */
  readonly editsPerPoint: number;
  /** A clean-up (repacking, no point removed) after every this many points, as the extension runs one in the background. */
  readonly cleanupEvery: number;
  readonly rounds: number;
  readonly seed: string;
  readonly log: (message: string) => void;
}

export interface LongHistorySamples {
  readonly points: number;
  readonly objects: number;
  readonly packs: number;
  readonly storeMB: number;
  readonly growSeconds: number;
  /** The clean-ups while growing: each one's time (repacking in the background, under the lock). */
  readonly cleanupMs: number[];
}

export async function growLongHistory(ws: Workspace, storeDir: string, options: LongHistoryOptions): Promise<LongHistorySamples> {
  const rng = new Rng(`${options.seed}:long-history`);
  const store = await RecoveryStore.open({
    storeDir,
    roots: [{ name: 'ws', path: ws.ours }],
    actor: 'bench',
    retention: { maxRecoveryPoints: options.points * 2, maxAgeDays: 0, maxTotalBytes: 0 },
  });
  const started = performance.now();
  const cleanupMs: number[] = [];
  try {
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    for (let i = 1; i < options.points; i++) {
      const edited: string[] = [];
      for (let k = 0; k < options.editsPerPoint; k++) {
        const rel = rng.pick(ws.editable);
        edited.push(editIn([ws.ours], rel, `long-${i}-${k}`));
      }
      await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: edited });
      if (i % options.cleanupEvery === 0) {
        const t = performance.now();
        // a collection (repacking), not a clean-up: growing takes longer than an hour on a loaded machine, and a clean-up thins points older than that
        await store.recovery.collectGarbage();
        cleanupMs.push(performance.now() - t);
        const stats = await store.recovery.stats();
        options.log(`  long history: ${i + 1} points, ${stats.objects} objects, ${stats.packs} packs (${Math.round(performance.now() - started) / 1000} s)`);
      }
    }
    const stats = await store.recovery.stats();
    return {
      points: stats.points,
      objects: stats.objects,
      packs: stats.packs,
      storeMB: dirBytes(storeDir) / 2 ** 20,
      growSeconds: (performance.now() - started) / 1000,
      cleanupMs,
    };
  } finally {
    await store.close();
  }
}

/** One-file points with the save hint on the open store (the first, untimed, warms what a running extension has warm). */
export async function oneFilePoints(ws: Workspace, storeDir: string, count: number, seed: string): Promise<number[]> {
  const rng = new Rng(`${seed}:long-history-one-file`);
  const store = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: ws.ours }], actor: 'bench', retention: { maxRecoveryPoints: 1e9, maxAgeDays: 0, maxTotalBytes: 0 } });
  const times: number[] = [];
  try {
    for (let i = 0; i <= count; i++) {
      const file = editIn([ws.ours], rng.pick(ws.editable), `one-${i}`);
      const t = performance.now();
      await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] });
      if (i > 0) times.push(performance.now() - t);
    }
  } finally {
    await store.close();
  }
  return times;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(full) : fs.statSync(full).size;
  }
  return total;
}
