import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { captureWorkspace, CaptureCache, diffTrees, listFiles, lookupEntry, type CaptureRules, type FileInfo, type TreeDiff } from '../../src/core/capture';
import type { ObjectWriter } from '../../src/core/objects/objectStore';
import type { TreeObject, WorkspaceRoot } from '../../src/core/schemas';
import { pathBelow } from '../../src/core/capture/hintLinks';
import { ageAll, CaptureHarness, cleanupTempDirs, CountingReader, tempDir, writeTree, type Captured } from './helpers/captureFixtures';

after(cleanupTempDirs);

/** A full scan of the same workspace with a fresh cache (and fresh ignore rules). */
async function fullScan(h: CaptureHarness): Promise<Captured> {
  return h.capture({ cache: CaptureCache.empty() });
}

/** Counts what a capture reads and puts. */
class CountingWriter extends CountingReader implements ObjectWriter {
  treesPut = 0;
  blobsPut = 0;
  constructor(private readonly writer: ObjectWriter) {
    super(writer);
  }
  putBlob(content: Buffer): Promise<string> {
    this.blobsPut++;
    return this.writer.putBlob(content);
  }
  putTree(tree: TreeObject): Promise<string> {
    this.treesPut++;
    return this.writer.putTree(tree);
  }
}

async function setup(files: Parameters<typeof writeTree>[1], rules: Partial<CaptureRules> = {}) {
  const ws = await tempDir('rp-hint-ws-');
  await writeTree(ws, files);
  await ageAll(ws);
  const h = await CaptureHarness.create([{ name: 'ws', path: ws }], rules);
  const first = await h.capture();
  return { ws, h, first, abs: (rel: string) => path.join(ws, rel) };
}

async function expectSameAsFullScan(h: CaptureHarness, hint: Captured): Promise<void> {
  assert.equal(hint.mode, 'hint');
  const full = await fullScan(h);
  if (hint.root !== full.root) {
    const [a, b] = [await listFiles(h.objects, hint.root), await listFiles(h.objects, full.root)];
    assert.deepEqual(Object.fromEntries(a), Object.fromEntries(b), 'hint capture differs from a full scan');
    assert.equal(hint.root, full.root);
  }
  assert.equal(hint.fileCount, full.fileCount, 'file count');
  assert.equal(hint.totalSize, full.totalSize, 'total size');
}

