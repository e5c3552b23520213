import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { CaptureCache, RACY_WINDOW_MS, type FileStamp } from '../../src/core/capture';
import { hashObject } from '../../src/core/objects/hash';
import { cleanupTempDirs, tempDir } from './helpers/captureFixtures';

after(cleanupTempDirs);

const HASH = hashObject('blob', Buffer.from('a'));
const OTHER = hashObject('blob', Buffer.from('b'));
const NOW = Date.now();
const stamp = (over: Partial<FileStamp> = {}): FileStamp => ({ size: 10, mtimeMs: NOW - 60_000, ctimeMs: NOW - 60_000, ino: 42, mode: 0o100644, ...over });

async function cacheFile(): Promise<string> {
  return path.join(await tempDir('rp-cache-'), 'cache', 'capture-cache.json');
}

describe('capture cache', () => {
  test('a hit needs size, mtime, ctime and inode to match', () => {
    const cache = CaptureCache.empty();
    cache.record('ws', 'a.txt', stamp(), HASH, NOW);
    assert.equal(cache.lookup('ws', 'a.txt', stamp()), HASH);
    assert.equal(cache.lookup('ws', 'a.txt', stamp({ mode: 0o100755 })), HASH, 'a mode change alone also changes ctime; mode is read from the stat');
    for (const change of [{ size: 11 }, { mtimeMs: NOW - 59_999 }, { ctimeMs: NOW - 1 }, { ino: 43 }]) {
      assert.equal(cache.lookup('ws', 'a.txt', stamp(change)), undefined, JSON.stringify(change));
    }
    assert.equal(cache.lookup('other-root', 'a.txt', stamp()), undefined);
    assert.equal(cache.lookup('ws', 'b.txt', stamp()), undefined);
  });

  test('a racy entry (mtime within the window before hashing, or later) is not kept, and drops the old one', () => {
    const cache = CaptureCache.empty();
    cache.record('ws', 'a.txt', stamp(), HASH, NOW);
    assert.equal(cache.lookup('ws', 'a.txt', stamp()), HASH);
    const racy = stamp({ mtimeMs: NOW - RACY_WINDOW_MS + 1 });
    cache.record('ws', 'a.txt', racy, OTHER, NOW);
    assert.equal(cache.lookup('ws', 'a.txt', racy), undefined);
    assert.equal(cache.lookup('ws', 'a.txt', stamp()), undefined, 'the old entry is gone too');
    cache.record('ws', 'b.txt', stamp({ mtimeMs: NOW + 5000 }), HASH, NOW);
    assert.equal(cache.size('ws'), 0);
    cache.record('ws', 'c.txt', stamp({ mtimeMs: NOW - RACY_WINDOW_MS }), HASH, NOW);
    assert.equal(cache.size('ws'), 1, 'exactly the window is not racy');
  });

  test('missing, damaged or foreign files load as an empty cache', async () => {
    const file = await cacheFile();
    const missing = await CaptureCache.load(file);
    assert.equal(missing.size(), 0);
    assert.equal(missing.dirty, false);
    await fs.mkdir(path.dirname(file), { recursive: true });
    for (const content of ['{not json', '[]', JSON.stringify({ schemaVersion: 1, roots: { ws: { 'a.txt': [1, 2, 3, 4, 'not-a-hash', 5] } } }), '']) {
      await fs.writeFile(file, content);
      const cache = await CaptureCache.load(file);
      assert.equal(cache.size(), 0, content);
      assert.equal(cache.dirty, true, 'a damaged cache is rewritten on the next save');
    }
  });

  test('save writes only when something changed, owner-only, and loads back identically', async () => {
    const file = await cacheFile();
    const cache = CaptureCache.empty(file);
    assert.equal(await cache.save(), false, 'nothing to write');
    await assert.rejects(fs.stat(file));
    cache.record('ws', 'a.txt', stamp(), HASH, NOW);
    cache.record('ws', 'dir/__proto__', stamp({ ino: 7 }), OTHER, NOW);
    cache.record('second', 'constructor', stamp({ ino: 8 }), OTHER, NOW);
    assert.equal(cache.dirty, true);
    assert.equal(await cache.save(), true);
    assert.equal(cache.dirty, false);
    if (process.platform !== 'win32') assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    const written = (await fs.stat(file)).mtimeMs;
    cache.record('ws', 'a.txt', stamp(), HASH, NOW); // the same again: not a change
    assert.equal(cache.dirty, false);
    assert.equal(await cache.save(), false);
    assert.equal((await fs.stat(file)).mtimeMs, written);
    const loaded = await CaptureCache.load(file);
    assert.equal(loaded.dirty, false);
    assert.equal(loaded.size(), 3);
    assert.equal(loaded.lookup('ws', 'a.txt', stamp()), HASH);
    assert.equal(loaded.lookup('ws', 'dir/__proto__', stamp({ ino: 7 })), OTHER);
    assert.equal(loaded.lookup('second', 'constructor', stamp({ ino: 8 })), OTHER);
  });

  test('save never throws: an unwritable place is logged and the cache stays dirty', async () => {
    const dir = await tempDir('rp-cache-');
    await fs.writeFile(path.join(dir, 'blocker'), 'a file where a folder should be');
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const cache = CaptureCache.empty(path.join(dir, 'blocker', 'cache.json'), logger);
    cache.record('ws', 'a.txt', stamp(), HASH, NOW);
    assert.equal(await cache.save(), false);
    assert.equal(cache.dirty, true);
    assert.equal(warnings.length, 1);
  });

  test('forget, prune (whole root or inside folders) and retainRoots', () => {
    const cache = CaptureCache.empty();
    for (const rel of ['a.txt', 'src/b.ts', 'src/deep/c.ts', 'srcx/d.ts', 'lib/e.ts']) cache.record('ws', rel, stamp(), HASH, NOW);
    cache.record('other', 'x.txt', stamp(), HASH, NOW);
    cache.forget('ws', 'a.txt');
    cache.forget('ws', 'never.txt');
    assert.equal(cache.size('ws'), 4);
    cache.prune('ws', new Set(['src/b.ts']), ['src']);
    assert.equal(cache.lookup('ws', 'src/b.ts', stamp()), HASH);
    assert.equal(cache.lookup('ws', 'src/deep/c.ts', stamp()), undefined);
    assert.equal(cache.lookup('ws', 'srcx/d.ts', stamp()), HASH, 'a sibling with a common prefix is outside the folder');
    cache.prune('ws', new Set(), []);
    assert.equal(cache.size('ws'), 3, 'no folders: nothing pruned');
    cache.prune('ws', new Set(['lib/e.ts']));
    assert.deepEqual([cache.size('ws'), cache.size('other')], [1, 1]);
    cache.retainRoots(['ws']);
    assert.deepEqual([cache.size('ws'), cache.size('other')], [1, 0]);
  });
});
