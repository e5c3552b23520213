import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { StateError } from '../../src/core/errors';
import { pointIdTime } from '../../src/core/ids';
import { exportBundle, importBundle } from '../../src/core/transfer';
import { auditEntries, cleanupAll, makeSandbox, openStore, packFiles, readFiles, writeFiles, type Sandbox } from './helpers/storeFixtures';

after(cleanupAll);

const BIG = Buffer.from('a compressible line of text\n'.repeat(4000));

async function storeWithPoints(): Promise<{ sb: Sandbox; store: Awaited<ReturnType<typeof openStore>>; ids: string[] }> {
  const sb = await makeSandbox();
  await writeFiles(sb.ws, { 'README.md': '# demo\n', 'src/app.ts': 'export const app = 1;\n', 'data/big.txt': BIG, 'bin/run.sh': { content: '#!/bin/sh\n', mode: 0o755 } });
  const store = await openStore(sb);
  const ids: string[] = [];
  ids.push((await store.recovery.createRecoveryPoint(undefined, { label: 'first' }))!.id);
  await writeFiles(sb.ws, { 'src/app.ts': 'export const app = 2;\n', 'src/new.ts': 'new\n' });
  ids.push((await store.recovery.createRecoveryPoint())!.id);
  await writeFiles(sb.ws, { 'README.md': '# demo, third\n', 'data/big.txt': null });
  ids.push((await store.recovery.createRecoveryPoint())!.id);
  return { sb, store, ids };
}

/** Files only: a restore leaves an emptied folder in place. */
function filesOnly(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).filter(([, v]) => v !== 'dir'));
}

async function emptyStore(): Promise<{ sb: Sandbox; store: Awaited<ReturnType<typeof openStore>> }> {
  const sb = await makeSandbox();
  return { sb, store: await openStore(sb) };
}

