import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fsCallbacks from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { currentOwner, ownerFileName } from '../../src/core/lock/lockOwner';
import { summaryAt } from './helpers/storePoints';
import { KnownListing } from '../../src/core/state/knownListing';
import { recordedPointIds } from './helpers/storePoints';
import { cleanupAll, craftWriterLock, makeSandbox, openStore, writeFiles, type Sandbox } from './helpers/storeFixtures';

after(cleanupAll);

const KEEP_EVERYTHING = { maxRecoveryPoints: 1_000_000, maxAgeDays: 0, maxTotalBytes: 0 };
type Store = Awaited<ReturnType<typeof openStore>>;

/** How many times the points folder (or the store's `folder`) is read while `work` runs. */
async function pointsFolderReads<T>(sb: Sandbox, work: () => Promise<T>, folder = 'points'): Promise<{ result: T; reads: number }> {
  const watched = path.join(sb.store, folder);
  let reads = 0;
  const { readdirSync } = fsCallbacks;
  fsCallbacks.readdirSync = ((dir: fsCallbacks.PathLike, ...rest: unknown[]) => {
    if (String(dir) === watched) reads++;
    return (readdirSync as (...args: unknown[]) => unknown)(dir, ...rest);
  }) as typeof fsCallbacks.readdirSync;
  try {
    return { result: await work(), reads };
  } finally {
    fsCallbacks.readdirSync = readdirSync;
  }
}

/** Lets the file system's clock move on, so a change made next gives a folder other times even where timestamps are coarse. */
function fileSystemTick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 25));
}

async function storeWithTwoPoints(sb: Sandbox): Promise<Store> {
  await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
  const store = await openStore(sb, { retention: KEEP_EVERYTHING });
  await store.recovery.createRecoveryPoint();
  await hintPoint(store, sb, 'a.txt', 'a2\n');
  return store;
}

async function hintPoint(store: Store, sb: Sandbox, file: string, text: string) {
  await writeFiles(sb.ws, { [file]: text });
  return (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, file)] }))!;
}

/** The listing a point takes (under the lock, deleting nothing): the one this process knows when the store is unchanged. */
function pointsListing(store: Store) {
  return store.persistence.lock.run(async (hold) => (await store.persistence.listSnapshots({ deletesNothing: true, hold })).map((p) => p.id));
}

/** A store lock left by a process that is gone (its owner names a pid that exited). */
async function lockOfDeadProcess(sb: Sandbox): Promise<void> {
  const gone = spawnSync(process.execPath, ['-e', '0']).pid;
  await craftWriterLock(sb.store, ownerFileName({ ...currentOwner('0123456789abcdef'), pid: gone, start: '' }));
}

/**
 * A point written by a writer killed after its pack (and, in format 1, its manifest file), before its index line: `theirs`
 * makes it with its index append failing, then its lock is left as a dead process's.
 */
async function pointOfKilledWriter(theirs: Store, sb: Sandbox, file: string, text: string): Promise<string> {
  const index = (theirs.persistence as unknown as { index: { append(): void } }).index;
  const append = index.append;
  index.append = () => {
    throw new Error('killed before the index line');
  };
  try {
    await assert.rejects(hintPoint(theirs, sb, file, text), /killed before the index line/);
  } finally {
    index.append = append;
  }
  const journal = await fs.readFile(path.join(sb.store, 'points', 'index.journal'), 'utf8').catch(() => '');
  // its record: its pack (format 2), and its manifest file (format 1)
  const orphan = recordedPointIds(sb.store)[0]!;
  assert.ok(!journal.includes(orphan), 'the index has no line of it');
  await lockOfDeadProcess(sb);
  return orphan;
}

