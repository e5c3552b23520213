// Restores whose safety point is captured in hint mode (`RestoreOptions.changedPaths`), the check of
// the files to overwrite against the safety point (and its fall-back to a full safety point), and the
// concurrent writes of `applyRestore`.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { listFiles, lookupEntry, RACY_WINDOW_MS } from '../../src/core/capture';
import { CODECS } from '../../src/core/objects/compression';
import { ObjectBatch } from '../../src/core/objects/objectStore';
import { CHECKING_MESSAGE } from '../../src/core/recovery/recoveryManager';
import { applyRestore, checkPlanOnDisk, planRestore } from '../../src/core/recovery/restorePlan';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import { auditEntries, cleanupAll, makeSandbox, openStore, readFiles, readJson, writeFiles, type Sandbox } from './helpers/storeFixtures';

after(cleanupAll);

/** The bytes a point holds for a workspace file (`undefined`: it has none). */
async function pointBytes(store: RecoveryStore, pointId: string, rel: string): Promise<string | undefined> {
  const point = (await store.persistence.loadSnapshot(pointId))!;
  const objects = await store.persistence.objects();
  const entry = await lookupEntry(objects, point.root, `ws/${rel}`);
  return entry ? (await objects.readBlob(entry.hash)).toString('latin1') : undefined;
}

/** How the store captured each safety point, in order (the audit log's `create` entries). */
async function safetyCaptures(store: RecoveryStore): Promise<string[]> {
  const points = new Map((await store.recovery.listRecoveryPoints()).map((p) => [p.id, p.trigger]));
  return (await auditEntries(store)).filter((e) => e.action === 'create' && points.get(e.pointId!) === 'before-restore').map((e) => String(e.details?.mode));
}

async function canaryIntact(sb: Sandbox): Promise<void> {
  assert.deepEqual(await readFiles(sb.canary), { 'canary.txt': 'file 644 do not touch\n' });
  assert.deepEqual((await fs.readdir(sb.root)).sort(), ['canary', 'store', 'ws'], 'nothing was written beside the workspace');
}

const abs = (sb: Sandbox, rel: string) => path.join(sb.ws, ...rel.split('/'));
/** Until the files changed just now are out of the capture cache's racy window. */
const pastRacyWindow = () => new Promise((resolve) => setTimeout(resolve, RACY_WINDOW_MS + 100));

describe('files read just after they changed', () => {
  test('are read again once their racy window has passed and kept in the capture cache: a restore then reads none of them for its safety point', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'b.txt': 'b0\n', 'sub/c.txt': 'c0\n', 'd.txt': 'd0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    const edited = ['a.txt', 'b.txt', 'sub/c.txt', 'd.txt'];
    const edit = async (round: number) => {
      await writeFiles(sb.ws, Object.fromEntries(edited.map((rel) => [rel, `${rel} ${round}\n`])));
      // as the extension's point on outside changes: within the racy window of the edits
      await store.recovery.createRecoveryPoint(undefined, { changedPaths: edited.map((rel) => abs(sb, rel)) });
    };
    const safetyHashed = async () => (await auditEntries(store)).filter((e) => e.action === 'create').at(-2)!.details?.filesHashed;

    // without settling: the safety point reads every edited file again
    await edit(1);
    assert.equal(await store.persistence.settleRecentFiles(), 0, 'nothing is settled within the window');
    await store.recovery.restore(target.id, { changedPaths: [] });
    assert.equal(await safetyHashed(), edited.length);

    await edit(2);
    await writeFiles(sb.ws, { 'd.txt': 'd changed again after its point\n' });
    await pastRacyWindow();
    assert.equal(await store.persistence.settleRecentFiles(), edited.length - 1, 'every file still as its point read it is kept; d.txt changed since');
    await writeFiles(sb.ws, { 'd.txt': 'd 2\n' });
    const restored = await store.recovery.restore(target.id, { changedPaths: [abs(sb, 'd.txt')] });
    assert.equal(restored.safetyCapture, 'hint');
    assert.equal(await safetyHashed(), 1, 'the safety point read only d.txt, whose stat is not the one kept');
    assert.equal(await pointBytes(store, restored.safetyPointId, 'a.txt'), 'a.txt 2\n', 'and holds what the files were');
    assert.equal(await pointBytes(store, restored.safetyPointId, 'd.txt'), 'd 2\n');
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a0\n', 'b.txt': 'file 644 b0\n', sub: 'dir', 'sub/c.txt': 'file 644 c0\n', 'd.txt': 'file 644 d0\n' });
  });
});

