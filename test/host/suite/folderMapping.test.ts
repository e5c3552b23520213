// A point taken when the workspace folder had another name and place (renamed or moved on disk, or
// named anew in a .code-workspace file): restoring it through the editor maps its folder onto the
// workspace's, shows the mapping in the review, and deletes nothing the point does not leave out.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RecoveryStore, type ContextSnapshot, type EditorSession } from '../../../src/core';
import {
  activeDiff,
  assertPromptsUsed,
  closeAllEditors,
  fixtureText,
  getApi,
  listPoints,
  pointNode,
  readFile,
  resetAll,
  run,
  setSetting,
  settle,
  store,
  changedFileRows,
  waitFor,
  workspaceFolder,
  writeFile,
  wsFile,
  wsUri,
  type Api,
  type Node,
} from './helpers';

suite('restore onto a renamed folder', () => {
  let api: Api;
  const made: string[] = [];
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    assertPromptsUsed(api);
  });

  /**
   * The folder as it was before the rename: a copy of the workspace named "app" elsewhere, written into
   * this window's store through the core. `steps` are the points made of it, in order: each edits the
   * copy's files, then a point is made (with `session` as its editor session when given).
   */
  async function pointsUnderOldName(steps: Array<{ files?: Record<string, string>; label?: string; session?: EditorSession }>): Promise<ContextSnapshot[]> {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-host-renamed-'));
    made.push(parent);
    const app = path.join(parent, 'app');
    fs.cpSync(workspaceFolder().uri.fsPath, app, { recursive: true });
    const before = await RecoveryStore.open({ storeDir: store(api).persistence.layout.root, roots: [{ name: 'app', path: app }], actor: 'test:before-rename' });
    const points: ContextSnapshot[] = [];
    try {
      for (const step of steps) {
        for (const [rel, text] of Object.entries(step.files ?? {})) fs.writeFileSync(path.join(app, ...rel.split('/')), text);
        const state = step.session ? { ...(await before.state.getState()), session: step.session } : undefined;
        points.push((await before.recovery.createRecoveryPoint(state, { trigger: 'manual', label: step.label ?? null }))!);
      }
    } finally {
      await before.close();
    }
    await api.model!.refresh();
    return points;
  }

  /** The tree's row of `pointPath` (the point's own path) under a point. */
  async function treeRow(pointId: string, pointPath: string): Promise<{ node: Node; item: vscode.TreeItem }> {
    const rows = await changedFileRows(api, await pointNode(api, pointId));
    const row = rows.find((r) => r.node.kind === 'file' && r.node.change.path === pointPath);
    assert.ok(row, `the tree lists ${pointPath} under the point: ${rows.map((r) => (r.node.kind === 'file' ? r.node.change.path : r.node.kind)).join(', ')}`);
    return row;
  }

  test('a point of the folder under its old name and path restores into the renamed folder; the review shows the mapping', async () => {
    // The folder as it was before the rename: a copy named "app" elsewhere, with a point of it in this store.
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-host-renamed-'));
    const app = path.join(parent, 'app');
    fs.cpSync(workspaceFolder().uri.fsPath, app, { recursive: true });
    try {
      const before = await RecoveryStore.open({ storeDir: store(api).persistence.layout.root, roots: [{ name: 'app', path: app }], actor: 'test:before-rename' });
      const point = (await before.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'before the rename' }))!;
      await before.close();

      writeFile('src/greeting.ts', 'export const broken = true;\n');
      writeFile('src/added.ts', 'export const added = true;\n');
      await settle(api);
      api.prompts.answerNext({ pick: 'before the rename' }, { pickMany: 'all' });
      const result = await run<{ outcome: { written: string[]; removed: string[] } } | undefined>('restore');
      assert.ok(result, 'the restore ran');

      const review = api.prompts.history.at(-1)!;
      assert.equal(review.kind, 'pickMany');
      assert.match(review.text, new RegExp(`point folder app \u2192 workspace folder ${workspaceFolder().name}`));
      assert.deepEqual([...review.choices].sort(), ['src/added.ts', 'src/greeting.ts'], 'only what differs, not every file of the folder');
      assert.equal(point.roots[0]!.name, 'app');
      assert.equal(readFile('src/greeting.ts'), fixtureText('src/greeting.ts'));
      assert.equal(fs.existsSync(wsFile('src/added.ts')), false);
      assert.equal(readFile('README.md'), fixtureText('README.md'), 'every other file is still there');
      assert.deepEqual(result.outcome.removed, [`${workspaceFolder().name}/src/added.ts`]);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });

  test('Restore File from Recovery Point… on an explorer file lists the version of a point made under the folder\'s old name and restores it', async () => {
    await pointsUnderOldName([{ files: { 'src/greeting.ts': 'export const greeting = "before the rename";\n' }, label: 'before the rename' }]);
    api.prompts.answerNext({ pick: 'before the rename' }, { button: 'Restore' });
    const result = await run<{ outcome: { written: string[] } } | undefined>('restoreFile', wsUri('src/greeting.ts'));
    const picker = api.prompts.history[0]!;
    assert.deepEqual(picker.choices, ['before the rename', 'Test baseline'], 'both versions are offered, the old folder name\'s first');
    assert.ok(result, 'the file was restored');
    assert.deepEqual(result.outcome.written, [`${workspaceFolder().name}/src/greeting.ts`]);
    assert.equal(readFile('src/greeting.ts'), 'export const greeting = "before the rename";\n');
    assert.equal(readFile('src/farewell.ts'), fixtureText('src/farewell.ts'), 'nothing else changed');
  });

  test('Compare with Recovery Point… on an explorer file opens the version of a point made under the folder\'s old name beside the current file', async () => {
    await pointsUnderOldName([{ files: { 'src/greeting.ts': 'old greeting\n' }, label: 'before the rename' }]);
    api.prompts.answerNext({ pick: 'before the rename' });
    await run('compare', wsUri('src/greeting.ts'));
    const diff = await waitFor('the diff editor', () => activeDiff());
    assert.equal(diff.modified.fsPath, wsFile('src/greeting.ts'), 'the current file of the renamed folder');
    assert.equal((await vscode.workspace.openTextDocument(diff.original)).getText(), 'old greeting\n', 'the point\'s version');
  });

  test('the tree shows the files of a point made under the old folder name at their place now; a row opens its diff and restores into the renamed folder', async () => {
    await store(api).recovery.deletePoints((await listPoints(api)).map((p) => p.id));
    const [, edited] = await pointsUnderOldName([{}, { files: { 'src/notes.txt': 'notes before the rename\n' }, label: 'edited notes' }]);
    const row = await treeRow(edited!.id, 'app/src/notes.txt');
    assert.equal(row.item.resourceUri?.fsPath, wsFile('src/notes.txt'), 'the row stands for the file of the renamed folder');
    assert.equal(row.item.label, 'notes.txt');

    // A row's click shows what the point changed: the version before it ↔ the point's.
    await run('openChange', row.node);
    const diff = await waitFor('the diff editor', () => activeDiff());
    assert.equal((await vscode.workspace.openTextDocument(diff.modified)).getText(), 'notes before the rename\n');
    assert.equal((await vscode.workspace.openTextDocument(diff.original)).getText(), fixtureText('src/notes.txt'));

    api.prompts.answerNext({ button: 'Restore' });
    const result = await run<{ outcome: { written: string[]; removed: string[] } } | undefined>('restoreFile', row.node);
    assert.deepEqual([result?.outcome.written, result?.outcome.removed], [[`${workspaceFolder().name}/src/notes.txt`], []]);
    assert.equal(readFile('src/notes.txt'), 'notes before the rename\n');
  });

  test('restoring a whole point made under the old folder name reopens its editors in the renamed folder (restoreEditorLayout on)', async () => {
    const session: EditorSession = {
      groups: [{ viewColumn: 1, tabs: [{ path: 'app/src/farewell.ts', isActive: true, isPinned: false, isPreview: false, selections: [{ anchor: [0, 1], active: [0, 4] }] }] }],
      activeViewColumn: 1,
    };
    const [point] = await pointsUnderOldName([{ files: { 'src/greeting.ts': 'old greeting\n' }, label: 'with its editors', session }]);
    await closeAllEditors();
    await setSetting('restoreEditorLayout', true);
    api.prompts.answerNext({ pickMany: 'all' });
    const result = await run('restore', await pointNode(api, point!.id));
    assert.ok(result, 'the restore ran');
    assert.equal(readFile('src/greeting.ts'), 'old greeting\n');
    const editor = await waitFor('the point\'s editor to be open again', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === wsFile('src/farewell.ts')));
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, wsFile('src/farewell.ts'), 'its tab is active again');
    assert.deepEqual([editor.selection.anchor.character, editor.selection.active.character], [1, 4]);
  });
});
