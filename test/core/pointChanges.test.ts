import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { changeTree } from '../../src/core/history/changeTree';
import { readFileHistory } from '../../src/core/history/fileHistory';
import { comparisonPatch, deletedFiles, fileVersionPatch, folderHistory, pointChange, pointChangePatch } from '../../src/core/history/pointChanges';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import { cleanupAll, makeSandbox, openStore, readFiles, writeFiles, type FileSpec, type Sandbox } from './helpers/storeFixtures';

after(cleanupAll);

const run = promisify(execFile);
const BINARY_1 = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0, 128, 127]);
const BINARY_2 = Buffer.concat([Buffer.from([0, 9, 9]), Buffer.alloc(300, 7)]);

const BEFORE: Record<string, FileSpec> = {
  'src/app.ts': 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\n',
  'src/lib/util.ts': 'export const util = 1;\n',
  'src/old-name.ts': 'export const moved = true;\n',
  'docs/gone.md': '# gone\n',
  'no-newline.txt': 'no newline at the end',
  'crlf.txt': 'one\r\ntwo\r\n',
  'bom.txt': '\uFEFFwith a byte order mark\n',
  'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o644 },
  'data/blob.bin': BINARY_1,
  'data/old.bin': BINARY_2,
  'empty.txt': '',
  'to-link.txt': 'plain\n',
  'link-to-file': { symlink: 'empty.txt' },
};

const AFTER_CHANGES: Record<string, FileSpec | null> = {
  'src/app.ts': 'line 1\nline 2 changed\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8 changed\nline 9\nline 10\n',
  'src/old-name.ts': null,
  'src/new-name.ts': 'export const moved = true;\n',
  'src/added.ts': 'export const added = 1;\n',
  'docs/gone.md': null,
  'no-newline.txt': 'no newline at the end, still',
  'crlf.txt': 'one\r\ntwo\r\nthree\r\n',
  'bom.txt': '\uFEFFwith a byte order mark, changed\n',
  'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  'data/blob.bin': Buffer.concat([BINARY_1, Buffer.from([1, 2, 3])]),
  'data/old.bin': null,
  'data/new.bin': Buffer.from([0, 0, 0, 42]),
  'new-empty.txt': '',
  'to-link.txt': { symlink: 'src/app.ts' },
  'link-to-file': 'a file now\n',
};

interface TwoPoints {
  sb: Sandbox;
  store: RecoveryStore;
  first: string;
  second: string;
}

async function twoPoints(): Promise<TwoPoints> {
  const sb = await makeSandbox();
  await writeFiles(sb.ws, BEFORE);
  const store = await openStore(sb);
  const first = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!.id;
  await writeFiles(sb.ws, AFTER_CHANGES);
  const second = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!.id;
  return { sb, store, first, second };
}

/** A git repository holding the files as they were before, committed. */
async function repoOfBefore(sb: Sandbox): Promise<string> {
  const repo = path.join(sb.root, `repo-${Math.random().toString(16).slice(2)}`);
  await fs.mkdir(repo);
  await writeFiles(repo, BEFORE);
  const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'before');
  return repo;
}

async function gitApply(repo: string, patch: string, ...args: string[]): Promise<void> {
  const file = path.join(repo, '..', `${path.basename(repo)}.patch`);
  await fs.writeFile(file, patch);
  await run('git', ['apply', ...args, file], { cwd: repo });
}

async function modes(dir: string, rel: string): Promise<number> {
  return (await fs.stat(path.join(dir, rel))).mode & 0o777;
}

const notGit = (rel: string) => rel === '.git' || rel.startsWith('.git/');

/** Files only (git leaves no empty folders behind; a deletion by hand does). */
async function filesIn(dir: string, skip: (rel: string) => boolean = notGit): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(await readFiles(dir, { skip })).filter(([, what]) => what !== 'dir'));
}

