import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { StateError } from '../../src/core/errors';
import { readFileHistory } from '../../src/core/history/fileHistory';
import { StoreLock } from '../../src/core/lock/storeLock';
import { RecoveryStore } from '../../src/core/recoveryStore';
import { adoptStore, copyHistory, findFolderHistories, findMovedStores, folderFiles, matchScore, MOVED_MARKER, type FolderFiles } from '../../src/core/transfer';
import { cleanupAll, damageObject, exists, makeSandbox, packFiles, readFiles, writeFiles, type Sandbox } from './helpers/storeFixtures';
import { readClaims } from '../../src/core/state/pointPacks';

after(cleanupAll);

const stores: RecoveryStore[] = [];
after(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
});

async function open(storeDir: string, folder: string): Promise<RecoveryStore> {
  const store = await RecoveryStore.open({ storeDir, roots: [{ name: path.basename(folder), path: folder }], actor: 'test:adopt' });
  stores.push(store);
  return store;
}

async function currentFiles(store: RecoveryStore): Promise<FolderFiles> {
  return store.persistence.withCurrentTree((objects, root) => folderFiles(objects, root));
}

/** A project `my-app` with two points in store `old`, then moved to `my-app-2`, which has an empty store `new`. */
async function movedProject(): Promise<{ sb: Sandbox; oldStore: string; newStore: string; moved: string; firstId: string; firstFiles: Record<string, string> }> {
  const sb = await makeSandbox('rp-adopt-');
  const original = path.join(sb.root, 'my-app');
  await writeFiles(original, { 'README.md': '# app\n', 'src/a.ts': 'a\n', 'src/b.ts': 'b\n', 'src/c.ts': 'c\n' });
  const oldStore = path.join(sb.root, 'storage-1', 'ext');
  const before = await open(oldStore, original);
  const firstId = (await before.recovery.createRecoveryPoint())!.id;
  const firstFiles = await readFiles(original);
  await writeFiles(original, { 'src/a.ts': 'a, changed\n' });
  await before.recovery.createRecoveryPoint();
  await before.close();
  const moved = path.join(sb.root, 'my-app-2');
  await fs.rename(original, moved);
  return { sb, oldStore, newStore: path.join(sb.root, 'storage-2', 'ext'), moved, firstId, firstFiles };
}