describe('the listing this process knows (no read of the points folder while the store is unchanged)', () => {
  test('a one-file point after this process listed reads no points folder; a new store object reads it once', async () => {
    const sb = await makeSandbox();
    const store = await storeWithTwoPoints(sb);
    assert.equal((await pointsFolderReads(sb, () => hintPoint(store, sb, 'b.txt', 'b2\n'))).reads, 0);
    const fresh = await openStore(sb, { retention: KEEP_EVERYTHING });
    assert.ok((await pointsFolderReads(sb, () => hintPoint(fresh, sb, 'a.txt', 'a3\n'))).reads > 0, 'a new store object reads the folder');
    assert.equal((await pointsFolderReads(sb, () => hintPoint(fresh, sb, 'b.txt', 'b3\n'))).reads, 0);
  });

  test('a one-file point reads the objects folder only when it changed since this process last read it or wrote its pack there', async () => {
    const sb = await makeSandbox();
    const ours = await storeWithTwoPoints(sb);
    assert.equal((await pointsFolderReads(sb, () => hintPoint(ours, sb, 'b.txt', 'b2\n'), 'objects')).reads, 0);
    const theirs = await openStore(sb, { retention: KEEP_EVERYTHING, actor: 'test:theirs' });
    await fileSystemTick();
    const other = await hintPoint(theirs, sb, 'b.txt', 'b3\n');
    const next = await pointsFolderReads(sb, () => hintPoint(ours, sb, 'a.txt', 'a3\n'), 'objects');
    assert.equal(next.result.parentId, other.id);
    assert.ok(next.reads > 0, "another process's pack: read");
    assert.equal((await pointsFolderReads(sb, () => hintPoint(ours, sb, 'a.txt', 'a4\n'), 'objects')).reads, 0);
  });

  test('a pack another process added (a repack, no claim) is read for claims once, and its objects are found', async () => {
    const sb = await makeSandbox();
    const ours = await storeWithTwoPoints(sb);
    const theirs = await openStore(sb, { retention: KEEP_EVERYTHING, actor: 'test:theirs' });
    await fileSystemTick();
    const theirObjects = await theirs.persistence.objects();
    const batch = theirObjects.beginBatch();
    const blob = await batch.putBlob(Buffer.from('only in their pack\n'));
    await batch.commit();
    const next = await pointsFolderReads(sb, () => hintPoint(ours, sb, 'only.txt', 'only in their pack\n'), 'objects');
    assert.ok(next.reads > 0);
    assert.equal((await ours.persistence.objects()).has(blob), true, 'loaded from the names read');
  });

  test("another store object's point is listed by our next point and listing", async () => {
    const sb = await makeSandbox();
    const ours = await storeWithTwoPoints(sb);
    const theirs = await openStore(sb, { retention: KEEP_EVERYTHING, actor: 'test:theirs' });
    const before = await hintPoint(ours, sb, 'a.txt', 'a3\n');
    const other = await hintPoint(theirs, sb, 'b.txt', 'b3\n');
    assert.deepEqual((await pointsListing(ours)).slice(0, 2), [other.id, before.id]);
    const next = await hintPoint(ours, sb, 'a.txt', 'a4\n');
    assert.equal(next.parentId, other.id);
  });

  test('a point deleted by another store object leaves our listing, and is not our next parent', async () => {
    const sb = await makeSandbox();
    const ours = await storeWithTwoPoints(sb);
    const theirs = await openStore(sb, { retention: KEEP_EVERYTHING, actor: 'test:theirs' });
    const first = await hintPoint(ours, sb, 'a.txt', 'a3\n');
    const second = await hintPoint(ours, sb, 'b.txt', 'b3\n');
    assert.equal(await theirs.persistence.deleteSnapshots([second.id]), 1);
    assert.equal((await pointsListing(ours))[0], first.id);
    const next = await hintPoint(ours, sb, 'a.txt', 'a4\n');
    assert.equal(next.parentId, first.id);
  });

  test('the index rewritten whole by another store object (a compaction, a label) is noticed', async () => {
    const sb = await makeSandbox();
    const ours = await storeWithTwoPoints(sb);
    const theirs = await openStore(sb, { retention: KEEP_EVERYTHING, actor: 'test:theirs' });
    const point = await hintPoint(ours, sb, 'a.txt', 'a3\n');
    await pointsListing(ours);
    await theirs.persistence.setLabel(point.id, 'kept');
    const listed = await ours.persistence.lock.run((hold) => ours.persistence.listSnapshots({ deletesNothing: true, hold }));
    assert.equal(listed.find((p) => p.id === point.id)?.label, 'kept');
  });

  test('a manifest a killed writer left without its index line is listed after the lock is taken over, and by a collection, which keeps its objects', async () => {
    const sb = await makeSandbox();
    const ours = await storeWithTwoPoints(sb);
    const theirs = await openStore(sb, { retention: KEEP_EVERYTHING, actor: 'test:theirs', lockStaleMs: 10 * 60_000 });
    await hintPoint(ours, sb, 'a.txt', 'a3\n');
    const orphan = await pointOfKilledWriter(theirs, sb, 'only-theirs.txt', 'kept by the orphan only\n');
    const next = await hintPoint(ours, sb, 'a.txt', 'a4\n');
    assert.equal(next.parentId, orphan, 'the lock taken over, the folder is read');
    assert.ok((await pointsListing(ours)).includes(orphan));
    await ours.recovery.collectGarbage({ repack: 'all' });
    assert.ok((await ours.persistence.listSnapshots()).some((p) => p.id === orphan));
    await fs.rm(path.join(sb.ws, 'only-theirs.txt'));
    await ours.recovery.recoverFromSnapshot(orphan, { paths: ['ws/only-theirs.txt'] });
    assert.equal(await fs.readFile(path.join(sb.ws, 'only-theirs.txt'), 'utf8'), 'kept by the orphan only\n');
  });

  test('after a point that failed, the next point reads the points folder', async () => {
    const sb = await makeSandbox();
    const store = await storeWithTwoPoints(sb);
    await writeFiles(sb.ws, { 'b.txt': 'b2\n' });
    await assert.rejects(store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'b.txt')], signal: AbortSignal.abort() }));
    assert.equal((await pointsFolderReads(sb, () => hintPoint(store, sb, 'a.txt', 'a3\n'))).reads, 1);
  });

  test('a point whose caller gave up once its files were captured (a hook out of time, its agent\'s command running) is not made; the next point is', async () => {
    const sb = await makeSandbox();
    const store = await storeWithTwoPoints(sb);
    await writeFiles(sb.ws, { 'b.txt': 'b2\n' });
    const controller = new AbortController();
    const steps: string[] = [];
    const late = store.recovery.createRecoveryPoint(undefined, {
      trigger: 'agent',
      changedPaths: [path.join(sb.ws, 'b.txt')],
      signal: controller.signal,
      onProgress: (message) => {
        steps.push(message);
        if (message === 'Saving the point') controller.abort();
      },
    });
    await assert.rejects(late, (error: Error) => error.name === 'AbortError');
    assert.equal(steps.at(-1), 'Saving the point');
    assert.equal((await store.recovery.listRecoveryPoints()).length, 2, 'no point was made');
    await writeFiles(sb.ws, { 'a.txt': 'a3\n' });
    const next = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'agent' }))!;
    assert.deepEqual(next.changes, { added: 0, modified: 2, deleted: 0 }, 'the next point holds both changes');
    await store.close();
  });

  test("the store lock counts takeovers of a dead process's lock for every store object of the process on that folder", async () => {
    const sb = await makeSandbox();
    const store = await storeWithTwoPoints(sb);
    const other = await openStore(sb, { retention: KEEP_EVERYTHING, actor: 'test:other' });
    const before = store.persistence.lock.takeovers;
    await lockOfDeadProcess(sb);
    await hintPoint(store, sb, 'b.txt', 'b2\n');
    assert.equal(store.persistence.lock.takeovers, before + 1);
    assert.equal(other.persistence.lock.takeovers, before + 1, 'another store object on the folder');
  });
});

