// Issue #11: points that tell the truth. The hint path is used only while the extension can prove it
// saw every change (each gap makes the next point a full check); a restore's result is a point of its
// own; names people recognise; the merge window is bounded and what is pending shows.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { isUntracked, listFiles, OtherWindowSaves, RecoveryStore } from '../../../src/core';
import { shownCounts } from '../../../src/core/format';
import {
  assertPromptsUsed,
  editAndSave,
  changedFileRows,
  fileEventBarrier,
  fixtureText,
  getApi,
  listPoints,
  newPoints,
  openEditor,
  pointNode,
  pointPath,
  pointText,
  readFile,
  replaceText,
  resetAll,
  run,
  setSetting,
  settle,
  WAIT_SCALE,
  waitFor,
  waitForNewPoint,
  writeFile,
  wsFile,
  wsUri,
  type Api,
  type PointSummary,
} from './helpers';

/** Every file of the workspace the point holds, with its text, read from the store. */
async function pointFiles(api: Api, pointId: string): Promise<Map<string, string>> {
  const store = api.store!;
  const files = new Map<string, string>();
  const point = await store.persistence.requireSnapshot(pointId);
  const objects = await store.persistence.objects();
  for (const [file, info] of await listFiles(objects, point.root)) files.set(file, (await objects.readBlob(info.hash)).toString("utf8"));
  return files;
}

/** The newest point holds exactly what is on disk for these files. */
async function assertNewestHolds(api: Api, rels: readonly string[], message: string): Promise<PointSummary> {
  const newest = (await listPoints(api))[0]!;
  const held = await pointFiles(api, newest.id);
  for (const rel of rels) {
    const onDisk = fs.existsSync(wsFile(rel)) ? readFile(rel) : undefined;
    assert.equal(held.get(pointPath(rel)), onDisk, `${message}: the newest point ("${newest.summary}") holds the current ${rel}`);
  }
  return newest;
}

