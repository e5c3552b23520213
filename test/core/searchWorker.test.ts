import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as esbuild from 'esbuild';
import { describeCause, StateError } from '../../src/core/errors';
import { searchHistory, type SearchHit, type SearchOptions, type SearchProgress } from '../../src/core/history/search';
import { searchHistoryInWorker, type SearchWorkerOptions } from '../../src/core/history/searchWorker';
import { agentSearchHistory, describeSearch } from '../../src/core/agentTools/historyQueries';
import { RecoveryStore } from '../../src/core/recoveryStore';
import { cleanupAll, makeSandbox, openStore, packFiles, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

/** The worker bundled as `npm run build` bundles `dist/searchWorker.js` (a worker thread of Node 20 runs no TypeScript loader). */
let WORKER: SearchWorkerOptions;
before(async () => {
  const outfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rp-search-worker-')), 'searchWorker.cjs');
  await esbuild.build({ entryPoints: [path.join(__dirname, '..', '..', 'src', 'core', 'history', 'searchWorkerMain.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'warning' });
  WORKER = { script: outfile };
});
after(() => fs.rmSync(path.dirname(WORKER.script), { recursive: true, force: true }));

type Search = (store: RecoveryStore, pattern: string, options: SearchOptions) => AsyncGenerator<SearchHit, SearchProgress>;
const inProcess: Search = searchHistory;
const inWorker: Search = (store, pattern, options) => searchHistoryInWorker(WORKER, store, pattern, options);

async function collect(search: Search, store: RecoveryStore, pattern: string, options: SearchOptions = {}): Promise<{ hits: SearchHit[]; last: SearchProgress | undefined; returned: SearchProgress }> {
  const hits: SearchHit[] = [];
  let last: SearchProgress | undefined;
  const iterator = search(store, pattern, { ...options, onProgress: (p) => (last = p) });
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { hits, last, returned: next.value };
    hits.push(next.value);
  }
}

/** Three points: versions of files that are gone, a deleted file, a binary file, text in several cases and folders. */
async function historyStore() {
  const sb = await makeSandbox();
  await writeFiles(sb.ws, {
    'src/app.ts': 'export const app = 1;\n// TODO: remove the oldNeedle helper\nfunction oldNeedle() {}\n',
    'docs/notes.md': '# Notes\n\nThe deletedNeedle lives here.\nNEEDLE in capitals\n',
    'assets/logo.bin': Buffer.concat([Buffer.from('binaryNeedle'), Buffer.from([0, 1, 2, 3])]),
    'src/keep.ts': 'export const sharedNeedle = true;\n',
    'lib/deep/stable.txt': 'sharedNeedle in a folder no later point changed\n',
  });
  const store = await openStore(sb);
  await store.recovery.createRecoveryPoint();
  await writeFiles(sb.ws, { 'src/app.ts': 'export const app = 2; // needle42\n', 'docs/notes.md': null });
  await store.recovery.createRecoveryPoint();
  await writeFiles(sb.ws, { 'src/app.ts': 'export const app = 3; // Needle7\n' });
  await store.recovery.createRecoveryPoint();
  return { sb, store };
}

describe('search in a worker thread (the editor\'s way)', () => {
  test('finds the same versions, lines, places and progress as the search in process: plain text, a regular expression, case, a paths filter', async () => {
    const { store } = await historyStore();
    const cases: Array<[string, SearchOptions]> = [
      ['needle', {}],
      ['Needle', { caseSensitive: true }],
      ['needle\\d+', { regex: true }],
      ['^NEEDLE', { regex: true, caseSensitive: true }],
      ['needle', { paths: ['src/**'] }],
      ['needle', { paths: ['ws/lib/**', 'docs/*.md'] }],
      ['needle', { maxLinesPerVersion: 1 }],
      ['nothing like this', {}],
    ];
    for (const [pattern, options] of cases) {
      const expected = await collect(inProcess, store, pattern, options);
      const got = await collect(inWorker, store, pattern, options);
      const what = `${pattern} ${JSON.stringify(options)}`;
      assert.deepEqual(got.hits, expected.hits, what);
      assert.deepEqual(got.returned, expected.returned, what);
      assert.deepEqual(got.last, expected.last, `${what}: the last progress report`);
    }
    assert.equal((await collect(inWorker, store, 'needle')).hits.length, 6, 'the fixture finds something');
  });

  test('an aborted search gives no hit after the abort and says it is not done', async () => {
    const { sb, store } = await historyStore();
    await writeFiles(sb.ws, Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`many/f${i}.txt`, `manyNeedle ${i}\n`])));
    await store.recovery.createRecoveryPoint();
    const controller = new AbortController();
    const hits: SearchHit[] = [];
    let last: SearchProgress | undefined;
    const search = inWorker(store, 'manyNeedle', { signal: controller.signal, onProgress: (p) => (last = p) });
    let returned: SearchProgress | undefined;
    for (;;) {
      const next = await search.next();
      if (next.done) {
        returned = next.value;
        break;
      }
      hits.push(next.value);
      if (hits.length === 3) controller.abort();
    }
    assert.equal(hits.length, 3);
    assert.equal(last!.done, false);
    assert.equal(returned.done, false);
    assert.equal((await collect(inWorker, store, 'manyNeedle')).hits.length, 30, 'a new search after it finds them all');

    const already = new AbortController();
    already.abort();
    const none = await collect(inWorker, store, 'manyNeedle', { signal: already.signal });
    assert.deepEqual(none.hits, []);
    assert.equal(none.returned.done, false);
  });

  test('a malformed regular expression is the same StateError as in process, and a failure in the worker reaches the caller in the same words', async () => {
    const { sb, store } = await historyStore();
    const refusal = await collect(inProcess, store, 'foo(', { regex: true }).catch((error: unknown) => error);
    assert.ok(refusal instanceof StateError);
    await assert.rejects(collect(inWorker, store, 'foo(', { regex: true }), (error: unknown) => {
      assert.ok(error instanceof StateError);
      assert.equal(error.kind, refusal.kind);
      assert.equal(error.message, refusal.message);
      return true;
    });

    // a store the worker cannot open: the error opening it in process gives, word for word
    const blocker = path.join(sb.root, 'a-file');
    fs.writeFileSync(blocker, 'not a folder');
    const storeDir = path.join(blocker, 'store');
    const inHere = await RecoveryStore.open({ storeDir, roots: store.persistence.workspaceRoots }).then(
      () => assert.fail('opened a store inside a file'),
      (error: unknown) => error,
    );
    const elsewhere = { persistence: { layout: { root: storeDir }, workspaceRoots: store.persistence.workspaceRoots, captureRules: store.persistence.captureRules } } as unknown as RecoveryStore;
    await assert.rejects(collect(inWorker, elsewhere, 'needle'), (error: unknown) => {
      assert.equal(describeCause(error), describeCause(inHere));
      assert.equal(error instanceof StateError, inHere instanceof StateError);
      return true;
    });
  });

  test('a clean-up that rewrites every pack right after the first hit (the worker may be searching on): no failure, the same hits as before it', async () => {
    const { sb, store } = await historyStore();
    for (let p = 0; p < 12; p++) {
      await writeFiles(sb.ws, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`gen/f${i}.txt`, `generation ${p} file ${i} packNeedle\n${'filler line\n'.repeat(200)}`])));
      await store.recovery.createRecoveryPoint();
    }
    const expected = await collect(inProcess, store, 'packNeedle');
    const packsBefore = await packFiles(sb.store);
    const hits: SearchHit[] = [];
    let collected: Promise<unknown> | undefined;
    let last: SearchProgress | undefined;
    for await (const hit of inWorker(store, 'packNeedle', { sliceMs: 1, onProgress: (p) => (last = p) })) {
      hits.push(hit);
      collected ??= store.recovery.collectGarbage({ repack: 'all' });
    }
    await collected;
    assert.notDeepEqual(await packFiles(sb.store), packsBefore, 'the clean-up rewrote the packs');
    assert.deepEqual(hits, expected.hits);
    assert.equal(last!.done, true);
    assert.equal(last!.unreadable, 0);
  });

  test('a match that runs on without end (a backtracking regular expression on a long line) is stopped by an abort, and the agents\' time limit ends their search', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'long.txt': `${'a'.repeat(50_000)}!\nmatch-me aaa\n` });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const controller = new AbortController();
    let last: SearchProgress | undefined;
    // long enough for the worker to start and count what it will search
    setTimeout(() => controller.abort(), 2_000);
    const started = Date.now();
    const search = inWorker(store, '(a+)+$', { regex: true, signal: controller.signal, onProgress: (p) => (last = p) });
    for (;;) if ((await search.next()).done) break;
    assert.ok(Date.now() - started < 7_000, `stopped ${Date.now() - started} ms after it started`);
    assert.equal(last?.done, false, 'the search says it did not finish');
    assert.deepEqual([last?.searched, last?.total], [0, 1], 'the worker said what it would search before the match took its thread');

    const agents = await agentSearchHistory(store, { pattern: '(a+)+$', regex: true, caseSensitive: false, limit: 20, linesPerVersion: 5 }, 2_000, (store, pattern, options) => searchHistoryInWorker(WORKER, store, pattern, options));
    assert.equal(agents.stopped, 'time');
    assert.match(describeSearch(agents), /; the time limit ended the search after 0 of 1 version \(narrow paths for the rest\)\.$/);
    assert.match(describeSearch({ ...agents, total: 0 }), /; the time limit ended the search before it had counted the versions to search/);
    assert.ok(Date.now() - started < 15_000);
  });
});
