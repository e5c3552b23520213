// Finding things in history: Search History over every stored version, and the points tree's filter.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { formatPointTime } from '../../../src/extension/views/changeDiffs';
import { assertPromptsUsed, createPoint, getApi, labelText, pointPath, resetAll, run, treeChildren, writeFile, type Api, type PointSummary } from './helpers';

/** The points the tree shows, newest first (every day expanded). */
async function shownPoints(api: Api): Promise<PointSummary[]> {
  const points: PointSummary[] = [];
  for (const day of await treeChildren(api)) {
    for (const row of await treeChildren(api, day.node)) if (row.node.kind === 'point') points.push(row.node.point);
  }
  return points;
}

suite('search and filter', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(async () => {
    await run('clearFilter');
    assertPromptsUsed(api);
  });

  test('Search History (in a worker thread) finds text that only an old point holds and opens that version read-only at the line, its tab titled with the point\'s time; refuses a malformed regular expression or Files to Include glob', async () => {
    writeFile('src/greeting.ts', 'export const a = 1;\n\n// the quasarMarmot helper, removed later\nexport function quasarMarmot() {}\n');
    const old = await createPoint(api);
    writeFile('src/greeting.ts', 'export const a = 2;\n');
    await createPoint(api);

    const runs = { ...api.searchRuns };
    api.prompts.answerNext({ input: 'QUASARMARMOT helper' }, { pick: /quasarMarmot helper/ });
    const opened = await run<{ path: string; pointId: string; line: number }>('searchHistory');
    assert.deepEqual(opened, { path: pointPath('src/greeting.ts'), pointId: old.id, line: 3 });
    assert.deepEqual(api.searchRuns, { inWorker: runs.inWorker + 1, inHost: runs.inHost }, 'the search ran in a worker thread (dist/searchWorker.js), not on the extension host\'s thread');
    const results = api.prompts.history.find((h) => h.kind === 'pick')!;
    assert.deepEqual(results.choices, ['// the quasarMarmot helper, removed later'], 'one matching line, in the one version that held it');

    const editor = vscode.window.activeTextEditor;
    assert.ok(editor, 'the version is open');
    assert.equal(editor.document.uri.scheme, 'recovery-point', 'read-only: a document of the point, not the workspace file');
    assert.equal(editor.document.uri.query, old.id);
    assert.equal(editor.document.uri.path, `/${pointPath('src/greeting.ts')}`);
    assert.match(editor.document.getText(), /quasarMarmot helper/);
    const selection = editor.selection;
    assert.deepEqual([selection.start.line, selection.start.character, selection.end.line, selection.end.character], [2, 7, 2, 26], 'the match is selected');
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.label, `greeting.ts (${formatPointTime(old)})`, 'the tab says which version it is: the workspace file\'s tab reads "greeting.ts"');
    api.prompts.reset();

    // a malformed regular expression is refused in the box; a search with no match lists nothing
    api.prompts.answerNext({ input: 'unclosed(' });
    await run('searchHistory', { isRegex: true });
    assert.equal(api.prompts.problems.length, 1);
    assert.match(api.prompts.problems[0]!, /refuses "unclosed\(": "unclosed\(" is not a valid regular expression \(.+\)\.$/);
    api.prompts.reset();

    // so is a malformed Files to Include glob, named in the sentence
    api.prompts.answerNext({ input: 'quasarMarmot' });
    await run('searchHistory', { filesToInclude: 'src/[ab' });
    assert.equal(api.prompts.problems.length, 1);
    assert.match(api.prompts.problems[0]!, /refuses "quasarMarmot": The path pattern "src\/\[ab" is not a valid glob \(missing closing: "\]"\)/);
    api.prompts.reset();

    api.prompts.answerNext({ input: 'noSuchTextAnywhere' }, { cancel: true });
    assert.equal(await run('searchHistory'), undefined);
    assert.deepEqual(api.prompts.history.find((h) => h.kind === 'pick')!.choices, []);
  });

  test('Filter… shows only the points whose label, summary, trigger, branch or changed files match; Clear Filter shows all again', async () => {
    const labelled = await createPoint(api, 'alpha release');
    writeFile('src/orbit.ts', 'export const orbit = 1;\n');
    const orbit = await createPoint(api);
    writeFile('.git/HEAD', 'ref: refs/heads/nebula-topic\n');
    writeFile('docs/comet.md', '# Comet\n');
    const comet = await createPoint(api);
    const all = await shownPoints(api);
    assert.ok(all.length >= 4);

    api.prompts.answerNext({ input: 'orbit' });
    await run('filterPoints');
    assert.deepEqual((await shownPoints(api)).map((p) => p.id), [orbit.id], 'by a changed file');
    assert.equal(api.view!.message, `Filtered by "orbit": 1 of ${all.length} points.`);

    api.prompts.answerNext({ input: 'ALPHA' });
    await run('filterPoints');
    assert.deepEqual((await shownPoints(api)).map((p) => p.id), [labelled.id], 'by label, any case');

    api.prompts.answerNext({ input: 'manual comet' });
    await run('filterPoints');
    assert.deepEqual((await shownPoints(api)).map((p) => p.id), [comet.id], 'every word must match: the trigger and a file');

    api.prompts.answerNext({ input: 'Nebula-Topic' });
    await run('filterPoints');
    assert.deepEqual((await shownPoints(api)).map((p) => p.id), [comet.id], 'by the branch its folder was on');

    api.prompts.answerNext({ input: 'nothing-like-this' });
    await run('filterPoints');
    assert.deepEqual(await treeChildren(api), []);
    assert.match(api.view!.message ?? '', /^No point matches the filter "nothing-like-this"/);

    await run('clearFilter');
    assert.deepEqual((await shownPoints(api)).map((p) => p.id), all.map((p) => p.id));
    assert.equal(api.view!.message, undefined, 'no filter message once cleared');
    assert.equal(labelText((await treeChildren(api))[0]!.item), 'Today');
  });
});