describe('a point\'s change as a patch', () => {
  test('git apply of the patch (with --binary bytes) turns the files before into the files after, byte for byte: edits, added, deleted, renamed as delete + add, binary, mode, no final newline, CRLF, BOM, empty, a file become a link and a link become a file', async () => {
    const { sb, store, second } = await twoPoints();
    const patch = await pointChangePatch(store, second, { binary: true });
    assert.match(patch, /^diff --git a\/src\/app\.ts b\/src\/app\.ts$/m, 'paths are inside the workspace folder (no folder name)');
    assert.match(patch, /^deleted file mode 100644\n/m);
    assert.match(patch, /^new file mode 100644\n/m);
    assert.match(patch, /^old mode 100644\nnew mode 100755$/m);
    assert.match(patch, /^GIT binary patch$/m);
    const repo = await repoOfBefore(sb);
    await gitApply(repo, patch);
    assert.deepEqual(await filesIn(repo), await filesIn(sb.ws));
    for (const rel of ['data/blob.bin', 'data/new.bin', 'crlf.txt', 'bom.txt', 'no-newline.txt']) {
      assert.ok((await fs.readFile(path.join(repo, rel))).equals(await fs.readFile(path.join(sb.ws, rel))), `${rel} has the same bytes`);
    }
    await assert.rejects(fs.stat(path.join(repo, 'data/old.bin')), 'the deleted binary file is gone');
    assert.equal(await modes(repo, 'bin/run.sh'), 0o755, 'the executable bit came with the patch');
  });

  test('without --binary, binary files are noted as git does, and the text files apply on their own', async () => {
    const { sb, store, second } = await twoPoints();
    const patch = await pointChangePatch(store, second);
    assert.match(patch, /^Binary files a\/data\/blob\.bin and b\/data\/blob\.bin differ$/m);
    assert.match(patch, /^Binary files \/dev\/null and b\/data\/new\.bin differ$/m);
    assert.match(patch, /^Binary files a\/data\/old\.bin and \/dev\/null differ$/m);
    assert.doesNotMatch(patch, /GIT binary patch/);
    const repo = await repoOfBefore(sb);
    await gitApply(repo, patch, '--exclude=data/*');
    const withoutData = (rel: string) => notGit(rel) || rel.startsWith('data');
    assert.deepEqual(await filesIn(repo, withoutData), await filesIn(sb.ws, withoutData));
  });

  test('a text file in another encoding (Latin-1) carries its bytes, so the whole patch applies without --binary', async () => {
    const sb = await makeSandbox();
    const latin1 = (text: string) => Buffer.from(text, 'latin1');
    await writeFiles(sb.ws, { 'docs/legacy.txt': latin1('caf\xe9\n'), 'data.csv': 'a,b\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    const repo = path.join(sb.root, 'repo');
    await fs.cp(sb.ws, repo, { recursive: true });
    const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'before');
    await writeFiles(sb.ws, { 'docs/legacy.txt': latin1('caf\xe9\nna\xefvet\xe9\n'), 'data.csv': 'a,b\n1,2\n' });
    const second = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!.id;
    const patch = await pointChangePatch(store, second);
    assert.doesNotMatch(patch, /^Binary files/m);
    assert.match(patch, /^diff --git a\/docs\/legacy\.txt b\/docs\/legacy\.txt\n(?:.*\n)*?GIT binary patch$/m);
    await gitApply(repo, patch);
    assert.ok((await fs.readFile(path.join(repo, 'docs/legacy.txt'))).equals(await fs.readFile(path.join(sb.ws, 'docs/legacy.txt'))));
    assert.equal(await fs.readFile(path.join(repo, 'data.csv'), 'utf8'), 'a,b\n1,2\n');
  });

  test('a two-point comparison and a point against the current files make the same patch as the change between them', async () => {
    const { sb, store, first, second } = await twoPoints();
    const between = await comparisonPatch(store, first, second, { binary: true });
    assert.equal(between, await pointChangePatch(store, second, { binary: true }));
    const againstNow = await comparisonPatch(store, first, undefined, { binary: true });
    assert.equal(againstNow, between, 'the workspace is as the second point holds it');
    await writeFiles(sb.ws, { 'src/app.ts': 'rewritten since\n' });
    const moved = await comparisonPatch(store, first, undefined, { binary: true });
    const repo = await repoOfBefore(sb);
    await gitApply(repo, moved);
    assert.equal(await fs.readFile(path.join(repo, 'src/app.ts'), 'utf8'), 'rewritten since\n');
    assert.equal(await comparisonPatch(store, second, second), '', 'no differences: an empty patch');
  });

  test('a point of two folders keeps the folder names in its paths', async () => {
    const sb = await makeSandbox();
    const other = path.join(sb.root, 'other');
    await fs.mkdir(other);
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    await writeFiles(other, { 'b.txt': 'b\n' });
    const store = await openStore(sb, { roots: [{ name: 'ws', path: sb.ws }, { name: 'other', path: other }] });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    await writeFiles(other, { 'b.txt': 'b2\n' });
    const point = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    assert.match(await pointChangePatch(store, point.id), /^diff --git a\/other\/b\.txt b\/other\/b\.txt$/m);
  });
});

describe('two points across a folder renamed between them', () => {
  test('the renamed folder\'s files are paired as renamed, with those edited since marked changed; an unrelated deletion and addition are not', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/old/a.ts': 'a\n', 'src/old/b.ts': 'b\n', 'src/old/c.ts': 'c\n', 'gone.txt': 'gone\n' });
    const store = await openStore(sb);
    const before = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await fs.rename(path.join(sb.ws, 'src/old'), path.join(sb.ws, 'src/new'));
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
    await writeFiles(sb.ws, { 'src/new/b.ts': 'b edited\n', 'gone.txt': null, 'fresh.txt': 'fresh\n' });
    const after = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    const diff = await store.recovery.diff(before.id, after.id);
    assert.deepEqual(
      [...(diff.renamed ?? [])].sort((x, y) => (x.to < y.to ? -1 : 1)),
      [
        { from: 'ws/src/old/a.ts', to: 'ws/src/new/a.ts', changed: false },
        { from: 'ws/src/old/b.ts', to: 'ws/src/new/b.ts', changed: true },
        { from: 'ws/src/old/c.ts', to: 'ws/src/new/c.ts', changed: false },
      ],
    );
    assert.ok(diff.deleted.some((c) => c.path === 'ws/gone.txt') && diff.added.some((c) => c.path === 'ws/fresh.txt'), 'still listed, as deletion and addition');
    assert.equal((await store.recovery.diff(before.id, before.id)).renamed, undefined, 'nothing renamed: no list');
  });
});