describe('the point of a restore\'s result', () => {
  /** The result point's capture mode (the audit log's), and whether it holds what a scan of the workspace finds now. */
  async function resultPoint(store: RecoveryStore, pointId: string): Promise<{ mode: unknown; truthful: boolean; files: string[] }> {
    const point = (await store.persistence.loadSnapshot(pointId))!;
    const created = (await auditEntries(store)).find((e) => e.action === 'create' && e.pointId === pointId)!;
    const scanned = await store.persistence.withCurrentTree(async (_objects, root) => root);
    const files = [...(await listFiles(await store.persistence.objects(), point.root)).keys()];
    return { mode: created.details?.mode, truthful: point.root === scanned, files };
  }

  test('is captured when the restore writes an ignore file: a file the old rules ignored and the restored ones do not is in it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { '.gitignore': '*.tmp\n', 'a.txt': 'a0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { '.gitignore': '*.tmp\nlocal.txt\n', 'a.txt': 'a1\n', 'local.txt': 'kept out by the new rules\n' });
    await store.recovery.createRecoveryPoint();
    const result = await store.recovery.restore(target.id, { changedPaths: [] });
    assert.deepEqual(result.outcome.written.sort(), ['ws/.gitignore', 'ws/a.txt']);
    const point = await resultPoint(store, result.restoredPointId!);
    assert.equal(point.mode, 'hint', 'new rules: its folder is scanned again');
    assert.ok(point.files.includes('ws/local.txt'), 'the file the restored rules no longer ignore is in the point');
    assert.ok(point.truthful);
  });

  test('is captured when a file the restored point adds is left out by the rules now (git\'s exclude file changed since)', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'gen.txt': 'generated\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'gen.txt': null, 'a.txt': 'a1\n', '.git/info/exclude': 'gen.txt\n' });
    await store.recovery.createRecoveryPoint();
    const result = await store.recovery.restore(target.id, { changedPaths: [] });
    assert.deepEqual(result.outcome.written.sort(), ['ws/a.txt', 'ws/gen.txt'], 'the restore writes what the point holds');
    const point = await resultPoint(store, result.restoredPointId!);
    assert.equal(point.mode, 'hint');
    assert.deepEqual(point.files, ['ws/a.txt'], 'the rules of now leave gen.txt out of the point, as they do of every later one');
    assert.ok(point.truthful);
  });

  test('is the restored point\'s tree, taken without a capture, when the whole plan was carried out: files added, modified, removed, a link and a mode', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'sub/b.txt': 'b0\n', 'gone/c.txt': 'c0\n', run: { content: '#!/bin/sh\n', mode: 0o755 }, link: { symlink: 'a.txt' } });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'gone/c.txt': null, 'new/d.txt': 'd1\n', link: { symlink: 'sub/b.txt' } });
    await fs.chmod(abs(sb, 'run'), 0o644);
    const result = await store.recovery.restore(target.id);
    assert.deepEqual(result.outcome.removed, ['ws/new/d.txt']);
    const point = await resultPoint(store, result.restoredPointId!);
    assert.equal(point.mode, 'known');
    assert.ok(point.truthful, 'it holds what a scan finds');
    assert.equal((await store.persistence.loadSnapshot(result.restoredPointId!))!.root, target.root);
  });
});