describe('hint mode', () => {
  test('a one-file change reads one file and only the trees on its path', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) for (let j = 0; j < 10; j++) files[`dir${i}/sub${j}/file${j}.txt`] = `content ${i} ${j}`;
    const { h, first, abs } = await setup(files);
    await fs.writeFile(abs('dir7/sub3/file3.txt'), 'changed!');
    const batch = h.objects.beginBatch();
    const counting = new CountingWriter(batch);
    const hint = await captureWorkspace({
      roots: h.roots,
      rules: h.rules,
      objects: counting,
      cache: h.cache,
      previousRoot: first.root,
      previousFileCount: first.fileCount,
      changedPaths: [abs('dir7/sub3/file3.txt')],
    });
    await batch.commit();
    assert.equal(hint.filesHashed, 1);
    assert.equal(counting.blobsPut, 1);
    assert.equal(counting.treeReads, 4, 'root, ws, dir7, dir7/sub3');
    assert.equal(counting.treesPut, 4, 'dir7/sub3, dir7, ws, root');
    await expectSameAsFullScan(h, { ...hint, added: 0 });
    const diff = await diffTrees(h.objects, first.root, hint.root);
    assert.deepEqual(diff.modified.map((c) => c.path), ['ws/dir7/sub3/file3.txt']);
  });

  test('folders rebuilt with the entries of likelyRoot\'s folders take its trees without encoding them; a folder that differs is encoded', async () => {
    const { h, first, abs } = await setup({ 'a/b/c.txt': 'c0', 'a/b/d.txt': 'd0', 'a/e.txt': 'e0', 'f/g.txt': 'g0', 'top.txt': 't0' });
    await fs.writeFile(abs('a/b/c.txt'), 'c1');
    await fs.writeFile(abs('f/g.txt'), 'g1');
    const edited = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: [abs('a/b/c.txt'), abs('f/g.txt')] });
    // back to the first point's bytes in a/b/c.txt; f/g.txt gets bytes no point holds
    await fs.writeFile(abs('a/b/c.txt'), 'c0');
    await fs.writeFile(abs('f/g.txt'), 'g2');
    const batch = h.objects.beginBatch();
    const counting = new CountingWriter(batch);
    const result = await captureWorkspace({
      roots: h.roots,
      rules: h.rules,
      objects: counting,
      cache: h.cache,
      previousRoot: edited.root,
      previousFileCount: edited.fileCount,
      changedPaths: [abs('a/b/c.txt'), abs('f/g.txt')],
      likelyRoot: first.root,
    });
    await batch.commit();
    assert.equal(counting.treesPut, 3, 'f, ws and the root are new; a and a/b are the first point\'s');
    assert.equal((await lookupEntry(h.objects, result.root, 'ws/a'))!.hash, (await lookupEntry(h.objects, first.root, 'ws/a'))!.hash);
    await expectSameAsFullScan(h, { ...result, added: 0 });

    // everything back as in the first point: not one tree encoded, the root is the first point's
    await fs.writeFile(abs('f/g.txt'), 'g0');
    const again = h.objects.beginBatch();
    const none = new CountingWriter(again);
    const same = await captureWorkspace({ roots: h.roots, rules: h.rules, objects: none, cache: h.cache, previousRoot: edited.root, previousFileCount: edited.fileCount, changedPaths: [abs('a/b/c.txt'), abs('f/g.txt')], likelyRoot: first.root });
    await again.commit();
    assert.equal(none.treesPut, 0);
    assert.equal(same.root, first.root);
    await expectSameAsFullScan(h, { ...same, added: 0 });
  });

  test('a file the caller just wrote (knownFiles) takes the known hash while its stat is the recorded one; once it changed it is read', async () => {
    const { h, first, abs } = await setup({ 'a.txt': 'aaa', 'b.txt': 'bbb', 'c.txt': 'ccc' });
    const stored = async (rel: string) => (await lookupEntry(h.objects, first.root, `ws/${rel}`))!.hash;
    const stampOf = async (rel: string) => {
      const stat = await fs.lstat(abs(rel));
      return { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, mode: stat.mode };
    };
    await fs.writeFile(abs('a.txt'), 'new a');
    await fs.writeFile(abs('b.txt'), 'new b');
    // a known hash other than the file's bytes (an object the store holds) shows whether the file was read
    const knownFiles = new Map([
      [abs('a.txt'), { stamp: await stampOf('a.txt'), hash: await stored('c.txt') }],
      [abs('b.txt'), { stamp: await stampOf('b.txt'), hash: await stored('c.txt') }],
    ]);
    await fs.writeFile(abs('b.txt'), 'written again after it was known');
    const hint = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: [abs('a.txt'), abs('b.txt')], knownFiles });
    assert.equal(hint.filesHashed, 1, 'only the file whose stat changed is read');
    assert.equal((await lookupEntry(h.objects, hint.root, 'ws/a.txt'))!.hash, await stored('c.txt'), 'the known hash is taken');
    const b = (await lookupEntry(h.objects, hint.root, 'ws/b.txt'))!;
    assert.equal((await h.objects.readBlob(b.hash)).toString(), 'written again after it was known');
  });

  test('what the editor saved of files changed on disk since (savedContent) is what the point holds: changed, deleted, or with its folder gone; the next capture reads the disk', async () => {
    const { h, first, abs } = await setup({ 'a.txt': 'aaa', 'gone.txt': 'ggg', 'dir/inner.txt': 'iii', 'other.txt': 'ooo' });
    const blob = async (root: string, rel: string) => {
      const entry = await lookupEntry(h.objects, root, `ws/${rel}`);
      return entry ? (await h.objects.readBlob(entry.hash)).toString() : undefined;
    };
    await fs.writeFile(abs('a.txt'), 'checked out');
    await fs.rm(abs('gone.txt'));
    await fs.rm(abs('dir'), { recursive: true });
    await fs.writeFile(abs('other.txt'), 'changed, not saved');
    const savedContent = new Map([
      [abs('a.txt'), { content: Buffer.from('saved a'), mode: 0o100644 }],
      [abs('gone.txt'), { content: Buffer.from('saved gone'), mode: 0o100755 }],
      [abs('dir/inner.txt'), { content: Buffer.from('saved inner'), mode: 0o100644 }],
    ]);
    const changedPaths = [abs('a.txt'), abs('gone.txt'), abs('dir/inner.txt'), abs('other.txt')];
    const hint = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths, savedContent });
    assert.equal(hint.mode, 'hint');
    assert.deepEqual(
      await Promise.all(['a.txt', 'gone.txt', 'dir/inner.txt', 'other.txt'].map((rel) => blob(hint.root, rel))),
      ['saved a', 'saved gone', 'saved inner', 'changed, not saved'],
    );
    assert.equal((await lookupEntry(h.objects, hint.root, 'ws/gone.txt'))!.mode, 0o755);
    // a full scan (after a gap) holds them the same way, though no listing finds the deleted ones
    const full = await h.capture({ savedContent });
    assert.equal(full.mode, 'full');
    assert.equal(full.root, hint.root);
    assert.equal(full.fileCount, hint.fileCount);
    // the disk as it is, next: nothing of the saved bytes was taken for the files on disk
    const next = await h.capture({ previousRoot: hint.root, previousFileCount: hint.fileCount, changedPaths: changedPaths.slice(0, 3) });
    assert.deepEqual(await Promise.all(['a.txt', 'gone.txt', 'dir/inner.txt'].map((rel) => blob(next.root, rel))), ['checked out', undefined, undefined]);
    await expectSameAsFullScan(h, next);
  });

  test('deletes, folder deletes, renames, new folders and chmods', async () => {
    const { h, first, abs } = await setup({ 'a/b/c.txt': 'c', 'a/b/d.txt': 'd', 'e/f.txt': 'f', 'g.sh': 'echo', 'keep.txt': 'k' });
    await fs.rm(abs('a/b/c.txt'));
    await fs.rm(abs('e'), { recursive: true });
    await fs.rename(abs('a/b'), abs('moved'));
    await fs.chmod(abs('g.sh'), 0o755);
    await writeTree(abs(''), { 'new/deeper/file.txt': 'new' });
    const hint = await h.capture({
      previousRoot: first.root,
      previousFileCount: first.fileCount,
      changedPaths: [abs('a/b/c.txt'), abs('e'), abs('a/b'), abs('moved'), abs('g.sh'), abs('new/deeper/file.txt')],
    });
    assert.deepEqual([...(await listFiles(h.objects, hint.root)).keys()], ['ws/g.sh', 'ws/keep.txt', 'ws/moved/d.txt', 'ws/new/deeper/file.txt']);
    await expectSameAsFullScan(h, hint);
  });

  test('a file watcher\'s hint (listHintedFolders): a name deleted or created beside a hinted file is captured though the watcher missed it; ignored names and other folders are not looked at', async () => {
    const { h, first, abs } = await setup({ 'src/cart.ts': 'cart', 'src/format.ts': 'format', 'src/keep.ts': 'keep', 'other/gone.txt': 'gone', 'top.txt': 't', '.gitignore': '*.log\n' });
    await fs.appendFile(abs('src/cart.ts'), ' changed');
    await fs.rm(abs('src/format.ts'));
    await writeTree(abs(''), { 'src/new.ts': 'new', 'src/new-folder/inner.ts': 'inner', 'src/debug.log': 'ignored', 'src/huge.bin': 'x'.repeat(2048), 'top-new.txt': 'top' });
    await fs.rm(abs('other/gone.txt'));
    const changedPaths = [abs('src/cart.ts')];
    const plain = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths });
    assert.deepEqual(plain.changes?.deleted.map((c) => c.path), [], 'without the option, only the hinted file is looked at');
    h.rules = { ...h.rules, maxFileSize: 1024 };
    const watcher = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths, listHintedFolders: true });
    assert.equal(watcher.mode, 'hint');
    assert.deepEqual(watcher.skipped, [], 'a file over the size limit beside it is not looked at (a full scan skips it, and says so, every time)');
    assert.deepEqual(
      [...(await listFiles(h.objects, watcher.root)).keys()],
      ['ws/.gitignore', 'ws/other/gone.txt', 'ws/src/cart.ts', 'ws/src/keep.ts', 'ws/src/new-folder/inner.ts', 'ws/src/new.ts', 'ws/top.txt'],
      'src/ is listed (format.ts gone, new.ts and new-folder/ new, debug.log ignored); the root and other/ are not',
    );
    const diff = await diffTrees(h.objects, first.root, watcher.root);
    assert.deepEqual(diff.deleted.map((c) => c.path), ['ws/src/format.ts']);
    assert.deepEqual(diff.added.map((c) => c.path), ['ws/src/new-folder/inner.ts', 'ws/src/new.ts']);
    assert.equal(watcher.fileCount, first.fileCount + 1);
    const rootHint = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: [abs('top.txt')], listHintedFolders: true });
    assert.ok((await listFiles(h.objects, rootHint.root)).has('ws/top-new.txt'), 'a file at the top lists the workspace folder itself');
    assert.ok(!(await listFiles(h.objects, rootHint.root)).has('ws/src/new.ts'), 'but not the folders below it');
  });

  test('a changed .gitignore rescans its folder with the new rules; a deleted one brings files back', async () => {
    const { h, first, abs } = await setup({ 'sub/a.log': 'a', 'sub/b.txt': 'b', 'sub/deep/c.log': 'c', 'top.log': 't' });
    await writeTree(abs(''), { 'sub/.gitignore': '*.log\n' });
    const ignored = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: [abs('sub/.gitignore')] });
    assert.deepEqual([...(await listFiles(h.objects, ignored.root)).keys()], ['ws/sub/.gitignore', 'ws/sub/b.txt', 'ws/top.log']);
    await expectSameAsFullScan(h, ignored);
    await fs.rm(abs('sub/.gitignore'));
    const back = await h.capture({ previousRoot: ignored.root, previousFileCount: ignored.fileCount, changedPaths: [abs('sub/.gitignore')] });
    assert.equal(back.root, first.root);
    await writeTree(abs(''), { '.git/info/exclude': 'top.log\n' });
    const excluded = await h.capture({ previousRoot: back.root, previousFileCount: back.fileCount, changedPaths: [abs('.git/info/exclude')] });
    assert.ok(!(await listFiles(h.objects, excluded.root)).has('ws/top.log'));
    await expectSameAsFullScan(h, excluded);
  });

  test('.git/info/exclude changed but not among the changed paths (watchers often leave .git out): the hint capture still follows it', async () => {
    const { h, first, abs } = await setup({ 'notes.txt': 'n', 'src/a.ts': 'a' });
    await writeTree(abs(''), { '.git/info/exclude': 'notes.txt\n', 'src/a.ts': 'a2' });
    const hint = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: [abs('src/a.ts')] });
    assert.deepEqual([...(await listFiles(h.objects, hint.root)).keys()], ['ws/src/a.ts']);
    await expectSameAsFullScan(h, hint);
  });

  test('an ignore file saved again unchanged does not rescan its folder', async () => {
    const files: Record<string, string> = { '.gitignore': '*.log\n', 'sub/.gitignore': '*.tmp\n' };
    for (let i = 0; i < 10; i++) files[`sub/d${i}/f.txt`] = `file ${i}`;
    const { h, first, abs } = await setup(files);
    await fs.writeFile(abs('.gitignore'), '*.log\n');
    await fs.writeFile(abs('sub/.gitignore'), '*.tmp\n');
    const run = async (changed: string[]) => {
      const batch = h.objects.beginBatch();
      const counting = new CountingWriter(batch);
      const result = await captureWorkspace({ roots: h.roots, rules: h.rules, objects: counting, cache: h.cache, previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: changed });
      await batch.commit();
      return { result, treeReads: counting.treeReads };
    };
    const same = await run([abs('.gitignore'), abs('sub/.gitignore')]);
    assert.equal(same.result.filesHashed, 2, 'only the two ignore files are read');
    assert.equal(same.treeReads, 3, 'root, ws and sub: no folder is rescanned');
    await expectSameAsFullScan(h, { ...same.result, added: 0 });
    await fs.writeFile(abs('sub/.gitignore'), '*.txt\n');
    const changed = await run([abs('sub/.gitignore')]);
    assert.deepEqual([...(await listFiles(h.objects, changed.result.root)).keys()], ['ws/.gitignore', 'ws/sub/.gitignore']);
    await expectSameAsFullScan(h, { ...changed.result, added: 0 });
  });

  test('a hinted path that is now excluded or unsafe is removed; paths outside every root are ignored', async () => {
    const outside = await tempDir('rp-hint-outside-');
    await writeTree(outside, { 'x.txt': 'outside' });
    const { h, first, abs } = await setup({ 'a.txt': 'a', 'b.txt': 'b' });
    h.rules = { ...h.rules, excludes: ['a.txt'] };
    const hint = await h.capture({
      previousRoot: first.root,
      previousFileCount: first.fileCount,
      changedPaths: [abs('a.txt'), path.join(outside, 'x.txt'), outside, '/', 'relative/path.txt'],
    });
    assert.deepEqual([...(await listFiles(h.objects, hint.root)).keys()], ['ws/b.txt']);
    assert.equal(hint.fileCount, 1);
  });

  test('never follows a folder that became a symlink, even when only a path below it is hinted', async () => {
    const outside = await tempDir('rp-hint-outside-');
    await writeTree(outside, { 'x.txt': 'outside content' });
    const { h, first, abs } = await setup({ 'dir/x.txt': 'inside', 'other.txt': 'o' });
    await fs.rm(abs('dir'), { recursive: true });
    await fs.symlink(outside, abs('dir'));
    const partial = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: [abs('dir/x.txt')] });
    const files = await listFiles(h.objects, partial.root);
    assert.ok(!files.has('ws/dir/x.txt'), 'the file behind the link is not captured');
    const complete = await h.capture({ previousRoot: partial.root, previousFileCount: partial.fileCount, changedPaths: [abs('dir')] });
    assert.equal((await listFiles(h.objects, complete.root)).get('ws/dir')!.kind, 'l');
    await expectSameAsFullScan(h, complete);
  });

  test('multi-root: a new root is scanned fully, a removed root dropped, without previousFileCount', async () => {
    const a = await tempDir('rp-hint-a-');
    const b = await tempDir('rp-hint-b-');
    await writeTree(a, { 'one.txt': '1', 'two/three.txt': '3' });
    await writeTree(b, { 'four.txt': '4' });
    const h = await CaptureHarness.create([{ name: 'a', path: a }]);
    const first = await h.capture();
    const h2 = await CaptureHarness.create([{ name: 'b', path: b }, { name: 'a', path: a }], {}, h.storeDir);
    await writeTree(a, { 'one.txt': 'one!' });
    const hint = await h2.capture({ previousRoot: first.root, changedPaths: [path.join(a, 'one.txt')] });
    assert.deepEqual([...(await listFiles(h2.objects, hint.root)).keys()], ['a/one.txt', 'a/two/three.txt', 'b/four.txt']);
    await expectSameAsFullScan(h2, hint);
    const h3 = await CaptureHarness.create([{ name: 'b', path: b }], {}, h.storeDir);
    const dropped = await h3.capture({ previousRoot: hint.root, changedPaths: [] });
    await expectSameAsFullScan(h3, dropped);
  });

  test('falls back to a full scan when the previous tree cannot be read', async () => {
    const { h, abs } = await setup({ 'a.txt': 'a' });
    await fs.writeFile(abs('b.txt'), 'b');
    const result = await h.capture({ previousRoot: 'f'.repeat(64), changedPaths: [abs('a.txt')] });
    assert.deepEqual([...(await listFiles(h.objects, result.root)).keys()], ['ws/a.txt', 'ws/b.txt']);
    assert.equal(result.mode, 'full');
  });
});

