import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { captureWorkspace, CaptureCache, DEFAULT_CAPTURE_RULES, listFiles, lookupEntry, type CaptureResult } from '../../src/core/capture';
import { StateError } from '../../src/core/errors';
import { hashObject } from '../../src/core/objects/hash';
import { age, ageAll, CaptureHarness, cleanupTempDirs, openStore, tempDir, writeTree } from './helpers/captureFixtures';

after(cleanupTempDirs);

const isRoot = process.getuid?.() === 0;


async function workspace(files: Parameters<typeof writeTree>[1]): Promise<string> {
  const ws = await tempDir('rp-capture-ws-');
  await writeTree(ws, files);
  return ws;
}

describe('full scan', () => {
  test('captures nested files with their sizes, modes, kinds and exact content', async () => {
    const binary = randomBytes(70_000);
    const ws = await workspace({
      'README.md': '# hello\n',
      'src/app.ts': 'export const a = 1;\n',
      'src/deep/er/x.bin': binary,
      'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      'empty.txt': '',
      'src/link': { symlink: 'app.ts' },
      'emptyFolder/nested': { dir: true },
    });
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const result = await h.capture();
    assert.equal(result.mode, 'full');
    const files = await listFiles(h.objects, result.root);
    assert.deepEqual([...files.keys()], ['ws/README.md', 'ws/bin/run.sh', 'ws/empty.txt', 'ws/src/app.ts', 'ws/src/deep/er/x.bin', 'ws/src/link']);
    assert.equal(result.fileCount, 6);
    const expectedSize = 8 + 18 + 0 + 20 + binary.length + 'app.ts'.length;
    assert.equal(result.totalSize, expectedSize);
    assert.deepEqual(files.get('ws/bin/run.sh'), { kind: 'f', hash: hashObject('blob', Buffer.from('#!/bin/sh\necho hi\n')), size: 18, mode: 0o755 });
    assert.equal(files.get('ws/README.md')!.mode, (await fs.stat(path.join(ws, 'README.md'))).mode & 0o777);
    assert.equal(files.get('ws/src/link')!.kind, 'l');
    assert.equal(files.get('ws/src/link')!.mode, 0);
    assert.deepEqual(await h.objects.readBlob(files.get('ws/src/deep/er/x.bin')!.hash), binary);
    assert.equal((await h.objects.readBlob(files.get('ws/empty.txt')!.hash)).length, 0);
    assert.equal((await h.objects.readBlob(files.get('ws/src/link')!.hash)).toString('utf8'), 'app.ts');
    // folders carry the size of everything below them; empty folders are not recorded
    const src = await lookupEntry(h.objects, result.root, 'ws/src');
    assert.deepEqual({ kind: src!.kind, size: src!.size, mode: src!.mode }, { kind: 'd', size: 20 + binary.length + 6, mode: 0 });
    assert.equal(await lookupEntry(h.objects, result.root, 'ws/emptyFolder'), undefined);
    const rootTree = await h.objects.readTree(result.root);
    assert.deepEqual(rootTree.e.map((e) => [e[0], e[1], e[3]]), [['ws', 'd', expectedSize]]);
  });

  test('a second scan of an unchanged workspace adds nothing and reads only racy files again', async () => {
    const ws = await workspace({ 'a.txt': 'alpha', 'b/c.txt': 'gamma', 'b/d.txt': 'delta' });
    await ageAll(ws);
    await writeTree(ws, { 'fresh.txt': 'just written' }); // mtime now: racy
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const first = await h.capture();
    assert.equal(first.filesHashed, 4);
    assert.ok(first.added > 0);
    const second = await h.capture();
    assert.equal(second.root, first.root);
    assert.equal(second.added, 0, 'nothing new is put');
    assert.equal(second.filesHashed, 1, 'only the racy file is read again');
    assert.equal(h.cache.lookup('ws', 'fresh.txt', await fs.stat(path.join(ws, 'fresh.txt'))), undefined);
    assert.ok(h.cache.lookup('ws', 'a.txt', await fs.stat(path.join(ws, 'a.txt'))));
  });

  test('a folder whose entries are unchanged takes its last tree; changed folders up to the root are put again', async () => {
    const ws = await workspace({ 'top.txt': 'top', 'a/b/c/deep.txt': 'deep', 'a/b/side.txt': 'side', 'x/y/z.txt': 'zed', 'x/w.txt': 'w' });
    await ageAll(ws);
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const captureCounting = async (harness: CaptureHarness) => {
      const batch = harness.objects.beginBatch();
      let treesPut = 0;
      const counting = Object.assign(Object.create(batch) as typeof batch, {
        putTree: (tree: Parameters<typeof batch.putTree>[0]) => {
          treesPut++;
          return batch.putTree(tree);
        },
      });
      const result = await captureWorkspace({ roots: harness.roots, rules: harness.rules, objects: counting, cache: harness.cache });
      await batch.commit();
      return { root: result.root, treesPut };
    };
    const first = await captureCounting(h);
    assert.equal(first.treesPut, 7, 'every folder (6 with the root) and the top tree');
    const again = await captureCounting(h);
    assert.deepEqual(again, { root: first.root, treesPut: 1 }, 'only the top tree, which names the roots');
    await writeTree(ws, { 'a/b/c/deep.txt': 'deeper' });
    await ageAll(ws);
    const edited = await captureCounting(h);
    assert.equal(edited.treesPut, 5, 'a/b/c, a/b, a, the root folder and the top tree');
    const fresh = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    assert.equal((await fresh.capture()).root, edited.root, 'the same tree as a scan with an empty cache');
    // the trees it remembers are not in this store: they are put, not trusted
    const otherStore = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    otherStore.cache = h.cache;
    const elsewhere = await captureCounting(otherStore);
    assert.equal(elsewhere.root, edited.root);
    assert.equal(elsewhere.treesPut, 7);
    assert.equal((await listFiles(otherStore.objects, elsewhere.root)).size, 5);
  });

  test('synchronous calls and the thread pool capture the same tree, skip the same files and read the same ones', async () => {
    const ws = await workspace({
      'a.txt': 'alpha',
      'empty.txt': '',
      'src/deep/er/code.ts': 'export {};\n',
      'src/medium.bin': randomBytes(300 * 1024), // above the size read synchronously
      'big/huge.bin': randomBytes(1100 * 1024), // above maxFileSize
      '.env': 'SECRET=1',
    });
    await fs.symlink('../a.txt', path.join(ws, 'src', 'link'));
    await ageAll(ws);
    const results = [];
    for (const syncCalls of [true, false]) {
      const h = await CaptureHarness.create([{ name: 'ws', path: ws }], { maxFileSize: 1024 * 1024 });
      const first = await h.capture({ syncCalls });
      const second = await h.capture({ syncCalls });
      const code = path.join(ws, 'src', 'deep', 'er', 'code.ts');
      await fs.writeFile(code, 'export const x = 1;\n');
      await age(code);
      const third = await h.capture({ syncCalls });
      await fs.writeFile(code, 'export {};\n');
      await age(code);
      results.push(
        [first, second, third].map((r) => ({ root: r.root, fileCount: r.fileCount, filesHashed: r.filesHashed, skipped: r.skipped })),
      );
    }
    assert.deepEqual(results[0], results[1]);
    assert.deepEqual(
      results[0]!.map((r) => r.filesHashed),
      [4, 0, 1],
    );
    assert.deepEqual(results[0]![0]!.skipped.map((x) => x.path), [path.join(ws, 'big', 'huge.bin')]);
  });

  test('the cache survives a save and load, and a cached hash whose object is missing is not trusted', async () => {
    const ws = await workspace({ 'a.txt': 'alpha', 'b.txt': 'beta' });
    await ageAll(ws);
    const storeDir = await tempDir('rp-capture-store-');
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }], {}, storeDir);
    await h.capture();
    assert.equal(await h.cache.save(), true);
    const loaded = await CaptureCache.load(h.cache.file!);
    assert.equal(loaded.size('ws'), 2);
    h.cache = loaded;
    assert.equal((await h.capture()).filesHashed, 0);
    // a store without those objects (e.g. garbage-collected): the cache is not enough
    const other = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    other.cache = await CaptureCache.load(h.cache.file!);
    const fresh = await other.capture();
    assert.equal(fresh.filesHashed, 2);
    assert.equal((await listFiles(other.objects, fresh.root)).size, 2);
  });

  test('a same-size edit with the mtime put back is caught (ctime changes)', async () => {
    const ws = await workspace({ 'a.txt': 'AAAA', 'b.txt': 'BBBB' });
    await ageAll(ws);
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const first = await h.capture();
    const file = path.join(ws, 'a.txt');
    const before = await fs.stat(file);
    await new Promise((resolve) => setTimeout(resolve, 15));
    await fs.writeFile(file, 'ZZZZ');
    await fs.utimes(file, before.atime, before.mtime);
    const after = await fs.stat(file);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.size, before.size);
    const second = await h.capture();
    assert.notEqual(second.root, first.root);
    assert.equal(second.filesHashed, 1, 'only the edited file is read');
    const files = await listFiles(h.objects, second.root);
    assert.equal((await h.objects.readBlob(files.get('ws/a.txt')!.hash)).toString(), 'ZZZZ');
  });

  test('a file edited within the racy window is read again even when its stat looks the same', async () => {
    const ws = await workspace({ 'a.txt': 'AAAA' });
    const file = path.join(ws, 'a.txt');
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    await h.capture();
    // Forge a cache entry whose stat equals the current one: only the racy rule can save us.
    const stat = await fs.stat(file);
    h.cache.record('ws', 'a.txt', stat, hashObject('blob', Buffer.from('AAAA')), Date.now());
    assert.equal(h.cache.lookup('ws', 'a.txt', stat), undefined, 'a racy entry is never used');
    const second = await h.capture();
    assert.equal(second.filesHashed, 1);
  });

  test('.gitignore at the root and nested, with negation, and .git/info/exclude', async () => {
    const ws = await workspace({
      '.gitignore': '*.log\nbuild/\n!keep.log\n/rootonly.txt\n',
      '.git/info/exclude': 'secret-notes.md\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      'a.log': 'x',
      'keep.log': 'kept',
      'rootonly.txt': 'ignored at the root',
      'sub/rootonly.txt': 'kept below',
      'build/out.js': 'x',
      'sub/build/out.js': 'x',
      'sub/.gitignore': '*.tmp\n!important.log\nlocal/\n',
      'sub/x.tmp': 'x',
      'sub/important.log': 'kept by the nested negation',
      'sub/other.log': 'ignored by the root',
      'sub/local/file.txt': 'x',
      'local/file.txt': 'kept: the nested rule applies below sub only',
      'other/x.tmp': 'kept: *.tmp is only in sub',
      'secret-notes.md': 'x',
      'src/index.ts': 'code',
    });
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const result = await h.capture();
    const files = [...(await listFiles(h.objects, result.root)).keys()];
    assert.deepEqual(files, [
      'ws/.gitignore',
      'ws/keep.log',
      'ws/local/file.txt',
      'ws/other/x.tmp',
      'ws/src/index.ts',
      'ws/sub/.gitignore',
      'ws/sub/important.log',
      'ws/sub/rootonly.txt',
    ]);
    h.rules = { ...DEFAULT_CAPTURE_RULES, respectGitignore: false };
    const all = [...(await listFiles(h.objects, (await h.capture()).root)).keys()];
    assert.ok(all.includes('ws/a.log') && all.includes('ws/build/out.js') && all.includes('ws/sub/x.tmp') && all.includes('ws/secret-notes.md'));
    assert.ok(!all.some((f) => f.startsWith('ws/.git/')), '.git is never captured');
  });

  test('user excludes (globs against the root-relative path)', async () => {
    const ws = await workspace({ 'dist/a.js': 'x', 'src/a.ts': 'x', 'src/gen/b.ts': 'x', 'notes.log': 'x', 'deep/notes.log': 'x', '.cache/x': 'x' });
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }], { excludes: ['dist/**', '**/gen', '*.log', '.cache'] });
    const files = [...(await listFiles(h.objects, (await h.capture()).root)).keys()];
    assert.deepEqual(files, ['ws/deep/notes.log', 'ws/src/a.ts']);
  });

  test('secrets are excluded by default and captured when excludeSecrets is false', async () => {
    const secrets = ['.env', '.env.local', 'config/.env.production', 'id_rsa', 'keys/id_ed25519', 'server.pem', 'tls/site.key', '.aws/credentials', '.ssh/config', 'app/.npmrc', 'infra/prod.tfvars', 'gcp.credentials.json', 'Server.PEM'];
    const kept = ['id_rsa.pub', 'src/env.ts', 'environment.md', 'keys/id_ed25519.pub', 'docs/keyboard.md'];
    const ws = await workspace(Object.fromEntries([...secrets, ...kept].map((f) => [f, `content of ${f}`])));
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const byDefault = await h.capture();
    const files = [...(await listFiles(h.objects, byDefault.root)).keys()].map((f) => f.slice(3));
    assert.deepEqual(files, [...kept].sort());
    for (const secret of secrets) assert.equal(h.objects.has(hashObject('blob', Buffer.from(`content of ${secret}`))), false, `${secret} is not stored`);
    h.rules = { ...DEFAULT_CAPTURE_RULES, excludeSecrets: false };
    const all = [...(await listFiles(h.objects, (await h.capture()).root)).keys()].map((f) => f.slice(3));
    assert.deepEqual(all, [...secrets, ...kept].sort());
  });

  test('a folder named like a credential document or a key file is captured: the names leave out files, the secret folders everything inside', async () => {
    const files = {
      'src/credentials/login.ts': 'login',
      'sdk/Credentials/azureCliCredential.js': 'cli',
      'conf/secrets.json/readme.md': 'odd folder',
      'certs/server.pem/notes.txt': 'notes',
      'src/credentials/credentials': 'a credential file inside',
      'src/credentials/.env': 'an env file inside',
      '.ssh/config': 'ssh',
      '.envs/.production/.postgres': 'password',
      'a/.aws/config': 'aws',
    };
    const kept = ['certs/server.pem/notes.txt', 'conf/secrets.json/readme.md', 'sdk/Credentials/azureCliCredential.js', 'src/credentials/login.ts'];
    const ws = await workspace(files);
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const full = await h.capture();
    assert.deepEqual([...(await listFiles(h.objects, full.root)).keys()].map((f) => f.slice(3)), kept);
    // the hint path decides as the full scan, for files changed inside those folders
    for (const rel of Object.keys(files)) await fs.writeFile(path.join(ws, rel), `${files[rel as keyof typeof files]} edited`);
    const hinted = await h.capture({ previousRoot: full.root, changedPaths: Object.keys(files).map((rel) => path.join(ws, rel)) });
    assert.equal(hinted.mode, 'hint');
    const listed = await listFiles(h.objects, hinted.root);
    assert.deepEqual([...listed.keys()].map((f) => f.slice(3)), kept);
    assert.ok(h.objects.has(hashObject('blob', Buffer.from('login edited'))), 'the edit inside src/credentials/ is stored');
    for (const secret of ['a credential file inside', 'an env file inside', 'password']) {
      assert.equal(h.objects.has(hashObject('blob', Buffer.from(`${secret} edited`))), false, `${secret} is not stored`);
    }
  });

  test('.git, node_modules, .hg and .svn are never captured, at any depth, even when nothing else excludes them', async () => {
    const ws = await workspace({
      '.git/config': 'x',
      'node_modules/pkg/index.js': 'x',
      'packages/a/node_modules/b/index.js': 'x',
      'packages/a/index.js': 'x',
      'vendor/.hg/store': 'x',
      'vendor/.svn/entries': 'x',
      'sub/.git': 'gitdir: ../.git/modules/sub\n',
      'sub/file.txt': 'x',
    });
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }], { respectGitignore: false, excludeSecrets: false });
    const files = [...(await listFiles(h.objects, (await h.capture()).root)).keys()];
    assert.deepEqual(files, ['ws/packages/a/index.js', 'ws/sub/file.txt']);
  });

  test('the store folder inside the workspace is never captured', async () => {
    const ws = await workspace({ 'a.txt': 'x', '.vscode/settings.json': '{}' });
    const storeDir = path.join(ws, '.vscode', 'recovery-store');
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }], {}, storeDir);
    await h.capture();
    await h.cache.save();
    assert.ok((await fs.readdir(path.join(storeDir, 'objects'))).length > 0);
    const result = await h.capture({ neverCapture: [storeDir] });
    const files = [...(await listFiles(h.objects, result.root)).keys()];
    assert.deepEqual(files, ['ws/.vscode/settings.json', 'ws/a.txt']);
  });

  test('files over maxFileSize are skipped and listed', async () => {
    const ws = await workspace({ 'small.txt': 'x'.repeat(100), 'big.bin': 'x'.repeat(101), 'dir/big2.bin': 'y'.repeat(5000) });
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }], { maxFileSize: 100 });
    const result = await h.capture();
    assert.deepEqual([...(await listFiles(h.objects, result.root)).keys()], ['ws/small.txt']);
    assert.deepEqual(result.skipped, [
      { path: path.join(ws, 'big.bin'), reason: '101 B, over the maximum file size of 100 B', kind: 'too-large' },
      { path: path.join(ws, 'dir', 'big2.bin'), reason: '4.9 KB, over the maximum file size of 100 B', kind: 'too-large' },
    ]);
    // sizes that round to the same text are given in bytes
    await writeTree(ws, { 'just-over.bin': 'z'.repeat(10 * 1024 + 5) });
    const near = await CaptureHarness.create([{ name: 'ws', path: ws }], { maxFileSize: 10 * 1024 });
    assert.equal((await near.capture()).skipped.find((s) => s.path.endsWith('just-over.bin'))?.reason, '10,245 bytes, over the maximum file size of 10,240 bytes');
    assert.equal(h.objects.has(hashObject('blob', Buffer.from('x'.repeat(101)))), false);
  });

  test('a symlink to a file outside the workspace is recorded as a link; the outside file is never read', async () => {
    const outside = await tempDir('rp-capture-outside-');
    const secret = `outside secret ${randomBytes(8).toString('hex')}`;
    await writeTree(outside, { 'secret.txt': secret, 'dir/more.txt': secret + '2' });
    const ws = await workspace({
      'link-file': { symlink: path.join(outside, 'secret.txt') },
      'link-dir': { symlink: path.join(outside, 'dir') },
      'dangling': { symlink: 'does/not/exist' },
      'a.txt': 'x',
    });
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const result = await h.capture();
    const files = await listFiles(h.objects, result.root);
    assert.deepEqual([...files.keys()], ['ws/a.txt', 'ws/dangling', 'ws/link-dir', 'ws/link-file']);
    assert.equal(files.get('ws/link-file')!.kind, 'l');
    assert.equal(files.get('ws/link-dir')!.kind, 'l');
    assert.equal(files.get('ws/link-file')!.size, path.join(outside, 'secret.txt').length);
    assert.equal((await h.objects.readBlob(files.get('ws/link-file')!.hash)).toString('utf8'), path.join(outside, 'secret.txt'));
    assert.equal(h.objects.has(hashObject('blob', Buffer.from(secret))), false);
    assert.equal(h.objects.has(hashObject('blob', Buffer.from(secret + '2'))), false);
  });

  test('symlink loops do not hang', async () => {
    const ws = await workspace({ 'a/b.txt': 'x', 'a/loop': { symlink: '..' }, 'self': { symlink: 'self' }, 'x': { symlink: 'y' }, 'y': { symlink: 'x' } });
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const result = await h.capture();
    assert.deepEqual([...(await listFiles(h.objects, result.root)).keys()], ['ws/a/b.txt', 'ws/a/loop', 'ws/self', 'ws/x', 'ws/y']);
  });

  test('fifos and sockets are skipped without blocking, and listed with what they are', { skip: process.platform === 'win32' }, async () => {
    const ws = await workspace({ 'a.txt': 'x' });
    execFileSync('mkfifo', [path.join(ws, 'pipe')]);
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(ws, 'sock'), resolve));
    try {
      const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
      const result = await h.capture();
      assert.deepEqual([...(await listFiles(h.objects, result.root)).keys()], ['ws/a.txt']);
      assert.deepEqual(result.skipped, [
        { path: path.join(ws, 'pipe'), reason: 'a named pipe (FIFO)', kind: 'special' },
        { path: path.join(ws, 'sock'), reason: 'a socket', kind: 'special' },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('the executable bit is kept and a chmod alone changes the point', async () => {
    const ws = await workspace({ 'run.sh': { content: 'echo\n', mode: 0o644 } });
    await ageAll(ws);
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const first = await h.capture();
    await fs.chmod(path.join(ws, 'run.sh'), 0o755);
    const second = await h.capture();
    assert.notEqual(second.root, first.root);
    assert.equal((await lookupEntry(h.objects, second.root, 'ws/run.sh'))!.mode, 0o755);
    assert.equal((await lookupEntry(h.objects, first.root, 'ws/run.sh'))!.mode, 0o644);
  });

  test('multi-root: one folder entry per root, by name, including an empty root', async () => {
    const a = await workspace({ 'x.txt': 'from a' });
    const b = await workspace({ 'sub/y.txt': 'from b' });
    const c = await workspace({});
    const h = await CaptureHarness.create([
      { name: 'front', path: a },
      { name: 'back', path: b },
      { name: 'empty', path: c },
    ]);
    const result = await h.capture();
    const rootTree = await h.objects.readTree(result.root);
    assert.deepEqual(rootTree.e.map((e) => [e[0], e[1]]), [['back', 'd'], ['empty', 'd'], ['front', 'd']]);
    assert.deepEqual([...(await listFiles(h.objects, result.root)).keys()], ['back/sub/y.txt', 'front/x.txt']);
    assert.equal(result.fileCount, 2);
    assert.deepEqual([...(await listFiles(h.objects, result.root, { under: 'back' })).keys()], ['back/sub/y.txt']);
  });

  test('a missing workspace folder is recorded as empty and listed', async () => {
    const a = await workspace({ 'x.txt': 'x' });
    const gone = path.join(a, 'does-not-exist');
    const h = await CaptureHarness.create([
      { name: 'a', path: a },
      { name: 'gone', path: gone },
    ]);
    const result = await h.capture();
    assert.deepEqual(result.skipped, [{ path: gone, reason: 'the workspace folder is recorded as empty: it does not exist', kind: 'unreadable' }]);
    assert.deepEqual((await h.objects.readTree(result.root)).e.map((e) => e[0]), ['a', 'gone']);
  });

  test('rejects unsafe or duplicate root names', async () => {
    const ws = await workspace({ 'a.txt': 'x' });
    const store = await openStore(path.join(await tempDir(), 'objects'));
    const base = { rules: DEFAULT_CAPTURE_RULES, objects: store.beginBatch(), cache: CaptureCache.empty() };
    await assert.rejects(captureWorkspace({ ...base, roots: [{ name: '../x', path: ws }] }), (e) => e instanceof StateError && e.kind === 'SnapshotCreationError');
    await assert.rejects(captureWorkspace({ ...base, roots: [{ name: 'a', path: ws }, { name: 'a', path: ws }] }), (e) => e instanceof StateError && e.kind === 'SnapshotCreationError');
  });

  /** Full captures of `ws` as an unprivileged user when running as root (root reads everything), else in this process; one store for all. */
  async function capturer(ws: string): Promise<(previousRoot?: string) => Promise<{ files: string[]; skipped: CaptureResult['skipped']; root: string }>> {
    if (isRoot) {
      const storeDir = await tempDir('rp-capture-store-');
      const tmp = await tempDir('rp-capture-tmp-');
      const script = path.join(__dirname, 'helpers', 'captureAsUser.ts');
      return async (previousRoot) => {
        for (const dir of [ws, storeDir, tmp]) execFileSync('chown', ['-R', '65534:65534', dir]);
        const out = execFileSync(process.execPath, ['--import', 'tsx', script, ws, storeDir, ...(previousRoot ? [previousRoot] : [])], {
          cwd: path.resolve(__dirname, '..', '..'),
          uid: 65534,
          gid: 65534,
          env: { ...process.env, TMPDIR: tmp },
          encoding: 'utf8',
        });
        return JSON.parse(out) as { files: string[]; skipped: CaptureResult['skipped']; root: string };
      };
    }
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    return async (previousRoot) => {
      const result = await h.capture({ previousRoot, cache: CaptureCache.empty() });
      return { files: [...(await listFiles(h.objects, result.root)).keys()], skipped: result.skipped, root: result.root };
    };
  }

  test('unreadable files and folders are skipped and listed', { skip: process.platform === 'win32' ? 'no POSIX permissions' : false }, async () => {
    const ws = await workspace({ 'ok.txt': 'x', 'locked.txt': 'x', 'closed/inner.txt': 'x' });
    await fs.chmod(path.join(ws, 'locked.txt'), 0o000);
    await fs.chmod(path.join(ws, 'closed'), 0o000);
    const outcome = await (await capturer(ws))();
    assert.deepEqual(outcome.files, ['ws/ok.txt']);
    assert.deepEqual(outcome.skipped, [
      { path: path.join(ws, 'closed'), reason: 'permission denied', kind: 'unreadable' },
      { path: path.join(ws, 'locked.txt'), reason: 'permission denied', kind: 'unreadable' },
    ]);
  });

  test('unreadable is not deleted: what cannot be read now keeps its version from the previous point', { skip: process.platform === 'win32' ? 'no POSIX permissions' : false }, async () => {
    const ws = await workspace({ 'ok.txt': 'x', 'locked.txt': 'locked', 'closed/inner.txt': 'inner', 'closed/sub/deep.txt': 'deep', 'open/shut.txt': 'shut' });
    const capture = await capturer(ws);
    const first = await capture();
    await fs.writeFile(path.join(ws, 'ok.txt'), 'changed');
    await fs.chmod(path.join(ws, 'locked.txt'), 0o000);
    await fs.chmod(path.join(ws, 'closed'), 0o000);
    // listed but not searchable: every file in it is unreadable
    await fs.chmod(path.join(ws, 'open'), 0o644);
    try {
      const second = await capture(first.root);
      assert.deepEqual(second.files, first.files);
      assert.deepEqual(second.skipped.filter((s) => s.kind === 'kept-previous').map((s) => s.path), [path.join(ws, 'closed'), path.join(ws, 'locked.txt'), path.join(ws, 'open', 'shut.txt')]);
      assert.deepEqual(second.skipped.filter((s) => s.kind === 'unreadable'), []);
      assert.notEqual(second.root, first.root, 'the readable change is captured');
    } finally {
      await fs.chmod(path.join(ws, 'closed'), 0o755);
      await fs.chmod(path.join(ws, 'open'), 0o755);
    }
  });

  test('files vanishing during the scan are skipped silently', async () => {
    const ws = await workspace(Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`d${i % 3}/f${i}.txt`, `file ${i}`])));
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const batch = h.objects.beginBatch();
    let removed = false;
    // When the first content is stored, the folders have been listed and most files not read yet: remove them all.
    const objects = {
      has: (hash: string) => batch.has(hash),
      readBlob: (hash: string) => batch.readBlob(hash),
      readTree: (hash: string) => batch.readTree(hash),
      putTree: (tree: Parameters<typeof batch.putTree>[0]) => batch.putTree(tree),
      putBlob: (content: Buffer) => {
        if (!removed) {
          removed = true;
          for (const dir of readdirSync(ws)) for (const name of readdirSync(path.join(ws, dir))) rmSync(path.join(ws, dir, name));
        }
        return batch.putBlob(content);
      },
    };
    const result = await captureWorkspace({ roots: h.roots, rules: h.rules, objects, cache: h.cache });
    await batch.commit();
    assert.ok(removed);
    assert.deepEqual(result.skipped, []);
    assert.ok(result.fileCount >= 1 && result.fileCount < 600, `${result.fileCount} files captured`);
    const files = await listFiles(h.objects, result.root);
    assert.equal(files.size, result.fileCount);
    for (const [file, info] of files) {
      const i = Number(/f(\d+)/.exec(file)![1]);
      assert.equal((await h.objects.readBlob(info.hash)).toString(), `file ${i}`);
    }
  });

  test('progress is reported and an abort stops the capture with the abort reason', async () => {
    const ws = await workspace(Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`d${i % 7}/f${i}.txt`, `file ${i}`])));
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const progress: number[] = [];
    const result = await h.capture({ onProgress: (n) => progress.push(n) });
    assert.equal(result.fileCount, 600);
    assert.ok(progress.length >= 2);
    assert.equal(progress.at(-1), 600);
    assert.ok(progress.every((n, i) => i === 0 || n >= progress[i - 1]!));

    const controller = new AbortController();
    const batch = h.objects.beginBatch();
    let seen = 0;
    const aborted = captureWorkspace({
      roots: h.roots,
      rules: h.rules,
      objects: batch,
      cache: CaptureCache.empty(),
      signal: controller.signal,
      onProgress: (n) => {
        seen = n;
        controller.abort(new Error('stop now'));
      },
    });
    await assert.rejects(aborted, /stop now/);
    await batch.abort();
    assert.ok(seen > 0 && seen < 600);
    const already = new AbortController();
    already.abort();
    await assert.rejects(h.capture({ signal: already.signal }), (e: Error) => e.name === 'AbortError');
  });

  test('a file rewritten during the capture still gives an entry consistent with its stored content', async () => {
    const ws = await workspace({ 'busy.bin': Buffer.alloc(200_000, 1), 'calm.txt': 'x' });
    const file = path.join(ws, 'busy.bin');
    let writing = true;
    const writer = (async () => {
      for (let round = 2; writing; round++) await fs.writeFile(file, Buffer.alloc(100_000 + (round % 7) * 20_000, round % 256));
    })();
    try {
      const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
      for (let i = 0; i < 10; i++) {
        const result = await h.capture({ cache: CaptureCache.empty() });
        const info = (await listFiles(h.objects, result.root)).get('ws/busy.bin');
        if (!info) continue; // caught between truncate and write: an empty or vanished file is fine too
        const content = await h.objects.readBlob(info.hash);
        assert.equal(info.size, content.length);
        assert.equal(info.hash, hashObject('blob', content));
      }
    } finally {
      writing = false;
      await writer;
    }
  });
});
