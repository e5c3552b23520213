// The main flows of Recovery Points end to end, through the real workbench UI in headless Chromium
// (run by scripts/host/runE2E.mjs). The steps build on each other, in order: a failed step ends the run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { E2EStep } from './e2eContext';
import { waitUntil } from './storeOnDisk';
import { Workbench } from './workbench';

const LABEL = 'before discount';
/** The labelled point's row (not the safety point's, "Before restoring "before discount""). */
const LABEL_ROW = /^before discount/;
const FILE = 'src/cart.ts';
const FIRST_EDIT = 'export const DISCOUNT_PERCENT = 10;';
const SECOND_EDIT = 'export const FREE_SHIPPING_FROM = 5000;';
const UNSAVED_EDIT = 'export const UNSAVED = true;';

let wb: Workbench;

export const steps: E2EStep[] = [
  {
    name: 'the workbench opens with the extension; its activity-bar view lists the start-up point, and never says "Open a folder" while it starts',
    async run({ page }) {
      wb = new Workbench(page);
      await wb.ready();
      // the view is shown before the extension has activated (it starts when the workbench has): it
      // must not say "Open a folder" meanwhile, as it did while its context key was unset
      await page.evaluate(`(() => {
        const look = () => {
          if (document.querySelector('.part.sidebar')?.textContent?.includes('Open a folder to keep recovery points')) window.rpNoFolderShown = true;
        };
        look();
        new MutationObserver(look).observe(document.body, { childList: true, subtree: true, characterData: true });
      })()`);
      await wb.openActivity('Recovery Points');
      await wb.setSideBarWidth(440);
      await wb.treeRow('Today').waitFor();
      await wb.treeRow(/First recovery point/).waitFor();
      assert.equal(await page.evaluate('window.rpNoFolderShown === true'), false, 'the view said "Open a folder" with a folder open');
    },
  },
  {
    name: 'a window with no folder open says "Open a folder" in the points view and in File History',
    async run({ page }) {
      const empty = await page.context().newPage();
      try {
        await empty.goto(`${new URL(page.url()).origin}/?ew=true`);
        const emptyWb = new Workbench(empty);
        await emptyWb.ready();
        await emptyWb.openActivity('Recovery Points');
        await empty.locator('.part.sidebar').getByText('Open a folder to keep recovery points').waitFor();
        // the File History view, collapsed by default, says the same instead of VS Code's "no data provider"
        const history = emptyWb.sideBarView(/File History/i);
        await history.locator('.pane-header').click();
        await history.getByText('Open a folder to see the versions of its files').waitFor();
        assert.equal(await history.getByText(/no data provider/i).filter({ visible: true }).count(), 0, 'VS Code\'s message shows where the welcome should');
      } finally {
        await empty.close();
      }
    },
  },
  {
    name: 'Create Recovery Point… from the command palette, with a label, appears in the tree',
    async run() {
      await wb.runCommand('Recovery Points: Create Recovery Point…');
      await wb.waitForQuickInput('Create Recovery Point');
      await wb.answerQuickInput(LABEL);
      const row = wb.treeRow(LABEL_ROW);
      await row.waitFor();
      assert.match((await row.getAttribute('aria-label')) ?? '', /\+0 ~0 \u22120/);
      await row.locator('.codicon-pinned').waitFor();
    },
  },
  {
    name: 'editing a file and saving it with Ctrl+S adds a "Saved" point to the tree',
    async run({ workspace }) {
      await wb.openFile('cart.ts');
      await wb.appendLine(FIRST_EDIT);
      await wb.saveActiveEditor();
      await waitUntil('the save on disk', () => fs.readFileSync(path.join(workspace, FILE), 'utf8').includes(FIRST_EDIT));
      const row = wb.treeRow(/Saved cart\.ts/);
      await row.waitFor();
      assert.match((await row.getAttribute('aria-label')) ?? '', /\+0 ~1 \u22120/);
    },
  },
  {
    name: 'expanding the point and clicking its changed file (in its folder) opens what the point changed: the version before \u2194 the point\'s, with their times',
    async run({ imagesDir }) {
      // A second save, so the point's version and the current file differ.
      await wb.appendLine(SECOND_EDIT);
      await wb.saveActiveEditor();
      await wb.sideBarRows().filter({ hasText: /Saved cart\.ts/ }).nth(1).waitFor();
      const older = wb.sideBarRows().filter({ hasText: /Saved cart\.ts/ }).nth(1);
      await older.click();
      await older.and(wb.page.locator('[aria-expanded="true"]')).waitFor();
      await wb.sideBarRows().and(wb.page.locator('[aria-level="3"]')).filter({ hasText: 'src' }).first().waitFor();
      const child = wb.sideBarRows().and(wb.page.locator('[aria-level="4"]')).filter({ hasText: 'cart.ts' }).first();
      await child.click();
      const diff = wb.page.locator('.part.editor .monaco-diff-editor').first();
      await diff.waitFor();
      await wb.activeTab().filter({ hasText: /cart\.ts \(.+ \u2194 .+\)/ }).waitFor();
      // The left side is the labelled point's version (no edit yet); the right side is this point's (the first edit, not the second).
      await diff.locator('.editor.modified .view-lines').filter({ hasText: FIRST_EDIT }).waitFor();
      assert.equal(await diff.locator('.editor.original .view-lines').filter({ hasText: FIRST_EDIT }).count(), 0);
      assert.equal(await diff.locator('.editor.modified .view-lines').filter({ hasText: SECOND_EDIT }).count(), 0);
      await wb.clearNotifications();
      await wb.page.screenshot({ path: path.join(imagesDir, 'diff.png') });
    },
  },
  {
    name: 'restoring the labelled point from its inline action (review the files, then answer the unsaved-edits question) puts the old content back',
    async run({ workspace, fixture }) {
      await wb.page.keyboard.press('Control+W'); // close the diff; the editor of cart.ts stays open
      await wb.activeTab().filter({ hasText: 'cart.ts' }).waitFor();
      await wb.appendLine(UNSAVED_EDIT); // left unsaved: the restore must ask about it
      await wb.page.locator('.part.editor .tab.active.dirty').waitFor();

      const row = wb.treeRow(LABEL_ROW);
      await row.hover();
      await row.locator('.actions .action-label[aria-label="Restore Recovery Point…"]').click();
      const review = await wb.waitForQuickInput(`Restore ${LABEL}`);
      const files = review.locator('.quick-input-list .monaco-list-row');
      await files.filter({ hasText: 'cart.ts' }).waitFor();
      assert.equal(await files.count(), 1, 'the review lists the one changed file');
      await files.first().locator('input[type="checkbox"]:checked, [role="checkbox"][aria-checked="true"]').first().waitFor(); // ticked
      await wb.page.keyboard.press('Enter');
      await wb.dialogButton('Discard and Restore').click();

      const original = fs.readFileSync(path.join(fixture, FILE), 'utf8');
      await waitUntil('the labelled point\'s content on disk', () => fs.readFileSync(path.join(workspace, FILE), 'utf8') === original);
      await wb.waitForNotification(/Restored src\/cart\.ts from "before discount"/);
      await wb.page.locator('.part.editor .tab.active.dirty').waitFor({ state: 'detached' });
      await wb.activeEditor().locator('.view-lines').filter({ hasText: 'export function describe' }).waitFor();
      assert.equal(await wb.activeEditor().locator('.view-lines').filter({ hasText: 'DISCOUNT_PERCENT' }).count(), 0, 'the editor shows the restored file');
    },
  },
  {
    name: 'the tree shows the safety point made before the restore, above the points it can bring back',
    async run({ imagesDir }) {
      const safety = wb.treeRow(/Before restoring "before discount"/);
      await safety.waitFor();
      await safety.locator('.codicon-shield').waitFor();
      const saved = wb.sideBarRows().filter({ hasText: /Saved cart\.ts/ }).first();
      await saved.click();
      await saved.and(wb.page.locator('[aria-expanded="true"]')).waitFor();
      await wb.clearNotifications();
      await wb.treeRow(LABEL_ROW).hover();
      await wb.page.screenshot({ path: path.join(imagesDir, 'tree-view.png') });
    },
  },
];
