// `npm start`'s editor, end to end: started the way scripts/host/start.mjs starts it (its own
// startEditor, on a temporary data folder instead of .cache/editor), it shows modal dialogs a person
// answers, and its recovery points survive a stop and a start, in the tree and for the command-line
// tool without --store. Runs beside the runner's own server, in the runner's browser.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import type { E2EStep } from './e2eContext';
import type { PointRow } from './storeOnDisk';
import { Workbench } from './workbench';

interface Editor {
  readonly port: number;
  readonly pid: number;
  readonly baseUrl: string;
  readonly userDataDir: string;
  stop(): Promise<void>;
}
type StartEditor = (options: { folder: string; port?: number; dataDir?: string }) => Promise<Editor>;

const KEPT = 'kept across runs';
const DOOMED = 'delete me';

let startEditor: StartEditor;
let editor: Editor | undefined;
let page: Page;
let wb: Workbench;
let tmp: string;
let folder: string;
let dataDir: string;

// A failed step skips the rest: the editor and its folders must not outlive the run.
process.once('exit', () => {
  if (editor) {
    try {
      process.kill(-editor.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function open(): Promise<void> {
  // The address npm start prints (the folder given opens); the workbench's own parts are waited for below.
  await page.goto(`${editor!.baseUrl}/`, { waitUntil: 'domcontentloaded' });
  wb = new Workbench(page);
  await wb.ready();
  await wb.openActivity('Recovery Points');
}

/** The command-line tool on the folder, without --store, looking in the editor's user-data folder. */
function cliList(root: string): Promise<PointRow[]> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, RECOVERY_POINTS_USER_DATA_DIRS: path.join(dataDir, 'user-data') };
    execFile(process.execPath, [path.join(root, 'dist', 'cli.js'), 'list', '--json'], { cwd: folder, env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`recovery-points list: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as PointRow[]);
    });
  });
}

export const steps: E2EStep[] = [
  {
    name: 'npm start\'s editor opens the folder with the extension, on a data folder of its own',
    async run({ root, fixture, page: runnerPage }) {
      ({ startEditor } = (await import(pathToFileURL(path.join(root, 'scripts', 'host', 'start.mjs')).href)) as { startEditor: StartEditor });
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-e2e-editor-'));
      folder = path.join(tmp, 'project');
      dataDir = path.join(tmp, 'editor-data');
      fs.cpSync(fixture, folder, { recursive: true });
      editor = await startEditor({ folder, dataDir });
      page = await runnerPage.context().newPage();
      await page.setViewportSize({ width: 1440, height: 900 });
      page.setDefaultTimeout(20_000);
      await open();
      await wb.treeRow(/First recovery point/).waitFor();
    },
  },
  {
    name: 'Delete… asks in a modal dialog (Delete is not the default button); clicking Delete removes the point',
    async run({ imagesDir }) {
      for (const label of [KEPT, DOOMED]) {
        await wb.runCommand('Recovery Points: Create Recovery Point…');
        await wb.waitForQuickInput('Create Recovery Point');
        await wb.answerQuickInput(label);
        await wb.treeRow(label).waitFor();
      }
      await wb.runCommand('Recovery Points: Delete…');
      await wb.quickInput().locator('.monaco-list-row').filter({ hasText: DOOMED }).click();
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.filter({ hasText: `Delete "${DOOMED}"?` }).waitFor();
      // The default (primary) button is the one without the `secondary` class; on Linux the dialog puts it
      // on the right, so the order on screen is not the order the extension gave.
      const buttons = await dialog.locator('.dialog-buttons .monaco-button').allInnerTexts();
      const primary = await dialog.locator('.dialog-buttons .monaco-button:not(.secondary)').allInnerTexts();
      assert.deepEqual(primary, ['Keep'], `the default button keeps the point (buttons: ${buttons.join(' | ')})`);
      await page.screenshot({ path: path.join(imagesDir, 'delete-dialog.png') });
      await wb.dialogButton('Delete').click();
      await dialog.waitFor({ state: 'detached' });
      await wb.treeRow(DOOMED).waitFor({ state: 'detached' });
      await wb.treeRow(KEPT).waitFor();
    },
  },
  {
    name: 'stopped and started again: the view says nothing untrue while it starts, the points are in the tree, and the command-line tool finds them without --store',
    async run({ root }) {
      const port = editor!.port;
      await page.goto('about:blank');
      await editor!.stop();
      editor = await startEditor({ folder, dataDir, port });
      // everything the views show while they start on a store with points (innerText: what is on screen): nothing of it may be untrue
      await page.addInitScript(`(() => {
        window.rpUntrue = [];
        const untrue = [/\\b[1-9]\\d* points? · 0 B/i, /Open a folder to (keep|see)/, /No recovery points yet/];
        const look = () => {
          const text = document.querySelector('.part.sidebar')?.innerText ?? '';
          for (const wrong of untrue) {
            const found = text.match(wrong);
            if (found && !window.rpUntrue.includes(found[0])) window.rpUntrue.push(found[0]);
          }
        };
        document.addEventListener('DOMContentLoaded', () => new MutationObserver(look).observe(document.body, { childList: true, subtree: true, characterData: true }));
      })()`);
      await open();
      await wb.treeRow(KEPT).waitFor();
      await wb.treeRow(/First recovery point/).waitFor();
      assert.deepEqual(await page.evaluate('window.rpUntrue'), [], 'what the view said while it started');
      assert.equal(await wb.treeRow(DOOMED).count(), 0);
      const listed = await cliList(root);
      assert.deepEqual(listed.map((p) => (p as PointRow & { label: string | null }).label).filter(Boolean), [KEPT]);
      await page.close();
      await editor.stop();
      editor = undefined;
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  },
];
