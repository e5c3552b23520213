/**
 * Paths a point could not read back (#9): a path longer than the system allows, names that are not
 * valid UTF-8, a link whose target is not, and a hint that names a file through a linked folder.
 * Unreadable folders need another user than root: test/reliability/hostileInput.test.ts covers them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { CaptureCache, listFiles } from '../../src/core/capture';
import { escapeName, shortPath, StateError } from '../../src/core/errors';
import type { Logger } from '../../src/core/logger';
import { makeDeepPath, removeDeep } from './helpers/deepPath';
import { ageAll, CaptureHarness, cleanupTempDirs, tempDir, writeTree } from './helpers/captureFixtures';
import { cleanupAll, makeSandbox, openStore, writeFiles } from './helpers/storeFixtures';

after(cleanupTempDirs);
after(cleanupAll);

const posixOnly = { skip: process.platform === 'win32' ? 'POSIX names and paths' : false };

/** Collects the warnings a capture logs. */
function warnings(): { logger: Logger; said: string[] } {
  const said: string[] = [];
  return { said, logger: { debug: () => undefined, info: () => undefined, warn: (m) => said.push(m), error: (m) => said.push(m) } };
}

describe('a path longer than the system allows (ENAMETOOLONG)', posixOnly, () => {
  test('is skipped and listed, every other file is captured, and every message stays short', async () => {
    const ws = await tempDir('rp-long-');
    await writeTree(ws, { 'a.txt': 'a', 'src/b.txt': 'b' });
    const deep = makeDeepPath(ws);
    try {
      const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
      const { logger, said } = warnings();
      const result = await h.capture({ logger });
      const files = [...(await listFiles(h.objects, result.root)).keys()];
      assert.deepEqual(files.filter((f) => !f.startsWith('ws/deep/')), ['ws/a.txt', 'ws/src/b.txt']);
      const tooLong = result.skipped.filter((s) => s.kind === 'path-too-long');
      assert.equal(tooLong.length, 1);
      assert.ok(tooLong[0]!.path.length > 4_096, 'the path itself is listed');
      assert.ok(said.length >= 1 && said.every((m) => m.length < 400), `warnings: ${said.map((m) => m.length).join(', ')} characters`);
    } finally {
      removeDeep(deep);
    }
  });

  test('a StateError never carries a path longer than 200 characters', () => {
    const long = `/ws/${'x'.repeat(4_000)}`;
    const error = new StateError('IoError', `Could not read ${long} (ENAMETOOLONG: name too long, lstat '${long}').`);
    assert.ok(error.message.length < 500, `${error.message.length} characters`);
    assert.ok(error.message.startsWith('Could not read /ws/xxx') && error.message.includes('\u2026'));
    assert.equal(shortPath('/short/path'), '/short/path');
    assert.equal(shortPath(long).length, 200);
  });
});

describe('names that are not valid UTF-8', posixOnly, () => {
  test('files and whole folders are skipped with a warning naming them (escaped), never silently', async () => {
    const ws = await tempDir('rp-names-');
    await writeTree(ws, { 'ok.txt': 'ok', 'ok\uFFFD.txt': 'a valid name holding U+FFFD' });
    const badFile = Buffer.concat([Buffer.from(`${ws}/bad`), Buffer.from([0xff]), Buffer.from('.txt')]);
    const badDir = Buffer.concat([Buffer.from(`${ws}/dir`), Buffer.from([0xfe])]);
    await fs.writeFile(badFile, 'bad');
    await fs.mkdir(badDir);
    await fs.writeFile(Buffer.concat([badDir, Buffer.from('/inner.txt')]), 'inner');
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const { logger, said } = warnings();
    const result = await h.capture({ logger });
    assert.deepEqual([...(await listFiles(h.objects, result.root)).keys()], ['ws/ok.txt', 'ws/ok\uFFFD.txt']);
    assert.deepEqual(result.skipped.filter((s) => s.kind === 'bad-name').map((s) => s.path), [`${ws}/bad\\xff.txt`, `${ws}/dir\\xfe`]);
    assert.equal(result.fileCount, 2);
    assert.ok(said.some((m) => m.includes('bad\\xff.txt') && m.includes('not valid UTF-8')));
    assert.ok(said.some((m) => m.includes('dir\\xfe')));
    assert.equal(escapeName(Buffer.from([0x61, 0xff, 0xe2, 0x82, 0xac, 0xe2, 0x82, 0x0a])), 'a\\xff\u20ac\\xe2\\x82\\x0a');
  });

  test('a link whose target is not valid UTF-8 comes back with the same bytes', async () => {
    const sb = await makeSandbox('rp-link-bytes-');
    await writeFiles(sb.ws, { 'keep.txt': 'k' });
    const target = Buffer.concat([Buffer.from('target-'), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]);
    const link = path.join(sb.ws, 'link');
    await fs.symlink(target, link);
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    await fs.rm(link);
    await fs.symlink('other', link);
    await store.recovery.restore(point.id);
    assert.deepEqual(readlinkSync(link, { encoding: 'buffer' }), target);
    // the workspace now matches the point: a capture reads the link's bytes as the point holds them
    const diff = await store.recovery.diff(point.id);
    assert.deepEqual([diff.added, diff.modified, diff.deleted], [[], [], []]);
  });
});