describe('hint mode: the changed files listed by the capture', () => {
  /** The capture's own list equals diffTrees against the previous point; `undefined` is allowed only when `optional`. */
  async function expectListed(h: CaptureHarness, previousRoot: string, hint: Captured, optional = false): Promise<void> {
    if (optional && hint.changes === undefined) return;
    assert.ok(hint.changes, 'the capture listed its changes');
    assert.deepEqual(hint.changes, await diffTrees(h.objects, previousRoot, hint.root));
  }

  test('files edited, added, deleted, chmodded and replaced by a link are listed as diffTrees lists them', async () => {
    const { h, first, abs } = await setup({ 'a/b/c.txt': 'c', 'a/d.txt': 'd', 'e.txt': 'e', 'f/g.sh': 'g' });
    await fs.writeFile(abs('a/b/c.txt'), 'c2');
    await fs.writeFile(abs('a/b/new.txt'), 'new');
    await fs.rm(abs('a/d.txt'));
    await fs.chmod(abs('f/g.sh'), 0o755);
    await fs.rm(abs('e.txt'));
    await fs.symlink('a/b/c.txt', abs('e.txt'));
    const changed = ['a/b/c.txt', 'a/b/new.txt', 'a/d.txt', 'f/g.sh', 'e.txt', 'gone.txt'].map(abs);
    const hint = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: changed });
    await expectSameAsFullScan(h, hint);
    await expectListed(h, first.root, hint);
    assert.deepEqual(
      [hint.changes!.added.map((c) => c.path), hint.changes!.modified.map((c) => c.path), hint.changes!.deleted.map((c) => c.path)],
      [['ws/a/b/new.txt'], ['ws/a/b/c.txt', 'ws/e.txt', 'ws/f/g.sh'], ['ws/a/d.txt']],
    );
  });

  test('a file that became a folder, with only the new file below it hinted: the file it replaced is listed as deleted, or the trees are compared', async () => {
    const { h, first, abs } = await setup({ 'a/b': 'was a file', 'x.txt': 'x' });
    await fs.rm(abs('a/b'));
    await fs.mkdir(abs('a/b'));
    await fs.writeFile(abs('a/b/new.txt'), 'new');
    const hint = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: [abs('a/b/new.txt')] });
    await expectSameAsFullScan(h, hint);
    await expectListed(h, first.root, hint, true);
  });

  test('a folder deleted or scanned, or a workspace folder rescanned: left to diffTrees', async () => {
    const { h, first, abs } = await setup({ 'a/b/c.txt': 'c', 'a/d.txt': 'd', 'e.txt': 'e' });
    await fs.rm(abs('a/b'), { recursive: true });
    const deleted = await h.capture({ previousRoot: first.root, previousFileCount: first.fileCount, changedPaths: [abs('a/b')] });
    await expectSameAsFullScan(h, deleted);
    await expectListed(h, first.root, deleted, true);
    await fs.mkdir(abs('n/m'), { recursive: true });
    await fs.writeFile(abs('n/m/f.txt'), 'f');
    const scanned = await h.capture({ previousRoot: deleted.root, previousFileCount: deleted.fileCount, changedPaths: [abs('n')] });
    await expectSameAsFullScan(h, scanned);
    await expectListed(h, deleted.root, scanned, true);
    await fs.writeFile(abs('e.txt'), 'e2');
    const root = await h.capture({ previousRoot: scanned.root, previousFileCount: scanned.fileCount, changedPaths: [abs('')] });
    await expectSameAsFullScan(h, root);
    await expectListed(h, scanned.root, root, true);
  });
});