describe('export and import', () => {
  test('export → import into an empty store lists every point, and each restores byte for byte', async () => {
    const source = await storeWithPoints();
    const bundle = path.join(source.sb.root, 'history.rpbundle');
    const exported = await exportBundle(source.store, bundle);
    assert.deepEqual(exported.points, [...source.ids]);
    const target = await emptyStore();
    const result = await importBundle(target.store, bundle);
    assert.deepEqual(result.added, source.ids);
    assert.deepEqual(result.skipped, []);
    assert.equal(result.objectsPresent, 0);
    assert.ok(result.bytesWritten > 0);
    assert.deepEqual((await target.store.recovery.listRecoveryPoints()).map((p) => p.id), [...source.ids].reverse());
    assert.equal((await target.store.recovery.listRecoveryPoints()).at(-1)!.label, 'first');
    const verify = await target.store.recovery.verify();
    assert.ok(verify.ok, JSON.stringify(verify));
    for (const id of source.ids) {
      await source.store.recovery.restore(id);
      const expected = await readFiles(source.sb.ws);
      await target.store.recovery.restore(id);
      assert.deepEqual(await readFiles(target.sb.ws), expected, `point ${id}`);
      assert.equal((await fs.stat(path.join(target.sb.ws, 'bin/run.sh'))).mode & 0o777, 0o755);
    }
    assert.ok((await auditEntries(target.store)).some((e) => e.action === 'import'));
  });

  test('into a store that had no point and no state file yet (as the import makes it): the state is the newest point\'s, with no warning that a state file was lost', async () => {
    const source = await storeWithPoints();
    const bundle = path.join(source.sb.root, 'history.rpbundle');
    await exportBundle(source.store, bundle);
    const sb = await makeSandbox();
    const target = await openStore(sb);
    await fs.rm(path.join(sb.store, 'state.json'), { force: true });
    await importBundle(target, bundle);
    const fresh = await openStore(sb);
    const warnings: string[] = [];
    fresh.state.onWarning((message) => warnings.push(message));
    await fresh.state.syncState();
    await writeFiles(sb.ws, { 'after.txt': 'after the import\n' });
    await fresh.recovery.createRecoveryPoint();
    assert.deepEqual(warnings, []);
    assert.ok(!(await auditEntries(fresh)).some((e) => e.action === 'recover-state'), 'no state recovered');
  });

  test('compressed objects are copied as stored: the imported pack holds the same bytes', async () => {
    const source = await storeWithPoints();
    const bundle = path.join(source.sb.root, 'b.rpbundle');
    await exportBundle(source.store, bundle, { pointIds: [source.ids[0]!] });
    const data = await fs.readFile(bundle);
    // the big file is stored compressed (deflate), far smaller than its 112 kB
    assert.ok(data.length < BIG.length / 4, `bundle of ${data.length} bytes`);
    const target = await emptyStore();
    const result = await importBundle(target.store, bundle);
    assert.ok(result.bytesWritten < BIG.length / 4);
  });

  test('into a store with overlapping points: known points are skipped, known objects not written again', async () => {
    const source = await storeWithPoints();
    const first = path.join(source.sb.root, 'first.rpbundle');
    const all = path.join(source.sb.root, 'all.rpbundle');
    await exportBundle(source.store, first, { pointIds: source.ids.slice(0, 2) });
    await exportBundle(source.store, all);
    const target = await emptyStore();
    const firstImport = await importBundle(target.store, first);
    assert.equal(firstImport.added.length, 2);
    const packsBefore = await packFiles(target.sb.store);
    const second = await importBundle(target.store, all);
    assert.deepEqual(second.added, [source.ids[2]]);
    assert.deepEqual(second.skipped, source.ids.slice(0, 2));
    assert.ok(second.objectsPresent > 0);
    // the third point adds one changed file and the trees on its path: only those are written
    const sizes = await Promise.all((await packFiles(target.sb.store)).filter((p) => !packsBefore.includes(p)).map(async (p) => (await fs.stat(p)).size));
    assert.equal(sizes.length, 1);
    assert.equal(sizes[0], second.bytesWritten);
    assert.ok(second.bytesWritten < 1500, `wrote ${second.bytesWritten} bytes`);
    assert.ok(second.bytesWritten < (await fs.stat(all)).size / 4);
    // importing the same bundle again writes nothing
    const again = await importBundle(target.store, all);
    assert.deepEqual(again.added, []);
    assert.equal(again.bytesWritten, 0);
    assert.deepEqual((await packFiles(target.sb.store)).length, packsBefore.length + 1);
  });

  test('--points and --since choose the points', async () => {
    const source = await storeWithPoints();
    const bundle = path.join(source.sb.root, 'since.rpbundle');
    const idTime = pointIdTime(source.ids[1]!);
    const bySince = await exportBundle(source.store, bundle, { since: new Date(idTime) });
    assert.deepEqual(bySince.points, source.ids.slice(1));
    const byIds = await exportBundle(source.store, bundle, { pointIds: [source.ids[2]!] });
    assert.deepEqual(byIds.points, [source.ids[2]]);
    const target = await emptyStore();
    assert.deepEqual((await importBundle(target.store, bundle)).added, [source.ids[2]]);
    await target.store.recovery.restore(source.ids[2]!);
    await source.store.recovery.restore(source.ids[2]!);
    assert.deepEqual(filesOnly(await readFiles(target.sb.ws)), filesOnly(await readFiles(source.sb.ws)));
    await assert.rejects(exportBundle(source.store, bundle, { since: new Date(Date.now() + 60_000) }), (e: unknown) => e instanceof StateError && e.kind === 'SnapshotNotFound');
  });

  test('a point already present with different content refuses the whole import', async () => {
    const source = await storeWithPoints();
    const bundle = path.join(source.sb.root, 'x.rpbundle');
    await exportBundle(source.store, bundle);
    const target = await emptyStore();
    await importBundle(target.store, bundle);
    // the same id with another summary in the target
    const manifestFile = path.join(target.sb.store, 'points', `${source.ids[0]}.json`);
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8'));
    await fs.writeFile(manifestFile, JSON.stringify({ ...manifest, summary: 'something else' }));
    await fs.rm(path.join(target.sb.store, 'points', `${source.ids[2]}.json`));
    const packs = await packFiles(target.sb.store);
    await assert.rejects(importBundle(target.store, bundle), (e: unknown) => e instanceof StateError && /different content/.test(e.message));
    assert.deepEqual(await packFiles(target.sb.store), packs);
    assert.equal((await target.store.recovery.listRecoveryPoints()).length, 2);
  });

  test('a point of another project\'s history (imported) onto a folder of the same name: the restore deletes and leaves exactly what its preview said, and says why a file is left', async () => {
    const here = await makeSandbox();
    await writeFiles(here.ws, { 'src/greeting.ts': 'here\n', 'src/farewell.ts': 'on disk before the other point\n', 'src/edited.ts': 'v1\n', 'build.log': 'a log, tracked here\n' });
    // .gitignore files not followed here: the log is tracked
    const store = await openStore(here, { rules: { respectGitignore: false, excludes: [] } });
    await store.recovery.createRecoveryPoint();
    // the file times are older than the other project's point by more than their clock's coarseness
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const other = await makeSandbox();
    await writeFiles(other.ws, { '.gitignore': '*.log\n', 'src/greeting.ts': 'other\n', 'src/only-there.ts': 'only there\n' });
    const otherStore = await openStore(other, { actor: 'test:other' });
    const imported = (await otherStore.recovery.createRecoveryPoint(undefined, { label: 'other project' }))!.id;
    const bundle = path.join(other.root, 'other.rpbundle');
    await exportBundle(otherStore, bundle);
    await otherStore.close();
    await writeFiles(here.ws, { 'src/edited.ts': 'v2, after the other point\n', 'src/later.ts': 'made after the other point\n' });
    await fs.appendFile(path.join(here.ws, 'build.log'), 'appended after the other point\n');
    await store.recovery.createRecoveryPoint();
    await importBundle(store, bundle);

    const preview = await store.recovery.previewRestore(imported);
    assert.deepEqual(preview.folders.pairs.map((p) => [p.point, p.workspace, p.by, p.places !== undefined]), [['ws', 'ws', 'name', true]], 'same name, another place');
    assert.deepEqual([preview.add.map((c) => c.path), preview.modify.map((c) => c.path), preview.remove.map((c) => c.path).sort()], [['ws/.gitignore', 'ws/src/only-there.ts'], ['ws/src/greeting.ts'], ['ws/src/edited.ts', 'ws/src/later.ts']]);
    // not 'ignored or excluded then': the other project's point says nothing of this folder's files
    const leftReason = 'the point was made in another folder, which did not hold it, and it has not changed here since before then: left as it is';
    // there before the other point and changed since, but ignored by that point's .gitignore
    const ignoredReason = 'the point was made in another folder, whose .gitignore ignores it: left as it is';
    assert.deepEqual(preview.leftAlone, [{ path: 'ws/src/farewell.ts', reason: leftReason }, { path: 'ws/build.log', reason: ignoredReason }]);
    const result = await store.recovery.restore(imported);
    assert.deepEqual([...result.outcome.written].sort(), [...preview.add, ...preview.modify].map((c) => c.path).sort(), 'written: what the preview said it writes');
    assert.deepEqual([...result.outcome.removed].sort(), preview.remove.map((c) => c.path).sort(), 'deleted: what the preview said it deletes, nothing more');
    assert.deepEqual(result.outcome.skipped, preview.leftAlone, 'left: what the preview said it leaves, for the same reason');
    const files = await readFiles(here.ws);
    assert.deepEqual([files['src/farewell.ts'], files['src/greeting.ts'], files['src/only-there.ts'], files['src/edited.ts'], files['src/later.ts'], files['build.log']], ['file 644 on disk before the other point\n', 'file 644 other\n', 'file 644 only there\n', undefined, undefined, 'file 644 a log, tracked here\nappended after the other point\n']);
    await store.close();
  });
});
