import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as fsSync from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Logger } from '../../src/core/logger';
import { cleanupAll, makeSandbox, openStore, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

function recordingLogger(into: string[]): Logger {
  return { debug() {}, info() {}, warn: (message) => into.push(message), error: (message) => into.push(`error: ${message}`) };
}

describe('a workspace folder removed while the store is open', () => {
  test('a hint point and a restore\'s preview look at every file, and the restore makes the folder again', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'src/b.ts': 'b\n' });
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint())!;
    await fs.rm(sb.ws, { recursive: true, force: true });
    // what the editor knows: nothing changed (its watcher of the removed folder has stopped)
    const preview = await store.recovery.previewRestore(first.id, undefined, { changedPaths: [] });
    assert.deepEqual(preview.add.map((c) => c.path).sort(), ['ws/a.txt', 'ws/src/b.ts'], 'the preview says what the restore will put back');
    const modes: string[] = [];
    const gone = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [], onCaptureMode: (mode) => modes.push(mode) }))!;
    assert.deepEqual(modes, ['full']);
    // a point of history keeps the folder it cannot see as it was (moved or renamed, its history is found where it went)
    assert.deepEqual(gone.changes, { added: 0, modified: 0, deleted: 0 });
    assert.equal(gone.root, first.root);

    const result = await store.recovery.restore(first.id, { changedPaths: [] });
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a\n');
    assert.equal(await fs.readFile(path.join(sb.ws, 'src/b.ts'), 'utf8'), 'b\n');
    assert.deepEqual(result.outcome.skipped, []);
    assert.equal((await store.recovery.verify()).ok, true);
  });

  test('removed and made again with other files: the next hint point is a full scan', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    await fs.rm(sb.ws, { recursive: true, force: true });
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'c.txt': 'c\n' });
    const modes: string[] = [];
    const point = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'a.txt')], onCaptureMode: (mode) => modes.push(mode) }))!;
    assert.deepEqual(modes, ['full'], 'the hint names a.txt alone, but the folder is another one');
    assert.deepEqual(point.changes, { added: 1, modified: 1, deleted: 1 });
    await writeFiles(sb.ws, { 'c.txt': 'c2\n' });
    const next = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'c.txt')], onCaptureMode: (mode) => modes.push(mode) }))!;
    assert.deepEqual(modes, ['full', 'hint'], 'hints hold again once a point of the new folder is made');
    assert.deepEqual(next.changes, { added: 0, modified: 1, deleted: 0 });
  });
});