// ---------------------------------------------------------------------------------------------
// The key property: after any sequence of changes, a hint capture from the previous point gives the
// same root (and counts) as a full scan.

const DIRS = ['', 'a', 'a/b', 'a/b/d', 'c', 'build', 'c/build', 'node_modules', '.ssh', 'd'];
const NAMES = ['x.txt', 'y.log', 'keep.log', 'z.tmp', '.env', 'd', 'b', 'run.sh', 'build'];
const CONTENTS = ['one', 'two', 'three', 'ones', '', 'a longer line of text\n'];
const IGNORE_LINES = ['*.log', '!keep.log', 'build/', '*.tmp', 'b/', '/x.txt', 'd', '!d', '# comment', '!z.tmp', 'a/b/', '**/deep'];
const LINK_TARGETS = ['x.txt', '..', '../..', 'missing', 'a', '.', 'OUTSIDE'];
const MAX_SIZE = 64;

type Op =
  | { t: 'write'; path: string; content: string; age: boolean; exec: boolean }
  | { t: 'sameSize'; pick: number }
  | { t: 'remove'; path: string }
  | { t: 'rename'; from: string; to: string }
  | { t: 'chmod'; pick: number }
  | { t: 'symlink'; path: string; target: string }
  | { t: 'gitignore'; dir: string; lines: string[] }
  | { t: 'ungitignore'; dir: string }
  | { t: 'resave'; dir: string }
  | { t: 'exclude'; lines: string[] }
  | { t: 'mkdir'; dir: string }
  | { t: 'big'; path: string }
  | { t: 'touch'; pick: number }
  | { t: 'removeExisting'; pick: number }
  | { t: 'empty'; dir: string };

