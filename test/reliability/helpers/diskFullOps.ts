/**
 * The operations the disk-full suite breaks, each with the store it starts from (a template built once
 * and copied for every failure position) and what must survive a failure of it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { lookupEntry } from '../../../src/core/capture';
import { RecoveryStore } from '../../../src/core/recoveryStore';
import { damageObject, readFiles, writeFiles } from '../../core/helpers/storeFixtures';

export interface Trial {
  /** Holds `ws/` (the workspace) and `store/`. */
  readonly dir: string;
}

export interface TemplateMeta {
  /** Points that every failure must leave restorable byte for byte, with their files. */
  readonly intact: Array<{ id: string; files: Record<string, string> }>;
  /** Points that the operation itself may remove (clean-up), with their files. */
  readonly removable: Array<{ id: string; files: Record<string, string> }>;
  /** The workspace when the operation starts. */
  readonly wsFiles: Record<string, string>;
  readonly restoreTarget?: string;
  readonly damagedPoint?: string;
}

export interface DiskFullOp {
  readonly name: string;
  readonly retention?: { maxRecoveryPoints?: number };
  /** Its EIO sweep runs at the quick level (CI) too, not only at the full level: it once lost a point. */
  readonly eioInQuick?: boolean;
  /** Builds the template in `trial` (a real store, no injection). */
  setup(trial: Trial): Promise<TemplateMeta>;
  /**
   * Work done in each trial's copy before the failures are armed, when it cannot be done in the template
   * (an undo must undo a restore made in the same folder, not in the template a copy was made of).
   */
  prepare?(store: RecoveryStore, meta: TemplateMeta, trial: Trial): Promise<TemplateMeta>;
  run(store: RecoveryStore, meta: TemplateMeta): Promise<unknown>;
}

export function openTrial(trial: Trial, op: DiskFullOp, actor = 'test:disk-full'): Promise<RecoveryStore> {
  return RecoveryStore.open({
    storeDir: path.join(trial.dir, 'store'),
    roots: [{ name: 'ws', path: path.join(trial.dir, 'ws') }],
    actor,
    retention: op.retention,
    lockWaitMs: 2000,
  });
}

const ws = (trial: Trial) => path.join(trial.dir, 'ws');

/** Incompressible bytes, the same for the same seed. */
function noise(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0, n = 0; at < size; at += 32, n++) createHash('sha256').update(`${seed}:${n}`).digest().copy(out, at);
  return out;
}

/** Several files per version, one large and incompressible. */
function version(v: number): Record<string, string | Buffer> {
  return {
    'a.txt': `a version ${v}\n`,
    'shared.txt': 'shared by every version\n'.repeat(50),
    [`only${v}/f.txt`]: `only in version ${v}\n`,
    'src/app.ts': `export const v = ${v};\n`.repeat(v * 20),
    'big.bin': noise(300_000 + v, v),
  };
}

async function history(trial: Trial, op: DiskFullOp, count: number): Promise<Array<{ id: string; files: Record<string, string> }>> {
  await fs.mkdir(ws(trial), { recursive: true });
  const store = await openTrial(trial, op, 'test:template');
  const points: Array<{ id: string; files: Record<string, string> }> = [];
  try {
    for (let v = 1; v <= count; v++) {
      await writeFiles(ws(trial), { ...version(v), ...(v > 1 ? { [`only${v - 1}`]: null } : {}) });
      await store.state.updateState({ data: { version: v } });
      const point = (await store.recovery.createRecoveryPoint())!;
      points.push({ id: point.id, files: await readFiles(ws(trial)) });
    }
  } finally {
    await store.close();
  }
  return points;
}

async function editWorkspace(trial: Trial): Promise<Record<string, string>> {
  await writeFiles(ws(trial), { 'a.txt': 'edited after the points\n', 'new/file.txt': 'new\n', 'big.bin': noise(200_000, 7), 'shared.txt': null });
  return readFiles(ws(trial));
}

export const DISK_FULL_OPS: DiskFullOp[] = [
  {
    name: 'first point',
    async setup(trial) {
      await fs.mkdir(ws(trial), { recursive: true });
      await writeFiles(ws(trial), version(1));
      return { intact: [], removable: [], wsFiles: await readFiles(ws(trial)) };
    },
    run: (store) => store.recovery.createRecoveryPoint(),
  },
  {
    name: 'point creation',
    async setup(trial) {
      const intact = await history(trial, this, 2);
      return { intact, removable: [], wsFiles: await editWorkspace(trial) };
    },
    run: (store) => store.recovery.createRecoveryPoint(),
  },
  {
    name: 'restore',
    async setup(trial) {
      const intact = await history(trial, this, 2);
      return { intact, removable: [], wsFiles: await editWorkspace(trial), restoreTarget: intact[0]!.id };
    },
    run: (store, meta) => store.recovery.restore(meta.restoreTarget!),
  },
  {
    name: 'undo',
    async setup(trial) {
      const intact = await history(trial, this, 2);
      return { intact, removable: [], wsFiles: await editWorkspace(trial), restoreTarget: intact[0]!.id };
    },
    async prepare(store, meta, trial) {
      const before = await readFiles(ws(trial));
      const result = await store.recovery.restore(meta.restoreTarget!);
      return { ...meta, intact: [...meta.intact, { id: result.safetyPointId, files: before }], wsFiles: await readFiles(ws(trial)) };
    },
    run: (store) => store.recovery.undoLastRestore(),
  },
  {
    name: 'state update',
    async setup(trial) {
      const intact = await history(trial, this, 2);
      return { intact, removable: [], wsFiles: await readFiles(ws(trial)) };
    },
    run: (store) => store.state.updateState({ data: { updated: 'after the disk filled', list: [1, 2, 3] } }),
  },
  {
    name: 'cleanup and garbage collection',
    retention: { maxRecoveryPoints: 2 },
    // EIO at one manifest write made the clean-up collect the pack that held the point's only manifest
    eioInQuick: true,
    async setup(trial) {
      const points = await history(trial, { ...this, retention: undefined }, 4);
      return { intact: points.slice(2), removable: points.slice(0, 2), wsFiles: await readFiles(ws(trial)) };
    },
    run: (store) => store.recovery.cleanupRecoveryPoints(),
  },
  {
    name: 'verify --repair',
    async setup(trial) {
      const points = await history(trial, this, 3);
      const store = await openTrial(trial, this, 'test:template');
      const unique = await lookupEntry(await store.persistence.objects(), (await store.persistence.requireSnapshot(points[2]!.id)).root, 'ws/only3/f.txt');
      await store.close();
      await damageObject(path.join(trial.dir, 'store'), unique!.hash);
      return { intact: points.slice(0, 2), removable: [], wsFiles: await readFiles(ws(trial)), damagedPoint: points[2]!.id };
    },
    run: (store) => store.recovery.verify({ repair: true }),
  },
];
