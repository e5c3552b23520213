// Runs inside the real extension host (see test/host/suite/index.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

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
});
