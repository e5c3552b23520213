import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { StateError } from '../../src/core/errors';
import { StoreLock } from '../../src/core/lock/storeLock';
import type { ContextState } from '../../src/core/schemas';
import { killChildren, startChild, type Child } from '../reliability/helpers/children';
import { auditEntries, cleanupAll, craftWriterLock, exists, makeSandbox, openStore, readFiles, readJson, waitFor, writeFiles, writerLock } from './helpers/storeFixtures';

after(cleanupAll);

const WORKER = path.join(__dirname, 'helpers', 'storeWorker.ts');
after(killChildren);

function startWorker(args: string[], env?: NodeJS.ProcessEnv): Child {
  return startChild(process.execPath, ['--import', 'tsx', WORKER, ...args], undefined, env);
}

async function runWorker(args: string[], env?: NodeJS.ProcessEnv): Promise<string[]> {
  const worker = startWorker(args, env);
  const { code, stderr } = await worker.exited;
  assert.equal(code, 0, `worker ${args.join(' ')} failed: ${stderr}`);
  return worker.lines;
}

describe('concurrent writers', () => {
  test('in one process: two stores updating concurrently lose nothing and count every version', async () => {
    const sb = await makeSandbox();
    const a = await openStore(sb, { actor: 'window:A' });
    const b = await openStore(sb, { actor: 'window:B' });
    const work = [];
    for (let k = 0; k < 25; k++) {
      work.push(a.state.updateState({ data: { [`a-${k}`]: k } }));
      work.push(b.state.updateState({ data: { [`b-${k}`]: k } }));
    }
    await Promise.all(work);
    const state = await readJson<ContextState>(path.join(sb.store, 'state.json'));
    assert.equal(state.version, 50);
    assert.equal(Object.keys(state.data).length, 50);
    for (let k = 0; k < 25; k++) assert.deepEqual([state.data[`a-${k}`], state.data[`b-${k}`]], [k, k]);
  });

  test('between processes: every acknowledged update is kept and the version counts them all', async () => {
    const sb = await makeSandbox();
    const workers = 3;
    const each = 20;
    const results = await Promise.all(Array.from({ length: workers }, (_, i) => runWorker(['update', sb.store, sb.ws, `p${i}`, String(each)])));
    const acknowledged = results.flat().filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));
    assert.equal(acknowledged.length, workers * each);
    const store = await openStore(sb);
    const state = await store.state.getState();
    for (const key of acknowledged) assert.ok(key in state.data, `${key} survived`);
    assert.equal(state.version, workers * each, 'one version per update');
    assert.equal((await auditEntries(store)).filter((e) => e.action === 'state').length, workers * each);
  });

  test('between processes: concurrent points get distinct ids, all listed, each the child of the one before, and the store verifies', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'base.txt': 'base\n' });
    const results = await Promise.all(['x', 'y'].map((name) => runWorker(['snapshot', sb.store, sb.ws, name, '4'])));
    const ids = results.flat().filter((l) => l.startsWith('point ')).map((l) => l.slice(6));
    assert.equal(ids.length, 8);
    assert.equal(new Set(ids).size, 8, 'no duplicate ids');
    const store = await openStore(sb);
    const listed = await store.recovery.listRecoveryPoints();
    assert.deepEqual(
      listed.map((p) => p.id).sort(),
      [...ids].sort(),
    );
    for (let i = 0; i < listed.length; i++) {
      assert.equal(listed[i]!.parentId, listed[i + 1]?.id ?? null, 'points form one chain in id order');
    }
    const report = await store.recovery.verify();
    assert.equal(report.ok, true);
    // the newest point has both workers' last files
    await store.recovery.restore(listed[0]!.id);
    const files = await readFiles(sb.ws);
    assert.equal(files['x.txt'], 'file 644 x 3\n');
    assert.equal(files['y.txt'], 'file 644 y 3\n');
  });

  test('a lock left by a killed process is taken over once stale; a live holder makes others wait, then fail with a clear error', async () => {
    const sb = await makeSandbox();
    const store0 = await openStore(sb);
    await store0.state.updateState({ data: { before: true } });
    const holder = startWorker(['hold', sb.store, sb.ws, 'holder', '1', '2000']);
    await waitFor(() => holder.lines.includes('locked'), 20_000, 'the worker to take the lock');
    assert.ok(await exists(writerLock(sb.store)));

    const impatient = await openStore(sb, { actor: 'test:impatient', lockWaitMs: 300, lockStaleMs: 2000 });
    await assert.rejects(impatient.state.updateState({ data: { tooSoon: true } }), (e: unknown) => e instanceof StateError && e.kind === 'IoError' && /busy/.test(e.message));

    holder.child.kill('SIGKILL');
    await holder.exited;
    const patient = await openStore(sb, { actor: 'test:patient', lockStaleMs: 2000 });
    const state = await patient.state.updateState({ data: { after: true } });
    assert.deepEqual(state.data, { before: true, after: true });
    assert.equal(await exists(writerLock(sb.store)), false, 'released afterwards');
  });

  test('a writer killed at random moments leaves a store in which every listed point verifies and restores', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'base.txt': 'base\n'.repeat(100) });
    const seen = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const worker = startWorker(['snapshot', sb.store, sb.ws, `k${round}`, '1000', '2000']);
      await waitFor(() => worker.lines.some((l) => l.startsWith('point ')), 30_000, 'a first point');
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 150)));
      worker.child.kill('SIGKILL');
      await worker.exited;
      for (const line of worker.lines) if (line.startsWith('point ')) seen.add(line.slice(6));
    }
    const store = await openStore(sb, { actor: 'test:after-kills', lockStaleMs: 2000 });
    const listed = await store.recovery.listRecoveryPoints();
    for (const id of seen) assert.ok(listed.some((p) => p.id === id), `acknowledged point ${id} is listed`);
    const report = await store.recovery.verify();
    assert.deepEqual([report.brokenObjects, report.brokenPoints, report.stateProblem], [[], [], null]);
    for (const point of listed.filter((p) => p.trigger === 'external')) {
      await store.recovery.restore(point.id);
      const files = await readFiles(sb.ws);
      assert.equal(files['base.txt'], `file 644 ${'base\n'.repeat(100)}`);
      const written = Object.keys(files).filter((f) => /^k\d\.txt$/.test(f));
      assert.ok(written.length >= 1);
      // A worker killed between truncating and rewriting its workspace file leaves it empty, and the next point records that faithfully.
      for (const f of written) assert.match(files[f]!, /^file 644 (k\d \d+\n)?$/);
    }
    await store.state.getState(); // the state file loads (or is recovered)
  });

  test('a stale lock with an old time and no owner (a crash long ago) does not block the store', async () => {
    const sb = await makeSandbox();
    const first = await openStore(sb);
    await first.state.updateState({ data: { a: 1 } });
    await craftWriterLock(sb.store, '', 3_600_000);
    const store = await openStore(sb, { actor: 'test:later', lockWaitMs: 5000 });
    const state = await store.state.updateState({ data: { b: 2 } });
    assert.deepEqual(state.data, { a: 1, b: 2 });
  });

  // (a store object makes a new store in place of a removed one instead: removedWhileOpen.test.ts)
  test('the lock of a store whose folder was removed fails at once with a clear error instead of waiting', { timeout: 20_000 }, async () => {
    const sb = await makeSandbox();
    await fs.mkdir(sb.store, { recursive: true });
    const lock = new StoreLock(sb.store);
    await lock.run(async () => undefined);
    await fs.rm(sb.store, { recursive: true });
    try {
      await assert.rejects(lock.run(async () => undefined), (e: unknown) => e instanceof StateError && e.kind === 'IoError' && /lock/.test(e.message));
    } finally {
      lock.dispose();
    }
  });

  test('work started from inside a locked operation but run after it ended still waits for the lock', async () => {
    const sb = await makeSandbox();
    await fs.mkdir(sb.store, { recursive: true });
    const lock = new StoreLock(sb.store);
    let inside = false;
    let overlapped = false;
    let later: Promise<void> | undefined;
    let go!: () => void;
    const started = new Promise<void>((resolve) => (go = resolve));
    // An event listener fired inside a locked operation schedules work for later (a continuation
    // created inside the operation inherits its async context).
    await lock.run(async () => {
      later = started.then(() =>
        lock.run(async () => {
          if (inside) overlapped = true;
        }),
      );
    });
    // Another operation holds the lock when that work runs.
    await lock.run(async () => {
      inside = true;
      go();
      await new Promise((resolve) => setImmediate(resolve));
      inside = false;
    });
    await later;
    assert.equal(overlapped, false, 'the later work did not run while another operation held the lock');
  });

  test('the lock has Node track no promise of the process (its own, or other extensions\' in a host): not inside a hold, not after a point', async () => {
    // in a process of its own (the test runner tracks every promise itself), as the extension runs: without the holds' check of the tests
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a' });
    const { RP_CHECK_HOLDS: _checked, ...env } = process.env;
    const line = (await runWorker(['tracking', sb.store, sb.ws, 'w', '1'], env)).find((l) => l.startsWith('tracking '));
    const [before, during, after] = line!.split(' ').slice(1).map(Number);
    assert.equal(before, 0, 'nothing tracked promises before the store was opened');
    assert.equal(during, 0, 'promises are not tracked inside a hold of the lock');
    assert.equal(after, 0, 'promises are not tracked after a point');
  });
});

