import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { lookupEntry } from '../../src/core/capture';
import { readPackIndex } from '../../src/core/objects/packFile';
import { collectReachable } from '../../src/core/recovery/reachability';
import { StateError } from '../../src/core/errors';
import { LOST_CONTENT } from '../../src/core/recovery/restorePlan';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import type { ContextSnapshot } from '../../src/core/schemas';
import { auditEntries, cleanupAll, damageObject, exists, locateObject, makeSandbox, openStore, packFiles, readFiles, readJson, writeFiles, type Sandbox } from './helpers/storeFixtures';
import { readClaims } from '../../src/core/state/pointPacks';
import { manifestFor, pointIdAt, writeManifest } from './helpers/storePoints';

after(cleanupAll);

interface History {
  sb: Sandbox;
  store: RecoveryStore;
  points: ContextSnapshot[];
  /** The workspace files at each point. */
  files: Array<Record<string, string>>;
}

/** Three points, each in its own pack (which no longer holds their manifests: see manifestInPack.test.ts): shared.txt never changes, a.txt changes each time. */
async function history(): Promise<History> {
  const sb = await makeSandbox();
  const store = await openStore(sb);
  const points: ContextSnapshot[] = [];
  const files: Array<Record<string, string>> = [];
  for (let v = 1; v <= 3; v++) {
    await writeFiles(sb.ws, { 'shared.txt': 'shared by every point\n'.repeat(10), 'stable.txt': 'also unchanged\n', 'a.txt': `version ${v}\n`.repeat(v * 5), [`only${v}/f.txt`]: `only in ${v}\n` });
    if (v > 1) await writeFiles(sb.ws, { [`only${v - 1}`]: null });
    points.push((await store.recovery.createRecoveryPoint())!);
    files.push(await readFiles(sb.ws));
  }
  // the manifest files made durable on their own, as after a clean-up: a damaged one is then the only copy
  await store.persistence.lock.run(() => store.persistence.settleManifests());
  return { sb, store, points, files };
}

async function hashOf(store: RecoveryStore, point: ContextSnapshot, p: string): Promise<string> {
  const entry = await lookupEntry(await store.persistence.objects(), point.root, p);
  assert.ok(entry, `${p} is in the point`);
  return entry.hash;
}

/** Every listed point restores byte for byte. */
async function everyPointRestores(h: History, store: RecoveryStore): Promise<string[]> {
  const ids = (await store.recovery.listRecoveryPoints()).map((p) => p.id);
  for (const id of ids) {
    const index = h.points.findIndex((p) => p.id === id);
    if (index < 0) continue; // a safety point
    await store.recovery.restore(id);
    assert.deepEqual(await readFiles(h.sb.ws), h.files[index], `point ${index + 1} restores exactly`);
  }
  return ids;
}

const isLoadError = (e: unknown) => e instanceof StateError && e.kind === 'SnapshotLoadError';

