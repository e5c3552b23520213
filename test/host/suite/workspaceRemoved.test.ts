// The workspace folder itself removed while the window is open (`rm -rf` of the project, by hand or by
// an agent), then a point restored from the view: the folder is made again with the point's files.
// This file's name sorts last in the folder run: nothing after it counts on the workbench's watcher of
// a folder that was removed.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { assertPromptsUsed, createPoint, fixtureText, getApi, listPoints, pointNode, pointText, readFile, resetAll, run, waitForNewPoint, workspaceFolder, writeFile, type Api } from './helpers';

suite('the workspace folder removed', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  test('restoring a point from the view makes the folder again, with every file of the point', async () => {
    const before = await createPoint(api, 'before the removal');
    const root = workspaceFolder().uri.fsPath;
    fs.rmSync(root, { recursive: true, force: true });

    api.prompts.answerNext({ pickMany: 'all' });
    const result = await run<{ safetyPointId: string } | undefined>('restore', await pointNode(api, before.id));
    assert.ok(result, 'the restore ran');
    for (const rel of ['.gitignore', 'README.md', 'src/greeting.ts', 'src/farewell.ts', 'src/notes.txt']) assert.equal(readFile(rel), fixtureText(rel), `${rel} is back`);
    assert.match(api.prompts.notifications.at(-1)?.message ?? '', /^Restored 5 files from "before the removal"/);

    // the folder is watched again: a change made outside the editor makes its point
    const known = await listPoints(api);
    writeFile('src/outside.txt', 'written outside the editor\n');
    const outside = await waitForNewPoint(api, known, (p) => p.trigger === 'external');
    assert.equal(await pointText(outside.id, 'src/outside.txt'), 'written outside the editor\n');
  });
});
