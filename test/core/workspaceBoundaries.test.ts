// The workspace's boundaries (#9): a workspace folder that became a link to another folder is refused,
// never followed; a store that is the workspace folder, or contains it, is refused before anything is
// written.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { StateError } from '../../src/core/errors';
import { readdirSync } from 'node:fs';
import { ChangedMeanwhile, ConfinedRoot, HAS_PROC_FD, Unreachable } from '../../src/core/recovery/confinedFolders';
import { RecoveryStore } from '../../src/core/recoveryStore';
import { toPointPath } from '../../src/core/recovery/workspacePaths';
import { cleanupAll, makeSandbox, openStore, readFiles, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

function refusal(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof StateError, String(error));
    assert.equal(error.kind, 'InvalidState');
    assert.match(error.message, pattern);
    return true;
  };
}

describe('a workspace folder replaced by a link', () => {
  test('mv ws ws.real; ln -s outside ws: restore, snapshot and compare are refused naming both folders; nothing outside changes', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'dir/b.txt': 'b\n', 'c.txt': 'c\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'new.txt': 'new\n' });
    await store.recovery.createRecoveryPoint();
    // the outside folder holds the same names, so a restore through the link would change them
    await writeFiles(sb.canary, { 'a.txt': 'outside a\n', 'new.txt': 'outside new\n', 'dir/b.txt': 'outside b\n' });
    const outside = await readFiles(sb.canary);
    await fs.rename(sb.ws, `${sb.ws}.real`);
    await fs.symlink(sb.canary, sb.ws);
    const names = new RegExp(`${sb.ws} now leads to ${sb.canary}, but this store recorded it at ${sb.ws}`);
    await assert.rejects(store.recovery.restore(point.id), refusal(names));
    await assert.rejects(store.recovery.createRecoveryPoint(), refusal(names));
    await assert.rejects(store.recovery.diff(point.id), refusal(names));
    assert.deepEqual(await readFiles(sb.canary), outside, 'nothing outside was written or deleted');
    assert.equal((await store.recovery.listRecoveryPoints()).length, 2, 'no point of the other folder');
    // back in place: everything works again
    await fs.rm(sb.ws);
    await fs.rename(`${sb.ws}.real`, sb.ws);
    await store.recovery.restore(point.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a\n');
  });

  test('a workspace opened through a link from the start is followed to where the store recorded it, and restores there', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const link = path.join(sb.root, 'ws-link');
    await fs.symlink(sb.ws, link);
    const store = await RecoveryStore.open({ storeDir: sb.store, roots: [{ name: 'ws', path: link }] });
    try {
      const point = (await store.recovery.createRecoveryPoint())!;
      assert.equal(point.roots[0]!.realPath, sb.ws);
      await writeFiles(sb.ws, { 'a.txt': 'changed\n' });
      await store.recovery.restore(point.id);
      assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a\n');
      // the link now leads elsewhere: refused
      await fs.rm(link);
      await fs.symlink(sb.canary, link);
      await assert.rejects(store.recovery.restore(point.id), refusal(/now leads to/));
      assert.deepEqual(await readFiles(sb.canary), { 'canary.txt': 'file 644 do not touch\n' });
    } finally {
      await store.close();
    }
  });
});

describe('a store that is the workspace folder or contains it', () => {
  test('is refused when the store is opened and when folders are configured, before anything is written', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const link = path.join(sb.root, 'ws-link');
    await fs.symlink(sb.ws, link);
    const before = await readFiles(sb.root);
    const roots = [{ name: 'ws', path: sb.ws }];
    for (const storeDir of [sb.ws, link, sb.root, path.join(sb.ws, '..')]) {
      await assert.rejects(RecoveryStore.open({ storeDir, roots }), refusal(/The store folder .* (is|contains) the workspace folder/), storeDir);
    }
    const store = await openStore(sb);
    assert.throws(() => store.persistence.configure({ roots: [...roots, { name: 'other', path: path.join(sb.store, 'points') }] }), refusal(/contains the workspace folder/));
    await store.close();
    await fs.rm(sb.store, { recursive: true });
    assert.deepEqual(await readFiles(sb.root), before, 'nothing was written anywhere');
  });
});

describe('store files that are links', () => {
  test('are replaced, never written through: a link planted as the point index, the state, the audit log or a journal leaves its target as it was', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a1\n' });
    const first = await openStore(sb);
    const point = (await first.recovery.createRecoveryPoint())!;
    await first.close();
    const victims = path.join(sb.root, 'victims');
    const linked = ['points/index.json', 'points/index.journal', 'state.json', 'audit.log.jsonl', 'cache/capture-cache.json.journal'];
    for (const [i, rel] of linked.entries()) {
      const victim = path.join(victims, `v${i}.txt`);
      await writeFiles(victims, { [`v${i}.txt`]: `precious ${i}\n` });
      await fs.chmod(victim, 0o644);
      await fs.rm(path.join(sb.store, rel), { force: true });
      await fs.symlink(victim, path.join(sb.store, rel));
    }
    const store = await openStore(sb);
    await store.recovery.listRecoveryPoints();
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] });
    await store.recovery.restore(point.id);
    await store.close();
    for (const [i] of linked.entries()) {
      const victim = path.join(victims, `v${i}.txt`);
      assert.equal(await fs.readFile(victim, 'utf8'), `precious ${i}\n`, linked[i]);
      assert.equal((await fs.stat(victim)).mode & 0o777, 0o644, linked[i]);
    }
    const reopened = await openStore(sb);
    assert.ok((await reopened.recovery.listRecoveryPoints()).length >= 3, 'the store goes on');
    await reopened.close();
  });
});

