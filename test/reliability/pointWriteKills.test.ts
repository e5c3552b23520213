/**
 * Kill points of a point's write order, one by one: a child process makes a point with the save hint
 * (or collects garbage, or deletes a point) and kills itself with SIGKILL at one chosen step
 * (`helpers/pointWriteKiller.ts`). After each kill a new store object must open the store, take over
 * the dead owner's lock, list exactly the points the step allows, verify, read every listed point's
 * files back (every object hash-checked), and make the next point. A point whose pack is in place is listed even before its
 * manifest file exists: the pack holds the manifest (DESIGN.md, "Write order and fsync policy").
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import { summaryOf } from '../../src/core/state/persistenceManager';
import { cleanupAll, makeSandbox, openStore, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';
import { killChildren, startChild } from './helpers/children';
import { digestPoint, digestWorkspace, type FileDigest } from './helpers/digest';
import { withoutLinks } from './helpers/noLinks';
import type { KillAt, KillRequest } from './helpers/pointWriteKiller';

const KEEP_EVERYTHING = { maxRecoveryPoints: 1_000_000, maxAgeDays: 0, maxTotalBytes: 0 };
const KILLER = path.join(__dirname, 'helpers', 'pointWriteKiller.ts');

after(async () => {
  killChildren();
  await cleanupAll();
});

/** Runs the killer; true when it was killed at its kill point, false when it finished first. */
async function runKilled(request: KillRequest): Promise<boolean> {
  const child = startChild(process.execPath, ['--import', 'tsx', KILLER, JSON.stringify(request)]);
  const { code, signal, stderr } = await child.exited;
  assert.ok(signal === 'SIGKILL' || code === 0, `the child failed on its own (code ${code}): ${stderr}`);
  return signal === 'SIGKILL';
}

/** A store object as the next process has it: it takes over the dead owner's lock (wait shorter than the stale time). */
function openAfter(sb: Sandbox): Promise<RecoveryStore> {
  return openStore(sb, { actor: 'test:after', retention: KEEP_EVERYTHING, lockWaitMs: 5000 });
}

async function claimingPacks(sb: Sandbox): Promise<string[]> {
  return (await fs.readdir(path.join(sb.store, 'objects'))).filter((n) => n.startsWith('point-'));
}

async function manifestIds(sb: Sandbox): Promise<string[]> {
  return (await fs.readdir(path.join(sb.store, 'points')))
    .filter((n) => /^\d{8}T\d{9}Z-[0-9a-f]{6}\.json$/.test(n))
    .map((n) => n.slice(0, -5))
    .sort()
    .reverse();
}

/** Exactly the `expected` points are listed, each agreeing with its manifest and holding exactly its files (every object read and checked); the store verifies. */
async function assertWhole(store: RecoveryStore, expected: Map<string, FileDigest>, when: string): Promise<void> {
  const points = await store.recovery.listRecoveryPoints();
  assert.deepEqual(points.map((p) => p.id).sort(), [...expected.keys()].sort(), `the points listed ${when}`);
  for (const point of points) assert.deepEqual(point, summaryOf(await store.persistence.requireSnapshot(point.id)), `the listing of ${point.id} agrees with its manifest ${when}`);
  const report = await store.recovery.verify();
  assert.deepEqual({ brokenObjects: report.brokenObjects, brokenPoints: report.brokenPoints }, { brokenObjects: [], brokenPoints: [] }, `verify ${when}`);
  const objects = await store.persistence.objects();
  for (const point of points) assert.deepEqual(await digestPoint(objects, point.root), expected.get(point.id), `point ${point.id} holds exactly its files ${when}`);
}

/** A store with two points (a full one, then one with the hint), and the workspace edited for a third. */
async function prepared(): Promise<{ sb: Sandbox; expected: Map<string, FileDigest>; file: string; edited: FileDigest }> {
  const sb = await makeSandbox();
  await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'src/b.ts': 'export const b = 1;\n' });
  const store = await openStore(sb, { actor: 'test:setup', retention: KEEP_EVERYTHING });
  const expected = new Map<string, FileDigest>();
  const first = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
  expected.set(first.id, await digestWorkspace(sb.ws));
  await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
  const second = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
  expected.set(second.id, await digestWorkspace(sb.ws));
  await store.close();
  const file = path.join(sb.ws, 'src', 'b.ts');
  await writeFiles(sb.ws, { 'src/b.ts': 'export const b = 3;\n' });
  return { sb, expected, file, edited: await digestWorkspace(sb.ws) };
}

