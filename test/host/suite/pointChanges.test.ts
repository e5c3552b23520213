// What changed in a point, any two points, folders and deleted files, and patches: through the real
// commands, tree and editors.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatPointTime, type ChangeResource } from '../../../src/extension/views/changeDiffs';
import {
  assertPromptsUsed,
  changedFileRows,
  createPoint,
  editAndSave,
  fileEventBarrier,
  fileNode,
  fixtureText,
  getApi,
  labelText,
  listPoints,
  newPoints,
  pointNode,
  pointPath,
  readFile,
  resetAll,
  run,
  settle,
  treeChildren,
  setSetting,
  store,
  waitFor,
  writeFile,
  wsFile,
  wsUri,
  type Api,
  type PointSummary,
} from './helpers';

async function text(uri: vscode.Uri | undefined): Promise<string | undefined> {
  return uri ? (await vscode.workspace.openTextDocument(uri)).getText() : undefined;
}

type Opened = { title: string; resources: ChangeResource[] };

suite('what changed in a point', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  /** A point (made by hand, automatic points off) that modifies greeting.ts, adds lib/deep/new.ts and deletes farewell.ts. */
  async function changedPoint(): Promise<PointSummary> {
    await setSetting('automatic.enabled', false);
    // a point the reset's own writes left waiting (their file events can come late under load) is made
    // now, not by the create command's flush after the writes below, where it would take them
    await settle(api);
    writeFile('src/greeting.ts', 'export const greeting = "changed";\n');
    writeFile('src/lib/deep/new.ts', 'export const n = 1;\n');
    fs.rmSync(wsFile('src/farewell.ts'));
    const point = await createPoint(api);
    assert.deepEqual(point.changes, { added: 1, modified: 1, deleted: 1 });
    await api.model!.refresh();
    return point;
  }

  test('Open Changes on a point opens every changed file in the multi-file diff editor: parent\'s version \u2194 the point\'s, empty for added and deleted sides', async () => {
    const point = await changedPoint();
    const opened = await run<Opened>('openPointChanges', await pointNode(api, point.id));
    assert.ok(opened, 'the command opened something');
    const byPath = new Map(opened.resources.map((r) => [r[0].fsPath, r]));
    assert.deepEqual([...byPath.keys()].sort(), [wsFile('src/farewell.ts'), wsFile('src/greeting.ts'), wsFile('src/lib/deep/new.ts')].sort());
    const [, greetingBefore, greetingAfter] = byPath.get(wsFile('src/greeting.ts'))!;
    assert.equal(greetingBefore?.query, point.parentId);
    assert.equal(await text(greetingBefore), fixtureText('src/greeting.ts'));
    assert.equal(greetingAfter?.query, point.id);
    assert.equal(await text(greetingAfter), 'export const greeting = "changed";\n');
    const [, addedBefore, addedAfter] = byPath.get(wsFile('src/lib/deep/new.ts'))!;
    assert.equal(addedBefore, undefined, 'an added file has no left side');
    assert.equal(await text(addedAfter), 'export const n = 1;\n');
    const [, deletedBefore, deletedAfter] = byPath.get(wsFile('src/farewell.ts'))!;
    assert.equal(await text(deletedBefore), fixtureText('src/farewell.ts'));
    assert.equal(deletedAfter, undefined, 'a deleted file has no right side');
    const tab = await waitFor('the multi-file diff tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label.startsWith(opened.title))).catch((error: Error) => {
      throw new Error(`${error.message}; tabs: ${vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => `${t.label} [${t.input?.constructor.name}]`)).join(' | ')}; wanted ${opened.title}`);
    });
    assert.ok(!(tab.input instanceof vscode.TabInputTextDiff) && !(tab.input instanceof vscode.TabInputText), 'a multi-file diff editor, not a single diff or text editor');
    assert.equal(tab.label, `${opened.title} (3 files)`, 'VS Code adds the file count to the title');
    assert.match(opened.title, /\u2194/);
  });

  test('the point\'s changed files as folders, single-child chains compressed, with counts; "All files" browses every file the point holds, read-only, each tab titled with the point\'s time', async () => {
    const point = await changedPoint();
    const top = await treeChildren(api, await pointNode(api, point.id));
    assert.deepEqual(top.map((r) => [labelText(r.item), r.item.description]), [['src', '3 files'], ['All files', `${point.fileCount} files`]]);
    const src = await treeChildren(api, top[0]!.node);
    assert.deepEqual(src.map((r) => [labelText(r.item), r.item.description ?? '', r.item.contextValue]), [
      ['lib/deep', '1 file', 'changedFolder'],
      ['farewell.ts', '', 'file.deleted'],
      ['greeting.ts', '', 'file.modified'],
    ]);
    assert.deepEqual((await changedFileRows(api, top[0]!.node)).map((r) => labelText(r.item)).sort(), ['farewell.ts', 'greeting.ts', 'new.ts']);

    const everything: string[] = [];
    const walk = async (node: (typeof top)[number]['node']) => {
      for (const child of await treeChildren(api, node)) {
        if (child.item.contextValue === 'storedFolder') await walk(child.node);
        else if (child.item.contextValue === 'storedFile') everything.push(decodeURIComponent(child.item.resourceUri!.path).slice(1));
      }
    };
    await walk(top[1]!.node);
    assert.equal(everything.length, point.fileCount, 'every file the point holds');
    assert.ok(everything.includes(pointPath('src/lib/deep/new.ts')));
    assert.ok(!everything.includes(pointPath('src/farewell.ts')), 'not the file it deleted');
    const readme = (await treeChildren(api, top[1]!.node)).find((r) => labelText(r.item) === 'README.md')!;
    await vscode.commands.executeCommand(readme.item.command!.command, ...(readme.item.command!.arguments ?? []));
    const editor = await waitFor('the read-only document', () => (vscode.window.activeTextEditor?.document.uri.scheme === 'recovery-point' ? vscode.window.activeTextEditor : undefined));
    assert.equal(editor.document.getText(), fixtureText('README.md'));
    assert.equal(editor.document.uri.query, point.id);
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.label, `README.md (${formatPointTime(point)})`, 'titled with the point\'s time, not as the workspace file');
  });

  test('Compare Recovery Points\u2026: two points (older on the left), from the palette and from a point\'s row', async () => {
    const point = await changedPoint();
    const baseline = (await listPoints(api)).find((p) => p.summary === 'Test baseline')!;
    api.prompts.answerNext({ pick: point.summary }, { pick: 'Test baseline' });
    const two = await run<Opened>('comparePoints');
    assert.equal(two.resources.length, 3);
    const greeting = two.resources.find((r) => r[0].fsPath === wsFile('src/greeting.ts'))!;
    assert.equal(greeting[1]?.query, baseline.id, 'the older point is on the left');
    assert.equal(greeting[2]?.query, point.id);
    api.prompts.answerNext({ pick: 'Test baseline' });
    const fromRow = await run<Opened>('comparePoints', await pointNode(api, point.id));
    assert.deepEqual(fromRow.resources.map((r) => [r[1]?.query, r[2]?.query]), two.resources.map((r) => [r[1]?.query, r[2]?.query]), 'from a point\'s row: that point, and the one picked');

  });

  test('Compare Recovery Points\u2026 across a folder renamed between the points: each file once, under its new path, its old path\'s content on the left', async () => {
    await setSetting('automatic.enabled', false);
    await settle(api);
    writeFile('src/old/a.ts', 'a\n');
    writeFile('src/old/b.ts', 'b\n');
    const before = await createPoint(api, 'before the rename');
    fs.renameSync(wsFile('src/old'), wsFile('src/new'));
    writeFile('src/new/b.ts', 'b edited\n');
    const after = await createPoint(api, 'after the rename');
    await api.model!.refresh();
    api.prompts.answerNext({ pick: /after the rename/ }, { pick: /before the rename/ });
    const two = await run<Opened>('comparePoints');
    assert.deepEqual(two.resources.map((r) => r[0].fsPath), [wsFile('src/new/a.ts'), wsFile('src/new/b.ts')], 'not deleted under src/old and added under src/new');
    const [, left, right] = two.resources[1]!;
    assert.deepEqual([left?.query, right?.query], [before.id, after.id]);
    assert.equal(await text(left), 'b\n', 'the left side is the file where it was then');
    assert.equal(await text(right), 'b edited\n');
  });

  test('Compare Recovery Points\u2026 with the current files after a folder rename: each file once, under its new path, the point\'s old path on the left, the file on disk on the right', async () => {
    await setSetting('automatic.enabled', false);
    await settle(api);
    writeFile('src/old/a.ts', 'a\n');
    writeFile('src/old/b.ts', 'b\n');
    const point = await createPoint(api, 'before the rename');
    fs.renameSync(wsFile('src/old'), wsFile('src/new'));
    writeFile('src/new/b.ts', 'b edited\n');
    await settle(api);
    await api.model!.refresh();
    api.prompts.answerNext({ pick: /before the rename/ }, { pick: 'Current files' });
    const now = await run<Opened>('comparePoints');
    assert.deepEqual(now.resources.map((r) => r[0].fsPath), [wsFile('src/new/a.ts'), wsFile('src/new/b.ts')], 'not deleted under src/old and added under src/new');
    const [, left, right] = now.resources[1]!;
    assert.equal(left?.query, point.id);
    assert.equal(await text(left), 'b\n', 'the left side is the file where it was then');
    assert.equal(right?.scheme, 'file', 'the right side is the file itself');
    assert.equal(right.fsPath, wsFile('src/new/b.ts'));
    await waitFor('the file\'s document to show what is on disk', async () => (await text(right)) === 'b edited\n');
  });

  test('Save as Patch\u2026 of a point and the current files after a folder rename: the patch keeps each rename as a deletion and an addition; the message counts it once', async () => {
    await setSetting('automatic.enabled', false);
    await settle(api);
    writeFile('src/old/a.ts', 'a\n');
    writeFile('src/old/b.ts', 'b\n');
    await createPoint(api, 'before the rename');
    fs.renameSync(wsFile('src/old'), wsFile('src/new'));
    await settle(api);
    await api.model!.refresh();
    const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rp-patch-')), 'renamed.patch');
    api.prompts.answerNext({ pick: /before the rename/ }, { pick: 'Current files' }, { file: target });
    assert.equal(await run('savePatch'), target);
    const patch = fs.readFileSync(target, 'utf8');
    assert.match(patch, /^deleted file mode 100644\n--- a\/src\/old\/a\.ts$/m, 'the patch keeps a rename as a deletion and an addition');
    assert.match(patch, /^new file mode 100644\n--- \/dev\/null\n\+\+\+ b\/src\/new\/a\.ts$/m);
    assert.equal(api.prompts.notifications.at(-1)?.message, `Saved the patch of 2 files to ${target}. Apply it with "git apply".`);
    fs.rmSync(path.dirname(target), { recursive: true });
  });

  test('Compare Recovery Points\u2026 with the current files: the point\'s version \u2194 the file on disk', async () => {
    const point = await changedPoint();
    writeFile('src/notes.txt', 'notes now\n');
    await settle(api);
    api.prompts.answerNext({ pick: point.summary }, { pick: 'Current files' });
    const now = await run<Opened>('comparePoints');
    assert.deepEqual(now.resources.map((r) => r[0].fsPath), [wsFile('src/notes.txt')]);
    const [, before, after] = now.resources[0]!;
    assert.equal(await text(before), fixtureText('src/notes.txt'));
    assert.equal(after?.scheme, 'file', 'the right side is the file itself');
    assert.equal(after.fsPath, wsFile('src/notes.txt'));
    // a document VS Code still holds from an earlier test takes the disk's change when its watcher reports it (late under load)
    await waitFor('the file\'s document to show what is on disk', async () => (await text(after)) === 'notes now\n');
  });

  test('Compare Recovery Points\u2026 with the current files: a file the point holds that is ignored now, still on disk, is shown against the file on disk, not as deleted', async () => {
    const point = await changedPoint();
    writeFile('src/.gitignore', 'notes.txt\n');
    writeFile('src/notes.txt', 'notes now, ignored\n');
    await settle(api);
    api.prompts.answerNext({ pick: point.summary }, { pick: 'Current files' });
    const now = await run<Opened>('comparePoints');
    const notes = now.resources.find((r) => r[0].fsPath === wsFile('src/notes.txt'));
    assert.ok(notes, `notes.txt is among the differences (${now.resources.map((r) => r[0].fsPath).join(', ')})`);
    const [, before, after] = notes;
    assert.equal(await text(before), fixtureText('src/notes.txt'));
    assert.equal(after?.scheme, 'file', 'the right side is the file on disk, not an empty side');
    assert.equal(after.fsPath, wsFile('src/notes.txt'));
    await waitFor('the file\'s document to show what is on disk', async () => (await text(after)) === 'notes now, ignored\n');
  });

  test('Compare Recovery Points\u2026 between two points, and Open Changes: a file a point stopped tracking (ignored since, still on disk) is not shown as deleted; the title says it is no longer tracked', async () => {
    await setSetting('automatic.enabled', false);
    await settle(api);
    const baseline = (await listPoints(api)).find((p) => p.summary === 'Test baseline')!;
    writeFile('src/.gitignore', 'notes.txt\n');
    fs.rmSync(wsFile('src/farewell.ts'));
    const ignored = await createPoint(api);
    assert.deepEqual(ignored.untracked, [pointPath('src/notes.txt')]);
    await api.model!.refresh();
    const rows = await changedFileRows(api, await pointNode(api, ignored.id));
    assert.equal(rows.find((r) => labelText(r.item) === 'notes.txt')?.item.description, 'no longer tracked', 'the tree names it so');

    api.prompts.answerNext({ pick: ignored.summary }, { pick: 'Test baseline' });
    const two = await run<Opened>('comparePoints');
    assert.deepEqual(two.resources.map((r) => r[0].fsPath).sort(), [wsFile('src/.gitignore'), wsFile('src/farewell.ts')], 'notes.txt is not among the deletions');
    assert.ok(two.title.endsWith('\u2014 notes.txt no longer tracked, not shown'), two.title);
    assert.equal(two.resources.find((r) => r[0].fsPath === wsFile('src/farewell.ts'))?.[1]?.query, baseline.id, 'a file really deleted still is');

    const own = await run<Opened>('openPointChanges', await pointNode(api, ignored.id));
    assert.deepEqual(own.resources.map((r) => r[0].fsPath).sort(), [wsFile('src/.gitignore'), wsFile('src/farewell.ts')]);
    assert.ok(own.title.endsWith('notes.txt no longer tracked, not shown'), own.title);
  });

  test('the restore button of a row that shows a file deleted brings it back (the version before), and Undo deletes it again', async () => {
    const point = await changedPoint();
    assert.equal(fs.existsSync(wsFile('src/farewell.ts')), false);
    api.prompts.answerNext({ button: 'Restore' });
    const result = await run<{ safetyPointId: string } | undefined>('restoreFile', await fileNode(api, point.id, 'src/farewell.ts'));
    assert.ok(result, 'a restore ran (not "already matches")');
    assert.equal(readFile('src/farewell.ts'), fixtureText('src/farewell.ts'));
    assert.equal(readFile('src/greeting.ts'), 'export const greeting = "changed";\n', 'nothing else changed');
    assert.equal(fs.existsSync(wsFile('src/lib/deep/new.ts')), true);
    assert.ok((await listPoints(api)).some((p) => p.id === result.safetyPointId), 'a safety point was made first');
    await run('undoRestore');
    assert.equal(fs.existsSync(wsFile('src/farewell.ts')), false, 'undo deletes it again');
    assert.equal(readFile('src/greeting.ts'), 'export const greeting = "changed";\n');
  });

  test('a point whose parent clean-up removed shows its files against the point before it in the list: its row\'s counts, its changed files, the left side of a change and a deleted row\'s restore', async () => {
    const changed = await changedPoint();
    const before = changed.parentId!;
    writeFile('README.md', '# changed after\n');
    const after = await createPoint(api);
    assert.equal(after.parentId, changed.id);
    assert.equal(await store(api).recovery.deletePoints([changed.id]), 1);
    await api.model!.refresh();

    const row = await api.tree!.getTreeItem(await pointNode(api, after.id));
    assert.match(String(row.description), /\+1 ~2 \u22121$/, 'the counts of what the row lists: its own change and the removed point\'s');
    assert.match((row.tooltip as vscode.MarkdownString).value, /since the point before it in this list; its name says what changed since the point it was made after, which is no longer kept \(deleted or cleaned up\)/);
    const rows = await changedFileRows(api, await pointNode(api, after.id));
    assert.deepEqual(rows.map((r) => r.item.contextValue + ' ' + labelText(r.item)).sort(), ['file.added new.ts', 'file.deleted farewell.ts', 'file.modified README.md', 'file.modified greeting.ts']);
    const opened = await run<{ original: vscode.Uri }>('openChange', await fileNode(api, after.id, 'src/greeting.ts'));
    assert.equal(opened?.original.query, before, 'the left side is the point it is shown against');
    assert.equal(await text(opened?.original), fixtureText('src/greeting.ts'));
    api.prompts.answerNext({ button: 'Restore' });
    const restored = await run<{ safetyPointId: string } | undefined>('restoreFile', await fileNode(api, after.id, 'src/farewell.ts'));
    assert.ok(restored, 'the deleted file came back from the point before it in the list');
    assert.equal(readFile('src/farewell.ts'), fixtureText('src/farewell.ts'));
  });

  test('Restore Deleted File\u2026 lists files a point holds and the workspace lacks, newest deletion first, and restores the ticked ones; OK with none ticked says so', async () => {
    await changedPoint();
    fs.rmSync(wsFile('src/notes.txt'));
    await createPoint(api);
    api.prompts.answerNext({ pickMany: ['farewell.ts'] });
    await run('restoreDeleted');
    const offered = api.prompts.history.at(-1)!;
    assert.deepEqual(offered.choices, ['src/notes.txt', 'src/farewell.ts'], 'newest deletion first');
    assert.equal(readFile('src/farewell.ts'), fixtureText('src/farewell.ts'));
    assert.equal(fs.existsSync(wsFile('src/notes.txt')), false, 'the file left unticked stays deleted');

    api.prompts.answerNext({ pickMany: [] });
    assert.equal(await run('restoreDeleted'), undefined);
    assert.match(api.prompts.notifications.at(-1)?.message ?? '', /^No file was ticked, so none was restored: tick the files/, 'OK with no box ticked says why nothing came back');
    assert.equal(fs.existsSync(wsFile('src/notes.txt')), false);
  });

  test('Show Folder History lists the points that changed the folder and opens one as a multi-file diff; Restore Folder\u2026 restores only that folder, undoably', async () => {
    const point = await changedPoint();
    api.prompts.answerNext({ pick: point.summary });
    const opened = await run<Opened>('showFolderHistory', vscode.Uri.file(wsFile('src/lib')));
    const offered = api.prompts.history.at(-1)!;
    assert.equal(offered.choices.length, 1, `only the point that changed src/lib: ${offered.choices.join(' | ')}`);
    assert.deepEqual(opened.resources.map((r) => r[0].fsPath), [wsFile('src/lib/deep/new.ts')]);
    // a point labelled by hand that left src/lib as it was: not in its history, but offered to restore it to
    writeFile('README.md', 'readme before the landmark\n');
    await api.store!.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'lib landmark' });
    await api.model!.refresh();
    api.prompts.answerNext({ cancel: true });
    await run('showFolderHistory', vscode.Uri.file(wsFile('src/lib')));
    assert.equal(api.prompts.history.at(-1)!.choices.length, 1, 'Show Folder History: still only the point that changed it');
    api.prompts.answerNext({ cancel: true });
    await run('restoreFolder', vscode.Uri.file(wsFile('src/lib')));
    const forRestore = api.prompts.history.at(-1)!;
    assert.equal(forRestore.choices.length, 2, forRestore.choices.join(' | '));
    assert.ok(forRestore.choices.some((c) => c.includes('lib landmark')), forRestore.choices.join(' | '));

    writeFile('README.md', 'readme changed outside src\n');
    writeFile('src/greeting.ts', 'greeting changed again\n');
    await settle(api);
    const baseline = (await listPoints(api)).find((p) => p.summary === 'Test baseline')!;
    api.prompts.answerNext({ pick: 'Test baseline' }, { pickMany: 'all' });
    await run('restoreFolder', wsUri('src'));
    const review = api.prompts.history.find((r) => r.kind === 'pickMany');
    assert.equal(review?.text, "Restore src from 'Test baseline'", 'the review names the folder it restores and the point');
    assert.equal(readFile('src/greeting.ts'), fixtureText('src/greeting.ts'));
    assert.equal(readFile('src/farewell.ts'), fixtureText('src/farewell.ts'));
    assert.equal(fs.existsSync(wsFile('src/lib/deep/new.ts')), false, 'a file the folder did not have then is removed (kept in the safety point)');
    assert.equal(readFile('README.md'), 'readme changed outside src\n', 'nothing outside the folder is touched');
    const state = await api.store!.state.syncState();
    assert.equal(state.lastRestore?.restoredPointId, baseline.id);
    assert.deepEqual(state.lastRestore?.paths, [pointPath('src')]);
    await run('undoRestore');
    assert.equal(readFile('src/greeting.ts'), 'greeting changed again\n');
    assert.equal(readFile('src/lib/deep/new.ts'), 'export const n = 1;\n');
  });

  test('Show Folder History follows a folder back through its rename: the points before it open under the folder\'s name now, read where the files were then', async () => {
    await setSetting('automatic.enabled', false);
    await settle(api);
    writeFile('src/old/a.ts', 'a\n');
    writeFile('src/old/b.ts', 'b\n');
    await createPoint(api, 'made old');
    writeFile('src/old/a.ts', 'a edited\n');
    const edited = await createPoint(api, 'edited in old');
    fs.renameSync(wsFile('src/old'), wsFile('src/new'));
    writeFile('src/new/b.ts', 'b edited\n');
    const renamed = await createPoint(api, 'renamed to new');
    await api.model!.refresh();

    api.prompts.answerNext({ pick: /edited in old/ });
    const before = await run<Opened>('showFolderHistory', vscode.Uri.file(wsFile('src/new')));
    const offered = api.prompts.history.at(-1)!;
    assert.equal(offered.choices.length, 3, `the points before the rename too: ${offered.choices.join(' | ')}`);
    assert.match(String(offered.items?.[0]?.description), /renamed from src\/old, \+0 ~1 \u22120 in this folder$/);
    assert.deepEqual(before.resources.map((r) => r[0].fsPath), [wsFile('src/new/a.ts')], 'under the folder\'s name now');
    assert.ok(before.title.startsWith('src/new \u2014 '), before.title);
    assert.deepEqual([await text(before.resources[0]![1]), await text(before.resources[0]![2])], ['a\n', 'a edited\n']);
    assert.equal(before.resources[0]![2]?.query, edited.id);

    api.prompts.answerNext({ pick: /renamed to new/ });
    const rename = await run<Opened>('showFolderHistory', vscode.Uri.file(wsFile('src/new')));
    assert.deepEqual(rename.resources.map((r) => r[0].fsPath), [wsFile('src/new/b.ts')], 'the file that changed as the folder was renamed, not every file deleted and added');
    assert.deepEqual([await text(rename.resources[0]![1]), await text(rename.resources[0]![2])], ['b\n', 'b edited\n'], 'the left side read where the file was then');
    assert.equal(rename.resources[0]![2]?.query, renamed.id);
  });

  test('Show Folder History lists a save still in the merge window: its pending point is made first', async () => {
    await setSetting('mergeWindowSeconds', 600);
    await setSetting('mergeWindowMaxSeconds', 600);
    const before = await listPoints(api);
    await editAndSave('src/farewell.ts', 'export const b = 2;\n');
    await fileEventBarrier();
    assert.deepEqual(await newPoints(api, before), [], 'the save waits in the merge window');
    api.prompts.answerNext({ cancel: true });
    await run('showFolderHistory', vscode.Uri.file(wsFile('src')));
    const offered = api.prompts.history.at(-1)!;
    assert.equal(offered.choices[0], 'Saved farewell.ts', `the newest change to src/ is the save just made: ${offered.choices.join(' | ')}`);
  });

  test('Copy as Patch puts the point\'s change on the clipboard; Save as Patch\u2026 writes a two-point comparison to the chosen file', async () => {
    const point = await changedPoint();
    const patch = await run<string>('copyPatch', await pointNode(api, point.id));
    assert.equal(await vscode.env.clipboard.readText(), patch);
    assert.match(patch, /^diff --git a\/src\/greeting\.ts b\/src\/greeting\.ts$/m);
    assert.match(patch, /^\+export const greeting = "changed";$/m);
    assert.match(patch, /^deleted file mode 100644$/m);
    assert.match(patch, /^new file mode 100644\n--- \/dev\/null\n\+\+\+ b\/src\/lib\/deep\/new\.ts$/m);

    const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rp-patch-')), 'change.patch');
    api.prompts.answerNext({ pick: 'Test baseline' }, { pick: point.summary }, { file: target });
    assert.equal(await run('savePatch'), target);
    assert.equal(fs.readFileSync(target, 'utf8'), patch, 'baseline \u2192 point is the point\'s own change');
    fs.rmSync(path.dirname(target), { recursive: true });
  });
});