describe('files a restore wrote', () => {
  test('are read again once their racy window has passed and kept in the capture cache: the undo\'s safety point then reads none of them', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'b.txt': 'b0\n', 'sub/c.txt': 'c0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'sub/c.txt': 'c1\n' });
    await store.recovery.createRecoveryPoint(undefined, { changedPaths: ['a.txt', 'b.txt', 'sub/c.txt'].map((rel) => abs(sb, rel)) });
    await pastRacyWindow();
    await store.persistence.settleRecentFiles();
    const restored = await store.recovery.restore(target.id, { changedPaths: [] });
    assert.equal(restored.outcome.written.length, 3);
    await pastRacyWindow();
    assert.equal(await store.persistence.settleRecentFiles(), 3, 'the three files the restore wrote');
    const undo = await store.recovery.undoLastRestore({ changedPaths: [] });
    assert.equal(undo.safetyCapture, 'hint');
    const created = (await auditEntries(store)).filter((e) => e.action === 'create');
    assert.equal(created.find((e) => e.pointId === undo.safetyPointId)!.details?.filesHashed, 0, 'the undo\'s safety point read no file');
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a1\n', 'b.txt': 'file 644 b1\n', sub: 'dir', 'sub/c.txt': 'file 644 c1\n' });
  });
});

