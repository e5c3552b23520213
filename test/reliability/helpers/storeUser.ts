/**
 * A library user of the store in its own process, for the reliability suites. Bundled by esbuild
 * (`bundleStoreUser`) so hundreds of starts stay cheap. One argument: a JSON `UserRequest`.
 *   crash-loop  creates points, updates the state, labels, restores, undoes, deletes and cleans up
 *               at random (seeded) until killed
 *   label-loop  labels and unlabels the listed points in turn until killed
 *   restore     restores one point once
 *   writer      the concurrency suite's library writer: points, its own and shared state keys, labels,
 *               deletes of its own points, garbage collection, until `untilMs`
 * Prints one JSON line per event: `start` before an operation (what it is about to do) and `done`
 * after its promise resolved (what it acknowledged), so the parent knows what was completed.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { RecoveryStore } from '../../../src/core/recoveryStore';
import { digestWorkspace } from './digest';
import { mulberry32, type Rng } from './random';

export interface UserRequest {
  readonly mode: 'crash-loop' | 'label-loop' | 'restore' | 'writer';
  readonly storeDir: string;
  readonly ws: string;
  readonly name: string;
  readonly seed: number;
  readonly lockStaleMs?: number;
  /** restore: the point to restore. */
  readonly pointId?: string;
  /** writer: stop starting operations after this time (ms since the epoch). */
  readonly untilMs?: number;
}

