// Search History through the real workbench UI: text that only an old point holds is found, the
// results stream into a quick pick, and choosing one opens that version read-only at the line.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { E2EStep } from './e2eContext';
import { waitUntil } from './storeOnDisk';
import { Workbench } from './workbench';

const FILE = 'src/format.ts';
const MARKER = 'export const cometTrailMarker = 42;';

let wb: Workbench;

export const steps: E2EStep[] = [
  {
    name: 'a line saved once and deleted since lives only in an older point',
    async run({ page, workspace }) {
      wb = new Workbench(page);
      await wb.ready();
      await wb.openActivity('Recovery Points');
      await wb.setSideBarWidth(440);
      await wb.treeRow(/First recovery point/).waitFor();
      await wb.openFile('format.ts');
      await wb.appendLine(MARKER);
      await wb.saveActiveEditor();
      await waitUntil('the marker on disk', () => fs.readFileSync(path.join(workspace, FILE), 'utf8').includes(MARKER));
      await wb.treeRow(/Saved format\.ts/).waitFor();
      // Delete the line again (Ctrl+Shift+K on it) and save: the current file no longer has it.
      await wb.activeEditor().locator('.view-lines').filter({ hasText: MARKER }).waitFor();
      await wb.page.keyboard.press('Control+Shift+K');
      await wb.activeEditor().locator('.view-lines').filter({ hasText: MARKER }).waitFor({ state: 'detached' });
      await wb.saveActiveEditor();
      await waitUntil('the marker gone from disk', () => !fs.readFileSync(path.join(workspace, FILE), 'utf8').includes(MARKER));
      await wb.sideBarRows().filter({ hasText: /Saved format\.ts/ }).nth(1).waitFor();
    },
  },
  {
    name: 'Search History… finds it: the results stream into a quick pick under the file and when it was kept',
    async run({ imagesDir }) {
      await wb.runCommand('Recovery Points: Search History…');
      const box = await wb.waitForQuickInput('Search History');
      await box.locator('input.input').fill('cometTrail');
      await wb.page.keyboard.press('Enter');
      await wb.waitForQuickInput(/Search History: "cometTrail"/);
      const row = wb.quickInput().locator('.monaco-list-row').filter({ hasText: MARKER }).first();
      await row.waitFor();
      await wb.quickInput().locator('.monaco-list-row').filter({ hasText: /format\.ts · kept/ }).first().waitFor();
      // the search is over: the placeholder counts what it found
      await wb.quickInput().locator(`input.input[placeholder^="1 matching line in 1 version"]`).waitFor();
      await wb.page.screenshot({ path: path.join(imagesDir, 'search-history.png') });
    },
  },
  {
    name: 'choosing the result opens that version read-only with the match selected, its tab titled with the point\'s time',
    async run() {
      await wb.page.keyboard.press('Enter');
      await wb.quickInput().waitFor({ state: 'hidden' });
      // "format.ts (2:14 PM)": a tab reading only "format.ts" would pass for the workspace file's own
      await wb.activeTab().filter({ hasText: /format\.ts \(.+\)/ }).waitFor();
      const editor = wb.activeEditor();
      await editor.locator('.view-lines').filter({ hasText: MARKER }).waitFor();
      // a point's version cannot be edited: typing changes nothing
      await wb.page.keyboard.type('typed');
      assert.equal(await editor.locator('.view-lines').filter({ hasText: 'typed' }).count(), 0);
      await wb.page.locator('.part.editor .tab.active.dirty').waitFor({ state: 'detached' });
      await editor.locator('.selected-text').first().waitFor();
    },
  },
];
