import assert from 'node:assert/strict';
import fsCallbacks from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { withoutLinks } from '../reliability/helpers/noLinks';
import { cleanupAll, exists, makeSandbox, openStore, readJson, writeFiles, type Sandbox } from './helpers/storeFixtures';

after(cleanupAll);

const KEEP_EVERYTHING = { maxRecoveryPoints: 1_000_000, maxAgeDays: 0, maxTotalBytes: 0 };

async function claimingPacks(sb: Sandbox): Promise<string[]> {
  return (await fs.readdir(path.join(sb.store, 'objects'))).filter((n) => n.startsWith('point-'));
}

/** A store with a first point and one made with the save hint; returns both. */
async function twoPoints(sb: Sandbox) {
  await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
  const store = await openStore(sb, { retention: KEEP_EVERYTHING });
  const first = (await store.recovery.createRecoveryPoint())!;
  await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
  const second = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
  return { store, first, second };
}

for (const format of [1, 2] as const) describe(`a point's manifest kept in its pack (store format ${format})`, () => {
  // format 1: a store where hard links cannot be made, which keeps its lock folder and writes each point's manifest file
  let restoreLinks = () => undefined as void;
  before(() => {
    if (format === 1) restoreLinks = withoutLinks();
  });
  after(() => restoreLinks());

  test('a point is durable through its pack alone: no fsync of its manifest file nor of the points folder', async () => {
    const sb = await makeSandbox();
    const { store } = await twoPoints(sb);
    const pointsDir = path.join(sb.store, 'points');
    const opened = new Map<number, string>();
    const synced: string[] = [];
    const { open, openSync, fsyncSync } = fsCallbacks;
    fsCallbacks.openSync = ((file: fsCallbacks.PathLike, ...rest: unknown[]) => {
      const fd = (openSync as (...args: unknown[]) => number)(file, ...rest);
      opened.set(fd, String(file));
      return fd;
    }) as typeof fsCallbacks.openSync;
    // the pack's temporary file is created on the thread pool
    fsCallbacks.open = ((file: fsCallbacks.PathLike, ...rest: unknown[]) => {
      const callback = rest.pop() as (error: Error | null, fd: number) => void;
      return (open as (...args: unknown[]) => void)(file, ...rest, (error: Error | null, fd: number) => {
        if (!error) opened.set(fd, String(file));
        callback(error, fd);
      });
    }) as typeof fsCallbacks.open;
    fsCallbacks.fsyncSync = ((fd: number) => {
      synced.push(opened.get(fd) ?? `fd ${fd}`);
      return fsyncSync(fd);
    }) as typeof fsCallbacks.fsyncSync;
    let point;
    try {
      await writeFiles(sb.ws, { 'b.txt': 'b2\n' });
      point = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'b.txt')] }))!;
    } finally {
      fsCallbacks.open = open;
      fsCallbacks.openSync = openSync;
      fsCallbacks.fsyncSync = fsyncSync;
    }
    assert.deepEqual(
      synced.filter((f) => f === pointsDir || path.dirname(f) === pointsDir),
      [],
      `nothing in the points folder is fsynced (fsynced: ${synced.join(', ')})`,
    );
    assert.equal(synced.filter((f) => f.endsWith('.pack.partial')).length, 1, 'the pack is');
    const claims = await claimingPacks(sb);
    assert.ok(
      claims.some((n) => n.startsWith(`point-${point.id}-`)),
      `the point's pack is named for it (${claims.join(', ')})`,
    );
    if (format === 1) {
      const manifest = await readJson<{ id: string; root: string }>(path.join(pointsDir, `${point.id}.json`));
      assert.equal(manifest.root, point.root, 'format 1: the manifest file is written too');
    } else {
      assert.equal(await exists(path.join(pointsDir, `${point.id}.json`)), false, 'format 2: no manifest file until a clean-up');
      assert.equal((await store.persistence.requireSnapshot(point.id)).root, point.root, 'the manifest is read from the pack');
    }
  });

  for (const damage of ['removed', 'emptied', 'cut short'] as const) {
    const settled = format === 1 || damage !== 'removed';
    test(`a manifest file ${damage} by a power loss (it was never fsynced) is read from the point's pack${settled ? ', and written again' : ' (format 2: as every point is until a clean-up)'}`, async () => {
      const sb = await makeSandbox();
      const { store, second } = await twoPoints(sb);
      const file = path.join(sb.store, 'points', `${second.id}.json`);
      const written = JSON.stringify(await store.persistence.requireSnapshot(second.id));
      const text = format === 1 ? await fs.readFile(file, 'utf8') : written;
      if (damage === 'removed') await fs.rm(file, { force: true });
      else await fs.writeFile(file, damage === 'emptied' ? '' : text.slice(0, text.length >> 1));
      // the index and its journal may be lost too
      await fs.rm(path.join(sb.store, 'points', 'index.json'), { force: true });
      await fs.rm(path.join(sb.store, 'points', 'index.journal'), { force: true });
      const reader = await openStore(sb, { actor: 'test:reader', retention: KEEP_EVERYTHING });
      const listed = await reader.recovery.listRecoveryPoints();
      assert.deepEqual(
        listed.map((p) => [p.id, p.summary]),
        [
          [second.id, second.summary],
          [listed[1]!.id, 'First recovery point'],
        ],
      );
      const { state: _state, ...summary } = await reader.persistence.requireSnapshot(second.id);
      assert.deepEqual(listed[0], summary);
      if (settled) {
        // the listing made the manifest file whole again (fsynced), and the pack gave up its claim
        assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), JSON.parse(text));
        assert.equal((await claimingPacks(sb)).some((n) => n.includes(second.id)), false);
      } else {
        assert.equal(await exists(file), false, 'a listing writes no manifest file in format 2');
        assert.equal((await claimingPacks(sb)).some((n) => n.includes(second.id)), true, 'the pack still claims the point');
      }
      // it restores like any other point
      await writeFiles(sb.ws, { 'a.txt': 'changed\n' });
      await reader.recovery.restore(second.id);
      assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a2\n');
    });
  }

  test("a point listed from its pack alone is deleted for good: its pack gives it up", async () => {
    const sb = await makeSandbox();
    const { store, first, second } = await twoPoints(sb);
    await fs.rm(path.join(sb.store, 'points', `${second.id}.json`), { force: true });
    assert.equal(await store.recovery.deletePoints([second.id]), 1);
    assert.equal((await claimingPacks(sb)).some((n) => n.includes(second.id)), false);
    const reader = await openStore(sb, { actor: 'test:reader', retention: KEEP_EVERYTHING });
    assert.deepEqual(
      (await reader.recovery.listRecoveryPoints()).map((p) => p.id),
      [first.id],
    );
    // its objects stay until the clean-up, which then takes them
    await reader.recovery.collectGarbage();
    assert.deepEqual(await claimingPacks(sb), []);
    assert.deepEqual(
      (await (await openStore(sb, { actor: 'test:third', retention: KEEP_EVERYTHING })).recovery.listRecoveryPoints()).map((p) => p.id),
      [first.id],
    );
  });

  test('a clean-up first makes every manifest file durable and whole (one lost is written again from its pack), then the packs give up their claims', async () => {
    const sb = await makeSandbox();
    const { store, first, second } = await twoPoints(sb);
    await fs.writeFile(path.join(sb.store, 'points', `${second.id}.json`), '');
    assert.ok((await claimingPacks(sb)).length >= 2, 'each point\'s pack claims it');
    await store.recovery.collectGarbage({ repack: 'all' });
    assert.deepEqual(await claimingPacks(sb), []);
    assert.equal((await readJson<{ id: string }>(path.join(sb.store, 'points', `${second.id}.json`))).id, second.id);
    assert.equal((await readJson<{ id: string }>(path.join(sb.store, 'points', `${first.id}.json`))).id, first.id);
    const reader = await openStore(sb, { actor: 'test:reader', retention: KEEP_EVERYTHING });
    assert.deepEqual(
      (await reader.recovery.listRecoveryPoints()).map((p) => p.id),
      [second.id, first.id],
    );
    assert.deepEqual((await reader.recovery.verify()).brokenPoints, []);
  });

  test("a label is not undone by the copy of the manifest the point's pack holds", async () => {
    const sb = await makeSandbox();
    const { store, second } = await twoPoints(sb);
    await store.persistence.setLabel(second.id, 'pinned');
    assert.equal((await claimingPacks(sb)).some((n) => n.includes(second.id)), false, 'the labelled manifest is durable: the pack gave up its claim');
    await store.recovery.collectGarbage({ repack: 'all' });
    const reader = await openStore(sb, { actor: 'test:reader', retention: KEEP_EVERYTHING });
    assert.equal((await reader.recovery.listRecoveryPoints()).find((p) => p.id === second.id)?.label, 'pinned');
  });
});