const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...event })}\n`);

/** Nothing is removed by clean-up except what garbage collection may take: only explicit deletes remove points. */
const KEEP_EVERYTHING = { maxRecoveryPoints: 1_000_000, maxAgeDays: 0, maxTotalBytes: 0 };

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2]!) as UserRequest;
  const store = await RecoveryStore.open({
    storeDir: request.storeDir,
    roots: [{ name: 'ws', path: request.ws }],
    actor: `user:${request.name}`,
    retention: KEEP_EVERYTHING,
    lockStaleMs: request.lockStaleMs,
  });
  const rng = mulberry32(request.seed);
  say({ ev: 'ready' });
  if (request.mode === 'crash-loop') await crashLoop(store, request, rng);
  else if (request.mode === 'label-loop') {
    const points = await store.recovery.listRecoveryPoints();
    for (let n = 0; ; n++) {
      const id = pick(points, rng).id;
      const label = rng() < 0.5 ? `${request.name} ${n}` : null;
      say({ ev: 'start', op: 'label', id, label });
      await store.persistence.setLabel(id, label);
      say({ ev: 'done', op: 'label', id, label });
    }
  } else if (request.mode === 'restore') {
    const before = await digestWorkspace(request.ws);
    say({ ev: 'start', op: 'restore', target: request.pointId, files: before });
    const result = await store.recovery.restore(request.pointId!);
    say({ ev: 'done', op: 'restore', target: request.pointId, safety: result.safetyPointId });
  } else await writer(store, request, rng);
  await store.close();
}

/** Random operations on one store until the process is killed. */
async function crashLoop(store: RecoveryStore, request: UserRequest, rng: Rng): Promise<void> {
  const { ws, name } = request;
  let seq = 0;
  let hintsAllowed = false;
  for (;;) {
    seq++;
    const roll = rng();
    const points = await store.recovery.listRecoveryPoints();
    if (roll < 0.35 || points.length === 0) {
      const changed = await editWorkspace(ws, name, seq, rng);
      const files = await digestWorkspace(ws);
      // Hints are only honest for edits this process made since its own first full point.
      const changedPaths = hintsAllowed && rng() < 0.5 ? changed : undefined;
      say({ ev: 'start', op: 'create', files });
      const point = await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual', changedPaths });
      hintsAllowed = true;
      say({ ev: 'done', op: 'create', id: point!.id, files });
    } else if (roll < 0.55) {
      const key = `g-${name}`;
      say({ ev: 'start', op: 'state', key, value: seq });
      await store.state.updateState({ data: { [key]: seq } });
      say({ ev: 'done', op: 'state', key, value: seq });
    } else if (roll < 0.65) {
      const id = pick(points, rng).id;
      const label = rng() < 0.5 ? `L ${name} ${seq}` : null;
      say({ ev: 'start', op: 'label', id, label });
      await store.persistence.setLabel(id, label);
      say({ ev: 'done', op: 'label', id, label });
    } else if (roll < 0.75) {
      const target = pick(points, rng).id;
      const files = await digestWorkspace(ws);
      say({ ev: 'start', op: 'restore', target, files });
      const result = await store.recovery.restore(target);
      say({ ev: 'done', op: 'restore', target, safety: result.safetyPointId, restored: result.restoredPointId ?? null, files, after: await digestWorkspace(ws) });
    } else if (roll < 0.82) {
      const last = (await store.state.getState()).lastRestore;
      if (!last || !points.some((p) => p.id === last.safetyPointId)) continue;
      const files = await digestWorkspace(ws);
      say({ ev: 'start', op: 'undo', target: last.safetyPointId, files });
      const result = await store.recovery.undoLastRestore();
      say({ ev: 'done', op: 'undo', target: last.safetyPointId, safety: result.safetyPointId, restored: result.restoredPointId ?? null, files, after: await digestWorkspace(ws) });
    } else if (roll < 0.92) {
      const protectedId = (await store.state.getState()).lastRestore?.safetyPointId;
      const candidates = points.slice(1).filter((p) => p.label === null && p.id !== protectedId);
      if (points.length < 20 || candidates.length === 0) continue;
      const ids = [...new Set([pick(candidates, rng).id, pick(candidates, rng).id, pick(candidates, rng).id, candidates.at(-1)!.id, candidates.at(-2)?.id ?? candidates[0]!.id])];
      say({ ev: 'start', op: 'delete', ids });
      await store.recovery.deletePoints(ids);
      say({ ev: 'done', op: 'delete', ids });
    } else if (rng() < 0.5) {
      say({ ev: 'start', op: 'cleanup' });
      const report = await store.recovery.cleanupRecoveryPoints();
      say({ ev: 'done', op: 'cleanup', removedPoints: report.removedPoints, removedObjects: report.removedObjects });
    } else {
      // A point made while the clean-up runs (it holds the lock only in slices), of a file put back to
      // its first content: that content may be unused when the clean-up starts, and the point reuses it.
      const file = path.join(ws, `f${Math.floor(rng() * 10)}.txt`);
      await fs.writeFile(file, `initial ${path.basename(file, '.txt').slice(1)}\n`);
      const files = await digestWorkspace(ws);
      say({ ev: 'start', op: 'cleanup', files });
      const cleanup = store.recovery.cleanupRecoveryPoints();
      await new Promise((resolve) => setImmediate(resolve));
      const [report, point] = await Promise.all([cleanup, store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' })]);
      say({ ev: 'done', op: 'create', id: point!.id, files });
      say({ ev: 'done', op: 'cleanup', removedPoints: report.removedPoints, removedObjects: report.removedObjects });
    }
  }
}

/** Changes one to three files (deterministic content from the seed), sometimes adding or removing one. Returns the changed paths. */
async function editWorkspace(ws: string, name: string, seq: number, rng: Rng): Promise<string[]> {
  const changed: string[] = [];
  const count = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < count; i++) {
    const file = path.join(ws, rng() < 0.3 ? `sub/s${Math.floor(rng() * 4)}.txt` : `f${Math.floor(rng() * 10)}.txt`);
    if (rng() < 0.1) {
      await fs.rm(file, { force: true });
    } else {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, `${name} step ${seq} ${path.basename(file)}\n`.repeat(1 + Math.floor(rng() * 200)));
    }
    changed.push(file);
  }
  return changed;
}

/** The concurrency suite's library writer. */
async function writer(store: RecoveryStore, request: UserRequest, rng: Rng): Promise<void> {
  const { ws, name } = request;
  const mine: string[] = [];
  let seq = 0;
  while (Date.now() < request.untilMs!) {
    seq++;
    const roll = rng();
    if (roll < 0.3) {
      await fs.writeFile(path.join(ws, `${name}.txt`), `${name} ${seq}\n`);
      const point = await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
      mine.push(point!.id);
      say({ ev: 'done', op: 'create', id: point!.id });
    } else if (roll < 0.7) {
      const key = rng() < 0.5 ? `own-${name}` : `shared-${Math.floor(rng() * 3)}`;
      const value = `${name}:${seq}`;
      const state = await store.state.updateState({ data: { [key]: value } });
      say({ ev: 'done', op: 'state', key, value, version: state.version });
    } else if (roll < 0.8) {
      const points = await store.recovery.listRecoveryPoints();
      if (points.length === 0) continue;
      const id = pick(points, rng).id;
      const label = `${name} ${seq}`;
      try {
        await store.persistence.setLabel(id, label);
        say({ ev: 'done', op: 'label', id, label });
      } catch (error) {
        // another writer deleted it between the listing and the label
        if (!(error instanceof Error && 'kind' in error && error.kind === 'SnapshotNotFound')) throw error;
        say({ ev: 'done', op: 'label-gone', id });
      }
    } else if (roll < 0.9) {
      if (mine.length < 3) continue;
      const id = mine.splice(Math.floor(rng() * (mine.length - 1)), 1)[0]!;
      await store.recovery.deletePoints([id]);
      say({ ev: 'done', op: 'delete', ids: [id] });
    } else {
      const report = await store.recovery.cleanupRecoveryPoints();
      say({ ev: 'done', op: 'cleanup', removedPoints: report.removedPoints, removedObjects: report.removedObjects });
    }
  }
}

function pick<T>(items: readonly T[], rng: Rng): T {
  return items[Math.floor(rng() * items.length)]!;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
