import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { StateError } from '../../src/core/errors';
import { pointChangePatch } from '../../src/core/history/pointChanges';
import { readFileHistory } from '../../src/core/history/fileHistory';
import { describeMapping } from '../../src/core/recovery/folderMapping';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import type { WorkspaceRoot } from '../../src/core/schemas';
import { cleanupAll, makeSandbox, openStore, readFiles, writeFiles, type Sandbox } from './helpers/storeFixtures';

after(cleanupAll);

/** A point of `roots` (each folder with files), then the store closed: the workspace changes shape before it is opened again. */
async function pointOf(sb: Sandbox, folders: Record<string, Record<string, string>>, roots: WorkspaceRoot[]): Promise<string> {
  for (const root of roots) await writeFiles(root.path, folders[root.name]!);
  const store = await openStore(sb, { roots });
  const point = (await store.recovery.createRecoveryPoint())!;
  await store.close();
  return point.id;
}

function folder(sb: Sandbox, name: string, rel = name): WorkspaceRoot {
  return { name, path: path.join(sb.ws, rel) };
}

async function reopen(sb: Sandbox, roots: WorkspaceRoot[]): Promise<RecoveryStore> {
  return openStore(sb, { roots });
}

describe('restoring a point onto a workspace whose folders changed', () => {
  test('a renamed folder: the point is restored into it, nothing is deleted', async () => {
    const sb = await makeSandbox();
    const id = await pointOf(sb, { app: { 'a.txt': 'a1\n', 'src/b.ts': 'b1\n', 'c.txt': 'c1\n' } }, [folder(sb, 'app')]);
    await fs.rename(path.join(sb.ws, 'app'), path.join(sb.ws, 'app-renamed'));
    await writeFiles(path.join(sb.ws, 'app-renamed'), { 'a.txt': 'a broken\n', 'c.txt': null, 'new.txt': 'new\n' });
    const store = await reopen(sb, [folder(sb, 'app-renamed')]);

    const preview = await store.recovery.previewRestore(id);
    assert.deepEqual(preview.folders.pairs, [{ point: 'app', workspace: 'app-renamed', by: 'moved' }]);
    assert.deepEqual(
      [preview.add.map((c) => c.path), preview.modify.map((c) => c.path), preview.remove.map((c) => c.path)],
      [['app-renamed/c.txt'], ['app-renamed/a.txt'], ['app-renamed/new.txt']],
    );
    const result = await store.recovery.restore(id);
    assert.deepEqual(result.outcome.removed, ['app-renamed/new.txt']);
    assert.deepEqual(result.outcome.skipped, []);
    assert.deepEqual(await readFiles(path.join(sb.ws, 'app-renamed')), { 'a.txt': 'file 644 a1\n', 'c.txt': 'file 644 c1\n', src: 'dir', 'src/b.ts': 'file 644 b1\n' });
    assert.deepEqual((await store.recovery.diff(id)).modified, [], 'the diff against the workspace sees the same files');

    await store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(path.join(sb.ws, 'app-renamed')), { 'a.txt': 'file 644 a broken\n', 'new.txt': 'file 644 new\n', src: 'dir', 'src/b.ts': 'file 644 b1\n' });
  });

  test('one file of a renamed folder, named by the point path or by the workspace path', async () => {
    const sb = await makeSandbox();
    const id = await pointOf(sb, { app: { 'a.txt': 'a1\n', 'b.txt': 'b1\n' } }, [folder(sb, 'app')]);
    await fs.rename(path.join(sb.ws, 'app'), path.join(sb.ws, 'renamed'));
    await writeFiles(path.join(sb.ws, 'renamed'), { 'a.txt': 'a2\n', 'b.txt': 'b2\n' });
    const store = await reopen(sb, [folder(sb, 'renamed')]);
    const byPoint = await store.recovery.restoreFile(id, 'app/a.txt');
    assert.deepEqual(byPoint.outcome.written, ['renamed/a.txt']);
    const byWorkspace = await store.recovery.restoreFile(id, 'renamed/b.txt');
    assert.deepEqual(byWorkspace.outcome.written, ['renamed/b.txt']);
    assert.deepEqual(await readFiles(path.join(sb.ws, 'renamed')), { 'a.txt': 'file 644 a1\n', 'b.txt': 'file 644 b1\n' });
  });

  test('a moved folder (same name, another path) maps by name', async () => {
    const sb = await makeSandbox();
    const id = await pointOf(sb, { app: { 'a.txt': 'a1\n' }, lib: { 'l.txt': 'l1\n' } }, [folder(sb, 'app', 'old/app'), folder(sb, 'lib')]);
    await fs.mkdir(path.join(sb.ws, 'new'));
    await fs.rename(path.join(sb.ws, 'old/app'), path.join(sb.ws, 'new/app'));
    await writeFiles(path.join(sb.ws, 'new/app'), { 'a.txt': 'a2\n' });
    const store = await reopen(sb, [folder(sb, 'app', 'new/app'), folder(sb, 'lib')]);
    const result = await store.recovery.restore(id);
    assert.deepEqual(result.folders, {
      pairs: [
        { point: 'app', workspace: 'app', by: 'name', places: { point: path.join(sb.ws, 'old/app'), workspace: path.join(sb.ws, 'new/app') } },
        { point: 'lib', workspace: 'lib', by: 'name' },
      ],
      unmapped: [],
      uncovered: [],
    });
    assert.deepEqual(result.outcome.written, ['app/a.txt']);
    assert.equal(await fs.readFile(path.join(sb.ws, 'new/app/a.txt'), 'utf8'), 'a1\n');
  });

  test('a folder of a multi-root workspace renamed in the workspace file (same path) maps by path', async () => {
    const sb = await makeSandbox();
    const id = await pointOf(sb, { one: { 'a.txt': 'one a\n' }, two: { 'a.txt': 'two a\n', 'sub/b.txt': 'two b\n' } }, [folder(sb, 'one'), folder(sb, 'two')]);
    await writeFiles(path.join(sb.ws, 'two'), { 'a.txt': 'two edited\n' });
    const store = await reopen(sb, [folder(sb, 'one'), { name: 'Second', path: path.join(sb.ws, 'two') }]);
    const result = await store.recovery.restore(id);
    assert.deepEqual(result.folders.pairs, [{ point: 'one', workspace: 'one', by: 'name' }, { point: 'two', workspace: 'Second', by: 'path' }]);
    assert.deepEqual([result.outcome.written, result.outcome.removed, result.outcome.skipped], [['Second/a.txt'], [], []]);
    assert.deepEqual(await readFiles(path.join(sb.ws, 'two')), { 'a.txt': 'file 644 two a\n', sub: 'dir', 'sub/b.txt': 'file 644 two b\n' });
  });

  test('a folder of a multi-root workspace opened through a link, and now by its real path, maps by the folder the link leads to', async () => {
    const sb = await makeSandbox();
    await fs.mkdir(path.join(sb.ws, 'real'), { recursive: true });
    await fs.symlink(path.join(sb.ws, 'real'), path.join(sb.ws, 'lnk'));
    const id = await pointOf(sb, { one: { 'a.txt': 'one a\n' }, lnk: { 'b.txt': 'b1\n' } }, [folder(sb, 'one'), folder(sb, 'lnk')]);
    await writeFiles(path.join(sb.ws, 'real'), { 'b.txt': 'b2\n' });
    const store = await reopen(sb, [folder(sb, 'one'), folder(sb, 'real')]);
    const result = await store.recovery.restore(id);
    assert.deepEqual(result.folders.pairs, [{ point: 'one', workspace: 'one', by: 'name' }, { point: 'lnk', workspace: 'real', by: 'link' }]);
    assert.deepEqual(describeMapping(result.folders), ['point folder lnk \u2192 workspace folder real (the same folder, through a link)']);
    assert.deepEqual([result.outcome.written, result.outcome.skipped], [['real/b.txt'], []]);
    assert.deepEqual(await readFiles(path.join(sb.ws, 'real')), { 'b.txt': 'file 644 b1\n' });
  });

  test('a folder added to the workspace since the point is not touched: not captured is not empty', async () => {
    const sb = await makeSandbox();
    const id = await pointOf(sb, { one: { 'a.txt': 'one a\n' } }, [folder(sb, 'one')]);
    await writeFiles(path.join(sb.ws, 'one'), { 'a.txt': 'one edited\n' });
    await writeFiles(path.join(sb.ws, 'two'), { 'x.txt': 'two x\n', 'deep/y.txt': 'two y\n' });
    const store = await reopen(sb, [folder(sb, 'one'), folder(sb, 'two')]);
    const preview = await store.recovery.previewRestore(id);
    assert.deepEqual(preview.folders.uncovered, ['two']);
    assert.deepEqual(preview.remove, []);
    const result = await store.recovery.restore(id);
    assert.deepEqual([result.outcome.written, result.outcome.removed], [['one/a.txt'], []]);
    assert.deepEqual(await readFiles(path.join(sb.ws, 'two')), { deep: 'dir', 'deep/y.txt': 'file 644 two y\n', 'x.txt': 'file 644 two x\n' });
    const diff = await store.recovery.diff(id);
    assert.deepEqual([diff.added, diff.deleted], [[], []], 'the diff against the workspace leaves the new folder out too');
  });

  test('a folder removed from the workspace since the point is left out and reported', async () => {
    const sb = await makeSandbox();
    const id = await pointOf(sb, { one: { 'a.txt': 'one a\n' }, two: { 'x.txt': 'two x\n' } }, [folder(sb, 'one'), folder(sb, 'two')]);
    await writeFiles(path.join(sb.ws, 'one'), { 'a.txt': 'one edited\n' });
    const store = await reopen(sb, [folder(sb, 'one')]);
    const preview = await store.recovery.previewRestore(id);
    assert.deepEqual([preview.folders.unmapped, preview.add], [['two'], []]);
    const result = await store.recovery.restore(id);
    assert.deepEqual(result.outcome.written, ['one/a.txt']);
    assert.deepEqual(result.outcome.skipped.map((s) => s.path), ['two']);
    assert.match(result.outcome.skipped[0]!.reason, /no folder of this workspace/);
  });

  test('two folders whose names were swapped: each point folder goes back to its own folder, by path, not into the one that has its name now', async () => {
    const sb = await makeSandbox();
    const id = await pointOf(sb, { a: { 'f.txt': 'from a\n' }, b: { 'f.txt': 'from b\n' } }, [folder(sb, 'a', 'p1'), folder(sb, 'b', 'p2')]);
    // The workspace file now names p1 "b" and p2 "a".
    const store = await reopen(sb, [folder(sb, 'b', 'p1'), folder(sb, 'a', 'p2')]);
    // the next point is compared with each folder's own files: nothing changed
    const next = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.deepEqual(next.changes, { added: 0, modified: 0, deleted: 0 });
    const preview = await store.recovery.previewRestore(id);
    const at = (rel: string) => path.join(sb.ws, rel);
    assert.deepEqual(preview.folders.pairs, [
      { point: 'a', workspace: 'b', by: 'path' },
      { point: 'b', workspace: 'a', by: 'path' },
    ]);
    void at;
    await writeFiles(path.join(sb.ws, 'p1'), { 'f.txt': 'changed in p1\n' });
    await store.recovery.restore(id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'p1/f.txt'), 'utf8'), 'from a\n', 'p1 gets back what p1 held');
    assert.equal(await fs.readFile(path.join(sb.ws, 'p2/f.txt'), 'utf8'), 'from b\n', 'p2 is not given p1\'s files');
  });

  test('a folder of a multi-root workspace renamed on disk (the workspace file updated): its points map onto it by the folder\'s identity, for restores and its files\' history; a new folder in its place is not it', async () => {
    const sb = await makeSandbox();
    const first = await pointOf(sb, { alpha: { 'a.txt': 'alpha\n' }, delta: { 'd.txt': 'd1\n' } }, [folder(sb, 'alpha'), folder(sb, 'delta')]);
    let store = await reopen(sb, [folder(sb, 'alpha'), folder(sb, 'delta')]);
    await writeFiles(path.join(sb.ws, 'delta'), { 'd.txt': 'd2\n' });
    const second = (await store.recovery.createRecoveryPoint())!;
    assert.match(second.roots.find((r) => r.name === 'delta')!.id ?? '', /^\d+:\d+:[\d.]+$/, 'the point records the folder\'s identity');
    await store.close();
    await fs.rename(path.join(sb.ws, 'delta'), path.join(sb.ws, 'delta2'));
    store = await reopen(sb, [folder(sb, 'alpha'), folder(sb, 'delta2')]);
    const renamed = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'startup' }))!;
    assert.equal(renamed.summary, 'Renamed folder delta \u2192 delta2');
    assert.deepEqual(renamed.changes, { added: 0, modified: 0, deleted: 0 });

    const preview = await store.recovery.previewRestore(first);
    assert.deepEqual(preview.folders.pairs.map((p) => [p.point, p.workspace, p.by]), [['alpha', 'alpha', 'name'], ['delta', 'delta2', 'moved']]);
    assert.deepEqual((await readFileHistory(store, 'delta2/d.txt')).versions.map((v) => v.point.id), [second.id, first]);
    await store.recovery.restore(first);
    assert.equal(await fs.readFile(path.join(sb.ws, 'delta2', 'd.txt'), 'utf8'), 'd1\n');
    await store.close();

    // the renamed folder deleted, another made under the old name's place: a folder of its own
    await fs.rm(path.join(sb.ws, 'delta2'), { recursive: true });
    await writeFiles(path.join(sb.ws, 'epsilon'), { 'd.txt': 'unrelated\n' });
    store = await reopen(sb, [folder(sb, 'alpha'), folder(sb, 'epsilon')]);
    assert.deepEqual((await store.recovery.previewRestore(first)).folders.unmapped, ['delta']);
    assert.deepEqual((await readFileHistory(store, 'epsilon/d.txt')).versions, []);
  });

  test('folders that match by neither name nor path are refused with both lists named, and nothing changes', async () => {
    const sb = await makeSandbox();
    const id = await pointOf(sb, { one: { 'a.txt': 'one a\n' }, two: { 'b.txt': 'two b\n' } }, [folder(sb, 'one'), folder(sb, 'two')]);
    await writeFiles(path.join(sb.ws, 'x'), { 'keep.txt': 'x\n' });
    await writeFiles(path.join(sb.ws, 'y'), { 'keep.txt': 'y\n' });
    const before = await readFiles(sb.ws);
    const store = await reopen(sb, [folder(sb, 'x'), folder(sb, 'y')]);
    const refused = (error: unknown) => {
      assert.ok(error instanceof StateError && error.kind === 'InvalidState', String(error));
      assert.match(error.message, /point's folders \("one", "two"\) match none of this workspace's folders \("x", "y"\)/);
      return true;
    };
    await assert.rejects(store.recovery.previewRestore(id), refused);
    await assert.rejects(store.recovery.restore(id), refused);
    await assert.rejects(store.recovery.diff(id), refused);
    assert.deepEqual(await readFiles(sb.ws), before);
    assert.equal((await store.recovery.listRecoveryPoints()).length, 1, 'no safety point either');
  });
});