/** A process that holds a store's lock until killed (the concurrency tests' store worker). */
async function holdLock(storeDir: string, workspace: string): Promise<ChildProcess> {
  const worker = path.join(__dirname, 'helpers', 'storeWorker.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', worker, 'hold', storeDir, workspace, 'holder', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

describe('adopting the store of a moved folder', () => {
  test('matching: a renamed folder matches by relative path and content, not by its name', () => {
    const current: FolderFiles = new Map([['my-app-2', new Map([['a', 'h1'], ['b', 'h2'], ['c', 'h3'], ['d', 'h4']])]]);
    const candidate: FolderFiles = new Map([['my-app', new Map([['a', 'h1'], ['b', 'h2'], ['c', 'other']])], ['docs', new Map([['a', 'h1']])]]);
    assert.deepEqual(matchScore(current, candidate), { matched: 2, total: 4, share: 0.5 });
    assert.equal(matchScore(current, new Map()).share, 0);
    assert.equal(matchScore(new Map(), candidate).share, 0);
  });

  test('a point of the old store that cannot be read stays there alone: the new store does not list it from the pack it shares', async () => {
    const sb = await makeSandbox('rp-adopt-');
    const original = path.join(sb.root, 'my-app');
    await writeFiles(original, { 'a.txt': 'one\n', 'b.txt': 'kept\n' });
    const oldStore = path.join(sb.root, 'storage-1', 'ext');
    const before = await open(oldStore, original);
    const first = (await before.recovery.createRecoveryPoint())!;
    await before.persistence.lock.run(() => before.persistence.settleManifests());
    await writeFiles(original, { 'a.txt': 'two\n' });
    const newest = (await before.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(original, 'a.txt')] }))!;
    await before.close();
    // the newest point is recorded by its pack alone, and its manifest there is damaged
    const claim = readClaims(path.join(oldStore, 'objects')).get(newest.id)!;
    assert.ok(claim);
    await damageObject(oldStore, claim.manifest);
    const moved = path.join(sb.root, 'my-app-2');
    await fs.rename(original, moved);
    const target = await open(path.join(sb.root, 'storage-2', 'ext'), moved);
    const result = await adoptStore(target.persistence, oldStore);
    assert.deepEqual([result.adopted, result.leftBehind], [[first.id], [newest.id]]);
    assert.deepEqual((await target.recovery.listRecoveryPoints()).map((p) => p.id), [first.id], 'the damaged point is listed where it stayed, not here');
    const report = await target.recovery.verify();
    assert.deepEqual(report.brokenPoints, [], 'nor reported broken here');
  });

  test('the store of the moved folder is found, adopted, and its points restore byte for byte in the new place', async () => {
    const p = await movedProject();
    const target = await open(p.newStore, p.moved);
    const found = await findMovedStores([p.oldStore, p.newStore], await currentFiles(target));
    assert.equal(found.length, 1);
    assert.equal(found[0]!.storeDir, p.oldStore);
    assert.deepEqual(found[0]!.recordedFolders, [path.join(p.sb.root, 'my-app')]);
    assert.deepEqual(found[0]!.score, { matched: 4, total: 4, share: 1 });
    const oldPacks = await packFiles(p.oldStore);
    const inodes = await Promise.all(oldPacks.map(async (f) => (await fs.stat(f)).ino));

    const result = await adoptStore(target.persistence, p.oldStore);
    assert.equal(result.adopted.length, 2);
    assert.deepEqual(result.leftBehind, []);
    const listed = await target.recovery.listRecoveryPoints();
    assert.deepEqual(listed.map((x) => x.id).reverse(), result.adopted);
    // moved, not copied: the same files (inodes) now in the new store, none left in the old one
    assert.deepEqual((await Promise.all((await packFiles(p.newStore)).map(async (f) => (await fs.stat(f)).ino))).sort(), inodes.sort());
    assert.deepEqual(await packFiles(p.oldStore), []);
    // the old location: no points, and a marker saying where they went
    const marker = JSON.parse(await fs.readFile(path.join(p.oldStore, MOVED_MARKER), 'utf8'));
    assert.equal(marker.movedTo, p.newStore);
    const oldAgain = await open(p.oldStore, path.join(p.sb.root, 'my-app'));
    assert.deepEqual(await oldAgain.recovery.listRecoveryPoints(), []);
    assert.ok((await oldAgain.recovery.verify()).ok);
    assert.ok((await target.recovery.verify()).ok);
    assert.deepEqual(await findMovedStores([p.oldStore], await currentFiles(target)), []);

    assert.ok((await target.persistence.audit.read()).some((e) => e.action === 'adopt'));
    // The points name the folder "my-app": mapping them onto a renamed folder is the restore plan's
    // work (issue #10's first part); here the folder is opened under the points' name.
    await target.close();
    const renamed = await RecoveryStore.open({ storeDir: p.newStore, roots: [{ name: 'my-app', path: p.moved }], actor: 'test:adopt' });
    stores.push(renamed);
    await renamed.recovery.restore(p.firstId);
    assert.deepEqual(await readFiles(p.moved), p.firstFiles);
  });

  test('the old store\'s last restore comes along with its safety point: Undo Last Restore undoes it in the moved folder', async () => {
    const sb = await makeSandbox('rp-adopt-');
    const original = path.join(sb.root, 'my-app');
    await writeFiles(original, { 'src/a.ts': 'a\n', 'src/b.ts': 'b\n' });
    const oldStore = path.join(sb.root, 'storage-1', 'ext');
    const before = await open(oldStore, original);
    const firstId = (await before.recovery.createRecoveryPoint())!.id;
    await writeFiles(original, { 'src/a.ts': 'a, changed\n', 'src/new.ts': 'new\n' });
    const edited = await readFiles(original);
    await before.recovery.restore(firstId);
    await before.close();
    const moved = path.join(sb.root, 'my-app-2');
    await fs.rename(original, moved);

    const target = await open(path.join(sb.root, 'storage-2', 'ext'), moved);
    await target.recovery.createRecoveryPoint(undefined, { trigger: 'startup' });
    assert.equal((await target.state.getState()).lastRestore, null);
    const result = await adoptStore(target.persistence, oldStore, { state: target.state });
    assert.equal(result.lastRestore?.restoredPointId, firstId);
    assert.equal((await target.state.getState()).lastRestore?.restoredPointId, firstId);
    assert.notDeepEqual(await readFiles(moved), edited);
    await target.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(moved), edited);
  });

  test('a first point made in the moved folder before its history was continued is shown as what changed since that history, not as a first point of every file', async () => {
    const p = await movedProject();
    await writeFiles(p.moved, { 'src/b.ts': 'b, changed while closed\n' });
    const target = await open(p.newStore, p.moved);
    const startup = (await target.recovery.createRecoveryPoint(undefined, { trigger: 'startup' }))!;
    assert.equal(startup.summary, 'First recovery point');
    await adoptStore(target.persistence, p.oldStore);
    const shown = await target.recovery.listShownPoints();
    assert.equal(shown.length, 3);
    assert.equal(shown[0]!.id, startup.id);
    assert.equal(shown[0]!.summary, 'Moved my-app \u2192 my-app-2; changed while the editor was closed: b.ts');
    assert.deepEqual(shown[0]!.changes, { added: 0, modified: 1, deleted: 0 });
    assert.deepEqual((await target.recovery.changedFiles(startup.id)).modified.map((c) => c.path), ['my-app-2/src/b.ts']);
    // a file's history (the command-line tool's `log`, the agents' file_history) names it so too
    const history = await readFileHistory(target, 'my-app-2/src/b.ts', { lineCounts: false });
    assert.equal(history.versions[0]!.point.id, startup.id);
    assert.equal(history.versions[0]!.point.summary, 'Moved my-app \u2192 my-app-2; changed while the editor was closed: b.ts');
  });

  test('not offered: a folder that still holds its files, a store of other files, an empty store', async () => {
    const p = await movedProject();
    const target = await open(p.newStore, p.moved);
    // the old folder is back (a copy, not a move): its store stays its own
    await fs.cp(p.moved, path.join(p.sb.root, 'my-app'), { recursive: true });
    assert.deepEqual(await findMovedStores([p.oldStore], await currentFiles(target)), []);
    await fs.rm(path.join(p.sb.root, 'my-app'), { recursive: true });
    // other content: under half of the current files match
    await writeFiles(p.moved, { 'src/a.ts': 'x\n', 'src/b.ts': 'y\n', 'src/c.ts': 'z\n' });
    assert.deepEqual(await findMovedStores([p.oldStore], await currentFiles(target)), []);
    await writeFiles(p.moved, { 'src/b.ts': 'b\n', 'src/c.ts': 'c\n' });
    assert.equal((await findMovedStores([p.oldStore], await currentFiles(target))).length, 1);
    // an empty store and a missing folder are passed over
    await fs.mkdir(path.join(p.sb.root, 'storage-3', 'ext', 'points'), { recursive: true });
    assert.equal((await findMovedStores([path.join(p.sb.root, 'storage-3', 'ext'), path.join(p.sb.root, 'nowhere'), p.oldStore], await currentFiles(target))).length, 1);
  });

  test('refused while a live process holds the old store\'s lock; nothing moves; adopted once it lets go', async () => {
    const p = await movedProject();
    const target = await open(p.newStore, p.moved);
    const holder = await holdLock(p.oldStore, p.moved);
    try {
      await assert.rejects(adoptStore(target.persistence, p.oldStore), (e: unknown) => e instanceof StateError && /in use by another window/.test(e.message));
      assert.deepEqual(await target.recovery.listRecoveryPoints(), []);
      assert.equal((await packFiles(p.oldStore)).length, 2);
      assert.ok(!(await exists(path.join(p.oldStore, MOVED_MARKER))));
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    // the lock a killed holder left names a dead owner: it is not "held", and adoption takes it over at once
    assert.equal((await adoptStore(target.persistence, p.oldStore)).adopted.length, 2);
  });

  test('refused while a clean-up of the old store is between its slices (it holds only the collection lock then)', async () => {
    const p = await movedProject();
    const target = await open(p.newStore, p.moved);
    const collecting = new StoreLock(p.oldStore, { name: 'collection.lock' });
    await collecting.run(async () => {
      await assert.rejects(adoptStore(target.persistence, p.oldStore), (e: unknown) => e instanceof StateError && /in use by another window/.test(e.message));
      assert.equal((await packFiles(p.oldStore)).length, 2);
    });
    assert.equal((await adoptStore(target.persistence, p.oldStore)).adopted.length, 2);
  });

  test('an adoption run again after it was interrupted completes it without listing a point twice', async () => {
    const p = await movedProject();
    const target = await open(p.newStore, p.moved);
    await fs.mkdir(path.join(p.newStore, 'objects'), { recursive: true });
    // interrupted after the packs were linked and the points listed here, before the old store let go
    for (const pack of await packFiles(p.oldStore)) await fs.link(pack, path.join(p.newStore, 'objects', path.basename(pack)));
    for (const name of (await fs.readdir(path.join(p.oldStore, 'points'))).filter((n) => n !== 'index.json')) {
      await fs.copyFile(path.join(p.oldStore, 'points', name), path.join(p.newStore, 'points', name));
    }
    const result = await adoptStore(target.persistence, p.oldStore);
    assert.equal(result.adopted.length, 0);
    assert.equal(result.alreadyHere.length, 2);
    assert.equal((await target.recovery.listRecoveryPoints()).length, 2);
    assert.deepEqual(await packFiles(p.oldStore), []);
    assert.ok((await target.recovery.verify()).ok);
  });
});

