import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { mapRange, readSelectionHistory, splitLines, type SelectionHistory } from '../../src/core/history/selectionHistory';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import { cleanupAll, makeSandbox, openStore, writeFiles, type FileSpec } from './helpers/storeFixtures';

after(cleanupAll);

/** Writes the files and makes a point with that summary; returns its id. */
async function point(store: RecoveryStore, ws: string, files: Record<string, FileSpec | null>, summary: string): Promise<string> {
  await writeFiles(ws, files);
  const made = await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', summary });
  return made!.id;
}

const text = (...lines: string[]) => lines.map((l) => `${l}\n`).join('');

function brief(history: SelectionHistory) {
  return history.versions.map((v) => ({ summary: v.version.point.summary, path: v.version.path, range: [v.range.start, v.range.end], lines: v.lines, before: v.before && v.before.lines, counts: v.counts }));
}

describe('a selection\'s history', () => {
  test('lines moved by insertions above them are followed; versions that change only other lines are not listed', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'app.ts': text('a', 'b', 'f1', 'f2', 'z') }, 'created');
    await point(store, sb.ws, { 'app.ts': text('x', 'y', 'a', 'b', 'f1', 'f2', 'z') }, 'inserted above');
    await point(store, sb.ws, { 'app.ts': text('x', 'y', 'a', 'b', 'F1', 'f2', 'z') }, 'edited inside');
    await point(store, sb.ws, { 'app.ts': text('x', 'y', 'a', 'b', 'F1', 'f2', 'Z', 'more') }, 'edited below');

    // The editor's text has one unsaved line more above the selection (F1, f2: lines 5-6 of it).
    const current = text('new', 'x', 'y', 'a', 'b', 'F1', 'f2', 'Z', 'more');
    const history = await readSelectionHistory(store, 'ws/app.ts', current, { start: 5, end: 7 });
    assert.deepEqual(brief(history), [
      { summary: 'edited inside', path: 'ws/app.ts', range: [4, 6], lines: ['F1', 'f2'], before: ['f1', 'f2'], counts: { added: 1, removed: 1 } },
      { summary: 'created', path: 'ws/app.ts', range: [2, 4], lines: ['f1', 'f2'], before: null, counts: { added: 2, removed: 0 } },
    ]);
  });

  test('lines added in a version end the walk there: older versions, without them, are not listed', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'app.ts': text('a', 'b') }, 'created');
    await point(store, sb.ws, { 'app.ts': text('a', 'b', 'c') }, 'other edit');
    await point(store, sb.ws, { 'app.ts': text('a', 'n1', 'n2', 'b', 'c') }, 'added the lines');
    await point(store, sb.ws, { 'app.ts': text('a', 'N1', 'n2', 'b', 'c') }, 'edited them');
    const history = await readSelectionHistory(store, 'ws/app.ts', text('a', 'N1', 'n2', 'b', 'c'), { start: 1, end: 3 });
    assert.deepEqual(brief(history), [
      { summary: 'edited them', path: 'ws/app.ts', range: [1, 3], lines: ['N1', 'n2'], before: ['n1', 'n2'], counts: { added: 1, removed: 1 } },
      { summary: 'added the lines', path: 'ws/app.ts', range: [1, 3], lines: ['n1', 'n2'], before: [], counts: { added: 2, removed: 0 } },
    ]);
  });

  test('lines removed inside the range are a change of it; the walk stops where the file did not exist', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'other.txt': 'o\n' }, 'before the file');
    await point(store, sb.ws, { 'app.ts': text('a', 'b', 'c', 'd') }, 'created');
    await point(store, sb.ws, { 'app.ts': text('a', 'd') }, 'removed b and c');
    const history = await readSelectionHistory(store, 'ws/app.ts', text('a', 'd'), { start: 0, end: 2 });
    assert.deepEqual(brief(history), [
      { summary: 'removed b and c', path: 'ws/app.ts', range: [0, 2], lines: ['a', 'd'], before: ['a', 'b', 'c', 'd'], counts: { added: 0, removed: 2 } },
      { summary: 'created', path: 'ws/app.ts', range: [0, 4], lines: ['a', 'b', 'c', 'd'], before: null, counts: { added: 4, removed: 0 } },
    ]);
    // Lines in no point (typed and not yet captured): no version holds them.
    assert.deepEqual(brief(await readSelectionHistory(store, 'ws/app.ts', text('a', 'typed', 'd'), { start: 1, end: 2 })), []);
  });

  test('a rename is followed back to the old name', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'src/old.ts': text('one', 'two'), 'keep.txt': 'k\n' }, 'created old.ts');
    await point(store, sb.ws, { 'src/old.ts': text('one', 'TWO') }, 'edited old.ts');
    await point(store, sb.ws, { 'src/old.ts': null, 'lib/new.ts': text('one', 'TWO') }, 'moved');
    await point(store, sb.ws, { 'lib/new.ts': text('zero', 'one', 'TWO') }, 'edited new.ts above');
    const history = await readSelectionHistory(store, 'ws/lib/new.ts', text('zero', 'one', 'TWO'), { start: 2, end: 3 });
    assert.deepEqual(brief(history), [
      { summary: 'edited old.ts', path: 'ws/src/old.ts', range: [1, 2], lines: ['TWO'], before: ['two'], counts: { added: 1, removed: 1 } },
      { summary: 'created old.ts', path: 'ws/src/old.ts', range: [1, 2], lines: ['two'], before: null, counts: { added: 1, removed: 0 } },
    ]);
  });

  test('a range end inside changed lines takes the whole change; CRLF and a missing final line break read as the same lines', () => {
    const older = splitLines('a\r\nb\r\nc\r\nd');
    assert.deepEqual(older, ['a', 'b', 'c', 'd']);
    // b, c became B (one line): a range ending at B maps to b..c, starting at B maps from b
    assert.deepEqual(mapRange(older, ['a', 'B', 'd'], { start: 0, end: 2 }), { start: 0, end: 3 });
    assert.deepEqual(mapRange(older, ['a', 'B', 'd'], { start: 1, end: 3 }), { start: 1, end: 4 });
    // lines removed just outside the range are left out, inside it are taken in
    assert.deepEqual(mapRange(['a', 'x', 'b', 'c'], ['a', 'b', 'c'], { start: 1, end: 3 }), { start: 2, end: 4 });
    assert.deepEqual(mapRange(['a', 'b', 'x', 'c'], ['a', 'b', 'c'], { start: 1, end: 3 }), { start: 1, end: 4 });
    // lines added in the newer text only: nothing in the older one
    assert.deepEqual(mapRange(['a', 'b'], ['a', 'n', 'b'], { start: 1, end: 2 }), { start: 1, end: 1 });
  });
});
