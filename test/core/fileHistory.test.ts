import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { fileHistory, readFileHistory, type FileVersion } from '../../src/core/history/fileHistory';
import { readVersionContent } from '../../src/core/history/versionContent';
import type { ObjectReader } from '../../src/core/objects/objectStore';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import { cleanupAll, makeSandbox, openStore, writeFiles, type FileSpec } from './helpers/storeFixtures';

after(cleanupAll);

/** Writes the files and makes a point with that summary; returns its id. */
async function point(store: RecoveryStore, ws: string, files: Record<string, FileSpec | null>, summary: string): Promise<string> {
  await writeFiles(ws, files);
  const made = await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', summary });
  return made!.id;
}

function brief(versions: readonly FileVersion[]) {
  return versions.map((v) => ({ kind: v.kind, summary: v.point.summary, path: v.path, lines: v.lines, current: v.current }));
}

describe('a file\'s history', () => {
  test('each distinct version once, newest first, at the point it first appeared, with its own +/− lines and the current one marked', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const p1 = await point(store, sb.ws, { 'src/app.ts': 'one\ntwo\n', 'other.txt': 'x\n' }, 'first');
    await point(store, sb.ws, { 'other.txt': 'y\n' }, 'other file only');
    const p3 = await point(store, sb.ws, { 'src/app.ts': 'one\ntwo\nthree\n' }, 'added a line');
    await point(store, sb.ws, { 'other.txt': 'z\n' }, 'other file again');
    const p5 = await point(store, sb.ws, { 'src/app.ts': 'ONE\nthree\n' }, 'changed and removed');

    const history = await readFileHistory(store, 'ws/src/app.ts');
    assert.deepEqual(brief(history.versions), [
      { kind: 'version', summary: 'changed and removed', path: 'ws/src/app.ts', lines: { added: 1, removed: 2 }, current: true },
      { kind: 'version', summary: 'added a line', path: 'ws/src/app.ts', lines: { added: 1, removed: 0 }, current: false },
      { kind: 'version', summary: 'first', path: 'ws/src/app.ts', lines: { added: 2, removed: 0 }, current: false },
    ]);
    const [newest, middle, oldest] = history.versions;
    assert.equal(newest!.point.id, p5);
    assert.equal(middle!.point.id, p3);
    assert.equal(middle!.lastPointId, (await store.recovery.listRecoveryPoints())[1]!.id, 'the run ends at the point before the next version');
    assert.equal(middle!.pointCount, 2);
    assert.equal(oldest!.point.id, p1);
    assert.equal(oldest!.previous, null);
    assert.deepEqual(newest!.previous && { pointId: newest!.previous.pointId, hash: newest!.previous.hash }, { pointId: middle!.lastPointId, hash: middle!.hash });

    // the file changed on disk since the newest point: no version is current
    await writeFiles(sb.ws, { 'src/app.ts': 'unsaved in any point\n' });
    assert.deepEqual((await readFileHistory(store, 'ws/src/app.ts')).versions.map((v) => v.current), [false, false, false]);
    // back to an older version's content: that version is marked
    await writeFiles(sb.ws, { 'src/app.ts': 'one\ntwo\n' });
    assert.deepEqual((await readFileHistory(store, 'ws/src/app.ts')).versions.map((v) => v.current), [false, false, true]);
  });

  test('after clean-up removed points, the entries whose change may have been in them say so', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const p1 = await point(store, sb.ws, { 'app.ts': 'one\n', 'other.txt': 'x\n' }, 'first');
    const p2 = await point(store, sb.ws, { 'app.ts': 'two\n' }, 'Saved app.ts');
    await point(store, sb.ws, { 'other.txt': 'y\n' }, 'Saved other.txt');
    const p4 = await point(store, sb.ws, { 'app.ts': 'three\n' }, 'Saved app.ts again');
    const p5 = await point(store, sb.ws, { 'other.txt': 'z\n' }, 'Saved other.txt again');
    const flags = async () => (await readFileHistory(store, 'ws/app.ts')).versions.map((v) => [v.point.summary, v.earlierRemoved ?? null]);
    assert.deepEqual(await flags(), [['Saved app.ts again', null], ['Saved app.ts', null], ['first', null]], 'every point kept: no entry says so');
    // the point where app.ts became "three" is gone: "three" shows at the next point, named after another file's save
    await store.recovery.deletePoints([p4]);
    assert.deepEqual(await flags(), [['Saved other.txt again', 'between'], ['Saved app.ts', null], ['first', null]]);
    // the first point is gone: "two" is the oldest version kept, and may be older than its point
    await store.recovery.deletePoints([p1]);
    const versions = (await readFileHistory(store, 'ws/app.ts')).versions;
    assert.deepEqual(versions.map((v) => [v.point.id, v.earlierRemoved ?? null]), [[p5, 'between'], [p2, 'before']]);
  });

  test('a file become a link says so, without line counts; a rename says no mode change', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 't.txt': 't\n', 'f': 'f\n', 'old.txt': 'same\n' }, 'written');
    await point(store, sb.ws, { 'f': { symlink: 't.txt' } }, 'a link');
    await point(store, sb.ws, { 'f': 'f\n' }, 'a file again');
    await point(store, sb.ws, { 'old.txt': null, 'new.txt': 'same\n' }, 'renamed');
    const f = await readFileHistory(store, 'ws/f');
    assert.deepEqual(f.versions.map((v) => [v.point.summary, v.modeChange, v.lines]), [
      ['a file again', 'now a file', null],
      ['a link', 'now a link', null],
      ['written', undefined, { added: 1, removed: 0 }],
    ]);
    const renamed = await readFileHistory(store, 'ws/new.txt');
    assert.deepEqual(renamed.versions.map((v) => [v.point.summary, v.renamedFrom, v.modeChange]), [['renamed', 'ws/old.txt', undefined], ['written', undefined, undefined]]);
  });

  test('the old path of a renamed file ends with where it went, not with a plain deletion', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'docs/readme.txt': 'read me\n', 'other.txt': 'o\n' }, 'written');
    await point(store, sb.ws, { 'docs/readme.txt': null, 'guide/readme.txt': 'read me\n' }, 'moved');
    await point(store, sb.ws, { 'other.txt': null }, 'deleted other');
    const old = await readFileHistory(store, 'ws/docs/readme.txt');
    assert.deepEqual(old.versions.map((v) => [v.kind, v.point.summary, v.renamedTo]), [['deleted', 'moved', 'ws/guide/readme.txt'], ['version', 'written', undefined]]);
    const gone = await readFileHistory(store, 'ws/other.txt');
    assert.equal(gone.versions[0]!.renamedTo, undefined, 'a plain deletion goes nowhere');
  });

  test('a change of the executable bit alone is a version of its own, said so, with no line changed', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o644 } }, 'written');
    await point(store, sb.ws, { 'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 } }, 'chmod +x');
    await point(store, sb.ws, { 'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o644 } }, 'chmod -x');
    const history = await readFileHistory(store, 'ws/run.sh');
    assert.deepEqual(
      history.versions.map((v) => [v.point.summary, v.modeChange, v.lines, v.current, v.sameAsPointId !== undefined]),
      [
        ['chmod -x', 'no longer executable', { added: 0, removed: 0 }, true, true],
        ['chmod +x', 'now executable', { added: 0, removed: 0 }, false, false],
        ['written', undefined, { added: 2, removed: 0 }, false, false],
      ],
    );
  });

  test('a link on disk is matched by its target\'s path, as points keep it: an unchanged link, or one whose target is gone, is the current version', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'target.txt': 'target\n', 'f.txt': 'plain\n' }, 'a file');
    await point(store, sb.ws, { 'f.txt': { symlink: 'target.txt' } }, 'a link');
    const marks = async () => (await readFileHistory(store, 'ws/f.txt')).versions.map((v) => [v.point.summary, v.current]);
    assert.deepEqual(await marks(), [['a link', true], ['a file', false]]);
    await writeFiles(sb.ws, { 'target.txt': null });
    assert.deepEqual(await marks(), [['a link', true], ['a file', false]], 'a dangling link is still there');
  });

  test('lines are counted as the diff editor shows them: text appended to a last line without a line break is one line added, not git\'s +2 \u22121', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'cart.ts': 'const a = 1;' }, 'no line break at the end');
    await point(store, sb.ws, { 'cart.ts': 'const a = 1;\nconst b = 2;' }, 'appended a line');
    await point(store, sb.ws, { 'cart.ts': 'const a = 1;\nconst b = 2;\n' }, 'added the line break');
    await point(store, sb.ws, { 'cart.ts': 'const a = 1;\nconst b = 3;\n' }, 'changed a line');
    await point(store, sb.ws, { 'cart.ts': 'const a = 1;\nconst b = 3;' }, 'removed the line break');
    const history = await readFileHistory(store, 'ws/cart.ts');
    assert.deepEqual(
      history.versions.map((v) => [v.point.summary, v.lines]),
      [
        ['removed the line break', { added: 0, removed: 1 }],
        ['changed a line', { added: 1, removed: 1 }],
        ['added the line break', { added: 1, removed: 0 }],
        ['appended a line', { added: 1, removed: 0 }],
        ['no line break at the end', { added: 1, removed: 0 }],
      ],
      'the line break\'s own changes count as the empty last line the editor shows, added or removed',
    );
  });

  test('a content that comes back (an undo, a restore) is its own entry, naming the older one with the same content', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const a = await point(store, sb.ws, { 'a.txt': 'A\n' }, 'A');
    await point(store, sb.ws, { 'a.txt': 'B\n' }, 'B');
    await point(store, sb.ws, { 'a.txt': 'A\n' }, 'A again');
    const versions = (await readFileHistory(store, 'ws/a.txt')).versions;
    assert.deepEqual(versions.map((v) => v.point.summary), ['A again', 'B', 'A']);
    assert.equal(versions[0]!.sameAsPointId, a);
    assert.deepEqual(versions[0]!.lines, { added: 1, removed: 1 });
    assert.equal(versions[0]!.current, true);
    assert.equal(versions[2]!.current, false, 'only the newest entry with the current content is marked');
  });

  test('a rename (delete and add of the same content in one point) is followed back to the old name', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'src/old.ts': 'v1\n', 'src/keep.ts': 'k\n' }, 'created old.ts');
    await point(store, sb.ws, { 'src/old.ts': 'v1\nv2\n' }, 'edited old.ts');
    await point(store, sb.ws, { 'src/old.ts': null, 'lib/new.ts': 'v1\nv2\n' }, 'moved to lib/new.ts');
    await point(store, sb.ws, { 'lib/new.ts': 'v1\nv2\nv3\n' }, 'edited new.ts');

    const versions = (await readFileHistory(store, 'ws/lib/new.ts')).versions;
    assert.deepEqual(
      versions.map((v) => ({ summary: v.point.summary, path: v.path, renamedFrom: v.renamedFrom, lines: v.lines })),
      [
        { summary: 'edited new.ts', path: 'ws/lib/new.ts', renamedFrom: undefined, lines: { added: 1, removed: 0 } },
        { summary: 'moved to lib/new.ts', path: 'ws/lib/new.ts', renamedFrom: 'ws/src/old.ts', lines: { added: 0, removed: 0 } },
        { summary: 'edited old.ts', path: 'ws/src/old.ts', renamedFrom: undefined, lines: { added: 1, removed: 0 } },
        { summary: 'created old.ts', path: 'ws/src/old.ts', renamedFrom: undefined, lines: { added: 1, removed: 0 } },
      ],
    );
    assert.equal(versions[1]!.previous?.path, 'ws/src/old.ts');
    // the old name's own history ends with its deletion: it was not renamed *to* anything it knows of
    const old = (await readFileHistory(store, 'ws/src/old.ts')).versions;
    assert.deepEqual(old.map((v) => [v.kind, v.point.summary]), [['deleted', 'moved to lib/new.ts'], ['version', 'edited old.ts'], ['version', 'created old.ts']]);
  });

  test('a file renamed and edited in one point is followed back when at least half its lines are the same; an unrelated deletion in the same point is not taken for its past', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const body = Array.from({ length: 10 }, (_, i) => `export const line${i} = ${i};`).join('\n');
    await point(store, sb.ws, { 'src/util.ts': `${body}\n`, 'src/other.ts': 'const unrelated = 1;\nconst more = 2;\n', 'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]) }, 'created util.ts');
    // renamed with 2 of its 10 lines changed and one added, as an agent's `git mv` and edit; other.ts deleted in the same point
    const edited = body.replace('line3 = 3', 'line3 = 30').replace('line7 = 7', 'line7 = 70');
    await point(store, sb.ws, { 'src/util.ts': null, 'src/other.ts': null, 'lib/helpers.ts': `// helpers\n${edited}\n`, 'src/fresh.ts': 'const unrelated = 2;\nlet different = true;\n' }, 'moved and edited');
    await point(store, sb.ws, { 'lib/helpers.ts': `// helpers\n${edited}\nexport const last = 1;\n` }, 'edited helpers.ts');

    const versions = (await readFileHistory(store, 'ws/lib/helpers.ts')).versions;
    assert.deepEqual(
      versions.map((v) => ({ summary: v.point.summary, path: v.path, renamedFrom: v.renamedFrom, lines: v.lines })),
      [
        { summary: 'edited helpers.ts', path: 'ws/lib/helpers.ts', renamedFrom: undefined, lines: { added: 1, removed: 0 } },
        { summary: 'moved and edited', path: 'ws/lib/helpers.ts', renamedFrom: 'ws/src/util.ts', lines: { added: 3, removed: 2 } },
        { summary: 'created util.ts', path: 'ws/src/util.ts', renamedFrom: undefined, lines: { added: 10, removed: 0 } },
      ],
    );
    // a file that shares less than half its lines with what was deleted starts its own history
    const fresh = (await readFileHistory(store, 'ws/src/fresh.ts')).versions;
    assert.deepEqual(fresh.map((v) => [v.point.summary, v.renamedFrom]), [['moved and edited', undefined]]);
    // nor is a binary file followed by likeness
    await point(store, sb.ws, { 'logo.png': null, 'img/logo2.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 4]) }, 'moved the logo');
    assert.deepEqual((await readFileHistory(store, 'ws/img/logo2.png')).versions.map((v) => [v.point.summary, v.renamedFrom]), [['moved the logo', undefined]]);
  });

  test('a deleted file is the past of the one added file most like it, never of a copy or a lesser match, and a file only no longer tracked is no one\'s past', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} line ${i}`).join('\n');
    await point(store, sb.ws, { 'util.ts': `${lines(20, 'u')}\n`, 'notes.txt': `${lines(30, 'n')}\n` }, 'first');
    // util.ts renamed with one line added, and a copy of most of it made beside: the rename is helpers.ts's past only
    await point(store, sb.ws, { 'util.ts': null, 'helpers.ts': `${lines(20, 'u')}\n// edit\n`, 'copy.ts': `${lines(12, 'u')}\n${lines(8, 'other')}\n` }, 'renamed and copied');
    const past = async (file: string) => (await readFileHistory(store, `ws/${file}`)).versions.map((v) => [v.point.summary, v.renamedFrom ?? null]);
    assert.deepEqual(await past('helpers.ts'), [['renamed and copied', 'ws/util.ts'], ['first', null]]);
    assert.deepEqual(await past('copy.ts'), [['renamed and copied', null]], 'the lesser match starts its own history');
    // notes.txt copied and edited, then ignored in the same point (still on disk): not the copy's past
    await point(store, sb.ws, { 'draft.txt': `${lines(30, 'n')}\nmore\n`, '.gitignore': 'notes.txt\n' }, 'drafted and ignored');
    assert.deepEqual(await past('draft.txt'), [['drafted and ignored', null]]);
  });

  test('a deleted file shows its deletion, and a file that exists only in old points still has its history', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'gone.txt': 'a\nb\n', 'x.txt': '1' }, 'created');
    await point(store, sb.ws, { 'gone.txt': null }, 'deleted gone.txt');
    await point(store, sb.ws, { 'x.txt': '2' }, 'later');
    const versions = (await readFileHistory(store, 'ws/gone.txt')).versions;
    assert.deepEqual(brief(versions), [
      { kind: 'deleted', summary: 'deleted gone.txt', path: 'ws/gone.txt', lines: { added: 0, removed: 2 }, current: true },
      { kind: 'version', summary: 'created', path: 'ws/gone.txt', lines: { added: 2, removed: 0 }, current: false },
    ]);
    assert.equal(versions[0]!.pointCount, 2, 'the deletion lasts through the later point');
    assert.equal(versions[0]!.previous?.hash, versions[1]!.hash);

    // created again: a new version counted from nothing
    await point(store, sb.ws, { 'gone.txt': 'new\n' }, 'created again');
    const again = (await readFileHistory(store, 'ws/gone.txt')).versions;
    assert.deepEqual(again.map((v) => [v.kind, v.point.summary, v.lines]), [
      ['version', 'created again', { added: 1, removed: 0 }],
      ['deleted', 'deleted gone.txt', { added: 0, removed: 2 }],
      ['version', 'created', { added: 2, removed: 0 }],
    ]);
    assert.equal(again[0]!.previous, null);
  });

  test('a binary file: its versions without line counts, its bytes read back exactly', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const first = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0xff, 0x0a]);
    const second = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x02, 0xfe]);
    const p1 = await point(store, sb.ws, { 'img.png': first }, 'image 1');
    await point(store, sb.ws, { 'img.png': second }, 'image 2');
    const versions = (await readFileHistory(store, 'ws/img.png')).versions;
    assert.deepEqual(versions.map((v) => [v.binary, v.lines, v.size]), [[true, null, second.length], [true, null, first.length]]);
    assert.deepEqual((await readVersionContent(store, p1, 'ws/img.png'))!.bytes, first);
    assert.equal(await readVersionContent(store, p1, 'ws/nothing.bin'), undefined);
  });

  test('a labelled point inside a version\'s run of points is named with the version', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'a.txt': '1\n' }, 'first');
    await writeFiles(sb.ws, { 'b.txt': 'other\n' });
    const labelled = await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'before refactor' });
    await point(store, sb.ws, { 'a.txt': '2\n' }, 'second');
    const versions = (await readFileHistory(store, 'ws/a.txt')).versions;
    assert.deepEqual(versions.map((v) => [v.point.summary, v.labelledPoint?.id]), [['second', undefined], ['first', labelled!.id]]);
  });

  test('a path no point holds has an empty history', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await point(store, sb.ws, { 'a.txt': 'a' }, 'first');
    assert.deepEqual((await readFileHistory(store, 'ws/never.txt')).versions, []);
    assert.deepEqual((await readFileHistory(store, 'other-folder/a.txt')).versions, []);
  });

  test('points of a folder the workspace now names differently are read through the folder mapping', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb, { roots: [{ name: 'app', path: sb.ws }] });
    await point(store, sb.ws, { 'a.txt': '1\n' }, 'as app');
    await point(store, sb.ws, { 'a.txt': '2\n' }, 'as app again');
    await store.close();
    const renamed = await openStore(sb, { roots: [{ name: 'ws', path: sb.ws }] });
    const versions = (await readFileHistory(renamed, 'ws/a.txt')).versions;
    assert.deepEqual(versions.map((v) => [v.point.summary, v.path, v.pointPath, v.current]), [['as app again', 'ws/a.txt', 'app/a.txt', true], ['as app', 'ws/a.txt', 'app/a.txt', false]]);
    assert.equal((await readVersionContent(renamed, versions[1]!.point.id, 'ws/a.txt'))!.bytes.toString(), '1\n');
  });

  test('only the trees on the file\'s path are read, and a folder tree seen once is not read again', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const many: Record<string, string> = {};
    for (let i = 0; i < 20; i++) many[`big/f${i}.txt`] = `${i}\n`;
    await point(store, sb.ws, { ...many, 'src/deep/a.ts': 'a1\n', 'src/deep/b.ts': 'b\n' }, 'first');
    for (let i = 0; i < 5; i++) await point(store, sb.ws, { 'big/f0.txt': `changed ${i}\n` }, `big ${i}`);
    await point(store, sb.ws, { 'src/deep/a.ts': 'a2\n' }, 'a2');
    await point(store, sb.ws, { 'src/deep/b.ts': 'b2\n' }, 'b2');

    const objects = await store.persistence.objects();
    const points = await store.persistence.listSnapshots();
    const bigTrees = new Set(
      await Promise.all(points.map(async (p) => (await objects.readTree((await objects.readTree(p.root)).e[0]![2])).e.find((e) => e[0] === 'big')![2])),
    );
    const srcTrees = new Set(
      await Promise.all(points.map(async (p) => (await objects.readTree((await objects.readTree(p.root)).e[0]![2])).e.find((e) => e[0] === 'src')![2])),
    );
    const reads: string[] = [];
    const counting: ObjectReader = {
      has: (hash) => objects.has(hash),
      readBlob: (hash) => objects.readBlob(hash),
      readTree: (hash) => {
        reads.push(hash);
        return objects.readTree(hash);
      },
    };
    const history = await fileHistory({ objects: counting, points, roots: store.persistence.workspaceRoots }, 'ws/src/deep/a.ts', { lineCounts: false });
    assert.deepEqual(history.versions.map((v) => v.point.summary), ['a2', 'first']);
    assert.equal(reads.filter((h) => bigTrees.has(h)).length, 0, 'the folder "big" is never read');
    assert.equal(srcTrees.size, 3);
    assert.equal(reads.filter((h) => srcTrees.has(h)).length, 3, 'each distinct src tree is read once, not once per point');
  });
  test('listings made again on the open store, after a rename, a deletion and a re-creation, equal a freshly opened store\'s', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const brief2 = (versions: readonly FileVersion[]) => versions.map((v) => [v.kind, v.point.summary, v.path, v.renamedFrom ?? null, v.lines, v.current]);
    const listings = async () => [brief2((await readFileHistory(store, 'ws/b.txt')).versions), brief2((await readFileHistory(store, 'ws/a.txt')).versions)];
    await point(store, sb.ws, { 'a.txt': 'one\n', 'other.txt': 'x\n' }, 'first');
    await point(store, sb.ws, { 'a.txt': 'one\ntwo\n' }, 'second');
    const before = await listings();
    await point(store, sb.ws, { 'a.txt': null, 'b.txt': 'one\ntwo\n' }, 'renamed');
    await listings();
    await point(store, sb.ws, { 'b.txt': null }, 'deleted');
    await listings();
    await point(store, sb.ws, { 'a.txt': 'back\n' }, 'a again');
    const again = await listings();
    const fresh = await openStore(sb);
    const freshListings = [brief2((await readFileHistory(fresh, 'ws/b.txt')).versions), brief2((await readFileHistory(fresh, 'ws/a.txt')).versions)];
    assert.deepEqual(again, freshListings);
    assert.deepEqual(again[0]!.map((v) => [v[0], v[1], v[3]]), [['deleted', 'deleted', null], ['version', 'renamed', 'ws/a.txt'], ['version', 'second', null], ['version', 'first', null]]);
    assert.deepEqual(again[1]!.map((v) => [v[0], v[1]]), [['version', 'a again'], ['deleted', 'renamed'], ['version', 'second'], ['version', 'first']]);
    assert.notDeepEqual(before, again);
  });
});
