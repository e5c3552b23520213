import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { CaptureCache, listFiles } from '../../src/core/capture';
import { StateError } from '../../src/core/errors';
import { pointIdTime } from '../../src/core/ids';
import { hashObject } from '../../src/core/objects/hash';
import type { CaptureCacheEntry } from '../../src/core/schemas';
import { auditEntries, cleanupAll, makeSandbox, openStore, packFiles, readJson, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

const BASE = {
  'README.md': '# demo\n',
  'src/app.ts': 'export const app = 1;\n',
  'src/lib/util.ts': 'export function util() { return 42; }\n',
  'src/lib/deep/more/leaf.txt': 'leaf\n',
};

describe('recovery points: every operation round-trips', () => {
  test('create (manual, labelled), list newest first, load, and the ContextState it captured', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, BASE);
    const store = await openStore(sb);
    await store.state.updateState({ data: { theme: 'dark', counter: 1 } });

    const first = await store.recovery.createRecoveryPoint(undefined, { label: '  before refactor  ' });
    assert.ok(first);
    assert.equal(first.label, 'before refactor', 'labels are trimmed');
    assert.equal(first.trigger, 'manual');
    assert.equal(first.parentId, null);
    assert.equal(first.fileCount, 4);
    assert.equal(first.totalSize, Object.values(BASE).reduce((n, s) => n + Buffer.byteLength(s), 0));
    assert.deepEqual(first.changes, { added: 4, modified: 0, deleted: 0 });
    assert.deepEqual(first.state.data, { theme: 'dark', counter: 1 });
    assert.equal(first.actor, 'test:main');
    assert.deepEqual(first.roots, [{ name: 'ws', path: sb.ws, realPath: sb.ws, outsideRules: first.roots[0]!.outsideRules, id: first.roots[0]!.id }], 'each folder with where it really is');
    const folder = await fs.stat(sb.ws);
    assert.equal(first.roots[0]!.id, `${folder.dev}:${folder.ino}:${folder.birthtimeMs}`, 'and what folder it is (device, inode, creation time)');
    assert.match(first.roots[0]!.outsideRules ?? '', /^[0-9a-f]{16}$/, 'and a digest of the git rules from outside it');

    await writeFiles(sb.ws, { 'src/app.ts': 'export const app = 2;\n', 'src/new.ts': 'new\n', 'README.md': null });
    const second = await store.recovery.createRecoveryPoint();
    assert.ok(second);
    assert.equal(second.parentId, first.id);
    assert.deepEqual(second.changes, { added: 1, modified: 1, deleted: 1 });
    assert.equal(second.label, null);
    assert.match(second.summary, /app\.ts/);

    const list = await store.recovery.listRecoveryPoints();
    assert.deepEqual(
      list.map((p) => p.id),
      [second.id, first.id],
    );
    assert.ok(second.id > first.id, 'ids sort by creation time');
    assert.ok(pointIdTime(second.id) >= pointIdTime(first.id));
    assert.equal('state' in list[0]!, false, 'the list carries summaries, not states');

    const loaded = await store.persistence.loadSnapshot(first.id);
    assert.deepEqual(loaded, first);
    assert.equal(await store.persistence.loadSnapshot('20990101T000000000Z-abcdef'), undefined);
    assert.equal(await store.persistence.loadSnapshot('../state'), undefined, 'a malformed id is never a file name');
    await assert.rejects(store.persistence.requireSnapshot('20990101T000000000Z-abcdef'), (e: unknown) => e instanceof StateError && e.kind === 'SnapshotNotFound');

    const state = await store.state.getState();
    assert.equal(state.newestPointId, second.id);
    // A second store instance (another window) lists the same points.
    const other = await openStore(sb, { actor: 'test:other' });
    assert.deepEqual(
      (await other.recovery.listRecoveryPoints()).map((p) => p.id),
      [second.id, first.id],
    );
    const audit = await auditEntries(store);
    assert.deepEqual(
      audit.filter((e) => e.action === 'create').map((e) => [e.pointId, e.actor]),
      [
        [first.id, 'test:main'],
        [second.id, 'test:main'],
      ],
    );
  });

  test('save with a changedPaths hint gives the same tree as a full scan; skipIfUnchanged writes nothing', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, BASE);
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint())!;

    const unchanged = await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', skipIfUnchanged: true });
    assert.equal(unchanged, undefined);
    assert.equal((await store.recovery.listRecoveryPoints()).length, 1);

    await writeFiles(sb.ws, { 'src/lib/util.ts': 'export function util() { return 43; }\n', 'src/lib/deep': null });
    const hinted = (await store.recovery.createRecoveryPoint(undefined, {
      trigger: 'save',
      changedPaths: [path.join(sb.ws, 'src/lib/util.ts'), path.join(sb.ws, 'src/lib/deep')],
      skipIfUnchanged: true,
    }))!;
    assert.ok(hinted);
    assert.equal(hinted.trigger, 'save');
    assert.equal(hinted.parentId, first.id);
    assert.deepEqual(hinted.changes, { added: 0, modified: 1, deleted: 1 });
    assert.equal(hinted.fileCount, 3);
    assert.match(hinted.summary, /^Saved /);
    // A full scan now finds nothing new: the hint gave exactly the tree a full scan gives.
    const full = await store.recovery.createRecoveryPoint(undefined, { skipIfUnchanged: true });
    assert.equal(full, undefined);
    const audit = await auditEntries(store);
    assert.equal(audit.find((e) => e.pointId === hinted.id)?.details?.mode, 'hint');
  });

  test('a store opened afresh makes a one-file point without reading the capture cache, and records the file\'s true entry', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, BASE);
    const old = new Date(Date.now() - 60_000);
    for (const rel of Object.keys(BASE)) await fs.utimes(path.join(sb.ws, rel), old, old);
    const first = await openStore(sb);
    await first.recovery.createRecoveryPoint();
    await first.close();
    const cacheFile = path.join(sb.store, 'cache', 'capture-cache.json');
    const journal = `${cacheFile}.journal`;
    const document = await fs.readFile(cacheFile, 'latin1');
    // the document is cut short past its head: a point that read it would refuse it and write it anew
    const damaged = document.slice(0, -2);
    await fs.writeFile(cacheFile, damaged, 'latin1');

    const content = 'export const app = 2;\n';
    const app = path.join(sb.ws, 'src/app.ts');
    await fs.writeFile(app, content);
    await fs.utimes(app, old, old); // not racy: its entry is recorded
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [app] }))!;
    assert.deepEqual(point.changes, { added: 0, modified: 1, deleted: 0 });
    await store.close();
    assert.equal(await fs.readFile(cacheFile, 'latin1'), damaged, 'the document was not read (nor written)');
    const lines = (await fs.readFile(journal, 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as { set: Record<string, Record<string, CaptureCacheEntry>> };
    const stat = await fs.stat(app);
    assert.deepEqual(line.set.ws?.['src/app.ts'], [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, hashObject('blob', Buffer.from(content)), stat.mode & 0o777]);

    // the next full scan reads the document, refuses it (and the line with it) and rewrites it; its tree is the hint point's
    const again = await openStore(sb);
    assert.equal(await again.recovery.createRecoveryPoint(undefined, { skipIfUnchanged: true }), undefined);
    await again.close();
    const rebuilt = await CaptureCache.load(cacheFile);
    assert.equal(rebuilt.dirty, false);
    assert.equal(rebuilt.lookup('ws', 'src/app.ts', stat), hashObject('blob', Buffer.from(content)));
    assert.equal(rebuilt.size('ws'), Object.keys(BASE).length);
  });

  test('skipIfUnchanged makes no first point of an empty folder (nothing captured); a manual point and the first file do make one', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { '.env': 'SECRET=1\n' }); // excluded as a secret: nothing to capture
    const store = await openStore(sb);
    assert.equal(await store.recovery.createRecoveryPoint(undefined, { trigger: 'startup', skipIfUnchanged: true }), undefined);
    assert.deepEqual(await store.recovery.listRecoveryPoints(), []);
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const first = await store.recovery.createRecoveryPoint(undefined, { trigger: 'external', skipIfUnchanged: true });
    assert.equal(first?.fileCount, 1);
    const empty = await makeSandbox();
    const manual = await (await openStore(empty)).recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    assert.equal(manual?.fileCount, 0, 'asked for, an empty point is made');
  });

  test('a hint-mode save right after a restore captures the restored files, not the safety point’s', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
    const store = await openStore(sb);
    const p1 = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    await store.recovery.createRecoveryPoint();
    await store.recovery.restore(p1.id); // a.txt is a1 again; the newest point (the safety point) has a2
    await writeFiles(sb.ws, { 'b.txt': 'b2\n' });
    const saved = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'b.txt')] }))!;
    await writeFiles(sb.ws, { 'b.txt': 'b3\n' });
    await store.recovery.restore(saved.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a1\n', 'the point holds a.txt as it was on disk when it was made');
    assert.equal(await fs.readFile(path.join(sb.ws, 'b.txt'), 'utf8'), 'b2\n');
  });

  test('a hint-mode save after the newest point was deleted still captures every change since that point', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const p2 = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    await store.recovery.deletePoints([p2.id]);
    await writeFiles(sb.ws, { 'b.txt': 'b2\n' });
    const saved = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'b.txt')] }))!;
    const files = await listFiles(await store.persistence.objects(), saved.root);
    const objects = await store.persistence.objects();
    assert.equal((await objects.readBlob(files.get('ws/a.txt')!.hash)).toString(), 'a2\n', 'a.txt as it is on disk, not as the older point had it');
    assert.equal((await objects.readBlob(files.get('ws/b.txt')!.hash)).toString(), 'b2\n');
  });

  test('after the capture rules change, the next hint-mode point applies them to every file', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'trace.out': 'noise\n', 'dist/bundle.js': 'built\n' });
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint())!;
    assert.equal(first.fileCount, 3);
    store.persistence.configure({ rules: { excludes: ['*.out', 'dist/**'] } });
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const next = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.equal(next.fileCount, 1, 'excluded files are not carried over from the previous point');
    const files = await listFiles(await store.persistence.objects(), next.root);
    assert.deepEqual([...files.keys()], ['ws/a.txt']);
  });

  test('a hint-mode point on a point another process took with other rules applies this process\'s rules to every file', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'trace.out': 'noise\n', 'dist/bundle.js': 'built\n' });
    const cli = await openStore(sb, { actor: 'test:cli' });
    const first = (await cli.recovery.createRecoveryPoint())!;
    assert.equal(first.fileCount, 3);
    await cli.close();
    const extension = await openStore(sb, { actor: 'test:extension', rules: { excludes: ['*.out', 'dist/**'] } });
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const next = (await extension.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.notEqual(next.rules, first.rules, 'the manifests record which rules they were taken with');
    assert.deepEqual([...(await listFiles(await extension.persistence.objects(), next.root)).keys()], ['ws/a.txt'], 'excluded files are not carried over');
    await writeFiles(sb.ws, { 'a.txt': 'a3\n' });
    const third = (await extension.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.equal(third.rules, next.rules);
    const audit = (await auditEntries(extension)).filter((e) => e.action === 'create').map((e) => e.details?.mode);
    assert.deepEqual(audit, ['full', 'full', 'hint'], 'a full scan once, then hints again');
  });

  test('deleting the point the state file names, older than the newest (points do not rewrite the file), leaves the file naming a listed point', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, BASE);
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    await store.state.updateState({ data: { written: 'with point a the newest' } });
    await writeFiles(sb.ws, { 'README.md': 'changed\n' });
    const b = (await store.recovery.createRecoveryPoint())!;
    const stateFile = path.join(sb.store, 'state.json');
    assert.equal((await readJson<{ newestPointId: string }>(stateFile)).newestPointId, a.id, 'a point does not rewrite the state file');
    assert.equal(await store.recovery.deletePoints([a.id]), 1);
    assert.equal((await readJson<{ newestPointId: string }>(stateFile)).newestPointId, b.id, 'the state file names the newest listed point');
  });

  test('stats count the points a person labelled, which clean-up keeps; an agent\'s turn label is thinned like any point and not counted', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'README.md': 'one\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    await store.persistence.setLabel(a.id, 'keep this');
    await writeFiles(sb.ws, { 'README.md': 'changed by an agent\n' });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'agent', agent: 'Claude Code', label: 'Claude Code turn: fix the tests', summary: "Before Claude Code's turn" });
    const stats = await store.recovery.stats();
    assert.deepEqual([stats.points, stats.labelledPoints], [2, 1]);
  });

  test('setLabel pins and unpins; delete removes points and updates the state; both are audited', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, BASE);
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'README.md': 'changed\n' });
    const b = (await store.recovery.createRecoveryPoint())!;

    const labelled = await store.persistence.setLabel(a.id, ' keep this ');
    assert.equal(labelled.label, 'keep this');
    assert.equal((await store.persistence.loadSnapshot(a.id))!.label, 'keep this');
    assert.equal((await store.recovery.listRecoveryPoints()).find((p) => p.id === a.id)!.label, 'keep this');
    assert.equal((await store.recovery.stats()).labelledPoints, 1);
    await store.persistence.setLabel(a.id, '   ');
    assert.equal((await store.persistence.loadSnapshot(a.id))!.label, null, 'a blank label unpins');
    await assert.rejects(store.persistence.setLabel('20990101T000000000Z-abcdef', 'x'), (e: unknown) => e instanceof StateError && e.kind === 'SnapshotNotFound');

    assert.equal((await store.state.getState()).newestPointId, b.id);
    assert.equal(await store.recovery.deletePoints([b.id]), 1);
    assert.deepEqual(
      (await store.recovery.listRecoveryPoints()).map((p) => p.id),
      [a.id],
    );
    assert.equal((await store.state.getState()).newestPointId, a.id, 'the state names the newest remaining point');
    assert.equal(await store.persistence.loadSnapshot(b.id), undefined);
    assert.equal(await store.recovery.deletePoints([b.id]), 0, 'deleting again removes nothing');
    const index = await readJson<{ points: Array<{ id: string }> }>(path.join(sb.store, 'points', 'index.json'));
    assert.deepEqual(
      index.points.map((p) => p.id),
      [a.id],
    );

    const audit = await auditEntries(store);
    assert.deepEqual(
      audit.filter((e) => e.action === 'label').map((e) => [e.pointId, e.details?.label]),
      [
        [a.id, 'keep this'],
        [a.id, null],
      ],
    );
    const deletes = audit.filter((e) => e.action === 'delete');
    assert.equal(deletes.length, 1);
    assert.deepEqual(deletes[0]!.details?.ids, [b.id]);
    assert.equal(deletes[0]!.actor, 'test:main');
  });

  test('changedFiles, diff between points and against the current files', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, BASE);
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'src/app.ts': 'v2\n', 'src/added.ts': 'added\n', 'src/lib/deep': null });
    const b = (await store.recovery.createRecoveryPoint())!;

    const paths = (d: { added: Array<{ path: string }>; modified: Array<{ path: string }>; deleted: Array<{ path: string }> }) => ({
      added: d.added.map((c) => c.path),
      modified: d.modified.map((c) => c.path),
      deleted: d.deleted.map((c) => c.path),
    });
    assert.deepEqual(paths(await store.recovery.changedFiles(b.id)), { added: ['ws/src/added.ts'], modified: ['ws/src/app.ts'], deleted: ['ws/src/lib/deep/more/leaf.txt'] });
    assert.deepEqual(paths(await store.recovery.changedFiles(a.id)), {
      added: ['ws/README.md', 'ws/src/app.ts', 'ws/src/lib/deep/more/leaf.txt', 'ws/src/lib/util.ts'],
      modified: [],
      deleted: [],
    });
    assert.deepEqual(paths(await store.recovery.diff(a.id, b.id)), paths(await store.recovery.changedFiles(b.id)));
    assert.deepEqual(paths(await store.recovery.diff(b.id, a.id)), { added: ['ws/src/lib/deep/more/leaf.txt'], modified: ['ws/src/app.ts'], deleted: ['ws/src/added.ts'] });

    // Against the workspace as it is now (nothing is written for that).
    const packsBefore = await packFiles(sb.store);
    await writeFiles(sb.ws, { 'README.md': 'edited, not saved as a point\n' });
    assert.deepEqual(paths(await store.recovery.diff(b.id)), { added: [], modified: ['ws/README.md'], deleted: [] });
    assert.deepEqual(await packFiles(sb.store), packsBefore, 'comparing with the current files writes no objects');
    await assert.rejects(store.recovery.changedFiles('20990101T000000000Z-abcdef'), (e: unknown) => e instanceof StateError && e.kind === 'SnapshotNotFound');
    await assert.rejects(store.recovery.diff('20990101T000000000Z-abcdef'), (e: unknown) => e instanceof StateError && e.kind === 'SnapshotNotFound');
  });

  test('recoverFromSnapshot (the spec form) restores the files and returns the state the point captured', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, BASE);
    const store = await openStore(sb);
    await store.state.updateState({ data: { step: 'one' } });
    const a = (await store.recovery.createRecoveryPoint())!;
    await store.state.updateState({ data: { step: 'two' } });
    await writeFiles(sb.ws, { 'src/app.ts': 'broken\n' });
    const recovered = await store.recovery.recoverFromSnapshot(a.id);
    assert.deepEqual(recovered.data, { step: 'one' });
    assert.equal(await fs.readFile(path.join(sb.ws, 'src/app.ts'), 'utf8'), BASE['src/app.ts']);
  });

  test('collectGarbage after deleting points frees exactly their own content, and is audited', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'keep.txt': 'kept\n', 'v.txt': 'one\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'v.txt': 'two\n' });
    const b = (await store.recovery.createRecoveryPoint())!;
    const objects = await store.persistence.objects();
    const oneHash = (await listFiles(objects, a.root)).get('ws/v.txt')!.hash;
    const keepHash = (await listFiles(objects, a.root)).get('ws/keep.txt')!.hash;
    const first = await store.recovery.collectGarbage();
    assert.equal(first.removedObjects, 2, "while both points exist, only the copies of their manifests their packs held (their files made durable first)");
    await store.recovery.deletePoints([a.id]);
    const gc = await store.recovery.collectGarbage();
    assert.equal(gc.removedObjects, 3, "a's v.txt content, its root tree and its ws tree");
    assert.equal(objects.has(oneHash), false);
    assert.equal(objects.has(keepHash), true);
    assert.equal((await store.recovery.verify()).ok, true);
    await writeFiles(sb.ws, { 'keep.txt': 'x', 'v.txt': 'y' });
    await store.recovery.restore(b.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'keep.txt'), 'utf8'), 'kept\n');
    const audit = (await auditEntries(store)).filter((e) => e.action === 'gc');
    assert.deepEqual(
      audit.map((e) => e.details?.removedObjects),
      [2, 3],
    );
  });

  test('dedup: an unchanged workspace adds no objects; a one-file change adds one blob and the trees on its path', async () => {
    const sb = await makeSandbox();
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`pkg${i % 4}/file${i}.txt`] = `content of file ${i}\n`.repeat(50);
    files['a/b/c/target.txt'] = 'version 1\n';
    await writeFiles(sb.ws, files);
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint())!;
    const before = await store.recovery.stats();
    assert.equal(before.blobs, 22, "21 file contents, and the point's manifest its pack holds until the next clean-up");

    const same = (await store.recovery.createRecoveryPoint())!;
    assert.equal(same.root, first.root);
    assert.equal(same.addedBytes, 0);
    const afterSame = await store.recovery.stats();
    assert.equal(afterSame.objects, before.objects, 'no object added');
    assert.equal(afterSame.packs, before.packs, 'no pack written');

    await writeFiles(sb.ws, { 'a/b/c/target.txt': 'version 2\n' });
    const changed = (await store.recovery.createRecoveryPoint())!;
    const afterChange = await store.recovery.stats();
    assert.equal(afterChange.blobs - afterSame.blobs, 2, "one new blob, and the point's manifest");
    assert.equal(afterChange.trees - afterSame.trees, 5, 'trees: root, ws, a, a/b, a/b/c');
    assert.ok(changed.addedBytes > 0 && changed.addedBytes < 2000, `addedBytes ${changed.addedBytes} is small`);
    assert.equal(afterChange.points, 3);
    assert.ok(afterChange.dedupRatio > 2, 'three full copies take far less than three times the space');
    assert.equal(afterChange.newestPointId, changed.id);
    // the whole folder: its packs, and its manifests, caches and logs, and what a killed writer left
    assert.ok(afterChange.totalDiskBytes > afterChange.diskBytes + (await fs.stat(store.persistence.layout.auditLogFile)).size);
    await fs.writeFile(path.join(store.persistence.layout.objectsDir, 'tmp-0123456789ab.pack.partial'), Buffer.alloc(100_000));
    assert.equal((await store.recovery.stats()).totalDiskBytes, afterChange.totalDiskBytes + 100_000);
  });
});
