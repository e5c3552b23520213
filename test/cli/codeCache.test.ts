/**
 * V8's code cache of the command-line tool (#14): a command's first successful run leaves the bytecode
 * it compiled in the user's cache folder, later runs compile with it, and a cache that is damaged, of
 * another build, of another script, or that cannot be written changes nothing a person sees.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Script } from 'node:vm';
import { after, before, test } from 'node:test';
import { bundleIdentity, writeCodeCache } from '../../src/cli/codeCache';
import { cleanupAll, makeSandbox, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';
import { CLI, CLI_BUNDLE, cli, ensureBuilt, ok, type Run } from './helpers/runCli';

after(cleanupAll);
before(ensureBuilt);

interface Setup {
  readonly sb: Sandbox;
  /** The user's cache folder the tool is given (XDG_CACHE_HOME). */
  readonly cacheHome: string;
  readonly run: (args: string[], options?: { env?: Record<string, string>; tool?: string }) => Promise<Run>;
}

/** A store with one point, and a private cache folder for the tool. */
async function setUp(): Promise<Setup> {
  const sb = await makeSandbox('rp-code-cache-');
  const cacheHome = path.join(sb.root, 'cache-home');
  await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1;\n', 'README.md': '# project\n' });
  const run = (args: string[], options: { env?: Record<string, string>; tool?: string } = {}) =>
    cli([...args, '--workspace', sb.ws, '--store', sb.store], { env: { XDG_CACHE_HOME: cacheHome, ...options.env }, cli: options.tool });
  ok(await run(['snapshot'], { env: { RECOVERY_POINTS_CODE_CACHE: 'off' } }));
  return { sb, cacheHome, run };
}

/** The cache files in the tool's code-cache folder, by name, with their bytes. */
async function cacheFiles(cacheHome: string): Promise<Map<string, Buffer>> {
  const dir = path.join(cacheHome, 'recovery-points', 'code-cache');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return new Map(await Promise.all(names.map(async (name) => [name, await fs.readFile(path.join(dir, name))] as const)));
}

async function onlyCache(cacheHome: string, command: string): Promise<{ file: string; bytes: Buffer }> {
  const files = [...(await cacheFiles(cacheHome))].filter(([name]) => name.startsWith(`${command}-`));
  assert.equal(files.length, 1, `one cache of "${command}": ${[...(await cacheFiles(cacheHome)).keys()].join(', ')}`);
  return { file: path.join(cacheHome, 'recovery-points', 'code-cache', files[0]![0]), bytes: files[0]![1] };
}

test('a command leaves its code cache after its first successful run; later runs use it and leave it as it is', async () => {
  const { sb, cacheHome, run } = await setUp();
  assert.equal((await cacheFiles(cacheHome)).size, 0, 'RECOVERY_POINTS_CODE_CACHE=off writes none');
  const without = ok(await run(['list', '--json'], { env: { RECOVERY_POINTS_CODE_CACHE: 'off' } }));

  const first = ok(await run(['list', '--json']));
  const written = await onlyCache(cacheHome, 'list');
  if (process.platform !== 'win32') assert.equal((await fs.stat(written.file)).mode & 0o777, 0o600);
  const stamp = await fs.stat(written.file);
  const second = ok(await run(['list', '--json']));
  assert.deepEqual(await fs.stat(written.file).then((s) => [s.ino, s.mtimeMs]), [stamp.ino, stamp.mtimeMs], 'a cache that was used is not written again');
  assert.deepEqual([first.stdout, second.stdout, first.stderr, second.stderr], [without.stdout, without.stdout, '', '']);

  // each command has its own, and a failed run leaves none
  ok(await run(['show', 'latest']));
  await onlyCache(cacheHome, 'show');
  const failed = await run(['show', 'no-such-point']);
  assert.notEqual(failed.code, 0, failed.stderr);
  assert.equal((await cacheFiles(cacheHome)).size, 2);
  const unknown = await run(['no-such-command']);
  assert.equal(unknown.code, 2);
  assert.equal((await cacheFiles(cacheHome)).size, 2, 'a mistyped command leaves no cache');

  // a copy of the tool without its bundle says so, in one line
  const copy = path.join(sb.root, 'tool');
  await fs.mkdir(copy, { recursive: true });
  await fs.copyFile(CLI, path.join(copy, 'cli.js'));
  const missing = await run(['list'], { tool: path.join(copy, 'cli.js') });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^recovery-points: the tool could not be loaded from .*reinstall it\.\n$/);
  assert.equal(missing.stdout, '');
});

