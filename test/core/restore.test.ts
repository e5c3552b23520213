import assert from 'node:assert/strict';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { isRestoreTempName, lookupEntry } from '../../src/core/capture';
import { contentReadAhead, LOST_CONTENT, onDiskWhenPointWasMade, restoreTempName, withoutInnerFolders } from '../../src/core/recovery/restorePlan';
import { StateError } from '../../src/core/errors';
import { headsMovedNote, undoDone } from '../../src/core/pointNames';
import { describeMapping } from '../../src/core/recovery/folderMapping';
import { RecoveryStore } from '../../src/core/recoveryStore';
import { exportBundle, importBundle } from '../../src/core/transfer';
import type { TreeEntry } from '../../src/core/schemas';
import { auditEntries, cleanupAll, damageObject, exists, locateObject, makeSandbox, openStore, readFiles, writeFiles, type Sandbox } from './helpers/storeFixtures';
import { manifestFor, pointIdAt, writeManifest } from './helpers/storePoints';

after(cleanupAll);

const BINARY = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0, 128, 127]);

/** Tracked files of every kind, plus files that are ignored, excluded or secret. */
async function populate(sb: Sandbox): Promise<void> {
  await writeFiles(sb.ws, {
    'README.md': '# demo\n',
    'src/app.ts': 'export const app = 1;\n',
    'src/lib/util.ts': 'export const util = 1;\n',
    'src/lib/deep/x/y.txt': 'deep\n',
    'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
    'data/blob.bin': BINARY,
    'link-to-readme': { symlink: 'README.md' },
    'link-outside': { symlink: '../canary/canary.txt' },
    'was-file': 'I am a file\n',
    'was-dir/inner.txt': 'inside a folder\n',
    '.gitignore': 'build/\n*.log\ngen.txt\n',
    'build/out.js': 'built 1\n',
    'debug.log': 'log 1\n',
    'node_modules/x/index.js': 'module 1\n',
    '.env': 'SECRET=1\n',
  });
}

const IGNORED = ['build', 'debug.log', 'node_modules', '.env', 'new.log'];
const isIgnored = (rel: string) => IGNORED.some((p) => rel === p || rel.startsWith(`${p}/`));

/** Changes every tracked thing, and the ignored ones too. */
async function mutate(sb: Sandbox): Promise<void> {
  await writeFiles(sb.ws, {
    'src/app.ts': 'export const app = 2; // broken\n',
    'src/lib/deep': null,
    'src/new.ts': 'new file\n',
    'src/newdir/sub/a.ts': 'new folder\n',
    'data/blob.bin': Buffer.from('text now'),
    'link-to-readme': { symlink: 'src/app.ts' },
    'link-outside': 'now a regular file\n',
    'was-file': null,
    'was-file/child.txt': 'file became a folder\n',
    'was-dir': 'folder became a file\n',
    'build/out.js': 'built 2\n',
    'debug.log': 'log 2\n',
    'node_modules/x/index.js': 'module 2\n',
    '.env': 'SECRET=2\n',
    'new.log': 'untracked new log\n',
  });
  await fs.chmod(path.join(sb.ws, 'bin/run.sh'), 0o644);
}

function isKind(kind: string) {
  return (error: unknown) => error instanceof StateError && error.kind === kind;
}

async function canaryIntact(sb: Sandbox): Promise<void> {
  assert.deepEqual(await readFiles(sb.canary), { 'canary.txt': 'file 644 do not touch\n' });
  assert.deepEqual((await fs.readdir(sb.root)).sort(), ['canary', 'store', 'ws'], 'nothing was written beside the workspace');
}