suite('hints the extension cannot prove (#11)', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(async () => {
    await resetAll(api);
    await setSetting('mergeWindowSeconds', 0.2);
  });
  teardown(() => assertPromptsUsed(api));

  /** Saves `rel` and waits for its save point. */
  async function saveAndWait(rel: string, text: string): Promise<PointSummary> {
    const before = await listPoints(api);
    await editAndSave(rel, text);
    const point = await waitForNewPoint(api, before, (p) => p.trigger === 'save');
    await settle(api);
    return point;
  }

  test('files saved and changed on disk before their point (a checkout, a clean in the merge window): the save point holds what was saved, the change on disk a point of its own', async () => {
    await setSetting('mergeWindowSeconds', 60);
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', 'export const saved = "typed by hand";\n');
    await editAndSave('src/notes.txt', 'saved notes\n');
    await waitFor('both saves to wait for their point', () => (api.auto!.pending?.files ?? 0) >= 2);
    // a moment later, as a person types the next command
    await new Promise((resolve) => setTimeout(resolve, 300));
    fs.writeFileSync(wsFile('src/greeting.ts'), 'export const checkedOut = true;\n'); // git checkout -- src/greeting.ts
    fs.rmSync(wsFile('src/notes.txt')); // git clean
    await settle(api);
    const made = await waitFor('the save point and the point of the change on disk', async () => {
      const points = await newPoints(api, before);
      return points.length >= 2 ? points : undefined;
    });
    await settle(api);
    const saved = made.find((p) => p.trigger === 'save')!;
    assert.match(saved.summary, /^Saved (greeting\.ts, notes\.txt|notes\.txt, greeting\.ts)$/);
    assert.equal(await pointText(saved.id, 'src/greeting.ts'), 'export const saved = "typed by hand";\n');
    assert.equal(await pointText(saved.id, 'src/notes.txt'), 'saved notes\n');
    const onDisk = made.find((p) => p.trigger === 'external' && p.id > saved.id)!;
    assert.ok(onDisk, made.map((p) => `${p.trigger}: ${p.summary}`).join(' | '));
    assert.equal(await pointText(onDisk.id, 'src/greeting.ts'), 'export const checkedOut = true;\n');
    assert.deepEqual([onDisk.changes.modified, onDisk.changes.deleted], [1, 1]);
    assert.deepEqual((await newPoints(api, before)).length, 2, 'no other point');
  });

  test('a folder renamed on disk (git mv) is named after the move', async () => {
    writeFile('pkg/one/a.ts', 'export const a = 1;\n');
    writeFile('pkg/one/deep/b.ts', 'export const b = 2;\n');
    await settle(api);
    const known = await listPoints(api);
    fs.renameSync(wsFile('pkg/one'), wsFile('pkg/two'));
    await settle(api);
    const moved = await waitForNewPoint(api, known, (p) => p.trigger === 'external');
    assert.equal(moved.summary, 'Moved pkg/one \u2192 pkg/two (2 files)');
    assert.equal(await pointText(moved.id, 'pkg/two/deep/b.ts'), 'export const b = 2;\n');
  });

  test('automatic points off, a file changed on disk, on again, another file saved: the new point holds both files', async () => {
    await setSetting('automatic.enabled', false);
    writeFile('src/notes.txt', 'appended outside the editor while points were off\n');
    await settle(api);
    const before = await listPoints(api);
    await setSetting('automatic.enabled', true);
    // turned on, a point keeps at once what changed while they were off
    const resumed = await waitForNewPoint(api, before);
    assert.equal(resumed.summary, 'Changed while automatic points were off: notes.txt', 'the file changed on disk is not said to be saved, nor changed just now');
    const point = await saveAndWait('src/greeting.ts', 'export const savedAfter = 1;\n');
    await assertNewestHolds(api, ['src/notes.txt', 'src/greeting.ts'], 'after automatic points were off');
    assert.equal(point.summary, 'Saved greeting.ts');
  });

  test('points on outside changes off, a file changed on disk, on again, another file saved: the new point holds both files', async () => {
    await setSetting('automatic.onExternalChange', false);
    writeFile('src/notes.txt', 'changed while outside changes were not recorded\n');
    await settle(api);
    await setSetting('automatic.onExternalChange', true);
    await saveAndWait('src/greeting.ts', 'export const savedAfter = 2;\n');
    await assertNewestHolds(api, ['src/notes.txt', 'src/greeting.ts'], 'after onExternalChange was off');
  });

  test('points on save off, a file saved, on again, another file changed on disk: the new point holds both files', async () => {
    await setSetting('automatic.onSave', false);
    await editAndSave('src/greeting.ts', 'export const savedWhileOff = 3;\n');
    await settle(api);
    await setSetting('automatic.onSave', true);
    const before = await listPoints(api);
    writeFile('src/notes.txt', 'changed on disk after saves were recorded again\n');
    await waitForNewPoint(api, before, (p) => p.trigger === 'external');
    await settle(api);
    await assertNewestHolds(api, ['src/notes.txt', 'src/greeting.ts'], 'after onSave was off');
  });

  test('a capture setting changed and back: the next point holds a file changed while it was excluded', async () => {
    await setSetting('exclude', ['**/*.txt']);
    writeFile('src/notes.txt', 'changed while excluded\n');
    await settle(api);
    await setSetting('exclude', undefined);
    await saveAndWait('src/greeting.ts', 'export const afterExclude = 4;\n');
    await assertNewestHolds(api, ['src/notes.txt', 'src/greeting.ts'], 'after the exclude setting changed');
  });

  test('.git/info/exclude changed: the next point follows its rules (its change is not dropped with the rest of .git)', async () => {
    writeFile('.git/info/exclude', 'src/notes.txt\n');
    await settle(api);
    await saveAndWait('src/greeting.ts', 'export const afterGitExclude = 5;\n');
    const newest = (await listPoints(api))[0]!;
    const held = await pointFiles(api, newest.id);
    assert.equal(held.has(pointPath('src/notes.txt')), false, `the newest point ("${newest.summary}") leaves out what .git/info/exclude now ignores`);
    assert.equal(held.get(pointPath('src/greeting.ts')), readFile('src/greeting.ts'));
    // the file is still on disk: the point (its name, its row in the view) says it is no longer tracked, not deleted
    const stopped = (await listPoints(api)).find((p) => isUntracked(p, pointPath('src/notes.txt')));
    assert.ok(stopped, 'a point records src/notes.txt as no longer tracked');
    assert.match(stopped.summary, /; no longer tracked: notes\.txt$|^No longer tracked: notes\.txt$/);
    const row = (await changedFileRows(api, await pointNode(api, stopped.id))).find((r) => r.node.kind === 'file' && r.node.change.path === pointPath('src/notes.txt'));
    assert.equal(row?.item.description, 'no longer tracked');
    // and its row in the view does not count it as deleted
    const pointRow = await api.tree!.getTreeItem(await pointNode(api, stopped.id));
    assert.match(String(pointRow.description), /\u2212\d+, 1 no longer tracked$/);
    const shown = shownCounts(stopped.changes);
    assert.equal(shown.noLongerTracked, 1);
    assert.match(String(pointRow.description), new RegExp(`\u2212${shown.deleted}, 1 no longer tracked$`));
    assert.match((pointRow.tooltip as vscode.MarkdownString).value, new RegExp(`${shown.deleted} deleted, 1 no longer tracked \\(still on disk\\)`));
  });

  test('a point that fails (the store cannot take it): the next point is a full check and holds the change the failed one missed', async () => {
    const pointsDir = api.store!.persistence.layout.pointsDir;
    const aside = `${pointsDir}.aside`;
    fs.renameSync(pointsDir, aside);
    fs.writeFileSync(pointsDir, 'not a folder: every point written now fails\n');
    try {
      await editAndSave('src/notes.txt', 'saved while the store could not take a point\n');
      await settle(api);
    } finally {
      fs.rmSync(pointsDir, { force: true });
      fs.renameSync(aside, pointsDir);
    }
    await saveAndWait('src/greeting.ts', 'export const afterFailure = 6;\n');
    await assertNewestHolds(api, ['src/notes.txt', 'src/greeting.ts'], 'after a failed point');
  });

  test('restore and undo after a gap: the preview lists the file changed unseen, and Undo never writes back a file the restore did not touch', async () => {
    const base = (await listPoints(api))[0]!;
    await saveAndWait('src/greeting.ts', 'export const saved = "general";\n');
    await setSetting('automatic.enabled', false);
    writeFile('src/notes.txt', 'a line written in a shell while points were off\n');
    await settle(api);
    await setSetting('automatic.enabled', true);

    api.prompts.answerNext({ pickMany: 'all' });
    await run('restore', await pointNode(api, base.id));
    const review = api.prompts.history.at(-1)!;
    assert.deepEqual([...review.choices].sort(), ['src/greeting.ts', 'src/notes.txt'], 'the preview lists both files that differ from the point');
    assert.equal(readFile('src/notes.txt'), fixtureText('src/notes.txt'));
    await settle(api);
    await run('undoRestore');
    assert.equal(readFile('src/notes.txt'), 'a line written in a shell while points were off\n', 'undo brings back the line written outside the editor');
    assert.equal(readFile('src/greeting.ts'), 'export const saved = "general";\n');
  });

  test('restore right after a gap, only the file the preview offers ticked: Undo leaves the other file as it is', async () => {
    const base = (await listPoints(api))[0]!;
    await saveAndWait('src/greeting.ts', 'export const saved = "only this";\n');
    await setSetting('automatic.onExternalChange', false);
    writeFile('src/notes.txt', 'written outside, never recorded\n');
    await settle(api);
    await setSetting('automatic.onExternalChange', true);
    api.prompts.answerNext({ pickMany: ['greeting.ts'] });
    await run('restore', await pointNode(api, base.id));
    assert.equal(readFile('src/greeting.ts'), fixtureText('src/greeting.ts'));
    await run('undoRestore');
    assert.equal(readFile('src/notes.txt'), 'written outside, never recorded\n', 'the file the restore never touched is left as it is');
    await settle(api);
    await assertNewestHolds(api, ['src/notes.txt', 'src/greeting.ts'], 'after the undo');
  });
});