describe('two windows on one store', () => {
  test('undo in one window undoes a restore made by another (the command-line tool)', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'v1\n' });
    const editor = await openStore(sb, { actor: 'extension' });
    const point = (await editor.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'v2, precious\n' });
    assert.equal((await editor.state.getState()).lastRestore, null); // the editor's cached state

    const cli = await openStore(sb, { actor: 'cli' });
    await cli.recovery.restore(point.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'v1\n');

    await editor.recovery.undoLastRestore();
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'v2, precious\n');
  });

  test('clean-up in one window keeps the safety point of a restore made in another', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'v1\n' });
    const editor = await openStore(sb, { actor: 'extension', retention: { maxRecoveryPoints: 1, maxAgeDays: 0, maxTotalBytes: 0 } });
    const point = (await editor.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'v2\n' });
    await editor.state.getState();
    const cli = await openStore(sb, { actor: 'cli' });
    const restored = await cli.recovery.restore(point.id);
    await writeFiles(sb.ws, { 'b.txt': 'newer\n' });
    const newest = (await cli.recovery.createRecoveryPoint())!;
    await editor.recovery.cleanupRecoveryPoints();
    const ids = (await editor.recovery.listRecoveryPoints()).map((p) => p.id);
    assert.deepEqual(ids, [newest.id, restored.safetyPointId]);
  });

  test('a restore in one window after garbage collection in another reads the rewritten packs', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'keep.txt': 'kept content\n'.repeat(20), 'change.txt': 'one\n' });
    const first = await openStore(sb, { actor: 'setup' });
    const old = (await first.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'change.txt': 'two\n' });
    const kept = (await first.recovery.createRecoveryPoint())!;
    await first.close();

    const editor = await openStore(sb, { actor: 'extension' });
    await editor.recovery.listRecoveryPoints();
    const cli = await openStore(sb, { actor: 'cli' });
    await cli.recovery.deletePoints([old.id]);
    const gc = await cli.recovery.collectGarbage();
    assert.ok(gc.removedObjects > 0, 'the first pack held dead objects and was rewritten');

    await writeFiles(sb.ws, { 'keep.txt': 'damaged\n', 'change.txt': 'three\n' });
    await editor.recovery.restore(kept.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'keep.txt'), 'utf8'), 'kept content\n'.repeat(20));
    assert.equal(await fs.readFile(path.join(sb.ws, 'change.txt'), 'utf8'), 'two\n');
  });
});