describe('restore', () => {
  test('a whole point comes back byte for byte: contents, deletions, modes, links, nested and kind changes; ignored files untouched', async () => {
    const sb = await makeSandbox();
    await populate(sb);
    const store = await openStore(sb);
    const atPoint = await readFiles(sb.ws);
    const point = (await store.recovery.createRecoveryPoint())!;
    await mutate(sb);
    const mutated = await readFiles(sb.ws);

    // the preview offers what the restore does: a file where a folder of tracked files stands now too
    const preview = await store.recovery.previewRestore(point.id);
    assert.deepEqual(preview.leftAlone, []);
    assert.ok(preview.add.some((c) => c.path === 'ws/was-file'));
    const result = await store.recovery.restore(point.id);
    const now = await readFiles(sb.ws);
    const tracked = (map: Record<string, string>) => Object.fromEntries(Object.entries(map).filter(([rel]) => !isIgnored(rel)));
    assert.deepEqual(tracked(now), tracked(atPoint), 'every tracked file, folder, mode and link is as it was');
    assert.equal(now['bin/run.sh'], 'file 755 #!/bin/sh\necho hi\n');
    assert.equal(now['link-outside'], 'link -> ../canary/canary.txt', 'restored as a link, not followed');
    assert.equal(now['src/newdir'], undefined, 'folders left empty by deletions are removed');
    // Ignored, excluded and secret files: exactly as they were before the restore.
    for (const rel of Object.keys(mutated).filter(isIgnored)) assert.equal(now[rel], mutated[rel], `${rel} is untouched`);
    assert.deepEqual(result.outcome.skipped, []);
    assert.deepEqual([...result.outcome.removed].sort(), ['ws/src/new.ts', 'ws/src/newdir/sub/a.ts', 'ws/was-dir', 'ws/was-file/child.txt']);
    await canaryIntact(sb);

    // A safety point was made first and is recorded for undo.
    const safety = (await store.persistence.loadSnapshot(result.safetyPointId))!;
    assert.equal(safety.trigger, 'before-restore');
    const state = await store.state.getState();
    assert.equal(state.lastRestore?.safetyPointId, safety.id);
    assert.equal(state.lastRestore?.restoredPointId, point.id);
    // The workspace as the restore left it is a point of its own, named after the point restored.
    assert.ok(result.restoredPointId, 'the restore made a point of its result');
    const restoredPoint = (await store.persistence.loadSnapshot(result.restoredPointId))!;
    assert.equal(restoredPoint.trigger, 'restore');
    assert.equal(restoredPoint.parentId, safety.id);
    assert.equal(restoredPoint.root, await store.persistence.withCurrentTree(async (_objects, root) => root), 'it holds the files as they are now');
    const written = result.outcome.written.length + result.outcome.removed.length;
    assert.equal(restoredPoint.summary, `Restored 'First recovery point' (${written} files)`);
    assert.equal(safety.summary, `Before restoring 'First recovery point'`);
    assert.equal(state.newestPointId, restoredPoint.id);
    const audit = (await auditEntries(store)).filter((e) => e.action === 'restore');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.pointId, point.id);
    assert.equal(audit[0]!.details?.safetyPointId, safety.id);

    // Undo returns the workspace exactly as it was before the restore.
    const undone = await store.recovery.undoLastRestore();
    assert.equal(undone.point.id, safety.id);
    assert.deepEqual(await readFiles(sb.ws), mutated);
    // Flat names: the undo's points name the restore they undo, never "Before restoring 'Before restoring …'".
    assert.equal((await store.persistence.loadSnapshot(undone.safetyPointId))!.summary, `Before undoing the restore of 'First recovery point'`);
    const undonePoint = (await store.persistence.loadSnapshot(undone.restoredPointId!))!;
    assert.equal(undonePoint.summary, `Undid restore of 'First recovery point' (${undone.outcome.written.length + undone.outcome.removed.length} files)`);
    assert.equal(undonePoint.root, await store.persistence.withCurrentTree(async (_objects, root) => root));
    await canaryIntact(sb);
  });

  test('restoring some paths, or one file, leaves everything else untouched; undo covers the same paths; a one-file restore\'s point names the file', async () => {
    const sb = await makeSandbox();
    await populate(sb);
    const store = await openStore(sb);
    const atPoint = await readFiles(sb.ws);
    const point = (await store.recovery.createRecoveryPoint())!;
    await mutate(sb);
    const mutated = await readFiles(sb.ws);

    const preview = await store.recovery.previewRestore(point.id, ['ws/src']);
    assert.deepEqual(await readFiles(sb.ws), mutated, 'a preview changes nothing');
    assert.deepEqual(
      {
        add: preview.add.map((c) => c.path),
        modify: preview.modify.map((c) => c.path),
        remove: preview.remove.map((c) => c.path),
      },
      { add: ['ws/src/lib/deep/x/y.txt'], modify: ['ws/src/app.ts'], remove: ['ws/src/new.ts', 'ws/src/newdir/sub/a.ts'] },
    );

    const folder = await store.recovery.restore(point.id, { paths: ['ws/src'] });
    assert.equal((await store.persistence.loadSnapshot(folder.restoredPointId!))!.summary, "Restored src/ from 'First recovery point' (4 files)", 'more than three files: counted, the folder asked for named');
    const afterFolder = await readFiles(sb.ws);
    for (const [rel, value] of Object.entries(afterFolder)) {
      if (rel === 'src' || rel.startsWith('src/')) assert.equal(value, atPoint[rel], `${rel} restored`);
      else assert.equal(value, mutated[rel], `${rel} outside the chosen folder is untouched`);
    }
    for (const rel of Object.keys(atPoint).filter((r) => r.startsWith('src/'))) assert.ok(rel in afterFolder, `${rel} is back`);
    assert.equal(afterFolder['src/newdir'], undefined);
    const undone = await store.recovery.undoLastRestore();
    assert.ok(undone);
    assert.deepEqual(await readFiles(sb.ws), mutated, 'undo of a partial restore');

    const single = await store.recovery.restoreFile(point.id, 'ws/bin/run.sh');
    assert.deepEqual(single.outcome.written, ['ws/bin/run.sh']);
    assert.equal((await store.persistence.loadSnapshot(single.restoredPointId!))!.summary, "Restored run.sh from 'First recovery point'", 'a restore of one file names it');
    const afterFile = await readFiles(sb.ws);
    assert.deepEqual(afterFile, { ...mutated, 'bin/run.sh': 'file 755 #!/bin/sh\necho hi\n' });
    await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), mutated);
    await canaryIntact(sb);
  });

  test('the undo of a restore that changed nothing changes nothing, nor does the undo of an undo that changed nothing', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    const restored = await store.recovery.restore(point.id);
    assert.equal(restored.outcome.written.length + restored.outcome.removed.length, 0, 'the files already were the point\'s');
    assert.equal((await store.state.getState()).lastRestore?.nothingChanged, true);
    await writeFiles(sb.ws, { 'a.txt': 'a2 after the restore\n' });
    const edited = await readFiles(sb.ws);
    const undone = await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), edited, 'the edit made after a restore that changed nothing is kept');
    assert.equal(undone.outcome.written.length + undone.outcome.removed.length, 0);
    await writeFiles(sb.ws, { 'a.txt': 'a3 after the undo\n', 'b.txt': 'b2 after the undo\n' });
    const again = await readFiles(sb.ws);
    await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), again, 'and so is the edit made after the undo that changed nothing');
    await store.close();
  });

  test('a file the point left out for its size, small enough since: the preview and the restore leave it, also through hint points', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'data.csv': 'x'.repeat(2000) });
    const store = await openStore(sb, { rules: { maxFileSize: 1000 } });
    const full = (await store.recovery.createRecoveryPoint())!;
    assert.deepEqual(full.leftOut, ['ws/data.csv']);
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const hinted = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.deepEqual(hinted.leftOut, ['ws/data.csv'], 'a hint point carries it over');
    await writeFiles(sb.ws, { 'data.csv': 'small now\n' });
    const tracked = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'data.csv')] }))!;
    assert.equal(tracked.leftOut, undefined, 'captured now');
    assert.equal(tracked.changes.added, 1);
    for (const point of [full, hinted]) {
      const preview = await store.recovery.previewRestore(point.id);
      assert.deepEqual(preview.remove, [], `restoring ${point.id} deletes nothing`);
      assert.deepEqual(preview.leftAlone.map((l) => l.path), ['ws/data.csv']);
      const result = await store.recovery.restore(point.id);
      assert.deepEqual(result.outcome.removed, []);
      assert.deepEqual(result.outcome.skipped.map((s) => s.path), ['ws/data.csv']);
      assert.match(result.outcome.skipped[0]!.reason, /on disk when the point was made, which left it out \(over the size limit/);
      assert.equal(await fs.readFile(path.join(sb.ws, 'data.csv'), 'utf8'), 'small now\n');
    }
    // a file created after the point is still deleted by its restore
    await writeFiles(sb.ws, { 'later.txt': 'made after\n' });
    await store.recovery.createRecoveryPoint();
    await store.recovery.restore(hinted.id);
    assert.equal(await exists(path.join(sb.ws, 'later.txt')), false);
    await store.close();
  });

  test('undo where the restore\'s folder is still there, with the same store, is refused and writes nothing; after the folder moved it follows it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'src/b.ts': 'b1\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    await store.recovery.restore(point.id);
    await store.close();
    const other = path.join(sb.root, 'other');
    await writeFiles(other, { 'a.txt': "another project's file\n" });
    const before = await readFiles(other);
    const elsewhere = await openStore(sb, { roots: [{ name: 'other', path: other }], actor: 'test:elsewhere' });
    await assert.rejects(elsewhere.recovery.undoLastRestore(), (error: unknown) => error instanceof StateError && error.kind === 'InvalidState' && /^The last restore was made in \S+ws, which is still there, not in this workspace's \S+other: undo it there\./.test(error.message));
    assert.deepEqual(await readFiles(other), before, 'nothing written in the other folder');
    await elsewhere.close();
    // the folder moved, and a copy of it: the copy is another folder
    const moved = path.join(sb.root, 'moved');
    await fs.rename(sb.ws, moved);
    const copy = path.join(sb.root, 'copy');
    await fs.cp(moved, copy, { recursive: true });
    await writeFiles(copy, { 'a.txt': "the copy's own\n" });
    const inCopy = await openStore(sb, { roots: [{ name: 'copy', path: copy }], actor: 'test:copy' });
    await assert.rejects(inCopy.recovery.undoLastRestore(), /^StateError: The last restore was made in \S+ws, which was moved or removed since, and this workspace's \S+copy is another folder \(a copy\?\): undo it where that folder is now\./);
    assert.equal(await fs.readFile(path.join(copy, 'a.txt'), 'utf8'), "the copy's own\n");
    await inCopy.close();
    // the moved folder itself takes its undo along, and leaves a file edited since that the restore did not touch
    await writeFiles(moved, { 'src/b.ts': 'b2, edited after the move\n' });
    const after = await openStore(sb, { roots: [{ name: 'moved', path: moved }], actor: 'test:moved' });
    await after.recovery.undoLastRestore();
    assert.equal(await fs.readFile(path.join(moved, 'a.txt'), 'utf8'), 'a2\n');
    assert.equal(await fs.readFile(path.join(moved, 'src/b.ts'), 'utf8'), 'b2, edited after the move\n');
    await after.close();
    // that undo, redone from the copy, is refused by its own name
    const copyAgain = await openStore(sb, { roots: [{ name: 'copy', path: copy }], actor: 'test:copy' });
    await assert.rejects(copyAgain.recovery.undoLastRestore(), /^StateError: The last undo was made in \S+moved, which is still there, not in this workspace's \S+copy: undo it there\./);
    await copyAgain.close();
  });

  test('undo after the link the restore went through is gone finds the real folder; undo without one of the restore\'s folders is refused', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n' });
    const link = path.join(sb.root, 'lnk');
    await fs.symlink(sb.ws, link);
    const linked = await openStore(sb, { roots: [{ name: 'lnk', path: link }] });
    const point = (await linked.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    await linked.recovery.restore(point.id);
    await linked.close();
    await fs.rm(link);
    const copy = path.join(sb.root, 'copy');
    await writeFiles(copy, { 'a.txt': "the copy's own\n" });
    const inCopy = await openStore(sb, { roots: [{ name: 'copy', path: copy }], actor: 'test:copy' });
    await assert.rejects(inCopy.recovery.undoLastRestore(), new RegExp(`^StateError: The last restore was made in ${sb.ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which is still there`));
    assert.equal(await fs.readFile(path.join(copy, 'a.txt'), 'utf8'), "the copy's own\n");
    await inCopy.close();

    const two = await makeSandbox();
    const other = path.join(two.root, 'other');
    await writeFiles(two.ws, { 'x.txt': 'x1\n' });
    await writeFiles(other, { 'y.txt': 'y1\n' });
    const both = await openStore(two, { roots: [{ name: 'ws', path: two.ws }, { name: 'other', path: other }] });
    const first = (await both.recovery.createRecoveryPoint())!;
    await writeFiles(two.ws, { 'x.txt': 'x2\n' });
    await writeFiles(other, { 'y.txt': 'y2\n' });
    await both.recovery.restore(first.id);
    await both.close();
    const one = await openStore(two, { actor: 'test:one-folder' });
    await assert.rejects(one.recovery.undoLastRestore(), /^StateError: The last restore also changed \S+other, which is still there but not a folder of this workspace/);
    assert.equal(await fs.readFile(path.join(two.ws, 'x.txt'), 'utf8'), 'x1\n', 'nothing undone in part');
    await one.close();
  });

  test('undo follows a folder of a two-folder workspace moved since on the same disk, and keeps edits made since in files the restore did not touch', async () => {
    const sb = await makeSandbox();
    const b = path.join(sb.root, 'b');
    await writeFiles(sb.ws, { 'x.txt': 'x1\n', 'keep.txt': 'k1\n' });
    await writeFiles(b, { 'y.txt': 'y1\n', 'z.txt': 'z1\n' });
    const both = await openStore(sb, { roots: [{ name: 'ws', path: sb.ws }, { name: 'b', path: b }] });
    const first = (await both.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'x.txt': 'x2\n' });
    await writeFiles(b, { 'y.txt': 'y2\n' });
    await both.recovery.restore(first.id);
    await both.close();
    // b renamed on the same disk, its workspace folder with it; edits after the restore, one in a file it did not touch
    const bmoved = path.join(sb.root, 'bmoved');
    await fs.rename(b, bmoved);
    await writeFiles(sb.ws, { 'keep.txt': 'k2, edited after the restore\n' });
    const after = await openStore(sb, { roots: [{ name: 'ws', path: sb.ws }, { name: 'bmoved', path: bmoved }], actor: 'test:moved' });
    const preview = await after.recovery.previewUndo();
    assert.deepEqual(describeMapping(preview.folders), ['point folder b \u2192 workspace folder bmoved (the same folder, renamed or moved)']);
    assert.deepEqual(preview.modify.map((c) => c.path).sort(), ['bmoved/y.txt', 'ws/x.txt']);
    const undone = await after.recovery.undoLastRestore();
    assert.deepEqual([...undone.outcome.written].sort(), ['bmoved/y.txt', 'ws/x.txt']);
    assert.deepEqual(await readFiles(bmoved), { 'y.txt': 'file 644 y2\n', 'z.txt': 'file 644 z1\n' }, 'the moved folder is undone too');
    assert.deepEqual(await readFiles(sb.ws), { 'x.txt': 'file 644 x2\n', 'keep.txt': 'file 644 k2, edited after the restore\n' }, 'the edit since is kept');
    await after.close();
  });

  test('a store kept inside the workspace: a point holding files at its place (made before it was a store, in another store) never writes or deletes in it; the preview says so', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', '.rpstore/points/20991231T000000000Z-aaaaaa.json': '{"schemaVersion":1}\n', '.rpstore/objects/evil.pack': 'not a pack\n' });
    const elsewhere = await openStore(sb);
    const planted = (await elsewhere.recovery.createRecoveryPoint(undefined, { label: 'planted' }))!;
    const bundle = path.join(sb.root, 'planted.rpbundle');
    await exportBundle(elsewhere, bundle, { pointIds: [planted.id] });
    await elsewhere.close();
    await fs.rm(path.join(sb.ws, '.rpstore'), { recursive: true });
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const inside = await openStore(sb, { storeDir: path.join(sb.ws, '.rpstore'), actor: 'test:inside' });
    await inside.recovery.createRecoveryPoint();
    await importBundle(inside, bundle);
    const storeFiles = async () => (await fs.readdir(path.join(sb.ws, '.rpstore'), { recursive: true })).sort();
    const preview = await inside.recovery.previewRestore(planted.id);
    assert.deepEqual(preview.modify.map((c) => c.path), ['ws/a.txt']);
    assert.deepEqual(preview.add, []);
    assert.deepEqual(
      preview.leftAlone.map((l) => l.path).sort(),
      ['ws/.rpstore/objects/evil.pack', 'ws/.rpstore/points/20991231T000000000Z-aaaaaa.json'],
    );
    assert.match(preview.leftAlone[0]!.reason, /inside the recovery point store's own folder/);
    const result = await inside.recovery.restore(planted.id);
    assert.deepEqual([result.outcome.written, result.outcome.removed], [['ws/a.txt'], []]);
    assert.deepEqual(result.outcome.skipped.map((s) => s.path).sort(), ['ws/.rpstore/objects/evil.pack', 'ws/.rpstore/points/20991231T000000000Z-aaaaaa.json']);
    assert.deepEqual((await storeFiles()).filter((f) => f.includes('evil') || f.includes('20991231')), [], 'nothing planted in the store');
    assert.equal((await inside.recovery.listRecoveryPoints()).some((p) => p.id.startsWith('20991231')), false);
    await inside.close();
  });

  test('a restore repeated (an agent\'s retried call) changes nothing and leaves the undo to the restore before it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/a.ts': 'v1\n', 'b.txt': 'b\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'src/a.ts': 'v3, not in any point yet\n' });
    const before = await readFiles(sb.ws);
    const first = await store.recovery.restore(point.id, { paths: ['ws/src/a.ts'] });
    assert.deepEqual(first.outcome.written, ['ws/src/a.ts']);
    const again = await store.recovery.restore(point.id, { paths: ['ws/src/a.ts'] });
    assert.equal(again.outcome.written.length + again.outcome.removed.length, 0);
    assert.equal((await store.state.getState()).lastRestore?.safetyPointId, first.safetyPointId);

    const undone = await store.recovery.undoLastRestore();
    assert.deepEqual(undone.outcome.written, ['ws/src/a.ts']);
    assert.deepEqual(await readFiles(sb.ws), before, 'the edit the first restore replaced is back');
    await store.close();
  });

  test('undo puts back only the files the restore changed: a file it did not touch keeps an edit made after it, and the undo of the undo', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'c.txt': 'c1\n', 'src/d.txt': 'd1\n', 'src/e.txt': 'e1\n' });
    const store = await openStore(sb);
    const atPoint = await readFiles(sb.ws);
    const point = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'b.txt': null, 'new.txt': 'added\n', 'src/d.txt': 'd2\n' });
    const beforeRestore = await readFiles(sb.ws);
    await store.recovery.restore(point.id);
    assert.deepEqual(await readFiles(sb.ws), atPoint);
    // after the restore: files it never touched are edited, one is added; one it wrote is edited again
    await writeFiles(sb.ws, { 'c.txt': 'c2 after the restore\n', 'src/e.txt': 'e2 after the restore\n', 'later.txt': 'later\n', 'a.txt': 'a3 after the restore\n' });
    const afterEdits = await readFiles(sb.ws);

    const undone = await store.recovery.undoLastRestore();
    assert.deepEqual(
      await readFiles(sb.ws),
      { ...beforeRestore, 'c.txt': afterEdits['c.txt'], 'src/e.txt': afterEdits['src/e.txt'], 'later.txt': afterEdits['later.txt'] },
      'the restore\'s four files are as before it; the edits to files it did not touch are kept',
    );
    assert.deepEqual([...undone.outcome.written].sort(), ['ws/a.txt', 'ws/new.txt', 'ws/src/d.txt']);
    assert.deepEqual(undone.outcome.removed, ['ws/b.txt']);

    assert.equal(undone.redo, undefined);
    assert.equal(undone.undid?.id, point.id, 'the undo names the restore it undid');
    // undoing the undo changes back the undo's four files (a.txt's edit made after the restore too), and only them
    await writeFiles(sb.ws, { 'c.txt': 'c3 after the undo\n' });
    const c3 = (await readFiles(sb.ws))['c.txt'];
    const redone = await store.recovery.undoLastRestore();
    assert.equal(redone.redo, true, 'an undo of an undo redoes the restore, and says so');
    const named = (await store.recovery.listRecoveryPoints()).slice(0, 2).map((p) => p.summary);
    const first = `'${point.summary}'`;
    assert.deepEqual(named, [`Redid the restore of ${first} (4 files)`, `Before redoing the restore of ${first}`]);
    assert.deepEqual(await readFiles(sb.ws), { ...afterEdits, 'c.txt': c3 });
    // and on: the undo of the redo undoes the restore again, the next one redoes it
    const again = await store.recovery.undoLastRestore();
    assert.equal(again.redo, undefined, 'an undo of a redo is no redo');
    assert.equal(undoDone(again.undid, again.point), `Undid the restore of ${first} again`);
    const redoneAgain = await store.recovery.undoLastRestore();
    assert.equal(redoneAgain.redo, true);
    const names = (await store.recovery.listRecoveryPoints()).slice(0, 4).map((p) => p.summary);
    assert.deepEqual(names, [`Redid the restore of ${first} (4 files)`, `Before redoing the restore of ${first}`, `Undid the restore of ${first} again (4 files)`, `Before undoing the restore of ${first} again`]);
    assert.deepEqual(await readFiles(sb.ws), { ...afterEdits, 'c.txt': c3 });
    // a safety point restored by hand, then undone: an undo of that restore, not a redo
    const safety = (await store.recovery.listRecoveryPoints()).find((p) => p.trigger === 'before-restore')!;
    await store.recovery.restore(safety.id);
    const byHand = await store.recovery.undoLastRestore();
    assert.equal(byHand.redo, undefined);
    assert.match(undoDone(byHand.undid, byHand.point), /^Undid the restore of the safety point of \d/);
    await store.close();
  });

  test('undo leaves alone a file the restore did not touch but made tracked (a .gitignore it removed); a file the restored .gitignore ignores is not deleted', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'gone.txt': 'g\n', '.gitignore': 'secret/\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    // build/ is ignored from now on; secret/ is no longer ignored, so secret/x.txt is tracked
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'gone.txt': null, '.gitignore': 'build/\n', 'build/out.js': 'built, ignored\n', 'secret/x.txt': 'tracked since\n', 'new.txt': 'new\n' });
    await store.recovery.createRecoveryPoint();
    const beforeRestore = await readFiles(sb.ws);
    const preview = await store.recovery.previewRestore(point.id);
    assert.deepEqual(preview.remove.map((c) => c.path), ['ws/new.txt']);
    assert.deepEqual(preview.leftAlone.map((l) => l.path), ['ws/secret/x.txt'], 'the preview says what the restore then does');
    const restored = await store.recovery.restore(point.id);
    assert.deepEqual(restored.outcome.removed, ['ws/new.txt'], 'a tracked file the point lacks is removed, as git checkout does');
    assert.deepEqual(restored.outcome.skipped.map((s) => s.path), ['ws/secret/x.txt'], 'but not one the .gitignore it puts back ignores');
    assert.match(restored.outcome.skipped[0]!.reason, /\.gitignore the restore puts back ignores it/);
    assert.equal(await fs.readFile(path.join(sb.ws, 'secret/x.txt'), 'utf8'), 'tracked since\n');
    assert.equal(await fs.readFile(path.join(sb.ws, 'build/out.js'), 'utf8'), 'built, ignored\n', 'the restore leaves the file that was ignored');
    // the point the restore left holds build/out.js (no rule ignores it any more): the restore did not write it
    assert.ok(await lookupEntry((await store.persistence.open()).objects, (await store.recovery.listRecoveryPoints())[0]!.root, 'ws/build/out.js'));

    const undone = await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), beforeRestore, 'every file as before the restore, build/out.js kept');
    assert.deepEqual([...undone.outcome.written].sort(), ['ws/.gitignore', 'ws/a.txt', 'ws/new.txt']);
    assert.deepEqual(undone.outcome.removed, ['ws/gone.txt']);
    await store.close();
  });

  test('restoring back and forth over a .gitignore never deletes the files it ignores (a point from before the .gitignore, then the point after it)', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/a.ts': 'a1\n' });
    const store = await openStore(sb);
    const init = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { '.gitignore': 'dist/\n', 'dist/app.js': 'built\n', 'src/a.ts': 'a2\n' });
    const withIgnore = (await store.recovery.createRecoveryPoint())!;
    await store.recovery.restore(init.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'dist/app.js'), 'utf8'), 'built\n', 'the first restore removes the .gitignore, and dist/ becomes tracked');
    const back = await store.recovery.restore(withIgnore.id);
    assert.deepEqual(back.outcome.removed, []);
    assert.deepEqual(back.outcome.skipped.map((s) => s.path), ['ws/dist/app.js']);
    assert.equal(await fs.readFile(path.join(sb.ws, 'dist/app.js'), 'utf8'), 'built\n', 'the build output is still there');
    assert.deepEqual((await readFiles(sb.ws))['.gitignore'], 'file 644 dist/\n');
    await store.close();
  });

  test('undo removes the folders the restore made and keeps a folder that was there, empty, before it (points do not record empty folders)', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'keep/x.txt': 'x\n', 'made/deep/y.txt': 'y\n', 'logs/z.txt': 'z\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    // keep/ and logs/ emptied by hand (the folders stay), made/ removed with its folders
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'keep/x.txt': null, 'logs/z.txt': null, made: null });
    await store.recovery.createRecoveryPoint();
    const beforeRestore = await readFiles(sb.ws);
    assert.equal(beforeRestore.keep, 'dir');
    assert.equal(beforeRestore.made, undefined);

    await store.recovery.restore(point.id, { paths: ['ws/a.txt', 'ws/keep', 'ws/made'] });
    assert.equal((await readFiles(sb.ws))['made/deep/y.txt'], 'file 644 y\n');
    const record = (await store.state.getState()).lastRestore;
    assert.deepEqual(record?.createdFolders, ['ws/made', 'ws/made/deep'], 'the restore records the folders it created, and only those');

    await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), beforeRestore, 'keep/ is there, empty, as before the restore; made/ and made/deep/ are gone');
    await store.close();
  });

  test('a hard link the restore deletes does not make it skip the file it shares an inode with (its change time moved, nothing else)', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'b.txt': 'old\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'b.txt': 'new\n' });
    await fs.link(path.join(sb.ws, 'b.txt'), path.join(sb.ws, 'b-copy.txt'));
    const restored = await store.recovery.restore(point.id);
    assert.deepEqual([restored.outcome.written, restored.outcome.removed, restored.outcome.skipped], [['ws/b.txt'], ['ws/b-copy.txt'], []]);
    assert.deepEqual(await readFiles(sb.ws), { 'b.txt': 'file 644 old\n' });
    await store.close();
  });

  test('a file hard-linked to one outside the workspace: restore and undo replace the workspace name and never write through the link', async () => {
    const sb = await makeSandbox();
    const outside = path.join(sb.canary, 'twin.txt');
    await writeFiles(sb.ws, { 'shared.txt': 'old\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    await fs.rm(path.join(sb.ws, 'shared.txt'));
    await fs.writeFile(outside, 'new, shared with the outside\n');
    await fs.link(outside, path.join(sb.ws, 'shared.txt'));
    await store.recovery.createRecoveryPoint();

    const restored = await store.recovery.restore(point.id);
    assert.deepEqual(restored.outcome.written, ['ws/shared.txt']);
    assert.equal(await fs.readFile(path.join(sb.ws, 'shared.txt'), 'utf8'), 'old\n');
    assert.equal(await fs.readFile(outside, 'utf8'), 'new, shared with the outside\n', 'the outside twin keeps its content');
    assert.equal((await fs.stat(outside)).nlink, 1, 'the link is broken, not written through');

    await store.recovery.undoLastRestore();
    assert.equal(await fs.readFile(path.join(sb.ws, 'shared.txt'), 'utf8'), 'new, shared with the outside\n');
    assert.equal(await fs.readFile(outside, 'utf8'), 'new, shared with the outside\n');
    await fs.writeFile(outside, 'the twin edited after the undo\n');
    assert.equal(await fs.readFile(path.join(sb.ws, 'shared.txt'), 'utf8'), 'new, shared with the outside\n', 'the undo wrote its own file too');
    await store.close();
  });

  test('a file the point holds, gone since, that points leave out now (an exclude, a .gitignore line the restore keeps) is written, and its undo deletes it though no point holds it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'docs/guide/one.md': 'one\n', 'docs/guide/two.md': 'two\n', 'keep.log': 'log\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'docs/guide/one.md': null, 'docs/guide/two.md': null, 'keep.log': null, '.gitignore': '*.log\n' });
    await fs.rm(path.join(sb.ws, 'docs'), { recursive: true });
    store.persistence.configure({ rules: { excludes: ['docs/**'] } });
    await store.recovery.createRecoveryPoint();
    // the .gitignore kept (only these asked for): keep.log stays ignored
    const asked = ['ws/a.txt', 'ws/docs', 'ws/keep.log'];
    const preview = await store.recovery.previewRestore(point.id, asked);
    assert.deepEqual(preview.add.map((c) => c.path).sort(), ['ws/docs/guide/one.md', 'ws/docs/guide/two.md', 'ws/keep.log']);
    const result = await store.recovery.restore(point.id, { paths: asked });
    assert.deepEqual(result.outcome.written.sort(), ['ws/a.txt', 'ws/docs/guide/one.md', 'ws/docs/guide/two.md', 'ws/keep.log']);
    const last = (await store.state.getState()).lastRestore!;
    assert.deepEqual(last.untrackedWrites!.map((w) => w.path).sort(), ['ws/docs/guide/one.md', 'ws/docs/guide/two.md', 'ws/keep.log'], 'the files no point of its result holds');
    // one of them edited since: the undo leaves it, and says so
    await writeFiles(sb.ws, { 'docs/guide/two.md': 'two, edited since\n' });
    const undoPreview = await store.recovery.previewUndo();
    assert.deepEqual(undoPreview.remove.map((c) => c.path).sort(), ['ws/docs/guide/one.md', 'ws/keep.log']);
    assert.deepEqual(undoPreview.editedSince, [], 'no question: the files it deletes hold what the restore wrote');
    const undo = await store.recovery.undoLastRestore();
    assert.deepEqual(undo.outcome.removed.sort(), ['ws/docs/guide/one.md', 'ws/keep.log']);
    assert.deepEqual(undo.outcome.written, ['ws/a.txt']);
    assert.deepEqual(undo.outcome.skipped.map((s) => [s.path, /changed since/.test(s.reason)]), [['ws/docs/guide/two.md', true]]);
    assert.equal(await exists(path.join(sb.ws, 'keep.log')), false);
    assert.equal(await exists(path.join(sb.ws, 'docs/guide/one.md')), false);
    assert.equal(await fs.readFile(path.join(sb.ws, 'docs/guide/two.md'), 'utf8'), 'two, edited since\n');
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a2\n');
  });

  test('undo of a restore that replaced a link with the point\'s folder, only some of its files asked for: the link comes back', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'kept/data.txt': 'data\n', 'kept/other.txt': 'other\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    const outside = path.join(sb.root, 'outside');
    await fs.mkdir(outside);
    await fs.rm(path.join(sb.ws, 'kept'), { recursive: true });
    await fs.symlink(outside, path.join(sb.ws, 'kept'));
    await store.recovery.createRecoveryPoint();
    const result = await store.recovery.restore(point.id, { paths: ['ws/kept', 'ws/kept/data.txt'], within: new Set(['ws/kept', 'ws/kept/data.txt']) });
    assert.deepEqual([result.outcome.written, result.outcome.removed], [['ws/kept/data.txt'], ['ws/kept']]);
    const undo = await store.recovery.undoLastRestore();
    assert.deepEqual([undo.outcome.written, undo.outcome.removed], [['ws/kept'], ['ws/kept/data.txt']]);
    assert.equal(await fs.readlink(path.join(sb.ws, 'kept')), outside, 'the link is back');
  });

  test('the preview leaves out what the restore will leave as it is: files ignored since the point, a folder in the way', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.js': 'a1\n', 'dist/o1.js': 'out 1\n', 'dist/o2.js': 'out 2\n', cache: 'a file\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    // dist/ is ignored from now on and rebuilt; cache becomes an ignored folder; a.js is edited
    await writeFiles(sb.ws, { '.gitignore': 'dist/\ncache/\n', 'dist/o2.js': 'out 2 rebuilt\n', cache: null, 'cache/entry': 'cached\n', 'a.js': 'a2\n' });
    await store.recovery.createRecoveryPoint();
    const preview = await store.recovery.previewRestore(point.id);
    const again = "; this restore also sets the .gitignore above it as the point had it: if that tracks this file, restoring again replaces it (its content now kept first in that restore's safety point)";
    assert.deepEqual(preview.add, []);
    assert.deepEqual(preview.modify.map((c) => c.path), ['ws/a.js']);
    assert.deepEqual(preview.remove.map((c) => c.path), ['ws/.gitignore']);
    // dist/o1.js, ignored, still holds what the point does: nothing to do there, and nothing said
    assert.deepEqual(preview.leftAlone, [
      { path: 'ws/cache', reason: 'a folder with untracked files is in the way' },
      { path: 'ws/dist/o2.js', reason: `a file that is not tracked (ignored, excluded or over the size limit) is in the way${again}` },
    ]);
    // a one-file preview of a file in the way changes nothing and says why
    const one = await store.recovery.previewRestore(point.id, ['ws/dist/o2.js']);
    assert.deepEqual([one.add.length, one.modify.length, one.remove.length, one.leftAlone.map((l) => l.path)], [0, 0, 0, ['ws/dist/o2.js']]);
    const result = await store.recovery.restore(point.id);
    assert.deepEqual(result.outcome.skipped, preview.leftAlone, 'the restore leaves what its preview said it would');
    assert.deepEqual([...result.outcome.written, ...result.outcome.removed].sort(), ['ws/.gitignore', 'ws/a.js']);
    assert.equal(await fs.readFile(path.join(sb.ws, 'dist/o2.js'), 'utf8'), 'out 2 rebuilt\n');
    // as the reason says: restored again (the .gitignore gone), the file is replaced, its content kept in the safety point
    const second = await store.recovery.restore(point.id);
    assert.ok(second.outcome.written.includes('ws/dist/o2.js'), second.outcome.written.join(' '));
    assert.equal(await fs.readFile(path.join(sb.ws, 'dist/o2.js'), 'utf8'), 'out 2\n');
    const safety = (await store.recovery.listRecoveryPoints()).find((p) => p.id === second.safetyPointId)!;
    assert.equal((await lookupEntry(await store.persistence.objects(), safety.root, 'ws/dist/o2.js'))?.kind, 'f', 'the rebuilt file is in the safety point');
    await store.close();
  });

  test('a file that exists but is not tracked is never overwritten; ignored files are never deleted', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'keep.txt': 'tracked\n', 'gen.txt': 'generated v1\n', '.gitignore': '*.log\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    assert.equal(point.fileCount, 3);
    // gen.txt becomes ignored and changes; a new ignored file appears where nothing was tracked.
    await writeFiles(sb.ws, { '.gitignore': '*.log\ngen.txt\n', 'gen.txt': 'generated v2, precious\n', 'x.log': 'log\n', 'keep.txt': 'edited\n' });
    const result = await store.recovery.restore(point.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'gen.txt'), 'utf8'), 'generated v2, precious\n');
    assert.deepEqual(
      result.outcome.skipped.map((s) => s.path),
      ['ws/gen.txt'],
    );
    assert.match(result.outcome.skipped[0]!.reason, /not tracked/);
    assert.equal(await fs.readFile(path.join(sb.ws, 'x.log'), 'utf8'), 'log\n');
    assert.equal(await fs.readFile(path.join(sb.ws, 'keep.txt'), 'utf8'), 'tracked\n');
    assert.equal(await fs.readFile(path.join(sb.ws, '.gitignore'), 'utf8'), '*.log\n');
  });

  test('the preview names the folders whose repository is on another branch than when the point was made (multi-root)', async () => {
    const sb = await makeSandbox();
    const app = path.join(sb.ws, 'app');
    const lib = path.join(sb.ws, 'lib');
    await writeFiles(app, { '.git/HEAD': 'ref: refs/heads/main\n', 'a.txt': 'a\n' });
    await writeFiles(lib, { '.git/HEAD': 'ref: refs/heads/main\n', 'b.txt': 'b\n' });
    const store = await openStore(sb, { roots: [{ name: 'app', path: app }, { name: 'lib', path: lib }] });
    const point = (await store.recovery.createRecoveryPoint())!;
    assert.deepEqual((await store.recovery.previewRestore(point.id)).headsMoved, []);
    const commit = 'c'.repeat(40);
    await writeFiles(app, { '.git/HEAD': 'ref: refs/heads/feature\n', 'a.txt': 'a on feature\n' });
    await writeFiles(lib, { '.git/HEAD': `${commit}\n` });
    assert.deepEqual((await store.recovery.previewRestore(point.id)).headsMoved, [
      { folder: 'app', then: { branch: 'main' }, now: { branch: 'feature' } },
      { folder: 'lib', then: { branch: 'main' }, now: { commit } },
    ]);
    assert.equal(
      headsMovedNote((await store.recovery.previewRestore(point.id)).headsMoved, false),
      'app was on branch main when the point was made and is on branch feature now; lib was on branch main when the point was made and is at commit ccccccc now: the restore changes files, not branches',
    );
    await writeFiles(lib, { '.git': null });
    assert.deepEqual((await store.recovery.previewRestore(point.id)).headsMoved.map((m) => m.folder), ['app'], 'a folder no longer in a repository is not named');
    await store.close();
  });

  test('multi-root: each folder is captured under its name; restoring one folder leaves the other alone', async () => {
    const sb = await makeSandbox();
    const one = path.join(sb.ws, 'one');
    const two = path.join(sb.ws, 'two');
    await writeFiles(one, { 'a.txt': 'one a\n' });
    await writeFiles(two, { 'a.txt': 'two a\n', 'sub/b.txt': 'two b\n' });
    const store = await openStore(sb, { roots: [{ name: 'one', path: one }, { name: 'two', path: two }] });
    const point = (await store.recovery.createRecoveryPoint())!;
    assert.equal(point.fileCount, 3);
    assert.deepEqual(
      (await store.recovery.changedFiles(point.id)).added.map((c) => c.path),
      ['one/a.txt', 'two/a.txt', 'two/sub/b.txt'],
    );
    await writeFiles(one, { 'a.txt': 'one edited\n' });
    await writeFiles(two, { 'a.txt': 'two edited\n', sub: null });
    await store.recovery.restore(point.id, { paths: ['two'] });
    assert.deepEqual(await readFiles(two), { 'a.txt': 'file 644 two a\n', sub: 'dir', 'sub/b.txt': 'file 644 two b\n' });
    assert.equal(await fs.readFile(path.join(one, 'a.txt'), 'utf8'), 'one edited\n');
    await writeFiles(two, { 'a.txt': 'two edited again\n', 'new.txt': 'new\n' });
    const whole = await store.recovery.restore(point.id);
    assert.equal(await fs.readFile(path.join(one, 'a.txt'), 'utf8'), 'one a\n');
    assert.deepEqual(await readFiles(two), { 'a.txt': 'file 644 two a\n', sub: 'dir', 'sub/b.txt': 'file 644 two b\n' });
    const result = (await store.persistence.loadSnapshot(whole.restoredPointId!))!;
    assert.equal(result.root, point.root, 'the whole point, in both folders: the result point is its tree');
    assert.equal(result.root, await store.persistence.withCurrentTree(async (_objects, root) => root), 'and what a scan of both folders finds');
    assert.equal(result.fileCount, 3);
  });

  test('names up to 255 bytes of multi-byte characters are restored: the temporary name fits the limit too (#9)', async () => {
    const sb = await makeSandbox();
    const names = ['\u65e5'.repeat(85), '\u00e9'.repeat(127), `${'\u{1F600}'.repeat(63)}abc`, 'a'.repeat(255)];
    for (const name of names) assert.ok(Buffer.byteLength(name) >= 250 && Buffer.byteLength(name) <= 255, `${name.length} characters: ${Buffer.byteLength(name)} bytes`);
    await writeFiles(sb.ws, Object.fromEntries(names.map((name, i) => [`dir/${name}`, `version 1 of name ${i}\n`])));
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    const atPoint = await readFiles(sb.ws);
    await writeFiles(sb.ws, Object.fromEntries(names.map((name, i) => [`dir/${name}`, i % 2 === 0 ? null : `version 2 of name ${i}\n`])));
    const result = await store.recovery.restore(point.id);
    assert.deepEqual(result.outcome.skipped, []);
    assert.equal(result.outcome.written.length, names.length);
    assert.deepEqual(await readFiles(sb.ws), atPoint, 'every long name back byte for byte, no temporary file left');
    for (const name of names) {
      const temp = path.basename(restoreTempName(name));
      assert.ok(Buffer.byteLength(temp) <= 255 && isRestoreTempName(temp), `${temp}: ${Buffer.byteLength(temp)} bytes, recognised as a restore's temporary file`);
      assert.ok(!temp.includes('\ufffd'), 'cut on a character boundary');
    }
  });

  test('files on disk and unchanged since before the point, which did not hold them (ignored, excluded then), are left; files renamed or made since are deleted', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { '.gitignore': '*.log\n', 'src/app.ts': 'app\n', 'build.log': 'ignored then\n', 'docs/notes.md': 'excluded then\n', 'old-name.ts': 'renamed later\n' });
    // the file times are older than the point by more than their clock's coarseness
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const strict = await openStore(sb, { rules: { excludes: ['**/*.md'] } });
    const point = (await strict.recovery.createRecoveryPoint())!;
    await strict.close();
    // the rules loosened: the ignored and excluded files are tracked from now on
    const loose = await openStore(sb, { rules: { respectGitignore: false, excludes: [] } });
    await fs.rename(path.join(sb.ws, 'old-name.ts'), path.join(sb.ws, 'new-name.ts'));
    await writeFiles(sb.ws, { 'made-since.ts': 'new\n' });
    const later = (await loose.recovery.createRecoveryPoint())!;
    assert.ok(['ws/build.log', 'ws/docs/notes.md'].every((p) => later.nowTracked?.includes(p)), 'tracked from this point on');

    const preview = await loose.recovery.previewRestore(point.id);
    assert.deepEqual(preview.remove.map((c) => c.path).sort(), ['ws/made-since.ts', 'ws/new-name.ts']);
    assert.deepEqual(
      preview.leftAlone.map((l) => [l.path, l.reason]).sort(),
      ['ws/build.log', 'ws/docs/notes.md'].map((p) => [p, 'it has not changed since before the point was made, which did not hold it (ignored or excluded then): left as it is']),
    );
    const result = await loose.recovery.restore(point.id);
    assert.deepEqual(result.outcome.removed.sort(), ['ws/made-since.ts', 'ws/new-name.ts']);
    const files = await readFiles(sb.ws);
    assert.deepEqual([files['build.log'], files['docs/notes.md'], files['old-name.ts'], files['new-name.ts'], files['made-since.ts']], ['file 644 ignored then\n', 'file 644 excluded then\n', 'file 644 renamed later\n', undefined, undefined]);
    // changed since the point, but ignored by the point's .gitignore: still the point's to leave alone
    await loose.recovery.undoLastRestore();
    await fs.appendFile(path.join(sb.ws, 'build.log'), 'appended since\n');
    await fs.appendFile(path.join(sb.ws, 'docs/notes.md'), 'edited since\n');
    const again = await loose.recovery.previewRestore(point.id);
    assert.deepEqual(again.leftAlone.find((l) => l.path === 'ws/build.log')?.reason, 'it was on disk when the point was made, whose .gitignore ignores it: left as it is');
    // excluded by a setting then (not kept in the point) and changed since: the point's word stands
    assert.ok(again.remove.some((c) => c.path === 'ws/docs/notes.md'), 'a file changed since, which no .gitignore of the point ignores, is deleted as the point says');
    await loose.close();
  });

  test('a point dated after now (a clock that was ahead, another machine\'s): file times tell nothing, its deletions stand', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'old.txt': 'there long before\n' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const plan = { add: [], modify: [], remove: [{ path: 'ws/old.txt' }] };
    const roots = [{ name: 'ws', path: sb.ws }];
    const at = (ms: number, idMs = ms) => ({ id: `${new Date(idMs).toISOString().replace(/[-:.]/g, '')}-abcdef`, createdAt: new Date(ms).toISOString() });
    const rules = { respectGitignore: true, excludes: [], excludeSecrets: true, maxFileSize: 1024 };
    const objects = {} as never; // not read: no file here needs the point's .gitignore
    assert.deepEqual((await onDiskWhenPointWasMade(objects, roots, plan, rules, at(Date.now()))).map((l) => l.path), ['ws/old.txt']);
    assert.deepEqual(await onDiskWhenPointWasMade(objects, roots, plan, rules, at(Date.now() + 120_000)), []);
    // made now, after the clock came back, with an id later than its parent's made while it was ahead: its time is now's
    assert.deepEqual((await onDiskWhenPointWasMade(objects, roots, plan, rules, at(Date.now(), Date.now() + 3 * 3_600_000))).map((l) => l.path), ['ws/old.txt']);
  });

  test('restore of an unknown point is SnapshotNotFound and changes nothing', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    await assert.rejects(store.recovery.restore('20990101T000000000Z-abcdef'), isKind('SnapshotNotFound'));
    await assert.rejects(store.recovery.restore('not-an-id'), isKind('SnapshotNotFound'));
    await assert.rejects(store.recovery.undoLastRestore(), isKind('InvalidState'), 'nothing to undo');
    assert.deepEqual(await store.recovery.listRecoveryPoints(), []);
  });

  test('a restore that fails part way (a damaged file content) can still be undone', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'A original\n', 'b.txt': 'B original '.repeat(20), 'gone.txt': 'to be removed\n' });
    const store = await openStore(sb);
    await writeFiles(sb.ws, { 'gone.txt': null });
    const point = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'A edited\n', 'b.txt': 'B edited\n', 'extra.txt': 'added later\n' });
    const before = await readFiles(sb.ws);
    // Damage b.txt's content in the point's pack once the restore checked it (a damaged content it finds first is left alone).
    const b = await lookupEntry(await store.persistence.objects(), point.root, 'ws/b.txt');
    assert.ok(b);
    const { file, entry } = await locateObject(sb.store, b.hash);
    const fresh = await openStore(sb, { actor: 'test:fresh' });

    await assert.rejects(withoutReadAhead(() => fresh.recovery.restore(point.id, { onProgress: damageWhenRestoring(file, entry) })), isKind('SnapshotLoadError'));
    // However far it got, undo brings back the files as they were before it started.
    await fresh.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), before);
  });
});

