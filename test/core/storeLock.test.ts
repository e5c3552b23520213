import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { StateError } from '../../src/core/errors';
import { LinkedLock } from '../../src/core/lock/linkedLock';
import { currentOwner, ownerFileName, processStartTime } from '../../src/core/lock/lockOwner';
import { killChildren, startChild, type Child } from '../reliability/helpers/children';
import { withoutLinks } from '../reliability/helpers/noLinks';
import { cleanupAll, craftWriterLock, exists, makeSandbox, openStore, toFormat1, waitFor, writerLock, type Sandbox } from './helpers/storeFixtures';

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
  assert.ok(await exists(writerLock(sb.store)), 'the killed holder left its lock');
}

/** A lock folder of a store in format 1 whose owner file names `owner` (as another process would have left it), with its time set to `ageMs` ago. */
async function craftLockFolder(sb: Sandbox, owner: Parameters<typeof ownerFileName>[0], ageMs = 0): Promise<void> {
  const dir = path.join(sb.store, 'store.lock');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, ownerFileName(owner)), '');
  const when = new Date(Date.now() - ageMs);
  await fs.utimes(dir, when, when);
}

/**
 * What stands beside the store's files for its lock: names starting with `store.lock` or `writer.lock`,
 * with their kinds, but for the lock objects' own files (`writer.lock.<token>`, one per open store).
 */