describe('the first point after a folder was renamed', () => {
  test('counts, lists and patches only what changed in the files, not the folder as deleted and added again', async () => {
    const sb = await makeSandbox();
    const first = await pointOf(sb, { app: { 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'src/c.ts': 'c1\n' } }, [folder(sb, 'app')]);
    await fs.rename(path.join(sb.ws, 'app'), path.join(sb.ws, 'app-renamed'));
    await writeFiles(path.join(sb.ws, 'app-renamed'), { 'a.txt': 'a2\n', 'new.txt': 'n\n' });
    const store = await reopen(sb, [folder(sb, 'app-renamed')]);
    const point = (await store.recovery.createRecoveryPoint())!;

    assert.deepEqual(point.changes, { added: 1, modified: 1, deleted: 0 });
    const changed = await store.recovery.changedFiles(point.id);
    assert.deepEqual(
      [changed.added.map((c) => c.path), changed.modified.map((c) => c.path), changed.deleted.map((c) => c.path)],
      [['app-renamed/new.txt'], ['app-renamed/a.txt'], []],
    );
    const between = await store.recovery.diff(first, point.id);
    assert.deepEqual([between.added.length, between.modified.length, between.deleted.length], [1, 1, 0]);
    const patch = await pointChangePatch(store, point.id);
    assert.match(patch, /^--- a\/a\.txt$/m);
    assert.doesNotMatch(patch, /b\.txt|c\.ts/);
  });

  test('a folder removed from a multi-root workspace and another added stay a deletion and an addition', async () => {
    const sb = await makeSandbox();
    await pointOf(sb, { one: { 'a.txt': 'a\n' }, two: { 'b.txt': 'b\n' } }, [folder(sb, 'one'), folder(sb, 'two')]);
    await writeFiles(path.join(sb.ws, 'three'), { 'c.txt': 'c\n' });
    const store = await reopen(sb, [folder(sb, 'one'), folder(sb, 'three')]);
    const point = (await store.recovery.createRecoveryPoint())!;
    const changed = await store.recovery.changedFiles(point.id);
    assert.deepEqual([changed.added.map((c) => c.path), changed.deleted.map((c) => c.path)], [['three/c.txt'], ['two/b.txt']]);
  });
});

