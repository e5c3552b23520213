/**
 * The command-line tool where a person's mistakes and odd files meet it (#9 items 10–12): a store that
 * cannot be written, files the capture cannot take, a missing or mistyped store, hostile names and
 * labels, and arguments refused before any work.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanupAll, makeSandbox, openStore, writeFiles } from '../core/helpers/storeFixtures';
import { CLI, cli, ensureBuilt, json, ok, type CliOptions } from './helpers/runCli';

after(cleanupAll);
before(ensureBuilt);

const isRoot = process.getuid?.() === 0;
const posix = process.platform !== 'win32';
/** Root writes through any permission: the permission cases run the tool as `nobody` then. */
const NOBODY = 65534;

/** Every file and folder below `dir` with its mode and size (a change shows that something was written). */
async function snapshotOfTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await fs.readdir(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      const stat = await fs.lstat(full);
      out.push(`${path.relative(dir, full)} ${(stat.mode & 0o7777).toString(8)} ${entry.isDirectory() ? '' : stat.size}`);
      if (entry.isDirectory()) await walk(full);
    }
  };
  await walk(dir);
  return out.sort();
}

async function project(): Promise<{ sb: Awaited<ReturnType<typeof makeSandbox>>; base: string[]; as: CliOptions }> {
  const sb = await makeSandbox('rp-cli-safety-');
  await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'src/b.ts': 'b1\n' });
  // the sandbox and the tool's HOME are readable by the user the permission cases run as
  if (isRoot) await fs.chmod(sb.root, 0o755);
  return { sb, base: ['--workspace', sb.ws, '--store', sb.store], as: isRoot ? { uid: NOBODY, gid: NOBODY } : {} };
}

describe('a store that cannot be written', { skip: posix ? false : 'no POSIX permissions' }, () => {
  test('a read-only store stays read-only: the snapshot fails before writing anything, and nothing new is listed', async () => {
    const { sb, base, as } = await project();
    const first = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    if (isRoot) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, sb.root]);
    execFileSync('chmod', ['-R', 'a-w', sb.store]);
    const before = await snapshotOfTree(sb.store);
    const modeBefore = (await fs.stat(sb.store)).mode & 0o7777;

    const run = await cli(['snapshot', ...base], as);
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /cannot be written/);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.equal((await fs.stat(sb.store)).mode & 0o7777, modeBefore, 'the store folder keeps its permissions');
    assert.deepEqual(await snapshotOfTree(sb.store), before, 'no file or permission in the store changed');

    const listed = json<Array<{ id: string }>>(await cli(['list', '--json', ...base], as));
    assert.deepEqual(listed.map((p) => p.id), [first], 'reading a read-only store still works, and lists no new point');
    // commands that change nothing but take the lock say so, and what reads the store as it is
    for (const command of [['diff', first], ['restore', first, '--dry-run'], ['verify']]) {
      const refused = await cli([...command, ...base], as);
      assert.equal(refused.code, 1, refused.stdout);
      assert.match(refused.stderr, new RegExp(`cannot be written .*"${command[0]}${command.includes('--dry-run') ? ' --dry-run' : ''}" takes the store's lock.*; list, show, log, cat, search and stats read it as it is\\.`), refused.stderr);
      assert.doesNotMatch(refused.stderr, /to create, restore or delete points/);
    }
    assert.deepEqual(await snapshotOfTree(sb.store), before, 'still nothing changed');
    execFileSync('chmod', ['-R', 'u+w', sb.store]);
  });

  test('a folder where the store keeps its lock file: one sentence that says what to move, nothing written', async () => {
    const { sb, base } = await project();
    ok(await cli(['snapshot', ...base]));
    await fs.rm(path.join(sb.store, 'writer.lock'), { force: true });
    await fs.mkdir(path.join(sb.store, 'writer.lock'));
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    const run = await cli(['snapshot', ...base]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /a folder stands where it keeps its lock file \(writer\.lock\)\. Move that folder out of the store and try again\./);
    await fs.rmdir(path.join(sb.store, 'writer.lock'));
    ok(await cli(['snapshot', ...base]));
  });

  test('an audit log that cannot be appended to: refused before the capture, not reported as failed after the point is listed', async () => {
    const { sb, base, as } = await project();
    const first = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    if (isRoot) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, sb.root]);
    await fs.chmod(path.join(sb.store, 'audit.log.jsonl'), 0o400);
    const before = await snapshotOfTree(sb.store);
    const run = await cli(['snapshot', ...base], as);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /cannot be written/);
    assert.deepEqual(await snapshotOfTree(sb.store), before, 'nothing written');
    assert.deepEqual(json<Array<{ id: string }>>(await cli(['list', '--json', ...base], as)).map((p) => p.id), [first]);
  });
});