describe('restore with a hint-mode safety point', () => {
  test('after its own restore, a process builds the next point and the undo\'s safety point on the safety point with a hint; another process scans', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'b.txt': 'b0\n', 'sub/c.txt': 'c0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'sub/c.txt': null, 'new.txt': 'new\n' });
    await store.recovery.createRecoveryPoint(undefined, { changedPaths: ['a.txt', 'sub/c.txt', 'new.txt'].map((r) => abs(sb, r)) });
    await store.recovery.restore(target.id, { changedPaths: [] });
    await writeFiles(sb.ws, { 'b.txt': 'b2 edited after the restore\n' });
    const next = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [abs(sb, 'b.txt')] }))!;
    const modes = (await auditEntries(store)).filter((e) => e.action === 'create').map((e) => e.details?.mode);
    assert.equal(modes.at(-1), 'hint', 'the point after the restore used the hint plus the restore\'s paths');
    const scanned = await store.persistence.withCurrentTree(async (_objects, root) => root);
    assert.equal(next.root, scanned, 'and holds exactly what a full scan finds');

    await store.recovery.restore(target.id, { changedPaths: [] });
    const undo = await store.recovery.undoLastRestore({ changedPaths: [] });
    assert.equal(undo.safetyCapture, 'hint', 'the undo\'s safety point builds on the restore\'s with a hint');
    assert.equal(await pointBytes(store, undo.safetyPointId, 'b.txt'), 'b0\n');

    const other = await openStore(sb, { actor: 'test:other' });
    await store.recovery.restore(target.id, { changedPaths: [] });
    await writeFiles(sb.ws, { 'a.txt': 'a3\n' });
    const elsewhere = (await other.recovery.createRecoveryPoint(undefined, { changedPaths: [abs(sb, 'a.txt')] }))!;
    const last = (await auditEntries(other)).filter((e) => e.action === 'create').at(-1)!;
    assert.equal(last.details?.mode, 'hint', 'the restore\'s result is a point of its own: another process builds on it with a hint');
    assert.equal(elsewhere.root, await other.persistence.withCurrentTree(async (_objects, root) => root));
  });

  test('the safety point holds the current bytes of every file the restore changes, hinted or not; undo gives them back exactly', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'b.txt': 'b0\n', 'c.txt': 'c0\n', 'sub/d.txt': 'd0\n', 'sub/e.txt': 'e0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'sub/d.txt': null });
    await store.recovery.createRecoveryPoint(undefined, { changedPaths: [abs(sb, 'a.txt'), abs(sb, 'b.txt'), abs(sb, 'sub/d.txt')] });
    // Since the newest point: a.txt and new.txt are hinted; b.txt (the point changes it too) is not.
    await writeFiles(sb.ws, { 'a.txt': 'a2 hinted\n', 'b.txt': 'b2 not hinted\n', 'new.txt': 'new, hinted\n', 'sub/d.txt': 'd2 recreated, not hinted\n' });
    const before = await readFiles(sb.ws);

    const result = await store.recovery.restore(target.id, { changedPaths: [abs(sb, 'a.txt'), abs(sb, 'new.txt')] });
    assert.equal(result.safetyCapture, 'hint');
    assert.deepEqual(await safetyCaptures(store), ['hint'], 'the store captured the safety point in hint mode');
    for (const rel of ['a.txt', 'b.txt', 'new.txt', 'sub/d.txt']) {
      assert.equal(await pointBytes(store, result.safetyPointId, rel), before[rel]!.replace(/^file 644 /, ''), `the safety point holds ${rel} as it was`);
    }
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a0\n', 'b.txt': 'file 644 b0\n', 'c.txt': 'file 644 c0\n', sub: 'dir', 'sub/d.txt': 'file 644 d0\n', 'sub/e.txt': 'file 644 e0\n' });

    await store.recovery.undoLastRestore({ changedPaths: [] });
    assert.deepEqual(await readFiles(sb.ws), before, 'undo gives back every file byte for byte');
    await canaryIntact(sb);
  });

  test('one file, or one folder, with its path as the hint: only it changes, and undo restores it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'lib/x.ts': 'x0\n', 'lib/y.ts': 'y0\n', 'z.txt': 'z0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'lib/x.ts': 'x1\n', 'lib/y.ts': null, 'z.txt': 'z1\n' });
    const changed = ['a.txt', 'lib/x.ts', 'lib/y.ts', 'z.txt'].map((rel) => abs(sb, rel));
    await store.recovery.createRecoveryPoint(undefined, { changedPaths: changed });
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const before = await readFiles(sb.ws);

    const one = await store.recovery.restoreFile(target.id, 'ws/a.txt', { changedPaths: [abs(sb, 'a.txt')] });
    assert.equal(one.safetyCapture, 'hint');
    assert.equal(await pointBytes(store, one.safetyPointId, 'a.txt'), 'a2\n');
    assert.deepEqual(await readFiles(sb.ws), { ...before, 'a.txt': 'file 644 a0\n' });
    await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), before);

    await store.recovery.createRecoveryPoint(undefined, { changedPaths: [abs(sb, 'a.txt')] });
    const folder = await store.recovery.restore(target.id, { paths: ['ws/lib'], changedPaths: [] });
    assert.equal(folder.safetyCapture, 'hint');
    assert.equal(await pointBytes(store, folder.safetyPointId, 'lib/x.ts'), 'x1\n');
    assert.deepEqual(await readFiles(sb.ws), { ...before, 'lib/x.ts': 'file 644 x0\n', 'lib/y.ts': 'file 644 y0\n' });
    await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), before);
    await canaryIntact(sb);
  });

  test('a file that changes after the hint-mode safety point read it: a full safety point holds its new bytes before it is overwritten', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'b.txt': 'b0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
    let checks = 0;
    const result = await store.recovery.restore(target.id, {
      changedPaths: [abs(sb, 'a.txt'), abs(sb, 'b.txt')],
      onProgress: (message) => {
        // another program writes b.txt between the safety point and the writes
        if (message === CHECKING_MESSAGE && ++checks === 1) writeFileNow(abs(sb, 'b.txt'), 'b written meanwhile, longer\n');
      },
    });
    assert.equal(checks, 2, 'the files were checked again after the second safety point');
    assert.equal(result.safetyCapture, 'full');
    assert.deepEqual(await safetyCaptures(store), ['hint', 'full'], 'a hint-mode safety point, then a full one');
    assert.equal(await pointBytes(store, result.safetyPointId, 'b.txt'), 'b written meanwhile, longer\n', 'the safety point the restore records holds the new bytes');
    assert.equal((await store.state.getState()).lastRestore?.safetyPointId, result.safetyPointId);
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a0\n', 'b.txt': 'file 644 b0\n' });
    await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a1\n', 'b.txt': 'file 644 b written meanwhile, longer\n' });
  });

  test('a file that keeps changing while the restore is prepared is left as it is, and reported', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'b.txt': 'b0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
    let n = 0;
    const result = await store.recovery.restore(target.id, {
      changedPaths: [abs(sb, 'a.txt'), abs(sb, 'b.txt')],
      onProgress: (message) => {
        if (message === CHECKING_MESSAGE) writeFileNow(abs(sb, 'b.txt'), `b changing ${++n}${'.'.repeat(n)}\n`);
      },
    });
    assert.equal(n, 2);
    assert.deepEqual(result.outcome.written, ['ws/a.txt']);
    assert.deepEqual(result.outcome.skipped.map((s) => s.path), ['ws/b.txt']);
    assert.match(result.outcome.skipped[0]!.reason, /changing/);
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a0\n', 'b.txt': 'file 644 b changing 2..\n' }, 'its newest bytes are not overwritten');
  });

  test('a preview with nothing changed since the newest point is planned against it, and equals the scanned preview; after a restore it scans', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'b.txt': 'b0\n', 'lib/c.txt': 'c0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'lib/c.txt': null, 'new.txt': 'n\n' });
    await store.recovery.createRecoveryPoint();
    const names = (plan: { add: readonly { path: string }[]; modify: readonly { path: string }[]; remove: readonly { path: string }[] }) => ({
      add: plan.add.map((c) => c.path),
      modify: plan.modify.map((c) => c.path),
      remove: plan.remove.map((c) => c.path),
    });
    const vouched = await store.recovery.previewRestore(target.id, undefined, { changedPaths: [] });
    assert.deepEqual(names(vouched), { add: ['ws/lib/c.txt'], modify: ['ws/a.txt'], remove: ['ws/new.txt'] });
    assert.deepEqual(names(vouched), names(await store.recovery.previewRestore(target.id)));
    assert.deepEqual(names(await store.recovery.previewRestore(target.id, ['ws/lib'], { changedPaths: [] })), { add: ['ws/lib/c.txt'], modify: [], remove: [] });

    await store.recovery.restore(target.id, { paths: ['ws/a.txt'] });
    // the newest point is now the safety point, which the restore's writes left behind
    assert.deepEqual(names(await store.recovery.previewRestore(target.id, undefined, { changedPaths: [] })), { add: ['ws/lib/c.txt'], modify: [], remove: ['ws/new.txt'] });
  });

  test('without a hint the safety point is a full scan', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n' });
    const result = await store.recovery.restore(target.id);
    assert.equal(result.safetyCapture, 'full');
    assert.deepEqual(await safetyCaptures(store), ['full']);
    assert.equal(await pointBytes(store, result.safetyPointId, 'a.txt'), 'a1\n');
  });

  test('the point of the result takes the written files\' hashes without reading them, and leaves the state file as the restore recorded it', async () => {
    const sb = await makeSandbox();
    const files = (version: string) => Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`src/d${i % 3}/f${i}.txt`, `${version} ${i}\n`]));
    await writeFiles(sb.ws, { ...files('v1'), 'keep.txt': 'k\n' });
    const before = await readFiles(sb.ws);
    let store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { ...files('v2'), 'added.txt': 'new\n' });
    const changed = [...Object.keys(files('v2')), 'added.txt'].map((rel) => abs(sb, rel));
    const result = await store.recovery.restore(target.id, { changedPaths: changed });
    assert.equal(result.outcome.written.length, 12);
    assert.deepEqual(result.outcome.removed, ['ws/added.txt']);
    assert.deepEqual(await readFiles(sb.ws), before);
    const restored = (await store.persistence.loadSnapshot(result.restoredPointId!))!;
    assert.equal(restored.root, await store.persistence.withCurrentTree(async (_objects, root) => root), 'it holds the files as they are now');
    const created = (await auditEntries(store)).find((e) => e.action === 'create' && e.pointId === restored.id)!;
    assert.equal(created.details?.filesHashed, 0, 'no restored file was read and hashed again');
    assert.equal(created.details?.mode, 'known', 'every change of the plan was made: no file was looked at again');
    assert.equal(restored.root, target.root, 'its tree is the restored point\'s');
    assert.deepEqual({ added: restored.changes.added, modified: restored.changes.modified, deleted: restored.changes.deleted }, { added: 0, modified: 12, deleted: 1 });

    // The state file was written once, with lastRestore; the newest point is derived from the listing.
    const onDisk = await readJson<{ newestPointId: string; lastRestore: { safetyPointId: string } }>(path.join(sb.store, 'state.json'));
    assert.equal(onDisk.lastRestore.safetyPointId, result.safetyPointId);
    assert.equal(onDisk.newestPointId, result.safetyPointId, 'not written again for the point of the result');
    assert.equal((await store.state.getState()).newestPointId, restored.id, 'this process knows the newest point');
    await store.close();
    store = await openStore(sb);
    assert.equal((await store.state.getState()).newestPointId, restored.id, 'a new process derives it from the points');
  });

  test('with the edits already in the newest point, a restore encodes no folder tree (its result point takes the restored point\'s); undo brings every edit back', async () => {
    const sb = await makeSandbox();
    const files = (version: string) => Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`src/d${i % 3}/deep${i % 2}/f${i}.txt`, `${version} ${i}\n`]));
    await writeFiles(sb.ws, { ...files('v1'), 'keep.txt': 'k\n' });
    const original = await readFiles(sb.ws);
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { ...files('v2'), 'added/new.txt': 'new\n' });
    const edited = await readFiles(sb.ws);
    // saved as the extension's points on save leave them: the workspace is the newest point
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [...Object.keys(files('v2')), 'added/new.txt'].map((rel) => abs(sb, rel)) });
    const putTree = ObjectBatch.prototype.putTree;
    let encoded = 0;
    ObjectBatch.prototype.putTree = function (this: ObjectBatch, tree) {
      encoded++;
      return putTree.call(this, tree);
    };
    let result;
    try {
      result = await store.recovery.restore(target.id, { changedPaths: [] });
    } finally {
      ObjectBatch.prototype.putTree = putTree;
    }
    assert.equal(result.outcome.written.length, 12);
    assert.deepEqual(result.outcome.removed, ['ws/added/new.txt']);
    assert.deepEqual(await readFiles(sb.ws), original);
    assert.equal(encoded, 1, 'only the safety point\'s root (the newest point\'s, found stored): no folder of the result point is encoded again');
    const restored = (await store.persistence.loadSnapshot(result.restoredPointId!))!;
    assert.equal(restored.root, target.root, 'the result point is the restored point\'s tree');
    assert.equal(restored.root, await store.persistence.withCurrentTree(async (_objects, root) => root), 'and what a scan finds');
    assert.equal(restored.fileCount, target.fileCount);
    const safety = (await store.persistence.loadSnapshot(result.safetyPointId))!;
    assert.equal(await pointBytes(store, safety.id, 'src/d1/deep1/f1.txt'), 'v2 1\n', 'the safety point holds the edits');

    const undo = await store.recovery.undoLastRestore({ changedPaths: [] });
    assert.equal(undo.outcome.written.length, 13);
    assert.deepEqual(await readFiles(sb.ws), edited, 'undo brings every edit back, byte for byte');
    const undone = (await store.persistence.loadSnapshot(undo.restoredPointId!))!;
    assert.equal(undone.root, safety.root);
    assert.equal(undone.root, await store.persistence.withCurrentTree(async (_objects, root) => root));
  });

  test('with 100 edits in no point, the safety point holds every edit, its new files and folders written as they are (no deflate while the person waits); undo brings each edit back byte for byte; the clean-up compresses them', async () => {
    const sb = await makeSandbox();
    const files = (version: string) => Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`src/m${i % 7}/p${i % 5}/f${i}.ts`, `export const v${i} = '${version}';\n`.repeat(20)]));
    await writeFiles(sb.ws, { ...files('v1'), 'keep.txt': 'k\n' });
    const original = await readFiles(sb.ws);
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, files('v2 edited by an agent'));
    const edited = await readFiles(sb.ws);

    const result = await store.recovery.restore(target.id, { changedPaths: Object.keys(files('')).map((rel) => abs(sb, rel)) });
    assert.equal(result.safetyCapture, 'hint');
    assert.equal(result.outcome.written.length, 100);
    assert.deepEqual(await readFiles(sb.ws), original);
    for (const rel of Object.keys(files(''))) assert.equal(await pointBytes(store, result.safetyPointId, rel), edited[rel]!.replace(/^file 644 /, ''), `the safety point holds ${rel} as edited`);
    const objects = await store.persistence.objects();
    const safety = (await store.persistence.loadSnapshot(result.safetyPointId))!;
    const folders = [safety.root];
    for (const rel of ['ws', 'ws/src', 'ws/src/m3', 'ws/src/m3/p2']) folders.push((await lookupEntry(objects, safety.root, rel))!.hash);
    for (const hash of folders) assert.equal((await objects.readStoredObject(hash)).codec, CODECS.stored, 'a new folder of the safety point is written as it is');
    const editedBlobs = await Promise.all(['src/m3/p2/f17.ts', 'src/m0/p0/f0.ts'].map(async (rel) => (await lookupEntry(objects, safety.root, `ws/${rel}`))!.hash));
    for (const hash of editedBlobs) {
      const record = await objects.readStoredObject(hash);
      assert.equal(record.codec, CODECS.deflateFast, 'an edited file of the safety point is a deflate stream, which the repack compresses');
      assert.ok(record.data.length > record.rawSize, `…of stored blocks, not compressed (${record.data.length} bytes for ${record.rawSize})`);
    }
    const targetBlob = (await lookupEntry(objects, target.root, 'ws/src/m3/p2/f17.ts'))!.hash;
    assert.equal((await objects.readStoredObject(targetBlob)).codec, CODECS.deflateFast, 'the first point\'s files (its first 64 KiB written as stored blocks too) wait for the repack as well');

    await store.recovery.undoLastRestore({ changedPaths: [] });
    assert.deepEqual(await readFiles(sb.ws), edited, 'undo brings every edit back, byte for byte');
    await store.recovery.cleanupRecoveryPoints();
    const repacked = await store.persistence.objects();
    for (const hash of [...editedBlobs, targetBlob]) {
      const record = await repacked.readStoredObject(hash);
      assert.equal(record.codec, CODECS.brotli, 'the clean-up\'s repack compresses the safety point\'s files and the first point\'s');
      assert.ok(record.data.length < record.rawSize / 4, `${record.data.length} bytes for ${record.rawSize}`);
    }
    for (const rel of Object.keys(files(''))) assert.equal(await pointBytes(store, result.safetyPointId, rel), edited[rel]!.replace(/^file 644 /, ''), `the safety point still holds ${rel} after the repack`);
    await canaryIntact(sb);
  });
});

