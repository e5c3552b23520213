/**
 * The hooks' resident helper (#14 target 2): `hook-client.sh`, as `hooks install` writes it, hands the
 * payload to `recovery-points hook-helper` when one of this install answers with its secret, and runs
 * the hook with Node otherwise (then starting a helper for the next hooks). Real processes, a real
 * loopback connection, real stores in temporary folders.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { auditFileEntries, cleanupAll, makeSandbox, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';
import { CLI, cli, cliHome, ensureBuilt, json, ok, REPO, type Run } from './helpers/runCli';
import { BUDGET_ENV, fixture, runWithInput } from './helpers/runHook';
import { SERVED_COMMANDS, SERVED_ENV } from '../../src/hooks/helper/hookHelper';
import { KeptStores } from '../../src/hooks/helper/keptStores';
import { parseArgs } from '../../src/cli/args';
import { runCommand } from '../../src/cli/runCommand';
import type { StoreUse } from '../../src/cli/storeUse';
import type { RecoveryStore } from '../../src/core/recoveryStore';

const started: ChildProcess[] = [];
const helperPids = new Set<number>();
const places: Place[] = [];

before(ensureBuilt);
after(async () => {
  for (const child of started) child.kill('SIGKILL');
  // helpers that hooks started, in a test that failed before it stopped them
  for (const p of places) {
    try {
      helperPids.add(address(p)!.pid);
    } catch {
      // none was running
    }
  }
  for (const pid of helperPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ended already
    }
  }
  await cleanupAll();
});

interface Place {
  readonly sb: Sandbox;
  readonly helperDir: string;
  readonly base: string[];
}

async function place(): Promise<Place> {
  const sb = await makeSandbox('rp-helper-');
  await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1;\n', 'README.md': '# project\n' });
  const base = ['--workspace', sb.ws, '--store', sb.store];
  ok(await cli(['snapshot', ...base]));
  const helperDir = path.join(sb.root, 'helper');
  fs.mkdirSync(helperDir, { mode: 0o700 });
  const made = { sb, helperDir, base };
  places.push(made);
  return made;
}

async function env(p: Place, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const home = await cliHome();
  return { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), RECOVERY_POINTS_HELPER_DIR: p.helperDir, [BUDGET_ENV]: '60000', ...extra };
}

/** Runs the hook command `hooks install` writes (bash, the client, Node, the tool), as an agent does. */
async function clientHook(p: Place, payload: string, extra: Record<string, string> = {}, tool = CLI, agent = 'claude'): Promise<Run> {
  const child = spawn('/bin/bash', [path.join(path.dirname(tool), 'hook-client.sh'), process.execPath, tool, 'hook', '--agent', agent, '--store', p.sb.store], { cwd: p.sb.ws, env: await env(p, extra) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(payload);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  return { code, stdout, stderr };
}

/** `clientHook` with its standard input written by `feed` (given the child's stdin), killed after `killAfterMs`; `ms`: how long it ran. */
async function clientHookFed(p: Place, feed: (stdin: NodeJS.WritableStream) => void, extra: Record<string, string>, killAfterMs: number, client = path.join(path.dirname(CLI), 'hook-client.sh')): Promise<Run & { ms: number }> {
  const started = Date.now();
  const child = spawn('/bin/bash', [client, process.execPath, CLI, 'hook', '--agent', 'claude', '--store', p.sb.store], { cwd: p.sb.ws, env: await env(p, extra) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  feed(child.stdin);
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  clearTimeout(killer);
  child.stdin.destroy();
  return { code, stdout, stderr, ms: Date.now() - started };
}

function address(p: Place): { port: number; pid: number; cli: string } | undefined {
  const text = fs.readFileSync(path.join(p.helperDir, 'address'), 'utf8').trim();
  const [port, , , pid, ...rest] = text.split(' ');
  return { port: Number(port), pid: Number(pid), cli: rest.join(' ') };
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    let value: T | undefined;
    try {
      value = probe();
    } catch {
      value = undefined;
    }
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts `recovery-points hook-helper` for `p` and waits until it has written its address. */
async function startHelper(p: Place, extra: Record<string, string> = {}, tool = CLI): Promise<ChildProcess> {
  const child = spawn(process.execPath, [tool, 'hook-helper'], { env: await env(p, extra), stdio: 'ignore' });
  started.push(child);
  await waitFor('the helper\'s address', () => (child.pid !== undefined && address(p)?.pid === child.pid ? true : undefined));
  helperPids.add(child.pid!);
  return child;
}

const ended = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

async function newestPoint(p: Place): Promise<{ id: string; summary: string; actor: string }> {
  const [point] = json<Array<{ id: string; summary: string }>>(await cli(['list', '--json', ...p.base]));
  const created = (await auditFileEntries(p.sb.store)).filter((e) => e.action === 'create' && e.pointId === point!.id);
  return { ...point!, actor: created[0]!.actor };
}

const edit = (p: Place) => fixture('claude/PreToolUse-Edit.json', p.sb.ws);

describe('the hooks\' resident helper', () => {
  test('a hook goes through a running helper: the point made by the helper, the agent\'s answer and problems as Node gives them; "hook-helper stop" ends it', async () => {
    const p = await place();
    const helper = await startHelper(p);
    assert.equal(json<{ running: boolean; pid: number }>(await cli(['hook-helper', 'status', '--json'], { env: await env(p) })).pid, helper.pid);

    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2; // by hand\n' });
    const first = await clientHook(p, edit(p));
    assert.deepEqual(first, { code: 0, stdout: '', stderr: '' });
    const point = await newestPoint(p);
    assert.equal(point.summary, 'Before Claude Code: Edit src/app.ts');
    assert.equal(point.actor, `hook:claude:${helper.pid}`, 'the helper made the point');

    // the store stays open in the helper: the next hook sees the point it made and makes none
    assert.deepEqual(await clientHook(p, edit(p)), { code: 0, stdout: '', stderr: '' });
    assert.equal((await newestPoint(p)).id, point.id, 'no point when the file is as the newest point holds it');
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 3;\n' });
    await clientHook(p, edit(p));
    const second = await newestPoint(p);
    assert.notEqual(second.id, point.id);
    assert.equal(second.actor, `hook:claude:${helper.pid}`);

    // a prompt in other scripts than Latin, in a UTF-8 locale: the request counts its bytes, not its characters
    const prompt = 'Écris un test 🚀 pour la fonction ünïcode';
    const turn = JSON.parse(fixture('claude/UserPromptSubmit.json', p.sb.ws)) as Record<string, unknown>;
    assert.deepEqual(await clientHook(p, JSON.stringify({ ...turn, prompt }), { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }), { code: 0, stdout: '', stderr: '' });
    const [labelled] = json<Array<{ id: string; label: string | null }>>(await cli(['list', '--json', ...p.base]));
    assert.equal(labelled!.label, `Claude Code turn: ${prompt}`);
    assert.equal((await newestPoint(p)).actor, `hook:claude:${helper.pid}`);

    // an edit of a large file: the whole payload (300 kB, lines of other scripts) reaches the helper
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 4;\n' });
    const large = JSON.parse(edit(p)) as { tool_input: Record<string, unknown> };
    large.tool_input.old_string = 'export const answer = 4;';
    large.tool_input.new_string = 'une ligne réécrite 🚀\n'.repeat(12_000);
    const largePayload = `${JSON.stringify(large, null, 2)}\n`;
    assert.ok(Buffer.byteLength(largePayload) > 300_000);
    assert.deepEqual(await clientHook(p, largePayload), { code: 0, stdout: '', stderr: '' });
    const afterLarge = await newestPoint(p);
    assert.equal(afterLarge.summary, 'Before Claude Code: Edit src/app.ts');
    assert.equal(afterLarge.actor, `hook:claude:${helper.pid}`);

    // a payload that is not an agent's: the line Node's hook prints, exit 0
    const bad = await clientHook(p, 'not json');
    assert.equal(bad.code, 0);
    assert.equal(bad.stdout, '');
    const direct = await runWithInput(['hook', '--agent', 'claude', '--store', p.sb.store], 'not json', { cwd: p.sb.ws, env: { RECOVERY_POINTS_HELPER: 'off' } });
    assert.equal(bad.stderr, direct.stderr, 'the same line as Node\'s hook');
    assert.match(bad.stderr, /^recovery-points hook: .+; no point was made, the agent goes on\.\n$/);

    // what an agent reads on standard output (Cline's answer), as Node's hook prints it
    const clineTurn = fixture('cline/UserPromptSubmit.json', p.sb.ws);
    const cline = await clientHook(p, clineTurn, {}, CLI, 'cline');
    const clineByNode = await runWithInput(['hook', '--agent', 'cline', '--store', p.sb.store], clineTurn, { cwd: p.sb.ws, env: { RECOVERY_POINTS_HELPER: 'off' } });
    assert.deepEqual(cline, { code: 0, stdout: clineByNode.stdout, stderr: '' });
    assert.equal(cline.stdout, '{"cancel":false}\n');
    assert.equal((await newestPoint(p)).actor, `hook:cline:${helper.pid}`);

    ok(await cli(['hook-helper', 'stop'], { env: await env(p) }));
    await ended(helper);
    assert.equal(fs.existsSync(path.join(p.helperDir, 'address')), false, 'its address is removed');
    assert.match(ok(await cli(['hook-helper', 'status'], { env: await env(p) })).stdout, /No hook helper is running/);
  });

  test('a payload of 1 MiB or more (a PostToolUse carrying the whole file) goes from the client to Node, bytes as sent, though a helper runs', async () => {
    const p = await place();
    const helper = await startHelper(p);
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 4;\n' });
    const payload = JSON.parse(edit(p)) as { tool_input: Record<string, unknown> };
    // multi-byte characters across the first MiB's end
    payload.tool_input.new_string = `${'x'.repeat(1_048_000)}${'é🚀'.repeat(300_000)}`;
    const run = await clientHook(p, JSON.stringify(payload));
    assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
    const point = await newestPoint(p);
    assert.equal(point.summary, 'Before Claude Code: Edit src/app.ts');
    assert.match(point.actor, /^hook:claude:\d+$/);
    assert.notEqual(point.actor, `hook:claude:${helper.pid}`, 'Node made the point');
  });

  test('a payload whose end does not come within the budget: the client hands it to Node, which makes the point when the rest comes, and gives up within its budget when it never does', async () => {
    const p = await place();
    await startHelper(p);
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
    const payload = edit(p);
    const half = Math.floor(payload.length / 2);
    // the rest comes after the client's budget: Node reads it
    const slow = await clientHookFed(p, (stdin) => {
      stdin.write(payload.slice(0, half));
      setTimeout(() => stdin.end(payload.slice(half)), 1500);
    }, { [BUDGET_ENV]: '800' }, 20_000);
    assert.deepEqual([slow.code, slow.stdout, slow.stderr], [0, '', '']);
    const point = await newestPoint(p);
    assert.equal(point.summary, 'Before Claude Code: Edit src/app.ts');

    // an agent that never closes the hook's standard input: the hook answers all the same
    const never = await clientHookFed(p, (stdin) => stdin.write(payload.slice(0, half)), { [BUDGET_ENV]: '500' }, 20_000);
    assert.equal(never.code, 0, never.stderr);
    assert.match(never.stderr, /^recovery-points hook: gave up after 500 ms while reading the payload; no point was made, the agent goes on\.\n$/);
    assert.ok(never.ms < 10_000, `answered after ${never.ms} ms`);
  });

  test('bash before 4.1 (macOS\'s 3.2): a payload whose end does not come within the budget is handed to Node as well, never waited for', async () => {
    const p = await place();
    const helper = await startHelper(p);
    // the client as the bash of macOS runs it: its check of the version sends it down the older path
    const script = fs.readFileSync(path.join(path.dirname(CLI), 'hook-client.sh'), 'utf8');
    const check = 'if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 1))); then';
    assert.equal(script.split(check).length, 2, 'the client checks the version of bash once');
    const oldBash = path.join(p.sb.root, 'hook-client-bash-3.2.sh');
    fs.writeFileSync(oldBash, script.replace(check, 'if false; then'));
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
    const payload = edit(p);
    const half = Math.floor(payload.length / 2);
    // at once: through the helper
    const quick = await clientHookFed(p, (stdin) => stdin.end(payload), {}, 20_000, oldBash);
    assert.deepEqual([quick.code, quick.stdout, quick.stderr], [0, '', '']);
    const first = await newestPoint(p);
    assert.deepEqual([first.summary, first.actor], ['Before Claude Code: Edit src/app.ts', `hook:claude:${helper.pid}`]);
    // the rest after the client's budget: Node reads it, with the start the client read
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 3;\n' });
    const slow = await clientHookFed(p, (stdin) => {
      stdin.write(payload.slice(0, half));
      setTimeout(() => stdin.end(payload.slice(half)), 1500);
    }, { [BUDGET_ENV]: '800' }, 20_000, oldBash);
    assert.deepEqual([slow.code, slow.stdout, slow.stderr], [0, '', '']);
    const point = await newestPoint(p);
    assert.equal(point.summary, 'Before Claude Code: Edit src/app.ts');
    assert.notEqual(point.actor, `hook:claude:${helper.pid}`, 'Node made the point');
    assert.equal(ok(await cli(['cat', point.id, 'src/app.ts', ...p.base])).stdout, 'export const answer = 3;\n');
    // an agent that never closes the hook's standard input: the hook answers all the same
    const never = await clientHookFed(p, (stdin) => stdin.write(payload.slice(0, half)), { [BUDGET_ENV]: '500' }, 20_000, oldBash);
    assert.equal(never.code, 0, never.stderr);
    assert.match(never.stderr, /^recovery-points hook: gave up after 500 ms while reading the payload; no point was made, the agent goes on\.\n$/);
    assert.ok(never.ms < 10_000, `answered after ${never.ms} ms`);
  });

  test('without a helper, Node runs the hook and starts one; the next hook goes through it; an idle helper ends by itself', async () => {
    const p = await place();
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
    const first = await clientHook(p, edit(p), { RECOVERY_POINTS_HELPER_IDLE_MS: '4000' });
    assert.deepEqual(first, { code: 0, stdout: '', stderr: '' });
    const byNode = await newestPoint(p);
    assert.equal(byNode.summary, 'Before Claude Code: Edit src/app.ts');
    const helper = await waitFor('a helper started by the hook', () => address(p));
    helperPids.add(helper.pid);
    assert.notEqual(byNode.actor, `hook:claude:${helper.pid}`, 'the first point was made by Node');
    assert.equal(helper.cli, CLI);

    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 3;\n' });
    await clientHook(p, edit(p));
    assert.equal((await newestPoint(p)).actor, `hook:claude:${helper.pid}`, 'the second went through the helper');

    await waitFor('the idle helper to end', () => !fs.existsSync(path.join(p.helperDir, 'address')), 20_000);
    await waitFor('its process to end', () => {
      try {
        process.kill(helper.pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
  });

  test('a program on the address\'s port that does not answer with the helper\'s secret is never sent the payload; Node makes the point', async () => {
    const p = await place();
    const received: string[] = [];
    const impostor = net.createServer((socket) => {
      socket.on('data', (d: Buffer) => received.push(d.toString()));
      socket.write('not the secret\n');
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const port = (impostor.address() as net.AddressInfo).port;
      const secret = 'ab'.repeat(24);
      fs.writeFileSync(path.join(p.helperDir, 'address'), `${port} ${secret} ${'cd'.repeat(24)} 1 ${CLI}\n`, { mode: 0o600 });
      await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
      const run = await clientHook(p, edit(p));
      assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
      assert.equal((await newestPoint(p)).summary, 'Before Claude Code: Edit src/app.ts', 'the point was made');
      // the client's secret, from the client (and from the helper Node starts, asking whether a helper answers there): nothing more
      const lines = received.join('').split('\n');
      assert.equal(lines.pop(), '');
      assert.ok(lines.length >= 1 && lines.every((line) => line === secret), `the impostor got only the client's secret: ${JSON.stringify(lines)}`);
    } finally {
      impostor.close();
    }
    const helper = await waitFor('a helper of its own', () => (address(p)!.pid !== 1 ? address(p) : undefined));
    helperPids.add(helper.pid);
    ok(await cli(['hook-helper', 'stop'], { env: await env(p) }));
  });

  test('a helper that hangs up before the whole request is in (ending, a payload over its limit): Node makes the point, the hook exits 0', async () => {
    const p = await place();
    const [clientSecret, helperSecret] = ['ab'.repeat(24), 'cd'.repeat(24)];
    let got = 0;
    // proves itself, then hangs up after the first piece of the request
    const ending = net.createServer((socket) => {
      let proven = false;
      socket.on('data', (data: Buffer) => {
        got += data.length;
        if (!proven) {
          proven = true;
          socket.write(`${helperSecret}\n`);
        } else socket.destroy();
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => ending.listen(0, '127.0.0.1', resolve));
    try {
      const port = (ending.address() as net.AddressInfo).port;
      fs.writeFileSync(path.join(p.helperDir, 'address'), `${port} ${clientSecret} ${helperSecret} 1 ${CLI}\n`, { mode: 0o600 });
      await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
      // a request of 1,000,000 bytes (the most the client sends a helper is 1 MiB): more than the sockets' buffers take at once, so the client's write meets the hang-up
      const payload = JSON.parse(edit(p)) as { tool_input: Record<string, unknown> };
      payload.tool_input.new_string = 'x'.repeat(1_000_000 - JSON.stringify(payload).length);
      const run = await clientHook(p, JSON.stringify(payload));
      assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
      assert.ok(got > 0 && got < 1_000_000, `the hang-up came before the whole request (${got} bytes)`);
      const point = await newestPoint(p);
      assert.equal(point.summary, 'Before Claude Code: Edit src/app.ts');
      assert.match(point.actor, /^hook:claude:\d+$/, 'Node made the point');
    } finally {
      ending.close();
    }
  });

  test('a helper of another install, or RECOVERY_POINTS_HELPER=off, is not used', async () => {
    const p = await place();
    let connections = 0;
    const other = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const port = (other.address() as net.AddressInfo).port;
      fs.writeFileSync(path.join(p.helperDir, 'address'), `${port} ${'ab'.repeat(24)} ${'cd'.repeat(24)} 1 /elsewhere/dist/cli.js\n`, { mode: 0o600 });
      await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
      assert.deepEqual(await clientHook(p, edit(p), { RECOVERY_POINTS_HELPER: 'off' }), { code: 0, stdout: '', stderr: '' });
      assert.equal((await newestPoint(p)).summary, 'Before Claude Code: Edit src/app.ts');
      assert.equal(connections, 0);
      assert.match(fs.readFileSync(path.join(p.helperDir, 'address'), 'utf8'), /\/elsewhere\//, 'off: no helper was started');
      const bad = await clientHook(p, 'not json', { RECOVERY_POINTS_HELPER: 'off' });
      assert.equal(bad.code, 0);
      assert.match(bad.stderr, /^recovery-points hook: .+; no point was made, the agent goes on\.\n$/, 'Node\'s line reaches the agent');

      await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 3;\n' });
      assert.deepEqual(await clientHook(p, edit(p)), { code: 0, stdout: '', stderr: '' });
      assert.equal(connections, 0, 'the other install\'s helper is not connected to');
    } finally {
      other.close();
    }
    const helper = await waitFor('a helper of this install', () => (address(p)!.cli === CLI ? address(p) : undefined));
    helperPids.add(helper.pid);
    ok(await cli(['hook-helper', 'stop'], { env: await env(p) }));
  });

  test('a helper whose tool was rebuilt since it started hands the hook back to Node and ends', async () => {
    const p = await place();
    // a copy of the built tool, so its bundle can change under the helper
    const install = path.join(p.sb.root, 'install');
    fs.cpSync(path.join(REPO, 'dist'), install, { recursive: true, filter: (source) => !source.endsWith('.map') });
    const tool = path.join(install, 'cli.js');
    const helper = await startHelper(p, {}, tool);
    const bundle = path.join(install, 'cli', 'main.js');
    fs.appendFileSync(bundle, '\n');

    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
    assert.deepEqual(await clientHook(p, edit(p), {}, tool), { code: 0, stdout: '', stderr: '' });
    const point = await newestPoint(p);
    assert.equal(point.summary, 'Before Claude Code: Edit src/app.ts');
    assert.notEqual(point.actor, `hook:claude:${helper.pid}`, 'Node made the point');
    await ended(helper);
    const next = await waitFor('the helper Node started', () => (address(p)!.pid !== helper.pid ? address(p) : undefined));
    helperPids.add(next.pid);
    ok(await cli(['hook-helper', 'stop'], { cli: tool, env: await env(p) }));
  });
});

/** Runs `dist/recovery-points` (or `launcher`, a link to it) as a shell runs it: through its `#!`. */
async function launch(p: Place, args: string[], options: { cwd?: string; extra?: Record<string, string>; launcher?: string } = {}): Promise<BytesRun> {
  return runFile(options.launcher ?? LAUNCHER, args, options.cwd ?? p.sb.ws, await env(p, options.extra));
}

/** The same command run by Node alone (`RECOVERY_POINTS_HELPER=off`), in the same folder and environment. */
async function byNode(p: Place, args: string[], cwd = p.sb.ws): Promise<BytesRun> {
  return runFile(process.execPath, [CLI, ...args], cwd, await env(p, { RECOVERY_POINTS_HELPER: 'off' }));
}

interface BytesRun {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function runFile(file: string, args: string[], cwd: string, environment: Record<string, string>): Promise<BytesRun> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: environment, encoding: 'buffer', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: stderr.toString() });
    });
  });
}

const LAUNCHER = path.join(path.dirname(CLI), 'recovery-points');
/** A Node that does not exist: a command that reaches Node through it fails (127), one the helper runs does not. */
const NO_NODE = { RECOVERY_POINTS_NODE: '/nonexistent/node' };
const UTF8 = { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };

describe('the tool\'s commands through the helper (dist/recovery-points)', () => {
  test('a command refused for its input (an unknown point or path) leaves the helper\'s store open; one that fails does not', async () => {
    const p = await place();
    const kept = new KeptStores();
    const seen: RecoveryStore[] = [];
    const stores: StoreUse = { use: (options, work) => kept.use(options, (store) => (seen.push(store), work(store))) };
    let stderr = '';
    const io = { stdout: () => undefined, stderr: (text: string) => void (stderr += text), stderrIsTTY: false, stores };
    try {
      assert.equal(await runCommand(parseArgs(['list', ...p.base], p.sb.ws), io), 0);
      assert.equal(await runCommand(parseArgs(['show', 'nope', ...p.base], p.sb.ws), io), 2);
      assert.equal(await runCommand(parseArgs(['log', 'missing.ts', ...p.base], p.sb.ws), io), 2);
      assert.match(stderr, /No recovery point "nope"/);
      assert.equal(await runCommand(parseArgs(['list', ...p.base], p.sb.ws), io), 0);
      assert.equal(seen.length, 4);
      assert.ok(seen.every((store) => store === seen[0]), 'the same open store each time');
      // a failure of the store itself (its folder of points made unreadable as a folder) drops it: the next command opens it afresh
      const points = path.join(p.sb.store, 'points');
      fs.renameSync(points, `${points}.aside`);
      fs.writeFileSync(points, 'not a folder');
      assert.equal(await runCommand(parseArgs(['list', ...p.base], p.sb.ws), io), 1);
      fs.rmSync(points);
      fs.renameSync(`${points}.aside`, points);
      assert.equal(await runCommand(parseArgs(['list', ...p.base], p.sb.ws), io), 0);
      assert.notEqual(seen.at(-1), seen[0], 'opened afresh after the failure');
    } finally {
      await kept.closeAll();
    }
  });

  test('list, show, show --patch, diff and restore --dry-run list the store\'s points once, as the helper runs them on its open store', async () => {
    const p = await place();
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
    ok(await cli(['snapshot', ...p.base]));
    const kept = new KeptStores();
    const listings: string[] = [];
    const counted = new WeakSet<RecoveryStore>();
    const stores: StoreUse = {
      use: (options, work) =>
        kept.use(options, (store) => {
          // the real listing, counted: each one reads the index and the points folder
          if (!counted.has(store)) {
            counted.add(store);
            const list = store.persistence.listSnapshots.bind(store.persistence);
            store.persistence.listSnapshots = (...a: Parameters<typeof list>) => (listings.push(new Error().stack ?? ''), list(...a));
          }
          return work(store);
        }),
    };
    let stdout = '';
    const io = { stdout: (data: string | Uint8Array) => void (stdout += data.toString()), stderr: () => undefined, stderrIsTTY: false, stores };
    try {
      // a diff against the workspace's files, and a restore's preview, list them once more, under the store's lock, for the capture they compare with
      for (const [times, args] of [[1, ['list']], [1, ['show', 'latest']], [1, ['show', 'latest', '--patch']], [1, ['diff', 'latest', 'latest']], [2, ['diff', 'latest']], [1, ['diff', 'latest', 'latest', '--patch']], [2, ['diff', 'latest', '--patch']], [2, ['restore', 'latest', '--dry-run']]] as const) {
        listings.length = 0;
        stdout = '';
        assert.equal(await runCommand(parseArgs([...args, ...p.base], p.sb.ws), io), 0, args.join(' '));
        assert.equal(listings.length, times, `${args.join(' ')} listed the points ${listings.length} times:\n${listings.join('\n---\n')}`);
        if (args[0] === 'show') assert.match(stdout, /app\.ts/, `${args.join(' ')} printed the point's change`);
        if (args[0] === 'list') assert.equal(stdout.trim().split('\n').length, 2, 'both points listed');
      }
    } finally {
      await kept.closeAll();
    }
  });

  test('the client sends the commands and the environment the helper serves and compares', () => {
    const script = fs.readFileSync(path.join(REPO, 'src', 'hooks', 'helper', 'hook-client.sh'), 'utf8');
    const served = /^\s*((?:[a-z]+ \| )*[a-z]+)\) kind=cli ;;$/m.exec(script)?.[1]?.split(' | ');
    assert.deepEqual(new Set(served), SERVED_COMMANDS);
    const names = /^\s*for name in ([A-Z_ ]+); do$/m.exec(script)?.[1]?.split(' ');
    assert.deepEqual(names, [...SERVED_ENV]);
  });

  test('snapshot, list, show, diff, log and stats through a running helper print, fail and exit as Node prints them; paths read from the client\'s folder', async () => {
    const p = await place();
    const helper = await startHelper(p);
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2;\n', 'docs/big.md': `${'a line of the big file\n'.repeat(6000)}` });
    const made = await launch(p, ['snapshot', '--label', 'through the helper', '--changed', 'src/app.ts', 'docs/big.md', ...p.base], { extra: NO_NODE });
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout.toString(), /^Created recovery point \S+ \(3 files, \+1 ~1 −0, .+ added\)\n$/);
    const point = await newestPoint(p);
    assert.equal(point.actor, `cli:${helper.pid}`, 'the helper made the point');
    assert.equal(point.summary, 'Created by hand; changed: app.ts, big.md');
    const [first] = json<Array<{ id: string }>>(await cli(['list', '--json', ...p.base])).slice(-1);
    // a name the client must pass on byte for byte (other scripts, backslashes, doubled spaces; the tool trims its ends)
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 2.5;\n' });
    const awkward = await launch(p, ['snapshot', '--label', '  Écrit \\n  🚀 x\\ ', ...p.base], { extra: { ...NO_NODE, ...UTF8 } });
    assert.equal(awkward.code, 0, awkward.stderr);
    assert.equal(json<Array<{ label: string }>>(await cli(['list', '--json', ...p.base]))[0]!.label, 'Écrit \\n  🚀 x\\');
    await writeFiles(p.sb.ws, { 'src/app.ts': 'export const answer = 3;\n' });

    const src = path.join(p.sb.ws, 'src');
    const same: Array<{ args: string[]; cwd?: string }> = [
      { args: ['list'] },
      { args: ['list', '--json'] },
      { args: ['show', 'latest', '--json'] },
      { args: ['show', 'latest'] },
      // more than the helper sends counted: its bytes follow the exit code
      { args: ['show', point.id, '--patch'] },
      { args: ['show', 'latest', '--patch'] },
      { args: ['diff', first!.id] },
      { args: ['diff', first!.id, 'latest', '--patch', '--json'] },
      { args: ['log', 'app.ts'], cwd: src },
      { args: ['log', 'src/app.ts', '--json'] },
      { args: ['stats'] },
      { args: ['show', 'nope'] },
      { args: ['log', 'missing.ts'], cwd: src },
      { args: ['diff'] },
    ];
    for (const { args, cwd } of same) {
      // in a UTF-8 locale, where bash counts characters unless told to count bytes
      const through = await launch(p, [...args, ...p.base], { cwd, extra: { ...NO_NODE, ...UTF8 } });
      const node = await byNode(p, [...args, ...p.base], cwd);
      assert.deepEqual(through, node, `recovery-points ${args.join(' ')}`);
    }
    assert.ok((await byNode(p, ['show', point.id, '--patch', ...p.base])).stdout.length > 128 * 1024, 'a patch longer than the helper sends counted');
    assert.ok((await byNode(p, ['show', 'latest', '--patch', ...p.base])).stdout.length < 4096, 'and one it sends counted');
    assert.equal((await byNode(p, ['show', 'nope', ...p.base])).code, 2);
    assert.match((await byNode(p, ['log', 'app.ts', ...p.base], src)).stdout.toString(), /\[through the helper\]/, 'app.ts read from src/');

    // a store's first point, made by the helper (in a capture process of its own, as the MCP server makes it)
    const other = path.join(p.sb.root, 'other-store');
    const firstPoint = await launch(p, ['snapshot', '--workspace', p.sb.ws, '--store', other], { extra: NO_NODE });
    assert.equal(firstPoint.code, 0, firstPoint.stderr);
    assert.match(firstPoint.stdout.toString(), /^Created recovery point \S+ \(3 files, \+3 ~0 −0, /);
    assert.equal(json<unknown[]>(await cli(['list', '--json', '--workspace', p.sb.ws, '--store', other])).length, 1);

    ok(await cli(['hook-helper', 'stop'], { env: await env(p) }));
    await ended(helper);
  });

  test('a request that comes in pieces (bash writes one of more than 4 KiB so) has each piece acknowledged at once by an empty line, then its answer', async () => {
    const p = await place();
    await startHelper(p);
    const [port, clientSecret, helperSecret] = fs.readFileSync(path.join(p.helperDir, 'address'), 'utf8').trim().split(' ');
    const environment = await env(p);
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (data: Buffer) => void (received += data.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    try {
      socket.write(`${clientSecret}\n`);
      await waitFor('the helper\'s secret', () => received.endsWith('\n') || undefined);
      assert.equal(received, `${helperSecret}\n`);

      // the request's first piece; the rest waits for the helper's acknowledgement, as Nagle's algorithm makes bash's socket wait
      socket.write(`cli\n${p.sb.ws}\n0\n`);
      await waitFor('an acknowledgement of the first piece', () => received.length > helperSecret!.length + 1 || undefined);
      assert.equal(received, `${helperSecret}\n\n`);
      const served = SERVED_ENV.map((name) => (environment[name] === undefined ? '0' : `1${environment[name]}`));
      const argv = ['list', ...p.base];
      socket.write(`${[...served, String(argv.length), ...argv].join('\n')}\n`);
      await closed;
    } finally {
      socket.destroy();
    }
    const listed = await byNode(p, ['list', ...p.base]);
    const answer = received.slice(helperSecret!.length + 1).replace(/^\n+/, '');
    assert.equal(answer, `o ${listed.stdout.length}\n${listed.stdout.toString()}x 0\n`, 'the answer after the acknowledgements: Node\'s output, counted');
    ok(await cli(['hook-helper', 'stop'], { env: environment }));
  });

  test('other commands, a different environment and RECOVERY_POINTS_HELPER=off go to Node; without a helper Node runs the command and starts one; through npm\'s link to the launcher', async () => {
    const p = await place();
    // no helper yet: Node runs it (the Node given does not exist: it fails) ...
    const missing = await launch(p, ['list', ...p.base], { extra: NO_NODE });
    assert.equal(missing.code, 127, missing.stderr);
    assert.equal(fs.existsSync(path.join(p.helperDir, 'address')), false);
    // ... with the real one, it lists the points and starts a helper
    const listed = await launch(p, ['list', ...p.base]);
    assert.deepEqual(listed, await byNode(p, ['list', ...p.base]));
    const helper = await waitFor('a helper started by the command', () => address(p));
    helperPids.add(helper.pid);
    assert.equal(helper.cli, CLI);

    const bin = path.join(p.sb.root, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(LAUNCHER, path.join(bin, 'recovery-points'));
    assert.equal((await launch(p, ['list', ...p.base], { extra: NO_NODE, launcher: path.join(bin, 'recovery-points') })).code, 0, 'through the link: the helper');
    assert.equal((await launch(p, ['list', ...p.base], { extra: NO_NODE })).code, 0);

    for (const [args, extra] of [
      [['cat', 'latest', 'src/app.ts'], {}],
      [['verify'], {}],
      [['list', '--help'], {}],
      [['list'], { RECOVERY_POINTS_USER_DATA_DIRS: p.sb.root }],
      [['list'], { XDG_DATA_HOME: p.sb.root }],
      [['list'], { RECOVERY_POINTS_HELPER: 'off' }],
    ] as Array<[string[], Record<string, string>]>) {
      const run = await launch(p, [...args, ...p.base], { extra: { ...NO_NODE, ...extra } });
      assert.equal(run.code, 127, `${args.join(' ')} ${JSON.stringify(extra)}: Node`);
      assert.match(run.stderr, /\/nonexistent\/node/);
    }
    assert.deepEqual(await launch(p, ['cat', 'latest', 'src/app.ts', ...p.base]), await byNode(p, ['cat', 'latest', 'src/app.ts', ...p.base]));
    ok(await cli(['hook-helper', 'stop'], { env: await env(p) }));
  });
});