const join = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);
const filePath = fc.tuple(fc.constantFrom(...DIRS), fc.constantFrom(...NAMES)).map(([d, n]) => join(d, n));
const anyPath = fc.oneof(filePath, fc.constantFrom(...DIRS.filter((d) => d !== '')));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('write' as const), path: filePath, content: fc.constantFrom(...CONTENTS), age: fc.boolean(), exec: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('sameSize' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('remove' as const), path: anyPath }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('rename' as const), from: anyPath, to: anyPath }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('chmod' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('removeExisting' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('symlink' as const), path: anyPath, target: fc.constantFrom(...LINK_TARGETS) }) },
  // a folder replaced by a link to a folder: hints below it must not be followed through the link
  { weight: 2, arbitrary: fc.record({ t: fc.constant('symlink' as const), path: fc.constantFrom(...DIRS.filter((d) => d !== '')), target: fc.constantFrom('.', '..', 'a', 'OUTSIDE') }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('gitignore' as const), dir: fc.constantFrom(...DIRS), lines: fc.subarray(IGNORE_LINES) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ungitignore' as const), dir: fc.constantFrom(...DIRS) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('resave' as const), dir: fc.constantFrom(...DIRS) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('exclude' as const), lines: fc.subarray(IGNORE_LINES) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('mkdir' as const), dir: fc.constantFrom(...DIRS.filter((d) => d !== '')) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('big' as const), path: filePath }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('touch' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('empty' as const), dir: fc.constantFrom(...DIRS.filter((d) => d !== '')) }) },
);
/**
 * How the change is reported: exactly, with a few unchanged paths, as the changed paths' folders,
 * without the folders that replaced a file on the way to a new file (only the new file is reported),
 * or with every path of the universe (unchanged ones must make no difference, and none may be
 * followed through a link).
 */
const stepArb = fc.record({ op: opArb, report: fc.constantFrom('exact', 'exact', 'noisy', 'parents', 'leaves', 'everything'), noise: fc.array(anyPath, { maxLength: 4 }) });

class Workspace {
  constructor(
    readonly dir: string,
    readonly outside: string,
  ) {}

  abs(rel: string): string {
    return rel === '' ? this.dir : path.join(this.dir, ...rel.split('/'));
  }

  /** lstat, but `undefined` also when an ancestor is not a real folder (a watcher would not see a change through a link). */
  private async lstat(rel: string) {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const stat = await fs.lstat(this.abs(parts.slice(0, i).join('/'))).catch(() => undefined);
      if (!stat?.isDirectory()) return undefined;
    }
    return fs.lstat(this.abs(rel)).catch(() => undefined);
  }

  /** Makes every ancestor of `rel` a real folder, reporting what it had to replace. */
  private async ensureParents(rel: string, changed: string[]): Promise<void> {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const stat = await this.lstat(dir);
      if (stat?.isDirectory()) continue;
      if (stat) {
        await fs.rm(this.abs(dir), { recursive: true, force: true });
        changed.push(dir);
      }
      await fs.mkdir(this.abs(dir));
    }
  }

  private async clear(rel: string, changed: string[]): Promise<void> {
    if (await this.lstat(rel)) {
      await fs.rm(this.abs(rel), { recursive: true, force: true });
      changed.push(rel);
    }
  }

  /** The regular files and links of the workspace (outside `.git`), sorted. */
  private async existing(dirRel = ''): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await fs.readdir(this.abs(dirRel), { withFileTypes: true })) {
      const rel = join(dirRel, entry.name);
      if (rel === '.git') continue;
      if (entry.isDirectory()) out.push(...(await this.existing(rel)));
      else out.push(rel);
    }
    return out.sort();
  }

  /** Applies one change; returns the root-relative paths it changed. */
  async apply(op: Op): Promise<string[]> {
    const changed: string[] = [];
    if ('pick' in op) {
      const files = await this.existing();
      if (files.length === 0) return changed;
      const rel = files[op.pick % files.length]!;
      return op.t === 'removeExisting' ? this.apply({ t: 'remove', path: rel }) : this.applyTo(op.t, rel);
    }
    switch (op.t) {
      case 'write':
      case 'big': {
        await this.ensureParents(op.path, changed);
        const stat = await this.lstat(op.path);
        if (stat && !stat.isFile()) await this.clear(op.path, changed);
        await fs.writeFile(this.abs(op.path), op.t === 'big' ? 'B'.repeat(MAX_SIZE + 1) : op.content);
        if (op.t === 'write') {
          await fs.chmod(this.abs(op.path), op.exec ? 0o755 : 0o644);
          if (op.age) await fs.utimes(this.abs(op.path), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
        }
        changed.push(op.path);
        break;
      }
      case 'remove':
        await this.clear(op.path, changed);
        break;
      case 'rename': {
        if (!(await this.lstat(op.from)) || op.to === op.from || op.to.startsWith(`${op.from}/`) || op.from.startsWith(`${op.to}/`)) break;
        await this.ensureParents(op.to, changed);
        if (!(await this.lstat(op.from))) break; // its parent was replaced
        await this.clear(op.to, changed);
        await fs.rename(this.abs(op.from), this.abs(op.to));
        changed.push(op.from, op.to);
        break;
      }
      case 'symlink':
        await this.ensureParents(op.path, changed);
        await this.clear(op.path, changed);
        await fs.symlink(op.target === 'OUTSIDE' ? this.outside : op.target, this.abs(op.path));
        changed.push(op.path);
        break;
      case 'gitignore': {
        const file = join(op.dir, '.gitignore');
        await this.ensureParents(file, changed);
        await this.clear(file, changed);
        await fs.writeFile(this.abs(file), op.lines.join('\n') + '\n');
        changed.push(file);
        break;
      }
      case 'ungitignore':
        await this.clear(join(op.dir, '.gitignore'), changed);
        break;
      case 'resave': {
        // the same content written again (an editor save without changes)
        const file = join(op.dir, '.gitignore');
        if (!(await this.lstat(file))?.isFile()) break;
        await fs.writeFile(this.abs(file), await fs.readFile(this.abs(file)));
        changed.push(file);
        break;
      }
      case 'exclude':
        await fs.mkdir(this.abs('.git/info'), { recursive: true });
        await fs.writeFile(this.abs('.git/info/exclude'), op.lines.join('\n'));
        changed.push('.git/info/exclude');
        break;
      case 'mkdir':
        await this.ensureParents(join(op.dir, 'placeholder'), changed);
        break;
      case 'empty': {
        // every entry removed one by one, as a watcher reports it
        const stat = await this.lstat(op.dir);
        if (!stat?.isDirectory()) break;
        for (const name of await fs.readdir(this.abs(op.dir))) await this.clear(join(op.dir, name), changed);
        break;
      }
    }
    return changed;
  }

  /** A change to an existing file. */
  private async applyTo(t: 'sameSize' | 'chmod' | 'touch', rel: string): Promise<string[]> {
    const stat = await this.lstat(rel);
    if (!stat?.isFile()) return [];
    const file = this.abs(rel);
    if (t === 'sameSize') {
      // same size, mtime put back: only ctime (and the content) differ
      const content = await fs.readFile(file);
      await fs.writeFile(file, Buffer.from(content.map((byte) => (byte === 0x51 ? 0x52 : 0x51))));
      await fs.utimes(file, stat.atime, stat.mtime);
    } else if (t === 'chmod') {
      await fs.chmod(file, stat.mode & 0o100 ? 0o644 : 0o755);
    } else {
      const when = new Date(Date.now() - 7_200_000 - rel.length * 1000);
      await fs.utimes(file, when, when);
    }
    return [rel];
  }
}