describe('KnownListing', () => {
  async function watched() {
    const sb = await makeSandbox();
    const files = [path.join(sb.store, 'index.json'), path.join(sb.store, 'index.journal'), sb.store, path.join(sb.store, 'objects')] as const;
    await fs.mkdir(files[3], { recursive: true });
    await fs.writeFile(files[0], '{}');
    await fs.writeFile(files[1], 'line\n');
    let takeovers = 0;
    const known = new KnownListing([...files], () => takeovers);
    await fs.writeFile(path.join(files[3], 'ordinary.pack'), '');
    const points = [summaryAt(Date.UTC(2026, 0, 2)), summaryAt(Date.UTC(2026, 0, 1))];
    known.remember(points, known.stamps(), 0);
    return { files, known, points, takeOver: () => takeovers++ };
  }

  test('known while nothing changed; forgotten by a line appended to the journal', async () => {
    const { files, known, points } = await watched();
    assert.deepEqual(known.recall(() => [])?.points, points);
    await fs.appendFile(files[1], 'another\n');
    assert.equal(known.recall(() => []), undefined);
  });

  test('forgotten after a takeover of the lock', async () => {
    const { known, takeOver } = await watched();
    takeOver();
    assert.equal(known.recall(() => []), undefined);
  });

  test('forgotten when a pack claims a point it does not list', async () => {
    const { files, known, points } = await watched();
    await fileSystemTick();
    await fs.writeFile(path.join(files[3], 'another.pack'), '');
    assert.ok(known.recall(() => [points[0]!.id]));
    await fileSystemTick();
    await fs.writeFile(path.join(files[3], 'claiming.pack'), '');
    assert.equal(known.recall(() => ['20260103T000000000Z-abcdef']), undefined);
  });

  test('the objects folder is read for the claims only when it changed since it was last read', async () => {
    const { files, known } = await watched();
    let reads = 0;
    const claims = (ids: string[]) => () => (reads++, ids);
    assert.ok(known.recall(claims(['20260103T000000000Z-abcdef'])), 'unchanged: not read');
    assert.equal(reads, 0);
    await fileSystemTick();
    await fs.writeFile(path.join(files[3], 'another.pack'), '');
    assert.ok(known.recall(claims([])));
    assert.equal(reads, 1);
    assert.ok(known.recall(claims(['20260103T000000000Z-abcdef'])), 'read once, then known unchanged');
    assert.equal(reads, 1);
    await fileSystemTick();
    await fs.rm(path.join(files[3], 'ordinary.pack'));
    assert.equal(known.recall(claims(['20260103T000000000Z-abcdef'])), undefined, 'a pack removed: read again');
    assert.equal(reads, 2);
  });

  test('an own append is known only when the index was as the listing found it', async () => {
    const { files, known, points } = await watched();
    const summary = summaryAt(Date.UTC(2026, 0, 3));
    known.appendOwn(known.current, summary, () => fsCallbacks.appendFileSync(files[1], 'ours\n'));
    assert.deepEqual(known.recall(() => [])?.points.map((p) => p.id), [summary.id, ...points.map((p) => p.id)]);
    const base = known.current;
    await fs.appendFile(files[1], 'theirs\n');
    known.appendOwn(base, summaryAt(Date.UTC(2026, 0, 4)), () => fsCallbacks.appendFileSync(files[1], 'ours again\n'));
    assert.equal(known.recall(() => []), undefined);
  });
});
