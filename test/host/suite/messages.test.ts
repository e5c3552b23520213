// What people read: notifications in plain words with proper plurals, the reason a file has no
// version, the clean-up's effect on the store's size, and automatic points turned off for this
// workspace only, in the real extension host.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { formatBytes } from '../../../src/core/format';
import { assertPromptsUsed, createPoint, getApi, listPoints, newPoints, pointNode, readFile, resetAll, run, setSetting, settle, waitFor, waitForNewPoint, writeFile, wsUri, type Api } from './helpers';

suite('messages', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(async () => {
    const settings = vscode.workspace.getConfiguration('recoveryPoints');
    if (settings.inspect('automatic.enabled')?.workspaceValue !== undefined) await settings.update('automatic.enabled', undefined, vscode.ConfigurationTarget.Workspace);
    assertPromptsUsed(api);
  });

  const notified = () => api.prompts.notifications.map((n) => n.message);

  test('restore notifications name the point and the file, with proper plurals', async () => {
    const point = await createPoint(api, 'two files');
    writeFile('src/greeting.ts', 'export const g = 2;\n');
    writeFile('src/farewell.ts', 'export const f = 2;\n');
    await settle(api);

    api.prompts.answerNext({ pick: 'two files' }, { button: 'Restore' });
    await run('restoreFile', wsUri('src/farewell.ts'));
    assert.equal(notified().at(-1), 'Restored src/farewell.ts from "two files" (just now).');

    writeFile('src/greeting.ts', 'export const g = 3;\n');
    writeFile('src/farewell.ts', 'export const f = 3;\n');
    await settle(api);
    api.prompts.answerNext({ pickMany: 'all' });
    await run('restore', await pointNode(api, point.id));
    assert.equal(notified().at(-1), 'Restored 2 files from "two files" (just now).');
    await run('undoRestore');
    assert.equal(notified().at(-1), 'Undid the restore of "two files" (restored just now): put back 2 files.');
    // a point named by its changes, and a safety point, as the tree names them (no quotes inside quotes)
    writeFile('src/greeting.ts', 'export const g = 4;\n');
    const saved = await waitForNewPoint(api, await listPoints(api), (p) => p.trigger === 'external');
    writeFile('src/greeting.ts', 'export const g = 5;\n');
    await settle(api);
    api.prompts.answerNext({ pickMany: 'all' });
    await run('restore', await pointNode(api, saved.id));
    assert.equal(notified().at(-1), `Restored src/greeting.ts from '${saved.summary}' (just now).`);
    const safety = (await listPoints(api)).find((p) => p.trigger === 'before-restore')!;
    api.prompts.answerNext({ pickMany: 'all' });
    await run('restore', await pointNode(api, safety.id));
    assert.match(notified().at(-1)!, /^Restored src\/greeting\.ts from the safety point of \d/);
    assert.ok(notified().every((m) => !/\(s\)/.test(m)), `no "(s)": ${notified().join(' | ')}`);
  });

  test('a file that grows over the size limit is said once to be left out from now on', async () => {
    await setSetting('maxFileSizeMB', 1);
    writeFile('src/data.bin', 'small at first\n');
    await settle(api);
    await waitFor('a point with data.bin', async () => (await listPoints(api))[0]?.summary.includes('data.bin') || undefined);
    api.prompts.reset();
    writeFile('src/data.bin', 'x'.repeat(1_500_000));
    await settle(api);
    const said = await waitFor('the notice', () => api.prompts.notifications.find((n) => n.message.startsWith('Recovery points now leave out')));
    assert.equal(said.message, `Recovery points now leave out src/data.bin (${formatBytes(1_500_000)}, over the ${formatBytes(1024 * 1024)} limit): changes to it are not kept.`);
    assert.deepEqual(said.buttons, ['Change the Limit', "Don't Show Again"]);
    // changed again, still too large: not said again
    writeFile('src/data.bin', 'y'.repeat(1_600_000));
    writeFile('src/greeting.ts', 'export const another = 1;\n');
    await settle(api);
    await waitFor('the next point', async () => (await listPoints(api))[0]?.summary.includes('greeting.ts') || undefined);
    await api.model!.refresh();
    assert.equal(api.prompts.notifications.filter((n) => n.message.startsWith('Recovery points now leave out')).length, 1);
    await setSetting('maxFileSizeMB', undefined);
  });

  test('a file kept out as a secret: the message says so and names the setting that changes it', async () => {
    writeFile('.env', 'TOKEN=1\n');
    await settle(api);
    assert.equal(await run('restoreFile', wsUri('.env')), undefined);
    const warning = api.prompts.notifications.at(-1);
    assert.equal(warning?.severity, 'warning');
    assert.match(warning?.message ?? '', /^No recovery point holds \.env: files that usually hold secrets are never captured; the setting recoveryPoints\.excludeSecrets changes that\.$/);
  });

  test('Clean Up Now reports the store\'s size before and after (repacking counts), and the points removed', async () => {
    for (let i = 0; i < 6; i++) {
      writeFile(`src/big${i}.txt`, `${i}`.repeat(200_000) + Math.random());
      await settle(api);
      await createPoint(api);
    }
    for (let i = 0; i < 6; i++) writeFile(`src/big${i}.txt`, 'small\n');
    await settle(api);
    await setSetting('maxPoints', 2);
    const before = (await listPoints(api)).length;
    const report = await run<{ removedPoints: number; storeBytesBefore: number; storeBytesAfter: number }>('cleanup');
    assert.ok(report.removedPoints > 1 && report.removedPoints === before - (await listPoints(api)).length);
    assert.ok(report.storeBytesAfter < report.storeBytesBefore, `the store shrank: ${report.storeBytesBefore} → ${report.storeBytesAfter}`);
    assert.equal(notified().at(-1), `Clean-up removed ${report.removedPoints} points; the store went from ${formatBytes(report.storeBytesBefore)} to ${formatBytes(report.storeBytesAfter)}.`);
    assert.equal(api.model!.storeBytes, report.storeBytesAfter, 'the figure the view title shows');
  });

  test('Turn Off / Turn On Automatic Recovery Points change this workspace\'s setting, not the user\'s, and show the state', async () => {
    const inspect = () => vscode.workspace.getConfiguration('recoveryPoints').inspect<boolean>('automatic.enabled');
    const before = await listPoints(api);
    assert.equal(await run('turnOffAutomatic'), false);
    assert.equal(inspect()?.workspaceValue, false, 'the workspace setting is off');
    assert.equal(inspect()?.globalValue, undefined, 'the user setting is untouched');
    assert.match(notified().at(-1) ?? '', /^Automatic recovery points are off for this folder\./);
    await settle(api);
    // the setting is written to .vscode/settings.json: its point is named for what wrote it, nobody saved it
    assert.deepEqual((await newPoints(api, before)).map((p) => p.summary), ['Turned automatic recovery points off (settings.json)']);
    const off = await listPoints(api);
    assert.equal(await run('turnOnAutomatic'), true);
    assert.equal(inspect()?.workspaceValue, true);
    assert.equal(inspect()?.globalValue, undefined);
    await settle(api);
    // turned on, a point holds what changed while they were off: the setting written as they were turned on is named for what wrote it
    assert.deepEqual((await newPoints(api, off)).map((p) => p.summary), ['Turned automatic recovery points on (settings.json)']);
  });

  test('Turn On names its point for the setting it wrote and for the files changed while automatic points were off; a save of the settings file by the person within the minute is theirs', async () => {
    assert.equal(await run('turnOffAutomatic'), false);
    await settle(api);
    writeFile('src/notes.txt', 'written while automatic points were off\n');
    await settle(api);
    const off = await listPoints(api);
    assert.equal(await run('turnOnAutomatic'), true);
    await settle(api);
    assert.deepEqual((await newPoints(api, off)).map((p) => p.summary), ['Turned automatic recovery points on (settings.json); changed while automatic points were off: notes.txt']);

    // the person edits the settings file right after (its point is not the extension's own change)
    const on = await listPoints(api);
    const settingsFile = '.vscode/settings.json';
    const settings = JSON.parse(readFile(settingsFile)) as Record<string, unknown>;
    writeFile(settingsFile, `${JSON.stringify({ ...settings, 'recoveryPoints.test.note': 'mine' }, null, 2)}\n`);
    await settle(api);
    assert.deepEqual((await newPoints(api, on)).map((p) => p.summary), ['Changed outside the editor: settings.json']);
  });
});
