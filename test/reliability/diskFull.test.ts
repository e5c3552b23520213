/**
 * Reliability suite 4: disk full and I/O errors. A failing file-system layer (helpers/failingFs.mjs,
 * preloaded into a child process) makes the k-th write, fsync, rename, open-for-writing or mkdir of an
 * operation fail with ENOSPC (and, once failed, every later one: the disk stays full) or EIO (that call
 * only), for every k the operation reaches. After each failure the store is opened afresh with a
 * working disk: the error was a StateError naming the cause, every earlier point verifies and restores
 * byte for byte, and the same operation then succeeds. A real full tmpfs closes the suite.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { StateError } from '../../src/core/errors';
import { RecoveryStore } from '../../src/core/recoveryStore';
import { cleanupAll, makeSandbox, readFiles, writeFiles } from '../core/helpers/storeFixtures';
import { DISK_FULL_OPS, openTrial, type DiskFullOp, type TemplateMeta } from './helpers/diskFullOps';
import { byLevel, level } from './helpers/level';

after(cleanupAll);

const ROOT = path.resolve(__dirname, '../..');
const INJECT = path.join(__dirname, 'helpers', 'failingFs.mjs');
const WORKER = path.join(__dirname, 'helpers', 'diskFullWorker.ts');
const MAX_POSITIONS = 400;

interface TrialResult {
  k: number;
  call?: string;
  calls: number;
  bytes: number;
  tripped: boolean;
  ok: boolean;
  kind?: string;
  message?: string;
  stack?: string;
  /** What the trial's own preparation made (`DiskFullOp.prepare`): the points and files its checks use. */
  meta?: TemplateMeta;
}

/** Runs the worker over every failure position (or the given byte budgets); bounded in time. */
function sweep(op: DiskFullOp, template: string, trialsDir: string, code: 'ENOSPC' | 'EIO', sticky: boolean, afterBytes?: number[]): Promise<TrialResult[]> {
  const input = JSON.stringify({ op: op.name, template, trialsDir, code, sticky, maxTrials: MAX_POSITIONS, afterBytes });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', INJECT, '--import', 'tsx', WORKER, input], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    // decoded as a stream: a prepared trial's files (`meta`) are long lines whose characters a chunk may split
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status !== 0) reject(new Error(`the disk-full worker failed (${status}): ${err}`));
      else resolve(out.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as TrialResult));
    });
  });
}

async function buildTemplate(op: DiskFullOp, dir: string): Promise<TemplateMeta> {
  const meta = await op.setup({ dir });
  await fs.writeFile(path.join(dir, 'meta.json'), JSON.stringify(meta));
  return meta;
}

const CAUSE = /ENOSPC|disk is full|EIO|i\/o error/i;

/** Everything that must hold after the operation failed at one position, checked with a working disk. */
async function checkAfterFailure(op: DiskFullOp, meta: TemplateMeta, dir: string, result: TrialResult): Promise<void> {
  const where = `${op.name}, failure at call ${result.k} (${result.call ?? 'a write'})`;
  if (!result.ok) {
    assert.notEqual(result.kind, 'not a StateError', `${where}: ${result.stack ?? result.message}`);
    assert.match(result.message ?? '', CAUSE, `${where}: the message names the cause`);
    assert.doesNotMatch(result.message ?? '', /\n\s+at /, `${where}: no stack trace in the message`);
  }
  const store = await openTrial({ dir }, op, 'test:after');
  try {
    // The next open reads everything the failure may have left half-written.
    const listed = new Set((await store.recovery.listRecoveryPoints()).map((p) => p.id));
    await store.state.getState();
    for (const point of meta.intact) assert.ok(listed.has(point.id), `${where}: point ${point.id} is still listed`);

    // The same operation succeeds once there is space again.
    const again = await op.run(store, meta);
    if (op.name === 'first point' || op.name === 'point creation') {
      const id = (again as { id: string }).id;
      await store.recovery.restore(id);
      assert.deepEqual(await readFiles(path.join(dir, 'ws')), meta.wsFiles, `${where}: the point made after the failure restores exactly`);
    }
    if (op.name === 'restore') assert.deepEqual(await readFiles(path.join(dir, 'ws')), meta.intact.find((p) => p.id === meta.restoreTarget)!.files, `${where}: the retried restore`);
    if (op.name === 'state update') assert.equal((await store.state.getState()).data.updated, 'after the disk filled');

    const report = await store.recovery.verify();
    // the repair keeps the damaged point, which lost one file's content for good: nothing else may be wrong
    const lostOnly = meta.damagedPoint !== undefined && !report.needsRepair && report.brokenPoints.every((p) => p.restorable && p.id === meta.damagedPoint);
    assert.ok(report.ok || lostOnly, `${where}: verify after the retry: ${JSON.stringify({ objects: report.brokenObjects, points: report.brokenPoints, state: report.stateProblem })}`);
    const nowListed = new Set((await store.recovery.listRecoveryPoints()).map((p) => p.id));
    for (const point of [...meta.intact, ...meta.removable.filter((p) => nowListed.has(p.id))]) {
      await store.recovery.restore(point.id);
      assert.deepEqual(await readFiles(path.join(dir, 'ws')), point.files, `${where}: point ${point.id} restores byte for byte`);
    }
  } finally {
    await store.close();
  }
}