describe('ConfinedRoot: the folders a restore works in', () => {
  for (const viaProc of HAS_PROC_FD ? [true, false] : [false]) {
    test(`${viaProc ? 'through open folders (/proc/self/fd)' : 'by paths checked after each operation (systems without /proc)'}: writes, deletions and new folders land inside; a folder that is a link is never entered`, async () => {
      const sb = await makeSandbox();
      await writeFiles(sb.ws, { 'keep/a.txt': 'a\n', 'gone.txt': 'gone\n', out: { symlink: '../canary' } });
      const root = await ConfinedRoot.open({ name: 'ws', path: sb.ws, realPath: sb.ws }, { viaProc });
      try {
        await root.writeAtomically('new/deep/b.txt', '.b.txt.rp-00000000.tmp', 'f', Buffer.from('b\n'), 0o640);
        await root.writeAtomically('keep/a.txt', '.a.txt.rp-00000001.tmp', 'f', Buffer.from('a2\n'), 0o644);
        await root.writeAtomically('keep/link', '.link.rp-00000002.tmp', 'l', Buffer.from('a.txt'), 0);
        assert.equal(await root.unlink('gone.txt'), true);
        assert.equal(await root.unlink('missing/nothing.txt'), false);
        await assert.rejects(root.lstat('out/canary.txt'), (error) => error instanceof Unreachable, 'not even looked at through the link');
        await assert.rejects(root.writeAtomically('out/canary.txt', '.c.rp-00000003.tmp', 'f', Buffer.from('pwned\n'), 0o644), (error) => error instanceof Unreachable && /symbolic link/.test(error.message));
        await assert.rejects(root.unlink('out/canary.txt'), (error) => error instanceof Unreachable);
        assert.deepEqual(root.created, ['new', 'new/deep']);
      } finally {
        await root.close();
      }
      assert.deepEqual(await readFiles(sb.ws), {
        'keep': 'dir',
        'keep/a.txt': 'file 644 a2\n',
        'keep/link': 'link -> a.txt',
        'new': 'dir',
        'new/deep': 'dir',
        'new/deep/b.txt': 'file 640 b\n',
        out: 'link -> ../canary',
      });
      assert.deepEqual(await readFiles(sb.canary), { 'canary.txt': 'file 644 do not touch\n' });
    });
  }

  test('a restore across 300 folders holds at most 64 idle folders open, and none once closed', { skip: !HAS_PROC_FD }, async () => {
    const sb = await makeSandbox();
    const openFolders = async () => {
      let count = 0;
      for (const fd of await fs.readdir('/proc/self/fd')) {
        const target = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (target.startsWith(`${sb.ws}/`)) count++;
      }
      return count;
    };
    const root = await ConfinedRoot.open({ name: 'ws', path: sb.ws, realPath: sb.ws }, { viaProc: true });
    try {
      await Promise.all(Array.from({ length: 150 }, (_, i) => root.writeAtomically(`f${i}/g/a.txt`, `.a.txt.rp-${String(i).padStart(8, '0')}.tmp`, 'f', Buffer.from(`${i}\n`), 0o644)));
      const held = await openFolders();
      assert.ok(held <= 64, `${held} folders held open`);
      assert.ok(held >= 32, `${held} folders held open: the most recently used stay open`);
    } finally {
      await root.close();
    }
    assert.equal(await openFolders(), 0);
    assert.equal((await fs.readFile(path.join(sb.ws, 'f149/g/a.txt'), 'utf8')), '149\n');
  });

  for (const viaProc of HAS_PROC_FD ? [true, false] : [false]) {
    test(`the last look before the rename: a file saved while its new version was written is left as saved (${viaProc ? '/proc' : 'paths'})`, async () => {
      const sb = await makeSandbox();
      await writeFiles(sb.ws, { 'src/a.ts': 'as the restore checked it\n', 'src/b.ts': 'b\n' });
      const checked = await fs.lstat(path.join(sb.ws, 'src/a.ts'));
      const root = await ConfinedRoot.open({ name: 'ws', path: sb.ws, realPath: sb.ws }, { viaProc });
      try {
        const seen: string[][] = [];
        const unchanged = (now: import('node:fs').Stats | null) => now !== null && now.ino === checked.ino && now.size === checked.size && now.mtimeMs === checked.mtimeMs;
        // the person saves after the check and before the rename: the version being written is complete by then
        const look = (now: import('node:fs').Stats | null) => {
          seen.push(readdirSync(path.join(sb.ws, 'src')).sort());
          return unchanged(now);
        };
        await fs.writeFile(path.join(sb.ws, 'src/a.ts'), 'saved meanwhile, longer than before\n');
        await assert.rejects(root.writeAtomically('src/a.ts', '.a.ts.rp-0000000a.tmp', 'f', Buffer.from("the point's version\n"), 0o644, look), ChangedMeanwhile);
        assert.deepEqual(seen, [['.a.ts.rp-0000000a.tmp', 'a.ts', 'b.ts']], 'looked once, with the new version written beside it');
        assert.equal(await fs.readFile(path.join(sb.ws, 'src/a.ts'), 'utf8'), 'saved meanwhile, longer than before\n', 'the save is kept');
        assert.deepEqual((await fs.readdir(path.join(sb.ws, 'src'))).sort(), ['a.ts', 'b.ts'], 'the temporary file is removed');
        // unchanged: written as before
        const b = await fs.lstat(path.join(sb.ws, 'src/b.ts'));
        await root.writeAtomically('src/b.ts', '.b.ts.rp-0000000b.tmp', 'f', Buffer.from('b from the point\n'), 0o644, (now) => now !== null && now.ino === b.ino && now.mtimeMs === b.mtimeMs);
        assert.equal(await fs.readFile(path.join(sb.ws, 'src/b.ts'), 'utf8'), 'b from the point\n');
      } finally {
        await root.close();
      }
    });
  }
});