/** A synchronous write (inside a progress callback, so it lands before the restore goes on). */
function writeFileNow(file: string, text: string): void {
  writeFileSync(file, text);
}

describe('applyRestore writes several files at once', () => {
  test('hundreds of files in new and existing folders, links and modes: byte for byte, nothing written outside, no temporary files left', async () => {
    const sb = await makeSandbox();
    const files: Record<string, string | Buffer | { content: string; mode: number } | { symlink: string }> = {};
    for (let i = 0; i < 300; i++) {
      const dir = `d${i % 7}/e${i % 5}${i % 3 === 0 ? `/deep${i % 4}/x` : ''}`;
      files[`${dir}/f${i}.txt`] = i % 11 === 0 ? Buffer.from([0, 255, i & 255, 10, 13]) : i % 13 === 0 ? { content: `script ${i}\n`, mode: 0o755 } : `file ${i}\n`.repeat(1 + (i % 50));
    }
    files['link-in'] = { symlink: 'd0/e0/f0.txt' };
    files['link-out'] = { symlink: '../canary/canary.txt' };
    await writeFiles(sb.ws, files);
    const store = await openStore(sb);
    const atPoint = await readFiles(sb.ws);
    const target = (await store.recovery.createRecoveryPoint())!;
    // Most files changed or gone, folders removed, a file where a folder was, new files beside them.
    await fs.rm(path.join(sb.ws, 'd1'), { recursive: true });
    await fs.rm(path.join(sb.ws, 'd2'), { recursive: true });
    await writeFiles(sb.ws, { d3: 'a file where a folder was\n', 'link-out': 'now a file\n', 'd4/new.txt': 'new\n' });
    for (let i = 0; i < 300; i += 2) {
      const rel = Object.keys(files)[i]!;
      if (!rel.startsWith('d1/') && !rel.startsWith('d2/') && !rel.startsWith('d3/')) await writeFiles(sb.ws, { [rel]: `changed ${i}\n` });
    }

    let progress = 0;
    const result = await store.recovery.restore(target.id, { onProgress: () => progress++ });
    assert.deepEqual(await readFiles(sb.ws), atPoint, 'every file, mode and link as at the point');
    assert.deepEqual(result.outcome.skipped, []);
    assert.deepEqual(result.outcome.written, [...result.plan.add, ...result.plan.modify].map((c) => c.path), 'the outcome lists paths in plan order');
    assert.ok(result.outcome.written.length > 200);
    assert.ok(progress > 0);
    await canaryIntact(sb);
  });

  test('hostile point: many files below a link to outside the workspace, written at once with others — all refused, the rest written', async () => {
    const sb = await makeSandbox();
    const inside: Record<string, string> = {};
    for (let i = 0; i < 60; i++) inside[`out/f${i}.txt`] = `pwned ${i}\n`;
    for (let i = 0; i < 60; i++) inside[`ok/g${i}.txt`] = `fine ${i}\n`;
    await writeFiles(sb.ws, inside);
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    // The workspace now has `out` as an untracked link to the canary folder (ignored), and none of the files.
    await fs.rm(path.join(sb.ws, 'out'), { recursive: true });
    await fs.rm(path.join(sb.ws, 'ok'), { recursive: true });
    await writeFiles(sb.ws, { '.gitignore': 'out\n', out: { symlink: '../canary' } });
    await store.recovery.createRecoveryPoint();
    const result = await store.recovery.restore(target.id, { paths: ['ws/out', 'ws/ok'] });
    assert.equal(result.outcome.skipped.length, 60);
    assert.ok(result.outcome.skipped.every((s) => s.path.startsWith('ws/out/') && /symbolic link/.test(s.reason)));
    assert.equal(result.outcome.written.length, 60);
    assert.equal((await fs.lstat(path.join(sb.ws, 'out'))).isSymbolicLink(), true);
    await canaryIntact(sb);
  });

  test('a file changed between the check and its write is skipped, never overwritten', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'b.txt': 'b0\n', 'c.txt': 'c0\n' });
    const store = await openStore(sb);
    const target = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'c.txt': null });
    const safety = (await store.recovery.createRecoveryPoint())!;
    const objects = await store.persistence.objects();
    const plan = await planRestore(objects, safety.root, target.root);
    const { cache } = await store.persistence.open();
    const check = await checkPlanOnDisk(store.persistence.workspaceRoots, plan, cache);
    assert.deepEqual(check.changed, []);
    assert.deepEqual([...check.stamps.keys()].sort(), ['ws/a.txt', 'ws/b.txt'], 'the files to overwrite or delete are stamped');
    await writeFiles(sb.ws, { 'b.txt': 'b written after the check\n' });
    const outcome = await applyRestore(objects, store.persistence.workspaceRoots, plan, { expected: check.stamps });
    assert.deepEqual(outcome.written, ['ws/c.txt', 'ws/a.txt']);
    assert.deepEqual(outcome.skipped.map((s) => s.path), ['ws/b.txt']);
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a0\n', 'b.txt': 'file 644 b written after the check\n', 'c.txt': 'file 644 c0\n' });

    // The check itself sees a changed file, a changed mode and a file that is gone.
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'c.txt': null });
    const fresh = await checkPlanOnDisk(store.persistence.workspaceRoots, plan, cache);
    assert.deepEqual(fresh.changed, []);
    await fs.chmod(path.join(sb.ws, 'a.txt'), 0o600);
    await writeFiles(sb.ws, { 'b.txt': 'b9\n' });
    assert.deepEqual((await checkPlanOnDisk(store.persistence.workspaceRoots, plan, cache)).changed.sort(), ['ws/a.txt', 'ws/b.txt']);
    await fs.rm(path.join(sb.ws, 'a.txt'));
    assert.ok((await checkPlanOnDisk(store.persistence.workspaceRoots, plan, cache)).changed.includes('ws/a.txt'));
  });
});
