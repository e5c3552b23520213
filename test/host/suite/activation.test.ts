// Runs inside the real extension host (see test/host/suite/index.ts).
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import * as os from 'node:os';
import { sharedStoreFolder } from '../../../src/extension/storeFolder';
import { getApi, listPoints, settle, store, waitFor } from './helpers';

const EXTENSION_ID = 'recovery-points.recovery-points';
/** The checkout: this file is compiled to out/test/host/activation.test.js. */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

suite('activation', () => {
  test('the extension under development activates in the real host, on the fixture copy', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not among the loaded extensions`);
    assert.equal(extension.extensionUri.scheme, 'file');
    assert.equal(
      fs.realpathSync(extension.extensionUri.fsPath),
      fs.realpathSync(PROJECT_ROOT),
      'the extension is loaded from this checkout',
    );
    await extension.activate();
    assert.equal(extension.isActive, true);

    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1, 'one workspace folder is open');
    const folder = folders[0].uri;
    assert.equal(folder.scheme, 'file');
    const expected = process.env.RP_HOST_TEST_WORKSPACE;
    assert.ok(expected, 'the runner sets RP_HOST_TEST_WORKSPACE');
    assert.equal(fs.realpathSync(folder.fsPath), fs.realpathSync(expected));
    assert.notEqual(
      fs.realpathSync(folder.fsPath),
      fs.realpathSync(path.join(PROJECT_ROOT, 'test', 'host', 'fixtures', 'workspace')),
      'tests never run on the fixture itself',
    );
    assert.ok(fs.existsSync(path.join(folder.fsPath, 'src', 'greeting.ts')), 'the copy holds the fixture files');
  });

  test('the store is created in the workspace storage (context.storageUri), readable by its owner only', async () => {
    const api = await getApi();
    const storeDir = api.store!.persistence.layout.root;
    // VS Code's storageUri is <workspaceStorage>/<workspace id>/<extension id>.
    assert.equal(path.basename(storeDir), 'recovery-points.recovery-points');
    assert.equal(path.basename(path.dirname(path.dirname(storeDir))), 'workspaceStorage');
    const workspace = vscode.workspace.workspaceFolders![0].uri.fsPath;
    assert.ok(path.relative(workspace, storeDir).startsWith('..'), 'the store is not inside the workspace');
    assert.ok(fs.statSync(storeDir).isDirectory());
    await settle(api);
    // The start-up point was written, so the store holds state, points and objects by now.
    assert.ok((await listPoints(api)).length >= 1, 'a start-up point exists');
    for (const required of [api.store!.persistence.layout.stateFile, api.store!.persistence.layout.pointsDir, api.store!.persistence.layout.objectsDir]) {
      assert.ok(fs.existsSync(required), `${path.relative(storeDir, required)} exists`);
    }
    const open: string[] = [];
    const walk = (entry: string) => {
      const stat = fs.lstatSync(entry);
      if ((stat.mode & 0o077) !== 0) open.push(`${path.relative(storeDir, entry) || '.'} ${(stat.mode & 0o777).toString(8)}`);
      if (stat.isDirectory()) for (const child of fs.readdirSync(entry)) walk(path.join(entry, child));
    };
    walk(storeDir);
    assert.deepEqual(open, [], 'no file or folder of the store is readable by group or others');
  });

  test('a fresh store starts cleanly: no state recovery (and so no warning) on the first activation', async () => {
    const api = await getApi();
    await settle(api);
    const audit = fs.readFileSync(api.store!.persistence.layout.auditLogFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; details?: unknown });
    const recoveries = audit.filter((entry) => entry.action === 'recover-state');
    assert.deepEqual(recoveries, [], 'the audit log records no state recovery');
    assert.ok(audit.some((entry) => entry.action === 'create'), 'the start-up point is in the audit log');
  });

  test('the start-up point of the new store was captured in a process of its own, which said how much memory it took', async () => {
    const api = await getApi();
    await settle(api);
    await vscode.commands.executeCommand('recoveryPoints.showLog');
    const line = await waitFor('the capture process\'s line in the Recovery Points log', () =>
      vscode.window.visibleTextEditors
        .map((e) => e.document)
        .find((d) => d.uri.scheme === 'output' && d.getText().includes('[activation] Ready in'))
        ?.getText()
        .split('\n')
        .find((l) => /\[store\] The capture process used at most .+ of memory/.test(l)),
    );
    console.log(`    (${line.slice(line.indexOf('[store]'))})`);
  });

  test('the extension host\'s promises are never tracked for the store lock: the other extensions\' awaits cost what they did before ours', async () => {
    const api = await getApi();
    const tracked = () => Object.getOwnPropertySymbols(Promise.resolve()).length;
    const during = await store(api).persistence.lock.run(async () => {
      await null;
      return tracked();
    });
    assert.equal(during, 0, 'not inside a hold of the store lock');
    await settle(api);
    await store(api).recovery.listRecoveryPoints();
    assert.equal(tracked(), 0, 'not after the points');
  });

  test('a second window on the folder, given the storage folder <id>-1 by VS Code, uses the first window\'s store', async () => {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-storage-'));
    try {
      const ext = 'recovery-points.recovery-points';
      for (const id of ['9f2c41', '9f2c41-1', '-1f3289e2', '-1f3289e2-2', 'orphan-1']) fs.mkdirSync(path.join(storage, id, ext), { recursive: true });
      const shared = async (id: string) => path.relative(storage, await sharedStoreFolder(path.join(storage, id, ext)));
      assert.equal(await shared('9f2c41'), path.join('9f2c41', ext));
      assert.equal(await shared('9f2c41-1'), path.join('9f2c41', ext));
      assert.equal(await shared('-1f3289e2'), path.join('-1f3289e2', ext), 'a web workspace id starts with a dash');
      assert.equal(await shared('-1f3289e2-2'), path.join('-1f3289e2', ext));
      assert.equal(await shared('orphan-1'), path.join('orphan-1', ext), 'no first folder: its own');
    } finally {
      fs.rmSync(storage, { recursive: true, force: true });
    }
  });
});