describe('what a point leaves out is said', { skip: posix ? false : 'no FIFOs' }, () => {
  test('a 3 GB sparse file, a FIFO and a socket: each named on stderr with its reason; the point is made', async () => {
    const { sb, base } = await project();
    const big = path.join(sb.ws, 'huge.bin');
    const handle = await fs.open(big, 'w');
    await handle.truncate(3 * 1024 ** 3);
    await handle.close();
    execFileSync('mkfifo', [path.join(sb.ws, 'pipe')]);
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(sb.ws, 'sock'), resolve));
    try {
      const run = ok(await cli(['snapshot', ...base]));
      assert.match(run.stdout, /Created recovery point/);
      assert.match(run.stderr, /left out 3 paths/);
      assert.match(run.stderr, new RegExp(`${big.replaceAll('/', '\\/')}: 3\\.0 GB, over the maximum file size of 10\\.0 MB`));
      assert.match(run.stderr, /pipe: a named pipe \(FIFO\)/);
      assert.match(run.stderr, /sock: a socket/);
      const plain = await project();
      assert.equal(ok(await cli(['snapshot', ...plain.base])).stderr, '', 'nothing is said when nothing is left out');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('a missing or mistyped store', () => {
  test('read-only commands say the store does not exist, exit 2 (bad input), and create nothing', async () => {
    const { sb } = await project();
    const typo = path.join(sb.root, 'stroe');
    for (const args of [['list'], ['show', 'latest'], ['diff', 'latest'], ['stats'], ['verify']]) {
      const run = await cli([...args, '--workspace', sb.ws, '--store', typo]);
      assert.equal(run.code, 2, `${args[0]}: ${run.stdout}`);
      assert.match(run.stderr, /does not exist/, args[0]);
      assert.equal(run.stdout, '');
      assert.equal(await fs.stat(typo).then(() => true, () => false), false, `${args[0]} created no store`);
    }
    const notAStore = await cli(['list', '--workspace', sb.ws, '--store', sb.ws]);
    assert.equal(notAStore.code, 2);
    assert.match(notAStore.stderr, /is not a recovery point store/);
    assert.deepEqual(await fs.readdir(sb.ws), ['a.txt', 'src'], 'nothing was created in the folder named by mistake');
    ok(await cli(['snapshot', '--workspace', sb.ws, '--store', typo]));
    assert.equal(json<unknown[]>(await cli(['list', '--json', '--workspace', sb.ws, '--store', typo])).length, 1, 'a snapshot makes the store');
  });

  test('a damaged point is warned about once a command, however many listings it makes', async () => {
    const { sb, base } = await project();
    ok(await cli(['snapshot', ...base]));
    await fs.writeFile(path.join(sb.store, 'points', '20991231T000000000Z-aaaaaa.json'), '{"schemaVersion":1}\n');
    for (const args of [['restore', 'latest', '--dry-run'], ['diff', 'latest'], ['show', 'latest']]) {
      const run = ok(await cli([...args, ...base]));
      assert.equal(run.stderr.split('\n').filter((line) => line.includes('20991231T000000000Z-aaaaaa is damaged')).length, 1, `${args[0]}: ${run.stderr}`);
    }
  });

  test('a store another user cannot look at is a sentence, not an error code', { skip: !isRoot || !posix }, async () => {
    const { sb, base } = await project();
    ok(await cli(['snapshot', ...base]));
    await fs.chmod(sb.root, 0o700);
    try {
      const run = await cli(['list', '--workspace', os.tmpdir(), '--store', sb.store], { uid: NOBODY, gid: NOBODY, cwd: os.tmpdir() });
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stderr, `recovery-points: The recovery point store ${sb.store} cannot be looked at (permission denied: it belongs to another user, or a folder on its way is closed).\n`);
    } finally {
      await fs.chmod(sb.root, 0o755);
    }
  });

  test('a folder of other files named as the store is never made one: every command that makes a store refuses it, the hook too, and nothing in it changes', async () => {
    const { sb } = await project();
    const victim = path.join(sb.root, 'victim');
    await writeFiles(victim, { 'main.c': 'int main;\n' });
    await fs.chmod(victim, 0o755);
    const said = /victim holds other files and is not a recovery point store \(it has no points\): nothing was written to it\. A store is made only in a new or empty folder/;
    for (const args of [['snapshot'], ['mcp'], ['import', path.join(sb.root, 'none.rpbundle')], ['adopt', '--from', path.join(sb.root, 'none')]]) {
      const run = await cli([...args, '--workspace', sb.ws, '--store', victim]);
      assert.equal(run.code, 1, `${args[0]}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, said, args[0]);
    }
    const payload = JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, cwd: sb.ws, session_id: 's' });
    const hook = spawnSync(process.execPath, [CLI, 'hook', '--agent', 'claude', '--store', victim], { input: payload, encoding: 'utf8', env: { ...process.env, HOME: sb.root, RECOVERY_POINTS_HELPER: 'off' } });
    assert.equal(hook.status, 0, 'a hook never stops the agent');
    assert.match(hook.stderr, said);
    assert.deepEqual(await fs.readdir(victim), ['main.c'], 'nothing was created in it');
    assert.equal((await fs.stat(victim)).mode & 0o777, 0o755, 'its access is as it was');
  });
});

describe('hostile names and labels', () => {
  test('labels and file names with newlines and terminal escapes are printed escaped; --json keeps them exact', async () => {
    const { sb, base } = await project();
    const label = 'fine\n\u001b[2J\u001b]0;owned\u0007 \u202Egnp.exe';
    const name = 'evil\n\u001b[31mred\r.txt';
    await writeFiles(sb.ws, { [name]: 'x\n' });
    ok(await cli(['snapshot', '--label', label, ...base]));
    for (const args of [['list'], ['show', 'latest'], ['diff', 'latest']]) {
      await writeFiles(sb.ws, { [name]: 'changed\n' });
      const run = ok(await cli([...args, ...base]));
      // eslint-disable-next-line no-control-regex -- looking for control characters
      assert.doesNotMatch(run.stdout, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/, `${args[0]} prints no control character: ${JSON.stringify(run.stdout)}`);
      if (args[0] !== 'diff') assert.ok(run.stdout.includes('fine\\n\\e[2J\\e]0;owned\\x07 \\u202egnp.exe'), `${args[0]} shows the label escaped: ${run.stdout}`);
      if (args[0] !== 'list') assert.ok(run.stdout.includes('evil\\n\\e[31mred\\r.txt'), `${args[0]} shows the name escaped: ${run.stdout}`);
    }
    const points = json<Array<{ label: string }>>(await cli(['list', '--json', ...base]));
    assert.equal(points[0]!.label, label, 'JSON carries the label exactly');
  });

  test('a label over 200 characters is refused before the capture, with exit 2 and a clear message', async () => {
    const { sb, base } = await project();
    const run = await cli(['snapshot', '--label', 'x'.repeat(201), ...base]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--label is 201 characters long; a label may have at most 200/);
    assert.doesNotMatch(run.stderr, /manifest/);
    assert.equal(await fs.stat(path.join(sb.store, 'objects')).then(() => true, () => false), false, 'nothing was captured');
    ok(await cli(['snapshot', '--label', 'x'.repeat(200), ...base]));
  });
});

describe('the editor\'s capture rules, kept in the store, apply to the command-line tool and the agents', () => {
  test('a file the editor\'s settings exclude is neither captured nor removed by the tool\'s restore; damaged rules fall back to the defaults with a warning', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'one\n', 'data/big.csv': 'precious data\n', 'huge.bin': 'x'.repeat(3000) });
    // as the extension opens the store with its settings (recoveryPoints.exclude, maxFileSizeMB)
    const editor = await openStore(sb, { rules: { excludes: ['data/**'], maxFileSize: 1000 } });
    editor.persistence.saveCaptureRules();
    const point = await editor.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    await editor.close();
    await writeFiles(sb.ws, { 'a.txt': 'two\n' });
    const base = ['--workspace', sb.ws, '--store', sb.store];
    const snap = json<string>(await cli(['snapshot', '--json', ...base]));
    const shown = json<{ changedFiles: { added: string[]; modified: string[]; deleted: string[] } }>(await cli(['show', snap, '--json', ...base]));
    assert.deepEqual(shown.changedFiles, { added: [], modified: ['ws/a.txt'], deleted: [] }, 'the tool\'s point follows the editor\'s rules');
    ok(await cli(['restore', point!.id, ...base]));
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'one\n');
    assert.equal(await fs.readFile(path.join(sb.ws, 'data', 'big.csv'), 'utf8'), 'precious data\n', 'the excluded file is left alone');
    assert.equal((await fs.readFile(path.join(sb.ws, 'huge.bin'), 'utf8')).length, 3000, 'the file over the size limit is left alone');
    await fs.writeFile(path.join(sb.store, 'capture-rules.json'), '{"schemaVersion":1,"rules":');
    const damaged = await cli(['snapshot', '--json', ...base]);
    ok(damaged);
    assert.match(damaged.stderr, /capture rules the editor saved in the store cannot be read/);
  });
});