describe('a point and the current files across a folder renamed since', () => {
  test('the renamed folder\'s files are paired as renamed, with one edited since marked changed; an unrelated deletion and addition are not', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/old/a.ts': 'a\n', 'src/old/b.ts': 'b\n', 'gone.txt': 'gone\n' });
    const store = await openStore(sb);
    const before = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await fs.rename(path.join(sb.ws, 'src/old'), path.join(sb.ws, 'src/new'));
    await writeFiles(sb.ws, { 'src/new/b.ts': 'b edited\n', 'gone.txt': null, 'fresh.txt': 'fresh\n' });
    const diff = await store.recovery.diff(before.id);
    assert.deepEqual(
      [...(diff.renamed ?? [])].sort((x, y) => (x.to < y.to ? -1 : 1)),
      [
        { from: 'ws/src/old/a.ts', to: 'ws/src/new/a.ts', changed: false },
        { from: 'ws/src/old/b.ts', to: 'ws/src/new/b.ts', changed: true },
      ],
    );
    assert.ok(diff.deleted.some((c) => c.path === 'ws/gone.txt') && diff.added.some((c) => c.path === 'ws/fresh.txt'), 'still listed, as deletion and addition');
    await fs.rename(path.join(sb.ws, 'src/new'), path.join(sb.ws, 'src/old'));
    await writeFiles(sb.ws, { 'src/old/b.ts': 'b\n', 'gone.txt': 'gone\n', 'fresh.txt': null });
    assert.equal((await store.recovery.diff(before.id)).renamed, undefined, 'nothing renamed: no list');
  });
});

