import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { countChanges, countFiles, diffTrees, listFiles, lookupEntry } from '../../src/core/capture';
import { hashObject } from '../../src/core/objects/hash';
import type { ObjectWriter } from '../../src/core/objects/objectStore';
import { makeTree } from '../../src/core/objects/tree';
import type { TreeEntry } from '../../src/core/schemas';
import { cleanupTempDirs, CountingReader, openStore, tempDir } from './helpers/captureFixtures';

const batches: { abort(): Promise<void> }[] = [];
after(async () => {
  for (const batch of batches) await batch.abort();
  await cleanupTempDirs();
});

/** A file spec for `build`: content, or `{ link }`, or with a mode. */
type Leaf = string | { readonly content: string; readonly mode: number } | { readonly link: string };
interface Dir {
  readonly [name: string]: Leaf | Dir;
}

function isLeaf(value: Leaf | Dir): value is Leaf {
  return typeof value === 'string' || 'content' in value || 'link' in value;
}

/** Puts a nested object as trees; returns the folder entry (size = sum of what is below). */
async function build(objects: ObjectWriter, name: string, dir: Dir): Promise<TreeEntry> {
  const entries: TreeEntry[] = [];
  for (const [child, value] of Object.entries(dir)) {
    if (isLeaf(value)) {
      const isLink = typeof value === 'object' && 'link' in value;
      const content = Buffer.from(typeof value === 'string' ? value : 'link' in value ? value.link : value.content);
      const hash = await objects.putBlob(content);
      entries.push([child, isLink ? 'l' : 'f', hash, content.length, isLink ? 0 : typeof value === 'string' ? 0o644 : (value as { mode: number }).mode]);
    } else {
      entries.push(await build(objects, child, value));
    }
  }
  const tree = makeTree(entries);
  return [name, 'd', await objects.putTree(tree), entries.reduce((sum, e) => sum + e[3], 0), 0];
}

/** A root tree with one folder per root name. */
async function point(objects: ObjectWriter, roots: Record<string, Dir>): Promise<string> {
  const entries: TreeEntry[] = [];
  for (const [name, dir] of Object.entries(roots)) entries.push(await build(objects, name, dir));
  return objects.putTree(makeTree(entries));
}

async function store() {
  const objects = await openStore(path.join(await tempDir('rp-walk-'), 'objects'));
  const batch = objects.beginBatch();
  batches.push(batch);
  return { objects, batch };
}

const blob = (s: string) => hashObject('blob', Buffer.from(s));

describe('listFiles and lookupEntry', () => {
  test('list every file and link with its path, kind, hash, size and mode; folders are not listed', async () => {
    const { batch } = await store();
    const root = await point(batch, {
      app: { 'a.txt': 'A', src: { 'b.ts': 'BB', deep: { 'c.sh': { content: 'CCC', mode: 0o755 } } }, link: { link: 'src/b.ts' } },
      docs: { 'readme.md': 'R' },
    });
    const files = await listFiles(batch, root);
    assert.deepEqual([...files.keys()], ['app/a.txt', 'app/link', 'app/src/b.ts', 'app/src/deep/c.sh', 'docs/readme.md']);
    assert.deepEqual(files.get('app/src/deep/c.sh'), { kind: 'f', hash: blob('CCC'), size: 3, mode: 0o755 });
    assert.deepEqual(files.get('app/link'), { kind: 'l', hash: blob('src/b.ts'), size: 8, mode: 0 });
    assert.deepEqual([...(await listFiles(batch, root, { under: 'app/src' })).keys()], ['app/src/b.ts', 'app/src/deep/c.sh']);
    assert.deepEqual([...(await listFiles(batch, root, { under: 'app/src/b.ts' })).keys()], ['app/src/b.ts']);
    assert.deepEqual([...(await listFiles(batch, root, { under: 'docs' })).keys()], ['docs/readme.md']);
    assert.equal((await listFiles(batch, root, { under: 'app/missing' })).size, 0);
    assert.equal(await countFiles(batch, root), 5);
  });

  test('lookupEntry finds roots, folders, files and links, and nothing through a file', async () => {
    const { batch } = await store();
    const root = await point(batch, { app: { 'a.txt': 'A', src: { 'b.ts': 'BB' } } });
    assert.equal((await lookupEntry(batch, root, 'app'))!.kind, 'd');
    assert.equal((await lookupEntry(batch, root, 'app'))!.size, 3);
    assert.equal((await lookupEntry(batch, root, 'app/src'))!.kind, 'd');
    assert.deepEqual(await lookupEntry(batch, root, 'app/src/b.ts'), { kind: 'f', hash: blob('BB'), size: 2, mode: 0o644 });
    assert.equal(await lookupEntry(batch, root, 'app/src/missing.ts'), undefined);
    assert.equal(await lookupEntry(batch, root, 'app/a.txt/inside'), undefined);
    assert.equal(await lookupEntry(batch, root, 'other'), undefined);
    await assert.rejects(lookupEntry(batch, root, 'app/../etc'));
  });
});