const EVERY_PATH = [...new Set(DIRS.flatMap((dir) => NAMES.map((name) => join(dir, name))))];
/** The deepest paths only: a hinted folder would cover (and hide) the hints below it. */
const EVERY_LEAF = EVERY_PATH.filter((p) => !EVERY_PATH.some((other) => other.startsWith(`${p}/`)));

function report(changed: string[], how: string, noise: string[]): string[] {
  if (how === 'everything') return [...changed, ...EVERY_LEAF];
  if (how === 'noisy') return [...changed, ...noise, 'never/existed.txt'];
  if (how === 'leaves') return changed.filter((rel) => !changed.some((other) => other.startsWith(`${rel}/`)));
  if (how === 'parents') return changed.map((rel) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : rel));
  return changed;
}

/** The diff computed naively from two full listings. */
function naiveDiff(before: Map<string, FileInfo>, after: Map<string, FileInfo>): TreeDiff {
  const diff: TreeDiff = { added: [], modified: [], deleted: [] };
  for (const [p, a] of after) {
    const b = before.get(p);
    if (!b) diff.added.push({ path: p, after: a });
    else if (b.kind !== a.kind || b.hash !== a.hash || b.mode !== a.mode) diff.modified.push({ path: p, before: b, after: a });
  }
  for (const [p, b] of before) if (!after.has(p)) diff.deleted.push({ path: p, before: b });
  for (const list of [diff.added, diff.modified, diff.deleted]) list.sort((x, y) => (x.path < y.path ? -1 : 1));
  return diff;
}