/** `run` with the restore reading each file's content from the store as it writes it (not the copy its check read ahead). */
async function withoutReadAhead<T>(run: () => Promise<T>): Promise<T> {
  const kept = contentReadAhead.maxBytes;
  contentReadAhead.maxBytes = 0;
  try {
    return await run();
  } finally {
    contentReadAhead.maxBytes = kept;
  }
}

/** A restore's progress callback that damages one stored object (a bit flip) as the restore starts writing, after its checks. */
function damageWhenRestoring(pack: string, entry: { offset: number; storedSize: number }): (message: string) => void {
  return (message) => {
    if (!message.startsWith('Restoring ')) return;
    const bytes = fsSync.readFileSync(pack);
    const at = entry.offset + Math.floor(entry.storedSize / 2);
    bytes[at] = bytes[at]! ^ 0x55;
    fsSync.writeFileSync(pack, bytes);
  };
}

describe('damaged content', () => {
  test('a preview names the files whose stored content is damaged, as left alone; the restore leaves them alike and restores the rest', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'A original\n', 'b.txt': 'B original '.repeat(20), 'copy-of-b.txt': 'B original '.repeat(20) });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'A edited\n', 'b.txt': 'B edited\n', 'copy-of-b.txt': null });
    await store.recovery.createRecoveryPoint();
    const b = await lookupEntry(await store.persistence.objects(), point.root, 'ws/b.txt');
    await damageObject(sb.store, b!.hash);
    const fresh = await openStore(sb, { actor: 'test:fresh' });

    const preview = await fresh.recovery.previewRestore(point.id);
    assert.deepEqual(preview.modify.map((c) => c.path), ['ws/a.txt']);
    assert.deepEqual(preview.add, []);
    // in the plan's order: files to add, then files to overwrite
    assert.deepEqual(preview.leftAlone, [
      { path: 'ws/copy-of-b.txt', reason: LOST_CONTENT },
      { path: 'ws/b.txt', reason: LOST_CONTENT },
    ]);
    const done = await fresh.recovery.restore(point.id);
    assert.deepEqual(done.outcome.written, ['ws/a.txt']);
    assert.deepEqual(done.outcome.skipped, preview.leftAlone, 'the restore leaves what its preview said, for the same reason');
    assert.deepEqual(await Promise.all(['a.txt', 'b.txt'].map((name) => fs.readFile(path.join(sb.ws, name), 'utf8'))), ['A original\n', 'B edited\n']);
    assert.equal(await exists(path.join(sb.ws, 'copy-of-b.txt')), false);
  });
});