describe('the same folder in a window of another shape', () => {
  /** `app` opened on its own (store `alone`), then with `lib` in a workspace of two folders (store `both`, its first point only). */
  async function reshaped(): Promise<{ sb: Sandbox; app: string; lib: string; alone: string; both: string; aloneIds: string[]; firstFiles: Record<string, string> }> {
    const sb = await makeSandbox('rp-shape-');
    const app = path.join(sb.root, 'app');
    const lib = path.join(sb.root, 'lib');
    await writeFiles(app, { 'a.ts': 'a one\n', 'src/b.ts': 'b\n' });
    await writeFiles(lib, { 'l.ts': 'lib\n' });
    const alone = path.join(sb.root, 'storage-alone', 'ext');
    const store = await open(alone, app);
    const aloneIds = [(await store.recovery.createRecoveryPoint())!.id];
    const firstFiles = await readFiles(app);
    await writeFiles(app, { 'a.ts': 'a two\n' });
    aloneIds.push((await store.recovery.createRecoveryPoint())!.id);
    await store.close();
    const both = path.join(sb.root, 'storage-both', 'ext');
    const workspace = await RecoveryStore.open({ storeDir: both, roots: [{ name: 'app', path: app }, { name: 'lib', path: lib }], actor: 'test:shape' });
    await workspace.recovery.createRecoveryPoint();
    await workspace.close();
    return { sb, app, lib, alone, both, aloneIds, firstFiles };
  }

  test('found by the real path of a folder its newest point holds, newest history first; other folders, moved histories and empty stores are not', async () => {
    const { sb, app, lib, alone, both } = await reshaped();
    const other = path.join(sb.root, 'storage-other', 'ext');
    const elsewhere = path.join(sb.root, 'elsewhere');
    await writeFiles(elsewhere, { 'x.txt': 'x\n' });
    const otherStore = await open(other, elsewhere);
    await otherStore.recovery.createRecoveryPoint();
    const empty = path.join(sb.root, 'storage-empty', 'ext');
    await open(empty, app);
    const link = path.join(sb.root, 'app-link');
    await fs.symlink(app, link);
    const found = await findFolderHistories([alone, both, other, empty], [link]);
    assert.deepEqual(found.map((f) => [f.storeDir, f.folders, f.points]), [
      [both, [link], 1],
      [alone, [link], 2],
    ]);
    assert.deepEqual(found[0]!.recordedFolders, [app, lib]);
    await writeFiles(alone, { [MOVED_MARKER]: JSON.stringify({ schemaVersion: 1, movedTo: both, at: new Date().toISOString(), points: 2 }) });
    assert.deepEqual((await findFolderHistories([alone, both], [lib])).map((f) => f.storeDir), [both]);
    assert.deepEqual(await findFolderHistories([alone], [app]), [], 'a history moved away is not offered');
  });

  test('copied into the workspace\'s store: its points restore there byte for byte, the other window keeps them, and a second copy adds nothing', async () => {
    const { app, alone, both, aloneIds, firstFiles } = await reshaped();
    const workspace = await RecoveryStore.open({ storeDir: both, roots: [{ name: 'app', path: app }, { name: 'lib', path: path.join(path.dirname(app), 'lib') }], actor: 'test:shape' });
    stores.push(workspace);
    const own = (await workspace.recovery.listRecoveryPoints()).map((p) => p.id);
    const copied = await copyHistory(workspace, alone);
    assert.deepEqual(copied.added, aloneIds);
    assert.deepEqual((await workspace.recovery.listRecoveryPoints()).map((p) => p.id).sort(), [...own, ...aloneIds].sort());
    assert.deepEqual(await fs.readdir(workspace.persistence.layout.cacheDir).then((names) => names.filter((n) => n.endsWith('.rpbundle'))), [], 'no bundle left behind');
    const source = await open(alone, app);
    assert.deepEqual((await source.recovery.listRecoveryPoints()).map((p) => p.id), [...aloneIds].reverse(), 'the other window keeps its history');
    await source.close();
    await workspace.recovery.restore(aloneIds[0]!, { paths: ['app'] });
    assert.deepEqual(await readFiles(app), firstFiles);
    assert.equal(await fs.readFile(path.join(path.dirname(app), 'lib', 'l.ts'), 'utf8'), 'lib\n', 'the folder the point does not hold is left alone');
    const again = await copyHistory(workspace, alone);
    assert.deepEqual(again.added, []);
    assert.deepEqual(again.skipped, aloneIds);
  });
});