// PROP_SEED, PROP_RUNS and PROP_PATH (from a failure report) replay or widen the search.
describe('a hinted path below its workspace folder', () => {
  /** What `path.relative` makes of it: the parts below the folder, or undefined when not strictly inside. */
  function reference(folder: string, file: string): string | undefined {
    const rel = path.relative(folder, file);
    if (rel === '' || path.isAbsolute(rel) || rel === '..' || rel.startsWith(`..${path.sep}`)) return undefined;
    return rel.split(path.sep).filter((part) => part !== '' && part !== '.').join('/');
  }

  test('is sliced from a clean path as path.relative would make it, and left to path.relative otherwise (property)', () => {
    const part = fc.constantFrom('a', 'b', 'ws', 'ws2', '.', '..', '', '..a', '.b', 'a..', 'x y');
    const absolute = fc.array(part, { minLength: 0, maxLength: 6 }).map((parts) => `/${parts.join('/')}`);
    fc.assert(
      fc.property(absolute, fc.array(part, { minLength: 0, maxLength: 6 }), fc.boolean(), (folder, below, sibling) => {
        const file = sibling ? `${folder}2/${below.join('/')}` : `${folder}/${below.join('/')}`;
        assert.equal(pathBelow(folder, file), reference(folder, file), `${folder} | ${file}`);
      }),
      { numRuns: 3000 },
    );
    assert.equal(pathBelow('/ws', '/ws/src/a.ts'), 'src/a.ts');
    assert.equal(pathBelow('/ws', '/ws2/a.ts'), undefined, 'a folder whose name starts with the workspace folder\'s is not inside it');
    assert.equal(pathBelow('/ws', '/ws/../etc/passwd'), undefined);
    assert.equal(pathBelow('/ws', '/ws/..a/b'), '..a/b', 'a name that starts with two dots is a name');
    assert.equal(pathBelow('/ws', '/ws'), undefined);
  });
});