// ── hostile points ─────────────────────────────────────────────────────────

/** Puts one tree object exactly as given (no sorting, no name checks) and returns its hash. */
async function rawTree(store: RecoveryStore, entries: unknown[]): Promise<string> {
  const objects = await store.persistence.objects();
  return store.persistence.lock.run(async () => {
    const batch = objects.beginBatch();
    const hash = await batch.putTree({ v: 1, e: entries as TreeEntry[] });
    await batch.commit();
    return hash;
  });
}

/** Puts a point whose root tree holds `ws` → the given entries (checked by nothing), with a hand-written manifest. */
async function hostilePoint(store: RecoveryStore, sb: Sandbox, wsEntries: unknown[], extraRootEntries: unknown[] = []): Promise<string> {
  const ws = await rawTree(store, wsEntries);
  const root = await rawTree(store, [['ws', 'd', ws, 0, 0], ...extraRootEntries].sort((a, b) => ((a as string[])[0]! < (b as string[])[0]! ? -1 : 1)));
  const id = pointIdAt(Date.now() - 60_000);
  await writeManifest(sb.store, manifestFor(root, { id, roots: [{ name: 'ws', path: sb.ws }] }));
  return id;
}

async function blob(store: RecoveryStore, content: string | Buffer): Promise<string> {
  const objects = await store.persistence.objects();
  return store.persistence.lock.run(async () => {
    const batch = objects.beginBatch();
    const hash = await batch.putBlob(Buffer.from(content));
    await batch.commit();
    return hash;
  });
}

