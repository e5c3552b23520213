import assert from 'node:assert/strict';
import fsCallbacks from 'node:fs';
import fsPromises from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { pointIdTime } from '../../src/core/ids';
import { silentLogger } from '../../src/core/logger';
import { emptyContextState } from '../../src/core/schemas';
import { PointIndexFile } from '../../src/core/state/pointIndex';
import { cleanupAll, makeSandbox, openStore, writeFiles, type Sandbox } from './helpers/storeFixtures';
import { manifestOf, pointIdAt, summaryAt } from './helpers/storePoints';

after(cleanupAll);

const KEEP_EVERYTHING = { maxRecoveryPoints: 1_000_000, maxAgeDays: 0, maxTotalBytes: 0 };

/** Counts `readdirSync` calls by folder while `work` runs. */
async function countListings<T>(work: () => Promise<T>): Promise<{ result: T; listed: Map<string, number> }> {
  const listed = new Map<string, number>();
  const { readdirSync } = fsCallbacks;
  fsCallbacks.readdirSync = ((dir: fsCallbacks.PathLike, ...rest: unknown[]) => {
    listed.set(String(dir), (listed.get(String(dir)) ?? 0) + 1);
    return (readdirSync as (...args: unknown[]) => unknown)(dir, ...rest);
  }) as typeof fsCallbacks.readdirSync;
  try {
    return { result: await work(), listed };
  } finally {
    fsCallbacks.readdirSync = readdirSync;
  }
}

async function storeWithTwoPoints(sb: Sandbox) {
  await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
  const store = await openStore(sb, { retention: KEEP_EVERYTHING });
  await store.recovery.createRecoveryPoint();
  await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
  await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] });
  return store;
}

const hintPoint = async (store: Awaited<ReturnType<typeof openStore>>, sb: Sandbox, file: string, text: string) => {
  await writeFiles(sb.ws, { [file]: text });
  return (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, file)] }))!;
};

describe('the points folder listed once per point', () => {
  test('a one-file point lists neither the points folder nor the objects folder after this process listed them', async () => {
    const sb = await makeSandbox();
    const store = await storeWithTwoPoints(sb);
    const { result: point, listed } = await countListings(() => hintPoint(store, sb, 'b.txt', 'b2\n'));
    assert.equal(point.changes.modified, 1);
    assert.equal(listed.get(path.join(sb.store, 'points')) ?? 0, 0, 'the points folder (knownListing.ts)');
    assert.equal(listed.get(path.join(sb.store, 'objects')) ?? 0, 0, 'the objects folder (knownListing.ts)');
  });

  test('a point made by another writer between two of ours is the parent of our next one, and is listed', async () => {
    const sb = await makeSandbox();
    const ours = await storeWithTwoPoints(sb);
    const theirs = await openStore(sb, { retention: KEEP_EVERYTHING });
    const before = await hintPoint(ours, sb, 'a.txt', 'a3\n');
    const other = await hintPoint(theirs, sb, 'b.txt', 'b3\n');
    assert.equal(other.parentId, before.id);
    const next = await hintPoint(ours, sb, 'a.txt', 'a4\n');
    assert.equal(next.parentId, other.id, "our next point builds on the other writer's");
    assert.deepEqual(
      (await ours.recovery.listRecoveryPoints()).slice(0, 3).map((p) => p.id),
      [next.id, other.id, before.id],
    );
  });

  test('a listing kept under one hold of the lock is not used by a point made under another', async () => {
    const sb = await makeSandbox();
    const ours = await storeWithTwoPoints(sb);
    const theirs = await openStore(sb, { retention: KEEP_EVERYTHING });
    // a listing made holding the lock (as the state's reload does before a point)
    const newest = await ours.persistence.lock.run(async (hold) => (await ours.persistence.listSnapshots({ hold }))[0]!);
    const other = await hintPoint(theirs, sb, 'b.txt', 'b4\n');
    assert.equal(other.parentId, newest.id);
    await writeFiles(sb.ws, { 'a.txt': 'a5\n' });
    // the persistence layer alone: no reload of the state lists the points first
    const next = (await ours.persistence.createSnapshot(emptyContextState('test'), { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.equal(next.parentId, other.id);
    assert.deepEqual(next.changes, { added: 0, modified: 1, deleted: 0 });
  });

  test('a point deleted by another writer between two of ours is not the parent of our next one', async () => {
    const sb = await makeSandbox();
    const ours = await storeWithTwoPoints(sb);
    const theirs = await openStore(sb, { retention: KEEP_EVERYTHING });
    const first = await hintPoint(ours, sb, 'a.txt', 'a6\n');
    const second = await hintPoint(ours, sb, 'b.txt', 'b6\n');
    assert.equal(await theirs.persistence.deleteSnapshots([second.id]), 1);
    const next = (await ours.recovery.createRecoveryPoint(undefined, { trigger: 'save' }))!;
    assert.equal(next.parentId, first.id);
    assert.deepEqual(next.changes, { added: 0, modified: 1, deleted: 0 }, 'b.txt changed since the parent');
  });

  test('what this writer changes under the same hold of the lock is seen by a point made next in it', async () => {
    const sb = await makeSandbox();
    const store = await storeWithTwoPoints(sb);
    const first = await hintPoint(store, sb, 'a.txt', 'a7\n');
    const second = await hintPoint(store, sb, 'b.txt', 'b7\n');
    const next = await store.persistence.lock.run(async (hold) => {
      assert.equal((await store.persistence.listSnapshots({ hold }))[0]!.id, second.id);
      await store.persistence.deleteSnapshots([second.id], 'delete', hold);
      return (await store.persistence.createSnapshot(emptyContextState('test'), { trigger: 'manual' }, hold))!;
    });
    assert.equal(next.parentId, first.id);
    assert.deepEqual(next.changes, { added: 0, modified: 1, deleted: 0 });
  });
});

describe("a hint point's ignore files", () => {
  test("the .gitignore files of folders a hint point visits first are read synchronously, and apply", async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'deep/er/keep.txt': 'k1\n', 'deep/.gitignore': '*.log\n' });
    const store = await openStore(sb, { retention: KEEP_EVERYTHING });
    await store.recovery.createRecoveryPoint();
    // a new store object: its rules cache is empty, as after a restart
    const fresh = await openStore(sb, { retention: KEEP_EVERYTHING });
    await writeFiles(sb.ws, { 'deep/er/keep.txt': 'k2\n', 'deep/er/skip.log': 'no\n' });
    const looked: string[] = [];
    const { lstat } = fsPromises;
    fsPromises.lstat = ((file: fsCallbacks.PathLike, ...rest: unknown[]) => {
      looked.push(String(file));
      return (lstat as (...args: unknown[]) => Promise<fsCallbacks.Stats>)(file, ...rest);
    }) as typeof fsPromises.lstat;
    let point;
    try {
      point = (await fresh.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'deep/er/keep.txt'), path.join(sb.ws, 'deep/er/skip.log')] }))!;
    } finally {
      fsPromises.lstat = lstat;
    }
    assert.deepEqual(looked.filter((f) => f.endsWith('.gitignore')), [], 'no .gitignore looked up through the thread pool');
    assert.deepEqual(point.changes, { added: 0, modified: 1, deleted: 0 }, 'deep/.gitignore leaves skip.log out');
  });
});

