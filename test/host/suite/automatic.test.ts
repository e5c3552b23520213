// Automatic points (saves, changes on disk) and settings that take effect without a reload.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { lookupEntry } from '../../../src/core/capture';
import { PendingSaves } from '../../../src/core/state/pendingSaves';
import {
  assertPromptsUsed,
  createPoint,
  editAndSave,
  fileEventBarrier,
  getApi,
  listPoints,
  newPoints,
  openEditor,
  pointPath,
  pointText,
  readFile,
  resetAll,
  run,
  setSetting,
  settle,
  treeChildren,
  waitFor,
  waitForNewPoint,
  writeFile,
  wsFile,
  type Api,
} from './helpers';

suite('automatic points', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  test('a save creates exactly one point, naming the file and holding its new content', async () => {
    await setSetting('mergeWindowSeconds', 0.2);
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', 'export const saved = 1;\n');
    const point = await waitForNewPoint(api, before);
    assert.equal(point.trigger, 'save');
    assert.equal(point.summary, 'Saved greeting.ts');
    assert.deepEqual(point.changes, { added: 0, modified: 1, deleted: 0 });
    assert.equal(await pointText(point.id, 'src/greeting.ts'), 'export const saved = 1;\n');
    await settle(api);
    assert.equal((await newPoints(api, before)).length, 1, 'one point: the save is not also recorded as a change outside the editor');
  });

  test('saves within the merge window become one point naming every file', async () => {
    // A window no load outlasts, ended by the status bar's command: a 2 s window ran out between two
    // saves on a loaded machine (each save restarts it; opening an editor took longer). The window
    // ending by itself is the first test's.
    await setSetting('mergeWindowSeconds', 600);
    await setSetting('mergeWindowMaxSeconds', 600);
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', 'export const a = 1;\n');
    await editAndSave('src/notes.txt', 'edited notes\n');
    await editAndSave('src/farewell.ts', 'export const b = 2;\n');
    await fileEventBarrier(); // the saves' own file events have arrived (they are no change outside the editor)
    assert.deepEqual(await newPoints(api, before), [], 'nothing written yet: the merge window is open');
    const id = await run<string>('createPending');
    const point = await waitForNewPoint(api, before);
    assert.equal(point.id, id);
    assert.equal(point.trigger, 'save');
    assert.deepEqual(point.changes, { added: 0, modified: 3, deleted: 0 });
    for (const name of ['greeting.ts', 'notes.txt', 'farewell.ts']) assert.ok(point.summary.includes(name), `"${point.summary}" names ${name}`);
    await settle(api);
    assert.equal((await newPoints(api, before)).length, 1, 'one point for the whole batch');
    assert.equal(await run<string>('createPending'), undefined, 'nothing waits any more');
    assert.equal(api.prompts.notifications.at(-1)?.message, 'No changes were waiting for a recovery point.');
  });

  test('saves a killed window left on disk: at the next start those no point holds get their point, as saved though the disk changed since; the others are let go', async () => {
    await setSetting('mergeWindowSeconds', 0.2);
    const dir = api.store!.persistence.layout.pendingSavesDir;
    await createPoint(api, 'notes.txt as it is');
    const killed = new PendingSaves(dir, spawnSync('true').pid);
    const saved = 'export const savedBeforeTheKill = 1;\n';
    await killed.keep(wsFile('src/greeting.ts'), Buffer.from(saved), 0o100644);
    await killed.keep(wsFile('src/notes.txt'), Buffer.from(readFile('src/notes.txt')), 0o100644);
    await killed.keep(path.join(path.dirname(wsFile('.')), 'outside-the-workspace.ts'), Buffer.from('export const outside = 1;\n'), 0o100644);
    // the files changed on disk before the next start (a checkout): notes.txt's kept save is an older version a point holds
    const known = await listPoints(api);
    fs.writeFileSync(wsFile('src/greeting.ts'), 'export const checkedOut = 2;\n');
    fs.writeFileSync(wsFile('src/notes.txt'), 'notes as the checkout left them\n');
    await waitForNewPoint(api, known, (p) => p.trigger === 'external');
    await settle(api);
    const before = await listPoints(api);

    await api.auto!.startup();
    await settle(api);
    const made = await newPoints(api, before);
    const point = made.find((p) => p.summary === 'Saved greeting.ts before the editor stopped');
    assert.ok(point, `the point the killed window did not make (${made.map((p) => p.summary).join('; ')})`);
    assert.equal(point.trigger, 'save');
    assert.deepEqual(point.changes, { added: 0, modified: 1, deleted: 0 }, 'the save alone: notes.txt is in a point already, the file outside the workspace is no file of it');
    assert.equal(await pointText(point.id, 'src/greeting.ts'), saved);
    assert.equal(await pointText(point.id, 'src/notes.txt'), 'notes as the checkout left them\n', 'a kept save some point holds is no lost version');
    assert.equal(readFile('src/greeting.ts'), 'export const checkedOut = 2;\n', 'the disk is left as it is');
    assert.deepEqual(fs.readdirSync(dir).filter((name) => fs.readdirSync(path.join(dir, name)).length > 0), [], 'the kept saves are gone');
    const again = await listPoints(api);
    await api.auto!.startup();
    await settle(api);
    assert.deepEqual((await newPoints(api, again)).map((p) => p.summary), [], 'taken once');
  });

  test('saves a killed window left, when the store checks every file first (its capture rules changed): the point is named by all it holds, not as the saves alone', async () => {
    const dir = api.store!.persistence.layout.pendingSavesDir;
    const killed = new PendingSaves(dir, spawnSync('true').pid);
    await killed.keep(wsFile('src/greeting.ts'), Buffer.from('export const savedBeforeTheKill = 2;\n'), 0o100644);
    const before = await listPoints(api);
    // the rules differ from the newest point's: the next point scans every file, and finds the deletion made meanwhile
    await setSetting('exclude', ['nothing-is-here/**']);
    fs.rmSync(wsFile('src/farewell.ts'));
    await api.auto!.startup();
    await settle(api);
    const made = await newPoints(api, before);
    const point = made.find((p) => p.trigger === 'save');
    assert.ok(point, `the saves' point (${made.map((p) => p.summary).join('; ')})`);
    assert.deepEqual(point.changes, { added: 0, modified: 1, deleted: 1 });
    assert.equal(point.summary, 'Saved greeting.ts; changed outside the editor: farewell.ts', 'not "Saved greeting.ts before the editor stopped": it holds the deletion too');
    assert.equal(await pointText(point.id, 'src/greeting.ts'), 'export const savedBeforeTheKill = 2;\n');
  });

  test('the start-up point names files written since the editor opened (while the extension was starting) apart from those changed while it was closed', async () => {
    // the watcher would make its own point of the writes: the start-up scan is the one that finds them here
    await setSetting('automatic.onExternalChange', false);
    const before = await listPoints(api);
    fs.writeFileSync(wsFile('src/greeting.ts'), 'export const editedWhileClosed = 1;\n');
    const beforeOpening = new Date(Date.now() - process.uptime() * 1000 - 3_600_000);
    fs.utimesSync(wsFile('src/greeting.ts'), beforeOpening, beforeOpening);
    fs.writeFileSync(wsFile('src/notes.txt'), 'saved while the extension was starting\n');
    await api.auto!.startup();
    await settle(api);
    const made = await newPoints(api, before);
    assert.deepEqual(made.map((p) => [p.trigger, p.summary]), [['startup', 'Changed while the editor was closed: greeting.ts; since it opened: notes.txt']]);
  });

  test('a save waiting for its point is kept on disk until the point is made, except a file points leave out as holding secrets (.env)', async () => {
    await setSetting('mergeWindowSeconds', 600);
    await setSetting('mergeWindowMaxSeconds', 600);
    const dir = api.store!.persistence.layout.pendingSavesDir;
    const kept = () => (fs.existsSync(dir) ? fs.readdirSync(dir).flatMap((w) => fs.readdirSync(path.join(dir, w)).map((f) => fs.readFileSync(path.join(dir, w, f), 'utf8'))) : []);
    writeFile('.env', 'API_KEY=old\n');
    await settle(api);
    await editAndSave('.env', 'API_KEY=secret-value\n');
    await editAndSave('src/greeting.ts', 'export const keptUntilItsPoint = 1;\n');
    await waitFor('the save kept on disk', () => kept().some((record) => record.includes('keptUntilItsPoint')));
    assert.ok(!kept().some((record) => record.includes('secret-value')), 'the .env save is not written to the store');
    await run('createPending');
    await waitFor('the kept save let go once its point is made', () => !kept().some((record) => record.includes('keptUntilItsPoint')));
  });

  test('a save that changes nothing creates no point', async () => {
    await setSetting('mergeWindowSeconds', 0.2);
    const before = await listPoints(api);
    const editor = await openEditor('src/notes.txt');
    // Type a character and delete it again: the document is dirty, its text is what the disk holds.
    assert.ok(await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), 'x')));
    assert.ok(await editor.edit((edit) => edit.delete(new vscode.Range(0, 0, 0, 1))));
    const saved = new Promise<vscode.TextDocument>((resolve) => {
      const listener = vscode.workspace.onDidSaveTextDocument((doc) => {
        listener.dispose();
        resolve(doc);
      });
    });
    await vscode.commands.executeCommand('workbench.action.files.save');
    assert.equal((await saved).uri.fsPath, wsFile('src/notes.txt'), 'the save happened');
    await settle(api);
    assert.deepEqual(await newPoints(api, before), [], 'no point for a save that changed nothing');
  });

  test('a change made on disk outside the editor creates an external point', async () => {
    const before = await listPoints(api);
    fs.writeFileSync(wsFile('src/notes.txt'), 'written by another program\n');
    const point = await waitForNewPoint(api, before, (p) => p.trigger === 'external');
    assert.equal(point.summary, 'Changed outside the editor: notes.txt');
    assert.deepEqual(point.changes, { added: 0, modified: 1, deleted: 0 });
    assert.equal(await pointText(point.id, 'src/notes.txt'), 'written by another program\n');
  });

  test('a file changed on disk is read again once its racy window has passed, and kept in the capture cache (a restore then need not read it)', async () => {
    const before = await listPoints(api);
    fs.writeFileSync(wsFile('src/notes.txt'), 'written by another program, to be kept\n');
    const point = await waitForNewPoint(api, before, (p) => p.trigger === 'external');
    const [root, ...rel] = pointPath('src/notes.txt').split('/');
    const cache = await api.store!.persistence.captureCache();
    const objects = await api.store!.persistence.objects();
    const entry = await lookupEntry(objects, point.root, pointPath('src/notes.txt'));
    const stat = fs.lstatSync(wsFile('src/notes.txt'));
    // its point came 1.5 s after the change, within the window: it was not kept then
    const kept = await waitFor('the file to be kept in the capture cache', () => cache.lookup(root!, rel.join('/'), stat), 15_000);
    assert.equal(kept, entry!.hash, 'with the hash its point holds');
  });

  test('a file deleted beside a changed one is in the external point though the watcher missed its event (*.unwatched is in files.watcherExclude)', async () => {
    writeFile('src/old.unwatched', 'deleted by another program\n');
    const baseline = await createPoint(api, 'with old.unwatched');
    assert.equal(await pointText(baseline.id, 'src/old.unwatched'), 'deleted by another program\n');
    const before = await listPoints(api);
    fs.writeFileSync(wsFile('src/notes.txt'), 'written by another program\n');
    fs.rmSync(wsFile('src/old.unwatched'));
    const point = await waitForNewPoint(api, before, (p) => p.trigger === 'external');
    await settle(api);
    const diff = await api.store!.recovery.changedFiles(point.id);
    assert.deepEqual(diff.deleted.map((c) => c.path), [pointPath('src/old.unwatched')]);
    assert.deepEqual(diff.modified.map((c) => c.path), [pointPath('src/notes.txt')]);
    assert.equal((await newPoints(api, before)).length, 1, 'one point');
  });

  test('a change the file watcher never reported gets a point from the periodic full check (*.unwatched is in files.watcherExclude)', async () => {
    // in a folder of its own, whose point is made first: a late event elsewhere (the reset's) makes a
    // point that lists its own folder, which would find the file there too
    const known = await listPoints(api);
    writeFile('quiet/keep.txt', 'a folder no other change touches\n');
    await waitForNewPoint(api, known, (p) => p.summary.includes('keep.txt'));
    await settle(api);
    const before = await listPoints(api);
    writeFile('quiet/missed.unwatched', 'written where the watcher does not look\n');
    await settle(api);
    assert.deepEqual((await newPoints(api, before)).map((p) => p.summary), [], 'no event, no point yet');
    await setSetting('fullCheckMinutes', 0.05);
    const point = await waitForNewPoint(api, before);
    assert.equal(point.trigger, 'external');
    assert.equal(point.summary, 'Changed outside the editor: missed.unwatched');
    assert.deepEqual(point.changes, { added: 1, modified: 0, deleted: 0 });
    assert.equal(await pointText(point.id, 'quiet/missed.unwatched'), 'written where the watcher does not look\n');
    // the next checks find nothing new: no point
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    await settle(api);
    assert.equal((await newPoints(api, before)).length, 1, 'one point');
  });

  test('a change on disk right after a save of the same file is recorded (it is not taken for the save\'s echo)', async () => {
    await setSetting('mergeWindowSeconds', 0.2);
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', 'export const saved = 1;\n');
    const saved = await waitForNewPoint(api, before);
    fs.writeFileSync(wsFile('src/greeting.ts'), 'export const rewrittenByATool = 1;\n');
    const external = await waitForNewPoint(api, [...before, saved], (p) => p.trigger === 'external');
    assert.equal(await pointText(external.id, 'src/greeting.ts'), 'export const rewrittenByATool = 1;\n');
  });

  test('files edited on disk in folders just made with the folders around them (mkdir -p, a dot-folder too) get a point holding the edits', async () => {
    // On Linux the editor's watcher may never watch a folder made inside a new one (parcel-bundler/watcher#97):
    // several such folders, so that the test fails without the extension's own watches whichever ones it misses.
    const files = ['made', '.made', 'made2/deeper', 'made3', '.made4', 'made5'].map((folder) => `${folder}/hooks/first.sh`);
    const known = await listPoints(api);
    for (const rel of files) {
      writeFile(rel, 'echo first\n');
      writeFile(rel.replace('first', 'second'), 'echo second\n');
    }
    await waitFor('the points of the new files', async () => (await newPoints(api, known)).reduce((sum, p) => sum + p.changes.added, 0) === files.length * 2);
    await settle(api);
    const before = await listPoints(api);
    for (const rel of files) fs.writeFileSync(wsFile(rel), `echo ${rel} edited by hand\n`);
    const point = await waitFor('a point holding every edit', async () => {
      const newest = (await newPoints(api, before))[0];
      if (!newest) return undefined;
      const held = await Promise.all(files.map(async (rel) => (await pointText(newest.id, rel)) === `echo ${rel} edited by hand\n`));
      return held.every(Boolean) && newest;
    });
    assert.equal(point.trigger, 'external');
    await settle(api);
    const changed = (await newPoints(api, before)).reduce((sum, p) => sum + p.changes.modified, 0);
    assert.equal(changed, files.length, 'each edit is in a point once');
    // a folder made later in each of them: followed too
    const later = files.map((rel) => rel.replace('first.sh', 'later/third.sh'));
    const beforeThird = await listPoints(api);
    for (const rel of later) writeFile(rel, 'echo third\n');
    await waitFor('the points of the later files', async () => (await newPoints(api, beforeThird)).reduce((sum, p) => sum + p.changes.added, 0) === later.length);
    await settle(api);
    const beforeEdit = await listPoints(api);
    for (const rel of later) fs.writeFileSync(wsFile(rel), `echo ${rel} edited by hand\n`);
    await waitFor('a point holding every later edit', async () => {
      const newest = (await newPoints(api, beforeEdit))[0];
      if (!newest) return undefined;
      const held = await Promise.all(later.map(async (rel) => (await pointText(newest.id, rel)) === `echo ${rel} edited by hand\n`));
      return held.every(Boolean);
    });
  });

  test('many changes on disk at once (a branch switch) become one external point', async () => {
    const before = await listPoints(api);
    for (let i = 0; i < 30; i++) writeFile(`src/generated/file${i}.ts`, `export const n = ${i};\n`);
    fs.rmSync(wsFile('src/farewell.ts'));
    fs.writeFileSync(wsFile('src/greeting.ts'), 'export const checkedOut = true;\n');
    const point = await waitForNewPoint(api, before, (p) => p.trigger === 'external');
    await settle(api);
    const created = await newPoints(api, before);
    const changes = created.reduce((sum, p) => ({ added: sum.added + p.changes.added, modified: sum.modified + p.changes.modified, deleted: sum.deleted + p.changes.deleted }), { added: 0, modified: 0, deleted: 0 });
    assert.deepEqual(changes, { added: 30, modified: 1, deleted: 1 }, 'every change is recorded');
    assert.equal(created.length, 1, `one point, not ${created.length}: ${created.map((p) => p.summary).join(' | ')}`);
    assert.equal(point.id, created[0]!.id);
  });

  test('automatic.enabled=false: a save creates no point; turned on again, the next save does (no reload)', async () => {
    await setSetting('mergeWindowSeconds', 0.2);
    await setSetting('automatic.enabled', false);
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', 'export const off = 1;\n');
    fs.writeFileSync(wsFile('src/notes.txt'), 'changed on disk while off\n');
    await settle(api);
    assert.deepEqual(await newPoints(api, before), [], 'no automatic point while automatic points are off');

    // turned on again: a point keeps at once what changed while they were off
    await setSetting('automatic.enabled', true);
    const resumed = await waitForNewPoint(api, before);
    assert.equal(resumed.trigger, 'external');
    // a save and a change on disk alike: what is known is that they happened while points were off
    assert.match(resumed.summary, /^Changed while automatic points were off: (greeting\.ts, notes\.txt|notes\.txt, greeting\.ts)$/);
    assert.equal(await pointText(resumed.id, 'src/notes.txt'), 'changed on disk while off\n');
    assert.equal(await pointText(resumed.id, 'src/greeting.ts'), 'export const off = 1;\n');
    await editAndSave('src/greeting.ts', 'export const on = 1;\n');
    const point = await waitForNewPoint(api, [...before, resumed]);
    assert.equal(point.trigger, 'save');
  });

  test('turned off while a save waits for its point: the save is kept; a change on disk right after is not', async () => {
    await setSetting('mergeWindowSeconds', 600);
    await setSetting('mergeWindowMaxSeconds', 600);
    const before = await listPoints(api);
    const notes = readFile('src/notes.txt');
    await editAndSave('src/greeting.ts', 'export const savedBeforeOff = 1;\n');
    await setSetting('automatic.enabled', false);
    fs.writeFileSync(wsFile('src/notes.txt'), 'changed on disk right after turning off\n');
    await settle(api);
    const made = await newPoints(api, before);
    assert.deepEqual(made.map((p) => p.summary), ['Saved greeting.ts']);
    assert.equal(await pointText(made[0]!.id, 'src/greeting.ts'), 'export const savedBeforeOff = 1;\n');
    assert.equal(await pointText(made[0]!.id, 'src/notes.txt'), notes, 'the change made after turning off is in no point');
  });

  test('automatic.onSave=false: a save creates no point, not even as a change outside the editor', async () => {
    await setSetting('automatic.onSave', false);
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', 'export const noSavePoint = 1;\n');
    await settle(api);
    assert.deepEqual((await newPoints(api, before)).map((p) => p.summary), []);
  });

  test('exclude: the next point leaves out files matching the new glob (no reload)', async () => {
    const base = await createPoint(api, 'with notes');
    assert.ok((await api.store!.recovery.diff(base.id)).modified.length === 0);
    await setSetting('exclude', ['**/*.txt']);
    const point = await createPoint(api, 'without notes');
    assert.equal(point.fileCount, base.fileCount - 1);
    const diff = await api.store!.recovery.changedFiles(point.id);
    assert.deepEqual(diff.deleted.map((c) => c.path), [pointPath('src/notes.txt')], 'notes.txt is not in the new point');
    assert.equal(await pointText(point.id, 'src/greeting.ts'), fs.readFileSync(wsFile('src/greeting.ts'), 'utf8'));

    // Saving an excluded file makes no point either.
    await setSetting('mergeWindowSeconds', 0.2);
    const before = await listPoints(api);
    await editAndSave('src/notes.txt', 'excluded edit\n');
    await settle(api);
    assert.deepEqual(await newPoints(api, before), []);
  });

  test('respectGitignore: ignored files are left out, and captured once the setting is off (no reload)', async () => {
    writeFile('tmp/cache.log', 'ignored by .gitignore\n');
    await settle(api); // its file event is handled while the file is still ignored
    const ignored = await createPoint(api, 'respecting .gitignore');
    assert.equal((await api.store!.recovery.changedFiles(ignored.id)).added.length, 0, 'tmp/ is not captured');
    await setSetting('respectGitignore', false);
    const captured = await createPoint(api, 'ignoring .gitignore');
    assert.deepEqual((await api.store!.recovery.changedFiles(captured.id)).added.map((c) => c.path), [pointPath('tmp/cache.log')]);
  });

  test('the store folder removed while the window is open: the next save starts a new store, with every file, and says so', async () => {
    await setSetting('mergeWindowSeconds', 0.2);
    const storeDir = api.store!.persistence.layout.root;
    fs.rmSync(storeDir, { recursive: true, force: true });
    await editAndSave('src/greeting.ts', 'export const afterRemoval = 1;\n');
    const point = await waitFor('a point in the new store', async () => (await listPoints(api))[0]);
    await settle(api);
    assert.deepEqual((await listPoints(api)).map((p) => p.id), [point.id], 'the removed points are not listed');
    const days = await treeChildren(api);
    assert.equal(days.length, 1);
    assert.deepEqual((await treeChildren(api, days[0]!.node)).map((row) => row.node.kind === 'point' && row.node.point.id), [point.id], 'the view shows the new store\'s point alone');
    assert.equal(point.summary, 'First recovery point');
    assert.equal(point.changes.added, point.fileCount, 'every file, though the save named one');
    assert.equal(await pointText(point.id, 'src/greeting.ts'), 'export const afterRemoval = 1;\n');
    const warning = api.prompts.notifications.find((n) => n.message.includes('was removed while it was in use'));
    assert.equal(warning?.severity, 'warning');
    assert.equal(warning?.message, `Recovery Points: The recovery point store ${storeDir} was removed while it was in use, with every point it held; a new, empty store was started in its place.`);
    assert.ok(fs.existsSync(api.store!.persistence.layout.captureRulesFile), 'the window\'s capture rules are kept in the new store for the tool and the agents');
  });
});