test('a damaged cache, one of another script or of an earlier build, or one another user could have written is not used and is replaced; a cache folder that cannot be made changes nothing a person sees', async () => {
  const { sb, cacheHome, run } = await setUp();
  const expected = ok(await run(['list', '--json'], { env: { RECOVERY_POINTS_CODE_CACHE: 'off' } })).stdout;
  ok(await run(['list', '--json']));
  const { file, bytes: good } = await onlyCache(cacheHome, 'list');

  // damaged: one byte of the bytecode changed (V8 itself would take it)
  const damaged = Buffer.from(good);
  damaged[damaged.length - 100] ^= 0xff;
  await fs.writeFile(file, damaged);
  assert.deepEqual(await run(['list', '--json']), { code: 0, stdout: expected, stderr: '' });
  const rewritten = await fs.readFile(file);
  assert.notDeepEqual(rewritten, damaged, 'a damaged cache is replaced');
  const stamp = await fs.stat(file);
  ok(await run(['list', '--json']));
  assert.equal((await fs.stat(file)).mtimeMs, stamp.mtimeMs, 'and the new one is used');

  // of another script, with this build's identity and a right checksum: V8 refuses it
  writeCodeCache(file, bundleIdentity(await fs.stat(CLI_BUNDLE)), new Script('6 * 7').createCachedData());
  const foreign = await fs.readFile(file);
  assert.deepEqual(await run(['list', '--json']), { code: 0, stdout: expected, stderr: '' });
  assert.notDeepEqual(await fs.readFile(file), foreign, 'a cache V8 refused is replaced');

  // one that another user owns, or that others may change: bytecode runs as this user
  if (process.platform !== 'win32' && process.getuid?.() === 0) {
    await fs.chown(file, 1, 1);
    const owned = await fs.stat(file);
    assert.deepEqual(await run(['list', '--json']), { code: 0, stdout: expected, stderr: '' });
    assert.notEqual((await fs.stat(file)).uid, owned.uid, "another user's cache is replaced");
  }
  if (process.platform !== 'win32') {
    await fs.chmod(file, 0o666);
    const open = await fs.stat(file);
    assert.deepEqual(await run(['list', '--json']), { code: 0, stdout: expected, stderr: '' });
    const replaced = await fs.stat(file);
    assert.deepEqual([replaced.ino !== open.ino, replaced.mode & 0o777], [true, 0o600], 'a cache others may change is replaced');
  }

  // of an earlier build: a copy of the tool whose bundle then changes
  const copy = path.join(sb.root, 'tool');
  await fs.mkdir(path.join(copy, 'cli'), { recursive: true });
  await fs.copyFile(CLI, path.join(copy, 'cli.js'));
  await fs.copyFile(CLI_BUNDLE, path.join(copy, 'cli', 'main.js'));
  const tool = path.join(copy, 'cli.js');
  ok(await run(['stats'], { tool }));
  const before = await onlyCache(cacheHome, 'stats');
  await fs.appendFile(path.join(copy, 'cli', 'main.js'), '\n// rebuilt\n');
  ok(await run(['stats'], { tool }));
  const afterRebuild = await onlyCache(cacheHome, 'stats');
  assert.equal(afterRebuild.file, before.file, 'the same install keeps one cache per command');
  assert.notDeepEqual(afterRebuild.bytes, before.bytes, "an earlier build's cache is replaced");

  // a cache folder that cannot be made: only slower
  const notAFolder = path.join(sb.root, 'file');
  await fs.writeFile(notAFolder, 'not a folder\n');
  for (let i = 0; i < 2; i++) assert.deepEqual(await run(['list', '--json'], { env: { XDG_CACHE_HOME: notAFolder } }), { code: 0, stdout: expected, stderr: '' });
});