describe('disk full and I/O errors at every write of an operation', () => {
  const stays = { code: 'ENOSPC' as const, sticky: true, what: 'ENOSPC from the k-th call on (the disk stays full)' };
  const once = { code: 'EIO' as const, sticky: false, what: 'EIO at the k-th call only' };
  const modesOf = (op: DiskFullOp) => [stays, ...(op.eioInQuick ? [once] : byLevel([], [once]))];
  const totals = { positions: 0, failed: 0, absorbed: 0 };
  after(() => {
    console.log(`disk full (${level}): ${totals.positions} failure positions tried, ${totals.failed} failed cleanly, ${totals.absorbed} absorbed`);
  });

  for (const op of DISK_FULL_OPS) {
    for (const mode of modesOf(op)) {
      test(`${op.name}: ${mode.what}`, async (t: TestContext) => {
        const sb = await makeSandbox('rp-diskfull-');
        const template = path.join(sb.root, 'template');
        const meta = await buildTemplate(op, template);
        const trialsDir = path.join(sb.root, 'trials');
        const results = await sweep(op, template, trialsDir, mode.code, mode.sticky);
        const last = results[results.length - 1]!;
        assert.equal(last.tripped, false, `the sweep reached the end of the operation (more than ${MAX_POSITIONS} calls?)`);
        assert.ok(last.ok, `without a failure the operation succeeds: ${last.message}`);
        const tried = results.filter((r) => r.tripped);
        assert.ok(tried.length > 0);
        for (const result of tried) {
          await checkAfterFailure(op, result.meta ?? meta, path.join(trialsDir, String(result.k)), result);
          await fs.rm(path.join(trialsDir, String(result.k)), { recursive: true, force: true });
        }
        const failed = tried.filter((r) => !r.ok).length;
        totals.positions += tried.length;
        totals.failed += failed;
        totals.absorbed += tried.length - failed;
        t.diagnostic(`${tried.length} failure positions (${last.calls} write-side calls): ${failed} failed with a StateError, ${tried.length - failed} absorbed (the operation completed despite the failed call)`);
        const calls = [...new Set(tried.map((r) => (r.call ?? '').split(' ')[0]))].sort();
        t.diagnostic(`calls failed: ${calls.join(', ')}`);
        await sb.cleanup();
      });
    }
  }

  test('point creation: the disk fills after N bytes (short writes), swept over the bytes the point writes', async (t) => {
    const op = DISK_FULL_OPS.find((o) => o.name === 'point creation')!;
    const sb = await makeSandbox('rp-diskfull-');
    const template = path.join(sb.root, 'template');
    const meta = await buildTemplate(op, template);
    const trialsDir = path.join(sb.root, 'trials');
    const steps = byLevel(12, 60);
    const [probe] = await sweep(op, template, path.join(sb.root, 'probe'), 'ENOSPC', true, [Number.MAX_SAFE_INTEGER]);
    assert.ok(probe && !probe.tripped && probe.ok);
    const budgets = Array.from({ length: steps }, (_, i) => Math.floor((i * probe.bytes) / steps));
    const results = await sweep(op, template, trialsDir, 'ENOSPC', true, budgets);
    const tried = results.filter((r) => r.tripped);
    assert.equal(tried.length, steps, 'every budget is smaller than what the point writes');
    for (const result of tried) await checkAfterFailure(op, result.meta ?? meta, path.join(trialsDir, String(result.k)), result);
    t.diagnostic(`${tried.length} byte budgets from 0 to ${budgets[budgets.length - 1]} of the ${probe.bytes} bytes the point writes failed it; every one left the store whole`);
    await sb.cleanup();
  });

  test('the command-line tool reports a full disk in one sentence, without a stack trace, and exits non-zero', async (t) => {
    const sb = await makeSandbox('rp-diskfull-');
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'b.bin': Buffer.alloc(100_000, 1) });
    const positions = byLevel([1, 3, 6, 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14]);
    let failed = 0;
    for (const k of positions) {
      const run = spawnSync(process.execPath, ['--import', INJECT, '--import', 'tsx', path.join(ROOT, 'src/cli/cli.ts'), 'snapshot', '--store', sb.store, '--workspace', sb.ws], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, RP_FAIL_AT: String(k), RP_FAIL_CODE: 'ENOSPC', RP_FAIL_STICKY: '1', RP_FAIL_UNDER: sb.store },
        timeout: 60_000,
      });
      if (run.status === 0) continue;
      failed++;
      assert.doesNotMatch(run.stderr, /\n\s+at /, `call ${k}: no stack trace:\n${run.stderr}`);
      assert.match(run.stderr, CAUSE, `call ${k}: ${run.stderr}`);
    }
    assert.ok(failed > 0);
    const store = await RecoveryStore.open({ storeDir: sb.store, roots: [{ name: 'ws', path: sb.ws }] });
    assert.ok((await store.recovery.verify()).ok);
    await store.close();
    t.diagnostic(`${failed} of ${positions.length} injected failures made the snapshot command fail cleanly`);
  });
});

