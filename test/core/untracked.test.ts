// Files a point stopped tracking while they were on disk (a `.gitignore` line, an exclude, the size
// limit): kept in the point as `untracked`, named apart from deletions (src/core/capture/untracked.ts).
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { isNowTracked, isUntracked, stillOnDisk } from '../../src/core/capture/untracked';
import { formatChangeCounts, shownCounts } from '../../src/core/format';
import { comparisonPatch } from '../../src/core/history/pointChanges';
import { describeChanges } from '../../src/core/pointNames';
import { MAX_UNTRACKED_PATHS } from '../../src/core/schemas';
import { cleanupAll, makeSandbox, openStore, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

const deleted = (...paths: string[]) => paths.map((p) => ({ path: p }));

describe('files no longer tracked', () => {
  test('stillOnDisk keeps the deletions whose files are there, a folder standing for all of them below it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'dist/a.js': 'a\n', 'dist/sub/b.js': 'b\n', 'lib/kept.js': 'k\n', 'big.bin': 'big\n' });
    const file = (p: string) => path.join(sb.ws, p.slice('ws/'.length));
    // lib/gone.js was deleted: lib stands for nothing, lib/kept.js is named itself
    assert.deepEqual(stillOnDisk(deleted('ws/big.bin', 'ws/dist/a.js', 'ws/dist/sub/b.js', 'ws/lib/gone.js', 'ws/lib/kept.js'), file), ['ws/big.bin', 'ws/dist', 'ws/lib/kept.js']);
    assert.deepEqual(stillOnDisk(deleted('ws/lib/gone.js', 'ws/old.txt'), file), [], 'deleted files are deletions');
    assert.deepEqual(stillOnDisk(deleted('ws/dist/a.js', 'ws/dist/gone.js', 'ws/dist/sub/b.js'), file), ['ws/dist/a.js', 'ws/dist/sub/b.js'], 'a folder only when every deletion below it, two or more, is on disk');
    assert.deepEqual(stillOnDisk(deleted('other/x', 'ws/big.bin/inside'), (p) => (p.startsWith('ws/') ? file(p) : undefined)), [], 'outside every folder, or through a file');
    // a file replaced by a folder or a pipe of its name was deleted
    await writeFiles(sb.ws, { 'foo/new.txt': 'n\n' });
    execFileSync('mkfifo', [path.join(sb.ws, 'pipe')]);
    assert.deepEqual(stillOnDisk(deleted('ws/foo', 'ws/pipe'), file), [], 'a folder or a pipe where the file was');
    const link = path.join(path.dirname(sb.ws), 'ws-link');
    await fs.symlink(sb.ws, link);
    assert.deepEqual(stillOnDisk(deleted('ws/dist/a.js', 'ws/lib/gone.js'), (p) => path.join(link, p.slice('ws/'.length))), ['ws/dist/a.js'], 'a workspace folder opened through a link');

    const many = Array.from({ length: MAX_UNTRACKED_PATHS + 5 }, (_, i) => `f${String(i).padStart(4, '0')}.txt`);
    await writeFiles(sb.ws, Object.fromEntries(many.map((n) => [n, 'x\n'])));
    const kept = stillOnDisk(deleted(...many.map((n) => `ws/${n}`)), file);
    assert.equal(kept.length, MAX_UNTRACKED_PATHS, 'at most this many paths are kept');

    assert.equal(isUntracked({ untracked: ['ws/dist'] }, 'ws/dist/sub/b.js'), true);
    assert.equal(isUntracked({ untracked: ['ws/dist'] }, 'ws/dist2/b.js'), false, 'a folder of a longer name is not below it');
    assert.equal(isUntracked({}, 'ws/dist/a.js'), false);
    assert.equal(isNowTracked({ nowTracked: ['ws/dist'] }, 'ws/dist/a.js'), true);
  });

  test('names tell them apart from deletions and additions', () => {
    const changes = { added: [], modified: [{ path: 'ws/.gitignore' }], deleted: [{ path: 'ws/dist/app.js' }, { path: 'ws/dist/app.js.map' }, { path: 'ws/old.ts' }] } as never;
    assert.equal(describeChanges('save', changes, { untracked: ['ws/dist'] }), 'Saved .gitignore, old.ts; no longer tracked: app.js, app.js.map');
    assert.equal(describeChanges('external', { added: [], modified: [], deleted: [{ path: 'ws/big.bin' }] } as never, { untracked: ['ws/big.bin'] }), 'No longer tracked: big.bin');
    assert.equal(describeChanges('save', changes), 'Saved .gitignore, app.js, app.js.map and 1 more in 2 folders', 'without such paths, as before');
    const started = { added: [{ path: 'ws/typings/a.d.ts' }, { path: 'ws/typings/b.d.ts' }, { path: 'ws/new.ts' }], modified: [{ path: 'ws/.gitignore' }], deleted: [] } as never;
    assert.equal(describeChanges('save', started, { nowTracked: ['ws/typings'] }), 'Saved .gitignore, new.ts; now tracked: a.d.ts, b.d.ts');
    assert.equal(describeChanges('external', { added: [{ path: 'ws/a.js' }], modified: [], deleted: [{ path: 'ws/b.js' }] } as never, { nowTracked: ['ws/a.js'], untracked: ['ws/b.js'] }), 'Now tracked: a.js; no longer tracked: b.js');
  });

  test('a .gitignore created where this process never read the rules (the editor after its capture process made the first point), the hinted folder listed: its folder is scanned again with it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/app.ts': 'app\n', 'dist/app.js': 'built\n', 'dist/app.js.map': 'map\n' });
    const first = await openStore(sb);
    await first.recovery.createRecoveryPoint();
    await first.close();
    const store = await openStore(sb);
    await writeFiles(sb.ws, { '.gitignore': 'dist/\n' });
    let mode: string | undefined;
    const point = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external', changedPaths: [path.join(sb.ws, '.gitignore')], listHintedFolders: true, onCaptureMode: (m) => (mode = m) }))!;
    assert.equal(mode, 'hint', 'the outside change\'s point is a hint capture, as in the editor');
    assert.deepEqual([point.untracked, point.fileCount, point.summary], [['ws/dist'], 2, 'Changed outside the editor: .gitignore; no longer tracked: app.js, app.js.map']);
    await store.close();
  });

  test('a line of .git/info/exclude added and taken out, seen by points with a hint (the editor\'s saves): the file is no longer tracked, then tracked again, never deleted or created', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/x.ts': 'x1\n', 'a/y.txt': 'y\n', '.git/HEAD': 'ref: refs/heads/main\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const saved = async (text: string) => {
      await writeFiles(sb.ws, { 'src/x.ts': text });
      let mode: string | undefined;
      const point = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'src/x.ts')], onCaptureMode: (m) => (mode = m) }))!;
      assert.equal(mode, 'hint');
      return point;
    };
    await writeFiles(sb.ws, { '.git/info/exclude': 'y.txt\n' });
    const stopped = await saved('x2\n');
    assert.deepEqual([stopped.untracked, stopped.changes], [['ws/a/y.txt'], { added: 0, modified: 1, deleted: 1, untracked: 1 }]);
    await writeFiles(sb.ws, { '.git/info/exclude': '# nothing\n' });
    const started = await saved('x3\n');
    assert.deepEqual([started.nowTracked, started.changes], [['ws/a/y.txt'], { added: 1, modified: 1, deleted: 0, nowTracked: 1 }]);
    assert.equal(started.summary, 'Saved x.ts; now tracked: y.txt');
    await store.close();
  });

  test('a line of .git/info/exclude taken out while no process had read it, seen by a full scan in another process (the tool\'s `snapshot`, the editor\'s start): the file is now tracked, not created', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/x.ts': 'x1\n', 'a/y.txt': 'y\n', '.git/HEAD': 'ref: refs/heads/main\n', '.git/info/exclude': 'y.txt\n' });
    const first = await openStore(sb);
    const before = (await first.recovery.createRecoveryPoint())!;
    assert.equal(before.fileCount, 1);
    await first.close();
    await writeFiles(sb.ws, { '.git/info/exclude': '# nothing\n' });
    const store = await openStore(sb);
    let mode: string | undefined;
    const point = (await store.recovery.createRecoveryPoint(undefined, { onCaptureMode: (m) => (mode = m) }))!;
    assert.equal(mode, 'full');
    assert.deepEqual([point.nowTracked, point.changes, point.summary], [['ws/a/y.txt'], { added: 1, modified: 0, deleted: 0, nowTracked: 1 }, 'Now tracked: y.txt']);
    await store.close();
  });

  test('a line added to .git/info/exclude, seen first by a hint capture in another process (the tool\'s `snapshot --changed`, an agent\'s hook): the folder is scanned again with it', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/x.ts': 'x1\n', 'dist/out.js': 'built\n', '.git/HEAD': 'ref: refs/heads/main\n' });
    const first = await openStore(sb);
    await first.recovery.createRecoveryPoint();
    await first.close();
    await writeFiles(sb.ws, { '.git/info/exclude': 'dist/\n', 'src/x.ts': 'x2\n' });
    const store = await openStore(sb);
    let mode: string | undefined;
    const point = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'src/x.ts')], onCaptureMode: (m) => (mode = m) }))!;
    assert.equal(mode, 'hint');
    assert.deepEqual([point.untracked, point.changes, point.fileCount], [['ws/dist/out.js'], { added: 0, modified: 1, deleted: 1, untracked: 1 }, 1]);
    await store.close();
  });

  test('a point after a .gitignore line, an exclude and the size limit: the files still on disk are no longer tracked, the deleted one is deleted', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/app.ts': 'app\n', 'dist/app.js': 'built\n', 'dist/app.js.map': 'map\n', 'old.ts': 'old\n', 'notes.md': 'notes\n', 'data.bin': 'small\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    await writeFiles(sb.ws, { '.gitignore': 'dist/\n', 'old.ts': null });
    const ignored = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.deepEqual(ignored.untracked, ['ws/dist']);
    assert.equal(ignored.summary, 'Changed outside the editor: .gitignore, old.ts; no longer tracked: app.js, app.js.map');
    assert.deepEqual(ignored.changes, { added: 1, modified: 0, deleted: 3, untracked: 2 }, 'the counts are the tracked files\', two of the deletions still on disk');
    assert.equal(formatChangeCounts(ignored.changes), '+1 ~0 \u22121, 2 no longer tracked');
    assert.deepEqual(shownCounts(ignored.changes), { added: 1, modified: 0, deleted: 1, noLongerTracked: 2 });
    const listed = await store.recovery.listRecoveryPoints();
    assert.deepEqual(listed[0]!.changes, ignored.changes, 'listed with its counts');
    // a point made before the counts were kept (its lists, not its counts) is counted from its change
    const older = { ...listed[0]!, changes: { added: 1, modified: 0, deleted: 3 } };
    assert.deepEqual((await store.recovery.shownPoint(older, listed[1])).changes, ignored.changes);
    assert.deepEqual((await store.recovery.listRecoveryPoints())[0]!.untracked, ['ws/dist'], 'listed with the point');
    assert.equal(ignored.nowTracked, undefined);
    // the line taken out again, and a file created with it: dist/ is now tracked, the new file is added
    await writeFiles(sb.ws, { '.gitignore': '# nothing ignored\n', 'src/new.ts': 'new\n' });
    const unignored = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.deepEqual([unignored.nowTracked, unignored.untracked], [['ws/dist'], undefined]);
    assert.deepEqual(unignored.changes, { added: 3, modified: 1, deleted: 0, nowTracked: 2 });
    assert.equal(formatChangeCounts(unignored.changes), '+1 ~1 \u22120, 2 now tracked');
    assert.equal(unignored.summary, 'Changed outside the editor: .gitignore, new.ts; now tracked: app.js, app.js.map');
    await writeFiles(sb.ws, { '.gitignore': 'dist/\n' });
    await store.recovery.createRecoveryPoint();
    await store.close();

    // an exclude added in the settings, and a file grown past the size limit
    const limited = await openStore(sb, { rules: { excludes: ['notes.md'], maxFileSize: 10 } });
    await fs.writeFile(path.join(sb.ws, 'data.bin'), 'grown past the limit\n');
    const excluded = (await limited.recovery.createRecoveryPoint())!;
    assert.deepEqual(excluded.untracked, ['ws/data.bin', 'ws/notes.md']);
    assert.equal(excluded.summary, 'No longer tracked: data.bin, notes.md');
    // an ordinary deletion makes no such list
    await fs.rm(path.join(sb.ws, 'src/app.ts'));
    const removed = (await limited.recovery.createRecoveryPoint(undefined, { trigger: 'external', changedPaths: [path.join(sb.ws, 'src/app.ts')] }))!;
    assert.equal(removed.untracked, undefined);
    assert.equal(removed.summary, 'Deleted outside the editor: app.ts');
    await limited.close();
  });

  test('two points compared: a file a point between them stopped tracking is no longer tracked, not deleted, unless a later point held it again; one it began tracking is now tracked', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'src/app.ts': 'a1\n', 'dist/app.js': 'built\n', 'old.ts': 'old\n', 'notes.txt': 'n\n' });
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { '.gitignore': 'dist/\nnotes.txt\n', 'old.ts': null });
    const ignored = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.deepEqual(ignored.untracked, ['ws/dist/app.js', 'ws/notes.txt']);
    await writeFiles(sb.ws, { 'src/app.ts': 'a2\n' });
    const saved = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    const diff = await store.recovery.diff(first.id, saved.id);
    assert.deepEqual(diff.deleted.map((c) => c.path), ['ws/dist/app.js', 'ws/notes.txt', 'ws/old.ts']);
    assert.deepEqual(diff.untracked, ['ws/dist/app.js', 'ws/notes.txt'], 'ignored since, still on disk: no longer tracked; old.ts was deleted');
    assert.equal(diff.nowTracked, undefined);
    assert.deepEqual([(await store.recovery.diff(saved.id, first.id)).untracked], [undefined], 'newer to older: nothing marked');
    const patch = await comparisonPatch(store, first.id, saved.id);
    assert.match(patch, /^deleted file mode .*\n--- a\/old\.ts$/m, 'the deleted file is deleted in the patch');
    assert.doesNotMatch(patch, /^diff --git a\/(notes\.txt|dist\/app\.js) /m, 'the files no longer tracked are not');
    const againstDisk = await comparisonPatch(store, first.id, undefined);
    assert.match(againstDisk, /^--- a\/old\.ts$/m, 'against the files on disk: the deleted file is deleted');
    assert.doesNotMatch(againstDisk, /^diff --git a\/(notes\.txt|dist\/app\.js) /m, 'the ignored files still on disk are not');

    // notes.txt tracked again, then deleted: a deletion after all; dist/app.js now tracked against the point that ignored it
    await writeFiles(sb.ws, { '.gitignore': 'dist/\n' });
    const again = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    assert.deepEqual(again.nowTracked, ['ws/notes.txt']);
    await writeFiles(sb.ws, { 'notes.txt': null, '.gitignore': null });
    const last = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
    const later = await store.recovery.diff(first.id, last.id);
    assert.deepEqual(later.deleted.map((c) => c.path), ['ws/notes.txt', 'ws/old.ts']);
    assert.equal(later.untracked, undefined, 'notes.txt was held again, then deleted');
    const started = await store.recovery.diff(ignored.id, last.id);
    assert.deepEqual([started.added.map((c) => c.path), started.nowTracked], [['ws/dist/app.js'], ['ws/dist/app.js']], 'tracked again, on disk before: now tracked, not created');
    await store.close();
  });
});