describe('a workspace folder gone from under a running editor (moved, renamed or deleted)', () => {
  test('a point keeps its files as they were: the history is not emptied, and with nothing else changed no point is made', async () => {
    const sb = await makeSandbox();
    const roots = [folder(sb, 'alpha'), folder(sb, 'beta')];
    await writeFiles(path.join(sb.ws, 'alpha'), { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    await writeFiles(path.join(sb.ws, 'beta'), { 'c.txt': 'c\n' });
    const store = await openStore(sb, { roots });
    const first = (await store.recovery.createRecoveryPoint())!;
    await fs.rename(path.join(sb.ws, 'alpha'), path.join(sb.ws, 'alpha-renamed'));
    assert.equal(await store.recovery.createRecoveryPoint(undefined, { trigger: 'external', skipIfUnchanged: true }), undefined, 'no point of every file deleted');
    assert.equal(await store.recovery.createRecoveryPoint(undefined, { trigger: 'external', skipIfUnchanged: true, changedPaths: [path.join(sb.ws, 'alpha', 'a.txt')] }), undefined, 'nor from a hint');
    await writeFiles(path.join(sb.ws, 'beta'), { 'c.txt': 'c changed\n' });
    const next = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.deepEqual(next.changes, { added: 0, modified: 1, deleted: 0 });
    assert.equal(next.fileCount, first.fileCount);
    await fs.rename(path.join(sb.ws, 'alpha-renamed'), path.join(sb.ws, 'alpha'));
    await writeFiles(path.join(sb.ws, 'alpha'), { 'b.txt': null });
    const back = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.deepEqual(back.changes, { added: 0, modified: 0, deleted: 1 }, 'back in its place, it is captured again');
  });
});
