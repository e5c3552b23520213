/**
 * Times (wall and CPU, `process.cpuUsage`) a file's history and a point's changes on a store made
 * once and kept, so runs before and after a change (or under `node --cpu-prof`) read the same store:
 *   node --import tsx bench/profileHistory.ts setup DIR [--files N] [--points N]   (10,000 files, 1,000 points)
 *   node --import tsx bench/profileHistory.ts measure DIR    first listing, listings again, a point's changes
 *   node --import tsx bench/profileHistory.ts warm DIR       30 listings, 30 point listings, 30 points' changes
 *   node --import tsx bench/profileHistory.ts changes DIR    a one-file point's changes and the first point's
 *   node --import tsx bench/profileHistory.ts index DIR      brings the change index up to date (what a clean-up does), timed
 *   node --import tsx bench/profileHistory.ts noindex DIR    removes the change index (the next listing reads the trees)
 *   node --import tsx bench/profileHistory.ts slices DIR     the longest time the event loop is held by the first listing, a listing
 *                                                            again, another file's first listing, the first point's changes, and the index's save
 * (`setup` ends with a clean-up, so the store it makes has its change index.)
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecoveryStore } from '../src/core/index';
import { readFileHistory } from '../src/core/history/fileHistory';
import { measureSlices } from './lib/loopSlices';
import { createSynthetic, editFile, type Workspace } from './lib/workspace';
import { numberOption } from './lib/scriptOptions';

const [mode, dir] = process.argv.slice(2);

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const result = await work();
  const wall = performance.now() - t;
  const used = process.cpuUsage(cpu);
  process.stdout.write(`${label.padEnd(44)} wall ${wall.toFixed(1).padStart(8)} ms  cpu ${((used.user + used.system) / 1000).toFixed(1).padStart(8)} ms\n`);
  return result;
}

async function main(): Promise<void> {
  if (!dir) throw new Error('DIR?');
  const wsFile = path.join(dir, 'ws.json');
  if (mode === 'setup') {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const ws = createSynthetic(dir, numberOption('--files', 10000), 'recovery-points-bench');
    fs.writeFileSync(wsFile, JSON.stringify(ws));
    const store = await RecoveryStore.open({ storeDir: path.join(dir, 'store'), roots: [{ name: 'ws', path: ws.ours }], actor: 'bench' });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    const target = ws.editable[0]!;
    const others = ws.editable.slice(1);
    const points = numberOption('--points', 1000);
    for (let i = 1; i < points; i++) {
      const rel = i % 5 === 0 ? target : others[i % others.length]!;
      await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [editFile(ws, rel, `history-${i}`)] });
    }
    await store.recovery.collectGarbage();
    await store.close();
    return;
  }
  const ws = JSON.parse(fs.readFileSync(wsFile, 'utf8')) as Workspace;
  const store = await timed('open store + list points', async () => {
    const s = await RecoveryStore.open({ storeDir: path.join(dir, 'store'), roots: [{ name: 'ws', path: ws.ours }], actor: 'bench' });
    await s.recovery.listRecoveryPoints();
    return s;
  });
  try {
    const target = `ws/${ws.editable[0]!}`;
    const points = await store.recovery.listRecoveryPoints();
    if (mode === 'warm') {
      await readFileHistory(store, target);
      await timed('file history x30, warm', async () => {
        for (let i = 0; i < 30; i++) await readFileHistory(store, target);
      });
      await timed('listSnapshots x30', async () => {
        for (let i = 0; i < 30; i++) await store.persistence.listSnapshots();
      });
      await timed('loadSnapshot x30', async () => {
        for (let i = 100; i < 130; i++) await store.persistence.loadSnapshot(points[i]!.id);
      });
      await timed('changes of 30 one-file points', async () => {
        for (let i = 100; i < 130; i++) await store.recovery.changedFiles(points[i]!.id);
      });
      return;
    }
    if (mode === 'index') {
      await timed('change index brought up to date', () => store.recovery.refreshChangeIndex());
      process.stdout.write(`${fs.statSync(store.persistence.layout.changeIndexFile).size} bytes\n`);
      return;
    }
    if (mode === 'noindex') {
      fs.rmSync(store.persistence.layout.changeIndexFile, { force: true });
      return;
    }
    if (mode === 'slices') {
      const held = async (label: string, work: () => Promise<unknown>) => {
        const { slices } = await measureSlices(work);
        process.stdout.write(`${label.padEnd(44)} longest turn: wall ${slices.longestWallMs.toFixed(1).padStart(6)} ms  cpu ${slices.longestCpuMs.toFixed(1).padStart(6)} ms  (${slices.turns} turns)\n`);
      };
      await held('file history, first listing', () => readFileHistory(store, target));
      await held('file history, again', () => readFileHistory(store, target));
      await held('another file\'s history, first listing', () => readFileHistory(store, `ws/${ws.editable[1]!}`));
      await held('changes of the first point (whole tree)', () => store.recovery.changedFiles(points[points.length - 1]!.id));
      await held('change index saved', async () => {
        // a line count not held yet, so that there is something to save
        (await store.persistence.changeIndex()).recordLineChange(null, randomBytes(32).toString('hex'), { binary: true, lines: null });
        await store.persistence.saveChangeIndex();
      });
      return;
    }
    if (mode === 'changes') {
      await timed('changes of a one-file point, first', () => store.recovery.changedFiles(points[10]!.id));
      await timed('changes of a one-file point, again', () => store.recovery.changedFiles(points[11]!.id));
      const first = points[points.length - 1]!;
      const diff = await timed('changes of the first point (whole tree)', () => store.recovery.changedFiles(first.id));
      await timed('changes of the first point, again', () => store.recovery.changedFiles(first.id));
      process.stdout.write(`first point: ${diff.added.length} added\n`);
      return;
    }
    const first = await timed('file history, first listing', () => readFileHistory(store, target));
    for (let i = 0; i < 5; i++) await timed('file history, again', () => readFileHistory(store, target));
    process.stdout.write(`${first.versions.length} versions over ${points.length} points\n`);
    await timed('changes of a one-file point, first', () => store.recovery.changedFiles(points[10]!.id));
    await timed('changes of the first point (whole tree)', () => store.recovery.changedFiles(points[points.length - 1]!.id));
  } finally {
    await store.close();
  }
}

void main();