describe('a workspace folder inside another (a nested folder of a multi-root workspace)', () => {
  const paths = (d: { added: { path: string }[]; modified: { path: string }[]; deleted: { path: string }[] }) => [d.added.map((c) => c.path), d.modified.map((c) => c.path), d.deleted.map((c) => c.path)];

  test('each file belongs to the innermost folder: points count and name it once, with or without the save hint, and a restore writes it once', async () => {
    const sb = await makeSandbox();
    const sub = path.join(sb.ws, 'pkg');
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'pkg/b.txt': 'b1\n' });
    const store = await RecoveryStore.open({ storeDir: sb.store, roots: [{ name: 'ws', path: sb.ws }, { name: 'pkg', path: sub }], actor: 'test:main' });
    try {
      const first = (await store.recovery.createRecoveryPoint())!;
      assert.deepEqual(paths(await store.recovery.changedFiles(first.id)), [['pkg/b.txt', 'ws/a.txt'], [], []]);
      assert.equal(toPointPath(store.persistence.workspaceRoots, path.join(sub, 'b.txt')), 'pkg/b.txt', 'a path given to the command-line tool or an agent names the inner folder');
      assert.equal(toPointPath(store.persistence.workspaceRoots, path.join(sb.ws, 'a.txt')), 'ws/a.txt');

      await writeFiles(sb.ws, { 'pkg/b.txt': 'b2\n', 'pkg/c.txt': 'c2\n' });
      const second = (await store.recovery.createRecoveryPoint())!;
      assert.deepEqual(paths(await store.recovery.changedFiles(second.id)), [['pkg/c.txt'], ['pkg/b.txt'], []]);
      assert.doesNotMatch(second.summary, /b\.txt.*b\.txt/, second.summary);

      await writeFiles(sb.ws, { 'pkg/b.txt': 'b3\n' });
      const hinted = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sub, 'b.txt')] }))!;
      assert.deepEqual(paths(await store.recovery.changedFiles(hinted.id)), [[], ['pkg/b.txt'], []]);

      const restored = await store.recovery.restore(first.id);
      assert.deepEqual([restored.outcome.written, restored.outcome.removed, restored.outcome.skipped], [['pkg/b.txt'], ['pkg/c.txt'], []]);
      assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a1\n', pkg: 'dir', 'pkg/b.txt': 'file 644 b1\n' });
    } finally {
      await store.close();
    }
  });

  test('a point made before the inner folder joined the workspace restores the inner files as its outer folder held them', async () => {
    const sb = await makeSandbox();
    const sub = path.join(sb.ws, 'pkg');
    await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'pkg/b.txt': 'b1\n', 'pkg/deep/d.txt': 'd1\n' });
    const store = await openStore(sb);
    try {
      const before = (await store.recovery.createRecoveryPoint())!;
      store.persistence.configure({ roots: [{ name: 'ws', path: sb.ws }, { name: 'pkg', path: sub }] });
      await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'pkg/b.txt': 'b2\n', 'pkg/c.txt': 'c2\n', 'pkg/deep/d.txt': null });
      await store.recovery.createRecoveryPoint();
      const preview = await store.recovery.previewRestore(before.id);
      assert.deepEqual([preview.add, preview.modify, preview.remove].map((l) => l.map((c) => c.path).sort()), [['ws/pkg/deep/d.txt'], ['ws/a.txt', 'ws/pkg/b.txt'], ['ws/pkg/c.txt']]);
      assert.deepEqual(preview.leftAlone, []);
      const restored = await store.recovery.restore(before.id);
      assert.deepEqual(restored.outcome.skipped, []);
      assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a1\n', pkg: 'dir', 'pkg/b.txt': 'file 644 b1\n', 'pkg/deep': 'dir', 'pkg/deep/d.txt': 'file 644 d1\n' });
    } finally {
      await store.close();
    }
  });
});
