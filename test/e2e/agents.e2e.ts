// Agents' checkpoints end to end: the hook command that Claude Code and Cline run at each prompt
// (dist/cli.js hook, fed the JSON those agents pass on standard input) makes points in the store the
// extension uses, and the tree shows them as they happen, with the agent's name and icon.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { E2EStep } from './e2eContext';
import { StoreOnDisk } from './storeOnDisk';
import { Workbench } from './workbench';

let wb: Workbench;
let store: StoreOnDisk;

/** Runs `recovery-points hook --agent <agent>` as the agent does, with one of the CLI tests' payload fixtures (its folder swapped for the workspace). */
function fireHook(root: string, workspace: string, agent: 'claude' | 'cline', fixture: string, prompt: string): Promise<{ code: number; stderr: string }> {
  const payload = JSON.parse(fs.readFileSync(path.join(root, 'test', 'cli', 'fixtures', 'hooks', agent, fixture), 'utf8')) as Record<string, unknown>;
  if (agent === 'claude') Object.assign(payload, { cwd: workspace, prompt });
  else Object.assign(payload, { workspaceRoots: [workspace], userPromptSubmit: { prompt, attachments: [] } });
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [path.join(root, 'dist', 'cli.js'), 'hook', '--agent', agent, '--store', store.dir], { cwd: workspace, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr });
    });
    child.stdin!.end(JSON.stringify(payload));
  });
}

export const steps: E2EStep[] = [
  {
    name: 'a prompt in Claude Code, then one in Cline: their hooks make a point each, and the tree shows them with the agent\'s name and icon',
    async run({ page, workspace, root, userDataDir, imagesDir }) {
      wb = new Workbench(page);
      await wb.ready();
      await wb.openActivity('Recovery Points');
      await wb.setSideBarWidth(520);
      await wb.treeRow(/First recovery point/).waitFor();
      store = await StoreOnDisk.find(userDataDir, workspace, root);

      const claude = await fireHook(root, workspace, 'claude', 'UserPromptSubmit.json', 'Rename total to sum in cart.ts');
      assert.equal(claude.code, 0, `the hook never fails the agent's action: ${claude.stderr}`);
      const claudeRow = wb.treeRow(/Claude Code turn: Rename total to sum in cart\.ts/);
      await claudeRow.waitFor();
      const cline = await fireHook(root, workspace, 'cline', 'UserPromptSubmit.json', 'Add a test for describe()');
      assert.equal(cline.code, 0, `the hook never fails the agent's action: ${cline.stderr}`);
      const clineRow = wb.treeRow(/Cline turn: Add a test for describe\(\)/);
      await clineRow.waitFor();

      for (const row of [claudeRow, clineRow]) assert.equal(await row.locator('.codicon-robot').count(), 1, 'the agent\'s icon, not a label\'s pin');
      const points = await store.list();
      assert.deepEqual(
        points.slice(0, 2).map((p) => [p.trigger, p.label]),
        [
          ['agent', 'Cline turn: Add a test for describe()'],
          ['agent', 'Claude Code turn: Rename total to sum in cart.ts'],
        ],
      );

      await claudeRow.hover();
      await wb.page.locator('.monaco-hover').filter({ hasText: /Made by Claude Code \(agent hook\)/ }).waitFor();
      await wb.page.screenshot({ path: path.join(imagesDir, 'agent-points.png') });
    },
  },
];
