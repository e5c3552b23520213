// A point taken when the workspace folder had another name and place (renamed or moved on disk, or
// named anew in a .code-workspace file): restoring it through the editor maps its folder onto the
// workspace's, shows the mapping in the review, and deletes nothing the point does not leave out.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RecoveryStore } from '../../../src/core';
import { assertPromptsUsed, fixtureText, getApi, readFile, resetAll, run, settle, store, workspaceFolder, writeFile, wsFile, type Api } from './helpers';

suite('restore onto a renamed folder', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  test('a point of the folder under its old name and path restores into the renamed folder; the review shows the mapping', async () => {
    // The folder as it was before the rename: a copy named "app" elsewhere, with a point of it in this store.
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-host-renamed-'));
    const app = path.join(parent, 'app');
    fs.cpSync(workspaceFolder().uri.fsPath, app, { recursive: true });
    try {
      const before = await RecoveryStore.open({ storeDir: store(api).persistence.layout.root, roots: [{ name: 'app', path: app }], actor: 'test:before-rename' });
      const point = (await before.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'before the rename' }))!;
      await before.close();

      writeFile('src/greeting.ts', 'export const broken = true;\n');
      writeFile('src/added.ts', 'export const added = true;\n');
      await settle(api);
      api.prompts.answerNext({ pick: 'before the rename' }, { pickMany: 'all' });
      const result = await run<{ outcome: { written: string[]; removed: string[] } } | undefined>('restore');
      assert.ok(result, 'the restore ran');

      const review = api.prompts.history.at(-1)!;
      assert.equal(review.kind, 'pickMany');
      assert.match(review.text, new RegExp(`point folder app \u2192 workspace folder ${workspaceFolder().name}`));
      assert.deepEqual([...review.choices].sort(), ['src/added.ts', 'src/greeting.ts'], 'only what differs, not every file of the folder');
      assert.equal(point.roots[0]!.name, 'app');
      assert.equal(readFile('src/greeting.ts'), fixtureText('src/greeting.ts'));
      assert.equal(fs.existsSync(wsFile('src/added.ts')), false);
      assert.equal(readFile('README.md'), fixtureText('README.md'), 'every other file is still there');
      assert.deepEqual(result.outcome.removed, [`${workspaceFolder().name}/src/added.ts`]);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