describe('a store whose folder is removed while it is open', () => {
  test('the next point starts a new, empty store in its place, with every file, and says so once', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'src/b.ts': 'b\n', 'src/c.ts': 'c\n' });
    const logged: string[] = [];
    const store = await openStore(sb, { logger: recordingLogger(logged) });
    const warnings: string[] = [];
    store.state.onWarning((message) => warnings.push(message));
    await store.state.updateState({ data: { kept: 1 } });
    await store.recovery.createRecoveryPoint();
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'a.txt')] });

    await fs.rm(sb.store, { recursive: true, force: true });
    await writeFiles(sb.ws, { 'src/b.ts': 'b2\n' });
    const first = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'src/b.ts')] }))!;
    assert.ok(first, 'the point is made, not refused');
    assert.deepEqual(first.changes, { added: 3, modified: 0, deleted: 0 }, 'the new store\'s first point: every file, though the hint named one');
    assert.deepEqual((await store.recovery.listRecoveryPoints()).map((p) => p.id), [first.id], 'the removed points are not listed');
    assert.deepEqual((await store.state.getState()).data, {}, 'the state is the new store\'s');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /was removed while it was in use, with every point it held; a new, empty store was started in its place/);
    assert.ok(logged.some((line) => line === warnings[0]), 'the log says it too');

    await writeFiles(sb.ws, { 'src/c.ts': 'c2\n' });
    const second = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'src/c.ts')] }))!;
    assert.deepEqual(second.changes, { added: 0, modified: 1, deleted: 0 });
    assert.equal(second.parentId, first.id);
    const report = await store.recovery.verify();
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.pointsChecked, 2);

    await writeFiles(sb.ws, { 'a.txt': 'x\n', 'src/b.ts': 'x\n', 'src/c.ts': 'x\n' });
    await store.recovery.restore(first.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a2\n');
    assert.equal(await fs.readFile(path.join(sb.ws, 'src/b.ts'), 'utf8'), 'b2\n');
    assert.equal(await fs.readFile(path.join(sb.ws, 'src/c.ts'), 'utf8'), 'c\n');
    assert.equal(warnings.length, 1, 'said once');
    await store.close();

    const reopened = await openStore(sb, { actor: 'test:reopened' });
    assert.equal((await reopened.recovery.listRecoveryPoints()).length, 4, 'the new store as another process sees it: two points, the restore\'s safety point and its result');
    assert.equal((await reopened.recovery.verify()).ok, true);
  });

  test('its folder made again by a write of the capture cache or the audit log before the next point: that point starts the new store all the same', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const store = await openStore(sb);
    const warnings: string[] = [];
    store.state.onWarning((message) => warnings.push(message));
    await store.recovery.createRecoveryPoint();
    await fs.rm(sb.store, { recursive: true, force: true });
    // what the capture cache's save and the audit log's append do: make the folders they write into
    await fs.mkdir(path.join(sb.store, 'cache'), { recursive: true });
    await fs.writeFile(path.join(sb.store, 'audit.log.jsonl'), '');
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const point = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.deepEqual(point.changes, { added: 2, modified: 0, deleted: 0 });
    assert.deepEqual((await store.recovery.listRecoveryPoints()).map((p) => p.id), [point.id]);
    assert.equal(warnings.length, 1);
    assert.equal((await store.recovery.verify()).ok, true);
  });

  test('only its points folder removed: the points kept in their packs are still listed, and no new store is started', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const warnings: string[] = [];
    store.state.onWarning((message) => warnings.push(message));
    const first = (await store.recovery.createRecoveryPoint())!;
    await fs.rm(path.join(sb.store, 'points'), { recursive: true, force: true });
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const second = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.equal(second.parentId, first.id);
    assert.deepEqual((await store.recovery.listRecoveryPoints()).map((p) => p.id), [second.id, first.id]);
    assert.deepEqual(warnings, []);
  });

  test('reading it or closing it does not make it again', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    await fs.rm(sb.store, { recursive: true, force: true });
    assert.deepEqual(await store.recovery.listRecoveryPoints(), []);
    await store.close().catch(() => undefined);
    assert.equal(fsSync.existsSync(sb.store), false);
  });

  test('a clean-up of it starts the new store too, and the next point goes into it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    await fs.rm(sb.store, { recursive: true, force: true });
    const report = await store.recovery.cleanupRecoveryPoints();
    assert.equal(report.removedPoints, 0);
    await writeFiles(sb.ws, { 'b.txt': 'b2\n' });
    const point = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'b.txt')] }))!;
    assert.deepEqual(point.changes, { added: 2, modified: 0, deleted: 0 });
    assert.equal((await store.recovery.verify()).ok, true);
  });

  test('made again by another process: this one\'s next point goes into that store, relying on nothing of the removed one', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    await fs.rm(sb.store, { recursive: true, force: true });
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const other = await openStore(sb, { actor: 'test:other' });
    const theirs = (await other.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    await other.close();
    await writeFiles(sb.ws, { 'b.txt': 'b2\n' });
    const mine = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'b.txt')] }))!;
    assert.equal(mine.parentId, theirs.id);
    assert.deepEqual((await store.recovery.listRecoveryPoints()).map((p) => p.id), [mine.id, theirs.id]);
    const report = await store.recovery.verify();
    assert.equal(report.ok, true, JSON.stringify(report));
    await writeFiles(sb.ws, { 'a.txt': 'x\n', 'b.txt': 'x\n', 'c.txt': 'x\n' });
    await store.recovery.restore(mine.id);
    assert.deepEqual(await Promise.all(['a.txt', 'b.txt', 'c.txt'].map((f) => fs.readFile(path.join(sb.ws, f), 'utf8'))), ['a2\n', 'b2\n', 'c\n']);
  });
});