describe('a preview says what the restore does', () => {
  test('a folder replaced by a link to a folder outside: the whole restore removes the link and writes the files, a restore of one file under it is left, and the previews say the same', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'dir/k.txt': 'keep\n', 'dir/sub/s.txt': 's\n' });
    const original = await readFiles(sb.ws);
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    const outside = path.join(sb.root, 'outside');
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, 'k.txt'), 'OUTSIDE\n');
    await fs.rm(path.join(sb.ws, 'dir'), { recursive: true });
    await fs.symlink(outside, path.join(sb.ws, 'dir'));
    await store.recovery.createRecoveryPoint();

    const one = await store.recovery.previewRestore(point.id, ['ws/dir/k.txt']);
    const oneDone = await store.recovery.restore(point.id, { paths: ['ws/dir/k.txt'] });
    assert.deepEqual(one.leftAlone, oneDone.outcome.skipped, 'the file under the link: left, for the same reason');
    assert.match(one.leftAlone[0]!.reason, /is a symbolic link/);

    const whole = await store.recovery.previewRestore(point.id);
    assert.deepEqual(whole.leftAlone, []);
    const done = await store.recovery.restore(point.id);
    assert.deepEqual([...done.outcome.written].sort(), [...whole.add, ...whole.modify].map((c) => c.path).sort(), 'it writes what the preview listed');
    assert.deepEqual(await readFiles(sb.ws), original);
    assert.equal(await fs.readFile(path.join(outside, 'k.txt'), 'utf8'), 'OUTSIDE\n', 'nothing written outside');
  });
});