describe('diffTrees', () => {
  test('added, modified (content, kind, mode) and deleted, sorted by path', async () => {
    const { batch } = await store();
    const before = await point(batch, {
      ws: {
        'same.txt': 'same',
        'edit.txt': 'v1',
        'gone.txt': 'bye',
        'mode.sh': { content: 'x', mode: 0o644 },
        'kind': 'target',
        'was-file': 'file',
        'dir': { gone: { 'deep.txt': 'd' }, 'keep.txt': 'k' },
        'old-folder': { 'a.txt': 'a', 'b': { 'c.txt': 'c' } },
      },
    });
    const after = await point(batch, {
      ws: {
        'same.txt': 'same',
        'edit.txt': 'v2',
        'mode.sh': { content: 'x', mode: 0o755 },
        'kind': { link: 'target' },
        'was-file': { 'now-inside.txt': 'in' },
        'dir': { 'keep.txt': 'k', 'new.txt': 'n' },
        'new-folder': { 'x': { 'y.txt': 'y' } },
        'a-b': 'sorts before a/b',
      },
    });
    const diff = await diffTrees(batch, before, after);
    assert.deepEqual(diff.added.map((c) => c.path), ['ws/a-b', 'ws/dir/new.txt', 'ws/new-folder/x/y.txt', 'ws/was-file/now-inside.txt']);
    assert.deepEqual(diff.modified.map((c) => c.path), ['ws/edit.txt', 'ws/kind', 'ws/mode.sh']);
    assert.deepEqual(diff.deleted.map((c) => c.path), ['ws/dir/gone/deep.txt', 'ws/gone.txt', 'ws/old-folder/a.txt', 'ws/old-folder/b/c.txt', 'ws/was-file']);
    const edit = diff.modified[0]!;
    assert.deepEqual(edit.before, { kind: 'f', hash: blob('v1'), size: 2, mode: 0o644 });
    assert.deepEqual(edit.after, { kind: 'f', hash: blob('v2'), size: 2, mode: 0o644 });
    assert.equal(diff.modified[1]!.before!.kind, 'f');
    assert.equal(diff.modified[1]!.after!.kind, 'l');
    assert.equal(diff.added[0]!.before, undefined);
    assert.equal(diff.deleted[0]!.after, undefined);
    assert.deepEqual(await countChanges(batch, before, after), { added: 4, modified: 3, deleted: 5 });
    // the reverse swaps added and deleted
    const back = await diffTrees(batch, after, before);
    assert.deepEqual(back.added.map((c) => c.path), diff.deleted.map((c) => c.path));
    assert.deepEqual(back.deleted.map((c) => c.path), diff.added.map((c) => c.path));
    // limited to a folder
    const dirOnly = await diffTrees(batch, before, after, { under: 'ws/dir' });
    assert.deepEqual([dirOnly.added.map((c) => c.path), dirOnly.deleted.map((c) => c.path), dirOnly.modified.length], [['ws/dir/new.txt'], ['ws/dir/gone/deep.txt'], 0]);
    const fileOnly = await diffTrees(batch, before, after, { under: 'ws/was-file' });
    assert.deepEqual([fileOnly.added.map((c) => c.path), fileOnly.deleted.map((c) => c.path)], [['ws/was-file/now-inside.txt'], ['ws/was-file']]);
  });

  test('from nothing, everything is added; identical roots give nothing without reading a tree', async () => {
    const { batch } = await store();
    const root = await point(batch, { a: { 'x.txt': 'x', sub: { 'y.txt': 'y' } }, b: { 'z.txt': 'z' } });
    const diff = await diffTrees(batch, null, root);
    assert.deepEqual(diff.added.map((c) => c.path), ['a/sub/y.txt', 'a/x.txt', 'b/z.txt']);
    assert.deepEqual([diff.modified, diff.deleted], [[], []]);
    const counting = new CountingReader(batch);
    assert.deepEqual(await diffTrees(counting, root, root), { added: [], modified: [], deleted: [] });
    assert.equal(counting.treeReads, 0);
  });

  test('on a 50,000-file tree a one-file change reads only the trees on its path', async () => {
    const { objects, batch } = await store();
    const rootDir: Record<string, Record<string, Record<string, string>>> = {};
    for (let i = 0; i < 50; i++) {
      const top: Record<string, Record<string, string>> = {};
      for (let j = 0; j < 10; j++) {
        const leaf: Record<string, string> = {};
        for (let k = 0; k < 100; k++) leaf[`f${k}.ts`] = `content ${i} ${j} ${k}`;
        top[`sub${j}`] = leaf;
      }
      rootDir[`pkg${i}`] = top;
    }
    const before = await point(batch, { ws: rootDir });
    rootDir.pkg17!.sub4!['f42.ts'] = 'changed';
    const after = await point(batch, { ws: rootDir });
    await batch.commit();
    const counting = new CountingReader(objects);
    const diff = await diffTrees(counting, before, after);
    assert.deepEqual(diff.modified.map((c) => c.path), ['ws/pkg17/sub4/f42.ts']);
    assert.deepEqual([diff.added.length, diff.deleted.length], [0, 0]);
    assert.equal(counting.treeReads, 8, 'root, ws, pkg17 and pkg17/sub4, on both sides');
    const counted = new CountingReader(objects);
    assert.deepEqual(await countChanges(counted, before, after), { added: 0, modified: 1, deleted: 0 });
    assert.equal(counted.treeReads, 8);
    const lookups = new CountingReader(objects);
    assert.equal((await lookupEntry(lookups, after, 'ws/pkg17/sub4/f42.ts'))!.hash, blob('changed'));
    assert.equal(lookups.treeReads, 4);
    assert.equal((await listFiles(objects, after)).size, 50_000);
  });
});
