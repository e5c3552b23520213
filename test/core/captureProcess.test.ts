import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { CaptureProcessOptions } from '../../src/core/capture/captureProcess';
import { StateError } from '../../src/core/errors';
import { ageAll } from './helpers/captureFixtures';
import { assertPointWhole, pointDuringCollection, storeWithUnusedFirstPoint } from './helpers/collectionFixtures';
import { auditEntries, cleanupAll, makeSandbox, openStore, packFiles, writeFiles, type Sandbox } from './helpers/storeFixtures';

after(cleanupAll);

const SOURCE = path.join(__dirname, '..', '..', 'src', 'core', 'capture', 'captureProcessMain.ts');
/** The script run from its TypeScript source, as the tests run. */
const CAPTURE_PROCESS: CaptureProcessOptions = { script: SOURCE, execArgv: ['--import', 'tsx'] };

async function workspace(sb: Sandbox): Promise<void> {
  const files: Record<string, string> = { 'README.md': '# readme\n', 'src/deep/er/x.ts': 'export const x = 1;\n', 'b/empty.txt': '' };
  for (let i = 0; i < 300; i++) files[`src/many/f${i}.txt`] = `file ${i}\n`.repeat(1 + (i % 40));
  files['big.bin'] = 'x'.repeat(300_000);
  await writeFiles(sb.ws, files);
  // older than the capture cache's racy window: files written just before a point are hashed again at the next one
  await ageAll(sb.ws);
}

