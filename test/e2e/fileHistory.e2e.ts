// The File History view end to end: opened with its keybinding, following the active editor, and a
// version's change opened as a diff by clicking its row (run by scripts/host/runE2E.mjs, in order).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { E2EStep } from './e2eContext';
import { waitUntil } from './storeOnDisk';
import { Workbench } from './workbench';

const FILE = 'src/cart.ts';
const FIRST_EDIT = 'export const DISCOUNT_PERCENT = 10;';
const SECOND_EDIT = 'export const FREE_SHIPPING_FROM = 5000;';

let wb: Workbench;

const historyView = () => wb.sideBarView(/File History/i);
const historyRows = () => historyView().locator('.monaco-list-row[role="treeitem"]');

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
      assert.match((await historyRows().first().textContent()) ?? '', /\+2 \u22121 {2}Saved cart\.ts/, 'the newest version\'s lines against the one before (the first edit gained its line break)');
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
];
