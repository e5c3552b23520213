/**
 * "File history of 200 versions": a store of the workspace with `points` points (the first a full
 * capture, the rest one-file saves in hint mode), every fifth of which edits the same file, so that
 * file has points/5 versions, its packs merged as the extension's periodic clean-up does; then its
 * history is listed on the open store, as the File History view does each time the active editor
 * changes: the first listing after opening the store, then again.
 *
 *   node --import tsx bench/lib/fileHistoryBench.ts --files 10000   (alone: a synthetic workspace of its own)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RecoveryStore } from '../../src/core/index';
import { readFileHistory } from '../../src/core/history/fileHistory';
import { createSynthetic, editFile, type Workspace } from './workspace';

export interface FileHistorySamples {
  readonly versions: number;
  readonly points: number;
  /** The first listing after the store was opened (no tree read yet, no line counted). */
  readonly firstMs: number;
  /** Later listings on the same open store. */
  readonly openMs: number[];
  /** Their CPU time (user + system), on average. */
  readonly openCpuMs: number;
  /** Seconds spent making the points. */
  readonly setupSeconds: number;
}

export async function benchFileHistory(ws: Workspace, storeDir: string, points: number, iterations: number): Promise<FileHistorySamples> {
  const started = performance.now();
  const target = ws.editable[0]!;
  const others = ws.editable.slice(1);
  fs.rmSync(storeDir, { recursive: true, force: true });
  let store = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: ws.ours }], actor: 'bench' });
  await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
  for (let i = 1; i < points; i++) {
    const rel = i % 5 === 0 ? target : others[i % others.length]!;
    const file = editFile(ws, rel, `history-${i}`);
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] });
  }
  // one pack per point merged into a few, as the extension's clean-up every few points keeps the store
  await store.recovery.collectGarbage();
  await store.close();
  const setupSeconds = (performance.now() - started) / 1000;
  store = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: ws.ours }], actor: 'bench' });
  await store.recovery.listRecoveryPoints();
  try {
    let t = performance.now();
    const first = await readFileHistory(store, `ws/${target}`);
    const firstMs = performance.now() - t;
    const openMs: number[] = [];
    const cpu = process.cpuUsage();
    for (let i = 0; i < iterations; i++) {
      t = performance.now();
      const history = await readFileHistory(store, `ws/${target}`);
      openMs.push(performance.now() - t);
      if (history.versions.length !== first.versions.length) throw new Error('the listing changed between runs');
    }
    const used = process.cpuUsage(cpu);
    return { versions: first.versions.length, points, firstMs, openMs, openCpuMs: (used.user + used.system) / 1000 / iterations, setupSeconds };
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--files');
  const files = at > 0 ? Number(process.argv[at + 1]) : 10000;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-bench-history-'));
  const ws = createSynthetic(tmp, files, 'recovery-points-bench');
  benchFileHistory(ws, path.join(tmp, 'store'), 1000, 20)
    .then((samples) => {
      const sorted = [...samples.openMs].sort((a, b) => a - b);
      process.stdout.write(`${JSON.stringify({ ...samples, medianMs: sorted[sorted.length >> 1], load: os.loadavg() })}\n`);
    })
    .finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
}
