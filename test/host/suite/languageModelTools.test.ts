// The language-model tools (#13): listed in vscode.lm.tools, run through vscode.lm.invokeTool as an
// agent would (VS Code's own confirmation dialog is accepted by the test host), checked on disk; the
// confirmations restore and undo ask for are read through prepareInvocation.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { assertPromptsUsed, fixtureText, getApi, listPoints, pointPath, readFile, resetAll, settle, writeFile, wsFile, type Api } from './helpers';

const TOOLS = ['recoveryPoints_listPoints', 'recoveryPoints_createPoint', 'recoveryPoints_showChanges', 'recoveryPoints_fileHistory', 'recoveryPoints_readFileVersion', 'recoveryPoints_searchHistory', 'recoveryPoints_previewRestore', 'recoveryPoints_restorePoint', 'recoveryPoints_undoRestore'];

/** Invokes a tool as an agent would; returns its sentence and its JSON data. */
async function invoke<T = Record<string, unknown>>(name: string, input: object = {}): Promise<{ sentence: string; data: T }> {
  const result = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined }, new vscode.CancellationTokenSource().token);
  const texts = result.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : ''));
  return { sentence: texts[0] ?? '', data: JSON.parse(texts[1] ?? 'null') as T };
}

async function confirmation(api: Api, name: string, input: object): Promise<vscode.PreparedToolInvocation> {
  const tool = api.languageModelTools?.get(name);
  assert.ok(tool?.prepareInvocation, `${name} has a prepareInvocation`);
  const prepared = await tool.prepareInvocation({ input }, new vscode.CancellationTokenSource().token);
  assert.ok(prepared, `${name} prepared its invocation`);
  return prepared;
}

const messageText = (message: string | vscode.MarkdownString | undefined) => (typeof message === 'string' ? message : (message?.value ?? ''));

