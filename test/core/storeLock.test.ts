import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { StateError } from '../../src/core/errors';
import { currentOwner, ownerFileName, processStartTime } from '../../src/core/lockOwner';
import { killChildren, startChild, type Child } from '../reliability/helpers/children';
import { cleanupAll, exists, makeSandbox, openStore, waitFor, type Sandbox } from './helpers/storeFixtures';

after(cleanupAll);
after(killChildren);

const WORKER = path.join(__dirname, 'helpers', 'storeWorker.ts');

function startWorker(args: string[]): Child {
  return startChild(process.execPath, ['--import', 'tsx', WORKER, ...args]);
}

/**
 * The lock times of the takeover tests: a wait far shorter than the stale time, so only a takeover
 * that does not wait for the lock to go stale gets through. The wait is long because it covers more
 * than the takeover: a racer waits its turn behind every other racer's turns (the lock is not fair),
 * and a loaded machine stretches each turn (at a load of 15–30 on 2 cores, a 5 s wait ran out).
 * Only the stale time decides what these tests prove, so the wait can be generous.
 */
const TAKEOVER_STALE_MS = 10 * 60_000;
const TAKEOVER_WAIT_MS = 2 * 60_000;

/** A lock left by a `hold` worker killed with SIGKILL while holding it. */
async function lockOfKilledHolder(sb: Sandbox): Promise<void> {
  const holder = startWorker(['hold', sb.store, sb.ws, 'holder', '1']);
  await waitFor(() => holder.lines.includes('locked'), 30_000, 'the worker to take the lock');
  holder.child.kill('SIGKILL');
  await holder.exited;
  assert.ok(await exists(path.join(sb.store, 'store.lock')), 'the killed holder left its lock');
}

/** A lock folder whose owner file names `owner` (as another process would have left it), with its time set to `ageMs` ago. */
async function craftLock(sb: Sandbox, owner: Parameters<typeof ownerFileName>[0], ageMs = 0): Promise<void> {
  const dir = path.join(sb.store, 'store.lock');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, ownerFileName(owner)), '');
  const when = new Date(Date.now() - ageMs);
  await fs.utimes(dir, when, when);
}

const busy = (e: unknown) => e instanceof StateError && e.kind === 'IoError' && /busy/.test(e.message);

describe('store lock owner', () => {
  test('a lock left by a SIGKILLed process is taken over at once, not after the stale time', async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    await lockOfKilledHolder(sb);
    const next = await openStore(sb, { actor: 'test:next', lockWaitMs: TAKEOVER_WAIT_MS, lockStaleMs: TAKEOVER_STALE_MS });
    const state = await next.state.updateState({ data: { after: true } });
    assert.deepEqual(state.data, { before: true, after: true });
    assert.equal(await exists(path.join(sb.store, 'store.lock')), false, 'released afterwards');
  });

  test('a lock whose owner is alive is not taken, however old its folder', async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    const holder = startWorker(['hold', sb.store, sb.ws, 'holder', '1']);
    await waitFor(() => holder.lines.includes('locked'), 30_000, 'the worker to take the lock');
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(path.join(sb.store, 'store.lock'), old, old);
    const other = await openStore(sb, { actor: 'test:other', lockWaitMs: 500, lockStaleMs: 1000 });
    await assert.rejects(other.state.updateState({ data: { stolen: true } }), busy);
    holder.child.kill('SIGKILL');
    await holder.exited;
  });

  test('a lock naming a live process id with another start time (a reused id) is taken over', { skip: processStartTime(process.pid) === '' && 'no process start times here' }, async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    const me = currentOwner('0123456789abcdef');
    await craftLock(sb, { ...me, start: String(Number(me.start) + 1) });
    const store = await openStore(sb, { actor: 'test:next', lockWaitMs: TAKEOVER_WAIT_MS, lockStaleMs: TAKEOVER_STALE_MS });
    assert.deepEqual((await store.state.updateState({ data: { after: true } })).data, { before: true, after: true });
  });

  test('a lock of another machine waits until its folder is stale, then is taken over', async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    const elsewhere = { host: `not-${os.hostname()}`, boot: '', pid: 1, start: '', token: 'feedfacefeedface' };
    await craftLock(sb, elsewhere);
    const impatient = await openStore(sb, { actor: 'test:impatient', lockWaitMs: 500, lockStaleMs: 60_000 });
    await assert.rejects(impatient.state.updateState({ data: { tooSoon: true } }), busy);
    await craftLock(sb, elsewhere, 120_000);
    const later = await openStore(sb, { actor: 'test:later', lockWaitMs: 500, lockStaleMs: 60_000 });
    assert.deepEqual((await later.state.updateState({ data: { after: true } })).data, { before: true, after: true });
  });

  test('an older version\'s lock (a folder with no owner) is still honoured while fresh and taken once stale', async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    const dir = path.join(sb.store, 'store.lock');
    await fs.mkdir(dir);
    const impatient = await openStore(sb, { actor: 'test:impatient', lockWaitMs: 500, lockStaleMs: 60_000 });
    await assert.rejects(impatient.state.updateState({ data: { tooSoon: true } }), busy);
    const old = new Date(Date.now() - 120_000);
    await fs.utimes(dir, old, old);
    const later = await openStore(sb, { actor: 'test:later', lockWaitMs: 500, lockStaleMs: 60_000 });
    assert.deepEqual((await later.state.updateState({ data: { after: true } })).data, { before: true, after: true });
    assert.deepEqual((await fs.readdir(sb.store)).filter((n) => n.startsWith('store.lock')), [], 'nothing left beside the store');
  });

  test('many processes racing to take over one dead lock: one holder at a time, every increment kept', { timeout: 300_000 }, async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    const racers = 4;
    const each = 5;
    const workers = Array.from({ length: racers }, (_, i) => startWorker(['race', sb.store, sb.ws, `r${i}`, String(each), String(TAKEOVER_STALE_MS), String(TAKEOVER_WAIT_MS)]));
    await waitFor(() => workers.every((w) => w.lines.includes('ready')), 120_000, 'every racer to start');
    await lockOfKilledHolder(sb);
    await fs.writeFile(`${sb.store}.go`, '');
    const results = await Promise.all(workers.map((w) => w.exited));
    for (const [i, result] of results.entries()) assert.equal(result.code, 0, `racer ${i} failed: ${result.stderr}`);
    const lines = workers.flatMap((w) => w.lines);
    assert.equal(lines.filter((l) => l === 'overlap').length, 0, 'never two holders at once');
    assert.equal(lines.filter((l) => l === 'counted').length, racers * each);
    assert.equal(await fs.readFile(`${sb.store}.count`, 'utf8'), String(racers * each), 'no increment lost');
    await fs.rm(`${sb.store}.go`);
    await fs.rm(`${sb.store}.count`);
  });
});