describe('a restore that fails part way', () => {
  test('says the files it changed stay changed and how to put them back; the undo does', async () => {
    const sb = await makeSandbox();
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}.txt`, `version one of ${i}\n`]));
    await writeFiles(sb.ws, files);
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    // the last file's content damaged in its pack once the restore checked it (still there: the restore reads it when it gets to it)
    const { file, entry } = await locateObject(sb.store, (await lookupEntry(await store.persistence.objects(), point.root, 'ws/f5.txt'))!.hash);
    await writeFiles(sb.ws, Object.fromEntries(Object.keys(files).map((name) => [name, `edited ${name}\n`])));
    const fresh = await openStore(sb);
    const before = await readFiles(sb.ws);
    await assert.rejects(withoutReadAhead(() => fresh.recovery.restore(point.id, { onProgress: damageWhenRestoring(file, entry) })), (error: unknown) => {
      assert.ok(error instanceof StateError);
      assert.equal(error.kind, 'SnapshotLoadError', 'the kind of the failure is kept');
      assert.match(error.message, /The restore stopped part way(, after writing \d+ files?)?: Undo Last Restore \(recovery-points undo\) puts back every file it changed \(safety point \S+\)\./);
      return true;
    });
    await fresh.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), before, 'the undo puts every file back as it was before the restore');
  });
});

describe('restore of hostile points never writes outside the workspace', () => {
  const unsafeNames = ['..', '.', '../x', '../canary/canary.txt', '/etc/x', 'a/b', 'nul\0byte', 'back\\slash', ''];
  for (const name of unsafeNames) {
    test(`a tree naming ${JSON.stringify(name)} is refused`, async () => {
      const sb = await makeSandbox();
      await writeFiles(sb.ws, { 'a.txt': 'a\n' });
      const store = await openStore(sb);
      await store.recovery.createRecoveryPoint();
      const evil = await blob(store, 'pwned\n');
      const id = await hostilePoint(store, sb, [[name, 'f', evil, 6, 0o644]]);
      const before = await readFiles(sb.ws);
      await assert.rejects(store.recovery.restore(id), isKind('SnapshotLoadError'));
      await assert.rejects(store.recovery.restore(id, { paths: ['ws/a.txt'] }), isKind('SnapshotLoadError'));
      assert.deepEqual(await readFiles(sb.ws), before);
      await canaryIntact(sb);
      const report = await store.recovery.verify();
      assert.deepEqual(
        report.brokenPoints.map((p) => p.id),
        [id],
        'verify names the hostile point',
      );
    });
  }

  test('duplicate names in a tree are refused', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const evil = await blob(store, 'x');
    const id = await hostilePoint(store, sb, [
      ['a.txt', 'f', evil, 1, 0o644],
      ['a.txt', 'd', evil, 1, 0],
    ]);
    await assert.rejects(store.recovery.restore(id), isKind('SnapshotLoadError'));
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a\n');
    await canaryIntact(sb);
  });

  test('a root entry that is not a workspace folder, or a root tree naming "..", is never written', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const evil = await blob(store, 'pwned\n');
    const otherTree = await rawTree(store, [['canary.txt', 'f', evil, 6, 0o644]]);
    const id = await hostilePoint(store, sb, [['a.txt', 'f', evil, 6, 0o644]], [['canary', 'd', otherTree, 6, 0]]);
    const result = await store.recovery.restore(id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'pwned\n', 'the workspace part is restored');
    assert.deepEqual(
      result.outcome.skipped.map((s) => s.path),
      ['canary'],
      'a point folder that no workspace folder stands for is left out',
    );
    await canaryIntact(sb);

    const dotdot = await hostilePoint(store, sb, [['a.txt', 'f', evil, 6, 0o644]], [['..', 'd', otherTree, 6, 0]]);
    await assert.rejects(store.recovery.restore(dotdot), isKind('SnapshotLoadError'));
    await canaryIntact(sb);
  });

  test('a path through a symbolic link in the workspace that points outside is skipped', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', '.gitignore': 'out\n', out: { symlink: '../canary' } });
    const store = await openStore(sb);
    const evil = await blob(store, 'pwned\n');
    const outTree = await rawTree(store, [['canary.txt', 'f', evil, 6, 0o644], ['new.txt', 'f', evil, 6, 0o644]]);
    const id = await hostilePoint(store, sb, [
      ['.gitignore', 'f', await blob(store, 'out\n'), 4, 0o644],
      ['a.txt', 'f', evil, 6, 0o644],
      ['out', 'd', outTree, 12, 0],
    ]);
    const result = await store.recovery.restore(id);
    assert.deepEqual(result.outcome.skipped.map((s) => s.path).sort(), ['ws/out/canary.txt', 'ws/out/new.txt']);
    assert.match(result.outcome.skipped[0]!.reason, /symbolic link/);
    assert.equal((await fs.lstat(path.join(sb.ws, 'out'))).isSymbolicLink(), true);
    await canaryIntact(sb);
  });

  test('a tracked link replaced by a folder in the point: the link is removed, never written through', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', out: { symlink: '../canary' } });
    const store = await openStore(sb);
    const evil = await blob(store, 'pwned\n');
    const outTree = await rawTree(store, [['canary.txt', 'f', evil, 6, 0o644]]);
    const id = await hostilePoint(store, sb, [
      ['a.txt', 'f', evil, 6, 0o644],
      ['out', 'd', outTree, 6, 0],
    ]);
    const before = await readFiles(sb.ws);
    await store.recovery.restore(id);
    assert.equal((await fs.lstat(path.join(sb.ws, 'out'))).isDirectory(), true);
    assert.equal(await fs.readFile(path.join(sb.ws, 'out/canary.txt'), 'utf8'), 'pwned\n');
    await canaryIntact(sb);
    await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(sb.ws), before, 'undo brings the link back');
    await canaryIntact(sb);
  });

  test('names with a newline stay inside the workspace; links to outside are created as links only', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const evil = await blob(store, 'pwned\n');
    const target = await blob(store, '../canary/canary.txt');
    const id = await hostilePoint(store, sb, [
      ['a.txt', 'f', evil, 6, 0o644],
      ['escape', 'l', target, 20, 0],
      ['evil\nname', 'f', evil, 6, 0o644],
    ]);
    await store.recovery.restore(id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'evil\nname'), 'utf8'), 'pwned\n');
    assert.equal(await fs.readlink(path.join(sb.ws, 'escape')), '../canary/canary.txt');
    await canaryIntact(sb);
    // A later point writing below that link is refused (the link is an ancestor).
    const outTree = await rawTree(store, [['x', 'f', evil, 6, 0o644]]);
    const through = await hostilePoint(store, sb, [
      ['a.txt', 'f', evil, 6, 0o644],
      ['escape', 'd', outTree, 6, 0],
    ]);
    const result = await store.recovery.restore(through);
    // The link is tracked now, so the point replaces it by a real folder: removed, never followed.
    assert.equal((await fs.lstat(path.join(sb.ws, 'escape'))).isDirectory(), true);
    assert.deepEqual(result.outcome.written.sort(), ['ws/escape/x']);
    await canaryIntact(sb);
  });

  test('a point cannot plant files in .git (or other folders points never capture), nor set special mode bits', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', '.git/HEAD': 'ref: refs/heads/main\n' });
    const store = await openStore(sb);
    const hook = await blob(store, '#!/bin/sh\necho pwned\n');
    const hooks = await rawTree(store, [['pre-commit', 'f', hook, 20, 0o755]]);
    const gitTree = await rawTree(store, [['HEAD', 'f', hook, 20, 0o644], ['hooks', 'd', hooks, 20, 0]]);
    const id = await hostilePoint(store, sb, [
      ['.git', 'd', gitTree, 40, 0],
      ['a.txt', 'f', hook, 20, 0o4755],
    ]);
    const result = await store.recovery.restore(id);
    assert.equal(await exists(path.join(sb.ws, '.git/hooks/pre-commit')), false, 'no hook planted');
    assert.equal(await fs.readFile(path.join(sb.ws, '.git/HEAD'), 'utf8'), 'ref: refs/heads/main\n');
    assert.deepEqual(result.outcome.skipped.map((s) => s.path).sort(), ['ws/.git/HEAD', 'ws/.git/hooks/pre-commit']);
    const mode = (await fs.stat(path.join(sb.ws, 'a.txt'))).mode & 0o7777;
    assert.equal(mode, 0o755, 'setuid is not restored');
  });

  test('a hand-written manifest with a wrong id, schema or root hash is not a point', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const real = (await store.recovery.createRecoveryPoint())!;
    const missingRoot = pointIdAt(Date.now() - 5000);
    await writeManifest(sb.store, manifestFor('f'.repeat(64), { id: missingRoot }));
    await writeManifest(sb.store, { ...manifestFor(real.root), root: '../../etc/passwd' }, pointIdAt(Date.now() - 4000));
    await writeManifest(sb.store, { hello: 'world' }, pointIdAt(Date.now() - 3000));
    const list = await store.recovery.listRecoveryPoints();
    assert.deepEqual(
      list.map((p) => p.id).sort(),
      [missingRoot, real.id].sort(),
      'only manifests that pass the schema are listed',
    );
    await assert.rejects(store.recovery.restore(missingRoot), isKind('SnapshotLoadError'));
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a\n');
  });
});

// ── random workspaces ───────────────────────────────────────────────────────

type Entry = { kind: 'f'; content: string; mode: number } | { kind: 'l'; target: string };

/** Paths over a tiny alphabet so that files, folders and links collide often (a file where a folder was, …). */
const pathArb = fc
  .array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('/'));
const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ kind: fc.constant('f' as const), content: fc.string({ maxLength: 20 }), mode: fc.constantFrom(0o644, 0o755, 0o600) }),
  fc.record({ kind: fc.constant('l' as const), target: fc.constantFrom('a', 'b/c', '../canary/canary.txt', 'missing') }),
);
/** A consistent workspace: no path is both a file and a folder. */
const workspaceArb = fc.dictionary(pathArb, entryArb, { maxKeys: 8 }).map((entries) => {
  const out: Record<string, Entry> = {};
  for (const [p, e] of Object.entries(entries).sort(([a], [b]) => a.length - b.length)) {
    const ancestors = p.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    if (ancestors.some((a) => a in out)) continue;
    if (Object.keys(out).some((q) => q.startsWith(`${p}/`))) continue;
    out[p] = e;
  }
  return out;
});

async function writeWorkspace(ws: string, entries: Record<string, Entry>): Promise<void> {
  for (const name of await fs.readdir(ws)) if (name !== '.env') await fs.rm(path.join(ws, name), { recursive: true, force: true });
  await writeFiles(
    ws,
    Object.fromEntries(Object.entries(entries).map(([p, e]) => [p, e.kind === 'f' ? { content: e.content, mode: e.mode } : { symlink: e.target }])),
  );
}

describe('restore and undo on random workspaces', () => {
  test('property: restoring a point gives exactly its files; undo gives exactly the files before', async () => {
    await fc.assert(
      fc.asyncProperty(workspaceArb, workspaceArb, fc.boolean(), async (first, second, partial) => {
        const sb = await makeSandbox();
        try {
          await writeFiles(sb.ws, { '.env': 'SECRET=keep\n' });
          await writeWorkspace(sb.ws, first);
          const store = await RecoveryStore.open({ storeDir: sb.store, roots: [{ name: 'ws', path: sb.ws }] }); // closed below, before its folder goes
          const atPoint = await readFiles(sb.ws);
          const point = (await store.recovery.createRecoveryPoint())!;
          await writeWorkspace(sb.ws, second);
          await writeFiles(sb.ws, { '.env': 'SECRET=changed\n' });
          const before = await readFiles(sb.ws);
          const paths = partial ? ['ws/a'] : undefined;
          const result = await store.recovery.restore(point.id, { paths });
          const after = await readFiles(sb.ws);
          if (result.restoredPointId) {
            const recorded = (await store.persistence.loadSnapshot(result.restoredPointId))!.root;
            assert.equal(recorded, await store.persistence.withCurrentTree(async (_objects, root) => root), 'the result point holds what a scan finds');
          }
          const expected = partial
            ? { ...Object.fromEntries(Object.entries(before).filter(([p]) => p !== 'a' && !p.startsWith('a/'))), ...Object.fromEntries(Object.entries(atPoint).filter(([p]) => p === 'a' || p.startsWith('a/'))) }
            : { ...atPoint, '.env': before['.env']! };
          assert.deepEqual(after, expected);
          await store.recovery.undoLastRestore();
          assert.deepEqual(await readFiles(sb.ws), before);
          await canaryIntact(sb);
          await store.close();
        } finally {
          await sb.cleanup();
        }
      }),
      { numRuns: Number(process.env.RP_PROPERTY_RUNS ?? 20) },
    );
  });
});

describe('a restore interrupted while it wrote files', () => {
  test('is told by the newest point, which holds its temporary files, with the safety point made before it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'b.txt': 'b2\n' });
    assert.equal(await store.recovery.interruptedRestore(), undefined, 'no point shows one');
    const safety = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'before-restore' }))!;
    // killed after writing a.txt back, with b.txt's temporary file written and not yet renamed
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', '.b.txt.rp-0123abcd.tmp': 'b1\n' });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'startup' });
    const found = await store.recovery.interruptedRestore();
    assert.equal(found?.safety?.id, safety.id);
    assert.deepEqual(found?.leftovers, ['ws/.b.txt.rp-0123abcd.tmp']);
    // the safety point restored: the files as they were before, the temporary file gone
    await store.recovery.restore(safety.id);
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a2\n', 'b.txt': 'file 644 b2\n' });
    assert.equal(await store.recovery.interruptedRestore(), undefined);
  });
});

describe('a workspace folder inside another', () => {
  test("a plan leaves out the outer folder's copy of the inner folder's files (points from before captures left them out hold them twice)", () => {
    const change = (p: string) => ({ path: p, before: undefined, after: undefined });
    const plan = { add: [change('ws/pkg/b.txt'), change('pkg/b.txt'), change('ws/pkgs.txt')], modify: [change('ws/a.txt'), change('ws/pkg')], remove: [change('ws/pkg/deep/c.txt'), change('pkg/deep/c.txt')] };
    const roots = [{ name: 'ws', path: '/w' }, { name: 'pkg', path: '/w/pkg' }, { name: 'other', path: '/elsewhere' }];
    const left = withoutInnerFolders(roots, plan);
    assert.deepEqual([left.add, left.modify, left.remove].map((l) => l.map((c) => c.path)), [['pkg/b.txt', 'ws/pkgs.txt'], ['ws/a.txt'], ['pkg/deep/c.txt']]);
    assert.equal(withoutInnerFolders([roots[0]!, roots[2]!], plan), plan, 'no folder inside another: the plan as it was');
  });
});