describe('a first point captured in a process of its own', () => {
  test('is the same point as one captured in the calling process, and later points build on it', async () => {
    const here = await makeSandbox();
    await workspace(here);
    const there = await makeSandbox();
    await fs.rm(there.ws, { recursive: true, force: true });
    await fs.cp(here.ws, there.ws, { recursive: true, preserveTimestamps: true });
    const inProcess = (await (await openStore(here)).recovery.createRecoveryPoint())!;
    const progress: string[] = [];
    const said: string[] = [];
    const logger = { debug: () => undefined, info: (m: string) => said.push(m), warn: (m: string) => said.push(m), error: (m: string) => said.push(m) };
    const store = await openStore(there, { captureProcess: CAPTURE_PROCESS, logger });
    const elsewhere = (await store.recovery.createRecoveryPoint(undefined, { onProgress: (m) => progress.push(m) }))!;
    assert.equal(elsewhere.root, inProcess.root, 'the same trees and contents');
    assert.deepEqual([elsewhere.fileCount, elsewhere.totalSize, elsewhere.changes], [inProcess.fileCount, inProcess.totalSize, inProcess.changes]);
    assert.ok(elsewhere.addedBytes > 0);
    assert.ok(progress.some((m) => /^Captured \d+ files$/.test(m)), `progress was passed on: ${progress.join(', ')}`);
    assert.ok(said.some((m) => /^The capture process used at most .* of memory/.test(m)), `captured in the other process, which said so: ${said.join(' | ')}`);
    assert.equal((await packFiles(there.store)).length, 1);
    // the cache the other process saved is used here: an unchanged workspace reads no file again
    const again = (await store.recovery.createRecoveryPoint())!;
    assert.equal(again.root, elsewhere.root);
    const created = (await auditEntries(store)).filter((e) => e.action === 'create');
    assert.equal(created.at(-1)?.details?.filesHashed, 0, 'no file read again');
    assert.equal((await store.recovery.verify()).ok, true);
    // a point with a hint builds on it, in this process
    await writeFiles(there.ws, { 'src/many/f1.txt': 'changed\n' });
    const hinted = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(there.ws, 'src/many/f1.txt')] }))!;
    assert.deepEqual(hinted.changes, { added: 0, modified: 1, deleted: 0 });
    const restored = await store.recovery.restore(elsewhere.id);
    assert.equal(restored.outcome.written.length, 1);
    assert.equal(await fs.readFile(path.join(there.ws, 'src/many/f1.txt'), 'utf8'), 'file 1\nfile 1\n');
  });

  test('ignore rules changed after it, where no watcher says so: the next point with a hint follows them', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/a.ts': 'a\n', 'dist/app.js': 'built\n', '.git/HEAD': 'ref: refs/heads/main\n' });
    const store = await openStore(sb, { captureProcess: CAPTURE_PROCESS });
    assert.equal((await store.recovery.createRecoveryPoint())!.fileCount, 2);
    // `.git/info/exclude` edited (file watchers rarely report `.git`), then a file saved
    await writeFiles(sb.ws, { '.git/info/exclude': 'dist/\n', 'src/a.ts': 'a2\n' });
    let mode: string | undefined;
    const next = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'src/a.ts')], onCaptureMode: (m) => (mode = m) }))!;
    assert.equal(mode, 'hint');
    assert.deepEqual([next.fileCount, next.untracked], [1, ['ws/dist/app.js']]);
    await store.close();
  });

  test('the clean-up after it repacks in a process of its own, with the same result', async () => {
    const sb = await makeSandbox();
    await workspace(sb);
    const said: string[] = [];
    const logger = { debug: () => undefined, info: (m: string) => said.push(m), warn: (m: string) => said.push(m), error: (m: string) => said.push(m) };
    const store = await openStore(sb, { captureProcess: CAPTURE_PROCESS, logger });
    const first = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'src/many/f2.txt': 'changed\n' });
    await store.recovery.createRecoveryPoint();
    const before = await packFiles(sb.store);
    assert.equal(before.length, 2);
    await store.recovery.deletePoints([first.id]);
    const report = await store.recovery.cleanupRecoveryPoints();
    assert.ok(said.some((m) => /^The clean-up process used at most .* of memory/.test(m)), `collected in the other process: ${said.join(' | ')}`);
    assert.ok(report.recompressed > 0 && report.removedObjects > 0, `recompressed ${report.recompressed}, removed ${report.removedObjects}`);
    const after = await packFiles(sb.store);
    assert.equal(after.length, 1);
    assert.ok(!before.includes(after[0]!), 'a new pack replaced both');
    // this process reads the new pack
    assert.equal((await store.recovery.verify()).ok, true);
    const [only] = await store.recovery.listRecoveryPoints();
    assert.equal((await store.recovery.changedFiles(only!.id)).added.length, only!.fileCount);
  });

  test('a point made while the clean-up collects in its process is made before the clean-up ends, and the objects it reuses survive', async () => {
    const sb = await makeSandbox();
    const said: string[] = [];
    const logger = { debug: () => undefined, info: (m: string) => said.push(m), warn: (m: string) => said.push(m), error: (m: string) => said.push(m) };
    const { store, first } = await storeWithUnusedFirstPoint(sb, { captureProcess: CAPTURE_PROCESS, logger });
    const { order, point } = await pointDuringCollection(store, () => store.recovery.cleanupRecoveryPoints());
    assert.ok(said.some((m) => /^The clean-up process used at most .* of memory/.test(m)), `collected in the other process: ${said.join(' | ')}`);
    assert.deepEqual(order, ['create', 'cleanup'], 'the point did not wait for the whole clean-up');
    assert.equal(point.root, first.root, 'the point reused the trees and contents of the deleted first point');
    await assertPointWhole(store, point);
    await store.recovery.cleanupRecoveryPoints();
    await assertPointWhole(store, point);
    assert.equal(await fs.readFile(path.join(sb.store, 'writer.lock')).catch(() => 'released'), 'released', 'the lock is free after the clean-up');
  });

  test("the clean-up's process builds the oldest point's list of every file, so the caller's change index does not hold it", async () => {
    const sb = await makeSandbox();
    const files: Record<string, string> = {};
    for (let i = 0; i < 1200; i++) files[`src/d${i % 12}/f${i}.txt`] = `file ${i}\n`;
    await writeFiles(sb.ws, files);
    const store = await openStore(sb, { captureProcess: CAPTURE_PROCESS });
    const first = (await store.recovery.createRecoveryPoint())!;
    await store.recovery.cleanupRecoveryPoints();
    const document = path.join(sb.store, 'cache', 'change-index-large', `none-${first.root}.json`);
    assert.ok((await fs.stat(document)).size > 0, 'the list is in its own document');
    const index = await store.persistence.changeIndex();
    assert.equal(index.heldChangeAt(null, first.root, 'ws/src/d0/f0.txt'), undefined, 'and not in the memory of the process that asked for the clean-up');
    // asked for, it is read from that document
    const changes = await store.recovery.changedFiles(first.id);
    assert.equal(changes.added.length, 1200);
  });

  test('an empty workspace asked to be skipped when unchanged gives no point and writes no pack', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb, { captureProcess: CAPTURE_PROCESS });
    assert.equal(await store.recovery.createRecoveryPoint(undefined, { skipIfUnchanged: true }), undefined);
    assert.deepEqual(await packFiles(sb.store), []);
  });

  test('a process that fails becomes a clear error, and no point is made', async () => {
    const sb = await makeSandbox();
    await workspace(sb);
    // a script that ends without answering (as a process killed for lack of memory would)
    const crashing = path.join(sb.root, 'crash.cjs');
    await fs.writeFile(crashing, "process.on('message', () => process.kill(process.pid, 'SIGKILL'));\n");
    const store = await openStore(sb, { captureProcess: { script: crashing } });
    await assert.rejects(
      store.recovery.createRecoveryPoint(),
      (error: unknown) => error instanceof StateError && error.kind === 'SnapshotCreationError' && /ended before it finished \(it was stopped by SIGKILL\)\. No recovery point was made\./.test(error.message),
    );
    assert.deepEqual(await store.recovery.listRecoveryPoints(), []);
    assert.deepEqual(await packFiles(sb.store), []);
    // the error the capture met there is the one thrown here, with its kind
    const failing = path.join(sb.root, 'fail.cjs');
    await fs.writeFile(failing, "process.on('message', () => process.send({ type: 'failed', kind: 'InvalidState', message: 'The workspace folder was replaced.' }, () => process.disconnect()));\n");
    const other = await openStore(sb, { captureProcess: { script: failing }, actor: 'test:second' });
    await assert.rejects(other.recovery.createRecoveryPoint(), (error: unknown) => error instanceof StateError && error.kind === 'InvalidState' && /^The workspace folder was replaced\.$/.test(error.message));
    assert.deepEqual(await store.recovery.listRecoveryPoints(), []);
  });

  test('cancelling stops the process, and no point is made', async () => {
    const sb = await makeSandbox();
    await workspace(sb);
    const more: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) more[`more/d${i % 30}/f${i}.txt`] = `more ${i}\n`.repeat(50);
    await writeFiles(sb.ws, more);
    const store = await openStore(sb, { captureProcess: CAPTURE_PROCESS });
    const controller = new AbortController();
    const made = store.recovery.createRecoveryPoint(undefined, { signal: controller.signal, onProgress: (m) => m.startsWith('Captured') && controller.abort(new Error('stop')) });
    await assert.rejects(made, /stop/);
    assert.deepEqual(await store.recovery.listRecoveryPoints(), []);
    // stopped mid-capture it wrote nothing; stopped too late to stop it, its pack is referenced by no point and the clean-up removes it
    await store.recovery.cleanupRecoveryPoints();
    assert.deepEqual(await packFiles(sb.store), []);
  });
});
