// The File History view end to end: opened with its keybinding, following the active editor, and a
// version's change opened as a diff by clicking its row; then a line's own history (Show History for
// Selection), one version's lines as a diff and put back by its button (run by scripts/host/runE2E.mjs, in order).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { E2EStep } from './e2eContext';
import { waitUntil } from './storeOnDisk';
import { Workbench } from './workbench';

const FILE = 'src/cart.ts';
const FIRST_EDIT = 'export const DISCOUNT_PERCENT = 10;';
const SECOND_EDIT = 'export const FREE_SHIPPING_FROM = 5000;';
const THIRD_EDIT = 'export const FREE_SHIPPING_FROM = 7500;';

let wb: Workbench;

const historyView = () => wb.sideBarView(/File History/i);
const historyRows = () => historyView().locator('.monaco-list-row[role="treeitem"]');
// the points view: its header reads "4 points · 4.6 KB"
const pointRows = () => wb.sideBarView(/\bpoints?\b/i).locator('.monaco-list-row[role="treeitem"]');

export const steps: E2EStep[] = [
  {
    name: 'two saves of cart.ts, then Ctrl+Alt+H opens the File History view on it: one row per version, the newest marked current',
    async run({ page, workspace }) {
      wb = new Workbench(page);
      await wb.ready();
      await wb.openActivity('Recovery Points');
      await wb.setSideBarWidth(520);
      await wb.treeRow(/First recovery point/).waitFor();
      await wb.openFile('cart.ts');
      await wb.appendLine(FIRST_EDIT);
      await wb.saveActiveEditor();
      await wb.treeRow(/Saved cart\.ts/).waitFor();
      await wb.appendLine(SECOND_EDIT);
      await wb.saveActiveEditor();
      await waitUntil('the second save on disk', () => fs.readFileSync(path.join(workspace, FILE), 'utf8').includes(SECOND_EDIT));
      await wb.sideBarRows().filter({ hasText: /Saved cart\.ts/ }).nth(1).waitFor();

      await wb.activeEditor().locator('.view-lines').click();
      await page.keyboard.press('Control+Alt+H');
      await historyView().locator('.pane-header .description').filter({ hasText: 'cart.ts' }).waitFor();
      await historyRows().filter({ hasText: /Saved cart\.ts · current/ }).waitFor();
      await historyRows().filter({ hasText: /First recovery point/ }).waitFor();
      assert.equal(await historyRows().count(), 3, 'the first point\'s version and one per save');
      assert.match((await historyRows().first().textContent()) ?? '', /\+1 \u22120 {2}Saved cart\.ts/, 'the newest version\'s lines against the one before, as the diff editor shows them (one line appended to a last line without a line break)');
    },
  },
  {
    name: 'the view follows the active editor to another file and back',
    async run() {
      await wb.openFile('format.ts');
      await historyView().locator('.pane-header .description').filter({ hasText: 'format.ts' }).waitFor();
      await historyRows().filter({ hasText: /First recovery point · current/ }).waitFor();
      assert.equal(await historyRows().count(), 1);
      await wb.page.locator('.part.editor .tab').filter({ hasText: 'cart.ts' }).click();
      await historyView().locator('.pane-header .description').filter({ hasText: 'cart.ts' }).waitFor();
      await historyRows().filter({ hasText: /current/ }).waitFor();
    },
  },
  {
    name: 'clicking the middle version opens what changed in it: the version before ↔ that version, with their times in the tab title',
    async run({ imagesDir }) {
      const middle = historyRows().nth(1);
      await middle.click();
      const diff = wb.page.locator('.part.editor .monaco-diff-editor').first();
      await diff.waitFor();
      await wb.activeTab().filter({ hasText: /cart\.ts \(.+ \u2194 .+\) Saved cart\.ts/ }).waitFor();
      await diff.locator('.editor.modified .view-lines').filter({ hasText: FIRST_EDIT }).waitFor();
      assert.equal(await diff.locator('.editor.original .view-lines').filter({ hasText: FIRST_EDIT }).count(), 0, 'the left side is the version before the first edit');
      assert.equal(await diff.locator('.editor.modified .view-lines').filter({ hasText: SECOND_EDIT }).count(), 0, 'the right side is that version, not the current file');
      await wb.clearNotifications();
      await middle.hover();
      await wb.page.screenshot({ path: path.join(imagesDir, 'file-history.png') });
    },
  },
  {
    name: 'Show History for Selection on a line saved twice: both versions listed with their counts in that line, one opens as a diff of that line only, its button puts the line back as one edit that Ctrl+Z takes back',
    async run({ page, workspace, imagesDir }) {
      await wb.openFile('cart.ts');
      await wb.activeEditor().locator('.view-line').filter({ hasText: SECOND_EDIT }).click();
      await page.keyboard.press('End');
      await page.keyboard.press('Shift+Home');
      await page.keyboard.type(THIRD_EDIT);
      await page.keyboard.press('Escape');
      await wb.activeEditor().locator('.view-lines').filter({ hasText: THIRD_EDIT }).waitFor();
      await wb.saveActiveEditor();
      await waitUntil('the third save on disk', () => fs.readFileSync(path.join(workspace, FILE), 'utf8').includes(THIRD_EDIT));

      // asked for at once, as a person does: the save may still be in the merge window, and is listed all the same.
      // The cursor stays on the edited line: the selection's history is that line's.
      await wb.runCommand('Recovery Points: Show History for Selection');
      const picker = await wb.waitForQuickInput(/History of line \d+ of src\/cart\.ts/);
      const items = picker.locator('.quick-input-list .monaco-list-row');
      await items.nth(1).waitFor();
      assert.equal(await items.count(), 2, 'the save that added the line and the save that changed it; the first edit and the first point did not touch it');
      assert.match((await items.nth(0).textContent()) ?? '', /Saved cart\.ts.*\+1 \u22121 in these lines/);
      assert.match((await items.nth(1).textContent()) ?? '', /Saved cart\.ts.*\+1 \u22120 in these lines/, 'the save that added the line');
      await pointRows().filter({ hasText: /Saved cart\.ts/ }).nth(2).waitFor();
      assert.equal(await pointRows().filter({ hasText: /Saved cart\.ts/ }).count(), 3, 'the third save is a point of its own in the tree');

      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      const diff = page.locator('.part.editor .monaco-diff-editor').first();
      await wb.activeTab().filter({ hasText: /cart\.ts:\d+ \(.+\) Saved cart\.ts/ }).waitFor();
      await diff.locator('.editor.modified .view-lines').filter({ hasText: SECOND_EDIT }).waitFor();
      assert.equal(await diff.locator('.editor.original .view-lines').filter({ hasText: SECOND_EDIT }).count(), 0, 'the left side is from before the line was added');
      assert.equal(await diff.locator('.editor.modified .view-lines').filter({ hasText: FIRST_EDIT }).count(), 0, 'only the selected line, not the file');
      await picker.locator('.quick-input-list .monaco-list-row.focused').waitFor();
      await page.screenshot({ path: path.join(imagesDir, 'selection-history.png') });

      const older = picker.locator('.quick-input-list .monaco-list-row.focused');
      await older.hover();
      await older.locator('.action-label[aria-label="Restore These Lines"], .action-label[title="Restore These Lines"]').first().click();
      await wb.quickInput().waitFor({ state: 'hidden' });
      const editorLines = wb.activeEditor().locator('.view-lines');
      await editorLines.filter({ hasText: SECOND_EDIT }).waitFor();
      assert.equal(await editorLines.filter({ hasText: THIRD_EDIT }).count(), 0, 'the line was replaced, not added');
      await page.locator('.part.editor .tab.active.dirty').filter({ hasText: 'cart.ts' }).waitFor();
      assert.ok(fs.readFileSync(path.join(workspace, FILE), 'utf8').includes(THIRD_EDIT), 'an edit in the editor: nothing written to disk');

      await editorLines.click();
      await page.keyboard.press('Control+Z');
      await editorLines.filter({ hasText: THIRD_EDIT }).waitFor();
      await page.locator('.part.editor .tab.active.dirty').waitFor({ state: 'detached' });
    },
  },
];