suite('names that tell the truth (#11)', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(async () => {
    await resetAll(api);
    await setSetting('mergeWindowSeconds', 0.2);
  });
  teardown(() => assertPromptsUsed(api));

  test('a restore and an undo are points of their own, flatly named; the next save names only itself', async () => {
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', 'export const general = 1;\n');
    const saved = await waitForNewPoint(api, before, (p) => p.trigger === 'save');
    assert.equal(saved.summary, 'Saved greeting.ts');
    writeFile('src/added.ts', 'export const added = 1;\n');
    await settle(api);

    const known = await listPoints(api);
    api.prompts.answerNext({ pickMany: 'all' });
    const result = await run<{ safetyPointId: string; restoredPointId: string }>('restore', await pointNode(api, saved.id));
    await settle(api);
    const [restored, safety, ...others] = await newPoints(api, known);
    assert.deepEqual(others.map((p) => p.summary), [], 'no other point: the restore\'s writes are not "changed outside the editor"');
    assert.equal(safety!.id, result.safetyPointId);
    assert.equal(safety!.summary, "Before restoring 'Saved greeting.ts'");
    assert.equal(restored!.id, result.restoredPointId);
    assert.equal(restored!.trigger, 'restore');
    assert.equal(restored!.summary, "Restored 'Saved greeting.ts' (1 file)");
    assert.equal(fs.existsSync(wsFile('src/added.ts')), false);
    await assertNewestHolds(api, ['src/greeting.ts', 'src/added.ts', 'src/notes.txt'], 'the restore\'s point');

    const afterRestore = await listPoints(api);
    await editAndSave('src/farewell.ts', 'export const later = 1;\n');
    const next = await waitForNewPoint(api, afterRestore);
    assert.equal(next.summary, 'Saved farewell.ts', 'the next point describes only what happened after the restore');
    assert.deepEqual(next.changes, { added: 0, modified: 1, deleted: 0 });
    await settle(api);

    const beforeUndo = await listPoints(api);
    const undo = await run<{ safetyPointId: string; restoredPointId: string }>('undoRestore');
    await settle(api);
    const [undone, undoSafety, ...more] = await newPoints(api, beforeUndo);
    assert.deepEqual(more.map((p) => p.summary), []);
    assert.equal(undoSafety!.summary, "Before undoing the restore of 'Saved greeting.ts'");
    assert.equal(undone!.id, undo.restoredPointId);
    assert.match(undone!.summary, /^Undid restore of 'Saved greeting\.ts' \(\d+ files?\)$/);
    assert.equal(readFile('src/added.ts'), 'export const added = 1;\n');
    await assertNewestHolds(api, ['src/greeting.ts', 'src/added.ts', 'src/farewell.ts'], 'the undo\'s point');
  });

  test('a branch switch (HEAD changed, files changed) is named after the branches', async () => {
    writeFile('.git/HEAD', 'ref: refs/heads/feature\n');
    const before = await listPoints(api);
    await editAndSave('src/notes.txt', 'on the feature branch\n');
    await waitForNewPoint(api, before);
    await settle(api);
    const known = await listPoints(api);
    writeFile('src/greeting.ts', 'export const onMaster = true;\n');
    writeFile('src/farewell.ts', 'export const alsoOnMaster = true;\n');
    writeFile('.git/HEAD', 'ref: refs/heads/master\n');
    const point = await waitForNewPoint(api, known, (p) => p.trigger === 'external');
    assert.match(point.summary, /^Switched branch feature → master: (greeting\.ts, farewell\.ts|farewell\.ts, greeting\.ts)$/);
    assert.deepEqual(point.changes, { added: 0, modified: 2, deleted: 0 });
    const row = await api.tree!.getTreeItem(await pointNode(api, point.id));
    assert.match((row.tooltip as vscode.MarkdownString).value, /\$\(git-branch\) On branch master\n/, 'the row\'s tooltip says where the folder was');
    assert.equal(await pointText(point.id, 'src/greeting.ts'), 'export const onMaster = true;\n');
  });

  test('a deletion and a rename through the editor (as the explorer does) are named so', async () => {
    let known = await listPoints(api);
    const deletion = new vscode.WorkspaceEdit();
    deletion.deleteFile(wsUri('src/farewell.ts'));
    assert.ok(await vscode.workspace.applyEdit(deletion));
    const deleted = await waitForNewPoint(api, known, (p) => p.trigger === 'external');
    assert.equal(deleted.summary, 'Deleted farewell.ts in the explorer');
    assert.deepEqual(deleted.changes, { added: 0, modified: 0, deleted: 1 });
    await settle(api);

    known = await listPoints(api);
    const rename = new vscode.WorkspaceEdit();
    rename.renameFile(wsUri('src/notes.txt'), wsUri('src/notes.md'));
    assert.ok(await vscode.workspace.applyEdit(rename));
    const renamed = await waitForNewPoint(api, known, (p) => p.trigger === 'external');
    assert.equal(renamed.summary, 'Renamed notes.txt → notes.md');
    assert.deepEqual(renamed.changes, { added: 1, modified: 0, deleted: 1 });
    assert.equal(await pointText(renamed.id, 'src/notes.md'), fixtureText('src/notes.txt'));
  });

  test('a change on disk to a file with unsaved edits waits for the editor\'s save event (a save is written before the host hears of it), at most 10 s', async () => {
    const editor = await openEditor('src/notes.txt');
    try {
      await replaceText(editor, 'typed in the editor, not saved yet\n');
      const known = await listPoints(api);
      const written = Date.now();
      writeFile('src/notes.txt', 'typed in the editor, not saved yet\n');
      await waitFor('the change to be pending', () => api.auto!.pending !== undefined);
      // Twice the quiet time after a change on disk: without a save in flight, its point would be made by now.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.deepEqual(await newPoints(api, known), [], 'no "Changed outside the editor" point while the editor may be saving the file');
      // No save comes: the change is not lost, its point is made once the wait is over.
      const point = await waitForNewPoint(api, known, (p) => p.trigger === 'external', 20_000 * WAIT_SCALE);
      assert.ok(Date.now() - written >= 10_000, 'made after the wait for a save');
      assert.equal(point.summary, 'Changed outside the editor: notes.txt');
      assert.equal(await pointText(point.id, 'src/notes.txt'), 'typed in the editor, not saved yet\n');
    } finally {
      await vscode.window.showTextDocument(editor.document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });

  test('a save in another window of the same folder is left to that window\'s point; when none comes, it is named so, not "changed outside the editor"', async () => {
    await setSetting('mergeWindowMaxSeconds', 1);
    const saveThere = async (text: string) => {
      writeFile('src/notes.txt', text);
      const stat = fs.statSync(wsFile('src/notes.txt'));
      await new OtherWindowSaves(api.store!.persistence.layout.savesDir, 'extension:other-window').record([{ path: wsFile('src/notes.txt'), size: stat.size, mtimeMs: stat.mtimeMs }]);
    };
    // The other window saves notes.txt, records the save in the shared store as its extension does, and makes its point.
    const first = await listPoints(api);
    await saveThere('saved in the second window, which makes its point\n');
    const other = await RecoveryStore.open({ storeDir: api.store!.persistence.layout.root, roots: api.store!.persistence.workspaceRoots, actor: 'extension:other-window' });
    try {
      await other.recovery.createRecoveryPoint(undefined, { trigger: 'save', savedPaths: [wsFile('src/notes.txt')] });
    } finally {
      await other.close();
    }
    // past the wait (the other window's longest merge window and its grace): this window made no point of its own
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    await settle(api);
    assert.deepEqual((await newPoints(api, first)).map((p) => [p.actor, p.summary]), [['extension:other-window', 'Saved notes.txt']], 'the saving window names its save');

    // The other window saves and makes no point (closed, or its points off): this one makes it once the wait is over.
    const known = await listPoints(api);
    await saveThere('saved in the second window\n');
    const point = await waitForNewPoint(api, known, (p) => p.trigger === 'external', 20_000 * WAIT_SCALE);
    assert.equal(point.summary, 'Saved in another window: notes.txt');
    assert.equal(await pointText(point.id, 'src/notes.txt'), 'saved in the second window\n');

    // A later write by another program is not taken for that save.
    const again = await listPoints(api);
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFile('src/notes.txt', 'then a formatter rewrote it\n');
    const external = await waitForNewPoint(api, again, (p) => p.trigger === 'external');
    assert.equal(external.summary, 'Changed outside the editor: notes.txt');
    fs.rmSync(api.store!.persistence.layout.savesDir, { recursive: true, force: true });
  });
});

suite('the merge window and what is pending (#11)', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  test('continuous saving still makes a point every mergeWindowMaxSeconds', async () => {
    await setSetting('mergeWindowSeconds', 5);
    await setSetting('mergeWindowMaxSeconds', 1);
    const before = await listPoints(api);
    const editor = await openEditor('src/greeting.ts');
    let saves = 0;
    let made: PointSummary[] = [];
    let point: PointSummary | undefined;
    // Saves every 200 ms, each restarting the 5-second window: without the bound no point comes while they go on.
    while (!point && saves < 40) {
      await replaceText(editor, `export const typing = ${saves};\n`);
      assert.ok(await editor.document.save());
      saves++;
      await new Promise((resolve) => setTimeout(resolve, 200));
      made = await newPoints(api, before);
      point = made.find((p) => p.trigger === 'save');
    }
    const seen = JSON.stringify(made.map((p) => `${p.trigger}: ${p.summary}`));
    assert.ok(point, `a save point was made while saves kept coming (${saves} saves; new points: ${seen})`);
    // a point of what the test before left on disk may come too (a loaded machine); none takes these saves for outside changes
    assert.ok(!made.some((p) => p.trigger === 'external' && p.summary.includes('greeting.ts')), `no save named a change outside the editor: ${seen}`);
    assert.match(await pointText(point.id, 'src/greeting.ts'), /^export const typing = \d+;\n$/);
  });

  test('the status bar shows a pending point; its command makes it now', async () => {
    await setSetting('mergeWindowSeconds', 600);
    const statusBar = api.statusBar!;
    assert.doesNotMatch(statusBar.state.text, /pending/, `nothing waits at the start (${JSON.stringify(api.auto!.pending)})`);
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', 'export const pending = 1;\n');
    await waitFor('the pending indicator', () => /pending/.test(statusBar.state.text));
    assert.equal(statusBar.state.command, 'recoveryPoints.createPending');
    assert.match(statusBar.state.tooltip, /1 file wait/);
    assert.deepEqual(await newPoints(api, before), [], 'nothing written yet: the merge window is open');
    await fileEventBarrier(); // the save's own file event has arrived (it is no change outside the editor)

    const id = await run<string>('createPending');
    const [point] = await newPoints(api, before);
    assert.equal(point?.id, id);
    assert.equal(point?.summary, 'Saved greeting.ts');
    assert.equal(await pointText(point.id, 'src/greeting.ts'), 'export const pending = 1;\n');
    assert.doesNotMatch(statusBar.state.text, /pending/);
    assert.equal(statusBar.state.command, 'workbench.view.extension.recoveryPoints');
  });
});
