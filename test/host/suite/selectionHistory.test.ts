// A selection's history: the versions in which the selected lines changed, each as a diff of those
// lines only, and restoring them into the editor as an undoable edit. Also a File History row as a patch.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SelectionHistoryResult } from '../../../src/extension/commands/selectionHistoryCommands';
import { activeDiff, assertPromptsUsed, editAndSave, fileEventBarrier, fixtureText, getApi, listPoints, newPoints, openEditor, resetAll, run, setSetting, settle, waitFor, writeFile, wsUri, type Api } from './helpers';

const HEAD = 'export function greeting(name: string): string {\n';
const line = (word: string) => `  return \`${word}, \${name}!\`;\n`;
/** The versions saved after the fixture's (`Hello`): the line edited, lines added above, a line added below, the line edited again. */
const V2 = `${HEAD}${line('Hi')}}\n`;
const V3 = `// header\n// more\n${V2}`;
const V4 = `${V3}export const polite = true;\n`;
const V5 = `// header\n// more\n${HEAD}${line('Hey')}}\nexport const polite = true;\n`;

suite('selection history', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  /** Saves V2…V5 of greeting.ts, each its own point; leaves its editor open with the return line (line 4 of V5) selected. */
  async function versions(): Promise<vscode.TextEditor> {
    for (const text of [V2, V3, V4, V5]) {
      await editAndSave('src/greeting.ts', text);
      await settle(api);
    }
    const editor = await openEditor('src/greeting.ts');
    editor.selection = new vscode.Selection(3, 2, 3, 10);
    return editor;
  }

  test('lists only the versions that changed the selected lines, newest first; a version opens as a diff of those lines only', async () => {
    await versions();
    api.prompts.answerNext({ pick: 1 });
    const result = await run<SelectionHistoryResult>('showSelectionHistory');
    const question = api.prompts.history.at(-1)!;
    assert.equal(question.text, 'History of line 4 of src/greeting.ts');
    assert.deepEqual(question.choices, ['Saved greeting.ts', 'Saved greeting.ts', 'Test baseline'], 'the versions adding lines above or below are not listed');
    assert.deepEqual(
      result.history.versions.map((v) => [v.lines, v.range.start, v.counts]),
      [
        [[line('Hey').trimEnd()], 3, { added: 1, removed: 1 }],
        [[line('Hi').trimEnd()], 1, { added: 1, removed: 1 }],
        [[line('Hello').trimEnd()], 1, { added: 1, removed: 0 }],
      ],
    );

    const [opened] = result.opened;
    assert.ok(opened, 'the chosen version\'s diff was opened');
    const tab = await waitFor('the diff tab', () => activeDiff());
    assert.equal(tab.original.toString(), opened.left.toString());
    assert.equal(tab.modified.toString(), opened.right.toString());
    assert.equal((await vscode.workspace.openTextDocument(opened.left)).getText(), line('Hello').trimEnd(), 'the version before: those lines only');
    assert.equal((await vscode.workspace.openTextDocument(opened.right)).getText(), line('Hi').trimEnd(), 'that version: those lines only');
    assert.match(opened.title, /^greeting\.ts:2 \(.+ \u2194 .+\) Saved greeting\.ts$/);

    // The oldest: the lines appeared with the file, compared with nothing.
    (await openEditor('src/greeting.ts')).selection = new vscode.Selection(3, 0, 3, 0);
    api.prompts.answerNext({ pick: 'Test baseline' });
    const oldest = (await run<SelectionHistoryResult>('showSelectionHistory')).opened[0]!;
    // the point they are compared with nothing in is not where they were written: they were there before it
    const listed = (api.prompts.history.at(-1)!.items ?? []) as ReadonlyArray<{ label: string; detail?: string }>;
    const baselineItem = listed.find((item) => item.label.endsWith('Test baseline'));
    assert.match(baselineItem?.detail ?? '', /^the lines (were there when the history began|appeared here or earlier) \u00b7 line \d+$/, JSON.stringify(listed));
    assert.equal((await vscode.workspace.openTextDocument(oldest.left)).getText(), '');
    assert.equal((await vscode.workspace.openTextDocument(oldest.right)).getText(), fixtureText('src/greeting.ts').split('\n')[1]);
    assert.match(oldest.title, /\(added /);
  });

  test('a save still in the merge window is listed: its pending point is made before the history is read', async () => {
    await setSetting('mergeWindowSeconds', 600);
    await setSetting('mergeWindowMaxSeconds', 600);
    await editAndSave('src/greeting.ts', V2);
    await settle(api);
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', V2.replace(line('Hi'), line('Hey')));
    await fileEventBarrier();
    assert.deepEqual(await newPoints(api, before), [], 'the save waits in the merge window');
    (await openEditor('src/greeting.ts')).selection = new vscode.Selection(1, 0, 1, 0);
    api.prompts.answerNext({ cancel: true });
    const result = await run<SelectionHistoryResult>('showSelectionHistory');
    assert.deepEqual(
      result.history.versions.map((v) => v.lines[0]),
      [line('Hey').trimEnd(), line('Hi').trimEnd(), line('Hello').trimEnd()],
      'the save just made is the newest version listed',
    );
    assert.equal((await newPoints(api, before)).length, 1, 'the pending point was made');
  });

  test('Restore These Lines replaces only the selected lines in the editor, one edit that Undo takes back; refused when the editor changed since the listing', async () => {
    const editor = await versions();
    api.prompts.answerNext({ pick: 'Test baseline', itemButton: 'Restore These Lines' });
    const result = await run<SelectionHistoryResult>('showSelectionHistory');
    assert.ok(result.restored);
    assert.equal(vscode.window.activeTextEditor?.document, editor.document);
    assert.equal(editor.document.getText(), V5.replace(line('Hey'), line('Hello')), 'only the selected line changed');
    assert.equal(editor.document.isDirty, true, 'an edit in the editor, not a write to disk');
    await vscode.commands.executeCommand('undo');
    await waitFor('the undo', () => editor.document.getText() === V5);

    // Listed, then the editor changes: the restore is refused with a sentence, nothing replaced.
    api.prompts.answerNext({ cancel: true });
    const listed = await run<SelectionHistoryResult>('showSelectionHistory');
    assert.ok(await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '// typed since\n')));
    const changed = editor.document.getText();
    assert.equal(await run('selectionHistory.restoreLines', listed.request, listed.history.versions[2]), undefined);
    assert.match(api.prompts.notifications.at(-1)!.message, /^greeting\.ts changed since the history of its line 4 was listed: nothing was restored/);
    assert.equal(editor.document.getText(), changed);
  });

  test('Copy as Patch and Save as Patch\u2026 on a File History row: that version against the version before it', async () => {
    writeFile('src/greeting.ts', V2);
    await settle(api);
    await api.model!.refresh();
    await run('showFileHistory', wsUri('src/greeting.ts'));
    const rows = await api.fileHistory!.getChildren();
    assert.deepEqual(rows.map((r) => r.version.point.summary).at(-1), 'Test baseline');
    assert.equal(rows.length, 2);
    const v2 = rows[0]!;
    const patch = await run<string>('copyPatch', v2);
    assert.equal(await vscode.env.clipboard.readText(), patch);
    assert.equal(
      patch,
      [
        'diff --git a/src/greeting.ts b/src/greeting.ts',
        '--- a/src/greeting.ts',
        '+++ b/src/greeting.ts',
        '@@ -1,3 +1,3 @@',
        ' export function greeting(name: string): string {',
        `-${line('Hello')}+${line('Hi')} }`,
        '',
      ].join('\n'),
    );
    const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rp-patch-')), 'version.patch');
    api.prompts.answerNext({ file: target });
    assert.equal(await run('savePatch', rows.at(-1)), target);
    assert.match(fs.readFileSync(target, 'utf8'), /^new file mode 100644\n--- \/dev\/null\n\+\+\+ b\/src\/greeting\.ts\n@@ -0,0 \+1,3 @@\n/m, 'the first version: against nothing');
    fs.rmSync(path.dirname(target), { recursive: true });
  });
});
