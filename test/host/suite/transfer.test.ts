// Moving history in the real extension host: Export/Import Recovery Points… through their dialogs,
// and continuing the history of a moved folder found in the real workspace-storage folders.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportBundle, RecoveryStore, type RestoreResult } from '../../../src/core';
import { recordedPointIds } from '../../core/helpers/storePoints';
import { assertPromptsUsed, EXTENSION_ID, FIXTURE, getApi, listPoints, pointNode, resetAll, run, settle, store, workspaceFolder, writeFile, wsFile, type Api } from './helpers';

suite('moving history', () => {
  let api: Api;
  const made: string[] = [];
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(async () => {
    await resetAll(api);
  });
  teardown(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    assertPromptsUsed(api);
  });

  function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
  }

  test('Export Recovery Points… then Import Recovery Points… brings back a deleted point; a damaged bundle changes nothing', async () => {
    writeFile('src/notes.txt', 'exported version\n');
    const point = (await store(api).recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'to export' }))!;
    await api.model!.refresh();
    const bundle = path.join(tempDir('rp-host-bundle-'), 'history.rpbundle');
    api.prompts.answerNext({ pickMany: 'all' }, { file: bundle });
    const exported = await run<{ points: string[] }>('export');
    assert.equal(exported.points.length, 2);
    assert.ok(fs.statSync(bundle).size > 0);
    assert.equal(api.prompts.history[1]!.kind, 'file');

    await store(api).recovery.deletePoints([point.id]);
    api.prompts.answerNext({ file: bundle });
    const imported = await run<{ added: string[]; skipped: string[] }>('import');
    assert.deepEqual(imported.added, [point.id]);
    assert.equal(imported.skipped.length, 1);
    const listed = await listPoints(api);
    assert.equal(listed.find((p) => p.id === point.id)?.label, 'to export');
    assert.ok(api.model!.find(point.id), 'the view lists the imported point');

    const damaged = fs.readFileSync(bundle);
    damaged[Math.floor(damaged.length / 2)]! ^= 0x40;
    fs.writeFileSync(bundle, damaged);
    await store(api).recovery.deletePoints([point.id]);
    api.prompts.answerNext({ file: bundle });
    assert.equal(await run('import'), undefined, 'the error is shown, not thrown');
    assert.ok(!(await listPoints(api)).some((p) => p.id === point.id), 'nothing was imported');
  });

  /**
   * Beside this window's storage folder: the storage folder of a folder that no longer exists (it was
   * moved), naming it in workspace.json and meta.json, with a store made from this folder's files.
   */
  async function movedFolderStore(): Promise<{ storeDir: string; oldFolder: string; ids: string[] }> {
    const workspaceStorage = path.dirname(path.dirname(store(api).persistence.layout.root));
    const workspaceDir = fs.mkdtempSync(path.join(workspaceStorage, 'rp-moved-'));
    made.push(workspaceDir);
    const oldFolder = path.join(tempDir('rp-host-old-'), 'old-app');
    fs.cpSync(FIXTURE, oldFolder, { recursive: true });
    fs.writeFileSync(path.join(workspaceDir, 'workspace.json'), JSON.stringify({ folder: pathToFileURL(oldFolder).href }));
    fs.writeFileSync(path.join(workspaceDir, 'meta.json'), JSON.stringify({ id: path.basename(workspaceDir), name: 'old-app' }));
    const storeDir = path.join(workspaceDir, EXTENSION_ID);
    const old = await RecoveryStore.open({ storeDir, roots: [{ name: 'old-app', path: oldFolder }], actor: 'test:old-window' });
    const ids: string[] = [];
    try {
      ids.push((await old.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'old history' }))!.id);
      fs.writeFileSync(path.join(oldFolder, 'README.md'), `${fs.readFileSync(path.join(FIXTURE, 'README.md'), 'utf8')}\nedited before the move\n`);
      ids.push((await old.recovery.createRecoveryPoint())!.id);
      fs.writeFileSync(path.join(oldFolder, 'README.md'), fs.readFileSync(path.join(FIXTURE, 'README.md')));
      ids.push((await old.recovery.createRecoveryPoint())!.id);
    } finally {
      await old.close();
    }
    fs.rmSync(oldFolder, { recursive: true });
    return { storeDir, oldFolder, ids };
  }

  /** Another project whose folder has this one's name, elsewhere: its point, exported and imported here through Import Recovery Points…; its id. */
  async function importOtherProject(): Promise<string> {
    const other = path.join(tempDir('rp-host-other-project-'), workspaceFolder().name);
    fs.mkdirSync(path.join(other, 'src'), { recursive: true });
    fs.writeFileSync(path.join(other, 'src', 'greeting.ts'), 'export const otherProject = 1;\n');
    fs.writeFileSync(path.join(other, 'src', 'only-there.ts'), 'export const onlyThere = 1;\n');
    const otherStore = await RecoveryStore.open({ storeDir: tempDir('rp-host-other-store-'), roots: [{ name: workspaceFolder().name, path: other }], actor: 'test:other' });
    const bundle = path.join(tempDir('rp-host-bundle-'), 'other.rpbundle');
    let imported: string;
    try {
      imported = (await otherStore.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'other project' }))!.id;
      await exportBundle(otherStore, bundle);
    } finally {
      await otherStore.close();
    }
    api.prompts.answerNext({ file: bundle });
    assert.deepEqual((await run<{ added: string[] }>('import')).added, [imported]);
    await api.model!.refresh();
    return imported;
  }

  test('restoring a point of another project\'s history (a bundle imported) does not say its files will be "changed back": they never had those versions here', async () => {
    const imported = await importOtherProject();

    api.prompts.answerNext({ cancel: true });
    assert.equal(await run('restore', await pointNode(api, imported)), undefined);
    const review = api.prompts.history.at(-1)!;
    assert.equal(review.kind, 'pickMany');
    const said = new Map(review.items!.map((item) => [item.label, item.description]));
    assert.equal(said.get('src/greeting.ts'), 'will be replaced by the point\'s version');
    assert.equal(said.get('src/only-there.ts'), 'will be created from the point');
    assert.deepEqual([...said.values()].filter((what) => /changed back|will be restored/.test(what ?? '')), [], `no file said to come back (${JSON.stringify([...said])})`);

    // a point of this folder's own history: its versions were here
    writeFile('src/greeting.ts', 'export const editedHere = 1;\n');
    // its point made (a restore planned against the newest point before the edit was seen would find nothing to restore)
    await settle(api);
    const own = (await listPoints(api)).find((p) => p.summary === 'Test baseline')!;
    api.prompts.answerNext({ cancel: true });
    assert.equal(await run('restore', await pointNode(api, own.id)), undefined);
    assert.equal(new Map(api.prompts.history.at(-1)!.items!.map((item) => [item.label, item.description])).get('src/greeting.ts'), 'will be changed back');
  });

  test('restoring a point of another project\'s history (a bundle imported) deletes exactly the files its review listed; the files it leaves are named, with why, and stay', async () => {
    // this folder's files older than the other project's point by more than their clock's coarseness
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const imported = await importOtherProject();
    writeFile('src/made-here.ts', 'export const madeHere = 1;\n');
    await settle(api);

    api.prompts.answerNext({ pickMany: 'all' });
    const result = await run<RestoreResult>('restore', await pointNode(api, imported));
    const review = api.prompts.history.find((q) => q.kind === 'pickMany')!;
    const deletions = review.items!.filter((item) => item.description === 'will be deleted (kept in the safety point)').map((item) => item.label);
    assert.deepEqual(deletions, ['src/made-here.ts']);
    assert.match(review.text, /left as (it is|they are): the point was made in another folder, which did not hold it/);
    assert.doesNotMatch(review.text, /left as (it is|they are):.*left as it is/, 'said once');
    const folder = workspaceFolder().name;
    assert.deepEqual(result.outcome.removed, deletions.map((p) => `${folder}/${p}`), 'deleted: what the review listed');
    // the restore changes only what the review listed (within): the files it named as left are not looked at again
    assert.deepEqual([...result.outcome.written].sort(), review.items!.filter((item) => !deletions.includes(item.label)).map((item) => `${folder}/${item.label}`).sort(), 'written: what the review listed');
    assert.ok(fs.existsSync(wsFile('src/farewell.ts')), 'a file of this folder the review named as left is still there');
    assert.ok(!fs.existsSync(wsFile('src/made-here.ts')));
  });

  test('the store of a moved folder is offered in one notification and adopted on "Continue History"', async () => {
    const moved = await movedFolderStore();
    api.prompts.answerNext({ button: 'Continue History' });
    const result = await api.movedHistory!.offer();
    assert.ok(result, 'the history was adopted');
    assert.deepEqual(result.adopted, moved.ids);
    const question = api.prompts.history[0]!;
    assert.equal(question.kind, 'message');
    assert.match(question.text, /old-app, which was moved or renamed \(100 % of the files match\)\. Continue its history here \(3 recovery points\)\?/);
    const listed = await listPoints(api);
    for (const id of moved.ids) assert.ok(listed.some((p) => p.id === id), `point ${id} is listed here`);
    assert.ok(api.model!.find(moved.ids[0]!), 'the view shows the adopted points');
    assert.ok((await store(api).recovery.verify()).ok, 'the store is healthy after the adoption');
    // the old storage folder: no points, no packs, a marker naming this store
    assert.equal(JSON.parse(fs.readFileSync(path.join(moved.storeDir, 'moved.json'), 'utf8')).movedTo, store(api).persistence.layout.root);
    assert.deepEqual(fs.readdirSync(path.join(moved.storeDir, 'objects')).filter((n) => n.endsWith('.pack')), []);
    assert.deepEqual(fs.readdirSync(path.join(moved.storeDir, 'points')).filter((n) => n !== 'index.json' && n !== 'index.journal'), []);
    assert.equal(recordedPointIds(moved.storeDir).length, 0);
    // offered once: nothing is left to offer
    assert.equal(await api.movedHistory!.offer(), undefined);
  });

  test('a store whose window is still open is never offered; "Not Now" changes nothing', async () => {
    const moved = await movedFolderStore();
    // a live window holds vscode.lock in that storage folder (touched every second): not offered, not asked
    const lock = path.join(path.dirname(moved.storeDir), 'vscode.lock');
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, willReleaseAt: 0 }));
    assert.equal(await api.movedHistory!.offer(), undefined);
    assert.equal(api.prompts.history.length, 0, 'no question');

    fs.rmSync(lock);
    api.prompts.answerNext({ button: 'Not Now' });
    assert.equal(await api.movedHistory!.offer(), undefined);
    assert.equal(api.prompts.history.length, 1);
    assert.ok(!(await listPoints(api)).some((p) => moved.ids.includes(p.id)));
    assert.equal(recordedPointIds(moved.storeDir).length, 3);
    assert.ok(!fs.existsSync(path.join(moved.storeDir, 'moved.json')));
  });

  const DAY = 24 * 60 * 60 * 1000;

  /** The start-up offer as activation makes it for a folder that had no history; the questions it asked. */
  async function startUp(daysLater = 0): Promise<string[]> {
    const asked = api.prompts.history.length;
    api.movedHistory!.now = () => Date.now() + daysLater * DAY;
    try {
      await api.movedHistory!.atStartup(false);
    } finally {
      api.movedHistory!.now = Date.now;
    }
    return api.prompts.history.slice(asked).map((q) => q.text);
  }

  test('at start-up, "Not Now" is remembered for that store: not asked on the next starts, asked again a week later; another moved store is still offered', async () => {
    const first = await movedFolderStore();
    api.prompts.answerNext({ button: 'Not Now' });
    assert.equal((await startUp()).length, 1, 'asked at the first start');
    assert.equal(api.movedHistory!.lastOffer?.storeDir, first.storeDir);
    assert.deepEqual(await startUp(), [], 'not asked at the next start');
    assert.deepEqual(await startUp(6), [], 'nor six days later');

    const second = await movedFolderStore();
    api.prompts.answerNext({ button: 'Not Now' });
    assert.equal((await startUp()).length, 1, 'another store is offered');
    assert.equal(api.movedHistory!.lastOffer?.storeDir, second.storeDir);

    api.prompts.answerNext({ button: 'Not Now' });
    assert.equal((await startUp(8)).length, 1, 'asked again a week later');
    assert.equal(await api.movedHistory!.atStartup(true), undefined, 'a folder that had history is never offered one');
    assert.ok(!(await listPoints(api)).some((p) => first.ids.includes(p.id) || second.ids.includes(p.id)), 'nothing was adopted');
  });

  test('at start-up, "Don\'t Ask Again" is never asked again for that store, even a year later', async () => {
    const moved = await movedFolderStore();
    api.prompts.answerNext({ button: "Don't Ask Again" });
    const asked = await startUp();
    assert.equal(asked.length, 1);
    assert.deepEqual(api.prompts.history[0]!.choices, ['Continue History', 'Not Now', "Don't Ask Again"]);
    assert.deepEqual(await startUp(), []);
    assert.deepEqual(await startUp(365), [], 'not a year later either');
    assert.equal(recordedPointIds(moved.storeDir).length, 3, 'the old store is left as it was');
  });
});
