import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { CaptureCache, RACY_WINDOW_MS, type FileStamp } from '../../src/core/capture';
import { documentBytes, toColumns } from '../../src/core/capture/captureCache';
import { SCHEMA_VERSION, type CaptureCacheEntry } from '../../src/core/schemas';
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

  test('a racy file is kept aside until its window has passed, then given back once; a later record that is not racy drops it', () => {
    const cache = CaptureCache.empty();
    cache.record('ws', 'a.txt', stamp({ mtimeMs: NOW - 500 }), HASH, NOW);
    cache.record('ws', 'b.txt', stamp({ mtimeMs: NOW - 400, ino: 43 }), OTHER, NOW);
    assert.equal(cache.lookup('ws', 'a.txt', stamp({ mtimeMs: NOW - 500 })), undefined, 'not kept while racy');
    assert.deepEqual(cache.takeSettled(NOW), [], 'both are still within the window');
    cache.record('ws', 'b.txt', stamp({ mtimeMs: NOW - 400, ino: 43 }), OTHER, NOW + RACY_WINDOW_MS);
    const settled = cache.takeSettled(NOW - 500 + RACY_WINDOW_MS);
    assert.deepEqual(settled.map((f) => [f.root, f.rel, f.hash, f.stat.mtimeMs]), [['ws', 'a.txt', HASH, NOW - 500]], 'b.txt was recorded since, out of the window');
    assert.deepEqual(cache.takeSettled(NOW + 60_000), [], 'given back once');
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

  test('the document is written in pieces, as the same text JSON.stringify gives for its columns', () => {
    // more entries than one piece holds, names that need escaping, roots with odd names and an empty one
    const roots = new Map<string, Map<string, CaptureCacheEntry>>();
    for (const root of ['ws', 'quote"d', 'é', '__proto__']) {
      const entries = new Map<string, CaptureCacheEntry>();
      for (let i = 0; i < 9000; i++) entries.set(`dir/${root}/"back\\slash"-é-\u0001-${i}.ts`, [i * 7, 1_700_000_000_000.125 + i, 1_700_000_000_001.5, 2 ** 40 + i, i % 2 ? HASH : OTHER, 0o644]);
      roots.set(root, entries);
    }
    roots.set('empty', new Map());
    const columns = Object.fromEntries([...roots].map(([root, entries]) => [root, toColumns(entries)]));
    assert.equal(documentBytes('g1', roots).toString('utf8'), JSON.stringify({ schemaVersion: SCHEMA_VERSION, generation: 'g1', columns }));
    assert.equal(documentBytes('g2', new Map()).toString('utf8'), JSON.stringify({ schemaVersion: SCHEMA_VERSION, generation: 'g2', columns: {} }));
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
  test('a save after the first appends the changes to the journal; the document is not rewritten', async () => {
    const file = await cacheFile();
    const journal = CaptureCache.journalFile(file);
    const cache = CaptureCache.empty(file);
    for (let i = 0; i < 50; i++) cache.record('ws', `f${i}.txt`, stamp({ ino: i }), HASH, NOW);
    assert.equal(await cache.save(), true);
    await assert.rejects(fs.stat(journal), 'the first save writes the whole document');
    const document = await fs.readFile(file, 'utf8');
    cache.record('ws', 'f1.txt', stamp({ ino: 1, size: 11 }), OTHER, NOW); // changed
    cache.forget('ws', 'f2.txt'); // dropped
    cache.record('ws', 'dir/__proto__', stamp({ ino: 100 }), OTHER, NOW); // added
    cache.record('other', 'constructor', stamp({ ino: 101 }), HASH, NOW); // a new root
    assert.equal(await cache.save(), true);
    cache.prune('ws', new Set(['f1.txt', 'f3.txt', 'dir/__proto__']), ['']);
    assert.equal(await cache.save(), true);
    assert.equal(await fs.readFile(file, 'utf8'), document, 'the document is as the first save wrote it');
    assert.equal((await fs.readFile(journal, 'utf8')).trimEnd().split('\n').length, 2, 'one line per save');
    if (process.platform !== 'win32') assert.equal((await fs.stat(journal)).mode & 0o777, 0o600);
    const loaded = await CaptureCache.load(file);
    assert.equal(loaded.dirty, false);
    assert.deepEqual([loaded.size('ws'), loaded.size('other')], [3, 1]);
    assert.equal(loaded.lookup('ws', 'f1.txt', stamp({ ino: 1, size: 11 })), OTHER);
    assert.equal(loaded.lookup('ws', 'f3.txt', stamp({ ino: 3 })), HASH);
    assert.equal(loaded.lookup('ws', 'dir/__proto__', stamp({ ino: 100 })), OTHER);
    assert.equal(loaded.lookup('other', 'constructor', stamp({ ino: 101 })), HASH);
    assert.equal(loaded.has('ws', 'f2.txt'), false);
  });

  test('a torn or invalid journal line is skipped, and the next save rewrites the document and drops the journal', async () => {
    const file = await cacheFile();
    const journal = CaptureCache.journalFile(file);
    const cache = CaptureCache.empty(file);
    cache.record('ws', 'a.txt', stamp(), HASH, NOW);
    await cache.save();
    cache.record('ws', 'b.txt', stamp({ ino: 2 }), HASH, NOW);
    await cache.save();
    const good = await fs.readFile(journal, 'utf8');
    const generation = (JSON.parse(good) as { g: string }).g;
    const invalid = JSON.stringify({ g: generation, set: { ws: { 'c.txt': [1, 2, 3, 4, 'not-a-hash', 5] } }, del: {} });
    await fs.writeFile(journal, `${invalid}\n${good}{"g":"${generation}","set":{"ws":{"d.t`);
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const loaded = await CaptureCache.load(file, logger);
    assert.equal(loaded.lookup('ws', 'b.txt', stamp({ ino: 2 })), HASH, 'the valid line applies');
    assert.equal(loaded.has('ws', 'c.txt'), false);
    assert.equal(loaded.size('ws'), 2);
    assert.equal(warnings.length, 1);
    assert.equal(loaded.dirty, true);
    assert.equal(await loaded.save(), true);
    await assert.rejects(fs.stat(journal), 'the journal is folded into the document');
    const again = await CaptureCache.load(file);
    assert.equal(again.size('ws'), 2);
    assert.equal(again.lookup('ws', 'b.txt', stamp({ ino: 2 })), HASH);
  });

  test('journal lines of any shape an entry may not have are skipped, each alone; the valid ones apply', async () => {
    const file = await cacheFile();
    const journal = CaptureCache.journalFile(file);
    const cache = CaptureCache.empty(file);
    cache.record('ws', 'a.txt', stamp(), HASH, NOW);
    await cache.save();
    cache.record('ws', 'b.txt', stamp({ ino: 2 }), HASH, NOW);
    await cache.save();
    const good = await fs.readFile(journal, 'utf8');
    const g = (JSON.parse(good) as { g: string }).g;
    const entry = [10, NOW - 60_000, NOW - 60_000, 3, OTHER, 0o644];
    const line = (over: Record<string, unknown>) => JSON.stringify({ g, set: { ws: { 'c.txt': entry } }, del: {}, ...over });
    const bad = [
      line({ set: { ws: { 'c.txt': entry.slice(0, 5) } } }),
      line({ set: { ws: { 'c.txt': [...entry, 1] } } }),
      line({ set: { ws: { 'c.txt': ['10', ...entry.slice(1)] } } }),
      line({ set: { ws: { 'c.txt': [10, NOW - 60_000, NOW - 60_000, 3, OTHER.toUpperCase(), 0o644] } } }),
      line({ set: { ws: { 'c.txt': [10, NOW - 60_000, NOW - 60_000, 3, OTHER.slice(1), 0o644] } } }),
      line({ set: { ws: [entry] } }),
      line({ set: [] }),
      line({ del: { ws: ['a.txt', 7] } }),
      line({ del: { ws: 'a.txt' } }),
      line({ del: undefined }),
      line({ g: '' }),
      line({ g: 'x'.repeat(65) }),
      line({ g: 7 }),
      '[1,2,3]',
      'null',
      // JSON reads 1e999 as Infinity, which no entry may hold
      line({ set: { ws: { 'c.txt': entry } } }).replace(String(NOW - 60_000), '1e999'),
    ];
    await fs.writeFile(journal, `${bad.join('\n')}\n${good}${line({ del: { ws: ['a.txt'] }, set: { ws: { 'd.txt': entry } }, extra: 'ignored' })}\n`);
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const loaded = await CaptureCache.load(file, logger);
    assert.equal(loaded.lookup('ws', 'c.txt', stamp({ ino: 3 })), undefined, 'no refused line applies');
    assert.equal(loaded.lookup('ws', 'b.txt', stamp({ ino: 2 })), HASH, 'the valid lines apply');
    assert.equal(loaded.lookup('ws', 'd.txt', stamp({ ino: 3 })), OTHER);
    assert.equal(loaded.has('ws', 'a.txt'), false, 'a valid line drops entries');
    assert.deepEqual(warnings, [`The capture cache journal ${journal} has ${bad.length} unreadable lines; they are ignored.`]);
    assert.equal(loaded.dirty, true, 'the document is written anew');
  });

  test('columns holding a value no entry may have: that entry is never used, the document is written anew without its entries', async () => {
    const file = await cacheFile();
    await fs.mkdir(path.dirname(file), { recursive: true });
    const rows: Array<[string, CaptureCacheEntry]> = [
      ['a.txt', [10, NOW - 60_000, NOW - 60_000, 1, HASH, 0o644]],
      ['b.txt', [10, NOW - 60_000, NOW - 60_000, 2, OTHER, 0o644]],
      ['c.txt', [10, NOW - 60_000, NOW - 60_000, 3, HASH, 0o644]],
    ];
    const damages: Array<[string, (columns: Record<string, unknown>) => void]> = [
      ['a size that is a string', (c) => ((c.sizes as unknown[])[1] = '10')],
      ['a modification time of Infinity', (c) => ((c.mtimes as unknown[])[1] = 'INFINITY')],
      ['a hash with a digit that is not hexadecimal', (c) => (c.hashes = `${HASH}${OTHER.slice(0, 63)}g${HASH}`)],
      ['a path that is not text', (c) => ((c.paths as unknown[])[1] = 7)],
      ['a mode of null', (c) => ((c.modes as unknown[])[1] = null)],
    ];
    for (const [what, damage] of damages) {
      const columns = toColumns(new Map(rows)) as unknown as Record<string, unknown>;
      damage(columns);
      await fs.writeFile(file, JSON.stringify({ schemaVersion: SCHEMA_VERSION, generation: 'g1', columns: { ws: columns } }).replace('"INFINITY"', '1e999'));
      await fs.rm(CaptureCache.journalFile(file), { force: true });
      const warnings: string[] = [];
      const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
      const loaded = await CaptureCache.load(file, logger);
      assert.equal(loaded.lookup('ws', 'b.txt', stamp({ ino: 2 })), undefined, what);
      assert.equal(loaded.lookup('ws', 'a.txt', stamp({ ino: 1 })), undefined, `${what}: the other entries are dropped with it`);
      loaded.record('ws', 'new.txt', stamp({ ino: 9 }), OTHER, NOW);
      assert.equal(loaded.size('ws'), 1, `${what}: what was recorded since stays`);
      assert.equal(loaded.dirty, true, what);
      assert.equal(warnings.length, 1, what);
      assert.equal(await loaded.save(), true);
      const again = await CaptureCache.load(file);
      assert.deepEqual([again.size('ws'), again.lookup('ws', 'new.txt', stamp({ ino: 9 }))], [1, OTHER], `${what}: written anew`);
      assert.equal(again.dirty, false);
    }
    // found when the whole root is listed (a full scan) instead of by a lookup
    const columns = toColumns(new Map(rows)) as unknown as Record<string, unknown>;
    (columns.inodes as unknown[])[2] = 'x';
    await fs.writeFile(file, JSON.stringify({ schemaVersion: SCHEMA_VERSION, generation: 'g2', columns: { ws: columns } }));
    const listed = await CaptureCache.load(file);
    assert.equal(listed.size('ws'), 0);
    assert.equal(listed.lookup('ws', 'a.txt', stamp({ ino: 1 })), undefined);
    assert.equal(listed.dirty, true);
  });

  test('journal lines of an older document (another generation) are ignored', async () => {
    const file = await cacheFile();
    const journal = CaptureCache.journalFile(file);
    const first = CaptureCache.empty(file);
    first.record('ws', 'a.txt', stamp(), HASH, NOW);
    await first.save();
    first.record('ws', 'b.txt', stamp({ ino: 2 }), HASH, NOW);
    await first.save();
    const oldLine = await fs.readFile(journal, 'utf8');
    // another writer rewrites the document (a new generation) from a view without b.txt
    const second = CaptureCache.empty(file);
    second.record('ws', 'a.txt', stamp(), HASH, NOW);
    await second.save();
    await fs.writeFile(journal, oldLine);
    const loaded = await CaptureCache.load(file);
    assert.equal(loaded.has('ws', 'b.txt'), false);
    assert.equal(loaded.lookup('ws', 'a.txt', stamp()), HASH);
    assert.equal(loaded.dirty, false);
  });

  test('a document without a generation (an older version wrote it) is loaded and rewritten on the next save', async () => {
    const file = await cacheFile();
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify({ schemaVersion: 1, roots: { ws: { 'a.txt': [10, NOW - 60_000, NOW - 60_000, 42, HASH, 0o644] } } }));
    await fs.writeFile(CaptureCache.journalFile(file), `${JSON.stringify({ g: 'x', set: { ws: { 'b.txt': [10, NOW - 60_000, NOW - 60_000, 42, HASH, 0o644] } }, del: {} })}\n`);
    const loaded = await CaptureCache.load(file);
    assert.equal(loaded.lookup('ws', 'a.txt', stamp()), HASH);
    assert.equal(loaded.has('ws', 'b.txt'), false, 'a journal does not apply to a document without a generation');
    loaded.record('ws', 'c.txt', stamp({ ino: 3 }), HASH, NOW);
    await loaded.save();
    await assert.rejects(fs.stat(CaptureCache.journalFile(file)));
    const doc = JSON.parse(await fs.readFile(file, 'utf8')) as { generation?: string; columns: { ws: { paths: string[] } } };
    assert.equal(typeof doc.generation, 'string');
    assert.deepEqual(doc.columns.ws.paths.sort(), ['a.txt', 'c.txt'], 'written in the compact form');
  });

  test('the compact form is validated when read: columns of different lengths or a bad hash give an empty cache', async () => {
    const file = await cacheFile();
    const cache = CaptureCache.empty(file);
    cache.record('ws', 'a.txt', stamp(), HASH, NOW);
    cache.record('ws', 'b.txt', stamp({ ino: 2 }), OTHER, NOW);
    await cache.save();
    const good = JSON.parse(await fs.readFile(file, 'utf8')) as { columns: { ws: Record<string, unknown> } };
    const loaded = await CaptureCache.load(file);
    assert.equal(loaded.lookup('ws', 'b.txt', stamp({ ino: 2 })), OTHER);
    assert.equal(loaded.lookup('ws', 'a.txt', stamp()), HASH);
    const ws = good.columns.ws as { sizes: number[]; hashes: string };
    for (const damage of [{ sizes: [10] }, { hashes: ws.hashes.slice(0, -1) }, { hashes: `${ws.hashes.slice(0, -1)}g` }, { sizes: [10, 'ten'] }]) {
      await fs.writeFile(file, JSON.stringify({ ...good, columns: { ws: { ...ws, ...damage } } }));
      const damaged = await CaptureCache.load(file);
      assert.equal(damaged.size(), 0, JSON.stringify(damage));
      assert.equal(damaged.dirty, true);
    }
  });

  test('a journal grown past its limit is folded into the document', async () => {
    const file = await cacheFile();
    const journal = CaptureCache.journalFile(file);
    const cache = CaptureCache.empty(file);
    cache.record('ws', 'a.txt', stamp(), HASH, NOW);
    await cache.save();
    let rewrites = 0;
    let document = await fs.readFile(file, 'utf8');
    for (let i = 0; i < 300; i++) {
      cache.record('ws', `changed/${'x'.repeat(200)}${i}.txt`, stamp({ ino: 1000 + i }), OTHER, NOW);
      await cache.save();
      const now = await fs.readFile(file, 'utf8');
      if (now !== document) rewrites++;
      document = now;
    }
    assert.equal(rewrites, 1, 'about 64 kB of journal lines, then one rewrite');
    assert.ok((await fs.stat(journal)).size < 64 * 1024);
    const loaded = await CaptureCache.load(file);
    assert.equal(loaded.size('ws'), 301);
  });

  describe('read when first needed (deferred)', () => {
    function silent() {
      const warnings: string[] = [];
      return { warnings, logger: { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined } };
    }

    /** A saved document of 50 entries (f0.txt … f49.txt, inode i, HASH) and its generation. */
    async function savedDocument(): Promise<{ file: string; document: Buffer }> {
      const file = await cacheFile();
      const cache = CaptureCache.empty(file);
      for (let i = 0; i < 50; i++) cache.record('ws', `f${i}.txt`, stamp({ ino: i }), HASH, NOW);
      await cache.save();
      return { file, document: await fs.readFile(file) };
    }

    test('a few entries are appended to the journal without reading the document; a full load finds exactly them on top of it', async () => {
      const { file, document } = await savedDocument();
      const cache = CaptureCache.deferred(file);
      cache.record('ws', 'f1.txt', stamp({ ino: 1, size: 11 }), OTHER, NOW); // changed
      cache.forget('ws', 'f2.txt'); // dropped
      cache.record('ws', 'new.txt', stamp({ ino: 100 }), OTHER, NOW); // added
      cache.record('ws', 'racy.txt', stamp({ ino: 101, mtimeMs: NOW }), OTHER, NOW); // racy: not recorded
      // the document is replaced by one that is not JSON at all: had it been read, the cache would be empty
      await fs.writeFile(file, Buffer.concat([document.subarray(0, 80), Buffer.from('not JSON')]));
      assert.equal(await cache.save(), true);
      assert.equal((await fs.readFile(CaptureCache.journalFile(file), 'utf8')).trimEnd().split('\n').length, 1, 'one line');
      await fs.writeFile(file, document);
      const loaded = await CaptureCache.load(file);
      assert.equal(loaded.dirty, false);
      assert.equal(loaded.size('ws'), 50);
      assert.equal(loaded.lookup('ws', 'f1.txt', stamp({ ino: 1, size: 11 })), OTHER);
      assert.equal(loaded.lookup('ws', 'f1.txt', stamp({ ino: 1 })), undefined, 'the old entry is replaced');
      assert.equal(loaded.has('ws', 'f2.txt'), false);
      assert.equal(loaded.has('ws', 'racy.txt'), false);
      assert.equal(loaded.lookup('ws', 'new.txt', stamp({ ino: 100 })), OTHER);
      assert.equal(loaded.lookup('ws', 'f3.txt', stamp({ ino: 3 })), HASH);
    });

    test('a damaged document is never trusted: its journal lines are refused with it, and it is written anew', async () => {
      const { file, document } = await savedDocument();
      // the head is intact, a hash in the body is not
      const text = document.toString('latin1');
      const at = text.indexOf(HASH, text.indexOf('"hashes"'));
      await fs.writeFile(file, `${text.slice(0, at)}g${text.slice(at + 1)}`);
      const cache = CaptureCache.deferred(file);
      cache.record('ws', 'new.txt', stamp({ ino: 100 }), OTHER, NOW);
      assert.equal(await cache.save(), true, 'appended without reading the document');
      const { logger, warnings } = silent();
      const loaded = await CaptureCache.load(file, logger);
      assert.equal(loaded.lookup('ws', 'f0.txt', stamp({ ino: 0 })), undefined, 'no entry of the damaged columns is used');
      assert.equal(loaded.lookup('ws', 'f1.txt', stamp({ ino: 1 })), undefined);
      assert.equal(loaded.dirty, true);
      assert.equal(warnings.length, 1);
      assert.equal(await loaded.save(), true);
      await assert.rejects(fs.stat(CaptureCache.journalFile(file)), 'written anew, the journal dropped');
      assert.equal((await CaptureCache.load(file)).size('ws'), 1);

      // a document that is not valid JSON past its head: refused whole
      await fs.writeFile(file, document.subarray(0, document.length - 2));
      const cut = CaptureCache.deferred(file);
      cut.record('ws', 'new.txt', stamp({ ino: 100 }), OTHER, NOW);
      assert.equal(await cut.save(), true);
      const reloaded = await CaptureCache.load(file, silent().logger);
      assert.equal(reloaded.size('ws'), 0, 'neither the document nor its journal is used');
      assert.equal(reloaded.dirty, true);
    });

    test('entries recorded before the document is read stay on top of it when a lookup reads it', async () => {
      const { file } = await savedDocument();
      const cache = CaptureCache.deferred(file);
      cache.record('ws', 'f1.txt', stamp({ ino: 1, size: 11 }), OTHER, NOW);
      cache.forget('ws', 'f2.txt');
      cache.record('ws', 'f3.txt', stamp({ ino: 3, mtimeMs: NOW }), OTHER, NOW); // racy: its entry is dropped
      assert.deepEqual(cache.entry('ws', 'f1.txt'), [11, NOW - 60_000, NOW - 60_000, 1, OTHER, 0o644], 'the entry recorded, not the document\'s');
      assert.equal(cache.lookup('ws', 'f1.txt', stamp({ ino: 1 })), undefined);
      assert.equal(cache.has('ws', 'f2.txt'), false);
      assert.equal(cache.has('ws', 'f3.txt'), false);
      assert.equal(cache.lookup('ws', 'f4.txt', stamp({ ino: 4 })), HASH);
      assert.equal(cache.size('ws'), 48);
      assert.equal(await cache.save(), true);
      const loaded = await CaptureCache.load(file);
      assert.deepEqual([loaded.size('ws'), loaded.lookup('ws', 'f1.txt', stamp({ ino: 1, size: 11 })), loaded.has('ws', 'f2.txt'), loaded.has('ws', 'f3.txt')], [48, OTHER, false, false]);
    });

    test('before the document is read, a few small files are misses; a large one, or many, read it', async () => {
      const { file } = await savedDocument();
      const cache = CaptureCache.deferred(file);
      assert.equal(cache.mayHave('ws', 'f0.txt'), true);
      assert.equal(cache.lookup('ws', 'f0.txt', stamp({ ino: 0 })), undefined, 'a miss: the file is read');
      const large = await savedDocument();
      const big = CaptureCache.deferred(large.file);
      big.record('ws', 'big.bin', stamp({ ino: 7, size: 1 << 20 }), OTHER, NOW);
      assert.equal(big.lookup('ws', 'big.bin', stamp({ ino: 7, size: 1 << 20 })), OTHER);
      assert.equal(big.lookup('ws', 'f0.txt', stamp({ ino: 0 })), HASH, 'read: small files are answered too');
      assert.equal(big.mayHave('ws', 'nothing.txt'), false);
      const many = CaptureCache.deferred(file);
      const answers = Array.from({ length: 20 }, (_, i) => many.lookup('ws', `f${i}.txt`, stamp({ ino: i })));
      assert.deepEqual(answers, [...Array<undefined>(16).fill(undefined), HASH, HASH, HASH, HASH]);
    });

    test('a journal whose last line is torn is not appended to: the document is read and written anew', async () => {
      const { file } = await savedDocument();
      const journal = CaptureCache.journalFile(file);
      const first = CaptureCache.deferred(file);
      first.record('ws', 'a.txt', stamp({ ino: 200 }), OTHER, NOW);
      await first.save();
      const generation = (JSON.parse(await fs.readFile(journal, 'utf8')) as { g: string }).g;
      await fs.appendFile(journal, `{"g":"${generation}","set":{"ws":{"b.t`);
      const cache = CaptureCache.deferred(file, silent().logger);
      cache.record('ws', 'c.txt', stamp({ ino: 201 }), OTHER, NOW);
      assert.equal(await cache.save(), true);
      await assert.rejects(fs.stat(journal), 'folded into a new document');
      const loaded = await CaptureCache.load(file);
      assert.equal(loaded.size('ws'), 52);
      assert.equal(loaded.lookup('ws', 'a.txt', stamp({ ino: 200 })), OTHER);
      assert.equal(loaded.lookup('ws', 'c.txt', stamp({ ino: 201 })), OTHER);
    });

    test('a document of another form (no generation in its head) is read before the first save', async () => {
      const file = await cacheFile();
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, JSON.stringify({ schemaVersion: SCHEMA_VERSION, roots: { ws: { 'a.txt': [10, NOW - 60_000, NOW - 60_000, 1, HASH, 0o644] } } }));
      const cache = CaptureCache.deferred(file);
      cache.record('ws', 'b.txt', stamp({ ino: 2 }), OTHER, NOW);
      assert.equal(await cache.save(), true);
      await assert.rejects(fs.stat(CaptureCache.journalFile(file)), 'written whole, with a generation');
      const loaded = await CaptureCache.load(file);
      assert.deepEqual([loaded.lookup('ws', 'a.txt', stamp({ ino: 1 })), loaded.lookup('ws', 'b.txt', stamp({ ino: 2 }))], [HASH, OTHER]);
    });
  });
});