describe('the index checked against the points folder name by name, between points', () => {
  /** A copy of `point`'s manifest as another writer's point at `time`, its file in the points folder and in no index. */
  async function unindexedManifest(sb: Sandbox, point: { id: string }, time: number): Promise<string> {
    const manifest = await manifestOf(sb.store, point.id);
    const id = pointIdAt(time);
    await fsPromises.writeFile(path.join(sb.store, 'points', `${id}.json`), JSON.stringify({ ...manifest, id, createdAt: new Date(time).toISOString(), parentId: point.id }));
    return id;
  }

  test("a manifest another writer left without its index line (killed before it) is listed after this writer's own points", async () => {
    const sb = await makeSandbox();
    const store = await storeWithTwoPoints(sb);
    const first = await hintPoint(store, sb, 'a.txt', 'a3\n');
    await hintPoint(store, sb, 'b.txt', 'b3\n');
    const theirs = await unindexedManifest(sb, first, pointIdTime(first.id) + 1);
    const listed = (await store.recovery.listRecoveryPoints()).map((p) => p.id);
    assert.ok(listed.includes(theirs), 'the unindexed point is listed');
    const next = await hintPoint(store, sb, 'a.txt', 'a4\n');
    assert.ok((await store.recovery.listRecoveryPoints()).some((p) => p.id === theirs), 'and still after the next point');
    assert.equal(next.changes.modified, 1);
  });

  test('a point another writer indexed without a manifest or a pack is not listed', async () => {
    const sb = await makeSandbox();
    const store = await storeWithTwoPoints(sb);
    const ours = await hintPoint(store, sb, 'a.txt', 'a3\n');
    const ghost = summaryAt(pointIdTime(ours.id) + 1, { root: ours.root, roots: ours.roots, rules: ours.rules });
    new PointIndexFile(path.join(sb.store, 'points', 'index.json'), silentLogger).append(ghost);
    const listed = (await store.recovery.listRecoveryPoints()).map((p) => p.id);
    assert.equal(listed.includes(ghost.id), false);
    assert.equal(listed[0], ours.id);
    const next = await hintPoint(store, sb, 'b.txt', 'b3\n');
    assert.equal(next.parentId, ours.id, 'the next point builds on the newest real one');
  });
});
