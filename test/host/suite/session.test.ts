// The editor session: kept in the state as people work, recorded by every point, and reopened by a
// whole-point restore when recoveryPoints.restoreEditorLayout is on.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { assertPromptsUsed, closeAllEditors, createPoint, getApi, openEditor, pointNode, pointPath, resetAll, run, setSetting, settle, waitFor, writeFile, wsFile, type Api } from './helpers';

function openTabs(): string[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).flatMap((t) => (t.input instanceof vscode.TabInputText ? [t.input.uri.fsPath] : []));
}

suite('editor session', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  test('a point records the open tabs, the active tab and its selection; restoring it with restoreEditorLayout on reopens them', async () => {
    await openEditor('src/notes.txt');
    const greeting = await openEditor('src/greeting.ts');
    greeting.selection = new vscode.Selection(1, 2, 1, 5);
    await waitFor('the editor session to reach the state', async () => {
      const tabs = (await api.store!.state.getState()).session.groups.flatMap((g) => g.tabs);
      const active = tabs.find((t) => t.path === pointPath('src/greeting.ts'));
      return active?.isActive && active.selections[0]?.active[1] === 5 && tabs.some((t) => t.path === pointPath('src/notes.txt'));
    });
    const point = await createPoint(api, 'layout');
    const recorded = (await api.store!.persistence.requireSnapshot(point.id)).state.session.groups.flatMap((g) => g.tabs);
    assert.deepEqual(recorded.map((t) => t.path).sort(), [pointPath('src/greeting.ts'), pointPath('src/notes.txt')], 'the point holds the open tabs');
    assert.deepEqual(recorded.find((t) => t.isActive)?.selections, [{ anchor: [1, 2], active: [1, 5] }], 'and the active tab\'s selection');

    await closeAllEditors();
    writeFile('src/notes.txt', 'changed on disk\n');
    await settle(api);
    await setSetting('restoreEditorLayout', true);
    api.prompts.answerNext({ pickMany: 'all' });
    await run('restore', await pointNode(api, point.id));

    await waitFor('the point\'s editors to be open again', () => openTabs().includes(wsFile('src/greeting.ts')) && openTabs().includes(wsFile('src/notes.txt')));
    const active = vscode.window.activeTextEditor;
    assert.equal(active?.document.uri.fsPath, wsFile('src/greeting.ts'), 'the active tab is active again');
    assert.deepEqual([active.selection.anchor.line, active.selection.anchor.character, active.selection.active.line, active.selection.active.character], [1, 2, 1, 5]);
  });

  test('with restoreEditorLayout off (the default), a restore opens no editors', async () => {
    await openEditor('src/notes.txt');
    const point = await createPoint(api, 'layout');
    await closeAllEditors();
    writeFile('src/notes.txt', 'changed on disk\n');
    await settle(api);
    api.prompts.answerNext({ pickMany: 'all' });
    await run('restore', await pointNode(api, point.id));
    assert.deepEqual(openTabs(), [], 'no editor was opened');
  });
});