describe('a file version as a patch', () => {
  test('git apply takes a version\'s patch against the version before it (an edit, a rename as delete + add, a deletion) and the first version\'s against nothing', async () => {
    const { sb, store } = await twoPoints();
    const [edited, first] = (await readFileHistory(store, 'ws/src/app.ts')).versions;
    const patch = await fileVersionPatch(store, edited!);
    assert.match(patch, /^diff --git a\/src\/app\.ts b\/src\/app\.ts$/m);
    assert.equal(patch.match(/^diff --git /gm)?.length, 1, 'that file only');
    const repo = await repoOfBefore(sb);
    await gitApply(repo, patch, '--check');
    await gitApply(repo, patch);
    assert.equal(await fs.readFile(path.join(repo, 'src/app.ts'), 'utf8'), AFTER_CHANGES['src/app.ts']);

    const [renamed] = (await readFileHistory(store, 'ws/src/new-name.ts')).versions;
    assert.equal(renamed!.renamedFrom, 'ws/src/old-name.ts');
    await gitApply(repo, await fileVersionPatch(store, renamed!));
    await assert.rejects(fs.stat(path.join(repo, 'src/old-name.ts')));
    assert.equal(await fs.readFile(path.join(repo, 'src/new-name.ts'), 'utf8'), 'export const moved = true;\n');

    const [deleted] = (await readFileHistory(store, 'ws/docs/gone.md')).versions;
    assert.equal(deleted!.kind, 'deleted');
    const deletion = await fileVersionPatch(store, deleted!);
    assert.match(deletion, /^deleted file mode 100644$/m);
    await gitApply(repo, deletion);
    await assert.rejects(fs.stat(path.join(repo, 'docs/gone.md')));

    const empty = path.join(sb.root, 'empty-repo');
    await fs.mkdir(empty);
    await run('git', ['init', '-q'], { cwd: empty });
    const creation = await fileVersionPatch(store, first!);
    assert.match(creation, /^new file mode 100644$/m);
    await gitApply(empty, creation, '--check');
    await gitApply(empty, creation);
    assert.equal(await fs.readFile(path.join(empty, 'src/app.ts'), 'utf8'), BEFORE['src/app.ts']);
  });
});

describe('what changed in a point', () => {
  test('a point\'s change is against its parent; the first point\'s is everything added', async () => {
    const { store, first, second } = await twoPoints();
    const change = await pointChange(store, second);
    assert.equal(change.parent?.id, first);
    assert.deepEqual(change.diff.deleted.map((c) => c.path), ['ws/data/old.bin', 'ws/docs/gone.md', 'ws/src/old-name.ts']);
    assert.ok(change.diff.added.some((c) => c.path === 'ws/src/new-name.ts'));
    const initial = await pointChange(store, first);
    assert.equal(initial.parent, undefined);
    assert.equal(initial.diff.added.length, Object.keys(BEFORE).length);
  });

  test('changed files as folders: single-child chains compressed, folders first, counts of every file below', () => {
    const paths = ['ws/src/core/history/a.ts', 'ws/src/core/history/b.ts', 'ws/src/core/x.ts', 'ws/README.md', 'ws/test/deep/er/t.ts'];
    const top = changeTree(paths, (p) => p);
    assert.equal(top.fileCount, 5);
    const ws = top.folders[0]!;
    assert.equal(ws.label, 'ws');
    const shape = (folder: ReturnType<typeof changeTree<string>>): unknown => ({
      label: folder.label,
      path: folder.path,
      count: folder.fileCount,
      folders: folder.folders.map(shape),
      files: folder.files.map((f) => f.name),
    });
    assert.deepEqual(shape(ws), {
      label: 'ws',
      path: 'ws',
      count: 5,
      folders: [
        { label: 'src/core', path: 'ws/src/core', count: 3, folders: [{ label: 'history', path: 'ws/src/core/history', count: 2, folders: [], files: ['a.ts', 'b.ts'] }], files: ['x.ts'] },
        { label: 'test/deep/er', path: 'ws/test/deep/er', count: 1, folders: [], files: ['t.ts'] },
      ],
      files: ['README.md'],
    });
  });

  test('700 files in a first point are folders, not a flat list', () => {
    const paths = Array.from({ length: 700 }, (_, i) => `ws/pkg${i % 7}/mod${i % 10}/file${i}.ts`);
    const ws = changeTree(paths, (p) => p).folders[0]!;
    assert.equal(ws.files.length, 0);
    assert.equal(ws.folders.length, 7);
    assert.equal(ws.fileCount, 700);
    assert.equal(ws.folders[0]!.folders.length, 10);
  });
});