describe('verify and repair', () => {
  test('a healthy store verifies clean', async () => {
    const h = await history();
    const report = await h.store.recovery.verify();
    assert.equal(report.ok, true);
    assert.equal(report.pointsChecked, 3);
    assert.equal(report.objectsChecked, (await h.store.recovery.stats()).objects);
    assert.deepEqual([report.brokenObjects, report.brokenPoints, report.stateProblem, report.repaired], [[], [], null, null]);
  });

  test('a bit-flipped file content: verify names it and its point; repair keeps the point, which restores its other files and leaves the lost one as it is', async () => {
    const h = await history();
    const damaged = await hashOf(h.store, h.points[0]!, 'ws/a.txt');
    const pack = await damageObject(h.sb.store, damaged);
    const store = await openStore(h.sb, { actor: 'test:repair' });
    await assert.rejects((await store.persistence.objects()).readBlob(damaged), isLoadError);

    const report = await store.recovery.verify();
    assert.equal(report.ok, false);
    assert.equal(report.needsRepair, true, 'a damaged pack to salvage');
    assert.deepEqual(
      report.brokenObjects.map((b) => b.hash),
      [damaged],
    );
    assert.deepEqual(
      report.brokenPoints.map((p) => p.id),
      [h.points[0]!.id],
    );
    assert.match(report.brokenPoints[0]!.problems.join(' '), new RegExp(damaged.slice(0, 12)));
    assert.deepEqual(report.brokenPoints[0]!.problems, [`the content of "ws/a.txt" (stored object ${damaged.slice(0, 12)}) is damaged`], 'named by its file, once');
    assert.equal(report.repaired, null, 'verify alone changes nothing');
    assert.ok(await exists(pack));

    const repaired = await store.recovery.verify({ repair: true });
    assert.ok(repaired.repaired);
    assert.equal(repaired.repaired.pointsQuarantined, 0, 'a point that lost one file\'s content is not moved aside');
    assert.equal(repaired.repaired.pointsKept, 1);
    assert.ok(repaired.repaired.objectsSaved > 0);
    assert.equal(await exists(pack), false, 'the damaged pack moved to quarantine');
    const quarantine = await fs.readdir(path.join(h.sb.store, 'quarantine'));
    assert.ok(quarantine.some((n) => n.endsWith('.pack')));
    assert.ok(!quarantine.some((n) => n.endsWith(`${h.points[0]!.id}.json`)));
    const audit = (await auditEntries(store)).filter((e) => e.action === 'repair');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor, 'test:repair');
    assert.deepEqual(audit[0]!.details?.brokenPoints, [h.points[0]!.id]);

    const again = await store.recovery.verify();
    assert.equal(again.ok, false, 'the content is still lost');
    assert.equal(again.needsRepair, false, 'and nothing is left that a repair could do');
    assert.deepEqual(again.brokenPoints.map((p) => [p.id, p.restorable]), [[h.points[0]!.id, true]]);

    const fresh = await openStore(h.sb, { actor: 'test:fresh' });
    assert.deepEqual((await fresh.recovery.listRecoveryPoints()).map((p) => p.id), [h.points[2]!.id, h.points[1]!.id, h.points[0]!.id]);
    await fresh.recovery.collectGarbage({ repack: 'all' });
    // the other points restore exactly; the one that lost a.txt's content restores everything else and says so
    await everyPointRestores({ ...h, points: [h.points[1]!, h.points[2]!], files: [h.files[1]!, h.files[2]!] }, fresh);
    const preview = await fresh.recovery.previewRestore(h.points[0]!.id);
    assert.deepEqual(preview.leftAlone, [{ path: 'ws/a.txt', reason: LOST_CONTENT }]);
    assert.ok(![...preview.add, ...preview.modify].some((c) => c.path === 'ws/a.txt'), 'the preview does not promise the lost file');
    const before = await readFiles(h.sb.ws);
    const result = await fresh.recovery.restore(h.points[0]!.id);
    assert.deepEqual(result.outcome.skipped, [{ path: 'ws/a.txt', reason: LOST_CONTENT }]);
    const files = await readFiles(h.sb.ws);
    assert.equal(files['a.txt'], before['a.txt'], 'a.txt left as it was');
    assert.deepEqual({ ...files, 'a.txt': '' }, { ...h.files[0]!, 'a.txt': '' }, 'every other file as point 1 has it');
    const one = await fresh.recovery.restore(h.points[0]!.id, { paths: ['ws/only1/f.txt'] });
    assert.deepEqual(one.outcome.skipped, [], 'a file of it whose content is intact restores on its own');
  });

  test('a damaged folder object that this process had already read is still found and its point quarantined', async () => {
    const h = await history();
    // Creating point 2 read point 1's trees (to count changes), so they sit in this process's cache.
    const damaged = h.points[0]!.root;
    await damageObject(h.sb.store, damaged);
    const report = await h.store.recovery.verify({ repair: true });
    assert.deepEqual(
      report.brokenPoints.map((p) => p.id),
      [h.points[0]!.id],
    );
    assert.equal(report.repaired?.pointsQuarantined, 1);
    assert.equal((await h.store.recovery.verify()).ok, true);
    const fresh = await openStore(h.sb, { actor: 'test:fresh' });
    assert.equal((await fresh.recovery.verify()).ok, true, 'a new process agrees');
    await everyPointRestores(h, fresh);
  });

  test('a truncated pack: what precedes the cut is salvaged, points missing the rest are quarantined', async () => {
    const h = await history();
    const rootOf2 = await locateObject(h.sb.store, h.points[1]!.root);
    await fs.truncate(rootOf2.file, rootOf2.entry.offset + 1); // point 2's root tree is its pack's last object
    const store = await openStore(h.sb, { actor: 'test:repair' });
    const report = await store.recovery.verify();
    assert.equal(report.ok, false);
    assert.equal(report.brokenObjects.length, 1);
    assert.equal(report.brokenObjects[0]!.hash, undefined, 'the whole pack is reported');
    assert.deepEqual(
      report.brokenPoints.map((p) => p.id),
      [h.points[1]!.id],
    );
    const repaired = await store.recovery.verify({ repair: true });
    assert.equal(repaired.repaired?.pointsQuarantined, 1);
    assert.ok(repaired.repaired!.objectsSaved >= 1, 'the blob written before the cut survives');
    const fresh = await openStore(h.sb, { actor: 'test:fresh' });
    assert.equal((await fresh.recovery.verify()).ok, true);
    assert.deepEqual(await everyPointRestores(h, fresh), [h.points[2]!.id, h.points[0]!.id]);
  });

  test('a lost pack: the points needing it are reported and quarantined', async () => {
    const h = await history();
    const { file } = await locateObject(h.sb.store, h.points[1]!.root);
    await fs.rm(file);
    const store = await openStore(h.sb, { actor: 'test:repair' });
    await assert.rejects(store.recovery.restore(h.points[1]!.id), isLoadError);
    const report = await store.recovery.verify();
    assert.deepEqual(
      report.brokenPoints.map((p) => p.id),
      [h.points[1]!.id],
    );
    assert.deepEqual(report.brokenObjects, []);
    const repaired = await store.recovery.verify({ repair: true });
    assert.equal(repaired.repaired?.pointsQuarantined, 1);
    assert.equal((await store.recovery.verify()).ok, true);
    assert.deepEqual(await everyPointRestores(h, store), [h.points[2]!.id, h.points[0]!.id]);
  });

  test('a corrupt manifest is reported, quarantined by repair, and no longer listed', async () => {
    const h = await history();
    const file = path.join(h.sb.store, 'points', `${h.points[1]!.id}.json`);
    await fs.writeFile(file, '{"schemaVersion":1,"id":"oops"');
    const report = await h.store.recovery.verify();
    assert.deepEqual(
      report.brokenPoints.map((p) => p.id),
      [h.points[1]!.id],
    );
    await assert.rejects(h.store.recovery.restore(h.points[1]!.id), isLoadError, 'a clear error, not a crash');
    const repaired = await h.store.recovery.verify({ repair: true });
    assert.equal(repaired.repaired?.pointsQuarantined, 1);
    assert.equal(await exists(file), false);
    assert.deepEqual(
      (await h.store.recovery.listRecoveryPoints()).map((p) => p.id),
      [h.points[2]!.id, h.points[0]!.id],
    );
    assert.equal((await h.store.recovery.verify()).ok, true);
  });

  test('format 2: a point whose only record is its pack, damaged where its manifest is, is reported, and repair counts it among the points moved to quarantine with the pack', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await writeFiles(sb.ws, { 'a.txt': 'one\n', 'b.txt': 'kept\n' });
    const first = (await store.recovery.createRecoveryPoint())!;
    await store.persistence.lock.run(() => store.persistence.settleManifests());
    await writeFiles(sb.ws, { 'a.txt': 'two\n' });
    const newest = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    const claim = readClaims(path.join(sb.store, 'objects')).get(newest.id)!;
    assert.ok(claim, 'the newest point is recorded by its pack alone');
    assert.equal(await exists(path.join(sb.store, 'points', `${newest.id}.json`)), false);
    await damageObject(sb.store, claim.manifest);
    const report = await store.recovery.verify();
    assert.deepEqual(report.brokenPoints.map((p) => p.id), [newest.id]);
    const repaired = await store.recovery.verify({ repair: true });
    assert.equal(repaired.repaired?.pointsQuarantined, 1, 'the point that went with its pack is counted');
    assert.deepEqual(repaired.brokenPoints.map((p) => p.id), [newest.id]);
    assert.match(repaired.brokenPoints[0]!.problems.join(' '), /damaged pack .* moved to quarantine/);
    assert.ok((await fs.readdir(path.join(sb.store, 'quarantine'))).some((name) => name.includes(claim.pack)), 'the pack is in quarantine');
    assert.deepEqual((await store.recovery.listRecoveryPoints()).map((p) => p.id), [first.id]);
    assert.equal((await store.state.getState()).newestPointId, first.id, 'the state names a listed point');
    assert.equal((await store.recovery.verify()).ok, true);
  });

  test('a manifest whose content names a different id is reported', async () => {
    const h = await history();
    const file = path.join(h.sb.store, 'points', `${h.points[1]!.id}.json`);
    const manifest = JSON.parse(await fs.readFile(file, 'utf8')) as ContextSnapshot;
    await fs.writeFile(file, JSON.stringify({ ...manifest, id: h.points[0]!.id }));
    const report = await h.store.recovery.verify();
    assert.deepEqual(
      report.brokenPoints.map((p) => p.id),
      [h.points[1]!.id],
    );
    // Not listed under either id (it would shadow point 1, or list an id that has no file).
    await fs.rm(path.join(h.sb.store, 'points', 'index.json'));
    const fresh = await openStore(h.sb, { actor: 'test:fresh' });
    const listed = (await fresh.recovery.listRecoveryPoints()).map((p) => p.id);
    assert.deepEqual(listed, [h.points[2]!.id, h.points[0]!.id]);
    const first = (await fresh.persistence.loadSnapshot(h.points[0]!.id))!;
    assert.equal(first.root, h.points[0]!.root);
    await assert.rejects(fresh.persistence.loadSnapshot(h.points[1]!.id), isLoadError);
  });

  test('a corrupt state file is reported by verify and recovered by repair', async () => {
    const h = await history();
    await fs.writeFile(path.join(h.sb.store, 'state.json'), '{"schemaVersion":1');
    const store = await openStore(h.sb, { actor: 'test:repair' });
    const report = await store.recovery.verify();
    assert.ok(report.stateProblem);
    assert.equal(report.ok, false);
    const repaired = await store.recovery.verify({ repair: true });
    assert.equal(repaired.repaired?.stateRecovered, true);
    assert.equal((await store.recovery.verify()).ok, true);
    assert.equal((await store.state.getState()).newestPointId, h.points[2]!.id);
    assert.ok((await auditEntries(store)).some((e) => e.action === 'recover-state'));
  });

  test('repair that quarantines the newest point leaves the state naming the newest point still listed', async () => {
    const h = await history();
    // point 3's root folder is only in point 3's pack: damaging it breaks the newest point alone (its file list is lost).
    await damageObject(h.sb.store, h.points[2]!.root);
    const store = await openStore(h.sb, { actor: 'test:repair' });
    assert.equal((await store.state.getState()).newestPointId, h.points[2]!.id);
    const repaired = await store.recovery.verify({ repair: true });
    assert.equal(repaired.repaired?.pointsQuarantined, 1);
    assert.deepEqual((await store.recovery.listRecoveryPoints()).map((p) => p.id), [h.points[1]!.id, h.points[0]!.id]);
    assert.equal((await store.state.syncState()).newestPointId, h.points[1]!.id);
  });

  test('repair that quarantines the point the state file names (newer points never rewrote the file) leaves the file naming a listed point', async () => {
    const h = await history();
    await h.store.state.updateState({ data: { written: 'with point 3 the newest' } });
    await writeFiles(h.sb.ws, { 'a.txt': 'version 4\n' });
    const fourth = (await h.store.recovery.createRecoveryPoint())!;
    assert.equal((await readJson<{ newestPointId: string }>(path.join(h.sb.store, 'state.json'))).newestPointId, h.points[2]!.id, 'a point does not rewrite the state file');
    // Point 3's root folder is in point 3's pack only: damaging it breaks point 3 alone, not the newest.
    await damageObject(h.sb.store, h.points[2]!.root);
    const store = await openStore(h.sb, { actor: 'test:repair' });
    const repaired = await store.recovery.verify({ repair: true });
    assert.deepEqual(repaired.brokenPoints.map((p) => p.id), [h.points[2]!.id]);
    const listed = (await store.recovery.listRecoveryPoints()).map((p) => p.id);
    assert.deepEqual(listed, [fourth.id, h.points[1]!.id, h.points[0]!.id]);
    assert.equal((await readJson<{ newestPointId: string }>(path.join(h.sb.store, 'state.json'))).newestPointId, fourth.id, 'the state file names the newest listed point');
  });

  test('garbage collection refuses to run when a listed point cannot be read (it would delete that point’s content)', async () => {
    const h = await history();
    await damageObject(h.sb.store, h.points[1]!.root);
    const store = await openStore(h.sb, { actor: 'test:gc' });
    const before = await packFiles(h.sb.store);
    await assert.rejects(store.recovery.collectGarbage(), isLoadError);
    assert.deepEqual(await packFiles(h.sb.store), before, 'nothing deleted');
  });

  test('garbage collection stops at a damaged live object without deleting anything or leaving temporaries', async () => {
    const h = await history();
    const store = h.store;
    await store.recovery.deletePoints([h.points[0]!.id]); // point 1's pack now holds dead and live objects
    const [firstPack] = await packFiles(h.sb.store);
    const live = await collectReachable(await store.persistence.objects(), [h.points[1]!.root, h.points[2]!.root]);
    const liveHere = (await readPackIndex(firstPack!)).filter((e) => live.has(e.hash));
    assert.ok(liveHere.length >= 2, 'shared.txt and stable.txt live in the first pack, next to dead objects');
    await damageObject(h.sb.store, liveHere[liveHere.length - 1]!.hash); // the last one: others were copied before it
    const before = await packFiles(h.sb.store);
    await assert.rejects(store.recovery.collectGarbage(), isLoadError);
    assert.deepEqual(await packFiles(h.sb.store), before);
    const leftovers = (await fs.readdir(path.join(h.sb.store, 'objects'))).filter((n) => !n.endsWith('.pack'));
    assert.deepEqual(leftovers, []);
  });

  test('every point that shares a folder whose file content was lost is reported, and repair keeps them all restorable', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'lib/x.txt': 'shared by both points\n'.repeat(20), 'a.txt': 'one\n' });
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'two\n' });
    const second = (await store.recovery.createRecoveryPoint())!;
    const x = await lookupEntry(await store.persistence.objects(), first.root, 'ws/lib/x.txt');
    await damageObject(sb.store, x!.hash); // the shared lib/ folder object itself stays readable
    const report = await store.recovery.verify({ repair: true });
    assert.deepEqual(report.brokenPoints.map((p) => p.id).sort(), [first.id, second.id].sort());
    assert.deepEqual([report.repaired?.pointsQuarantined, report.repaired?.pointsKept], [0, 2]);
    const after = await store.recovery.verify();
    assert.deepEqual(after.brokenPoints.map((p) => [p.id, p.restorable]).sort(), [[first.id, true], [second.id, true]].sort());
    assert.equal(after.needsRepair, false);
    const result = await store.recovery.restore(first.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'one\n');
    assert.deepEqual(result.outcome.skipped, [], 'lib/x.txt is unchanged on disk: nothing of it to write');
  });

  test('a newest point whose folders cannot be read does not block new points or restores of the others', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'valid\n' });
    const store = await openStore(sb);
    const valid = (await store.recovery.createRecoveryPoint())!;
    await writeManifest(sb.store, manifestFor('f'.repeat(64), { id: pointIdAt(Date.now() + 60_000) })); // its root is in no pack
    await writeFiles(sb.ws, { 'a.txt': 'changed\n' });
    const next = await store.recovery.createRecoveryPoint();
    assert.ok(next, 'a new point is made');
    await store.recovery.restore(valid.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'valid\n');
  });
});
