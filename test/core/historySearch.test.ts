import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { StateError } from '../../src/core/errors';
import { searchHistory, type SearchHit, type SearchOptions, type SearchProgress } from '../../src/core/history/search';
import { SearchPattern } from '../../src/core/history/searchPattern';
import { collectVersionPlaces } from '../../src/core/history/versionPlaces';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import { cleanupAll, makeSandbox, openStore, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

async function collect(store: RecoveryStore, pattern: string, options: SearchOptions = {}): Promise<{ hits: SearchHit[]; progress: SearchProgress[] }> {
  const hits: SearchHit[] = [];
  const progress: SearchProgress[] = [];
  for await (const hit of searchHistory(store, pattern, { ...options, onProgress: (p) => progress.push(p) })) hits.push(hit);
  return { hits, progress };
}

/** Three points: a version of app.ts that is gone, notes.md deleted, a binary file, and one unchanged file kept by all three. */
async function historyStore() {
  const sb = await makeSandbox();
  await writeFiles(sb.ws, {
    'src/app.ts': 'export const app = 1;\n// TODO: remove the oldNeedle helper\nfunction oldNeedle() {}\n',
    'docs/notes.md': '# Notes\n\nThe deletedNeedle lives here.\n',
    'assets/logo.bin': Buffer.concat([Buffer.from('binaryNeedle'), Buffer.from([0, 1, 2, 3]), Buffer.from('binaryNeedle')]),
    'src/keep.ts': 'export const sharedNeedle = true;\n',
    'lib/deep/stable.txt': 'sharedNeedle in a folder no later point changed\n',
  });
  const store = await openStore(sb);
  const first = (await store.recovery.createRecoveryPoint())!;
  await writeFiles(sb.ws, { 'src/app.ts': 'export const app = 2;\n', 'docs/notes.md': null });
  const second = (await store.recovery.createRecoveryPoint())!;
  await writeFiles(sb.ws, { 'src/app.ts': 'export const app = 3;\n' });
  const third = (await store.recovery.createRecoveryPoint())!;
  return { sb, store, first, second, third };
}

describe('search over every version in the store', () => {
  test('finds text that only an old version of a file held, with its line and the point that kept it', async () => {
    const { store, first } = await historyStore();
    const { hits } = await collect(store, 'oldNeedle');
    assert.equal(hits.length, 1);
    const [hit] = hits;
    assert.deepEqual(hit!.spans.map((s) => [s.path, s.firstPointId, s.lastPointId]), [['ws/src/app.ts', first.id, first.id]]);
    assert.deepEqual(hit!.lines.map((l) => [l.line, l.preview, l.column, l.length]), [
      [2, '// TODO: remove the oldNeedle helper', 20, 9],
      [3, 'function oldNeedle() {}', 9, 9],
    ]);
    assert.deepEqual(hit!.lines[0]!.ranges, [[20, 29]]);
  });

  test('finds text in a file that was deleted since', async () => {
    const { store, first } = await historyStore();
    const { hits } = await collect(store, 'deletedneedle');
    assert.deepEqual(hits.map((h) => h.spans.map((s) => [s.path, s.firstPointId, s.lastPointId])), [[['ws/docs/notes.md', first.id, first.id]]]);
    assert.equal(hits[0]!.lines[0]!.line, 3);
  });

  test('the same content in several points is reported once, with the first and the last point that held it', async () => {
    const { store, first, third } = await historyStore();
    const { hits, progress } = await collect(store, 'sharedNeedle');
    assert.deepEqual(
      hits.map((h) => h.spans.map((s) => [s.path, s.firstPointId, s.lastPointId])).sort(),
      [[['ws/lib/deep/stable.txt', first.id, third.id]], [['ws/src/keep.ts', first.id, third.id]]],
    );
    const last = progress.at(-1)!;
    assert.equal(last.done, true);
    // app.ts ×3, notes.md, logo.bin, keep.ts, stable.txt: seven distinct versions, each searched once
    assert.equal(last.total, 7);
    assert.equal(last.searched, 7);
  });

  test('the same content at two paths is one version with a span per path', async () => {
    const { sb, store, first, third } = await historyStore();
    await writeFiles(sb.ws, { 'src/copy.ts': 'export const sharedNeedle = true;\n' });
    const fourth = (await store.recovery.createRecoveryPoint())!;
    const hits = (await collect(store, 'sharedNeedle', { paths: ['src/**'] })).hits;
    assert.equal(hits.length, 1);
    assert.deepEqual(hits[0]!.spans.map((s) => [s.path, s.firstPointId, s.lastPointId]), [
      ['ws/src/copy.ts', fourth.id, fourth.id],
      ['ws/src/keep.ts', first.id, fourth.id],
    ]);
    assert.notEqual(third.id, fourth.id);
  });

  test('binary content is skipped', async () => {
    const { store } = await historyStore();
    const { hits, progress } = await collect(store, 'binaryNeedle');
    assert.deepEqual(hits, []);
    assert.equal(progress.at(-1)!.binary, 1);
  });

  test('text in files of other encodings: Latin-1, UTF-16 with its byte order mark (either order), UTF-8 with one', async () => {
    const sb = await makeSandbox();
    const utf16 = (text: string, order: 'le' | 'be') => {
      const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
      return order === 'le' ? le : Buffer.from(le).swap16();
    };
    await writeFiles(sb.ws, {
      'latin1.txt': Buffer.from('first line\nun café crème\n', 'latin1'),
      'windows.txt': utf16('Grüße\r\naus Köln\r\n', 'le'),
      'mac.txt': utf16('aus Köln, big end\n', 'be'),
      'bom.txt': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('bomNeedle first\n')]),
    });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const found = async (pattern: string, options: SearchOptions = {}) => {
      const { hits, progress } = await collect(store, pattern, options);
      assert.equal(progress.at(-1)!.binary, 0, 'no file is taken for binary');
      return hits.map((h) => [h.spans[0]!.path, h.lines.map((l) => [l.line, l.column, l.preview])]).sort();
    };
    assert.deepEqual(await found('café'), [['ws/latin1.txt', [[2, 3, 'un café crème']]]]);
    assert.deepEqual(await found('café', { caseSensitive: true }), [['ws/latin1.txt', [[2, 3, 'un café crème']]]]);
    assert.deepEqual(await found('CRÈME'), [['ws/latin1.txt', [[2, 8, 'un café crème']]]]);
    assert.deepEqual(await found('Köln'), [
      ['ws/mac.txt', [[1, 4, 'aus Köln, big end']]],
      ['ws/windows.txt', [[2, 4, 'aus Köln']]],
    ]);
    assert.deepEqual(await found('aus', { caseSensitive: true }), [
      ['ws/mac.txt', [[1, 0, 'aus Köln, big end']]],
      ['ws/windows.txt', [[2, 0, 'aus Köln']]],
    ]);
    assert.deepEqual(await found('^gr..e$', { regex: true }), [['ws/windows.txt', [[1, 0, 'Grüße']]]]);
    assert.deepEqual(await found('bomneedle'), [['ws/bom.txt', [[1, 0, 'bomNeedle first']]]], 'the byte order mark is no character of the line');
  });

  test('case, regular expressions and a path glob', async () => {
    const { store } = await historyStore();
    assert.equal((await collect(store, 'OLDNEEDLE')).hits.length, 1, 'case-insensitive by default');
    assert.equal((await collect(store, 'OLDNEEDLE', { caseSensitive: true })).hits.length, 0);
    assert.equal((await collect(store, 'oldNeedle', { caseSensitive: true })).hits.length, 1);
    const versions = (await collect(store, '^export const app = \\d;$', { regex: true })).hits;
    assert.deepEqual(versions.map((h) => h.lines[0]!.preview), ['export const app = 3;', 'export const app = 2;', 'export const app = 1;'], 'newest version first');
    assert.equal((await collect(store, 'app = 1;', {})).hits.length, 1, 'plain text is not a regular expression');
    assert.equal((await collect(store, 'needle', { paths: ['docs/**'] })).hits.length, 1, 'a glob inside the workspace folder');
    assert.deepEqual((await collect(store, 'needle', { paths: ['ws/src/*.ts'] })).hits.map((h) => h.spans[0]!.path), ['ws/src/keep.ts', 'ws/src/app.ts'], 'a glob of point paths');
    assert.equal((await collect(store, 'needle', { paths: ['**/*.py'] })).progress.at(-1)!.total, 0);
    // as VS Code's "files to include": a glob without a slash at any depth, a folder for the files below it
    for (const glob of ['*.ts', 'src', 'src/', 'ws/src']) {
      assert.deepEqual((await collect(store, 'needle', { paths: [glob] })).hits.map((h) => h.spans[0]!.path), ['ws/src/keep.ts', 'ws/src/app.ts'], glob);
    }
    assert.ok((await collect(store, '\\p{Ll}+Needle', { regex: true, caseSensitive: true })).hits.length > 0, 'Unicode property escapes');
    assert.equal((await collect(store, 'a\\-b', { regex: true })).hits.length, 0, 'a pattern only the older mode takes is still taken');
  });

  test('a malformed regular expression is a clear StateError before any work', async () => {
    const { store } = await historyStore();
    await assert.rejects(collect(store, 'foo(', { regex: true }), (error: unknown) => {
      assert.ok(error instanceof StateError);
      assert.equal(error.kind, 'InvalidState');
      assert.match(error.message, /^"foo\(" is not a valid regular expression \(.*\)\.$/);
      return true;
    });
    assert.throws(() => new SearchPattern('[', { regex: true }), StateError);
    assert.doesNotThrow(() => new SearchPattern('[', { regex: false }));
    assert.doesNotThrow(() => new SearchPattern('\u{1F600}'.repeat(1000)), 'characters, not UTF-16 units');
    assert.throws(() => new SearchPattern('a'.repeat(40_000)), /^StateError: A search pattern is at most 1000 characters\.$|A search pattern is at most 1000 characters/);
  });

  test('the end of a file after its last line break is no line: `^$` finds only the empty lines there are', () => {
    const blank = new SearchPattern('^$', { regex: true });
    assert.equal(blank.matchLines(Buffer.from('alpha\nbeta\ngamma\n'), 10), undefined);
    assert.equal(blank.matchLines(Buffer.from(''), 10), undefined);
    assert.deepEqual(blank.matchLines(Buffer.from('alpha\n\ngamma\n'), 10)?.lines.map((l) => l.line), [2]);
    assert.deepEqual(blank.matchLines(Buffer.from('alpha\n\ngamma'), 10)?.lines.map((l) => l.line), [2]);
    assert.equal(new SearchPattern('^\\s*$', { regex: true }).matchLines(Buffer.from('x\r\ny\r\n'), 10), undefined, 'CRLF lines are not empty ones');
    assert.deepEqual(blank.matchLines(Buffer.from('x\r\n\r\ny\r\n'), 10)?.lines.map((l) => l.line), [2]);
    assert.deepEqual(new SearchPattern('a$', { regex: true }).matchLines(Buffer.from('xa\nya'), 10)?.lines.map((l) => l.line), [1, 2]);
    // a lone CR (and U+2028) ends no line: `^`, `$` and `^$` do not match around it
    assert.equal(blank.matchLines(Buffer.from('a\rb\r\rc\n'), 10), undefined);
    assert.equal(new SearchPattern('foo$', { regex: true }).matchLines(Buffer.from('foo\rbar\n'), 10), undefined);
    assert.equal(new SearchPattern('^bar', { regex: true }).matchLines(Buffer.from('foo\u2028bar\n'), 10), undefined);
    const found = new SearchPattern('bar', { regex: true }).matchLines(Buffer.from('foo\rbar\n'), 10);
    assert.deepEqual(found?.lines.map((l) => [l.line, l.preview, l.column]), [[1, 'foo\rbar', 4]], 'the preview shows the line as it is');
  });

  test('an aborted search stops after the version it was reading and says it is not done', async () => {
    const { sb, store } = await historyStore();
    await writeFiles(sb.ws, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`many/f${i}.txt`, `manyNeedle ${i}\n`])));
    await store.recovery.createRecoveryPoint();
    const controller = new AbortController();
    const hits: SearchHit[] = [];
    let last: SearchProgress | undefined;
    for await (const hit of searchHistory(store, 'manyNeedle', { signal: controller.signal, onProgress: (p) => (last = p) })) {
      hits.push(hit);
      if (hits.length === 3) controller.abort();
    }
    assert.equal(hits.length, 3);
    assert.equal(last!.done, false);
    assert.ok(last!.searched < last!.total);
    assert.equal((await collect(store, 'manyNeedle')).hits.length, 20);
  });

  test('any-case text is found next to characters outside ASCII, at their columns, and only where a JavaScript regular expression finds it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, {
      'intl.txt': 'Größe: ÜBER straße\nnaïve Café CAFÉ cafe\n',
      'long-s.txt': 'ſtraſſe and \u212Aelvin\n', // ſ and the Kelvin sign fold to ASCII letters only with the u flag
    });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const cafe = (await collect(store, 'CAFE')).hits;
    assert.deepEqual(cafe.map((h) => h.lines.map((l) => [l.line, l.column, l.length, l.ranges])), [[[2, 16, 4, [[16, 20]]]]]);
    const strasse = (await collect(store, 'STRASSE')).hits;
    assert.deepEqual(strasse, [], 'ſ is not s and ß is not ss');
    assert.deepEqual((await collect(store, 'kelvin')).hits, []);
    const over = (await collect(store, 'über')).hits;
    assert.deepEqual(over.map((h) => h.lines.map((l) => [l.line, l.column, l.preview])), [[[1, 7, 'Größe: ÜBER straße']]], 'text outside ASCII in any case');
    const e = (await collect(store, ': Ü')).hits;
    assert.equal(e.length, 1);
  });

  test('the versions of many files are gathered with turns given to the caller after the last folder is read, and the result is the same without them', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`src/f${i}.ts`, `export const v${i} = ${i};\n`])));
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const objects = await store.persistence.objects();
    const points = await store.recovery.listRecoveryPoints();
    let pauses = 0;
    let pausesAtLastTree = 0;
    const reader = { has: (h: string) => objects.has(h), readBlob: (h: string) => objects.readBlob(h), readTree: async (h: string) => ((pausesAtLastTree = pauses), objects.readTree(h)) };
    const sliced = await collectVersionPlaces(reader, points, { pause: async () => void pauses++ });
    assert.equal(sliced.versions.length, 600);
    assert.ok(pauses - pausesAtLastTree >= 2, `${pauses - pausesAtLastTree} pauses while the 600 versions were put in order`);
    assert.deepEqual(sliced, await collectVersionPlaces(objects, points));
  });

  test('many matching lines in one version are capped', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'big.txt': 'hit\n'.repeat(500) });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const { hits } = await collect(store, 'hit', { maxLinesPerVersion: 10 });
    assert.equal(hits[0]!.lines.length, 10);
    assert.equal(hits[0]!.moreLines, true);
    assert.deepEqual(hits[0]!.lines.map((l) => l.line), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
