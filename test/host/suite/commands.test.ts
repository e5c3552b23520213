// Every `recoveryPoints.*` command, run as the palette or a tree item runs it, in the real extension host.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { lookupEntry } from '../../../src/core/capture';
import { readPackIndex } from '../../../src/core/objects/packFile';
import {
  activeDiff,
  assertPromptsUsed,
  createPoint,
  fixtureText,
  getApi,
  listPoints,
  newPoints,
  pointNode,
  pointPath,
  resetAll,
  run,
  setSetting,
  settle,
  waitFor,
  writeFile,
  wsUri,
  type Api,
} from './helpers';

suite('commands', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  test('Create Recovery Point… with a label makes a labelled (pinned) manual point; Escape makes none', async () => {
    const before = await listPoints(api);
    const point = await createPoint(api, '  before refactoring  ');
    assert.equal(point.label, 'before refactoring', 'the label is trimmed');
    assert.equal(point.trigger, 'manual');
    assert.equal(api.prompts.history.at(-1)?.kind, 'input');
    assert.equal((await newPoints(api, before)).length, 1);

    const unlabelled = await createPoint(api, '');
    assert.equal(unlabelled.label, null, 'an empty label is no label');

    api.prompts.answerNext({ cancel: true });
    const count = (await listPoints(api)).length;
    assert.equal(await run('create'), undefined);
    assert.equal((await listPoints(api)).length, count, 'Escape in the input box creates nothing');
  });

  test('Label… sets and clears a label, from a tree item and from the palette', async () => {
    const point = await createPoint(api);
    api.prompts.answerNext({ input: 'keep me' });
    await run('label', await pointNode(api, point.id));
    assert.equal((await listPoints(api)).find((p) => p.id === point.id)?.label, 'keep me');
    assert.equal(api.model!.find(point.id)?.label, 'keep me', 'the view model is refreshed');

    // From the palette: pick the point (now shown by its label), then clear the text.
    api.prompts.answerNext({ pick: 'keep me' }, { input: '' });
    await run('label');
    assert.equal((await listPoints(api)).find((p) => p.id === point.id)?.label, null);
    const [pick, input] = api.prompts.history.slice(-2);
    assert.equal(pick?.kind, 'pick');
    assert.equal(input?.kind, 'input');
  });

  test('Delete… asks first: Cancel keeps the point, Delete removes it from the store and the tree', async () => {
    const point = await createPoint(api, 'doomed');
    api.prompts.answerNext({ cancel: true });
    await run('delete', await pointNode(api, point.id));
    assert.ok((await listPoints(api)).some((p) => p.id === point.id), 'cancel keeps the point');
    const question = api.prompts.history.at(-1);
    assert.equal(question?.kind, 'message');
    assert.match(question?.text ?? '', /^Delete "doomed"\?$/);
    assert.deepEqual(question?.choices, ['Keep', 'Delete'], 'Keep first: the default button does not delete');
    api.prompts.answerNext({ button: 'Keep' });
    await run('delete', await pointNode(api, point.id));
    assert.ok((await listPoints(api)).some((p) => p.id === point.id), 'Keep keeps the point');
    assert.match(question?.detail ?? '', /The other points keep their files; the point after this one will show what changed since the point before it\. This cannot be undone\.$/);

    // the safety point of the last restore: the question says the undo goes with it
    const restored = await api.store!.recovery.restore(point.id);
    await api.model!.refresh();
    api.prompts.answerNext({ button: 'Keep' });
    await run('delete', await pointNode(api, restored.safetyPointId));
    assert.match(api.prompts.history.at(-1)?.detail ?? '', /It is the safety point of the last restore: Undo Last Restore will no longer be possible\./);

    api.prompts.answerNext({ pick: 'doomed' }, { button: 'Delete' });
    await run('delete');
    assert.ok(!(await listPoints(api)).some((p) => p.id === point.id), 'the point is gone from the store');
    await assert.rejects(pointNode(api, point.id), /no node/, 'and from the tree');
  });

  test('Clean Up Now applies maxPoints (a setting changed without reload) and never removes labelled points', async () => {
    const labelled = await createPoint(api, 'pinned');
    for (let i = 0; i < 4; i++) await createPoint(api);
    const newest = (await listPoints(api))[0]!;
    await setSetting('maxPoints', 3);
    const before = await listPoints(api);
    assert.equal(before.length, 6);
    const report = await run<{ removedPoints: number }>('cleanup');
    const after = await listPoints(api);
    assert.ok(after.length <= 3, `at most 3 points are kept (${after.length})`);
    assert.equal(report.removedPoints, before.length - after.length);
    assert.ok(after.some((p) => p.id === labelled.id), 'the labelled point is kept');
    assert.ok(after.some((p) => p.id === newest.id), 'the newest point is kept');
    assert.equal(api.model!.points.length, after.length, 'the view model is refreshed');
  });

  test('Verify Store reports a healthy store; a damaged point is found and, after "Repair", quarantined', async () => {
    const damaged = await createPoint(api, 'damaged');
    await createPoint(api, 'intact');
    const healthy = await run<{ ok: boolean; pointsChecked: number }>('verify');
    assert.equal(healthy.ok, true);
    assert.equal(healthy.pointsChecked, (await listPoints(api)).length);

    // a garbage collection makes each manifest file durable and the points' packs give up their copies
    // (a torn manifest is read back from its pack until then): then a damaged file is a damaged point
    await api.store!.recovery.collectGarbage();
    fs.writeFileSync(api.store!.persistence.layout.manifestFile(damaged.id), '{"schemaVersion":1,"id":"oops"');
    api.prompts.answerNext({ button: 'Repair' });
    const repaired = await run<{ repaired: { pointsQuarantined: number } | null }>('verify');
    const question = api.prompts.history.at(-1);
    assert.match(question?.text ?? '', /The store has problems: 0 broken objects, 1 broken point\./);
    assert.deepEqual(question?.choices, ['Repair', 'Show Log']);
    assert.equal(repaired.repaired?.pointsQuarantined, 1);
    assert.ok(!(await listPoints(api)).some((p) => p.id === damaged.id), 'the damaged point is no longer listed');
    assert.ok(fs.readdirSync(api.store!.persistence.layout.quarantineDir).length > 0, 'it is kept in the quarantine folder');
    assert.equal((await run<{ ok: boolean }>('verify')).ok, true, 'the store verifies clean after the repair');
  });

  test('a point that lost one file\'s content: Repair keeps it (its other files restore), and Verify Store then says so with nothing to repair', async () => {
    writeFile('src/only-here.txt', `content no other point holds ${Date.now()}\n`);
    const kept = await createPoint(api, 'loses a file');
    const objects = await api.store!.persistence.objects();
    const entry = await lookupEntry(objects, (await api.store!.persistence.requireSnapshot(kept.id)).root, pointPath('src/only-here.txt'));
    const packs = fs.readdirSync(objects.dir).filter((name) => name.endsWith('.pack')).map((name) => `${objects.dir}/${name}`);
    let damagedAt: { file: string; at: number } | undefined;
    for (const file of packs) {
      const found = (await readPackIndex(file)).find((e) => e.hash === entry!.hash);
      if (found) damagedAt = { file, at: found.offset + Math.floor(found.storedSize / 2) };
    }
    const bytes = fs.readFileSync(damagedAt!.file);
    bytes[damagedAt!.at] ^= 0xff;
    fs.writeFileSync(damagedAt!.file, bytes);

    api.prompts.answerNext({ button: 'Repair' });
    const repaired = await run<{ repaired: { pointsQuarantined: number; pointsKept: number } | null }>('verify');
    assert.deepEqual([repaired.repaired?.pointsQuarantined, repaired.repaired?.pointsKept], [0, 1]);
    assert.match(api.prompts.notifications.at(-1)!.message, /Repaired: .*1 point that lost some files' content kept \(it restores its other files\)/);
    assert.ok((await listPoints(api)).some((p) => p.id === kept.id), 'the point is still listed');
    const again = await run<{ ok: boolean; needsRepair: boolean }>('verify');
    assert.deepEqual([again.ok, again.needsRepair], [false, false]);
    assert.match(api.prompts.notifications.at(-1)!.message, /^1 point has lost some files' content for good; it restores its other files\. Nothing to repair\.$/);
  });

  test('the capture and retention settings are kept in the store for the command-line tool and the agents, and follow a change without reload', async () => {
    const file = api.store!.persistence.layout.captureRulesFile;
    const kept = () => (JSON.parse(fs.readFileSync(file, 'utf8')) as { rules: { excludes: string[]; maxFileSize: number } }).rules;
    assert.deepEqual(kept(), { ...api.store!.persistence.captureRules, excludes: [...api.store!.persistence.captureRules.excludes] });
    const limits = () => (JSON.parse(fs.readFileSync(api.store!.persistence.layout.retentionFile, 'utf8')) as { retention: { maxRecoveryPoints: number; maxAgeDays: number } }).retention;
    assert.deepEqual(limits(), { ...api.store!.recovery.retentionPolicy });
    await setSetting('exclude', ['data/**']);
    await setSetting('maxFileSizeMB', 3);
    await setSetting('maxPoints', 1234);
    await setSetting('maxAgeDays', 90);
    await waitFor('the rules kept in the store to follow the settings', () => (kept().excludes.includes('data/**') && kept().maxFileSize === 3 * 1024 * 1024) || undefined);
    await waitFor('the limits kept in the store to follow the settings', () => (limits().maxRecoveryPoints === 1234 && limits().maxAgeDays === 90) || undefined);
  });

  test('a limit setting mistyped (empty, null, negative, a fraction of a point) is its default, with a warning; 0 sets no limit; clean-up removes nothing for it', async () => {
    for (let i = 0; i < 3; i++) await createPoint(api);
    const before = (await listPoints(api)).length;
    api.prompts.reset();
    await setSetting('maxPoints', '');
    await setSetting('maxFileSizeMB', -1);
    await waitFor('the warning', () => api.prompts.notifications.find((n) => n.message.includes('recoveryPoints.maxFileSizeMB is -1')));
    const said = api.prompts.notifications.map((n) => n.message).join('\n');
    assert.match(said, /recoveryPoints\.maxPoints is "", not a whole number of 0 or more: 500 is used/);
    assert.equal(api.store!.recovery.retentionPolicy.maxRecoveryPoints, 500);
    // a fraction of a point would keep none but the newest
    api.prompts.reset();
    await setSetting('maxPoints', 0.5);
    await waitFor('the warning', () => api.prompts.notifications.find((n) => n.message.includes('recoveryPoints.maxPoints is 0.5, not a whole number of 0 or more: 500 is used')));
    assert.equal(api.store!.recovery.retentionPolicy.maxRecoveryPoints, 500);
    assert.equal(api.store!.persistence.captureRules.maxFileSize, 10 * 1024 * 1024);
    await run('cleanup');
    assert.equal((await listPoints(api)).length, before, 'nothing removed for a mistyped limit');
    await setSetting('maxPoints', 0);
    await setSetting('maxFileSizeMB', 0);
    assert.ok(api.store!.recovery.retentionPolicy.maxRecoveryPoints > 1_000_000, '0: no limit on points');
    assert.equal(api.store!.persistence.captureRules.maxFileSize, 4096 * 1024 * 1024, '0: no limit on a file\'s size (4 GB at most)');
    await setSetting('maxPoints', undefined);
    await setSetting('maxFileSizeMB', undefined);
    // a malformed exclude glob is left out, and said so
    api.prompts.reset();
    await setSetting('exclude', ['[', 'data/**']);
    await waitFor('the warning', () => api.prompts.notifications.find((n) => n.message.includes('recoveryPoints.exclude pattern "["')));
    assert.deepEqual(api.store!.persistence.captureRules.excludes, ['data/**']);
    await setSetting('exclude', undefined);
  });

  test('Show Log opens the "Recovery Points" output, which logged the activation time', async () => {
    await run('showLog');
    const text = await waitFor('the Recovery Points log in an editor', () =>
      vscode.window.visibleTextEditors.map((e) => e.document).find((d) => d.uri.scheme === 'output' && /\[activation\] Ready in \d+ ms/.test(d.getText()))?.getText(),
    );
    const ms = /\[activation\] Ready in (\d+) ms/.exec(text)![1];
    console.log(`    (the extension logged "Ready in ${ms} ms")`);
  });

  test('Show Statistics shows, in a modal, how far back history goes, the disk it takes and the limits, and returns the numbers', async () => {
    await createPoint(api, 'one');
    api.prompts.answerNext({ cancel: true });
    const stats = await run<{ points: number; labelledPoints: number; diskBytes: number; summary: string[] }>('showStats');
    assert.equal(stats.points, (await listPoints(api)).length);
    assert.equal(stats.labelledPoints, 1);
    assert.ok(stats.diskBytes > 0);
    const shown = api.prompts.history.at(-1);
    assert.equal(shown?.text, 'Recovery Points');
    assert.match(stats.summary[0]!, new RegExp(`^History goes back to .+ \\(just now\\): ${stats.points} recovery points, 1 labelled\\.$`));
    assert.match(stats.summary[1]!, /^They take \d+(\.\d)? [KMG]?B on disk; full copies of the same files would take /);
    assert.match(stats.summary[2]!, /^Clean-up keeps at most 500 points, for 30 days, in up to 2\.0 GB; labelled points are always kept/);
    assert.ok(stats.summary.every((line) => !/\d ms\b/.test(line)), 'timings stay in the log');
  });

  test('Compare with Recovery Point… opens a diff whose left side is the point\'s version (recovery-point: document)', async () => {
    const point = await createPoint(api, 'original');
    writeFile('src/greeting.ts', 'export const changed = true;\n');
    await settle(api);

    // From the explorer (a file URI): pick the version, by its point.
    api.prompts.answerNext({ pick: 'original' });
    await run('compare', wsUri('src/greeting.ts'));
    const diff = await waitFor('a diff editor', () => activeDiff());
    assert.equal(diff.original.scheme, 'recovery-point');
    assert.equal(diff.original.query, point.id);
    assert.equal(diff.original.path, `/${pointPath('src/greeting.ts')}`);
    assert.equal((await vscode.workspace.openTextDocument(diff.original)).getText(), fixtureText('src/greeting.ts'));
    assert.equal(diff.modified.fsPath, wsUri('src/greeting.ts').fsPath, 'the right side is the current file');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');

    // From the palette with no editor open: pick the point, then one of the files that differ.
    api.prompts.answerNext({ pick: 'original' }, { pick: 'greeting.ts' });
    await run('compare');
    const again = await waitFor('a diff editor', () => activeDiff());
    assert.equal(again.original.query, point.id);
    assert.deepEqual(api.prompts.history.at(-1)?.choices, ['src/greeting.ts'], 'only the file that differs is offered');
  });

  test('Compare with Recovery Point… with no file open, after a folder rename: each renamed file offered once, under its path now, compared with where it was', async () => {
    await setSetting('automatic.enabled', false);
    await settle(api);
    writeFile('src/old/a.ts', 'a\n');
    writeFile('src/old/b.ts', 'b\n');
    const point = await createPoint(api, 'before the rename');
    fs.renameSync(wsUri('src/old').fsPath, wsUri('src/new').fsPath);
    writeFile('src/new/b.ts', 'b edited\n');
    await settle(api);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    api.prompts.answerNext({ pick: 'before the rename' }, { pick: 'src/new/b.ts' });
    await run('compare');
    const offered = api.prompts.history.at(-1)!;
    assert.deepEqual(offered.choices, ['src/new/a.ts', 'src/new/b.ts'], 'not under src/old as well');
    const diff = await waitFor('a diff editor', () => activeDiff());
    assert.equal(diff.original.query, point.id);
    assert.equal((await vscode.workspace.openTextDocument(diff.original)).getText(), 'b\n', 'the left side is the file where it was then');
    assert.equal(diff.modified.fsPath, wsUri('src/new/b.ts').fsPath);
  });

  test('Undo Last Restore with nothing to undo changes nothing', async () => {
    const before = await listPoints(api);
    assert.equal(await run('undoRestore'), undefined);
    assert.deepEqual(await newPoints(api, before), []);
    assert.equal(fs.readFileSync(wsUri('src/greeting.ts').fsPath, 'utf8'), fixtureText('src/greeting.ts'));
  });

  test('Refresh lists a point written to the store behind the view\'s back', async () => {
    const made = await api.store!.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'from elsewhere' });
    await run('refresh');
    assert.ok(api.model!.find(made!.id), 'the model lists the point');
    assert.ok(await pointNode(api, made!.id), 'the tree shows it');
  });
});
