import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { diffTrees } from '../../src/core/capture';
import { fileHistory, readFileHistory, type FileVersion } from '../../src/core/history/fileHistory';
import type { Logger } from '../../src/core/logger';
import type { ObjectStore } from '../../src/core/objects/objectStore';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import { CHANGE_INDEX_VERSION } from '../../src/core/schemas';
import { cleanupAll, makeSandbox, openStore, writeFiles, type Sandbox } from './helpers/storeFixtures';

after(cleanupAll);

function brief(versions: readonly FileVersion[]) {
  return versions.map((v) => ({ kind: v.kind, point: v.point.id, path: v.path, hash: v.hash, lines: v.lines, renamedFrom: v.renamedFrom, previous: v.previous?.pointId }));
}

/** Counts the trees read through the store's object store from now on. */
function countTreeReads(objects: ObjectStore): { readonly count: number } {
  const counter = { count: 0 };
  const read = objects.readTree.bind(objects);
  objects.readTree = (hash: string) => {
    counter.count++;
    return read(hash);
  };
  return counter;
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (message: string) => warnings.push(message), error: () => undefined } as unknown as Logger & { warnings: string[] };
}

/** A store with points that edit, rename and delete files in a few folders; cleaned up once (which writes the index). */
async function storeWithHistory(sb: Sandbox): Promise<void> {
  const store = await openStore(sb);
  const steps: Array<Record<string, string | null>> = [
    { 'src/a.ts': 'a1\n', 'src/b.ts': 'b1\n', 'docs/readme.md': 'r1\n', 'lib/deep/c.ts': 'c1\n' },
    { 'src/a.ts': 'a1\na2\n' },
    { 'docs/readme.md': 'r2\n' },
    { 'src/a.ts': null, 'lib/a.ts': 'a1\na2\n' },
    { 'lib/a.ts': 'a1\na2\na3\n', 'lib/deep/c.ts': 'c2\n' },
    { 'src/b.ts': null },
    { 'lib/a.ts': 'a1\na2\n' },
  ];
  for (const [i, files] of steps.entries()) {
    await writeFiles(sb.ws, files);
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', summary: `step ${i}` });
  }
  await store.recovery.cleanupRecoveryPoints();
  await store.close();
}

/** The history of a path read from the trees alone (no change index). */
async function fromTrees(store: RecoveryStore, workspacePath: string): Promise<FileVersion[]> {
  const points = await store.recovery.listRecoveryPoints();
  return (await fileHistory({ objects: await store.persistence.objects(), points, roots: store.persistence.workspaceRoots }, workspacePath)).versions;
}

