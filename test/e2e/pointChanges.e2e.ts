// What changed in a point, end to end: a point's "Open Changes" opens VS Code's multi-file diff
// editor, and the restore button of a row that shows a file deleted brings the file back.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { E2EStep } from './e2eContext';
import { waitUntil } from './storeOnDisk';
import { Workbench } from './workbench';

const CHANGED_LINE = 'export const CHANGED_OUTSIDE = true;';

let wb: Workbench;

/** The row of the point that changed cart.ts and deleted format.ts. */
function pointRow() {
  return wb.sideBarRows().and(wb.page.locator('[aria-level="2"]')).filter({ hasText: /format\.ts/ }).first();
}

export const steps: E2EStep[] = [
  {
    name: 'a change made outside the editor (one file changed, one deleted) appears as a point',
    async run({ page, workspace }) {
      wb = new Workbench(page);
      await wb.ready();
      await wb.openActivity('Recovery Points');
      await wb.setSideBarWidth(440);
      await wb.treeRow(/First recovery point/).waitFor();
      fs.appendFileSync(path.join(workspace, 'src', 'cart.ts'), `${CHANGED_LINE}\n`);
      fs.rmSync(path.join(workspace, 'src', 'format.ts'));
      await pointRow().waitFor();
      await waitUntil('one point with both changes', async () => /\+0 ~1 \u22121/.test((await pointRow().getAttribute('aria-label')) ?? ''));
    },
  },
  {
    name: 'the point\'s inline "Open Changes" opens both files in the multi-file diff editor',
    async run({ imagesDir }) {
      const row = pointRow();
      await row.hover();
      await row.locator('.actions .action-label[aria-label="Open Changes"]').click();
      await wb.activeTab().filter({ hasText: /\u2194.*\(2 files\)/ }).waitFor();
      const editor = wb.page.locator('.part.editor .multiDiffEditor').first();
      await editor.waitFor();
      await editor.locator('.view-lines').filter({ hasText: CHANGED_LINE }).first().waitFor();
      await editor.getByText('format.ts').first().waitFor();
      await editor.getByText('cart.ts').first().waitFor();
      await wb.clearNotifications();
      await wb.page.screenshot({ path: path.join(imagesDir, 'point-changes.png') });
    },
  },
  {
    name: 'the restore button of the row that shows format.ts deleted asks, then brings the file back',
    async run({ workspace, fixture }) {
      const row = pointRow();
      await row.click();
      await row.and(wb.page.locator('[aria-expanded="true"]')).waitFor();
      const deleted = wb.sideBarRows().and(wb.page.locator('[aria-level="4"]')).filter({ hasText: 'format.ts' }).first();
      await deleted.waitFor();
      await deleted.hover();
      await deleted.locator('.actions .action-label[aria-label="Restore File from Recovery Point…"]').click();
      // asked first, the diff of what it writes open behind the question
      const dialog = wb.page.locator('.monaco-dialog-box').filter({ hasText: 'Restore src/format.ts as it was in' });
      await dialog.waitFor();
      const file = path.join(workspace, 'src', 'format.ts');
      assert.equal(fs.existsSync(file), false, 'nothing written before the answer');
      await dialog.locator('.dialog-buttons .monaco-button').filter({ hasText: /^Restore$/ }).click();
      await waitUntil('format.ts back on disk', () => fs.existsSync(file));
      assert.equal(fs.readFileSync(file, 'utf8'), fs.readFileSync(path.join(fixture, 'src', 'format.ts'), 'utf8'));
      await wb.waitForNotification(/Restored src\/format\.ts/);
      assert.ok(fs.readFileSync(path.join(workspace, 'src', 'cart.ts'), 'utf8').includes(CHANGED_LINE), 'the other change is kept');
    },
  },
];