describe('kill points of a point with its manifest in its pack', () => {
  // format 1: a store where hard links cannot be made (it keeps its lock folder, and writes each point's manifest file)
  const format1: Array<{ killAt: KillAt; listed: boolean; what: string }> = [
    { killAt: 'pack-rename', listed: false, what: 'before its pack is in place: no point, nothing else changed' },
    { killAt: 'objects-fsync', listed: true, what: 'after its pack is renamed into place: listed from the pack, its manifest file written again' },
    { killAt: 'manifest-write', listed: true, what: 'before its manifest file is written: listed from the pack, its manifest file written again' },
    { killAt: 'manifest-rename', listed: true, what: 'before its manifest file is renamed into place: listed from the pack, its manifest file written again' },
    { killAt: 'journal-append', listed: true, what: 'before its index line: listed from its manifest file' },
  ];
  // format 2: a point writes no manifest file; its pack is its record until a clean-up
  const format2: Array<{ killAt: KillAt; listed: boolean; what: string }> = [
    { killAt: 'pack-rename', listed: false, what: 'before its pack is in place: no point, nothing else changed' },
    { killAt: 'objects-fsync', listed: true, what: 'after its pack is renamed into place: listed from the pack' },
    { killAt: 'journal-append', listed: true, what: 'before its index line: listed from the pack' },
  ];
  for (const [format, cases] of [[1, format1], [2, format2]] as const) {
    for (const { killAt, listed, what } of cases) {
      test(`format ${format}: killed ${what} (${killAt})`, { timeout: 120_000 }, async () => {
        const restoreLinks = format === 1 ? withoutLinks() : () => undefined;
        try {
          const { sb, expected, file, edited } = await prepared();
          const before = await manifestIds(sb);
          if (format === 2) assert.deepEqual(before, [], 'format 2: the points have no manifest files before a clean-up');
          assert.equal(await runKilled({ storeDir: sb.store, ws: sb.ws, file, killAt, noLinks: format === 1 }), true, 'the kill point was reached');
          const store = await openAfter(sb);
          const points = await store.recovery.listRecoveryPoints();
          const killed = points.find((p) => !expected.has(p.id));
          assert.equal(killed !== undefined, listed, `the killed point is ${listed ? '' : 'not '}listed`);
          if (killed) expected.set(killed.id, edited);
          // format 1: a listing that read a manifest from its pack wrote the file again and the pack gave up its claim; format 2: it writes none
          assert.deepEqual(await manifestIds(sb), format === 1 ? [...(killed ? [killed.id] : []), ...before] : before);
          await assertWhole(store, expected, `after the kill at ${killAt}`);
          // the next point builds on it (a full scan: the killed point's edit is known to no hint), and a clean-up keeps everything
          const newest = [...expected.keys()].sort().reverse()[0];
          await writeFiles(sb.ws, { 'a.txt': 'a4\n' });
          const next = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save' }))!;
          expected.set(next.id, await digestWorkspace(sb.ws));
          assert.equal(next.parentId, newest);
          await store.recovery.collectGarbage();
          assert.deepEqual(await claimingPacks(sb), [], 'after a clean-up no pack claims a point');
          assert.deepEqual(await manifestIds(sb), [...expected.keys()].sort().reverse(), 'after a clean-up every point has its manifest file');
          await assertWhole(await openAfter(sb), expected, `after a clean-up following the kill at ${killAt}`);
        } finally {
          restoreLinks();
        }
      });
    }
  }

  test('a clean-up killed while packs give up their claims (settle-rename) loses nothing, and the next one completes', { timeout: 120_000 }, async () => {
    const { sb, expected } = await prepared();
    assert.ok((await claimingPacks(sb)).length > 0, 'the points\' packs claim them');
    assert.equal(await runKilled({ storeDir: sb.store, ws: sb.ws, file: '', killAt: 'settle-rename' }), true, 'the kill point was reached');
    const store = await openAfter(sb);
    await assertWhole(store, expected, 'after the kill');
    await store.recovery.collectGarbage();
    assert.deepEqual(await claimingPacks(sb), []);
    await assertWhole(await openAfter(sb), expected, 'after the next clean-up');
  });

  for (const killAt of ['format-mark', 'format-fsync'] as const) {
    test(`a store of format 1 whose first writer was killed while marking it as format 2 (${killAt}) loses nothing, and the next writer marks it`, { timeout: 120_000 }, async () => {
      const { sb, expected, file, edited } = await prepared();
      await fs.rm(path.join(sb.store, 'store.lock'));
      assert.equal(await runKilled({ storeDir: sb.store, ws: sb.ws, file, killAt }), true, 'the kill point was reached');
      assert.ok(await fs.readFile(path.join(sb.store, 'writer.lock'), 'utf8').then((owner) => owner.startsWith('owner.')), 'the killed writer held writer.lock');
      const store = await openAfter(sb);
      await assertWhole(store, expected, `after the kill at ${killAt}`);
      const point = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] }))!;
      expected.set(point.id, edited);
      const marker = JSON.parse(await fs.readFile(path.join(sb.store, 'store.lock'), 'utf8')) as { recoveryPointsStoreFormat: number };
      assert.equal(marker.recoveryPointsStoreFormat, 2, 'marked by the next writer');
      assert.equal(await fs.stat(path.join(sb.store, 'writer.lock')).catch(() => 'released'), 'released');
      await assertWhole(await openAfter(sb), expected, `after the next point`);
    });
  }

  test('a deletion killed before the point\'s pack gave it up (delete-unclaim) lists the point again, whole; deleting it again removes it for good', { timeout: 120_000 }, async () => {
    const { sb, expected } = await prepared();
    const newest = [...expected.keys()].sort().reverse()[0]!;
    assert.equal(await runKilled({ storeDir: sb.store, ws: sb.ws, file: '', killAt: 'delete-unclaim' }), true, 'the kill point was reached');
    assert.equal((await manifestIds(sb)).includes(newest), false, 'its manifest file was removed');
    const store = await openAfter(sb);
    await assertWhole(store, expected, 'after the kill: the deletion did not complete');
    assert.equal(await store.recovery.deletePoints([newest]), 1);
    expected.delete(newest);
    assert.equal((await claimingPacks(sb)).some((n) => n.includes(newest)), false, 'its pack gave it up');
    await assertWhole(await openAfter(sb), expected, 'after deleting it again');
  });
});