describe('hint mode equals a full scan (property)', () => {
  test('random sequences of edits, creates, deletes, renames, chmods, symlinks and ignore-file edits', async () => {
    let steps = 0;
    let listedByCapture = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 10, maxLength: 40 }), async (plan) => {
        const dir = await tempDir('rp-prop-ws-');
        const outside = await tempDir('rp-prop-outside-');
        await writeTree(outside, { 'secret.txt': 'outside' });
        const ws = new Workspace(dir, outside);
        await writeTree(dir, { 'x.txt': 'start', 'a/y.log': 'log', 'a/b/keep.log': 'keep', '.gitignore': '*.log\n!keep.log\n' });
        const roots: WorkspaceRoot[] = [{ name: 'ws', path: dir }];
        const h = await CaptureHarness.create(roots, { maxFileSize: MAX_SIZE });
        let previous = await h.capture();
        let previousFiles = await listFiles(h.objects, previous.root);
        for (const { op, report: how, noise } of plan) {
          const changed = await ws.apply(op);
          const hint = await h.capture({
            previousRoot: previous.root,
            previousFileCount: previous.fileCount,
            changedPaths: report(changed, how, noise).map((rel) => ws.abs(rel)),
          });
          const full = await fullScan(h);
          const cachedFull = await h.capture();
          assert.equal(cachedFull.root, full.root, 'a full scan using the cache agrees with one without');
          const context = `after ${JSON.stringify(op)} reported ${how} as ${JSON.stringify(changed)}`;
          if (hint.root !== full.root) {
            assert.deepEqual(Object.fromEntries(await listFiles(h.objects, hint.root)), Object.fromEntries(await listFiles(h.objects, full.root)), context);
            assert.fail(`roots differ ${context}`);
          }
          assert.equal(hint.fileCount, full.fileCount, `file count ${context}`);
          assert.equal(hint.totalSize, full.totalSize, `total size ${context}`);
          // a hint capture lists only the skipped files among the paths it looked at
          for (const file of hint.skipped) assert.ok(full.skipped.some((f) => f.path === file.path && f.reason === file.reason), `skipped ${file.path} ${context}`);
          // diffTrees agrees with comparing the two listings
          const files = await listFiles(h.objects, hint.root);
          assert.deepEqual(await diffTrees(h.objects, previous.root, hint.root), naiveDiff(previousFiles, files), `diff ${context}`);
          // so does the list of changed files the capture makes itself, when it makes one
          if (hint.changes) {
            assert.deepEqual(hint.changes, naiveDiff(previousFiles, files), `the capture's changes ${context}`);
            listedByCapture++;
          }
          previous = hint;
          previousFiles = files;
          steps++;
        }
        await fs.rm(dir, { recursive: true, force: true });
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 12), seed: Number(process.env.PROP_SEED ?? 20261125), ...(process.env.PROP_PATH ? { path: process.env.PROP_PATH, endOnFailure: true } : {}) },
    );
    assert.ok(steps >= 100, `${steps} steps checked`);
    assert.ok(listedByCapture >= steps / 4, `${listedByCapture} of ${steps} steps with the capture's own list of changes`);
  });
});
