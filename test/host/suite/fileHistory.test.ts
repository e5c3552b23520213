// The File History view: a file's distinct versions, following the active editor, and each version's actions.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { pointIdTime, type PointSummary } from '../../../src/core';
import type { FileHistory } from '../../../src/core/history/fileHistory';
import type { OpenedDiff } from '../../../src/extension/commands/historyCommands';
import { formatPointTime } from '../../../src/extension/views/changeDiffs';
import { versionTime, type VersionNode } from '../../../src/extension/views/fileHistoryProvider';
import {
  activeDiff,
  assertPromptsUsed,
  editAndSave,
  fileNode,
  fixtureText,
  getApi,
  labelText,
  openEditor,
  pointPath,
  readFile,
  resetAll,
  run,
  settle,
  store,
  waitFor,
  writeFile,
  wsFile,
  wsUri,
  type Api,
} from './helpers';

const V2 = 'export function greeting(name: string): string {\n  return `Hi, ${name}!`;\n}\n';
const V3 = 'export function greeting(name: string): string {\n  return `Hi, ${name}!`;\n}\nexport const polite = true;\n';

suite('file history', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  /** Three versions of greeting.ts (the baseline's, V2, V3), each saved in the editor, with a point of another file between them. */
  async function threeVersions(): Promise<void> {
    await editAndSave('src/greeting.ts', V2);
    await settle(api);
    await editAndSave('src/notes.txt', 'first line\nsecond line\nthird line\n');
    await settle(api);
    await editAndSave('src/greeting.ts', V3);
    await settle(api);
    await api.model!.refresh();
  }

  /** The view's rows for `rel` once it shows that file. */
  async function rows(rel: string): Promise<Array<{ node: VersionNode; item: vscode.TreeItem }>> {
    const provider = api.fileHistory!;
    await waitFor(`the File History to show ${rel}`, () => provider.currentFile === pointPath(rel));
    const nodes = await provider.getChildren();
    return nodes.map((node) => ({ node, item: provider.getTreeItem(node) }));
  }

  test('follows the active editor: one row per distinct version, newest first, with its time, what made it, +a −d and the current one marked', async () => {
    await threeVersions();
    await openEditor('src/greeting.ts');
    const shown = await rows('src/greeting.ts');
    assert.deepEqual(
      shown.map((r) => r.item.description),
      ['+1 \u22120  Saved greeting.ts \u00b7 current', '+1 \u22121  Saved greeting.ts', '+3 \u22120  Test baseline'],
      'the point of notes.txt in between is not a version of greeting.ts',
    );
    assert.deepEqual(shown.map((r) => labelText(r.item)), shown.map((r) => versionTime(r.node.version.point)));
    assert.deepEqual(shown.map((r) => r.item.contextValue), ['version.current', 'version', 'version']);
    assert.equal(api.fileHistory!.currentFile, pointPath('src/greeting.ts'));

    await openEditor('src/notes.txt');
    const notes = await rows('src/notes.txt');
    assert.deepEqual(notes.map((r) => r.item.description), ['+1 \u22120  Saved notes.txt \u00b7 current', '+2 \u22120  Test baseline']);

    // Show File History from the explorer: the chosen file, and the view is revealed
    const history = await run<FileHistory>('showFileHistory', wsUri('src/farewell.ts'));
    assert.equal(history.path, pointPath('src/farewell.ts'));
    assert.deepEqual(history.versions.map((v) => v.point.summary), ['Test baseline']);
    assert.equal(api.fileHistory!.currentFile, pointPath('src/farewell.ts'));
  });

  test('a version the file went back to says which older version it is the same as', async () => {
    await editAndSave('src/greeting.ts', V2);
    await settle(api);
    await editAndSave('src/greeting.ts', V3);
    await settle(api);
    await editAndSave('src/greeting.ts', V2);
    await settle(api);
    await api.model!.refresh();
    await openEditor('src/greeting.ts');
    const shown = await rows('src/greeting.ts');
    assert.equal(shown[0]!.node.version.sameAsPointId, shown[2]!.node.version.point.id);
    assert.equal(shown[0]!.item.description, `+0 \u22121  Saved greeting.ts \u00b7 same as ${versionTime(shown[2]!.node.version.point)} \u00b7 current`);
  });

  test('after a point made while the clock ran ahead, rows, "same as", diff and tab titles show when each point was made, not its id\'s time', async () => {
    // a point made with the clock 10 minutes ahead: the ids of the points after it are pushed past its own
    const ahead = 10 * 60_000;
    const realNow = Date.now;
    Date.now = () => realNow() + ahead;
    try {
      writeFile('src/notes.txt', 'made while the clock was ahead\n');
      assert.ok(await store(api).recovery.createRecoveryPoint(undefined, { trigger: 'manual', summary: 'Clock ahead' }));
    } finally {
      Date.now = realNow;
    }
    await settle(api);
    await editAndSave('src/greeting.ts', V2);
    await settle(api);
    await editAndSave('src/greeting.ts', V3);
    await settle(api);
    await editAndSave('src/greeting.ts', V2);
    await settle(api);
    await api.model!.refresh();
    await openEditor('src/greeting.ts');
    const [back, third, second] = await rows('src/greeting.ts');
    const byId = (p: PointSummary) => versionTime({ id: p.id, createdAt: new Date(pointIdTime(p.id)).toISOString() });
    for (const row of [back!, third!, second!]) {
      const point = row.node.version.point;
      assert.ok(pointIdTime(point.id) - Date.parse(point.createdAt) > ahead / 2, 'its id carries the time of the clock that ran ahead');
      assert.equal(labelText(row.item), versionTime(point));
      assert.notEqual(labelText(row.item), byId(point), 'the row shows when the point was made');
    }
    assert.equal(back!.node.version.sameAsPointId, second!.node.version.point.id);
    assert.match(String(back!.item.description), new RegExp(`same as ${versionTime(second!.node.version.point)} `));

    const opened = await run<OpenedDiff>('history.openChange', third!.node);
    assert.equal(opened.title, `greeting.ts (${versionTime(second!.node.version.point)} \u2194 ${versionTime(third!.node.version.point)}) Saved greeting.ts`);
    await run('history.openVersion', second!.node);
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.label, `greeting.ts (${formatPointTime(second!.node.version.point)})`);
    assert.notEqual(formatPointTime(second!.node.version.point), formatPointTime({ id: second!.node.version.point.id, createdAt: '' }), 'the tab shows when the point was made');

    // the tree's diff of a changed file: titled with both points' times
    await run('openChange', await fileNode(api, third!.node.version.point.id, 'src/greeting.ts'));
    const times = `${formatPointTime(second!.node.version.point, third!.node.version.point)} \u2194 ${formatPointTime(third!.node.version.point, second!.node.version.point)}`;
    await waitFor('the diff titled with when the points were made', () => vscode.window.tabGroups.activeTabGroup.activeTab?.label === `greeting.ts (${times})`);
  });

  test('after points are removed, a row whose change may have been made in one of them says so', async () => {
    await threeVersions();
    const notesPoint = (await api.model!.refresh(), api.model!.points.find((p) => p.summary === 'Saved notes.txt'))!;
    await api.store!.recovery.deletePoints([notesPoint.id]);
    await api.model!.refresh();
    await openEditor('src/greeting.ts');
    const shown = await rows('src/greeting.ts');
    assert.deepEqual(shown.map((r) => r.item.description), ['+1 \u22120  Saved greeting.ts \u00b7 or in a point not kept \u00b7 current', '+1 \u22121  Saved greeting.ts', '+3 \u22120  Test baseline']);
    assert.match((shown[0]!.item.tooltip as vscode.MarkdownString).value, /Clean-up removed points between this one and the version below/);
  });

  test('a row\'s click: the diff of that version against the version before it, with the times in the title', async () => {
    await threeVersions();
    await openEditor('src/greeting.ts');
    const [newest, middle, oldest] = await rows('src/greeting.ts');
    const opened = await run<OpenedDiff>('history.openChange', middle!.node);
    const tab = await waitFor('the diff tab', () => activeDiff());
    assert.equal(tab.original.toString(), opened.left.toString());
    assert.equal(tab.modified.toString(), opened.right.toString());
    assert.equal((await vscode.workspace.openTextDocument(tab.original)).getText(), fixtureText('src/greeting.ts'));
    assert.equal((await vscode.workspace.openTextDocument(tab.modified)).getText(), V2);
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.label, `greeting.ts (${versionTime(oldest!.node.version.point)} \u2194 ${versionTime(middle!.node.version.point)}) Saved greeting.ts`);

    const first = await run<OpenedDiff>('history.openChange', oldest!.node);
    assert.equal((await vscode.workspace.openTextDocument(first.left)).getText(), '', 'the first version is compared with nothing');
    assert.match(first.title, /\(created /);

    // Compare with Current File: the newest version is the current file, which is said, not shown as an empty diff
    assert.equal(await run('history.compareWithCurrent', newest!.node), undefined);
    assert.match(api.prompts.notifications.at(-1)!.message, /is the current file: there is nothing to compare/);
    const compared = await run<OpenedDiff>('history.compareWithCurrent', oldest!.node);
    assert.equal(compared.right.toString(), wsUri('src/greeting.ts').toString());
    assert.match(compared.title, /\u2194 Current$/);

    assert.equal(await run('history.copyContent', middle!.node), V2);
    assert.equal(await vscode.env.clipboard.readText(), V2);
    const readOnly = await run<vscode.Uri>('history.openVersion', oldest!.node);
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), readOnly.toString());
    assert.equal(vscode.window.activeTextEditor?.document.getText(), fixtureText('src/greeting.ts'));
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.label, `greeting.ts (${formatPointTime(oldest!.node.version.point)})`, 'the tab says which version it is, not only the file\'s name');
  });

  test('Restore This Version: a preview and a question first, then the restore; Undo Last Restore brings the file back', async () => {
    await threeVersions();
    const editor = await openEditor('src/greeting.ts');
    const [, middle] = await rows('src/greeting.ts');

    api.prompts.answerNext({ cancel: true });
    assert.equal(await run('history.restoreVersion', middle!.node), undefined);
    assert.equal(readFile('src/greeting.ts'), V3, 'cancelled: nothing written');
    const preview = activeDiff();
    assert.ok(preview, 'the preview diff is shown before the question');
    assert.equal((await vscode.workspace.openTextDocument(preview.modified)).getText(), V2);
    // the question says what the restore changes in the file as it is now, not what the version changed before it (+1 −0)
    assert.match(api.prompts.history.at(-1)!.detail ?? '', /what the restore changes: \+0 \u22121 lines against the file as it is now\./);
    const unsaved = new vscode.WorkspaceEdit();
    unsaved.insert(editor.document.uri, new vscode.Position(0, 0), '// one more\n// and another\n');
    assert.ok(await vscode.workspace.applyEdit(unsaved));
    api.prompts.answerNext({ cancel: true });
    await run('history.restoreVersion', middle!.node);
    assert.match(api.prompts.history.at(-1)!.detail ?? '', /\+0 \u22123 lines against the file as it is now, unsaved edits included\./);
    await vscode.window.showTextDocument(editor.document);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    assert.equal(editor.document.isDirty, false);

    api.prompts.answerNext({ button: 'Restore' });
    const result = await run<{ safetyPointId: string }>('history.restoreVersion', middle!.node);
    assert.match(api.prompts.history.at(-1)!.text, /^Restore src\/greeting\.ts as it was at /);
    assert.equal(readFile('src/greeting.ts'), V2);
    assert.ok(result.safetyPointId);
    await run('undoRestore');
    assert.equal(readFile('src/greeting.ts'), V3, 'undo puts the file back');

    // a row listed before the file came back to its version: no question, it says so
    fs.writeFileSync(wsFile('src/greeting.ts'), V2);
    api.prompts.reset();
    assert.equal(await run('history.restoreVersion', middle!.node), undefined);
    assert.deepEqual(api.prompts.history, [], 'no question asked');
    assert.equal(api.prompts.notifications.at(-1)?.message, 'src/greeting.ts already has this content.');
  });

  test('a rename seen in a point (delete and add of the same content) is followed back to the old name', async () => {
    await editAndSave('src/greeting.ts', V2);
    await settle(api);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.renameSync(wsFile('src/greeting.ts'), wsFile('src/hello.ts'));
    await settle(api);
    writeFile('src/hello.ts', V3);
    await settle(api);
    await api.model!.refresh();
    await openEditor('src/hello.ts');
    const shown = await rows('src/hello.ts');
    assert.deepEqual(
      shown.map((r) => [r.node.version.path, r.node.version.renamedFrom, r.node.version.current]),
      [
        [pointPath('src/hello.ts'), undefined, true],
        [pointPath('src/hello.ts'), pointPath('src/greeting.ts'), false],
        [pointPath('src/greeting.ts'), undefined, false],
        [pointPath('src/greeting.ts'), undefined, false],
      ],
    );
    assert.match(String(shown[1]!.item.description), /\+0 \u22120 .*renamed from greeting\.ts/);
    const renamed = await run<OpenedDiff>('history.openChange', shown[1]!.node);
    assert.equal((await vscode.workspace.openTextDocument(renamed.left)).getText(), V2);
    assert.equal((await vscode.workspace.openTextDocument(renamed.right)).getText(), V2);

    // moved to another folder under the same name: the row names the folder it came from
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.mkdirSync(wsFile('lib'), { recursive: true });
    fs.renameSync(wsFile('src/hello.ts'), wsFile('lib/hello.ts'));
    await settle(api);
    await api.model!.refresh();
    await openEditor('lib/hello.ts');
    const moved = await rows('lib/hello.ts');
    assert.match(String(moved[0]!.item.description), /\+0 \u22120 .* \u00b7 moved from src\/ \u00b7 current$/);
  });

  test('the version pickers use the same listing: each distinct version once, the current one marked and never an empty diff', async () => {
    await threeVersions();
    api.prompts.answerNext({ pick: 'Test baseline' });
    await run('compare', wsUri('src/greeting.ts'));
    const question = api.prompts.history.at(-1)!;
    assert.deepEqual(question.choices, ['Saved greeting.ts', 'Saved greeting.ts', 'Test baseline'], 'one item per distinct version');
    const diff = await waitFor('the diff tab', () => activeDiff());
    assert.equal((await vscode.workspace.openTextDocument(diff.original)).getText(), fixtureText('src/greeting.ts'));

    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    api.prompts.answerNext({ pick: 0 });
    assert.equal(await run('compare', wsUri('src/greeting.ts')), undefined);
    assert.equal(activeDiff(), undefined, 'no empty diff of the current version');
    assert.match(api.prompts.notifications.at(-1)!.message, /is the current file: there is nothing to compare or restore/);
  });

  test('its default keybinding is not one of VS Code\'s own', async () => {
    const keybinding = (vscode.extensions.getExtension('recovery-points.recovery-points')!.packageJSON.contributes.keybindings as Array<{ command: string; key: string }>).find(
      (k) => k.command === 'recoveryPoints.showFileHistory',
    );
    assert.ok(keybinding);
    await vscode.commands.executeCommand('workbench.action.openDefaultKeybindingsFile');
    const text = await waitFor('the default keybindings', () => {
      const doc = vscode.window.activeTextEditor?.document;
      return doc && doc.getText().includes('"key":') ? doc.getText() : undefined;
    });
    const users = [...text.matchAll(/"key":\s*"([^"]+)",\s*"command":\s*"([^"]+)"/g)].filter((m) => m[1] === keybinding.key).map((m) => m[2]);
    assert.deepEqual(users, ['recoveryPoints.showFileHistory'], `${keybinding.key} is used by: ${users.join(', ')}`);
  });
});