describe('a hint naming a file through a linked folder', posixOnly, () => {
  async function setup() {
    const ws = await tempDir('rp-hint-link-');
    await writeTree(ws, { 'src/f.txt': 'one', 'src/g.txt': 'g', 'link': { symlink: 'src' } });
    await ageAll(ws);
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const first = await h.capture();
    return { ws, h, first };
  }

  test('a change written through the link is in the point (the same tree as a full scan)', async () => {
    const { ws, h, first } = await setup();
    await fs.writeFile(path.join(ws, 'link', 'f.txt'), 'two, longer');
    const hinted = await h.capture({ previousRoot: first.root, changedPaths: [path.join(ws, 'link', 'f.txt')] });
    const full = await h.capture({ cache: CaptureCache.empty() });
    assert.equal(hinted.mode, 'hint');
    assert.equal(hinted.root, full.root);
    assert.notEqual(hinted.root, first.root);
  });

  test('a file deleted through the link is gone from the point', async () => {
    const { ws, h, first } = await setup();
    await fs.rm(path.join(ws, 'link', 'g.txt'));
    const hinted = await h.capture({ previousRoot: first.root, changedPaths: [path.join(ws, 'link', 'g.txt')] });
    const full = await h.capture({ cache: CaptureCache.empty() });
    assert.equal(hinted.root, full.root);
    assert.equal(hinted.fileCount, full.fileCount);
  });

  test('a file written through a link to it (CLAUDE.md \u2192 AGENTS.md), the link hinted: the point holds the change, the link stays a link', async () => {
    const ws = await tempDir('rp-hint-file-link-');
    await writeTree(ws, { 'AGENTS.md': 'v1\n', 'CLAUDE.md': { symlink: 'AGENTS.md' }, 'docs/README.md': { symlink: '../AGENTS.md' } });
    await ageAll(ws);
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const first = await h.capture();
    await fs.writeFile(path.join(ws, 'CLAUDE.md'), 'v2, written through the link\n');
    const hinted = await h.capture({ previousRoot: first.root, changedPaths: [path.join(ws, 'CLAUDE.md')] });
    const full = await h.capture({ cache: CaptureCache.empty() });
    assert.equal(hinted.mode, 'hint');
    assert.notEqual(hinted.root, first.root, 'the change is in the point');
    assert.equal(hinted.root, full.root, 'the same tree as a full scan');
    await fs.writeFile(path.join(ws, 'docs', 'README.md'), 'v3, through a relative link in a folder\n');
    const again = await h.capture({ previousRoot: hinted.root, changedPaths: [path.join(ws, 'docs', 'README.md')] });
    assert.equal(again.root, (await h.capture({ cache: CaptureCache.empty() })).root);
    assert.notEqual(again.root, hinted.root);
  });

  test('through the store: snapshot with the linked path holds the change', async () => {
    const sb = await makeSandbox('rp-hint-link-store-');
    await writeFiles(sb.ws, { 'src/f.txt': 'one', 'link': { symlink: 'src' } });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    await fs.writeFile(path.join(sb.ws, 'link', 'f.txt'), 'two');
    const point = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'link', 'f.txt')] }))!;
    assert.deepEqual(point.changes, { added: 0, modified: 1, deleted: 0 });
    await fs.writeFile(path.join(sb.ws, 'src', 'f.txt'), 'three');
    await store.recovery.restore(point.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'src', 'f.txt'), 'utf8'), 'two');
  });
});