async function lockEntries(sb: Sandbox): Promise<string[]> {
  const names = (await fs.readdir(sb.store)).filter((n) => (n.startsWith('store.lock') || n.startsWith('writer.lock')) && !/^writer\.lock\.[0-9a-f]{16}$/.test(n)).sort();
  return Promise.all(names.map(async (n) => `${n}:${(await fs.lstat(path.join(sb.store, n))).isDirectory() ? 'folder' : 'file'}`));
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
    assert.deepEqual(await lockEntries(sb), ['store.lock:file'], 'released afterwards: only the format marker is left');
  });

  test('a lock that is a folder (the collection lock, format 1) is made 0700, as every folder of the store', { skip: process.platform === 'win32' ? 'no POSIX permissions' : false }, async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const previous = process.umask(0o022);
    try {
      const mode = await store.persistence.collectionLock.run(async () => (await fs.stat(path.join(sb.store, 'collection.lock'))).mode & 0o777);
      assert.equal(mode.toString(8), '700');
    } finally {
      process.umask(previous);
      await store.close();
    }
  });

  test('a lock whose owner is alive is not taken, however old its folder', async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    const holder = startWorker(['hold', sb.store, sb.ws, 'holder', '1']);
    await waitFor(() => holder.lines.includes('locked'), 30_000, 'the worker to take the lock');
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(writerLock(sb.store), old, old);
    const other = await openStore(sb, { actor: 'test:other', lockWaitMs: 500, lockStaleMs: 1000 });
    await assert.rejects(other.state.updateState({ data: { stolen: true } }), busy);
    holder.child.kill('SIGKILL');
    await holder.exited;
  });

  test('a lock naming a live process id with another start time (a reused id) is taken over', { skip: processStartTime(process.pid) === '' && 'no process start times here' }, async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    const me = currentOwner('0123456789abcdef');
    await craftWriterLock(sb.store, ownerFileName({ ...me, start: String(Number(me.start) + 1) }));
    const store = await openStore(sb, { actor: 'test:next', lockWaitMs: TAKEOVER_WAIT_MS, lockStaleMs: TAKEOVER_STALE_MS });
    assert.deepEqual((await store.state.updateState({ data: { after: true } })).data, { before: true, after: true });
  });

  test('a lock of another machine waits until it is stale, then is taken over', async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    const elsewhere = ownerFileName({ host: `not-${os.hostname()}`, boot: '', pid: 1, start: '', token: 'feedfacefeedface' });
    await craftWriterLock(sb.store, elsewhere);
    const impatient = await openStore(sb, { actor: 'test:impatient', lockWaitMs: 500, lockStaleMs: 60_000 });
    await assert.rejects(impatient.state.updateState({ data: { tooSoon: true } }), busy);
    await craftWriterLock(sb.store, elsewhere, 120_000);
    const later = await openStore(sb, { actor: 'test:later', lockWaitMs: 500, lockStaleMs: 60_000 });
    assert.deepEqual((await later.state.updateState({ data: { after: true } })).data, { before: true, after: true });
  });

  test('a lock naming no owner (its bytes lost to a power loss) is honoured while fresh and taken once stale', async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    await craftWriterLock(sb.store, '');
    const impatient = await openStore(sb, { actor: 'test:impatient', lockWaitMs: 500, lockStaleMs: 60_000 });
    await assert.rejects(impatient.state.updateState({ data: { tooSoon: true } }), busy);
    await craftWriterLock(sb.store, '', 120_000);
    const later = await openStore(sb, { actor: 'test:later', lockWaitMs: 500, lockStaleMs: 60_000 });
    assert.deepEqual((await later.state.updateState({ data: { after: true } })).data, { before: true, after: true });
    assert.deepEqual(await lockEntries(sb), ['store.lock:file'], 'nothing left beside the store');
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

describe("the store's format: a store of format 1 (an earlier build's) marked as format 2 by its first writer", () => {
  test('the first write marks the store: a file stands where an earlier build makes its lock folder, and the lock is writer.lock', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await store.state.updateState({ data: { before: true } });
    await toFormat1(sb.store);
    assert.deepEqual(await lockEntries(sb), [], 'a store of format 1, its lock free');
    let during: string[] = [];
    await store.persistence.lock.run(async () => {
      during = await lockEntries(sb);
    });
    assert.deepEqual(during, ['store.lock:file', 'writer.lock:file'], 'marked, and locked with writer.lock');
    assert.deepEqual(await lockEntries(sb), ['store.lock:file'], 'released: the marker stays');
    const marker = JSON.parse(await fs.readFile(path.join(sb.store, 'store.lock'), 'utf8')) as { recoveryPointsStoreFormat: number; writerLock: string };
    assert.deepEqual([marker.recoveryPointsStoreFormat, marker.writerLock], [2, 'writer.lock']);
    // an earlier build locks by making the folder, and reads the folder when it exists: both fail, so it writes nothing
    await assert.rejects(fs.mkdir(path.join(sb.store, 'store.lock')), { code: 'EEXIST' });
    await assert.rejects(fs.readdir(path.join(sb.store, 'store.lock')), { code: 'ENOTDIR' });
    assert.deepEqual((await store.state.updateState({ data: { after: true } })).data, { before: true, after: true });
  });

  test('a writer of format 1 holding its lock folder keeps the store in format 1 and makes others wait', async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    await toFormat1(sb.store);
    await craftLockFolder(sb, currentOwner('0123456789abcdef'));
    const impatient = await openStore(sb, { actor: 'test:impatient', lockWaitMs: 500 });
    await assert.rejects(impatient.state.updateState({ data: { tooSoon: true } }), busy);
    assert.deepEqual(await lockEntries(sb), ['store.lock:folder'], 'not marked while the folder is held');
  });

  test("a dead owner's lock folder (a crash of format 1) is taken over at once, and the store marked at the next write", async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    await toFormat1(sb.store);
    const me = currentOwner('0123456789abcdef');
    await craftLockFolder(sb, { ...me, pid: spawnedAndGone(), start: '' });
    const next = await openStore(sb, { actor: 'test:next', lockWaitMs: TAKEOVER_WAIT_MS, lockStaleMs: TAKEOVER_STALE_MS });
    assert.deepEqual((await next.state.updateState({ data: { after: true } })).data, { before: true, after: true });
    assert.deepEqual(await lockEntries(sb), [], 'taken over in format 1, then released');
    await next.state.updateState({ data: { later: true } });
    assert.deepEqual(await lockEntries(sb), ['store.lock:file'], 'marked at the next write');
  });

  test("an earlier build's lock folder with no owner is honoured while fresh and taken once stale", async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    await toFormat1(sb.store);
    const dir = path.join(sb.store, 'store.lock');
    await fs.mkdir(dir);
    const impatient = await openStore(sb, { actor: 'test:impatient', lockWaitMs: 500, lockStaleMs: 60_000 });
    await assert.rejects(impatient.state.updateState({ data: { tooSoon: true } }), busy);
    const old = new Date(Date.now() - 120_000);
    await fs.utimes(dir, old, old);
    const later = await openStore(sb, { actor: 'test:later', lockWaitMs: 500, lockStaleMs: 60_000 });
    assert.deepEqual((await later.state.updateState({ data: { after: true } })).data, { before: true, after: true });
    assert.deepEqual(await lockEntries(sb), [], 'nothing left beside the store');
  });

  test('a writer of format 1 that makes its lock folder just as the marker is renamed, and releases it at once: the marking writer waits, then marks the store', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb, { lockWaitMs: 5_000 });
    await store.state.updateState({ data: { before: true } });
    await toFormat1(sb.store);
    const marker = path.join(sb.store, 'store.lock');
    const rename = fsSync.renameSync;
    let met = 0;
    // the interleaving the race test met in CI: the rename finds the folder, which is gone when the lock looks again
    fsSync.renameSync = ((from: fsSync.PathLike, to: fsSync.PathLike) => {
      if (String(to) !== marker || met > 0) return rename(from, to);
      met++;
      fsSync.mkdirSync(marker);
      try {
        return rename(from, to);
      } finally {
        fsSync.rmdirSync(marker);
      }
    }) as typeof fsSync.renameSync;
    try {
      assert.deepEqual((await store.state.updateState({ data: { after: true } })).data, { before: true, after: true });
    } finally {
      fsSync.renameSync = rename;
    }
    assert.equal(met, 1, 'the rename met the folder once');
    assert.deepEqual(await lockEntries(sb), ['store.lock:file'], 'marked at the next try, and released');
  });

  test('writers of this version and of format 1 racing while the store is marked: one holder at a time, format 1 refused once marked', { timeout: 300_000 }, async () => {
    const sb = await makeSandbox();
    await (await openStore(sb)).state.updateState({ data: { before: true } });
    await toFormat1(sb.store);
    const each = 8;
    const kinds = ['race1', 'race', 'race1', 'race'];
    const workers = kinds.map((mode, i) => startWorker([mode, sb.store, sb.ws, `r${i}`, String(each), String(TAKEOVER_STALE_MS), String(TAKEOVER_WAIT_MS)]));
    await waitFor(() => workers.every((w) => w.lines.includes('ready')), 120_000, 'every racer to start');
    await fs.writeFile(`${sb.store}.go`, '');
    const results = await Promise.all(workers.map((w) => w.exited));
    for (const [i, result] of results.entries()) assert.equal(result.code, 0, `racer ${i} failed: ${result.stderr}`);
    const lines = workers.flatMap((w) => w.lines);
    assert.equal(lines.filter((l) => l === 'overlap').length, 0, 'never two holders at once');
    const counted = lines.filter((l) => l === 'counted').length;
    assert.equal(await fs.readFile(`${sb.store}.count`, 'utf8'), String(counted), 'no increment lost');
    for (const [i, w] of workers.entries()) {
      if (kinds[i] === 'race') assert.equal(w.lines.filter((l) => l === 'counted').length, each, `writer ${i} of this version counted every time`);
    }
    assert.deepEqual(await lockEntries(sb), ['store.lock:file'], 'marked, and every lock released');
    await fs.rm(`${sb.store}.go`);
    await fs.rm(`${sb.store}.count`);
  });

  test('a store marked by a newer version is refused with words, and nothing is written', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await store.state.updateState({ data: { before: true } });
    await fs.writeFile(path.join(sb.store, 'store.lock'), JSON.stringify({ recoveryPointsStoreFormat: 3, writerLock: 'other.lock' }));
    const before = await fs.readFile(path.join(sb.store, 'state.json'), 'utf8');
    await assert.rejects(store.state.updateState({ data: { after: true } }), /newer version of Recovery Points \(store format 3/);
    assert.equal(await fs.readFile(path.join(sb.store, 'state.json'), 'utf8'), before);
    assert.equal(await exists(writerLock(sb.store)), false);
  });

  test('a damaged marker still keeps the store in format 2, and the next writer writes it whole again', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await store.state.updateState({ data: { before: true } });
    await fs.writeFile(path.join(sb.store, 'store.lock'), '{"recoveryPoints');
    assert.deepEqual((await store.state.updateState({ data: { after: true } })).data, { before: true, after: true });
    assert.equal(JSON.parse(await fs.readFile(path.join(sb.store, 'store.lock'), 'utf8')).recoveryPointsStoreFormat, 2);
    // one larger than any marker is not read, and is written whole again too
    await fs.writeFile(path.join(sb.store, 'store.lock'), Buffer.alloc(200_000, 0x7b));
    assert.deepEqual((await store.state.updateState({ data: { later: true } })).data, { before: true, after: true, later: true });
    assert.equal(JSON.parse(await fs.readFile(path.join(sb.store, 'store.lock'), 'utf8')).recoveryPointsStoreFormat, 2);
  });

  test('where hard links cannot be made the store stays in format 1, locked with the folder', async () => {
    const sb = await makeSandbox();
    await fs.mkdir(sb.store, { recursive: true });
    const restoreLinks = withoutLinks();
    try {
      const store = await openStore(sb);
      let during: string[] = [];
      await store.persistence.lock.run(async () => {
        during = await lockEntries(sb);
      });
      assert.deepEqual(during, ['store.lock:folder']);
      await store.state.updateState({ data: { a: 1 } });
      assert.deepEqual(await lockEntries(sb), [], 'released, not marked');
    } finally {
      restoreLinks();
    }
  });

  test('takers of a dead lock take turns: while one is at it (holding writer.lock.taking), no other moves the lock; a turn left by a dead taker is cleared', async () => {
    const sb = await makeSandbox();
    await fs.mkdir(sb.store, { recursive: true });
    const lockFile = writerLock(sb.store);
    const dead = ownerFileName({ ...currentOwner('0123456789abcdef'), pid: spawnedAndGone(), start: '' });
    await craftWriterLock(sb.store, dead);
    const judged = (await fs.lstat(lockFile)).ino;
    // a live taker between its judgment of the dead lock and its move of it
    const taking = `${lockFile}.taking`;
    await fs.writeFile(taking, ownerFileName(currentOwner('fedcba9876543210')));
    const second = new LinkedLock(lockFile, TAKEOVER_STALE_MS, () => undefined);
    try {
      assert.equal(second.tryTake(), undefined, 'the second taker waits for its turn');
      assert.equal((await fs.lstat(lockFile)).ino, judged, 'and moved nothing: the first finds the lock it judged');
      // the first taker died in its turn
      await fs.writeFile(taking, ownerFileName({ ...currentOwner('fedcba9876543210'), pid: spawnedAndGone(), start: '' }));
      assert.equal(second.tryTake(), undefined, 'its turn is cleared by this attempt');
      assert.equal(await exists(taking), false);
      const held = second.tryTake();
      assert.ok(held, 'the next attempt takes the dead lock over');
      assert.ok(held.stillMine());
      assert.equal(await exists(taking), false, 'its turn ended');
      assert.ok(held.release());
    } finally {
      second.dispose();
    }
  });

  test('a lock object keeps its own file beside the lock while its store is open, and removes it at close', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await store.state.updateState({ data: { a: 1 } });
    const own = (await fs.readdir(sb.store)).filter((n) => /^writer\.lock\.[0-9a-f]{16}$/.test(n));
    assert.equal(own.length, 1);
    assert.match(await fs.readFile(path.join(sb.store, own[0]!), 'utf8'), /^owner\./, 'it names its owner');
    await store.close();
    assert.deepEqual((await fs.readdir(sb.store)).filter((n) => n.startsWith('writer.lock')), []);
  });

  test("what killed processes leave beside the lock is removed by a clean-up (a dead owner's file at once, others once old), and a live owner's file is not", async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    const old = new Date(Date.now() - 2 * 3_600_000);
    const dead = ownerFileName({ ...currentOwner('0123456789abcdef'), pid: spawnedAndGone(), start: '' });
    const live = ownerFileName(currentOwner('fedcba9876543210'));
    const files: Record<string, string> = {
      'writer.lock.0000000000000001': dead,
      'writer.lock.0000000000000002': live,
      'writer.lock.0000000000000003': 'damaged',
      'writer.lock.0000000000000004': 'damaged',
      'writer.lock.aside-0000000000000005': dead,
      'writer.lock.aside-0000000000000006': dead,
      'writer.lock.taking': dead,
    };
    for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(sb.store, name), text);
    for (const name of ['writer.lock.0000000000000002', 'writer.lock.0000000000000003', 'writer.lock.aside-0000000000000005']) await fs.utimes(path.join(sb.store, name), old, old);
    await store.recovery.collectGarbage();
    const left = (await fs.readdir(sb.store)).filter((n) => n.startsWith('writer.lock.')).filter((n) => n in files);
    assert.deepEqual(left.sort(), ['writer.lock.0000000000000002', 'writer.lock.0000000000000004', 'writer.lock.aside-0000000000000006']);
  });
});

/** The id of a process that has exited. */
function spawnedAndGone(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}
