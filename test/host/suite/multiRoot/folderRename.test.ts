// A point of a two-folder workspace, then one folder renamed (its name in the .code-workspace file),
// moved on disk (the workspace file updated), or two folders' names swapped: restores through the
// extension land in the folder that stands for the point's, and delete nothing in a folder the point
// does not know. Runs in the "workspace" run of scripts/host/runHostTests.mjs.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { assertPromptsUsed, getApi, pointNode, run, setSetting, settle, store, type Api, type PointSummary } from '../helpers';
import { file, filesOf, fixtureText, read, resetMultiRoot, setFolders, write } from './multiRoot';

interface RestoreResult {
  readonly outcome: { readonly written: string[]; readonly removed: string[] };
}

suite('a multi-root workspace whose folders were renamed or moved', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
    // Only the points a test makes: none made by the test's own file changes.
    await setSetting('automatic.enabled', false);
  });
  suiteTeardown(() => setSetting('automatic.enabled', undefined));
  setup(() => resetMultiRoot(api));
  teardown(() => assertPromptsUsed(api));

  async function pointOfBothFolders(label: string): Promise<PointSummary> {
    const point = (await store(api).recovery.createRecoveryPoint(undefined, { trigger: 'manual', label }))!;
    assert.deepEqual(point.roots.map((r) => r.name), ['one', 'two']);
    await api.model!.refresh();
    return api.model!.find(point.id)!;
  }

  /** Restore Recovery Point… on the tree's point, every file of the review ticked; returns the review and the result. */
  async function restoreWhole(point: PointSummary): Promise<{ review: { text: string; choices: readonly string[] }; result: RestoreResult }> {
    await settle(api);
    api.prompts.answerNext({ pickMany: 'all' });
    const result = await run<RestoreResult | undefined>('restore', await pointNode(api, point.id));
    assert.ok(result, 'the restore ran');
    const review = api.prompts.history.at(-1)!;
    assert.equal(review.kind, 'pickMany');
    return { review, result };
  }

  /** Restore File from Recovery Point… on an explorer file, the version of `label` picked. */
  async function restoreOneFile(rel: string, label: string): Promise<RestoreResult> {
    await settle(api);
    api.prompts.answerNext({ pick: label }, { button: 'Restore' });
    const result = await run<RestoreResult | undefined>('restoreFile', vscode.Uri.file(file(rel)));
    assert.ok(result, 'the file was restored');
    return result;
  }

  test('a folder renamed in the .code-workspace file: a whole restore and a one-file restore land in it; a folder the point does not know keeps its files', async () => {
    const point = await pointOfBothFolders('two folders');
    write('three/keep.txt', 'a folder added after the point\n');
    await setFolders(api, [{ path: 'one' }, { path: 'two', name: 'second' }, { path: 'three' }]);

    write('two/notes.md', 'edited after the rename\n');
    const one = await restoreOneFile('two/notes.md', 'two folders');
    assert.deepEqual([one.outcome.written, one.outcome.removed], [['second/notes.md'], []]);
    assert.equal(read('two/notes.md'), fixtureText('two/notes.md'));

    write('two/lib/util.ts', 'broken\n');
    write('two/lib/extra.ts', 'added after the point\n');
    const { review, result } = await restoreWhole(point);
    assert.match(review.text, /point folder two → workspace folder second \(same path\)/);
    assert.match(review.text, /workspace folder three → not in this point \(left as it is\)/);
    assert.deepEqual([...review.choices].sort(), ['second/lib/extra.ts', 'second/lib/util.ts'], 'only what differs in the renamed folder');
    assert.deepEqual([result.outcome.written, result.outcome.removed], [['second/lib/util.ts'], ['second/lib/extra.ts']]);
    assert.equal(read('two/lib/util.ts'), fixtureText('two/lib/util.ts'));
    assert.deepEqual(filesOf('three'), ['keep.txt'], 'the folder the point does not know is untouched');
    assert.deepEqual(filesOf('one'), ['README.md', 'src/app.ts']);
  });

  test('a folder moved on disk, the workspace file updated: a whole restore and a one-file restore land in the moved folder; a folder the point does not know keeps its files', async () => {
    const point = await pointOfBothFolders('before the move');
    fs.mkdirSync(file('moved'));
    fs.renameSync(file('two'), file('moved/two'));
    write('three/keep.txt', 'a folder added after the point\n');
    await setFolders(api, [{ path: 'one' }, { path: 'moved/two' }, { path: 'three' }]);

    write('moved/two/notes.md', 'edited after the move\n');
    const one = await restoreOneFile('moved/two/notes.md', 'before the move');
    assert.deepEqual(one.outcome.written, ['two/notes.md']);
    assert.equal(read('moved/two/notes.md'), fixtureText('two/notes.md'));

    fs.rmSync(file('moved/two/lib/util.ts'));
    write('moved/two/lib/extra.ts', 'added after the point\n');
    write('one/README.md', 'edited\n');
    const { review, result } = await restoreWhole(point);
    assert.match(review.text, /workspace folder three → not in this point/);
    assert.deepEqual([...result.outcome.written].sort(), ['one/README.md', 'two/lib/util.ts']);
    assert.deepEqual(result.outcome.removed, ['two/lib/extra.ts']);
    assert.deepEqual(filesOf('moved/two'), ['lib/util.ts', 'notes.md'], 'the moved folder holds the point\'s files');
    assert.equal(read('one/README.md'), fixtureText('one/README.md'));
    assert.deepEqual(filesOf('three'), ['keep.txt'], 'the folder the point does not know is untouched');
    assert.equal(fs.existsSync(file('two')), false, 'nothing was written where the folder was');
  });

  test('a folder of the point that the workspace no longer has: the restore says the folder was left out, not "1 file skipped"', async () => {
    const point = await pointOfBothFolders('two folders');
    await setFolders(api, [{ path: 'one' }]);
    write('one/src/app.ts', 'edited after the folder was removed\n');
    await restoreWhole(point);
    assert.equal(read('one/src/app.ts'), fixtureText('one/src/app.ts'));
    const said = api.prompts.notifications.at(-1)!.message;
    assert.match(said, /The point's folder two is in no folder of this workspace: left out\.$/);
    assert.doesNotMatch(said, /skipped/);
  });

  test('two folders whose names were swapped in the workspace file: each point folder is restored into its own folder (by path), not the one with its name now, and Undo Last Restore puts it back', async () => {
    write('one/src/app.ts', 'export const app = "one, at the point";\n');
    write('two/lib/util.ts', 'export const util = "two, at the point";\n');
    const point = await pointOfBothFolders('before the swap');
    await setFolders(api, [{ path: 'one', name: 'two' }, { path: 'two', name: 'one' }]);
    write('one/src/app.ts', 'export const app = "one, edited after the swap";\n');
    const before = { one: filesOf('one'), two: filesOf('two') };

    const { review, result } = await restoreWhole(point);
    assert.match(review.text, /point folder one → workspace folder two \(same path\)/);
    assert.deepEqual([result.outcome.written, result.outcome.removed], [['two/src/app.ts'], []], 'the folder at one/ (named "two" now) gets back its own file');
    assert.equal(read('one/src/app.ts'), 'export const app = "one, at the point";\n');
    assert.deepEqual({ one: filesOf('one'), two: filesOf('two') }, before, 'neither folder got the other\'s files');
    assert.equal(read('two/lib/util.ts'), 'export const util = "two, at the point";\n');

    await run('undoRestore');
    assert.equal(read('one/src/app.ts'), 'export const app = "one, edited after the swap";\n');
  });
});