describe('folders and deleted files', () => {
  test('a folder\'s history: the points that changed something under it, with only those changes', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/a.ts': 'a\n', 'docs/d.md': 'd\n' });
    const store = await openStore(sb);
    const p1 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await writeFiles(sb.ws, { 'docs/d.md': 'd2\n' });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    await writeFiles(sb.ws, { 'src/a.ts': 'a2\n', 'src/b.ts': 'b\n', 'docs/d.md': 'd3\n' });
    const p3 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await writeFiles(sb.ws, { src: null });
    const p4 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    const history = await folderHistory(store, 'ws/src');
    assert.deepEqual(history.map((h) => h.point.id), [p4.id, p3.id, p1.id]);
    assert.deepEqual(history[0]!.diff.deleted.map((c) => c.path), ['ws/src/a.ts', 'ws/src/b.ts'], 'the folder deleted: every file in it');
    assert.deepEqual([history[1]!.diff.added.map((c) => c.path), history[1]!.diff.modified.map((c) => c.path)], [['ws/src/b.ts'], ['ws/src/a.ts']], 'docs/ left out');
    assert.deepEqual(history[2]!.diff.added.map((c) => c.path), ['ws/src/a.ts']);
    assert.deepEqual(await folderHistory(store, 'ws/nothing-here'), []);
  });

  test('a folder\'s history follows it back through a rename: the renaming point with what changed in its files, the points before it under the old name, read where the files were then', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/old/a.ts': 'a\n', 'src/old/b.ts': 'b\n', 'docs/d.md': 'd\n' });
    const store = await openStore(sb);
    const p1 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await writeFiles(sb.ws, { 'src/old/a.ts': 'a2\n' });
    const p2 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await fs.rename(path.join(sb.ws, 'src/old'), path.join(sb.ws, 'src/new'));
    const moved = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    await fs.rename(path.join(sb.ws, 'src/new/b.ts'), path.join(sb.ws, 'src/new/b2.ts'));
    await writeFiles(sb.ws, { 'src/new/a.ts': 'a3\n' });
    const p4 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    const history = await folderHistory(store, 'ws/src/new', { followRenames: true });
    assert.deepEqual(history.map((h) => h.point.id), [p4.id, moved.id, p2.id, p1.id]);
    assert.deepEqual(history.map((h) => [h.folder, h.baseFolder, h.workspaceFolder, h.renamedFrom]), [
      ['ws/src/new', 'ws/src/new', 'ws/src/new', undefined],
      ['ws/src/new', 'ws/src/old', 'ws/src/new', 'ws/src/old'],
      ['ws/src/old', 'ws/src/old', 'ws/src/old', undefined],
      ['ws/src/old', 'ws/src/old', 'ws/src/old', undefined],
    ]);
    assert.deepEqual(history[1]!.diff, { added: [], modified: [], deleted: [] }, 'renamed, no file changed');
    assert.deepEqual(history[2]!.diff.modified.map((c) => c.path), ['ws/src/old/a.ts']);
    assert.deepEqual((await folderHistory(store, 'ws/src/new')).map((h) => h.point.id), [p4.id, moved.id], 'without followRenames: from the point that made it');
  });

  test('folder history for a restore: labelled points that hold the folder unchanged are offered too, with no changes', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/a.ts': 'a1\n', 'docs/d.md': 'd1\n' });
    const store = await openStore(sb);
    const p1 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await writeFiles(sb.ws, { 'docs/d.md': 'd2\n' });
    const base = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'folder-base' }))!;
    await writeFiles(sb.ws, { 'docs/d.md': 'd3\n' });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    await writeFiles(sb.ws, { 'src/a.ts': 'a2\n' });
    const p4 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    assert.deepEqual((await folderHistory(store, 'ws/src')).map((h) => h.point.id), [p4.id, p1.id], 'the points that changed it');
    const forRestore = await folderHistory(store, 'ws/src', { labelled: true });
    assert.deepEqual(forRestore.map((h) => h.point.id), [p4.id, base.id, p1.id], 'and the labelled point between them');
    assert.deepEqual(forRestore[1]!.diff, { added: [], modified: [], deleted: [] });
  });

  test('deleted files: what a point holds and the workspace lacks, newest deletion first, with the version to restore', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n', 'keep.txt': 'k\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    await writeFiles(sb.ws, { 'a.txt': null, 'c.txt': null });
    const p2 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await writeFiles(sb.ws, { 'b.txt': 'b changed\n' });
    const p3 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await writeFiles(sb.ws, { 'b.txt': null, 'c.txt': 'c is back\n' });
    const p4 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    const found = await deletedFiles(store);
    assert.deepEqual(
      found.map((f) => [f.path, f.version.id, f.deletedIn.id, f.orEarlier]),
      [
        ['ws/b.txt', p3.id, p4.id, false],
        ['ws/a.txt', p2.parentId, p2.id, false],
      ],
      'c.txt is in the workspace again; keep.txt was never deleted',
    );
    // the point that recorded a deletion gone (clean-up): the point after it may name a deletion made earlier
    await store.recovery.deletePoints([p2.id]);
    assert.deepEqual((await deletedFiles(store)).map((f) => [f.path, f.deletedIn.id, f.orEarlier]), [['ws/b.txt', p4.id, false], ['ws/a.txt', p3.id, true]]);
    await fs.writeFile(path.join(sb.ws, 'a.txt'), 'made again by hand\n');
    assert.deepEqual((await deletedFiles(store)).map((f) => f.path), ['ws/b.txt'], 'a file on disk again is no longer listed');
    const restored = await store.recovery.restore(found[0]!.version.id, { paths: [found[0]!.pointPath] });
    assert.equal(await fs.readFile(path.join(sb.ws, 'b.txt'), 'utf8'), 'b changed\n');
    assert.deepEqual(restored.outcome.removed, [], 'restoring one deleted file removes nothing');

    // excluded since (the point stopped tracking it), then deleted: no deletion a point recorded, not listed
    await store.close();
    const excluding = await openStore(sb, { rules: { excludes: ['keep.txt'] } });
    await excluding.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    await fs.rm(path.join(sb.ws, 'keep.txt'));
    assert.ok(!(await deletedFiles(excluding)).some((f) => f.path === 'ws/keep.txt'), 'a file no longer tracked, then deleted, is not offered');
  });
  test('a point whose parent clean-up removed: its files and counts against the listed point before it, not every file it holds as added; the oldest kept against nothing', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': '1\n', 'b.txt': '1\n', 'c.txt': '1\n', 'src/d.txt': '1\n' });
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await writeFiles(sb.ws, { 'a.txt': '2\n' });
    const second = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save' }))!;
    await writeFiles(sb.ws, { 'b.txt': '2\n', 'src/d.txt': '2\n' });
    const third = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save' }))!;
    assert.equal(await store.recovery.deletePoints([second.id]), 1);
    const paths = (d: Awaited<ReturnType<RecoveryStore['recovery']['changedFiles']>>) => [d.added.map((c) => c.path), d.modified.map((c) => c.path), d.deleted.map((c) => c.path)];

    assert.deepEqual(paths(await store.recovery.changedFiles(third.id)), [[], ['ws/a.txt', 'ws/b.txt', 'ws/src/d.txt'], []], 'against the first point: the removed point\'s change and its own');
    const change = await pointChange(store, third.id);
    assert.equal(change.parent?.id, first.id);
    const listed = await store.recovery.listRecoveryPoints();
    const shown = await store.recovery.listShownPoints(listed);
    assert.deepEqual(shown[0]!.changes, { added: 0, modified: 3, deleted: 0 }, 'the counts shown are those of the files shown');
    assert.equal(shown[0]!.summary, third.summary, 'its name still says what made it');
    assert.deepEqual(listed[0]!.changes, { added: 0, modified: 2, deleted: 0 }, 'the point itself is as it was made');
    assert.equal(shown[1], listed[1], 'a point shown against its parent is the listed summary itself');
    const history = await folderHistory(store, 'ws/src');
    assert.deepEqual(history.map((h) => [h.point.id, h.base?.id]), [[third.id, first.id], [first.id, undefined]]);
    assert.deepEqual(history[0]!.diff.modified.map((c) => c.path), ['ws/src/d.txt']);

    // a point whose trees cannot be read (a damaged store) is listed all the same, as it was made
    const unreadable = { ...listed[0]!, id: '20991231T000000000Z-abcdef', root: 'f'.repeat(64), parentId: second.id };
    const withUnreadable = await store.recovery.listShownPoints([unreadable, ...listed]);
    assert.equal(withUnreadable[0], unreadable);
    assert.deepEqual(withUnreadable[1]!.changes, { added: 0, modified: 3, deleted: 0 });

    assert.equal(await store.recovery.deletePoints([first.id]), 1);
    assert.deepEqual(paths(await store.recovery.changedFiles(third.id)), [['ws/a.txt', 'ws/b.txt', 'ws/c.txt', 'ws/src/d.txt'], [], []], 'the oldest point kept: against nothing');
    assert.deepEqual((await store.recovery.listShownPoints())[0]!.changes, { added: 4, modified: 0, deleted: 0 });
  });

  test('changedFiles with the points a caller listed: the same changes, and a list that lacks the point or its parent is not trusted', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': '1\n', 'b.txt': '1\n' });
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await writeFiles(sb.ws, { 'a.txt': '2\n' });
    const second = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save' }))!;
    const listed = await store.recovery.listRecoveryPoints();
    const paths = (d: Awaited<ReturnType<RecoveryStore['recovery']['changedFiles']>>) => [d.added.map((c) => c.path), d.modified.map((c) => c.path), d.deleted.map((c) => c.path)];
    const expected = [[], ['ws/a.txt'], []];
    assert.deepEqual(paths(await store.recovery.changedFiles(second.id)), expected);
    assert.deepEqual(paths(await store.recovery.changedFiles(second.id, listed)), expected);
    assert.deepEqual(paths(await store.recovery.changedFiles(second.id, listed.filter((p) => p.id !== first.id))), expected, 'the parent missing from the list');
    assert.deepEqual(paths(await store.recovery.changedFiles(second.id, [])), expected, 'the point missing from the list');
    assert.deepEqual(paths(await store.recovery.changedFiles(first.id, listed)), [['ws/a.txt', 'ws/b.txt'], [], []]);
    await assert.rejects(store.recovery.changedFiles('20991231T000000000Z-abcdef', listed), /No recovery point/);
  });
});