suite('language-model tools', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  test('vscode.lm.tools lists every tool with its description and input schema', () => {
    const ours = vscode.lm.tools.filter((t) => t.name.startsWith('recoveryPoints_'));
    assert.deepEqual(ours.map((t) => t.name).sort(), [...TOOLS].sort());
    const restore = ours.find((t) => t.name === 'recoveryPoints_restorePoint')!;
    assert.match(restore.description, /safety point/);
    assert.match(restore.description, /recoveryPoints_undoRestore/, 'tools are named as VS Code names them');
    assert.deepEqual((restore.inputSchema as { required?: string[] }).required, ['point']);
  });

  test('create, list, restore and undo through vscode.lm.invokeTool change the files on disk as expected', async () => {
    const created = await invoke<{ point: { id: string; label: string } }>('recoveryPoints_createPoint', { label: 'Before the agent' });
    assert.equal(created.data.point.label, 'Before the agent');
    assert.ok((await listPoints(api)).some((p) => p.id === created.data.point.id && p.label === 'Before the agent'), 'the point is in the store');

    writeFile('src/greeting.ts', 'changed by the agent\n');
    fs.rmSync(wsFile('src/farewell.ts'));
    writeFile('src/added.ts', 'added by the agent\n');
    writeFile('tmp/cache.log', 'ignored, never touched\n');
    await settle(api);

    const listed = await invoke<{ points: Array<{ id: string }> }>('recoveryPoints_listPoints', { path: 'src/farewell.ts' });
    assert.equal(listed.data.points[0]?.id, (await listPoints(api))[0]!.id, 'the newest point (the change on disk) deleted farewell.ts');
    assert.ok(listed.data.points.length >= 1);
    const labelled = await invoke<{ points: Array<{ id: string; summary: string; agent?: string }> }>('recoveryPoints_listPoints', { trigger: 'agent', limit: 1 });
    assert.deepEqual(labelled.data.points.map((p) => [p.id, p.summary, p.agent]), [[created.data.point.id, 'Created by an agent in VS Code chat', 'an agent in VS Code chat']], 'the point is the agent\'s, not the person\'s');

    const prepared = await confirmation(api, 'recoveryPoints_restorePoint', { point: created.data.point.id });
    const asked = messageText(prepared.confirmationMessages?.message);
    assert.match(prepared.confirmationMessages?.title ?? '', /Restore recovery point "Before the agent"/);
    assert.match(asked, /Overwrite 1:.*src\/greeting\.ts/);
    assert.match(asked, /Create 1:.*src\/farewell\.ts/);
    assert.match(asked, /Delete 1:.*src\/added\.ts/);
    assert.match(asked, /Undo Last Restore/);

    const restored = await invoke<{ safetyPointId: string; written: string[]; removed: string[] }>('recoveryPoints_restorePoint', { point: created.data.point.id });
    assert.match(restored.sentence, /recoveryPoints_undoRestore puts them back/);
    assert.deepEqual([...restored.data.written].sort(), ['src/farewell.ts', 'src/greeting.ts']);
    assert.deepEqual(restored.data.removed, ['src/added.ts']);
    assert.equal(readFile('src/greeting.ts'), fixtureText('src/greeting.ts'));
    assert.equal(readFile('src/farewell.ts'), fixtureText('src/farewell.ts'), 'a deleted file comes back');
    assert.equal(fs.existsSync(wsFile('src/added.ts')), false, 'a file the point did not have is deleted');
    assert.equal(readFile('tmp/cache.log'), 'ignored, never touched\n', 'an ignored file is left alone');
    assert.ok((await listPoints(api)).some((p) => p.id === restored.data.safetyPointId && p.trigger === 'before-restore'), 'the safety point is in the store');

    const undoAsked = await confirmation(api, 'recoveryPoints_undoRestore', {});
    assert.match(undoAsked.confirmationMessages?.title ?? '', /Undo the last restore/);
    assert.match(messageText(undoAsked.confirmationMessages?.message), new RegExp(restored.data.safetyPointId));
    const undone = await invoke('recoveryPoints_undoRestore');
    assert.match(undone.sentence, /^Undid the restore of "Before the agent" \(restored just now\): /);
    assert.equal(readFile('src/greeting.ts'), 'changed by the agent\n');
    assert.equal(readFile('src/added.ts'), 'added by the agent\n');
    assert.equal(fs.existsSync(wsFile('src/farewell.ts')), false);
    assert.equal(readFile('tmp/cache.log'), 'ignored, never touched\n');

    // one file
    await invoke('recoveryPoints_restorePoint', { point: created.data.point.id, paths: ['src/greeting.ts'] });
    assert.equal(readFile('src/greeting.ts'), fixtureText('src/greeting.ts'));
    assert.equal(readFile('src/added.ts'), 'added by the agent\n', 'other files are untouched');
    const state = await api.store!.state.syncState();
    assert.deepEqual(state.lastRestore?.paths, [pointPath('src/greeting.ts')]);
  });

  test("a file's versions, one version's text and a history search through vscode.lm.invokeTool", async () => {
    const created = await invoke<{ point: { id: string } }>('recoveryPoints_createPoint', { label: 'Before the agent' });
    writeFile('src/greeting.ts', 'export const greeting = "changed by the agent";\n');
    await settle(api);

    const history = await invoke<{ path: string; versions: Array<{ pointId: string; hash: string; current: boolean; added: number; removed: number }> }>('recoveryPoints_fileHistory', { path: 'src/greeting.ts' });
    assert.equal(history.data.path, 'src/greeting.ts', 'as the agent gives paths, so it can pass it back');
    const [newest, ...older] = history.data.versions;
    assert.ok(newest?.current, 'the newest version is the file on disk');
    assert.deepEqual([newest.added, newest.removed], [1, fixtureText('src/greeting.ts').split('\n').filter(Boolean).length]);
    const original = older[0];
    assert.ok(original, 'the version before the change is listed');

    const read = await invoke<{ text: string; truncated: boolean }>('recoveryPoints_readFileVersion', { path: 'src/greeting.ts', version: original.hash });
    assert.deepEqual([read.data.text, read.data.truncated], [fixtureText('src/greeting.ts'), false]);
    const atPoint = await invoke<{ text: string }>('recoveryPoints_readFileVersion', { path: history.data.path, point: created.data.point.id });
    assert.equal(atPoint.data.text, fixtureText('src/greeting.ts'));

    const found = await invoke<{ hits: Array<{ places: Array<{ path: string }>; lines: Array<{ line: number; text: string }> }> }>('recoveryPoints_searchHistory', { pattern: 'changed BY the agent' });
    assert.deepEqual(found.data.hits.map((h) => [h.places[0]?.path, h.lines]), [['src/greeting.ts', [{ line: 1, text: 'export const greeting = "changed by the agent";' }]]]);
    await assert.rejects(Promise.resolve(vscode.lm.invokeTool('recoveryPoints_searchHistory', { input: { pattern: 'a(b', regex: true }, toolInvocationToken: undefined })), /is not a valid regular expression/);
    await assert.rejects(Promise.resolve(vscode.lm.invokeTool('recoveryPoints_searchHistory', { input: { pattern: 'a', paths: ['src/[ab'] }, toolInvocationToken: undefined })), /The path pattern "src\/\[ab" is not a valid glob/);
    assert.equal(readFile('src/greeting.ts'), 'export const greeting = "changed by the agent";\n', 'reading changes nothing');
  });

  test('paths outside the workspace and bad input are refused with a sentence, and nothing is written', async () => {
    const point = (await invoke<{ point: { id: string } }>('recoveryPoints_createPoint', { label: 'base' })).data.point;
    writeFile('src/greeting.ts', 'changed\n');
    await settle(api);
    const refusals: Array<[string, object, RegExp]> = [
      ['recoveryPoints_restorePoint', { point: point.id, paths: ['../outside.txt'] }, /not inside a folder of this workspace/],
      ['recoveryPoints_restorePoint', { point: point.id, paths: ['/etc/passwd'] }, /not inside a folder of this workspace/],
      ['recoveryPoints_previewRestore', { point: point.id, paths: ['src/../../x'] }, /not inside a folder of this workspace/],
      ['recoveryPoints_restorePoint', { point: 'nope' }, /No recovery point "nope"/],
      ['recoveryPoints_createPoint', { label: ' ' }, /label that says why/],
      ['recoveryPoints_restorePoint', { point: point.id, paths: 'src' }, /^recoveryPoints_restorePoint: `paths` must be a list of workspace paths\.$/],
    ];
    for (const [name, input, pattern] of refusals) {
      await assert.rejects(Promise.resolve(vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined })), (error: Error) => {
        assert.match(error.message, pattern, `${name} ${JSON.stringify(input)}`);
        return true;
      });
    }
    assert.equal(readFile('src/greeting.ts'), 'changed\n', 'nothing was restored');
    assert.equal((await api.store!.state.syncState()).lastRestore, null);
  });
});