describe('the change index', () => {
  test('after a clean-up, a file history and the first point\'s changes read no tree for the points it holds, and say what the trees say', async () => {
    const sb = await makeSandbox();
    await storeWithHistory(sb);
    const store = await openStore(sb);
    const reads = countTreeReads(await store.persistence.objects());
    const history = await readFileHistory(store, 'ws/lib/a.ts');
    // only the oldest point is looked up in the trees, under each of the file's two names (root, folder, file's folder)
    assert.ok(reads.count <= 6, `${reads.count} trees read`);
    const points = await store.recovery.listRecoveryPoints();
    const first = points[points.length - 1]!;
    const before = reads.count;
    const changes = await store.recovery.changedFiles(first.id);
    assert.equal(reads.count, before, 'the first point\'s changes come from the index');
    assert.deepEqual(changes, await diffTrees(await store.persistence.objects(), null, first.root));
    assert.deepEqual(brief(history.versions), brief(await fromTrees(store, 'ws/lib/a.ts')));
    assert.deepEqual(
      history.versions.map((v) => [v.kind, v.path, v.renamedFrom]),
      [
        ['version', 'ws/lib/a.ts', undefined],
        ['version', 'ws/lib/a.ts', undefined],
        ['version', 'ws/lib/a.ts', 'ws/src/a.ts'],
        ['version', 'ws/src/a.ts', undefined],
        ['version', 'ws/src/a.ts', undefined],
      ],
    );
    for (const p of ['ws/src/b.ts', 'ws/lib/deep/c.ts', 'ws/docs/readme.md']) assert.deepEqual(brief((await readFileHistory(store, p)).versions), brief(await fromTrees(store, p)), p);
  });

  test('an index an older version wrote (version 1: git\'s line counts) is rebuilt without a warning, and written again', async () => {
    const sb = await makeSandbox();
    await storeWithHistory(sb);
    const file = path.join(sb.store, 'cache', 'change-index.json');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace(`"schemaVersion":${CHANGE_INDEX_VERSION}`, '"schemaVersion":1'));
    const logger = recordingLogger();
    const store = await openStore(sb, { logger });
    const reads = countTreeReads(await store.persistence.objects());
    const history = await readFileHistory(store, 'ws/lib/a.ts');
    assert.ok(reads.count > 6, `its entries are not used: ${reads.count} trees read`);
    assert.deepEqual(logger.warnings, [], 'an upgrade is not a problem to warn about');
    assert.deepEqual(brief(history.versions), brief(await fromTrees(store, 'ws/lib/a.ts')));
    await store.close();
    assert.match(await fs.readFile(file, 'utf8'), new RegExp(`^\\{"schemaVersion":${CHANGE_INDEX_VERSION},`), 'written again in the current version');
  });

  for (const [damage, spoil] of [
    ['a changed digit (the checksum no longer matches)', (text: string) => text.replace(/("hashes":"[0-9a-f]{10})([0-9a-f])/, (_m, head: string, digit: string) => head + (digit === '0' ? '1' : '0'))],
    ['a torn end (a write cut short)', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ['columns that do not match, under a checksum that does', (text: string) => resum(text.replace(/"sizes":"(\d+)/, '"sizes":"$1,7'))],
    ['another version', (text: string) => text.replace('"schemaVersion":2', '"schemaVersion":99')],
  ] as const) {
    test(`an index with ${damage} is not trusted: listings stay true and it is written again`, async () => {
      const sb = await makeSandbox();
      await storeWithHistory(sb);
      const file = path.join(sb.store, 'cache', 'change-index.json');
      const good = await fs.readFile(file, 'utf8');
      const spoilt = spoil(good);
      assert.notEqual(spoilt, good);
      await fs.writeFile(file, spoilt);
      const logger = recordingLogger();
      const store = await openStore(sb, { logger });
      const reads = countTreeReads(await store.persistence.objects());
      const history = await readFileHistory(store, 'ws/lib/a.ts');
      assert.ok(reads.count > 6, `read from the trees: ${reads.count}`);
      assert.match(logger.warnings.join('\n'), /change index .* is not used and will be rebuilt/);
      assert.deepEqual(brief(history.versions), brief(await fromTrees(store, 'ws/lib/a.ts')));
      const first = (await store.recovery.listRecoveryPoints()).at(-1)!;
      assert.deepEqual(await store.recovery.changedFiles(first.id), await diffTrees(await store.persistence.objects(), null, first.root));
      await store.close();

      const again = await openStore(sb, { logger: recordingLogger() });
      const readsAgain = countTreeReads(await again.persistence.objects());
      assert.deepEqual(brief((await readFileHistory(again, 'ws/lib/a.ts')).versions), brief(history.versions));
      assert.ok(readsAgain.count <= 6, `written again: ${readsAgain.count} trees read`);
    });
  }

  test('kept true by a clean-up that removes points: their pairs are dropped, the new neighbours\' added, and listings match the trees', async () => {
    const sb = await makeSandbox();
    await storeWithHistory(sb);
    let store = await openStore(sb);
    const points = await store.recovery.listRecoveryPoints();
    // the oldest and two in the middle (one of them the rename) go
    await store.recovery.deletePoints([points[3]!.id, points[1]!.id, points[points.length - 1]!.id]);
    await store.recovery.cleanupRecoveryPoints();
    const index = await store.persistence.changeIndex();
    assert.equal(index.size, points.length - 3, 'one pair per listed point');
    await store.close();

    store = await openStore(sb);
    const left = await store.recovery.listRecoveryPoints();
    const reads = countTreeReads(await store.persistence.objects());
    for (const p of ['ws/lib/a.ts', 'ws/src/a.ts', 'ws/src/b.ts', 'ws/docs/readme.md']) {
      assert.deepEqual(brief((await readFileHistory(store, p)).versions), brief(await fromTrees(store, p)), p);
    }
    const oldest = left.at(-1)!;
    const before = reads.count;
    assert.deepEqual(await store.recovery.changedFiles(oldest.id), await diffTrees(await store.persistence.objects(), null, oldest.root));
    assert.ok(reads.count > before, 'the comparison above reads the trees');
  });

  test('a point made on the open store is recorded as it is made: its changes are read without a tree', async () => {
    const sb = await makeSandbox();
    await storeWithHistory(sb);
    const store = await openStore(sb);
    await readFileHistory(store, 'ws/lib/a.ts');
    await writeFiles(sb.ws, { 'lib/a.ts': 'new\n' });
    const made = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save' }))!;
    const reads = countTreeReads(await store.persistence.objects());
    const changes = await store.recovery.changedFiles(made.id);
    assert.equal(reads.count, 0);
    assert.deepEqual(changes.modified.map((c) => c.path), ['ws/lib/a.ts']);
    assert.equal((await readFileHistory(store, 'ws/lib/a.ts')).versions[0]!.point.id, made.id);
    assert.equal(reads.count, 0);
  });
});

/** A store whose first point holds `files` files (a pair of that many changes has a document of its own), then edits and a rename; cleaned up once. */
async function storeWithLargeFirstPoint(sb: Sandbox, files = 1200): Promise<void> {
  const many: Record<string, string> = {};
  for (let i = 0; i < files; i++) many[`bulk/d${i % 30}/f${i}.txt`] = `file ${i}\n`;
  await writeFiles(sb.ws, { ...many, 'src/a.ts': 'a1\n' });
  const store = await openStore(sb);
  await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
  const steps: Array<Record<string, string | null>> = [{ 'src/a.ts': 'a1\na2\n' }, { 'bulk/d1/f1.txt': 'changed\n' }, { 'src/a.ts': null, 'lib/a.ts': 'a1\na2\n' }, { 'lib/a.ts': 'a3\n' }];
  for (const files of steps) {
    await writeFiles(sb.ws, files);
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'save' });
  }
  await store.recovery.cleanupRecoveryPoints();
  await store.close();
}

function largeDir(sb: Sandbox): string {
  return path.join(sb.store, 'cache', 'change-index-large');
}

async function largeDocuments(sb: Sandbox): Promise<string[]> {
  return (await fs.readdir(largeDir(sb)).catch(() => [])).filter((name) => name.endsWith('.json')).sort();
}

/** The pairs (as `from>to`) a change index document holds. */
function pairsOf(text: string): string[] {
  const body = (JSON.parse(text) as { body: { tos: string; froms: string } }).body;
  const pairs: string[] = [];
  for (let at = 0; at < body.tos.length; at += 64) pairs.push(`${body.froms.slice(at, at + 64)}>${body.tos.slice(at, at + 64)}`);
  return pairs;
}

/** One document holding the pairs, folder names and line counts of both (as an index written before large pairs had documents of their own). */
function merged(a: string, b: string): string {
  type Body = Record<string, string>;
  const x = (JSON.parse(a) as { body: Body }).body;
  const y = (JSON.parse(b) as { body: Body }).body;
  const join = (key: string, separator: string) => [x[key], y[key]].filter((v) => v !== '').join(separator);
  const body: Body = {};
  for (const key of Object.keys(x)) body[key] = ['paths', 'folderNames'].includes(key) ? join(key, '\0') : ['counts', 'sizes', 'modes', 'lineCounts'].includes(key) ? join(key, ',') : join(key, '');
  return resum(`{"schemaVersion":2,"checksum":"${'0'.repeat(64)}","body":${JSON.stringify(body)}}`);
}

describe('the change index\'s large pairs', () => {
  test('a first point\'s list of every file is kept in a document of its own, which a file\'s history never reads', async () => {
    const sb = await makeSandbox();
    await storeWithLargeFirstPoint(sb);
    const [doc, ...others] = await largeDocuments(sb);
    assert.ok(doc, 'the first point\'s pair has its own document');
    assert.deepEqual(others, []);
    const store = await openStore(sb);
    const points = await store.recovery.listRecoveryPoints();
    const first = points.at(-1)!;
    assert.equal(doc, `none-${first.root}.json`);
    const main = await fs.readFile(path.join(sb.store, 'cache', 'change-index.json'), 'utf8');
    assert.ok(!pairsOf(main).includes(`${'-'.repeat(64)}>${first.root}`), 'not in the main index');
    assert.equal(pairsOf(main).length, points.length - 1);
    // a history does not read it: spoilt, it goes unnoticed until the first point's changes are asked for
    await fs.writeFile(path.join(largeDir(sb), doc), '{"torn');
    const logger = recordingLogger();
    await store.close();
    const again = await openStore(sb, { logger });
    const history = await readFileHistory(again, 'ws/lib/a.ts');
    assert.deepEqual(brief(history.versions), brief(await fromTrees(again, 'ws/lib/a.ts')));
    assert.deepEqual(logger.warnings, []);
    assert.deepEqual(await again.recovery.changedFiles(first.id), await diffTrees(await again.persistence.objects(), null, first.root));
    assert.match(logger.warnings.join('\n'), /change index .*none-.* is not used and will be rebuilt/);
    await again.close();
  });

  for (const [damage, spoil] of [
    ['a changed digit', (text: string) => text.replace(/("hashes":"[0-9a-f]{10})([0-9a-f])/, (_m, head: string, digit: string) => head + (digit === '0' ? '1' : '0'))],
    ['a torn end', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ['another version', (text: string) => text.replace('"schemaVersion":2', '"schemaVersion":99')],
    ['another pair than its name says', (text: string) => resum(text.replace(/"tos":"([0-9a-f])/, (_m, digit: string) => `"tos":"${digit === '0' ? '1' : '0'}`))],
  ] as const) {
    test(`a large pair's document with ${damage} is not trusted: the changes come from the trees and it is written again`, async () => {
      const sb = await makeSandbox();
      await storeWithLargeFirstPoint(sb);
      const [doc] = await largeDocuments(sb);
      const file = path.join(largeDir(sb), doc!);
      const good = await fs.readFile(file, 'utf8');
      const spoilt = spoil(good);
      assert.notEqual(spoilt, good);
      await fs.writeFile(file, spoilt);
      const logger = recordingLogger();
      const store = await openStore(sb, { logger });
      const first = (await store.recovery.listRecoveryPoints()).at(-1)!;
      const reads = countTreeReads(await store.persistence.objects());
      const changes = await store.recovery.changedFiles(first.id);
      assert.ok(reads.count > 30, `read from the trees: ${reads.count}`);
      assert.deepEqual(changes, await diffTrees(await store.persistence.objects(), null, first.root));
      assert.match(logger.warnings.join('\n'), /is not used and will be rebuilt/);
      await store.close();
      assert.equal(await fs.readFile(file, 'utf8'), good, 'written again as it was');

      const again = await openStore(sb, { logger: recordingLogger() });
      const readsAgain = countTreeReads(await again.persistence.objects());
      const changesAgain = await again.recovery.changedFiles(first.id);
      assert.equal(readsAgain.count, 0);
      assert.deepEqual(changesAgain, await diffTrees(await again.persistence.objects(), null, first.root));
    });
  }

  test('an index that holds a large pair among the others (as written before) is used as it is, and the pair moved to its own document', async () => {
    const sb = await makeSandbox();
    await storeWithLargeFirstPoint(sb);
    const [doc] = await largeDocuments(sb);
    const mainFile = path.join(sb.store, 'cache', 'change-index.json');
    const large = await fs.readFile(path.join(largeDir(sb), doc!), 'utf8');
    await fs.writeFile(mainFile, merged(await fs.readFile(mainFile, 'utf8'), large));
    await fs.rm(largeDir(sb), { recursive: true });
    const logger = recordingLogger();
    const store = await openStore(sb, { logger });
    const first = (await store.recovery.listRecoveryPoints()).at(-1)!;
    const reads = countTreeReads(await store.persistence.objects());
    const changes = await store.recovery.changedFiles(first.id);
    assert.equal(reads.count, 0, 'the pair is taken from the index');
    assert.deepEqual(changes, await diffTrees(await store.persistence.objects(), null, first.root));
    assert.deepEqual(logger.warnings, []);
    await store.close();
    assert.deepEqual(await largeDocuments(sb), [doc]);
    assert.equal(await fs.readFile(path.join(largeDir(sb), doc!), 'utf8'), large);
    assert.ok(!pairsOf(await fs.readFile(mainFile, 'utf8')).includes(`${'-'.repeat(64)}>${first.root}`));
  });

  test('a clean-up that removes the oldest point removes its document; the new oldest point\'s list gets one', async () => {
    const sb = await makeSandbox();
    await storeWithLargeFirstPoint(sb);
    const store = await openStore(sb);
    const points = await store.recovery.listRecoveryPoints();
    await store.recovery.deletePoints([points.at(-1)!.id]);
    await store.recovery.cleanupRecoveryPoints();
    await store.close();
    const oldest = points.at(-2)!;
    assert.deepEqual(await largeDocuments(sb), [`none-${oldest.root}.json`]);
    const again = await openStore(sb);
    const reads = countTreeReads(await again.persistence.objects());
    const changes = await again.recovery.changedFiles(oldest.id);
    assert.equal(reads.count, 0);
    assert.deepEqual(changes, await diffTrees(await again.persistence.objects(), null, oldest.root));
    for (const p of ['ws/lib/a.ts', 'ws/src/a.ts', 'ws/bulk/d1/f1.txt']) assert.deepEqual(brief((await readFileHistory(again, p)).versions), brief(await fromTrees(again, p)), p);
  });
});

describe('a point\'s changes asked for alone', () => {
  test('in a process that has not read a large index: none of it is read; a small pair comes from its trees, a large one from its own document', async () => {
    const sb = await makeSandbox();
    await storeWithLargeFirstPoint(sb);
    // spoilt, and as large as a long history's: a process that read it would say so (and rebuild it)
    const mainFile = path.join(sb.store, 'cache', 'change-index.json');
    await fs.writeFile(mainFile, `{"torn${' '.repeat(300 * 1024)}`);
    const logger = recordingLogger();
    const store = await openStore(sb, { logger });
    const objects = await store.persistence.objects();
    const points = await store.recovery.listRecoveryPoints();
    for (const [i, point] of points.slice(0, -1).entries()) {
      assert.deepEqual(await store.recovery.changedFiles(point.id), await diffTrees(objects, points[i + 1]!.root, point.root), point.id);
    }
    const first = points.at(-1)!;
    const reads = countTreeReads(objects);
    const changes = await store.recovery.changedFiles(first.id, points);
    assert.equal(reads.count, 0, 'the first point\'s list read from its own document');
    assert.equal(changes.added.length, 1201);
    assert.deepEqual(changes, await diffTrees(objects, null, first.root));
    assert.equal(store.persistence.loadedChangeIndex(), undefined);
    assert.deepEqual(logger.warnings, []);
    // a caller that asks for many points' changes reads the index once
    assert.deepEqual(await store.recovery.changedFiles(points[0]!.id, points, { many: true }), await diffTrees(objects, points[1]!.root, points[0]!.root));
    assert.ok(store.persistence.loadedChangeIndex());
    assert.match(logger.warnings.join('\n'), /change index .* is not used and will be rebuilt/);
    await store.close();
  });

  test('a small index is read for it (it may hold the pair): no tree is read', async () => {
    const sb = await makeSandbox();
    await storeWithHistory(sb);
    const store = await openStore(sb);
    const objects = await store.persistence.objects();
    const points = await store.recovery.listRecoveryPoints();
    const reads = countTreeReads(objects);
    const changes = await store.recovery.changedFiles(points[0]!.id, points);
    assert.equal(reads.count, 0);
    assert.ok(store.persistence.loadedChangeIndex());
    assert.deepEqual(changes, await diffTrees(objects, points[1]!.root, points[0]!.root));
    await store.close();
  });

  test('a large pair without a usable document of its own is read through the index, which writes its document again', async () => {
    const sb = await makeSandbox();
    await storeWithLargeFirstPoint(sb);
    const [doc] = await largeDocuments(sb);
    const good = await fs.readFile(path.join(largeDir(sb), doc!), 'utf8');
    await fs.rm(path.join(largeDir(sb), doc!));
    const store = await openStore(sb, { logger: recordingLogger() });
    const objects = await store.persistence.objects();
    const first = (await store.recovery.listRecoveryPoints()).at(-1)!;
    assert.deepEqual(await store.recovery.changedFiles(first.id), await diffTrees(objects, null, first.root));
    assert.ok(store.persistence.loadedChangeIndex(), 'the index was read for it');
    await store.close();
    assert.equal(await fs.readFile(path.join(largeDir(sb), doc!), 'utf8'), good);
  });
});

describe('the change index read in steps', () => {
  test('a large pair\'s document longer than one step per column (checked and split in pieces) gives the changes the trees give', async () => {
    const sb = await makeSandbox();
    const many: Record<string, string> = {};
    for (let i = 0; i < 1300; i++) many[`bulk/d${i % 7}/${'long-name-'.repeat(13)}${i}.txt`] = `file ${i}\n`;
    await writeFiles(sb.ws, { ...many, 'src/a.ts': 'a1\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    await writeFiles(sb.ws, { 'src/a.ts': 'a1\na2\n' });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'save' });
    await store.recovery.cleanupRecoveryPoints();
    await store.close();
    const [doc] = await largeDocuments(sb);
    const text = await fs.readFile(path.join(largeDir(sb), doc!), 'utf8');
    const body = (JSON.parse(text) as { body: Record<string, string> }).body;
    // the sizes the stepped reading is for: a document checked in steps, paths and hashes split over several
    assert.ok(text.length > 256 * 1024 && body.paths!.length > 2 * 64 * 1024 && body.hashes!.length > 64 * 1024, `${text.length} characters`);
    const logger = recordingLogger();
    const again = await openStore(sb, { logger });
    const points = await again.recovery.listRecoveryPoints();
    const first = points.at(-1)!;
    const reads = countTreeReads(await again.persistence.objects());
    const changes = await again.recovery.changedFiles(first.id);
    assert.equal(reads.count, 0, 'read from its document');
    assert.equal(changes.added.length, 1301);
    assert.deepEqual(changes, await diffTrees(await again.persistence.objects(), null, first.root));
    assert.deepEqual(logger.warnings, []);
    await again.close();
  });
});

/** The document with its checksum made to match its (changed) body. */
function resum(text: string): string {
  const at = text.indexOf('"body":') + '"body":'.length;
  const body = text.slice(at, -1);
  return text.replace(/"checksum":"[0-9a-f]{64}"/, `"checksum":"${createHash('sha256').update(body).digest('hex')}"`);
}