describe('a real full file system (tmpfs)', () => {
  test('points fail cleanly when a small tmpfs fills up, earlier points survive, and work resumes after space is freed', async (t) => {
    const sb = await makeSandbox('rp-tmpfs-');
    const mountPoint = path.join(sb.root, 'tmpfs');
    await fs.mkdir(mountPoint);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { encoding: 'utf8' });
    if (mount.status !== 0) {
      t.skip(`cannot mount a tmpfs here (${(mount.stderr || mount.error?.message || 'not permitted').trim()}); the injection suite above covers disk-full failures`);
      return;
    }
    try {
      const storeDir = path.join(mountPoint, 'store');
      await writeFiles(sb.ws, { 'a.txt': 'first\n' });
      const store = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: sb.ws }], actor: 'test:tmpfs' });
      const first = (await store.recovery.createRecoveryPoint())!;
      const firstFiles = await readFiles(sb.ws);
      // Incompressible content, 1 MB per point, until the 4 MB file system is full.
      let failure: unknown;
      let made = 0;
      for (let i = 0; i < 20 && !failure; i++) {
        await writeFiles(sb.ws, { [`fill${i}.bin`]: (await import('node:crypto')).randomBytes(1_000_000) });
        try {
          await store.recovery.createRecoveryPoint();
          made++;
        } catch (error) {
          failure = error;
        }
      }
      assert.ok(failure instanceof StateError, `a StateError, not ${String(failure)}`);
      assert.match(failure.message, /disk is full|ENOSPC/);
      t.diagnostic(`${made} points fitted; then: ${failure.message}`);
      await store.close();

      // The store opens and verifies on the full disk; the first point restores.
      const full = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: sb.ws }], actor: 'test:tmpfs' });
      const report = await full.recovery.verify();
      assert.ok(report.ok, JSON.stringify(report));
      // Space comes back: the fill files leave the workspace, clean-up frees the store.
      await writeFiles(sb.ws, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`fill${i}.bin`, null])));
      await full.recovery.deletePoints((await full.recovery.listRecoveryPoints()).filter((p) => p.id !== first.id).map((p) => p.id));
      await full.recovery.collectGarbage();
      const next = (await full.recovery.createRecoveryPoint())!;
      await full.recovery.restore(first.id);
      assert.deepEqual(await readFiles(sb.ws), firstFiles);
      assert.ok(next.id > first.id);
      assert.ok((await full.recovery.verify()).ok);
      await full.close();
    } finally {
      spawnSync('umount', ['-l', mountPoint]);
    }
  });
});
