/**
 * `recovery-points hooks install|uninstall|status` on real settings files that already hold other
 * entries (#13): merged, backed up, idempotent, removed exactly; the command written runs the hook.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanupAll, exists, makeSandbox, writeFiles } from '../core/helpers/storeFixtures';
import { findHookClient } from '../../src/hooks/hookCommand';
import { repairHooks } from '../../src/hooks/hookInstaller';
import { CLI, cli, cliHome, ensureBuilt, json, ok } from './helpers/runCli';
import { BUDGET_ENV, fixture } from './helpers/runHook';

after(cleanupAll);
before(ensureBuilt);

const CLAUDE_SETTINGS = {
  permissions: { allow: ['Bash(npm test)'] },
  hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: './guard.sh', timeout: 5 }] }] },
  model: 'opus',
};

interface Status {
  agent: string;
  scope: string;
  location: string;
  events: string[];
}

/** Runs `command` (as written in a settings file) through the shell, as agents do, with `input` on stdin; without the resident helper (hookHelper.test.ts has it). */
function shell(command: string, input: string, cwd: string, home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('/bin/sh', ['-c', command], { cwd, env: { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), [BUDGET_ENV]: '60000', RECOVERY_POINTS_HELPER: 'off' } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

describe('recovery-points hooks install / uninstall / status', () => {
  test('Claude Code, project: merged into .claude/settings.local.json with a backup; twice is once; uninstall leaves the file as it was', async () => {
    const sb = await makeSandbox('rp-hooks-claude-');
    const file = path.join(sb.ws, '.claude', 'settings.local.json');
    const original = `${JSON.stringify(CLAUDE_SETTINGS, null, 4)}\n`;
    await writeFiles(sb.ws, { '.claude/settings.local.json': original, '.claude/settings.json': '{"theme": "dark"}\n' });
    const args = ['--agent', 'claude', '--workspace', sb.ws];

    const first = ok(await cli(['hooks', 'install', ...args]));
    assert.match(first.stdout, /Installed the Recovery Points hook for Claude Code/);
    const installed = JSON.parse(await fs.readFile(file, 'utf8')) as typeof CLAUDE_SETTINGS & { hooks: Record<string, Array<{ matcher?: string; hooks: Array<{ command: string }> }>> };
    assert.deepEqual(installed.permissions, CLAUDE_SETTINGS.permissions, 'other settings are kept');
    assert.equal(installed.model, 'opus');
    assert.deepEqual(installed.hooks.PreToolUse![0], CLAUDE_SETTINGS.hooks.PreToolUse[0], "the user's own hook stays first");
    assert.equal(installed.hooks.PreToolUse![1]!.matcher, 'Edit|Write|MultiEdit|NotebookEdit|Bash');
    assert.equal(installed.hooks.PostToolUse![0]!.matcher, 'Edit|Write|MultiEdit|NotebookEdit|Bash');
    assert.equal(installed.hooks.UserPromptSubmit!.length, 1);
    const command = installed.hooks.UserPromptSubmit![0]!.hooks[0]!.command;
    assert.match(command, /^'\/.*\/bash' '\/.+\/dist\/hook-client\.sh' '\/.+' '\/.+cli\.js' hook --agent claude$/, 'bash, the client beside the tool, an absolute Node and tool');
    assert.equal(await fs.readFile(`${file}.recovery-points.bak`, 'utf8'), original, 'the backup holds the file as it was');
    assert.equal(await fs.readFile(path.join(sb.ws, '.claude', 'settings.json'), 'utf8'), '{"theme": "dark"}\n', 'the shared settings file is not touched');

    const afterFirst = await fs.readFile(file, 'utf8');
    const second = ok(await cli(['hooks', 'install', ...args]));
    assert.match(second.stdout, /already installed/);
    assert.equal(await fs.readFile(file, 'utf8'), afterFirst, 'a second install changes nothing');

    const status = json<Status[]>(await cli(['hooks', 'status', '--json', ...args]));
    assert.deepEqual(status.find((s) => s.scope === 'project')!.events.sort(), ['PostToolUse', 'PreToolUse', 'UserPromptSubmit']);
    assert.deepEqual(status.find((s) => s.scope === 'user')!.events, []);

    ok(await cli(['hooks', 'uninstall', ...args]));
    assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), CLAUDE_SETTINGS, 'exactly our entries are gone');
    assert.equal(await fs.readFile(file, 'utf8'), original, 'the file as the person wrote it (its backup put back: formatting and key order kept)');
    assert.ok(!(await exists(`${file}.recovery-points.bak`)), 'no backup left beside it');
    const again = ok(await cli(['hooks', 'uninstall', ...args]));
    assert.match(again.stdout, /No Recovery Points hook/);
    assert.deepEqual(json<Status[]>(await cli(['hooks', 'status', '--json', '--project', ...args]))[0]!.events, []);
  });

  test('Claude Code, user: ~/.claude/settings.json, created when missing; the command it writes makes the point', async () => {
    const sb = await makeSandbox('rp-hooks-user-');
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const home = await cliHome();
    const file = path.join(home, '.claude', 'settings.json');
    await fs.rm(file, { force: true });
    ok(await cli(['hooks', 'install', '--agent', 'claude', '--user', '--workspace', sb.ws]));
    const settings = JSON.parse(await fs.readFile(file, 'utf8')) as { hooks: Record<string, Array<{ hooks: Array<{ command: string }> }>> };
    assert.ok(!(await exists(`${file}.recovery-points.bak`)), 'no backup of a file that did not exist');
    const command = settings.hooks.PostToolUse![0]!.hooks[0]!.command;

    ok(await cli(['snapshot', '--workspace', sb.ws, '--store', sb.store]));
    await writeFiles(sb.ws, { 'b.txt': 'made by a command\n' });
    const run = await shell(`${command} --store '${sb.store}'`, fixture('claude/PostToolUse-Bash.json', sb.ws), path.dirname(sb.ws), home);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const list = json<Array<{ summary: string; agent?: string }>>(await cli(['list', '--json', '--workspace', sb.ws, '--store', sb.store]));
    assert.equal(list[0]!.summary, 'After Claude Code: Bash `npm run fmt`');

    ok(await cli(['hooks', 'uninstall', '--agent', 'claude', '--user', '--workspace', sb.ws]));
    assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), {});
    await fs.rm(path.join(home, '.claude'), { recursive: true, force: true });
  });

  test('Copilot (VS Code agent hooks): .github/hooks/recovery-points.json, merged with entries already in it; other hook files untouched', async () => {
    const sb = await makeSandbox('rp-hooks-copilot-');
    const file = path.join(sb.ws, '.github', 'hooks', 'recovery-points.json');
    const theirs = { version: 1, hooks: { PostToolUse: [{ type: 'command', command: 'npx prettier --write "$TOOL_INPUT_FILE_PATH"' }] } };
    await writeFiles(sb.ws, { '.github/hooks/recovery-points.json': JSON.stringify(theirs), '.github/hooks/format.json': '{"hooks":{}}' });
    const args = ['--agent', 'copilot', '--workspace', sb.ws];
    ok(await cli(['hooks', 'install', ...args]));
    const installed = JSON.parse(await fs.readFile(file, 'utf8')) as { version: number; hooks: Record<string, Array<{ type: string; command: string; timeout: number }>> };
    assert.equal(installed.version, 1);
    assert.deepEqual(Object.keys(installed.hooks).sort(), ['PostToolUse', 'PreToolUse', 'UserPromptSubmit']);
    assert.equal(installed.hooks.PostToolUse!.length, 2);
    assert.deepEqual(installed.hooks.PostToolUse![0], theirs.hooks.PostToolUse[0]);
    assert.match(installed.hooks.PreToolUse![0]!.command, /hook --agent copilot$/);
    const text = await fs.readFile(file, 'utf8');
    ok(await cli(['hooks', 'install', ...args]));
    assert.equal(await fs.readFile(file, 'utf8'), text);
    ok(await cli(['hooks', 'uninstall', ...args]));
    assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), theirs);
    assert.equal(await fs.readFile(path.join(sb.ws, '.github', 'hooks', 'format.json'), 'utf8'), '{"hooks":{}}');
  });

  test("Cline: executable scripts in .clinerules/hooks; the user's own scripts are never overwritten", async () => {
    const sb = await makeSandbox('rp-hooks-cline-');
    const dir = path.join(sb.ws, '.clinerules', 'hooks');
    await writeFiles(sb.ws, { '.clinerules/hooks/TaskStart': '#!/bin/sh\necho \'{"cancel":false}\'\n', '.clinerules/rules.md': '# rules\n' });
    const args = ['--agent', 'cline', '--workspace', sb.ws];
    ok(await cli(['hooks', 'install', ...args]));
    for (const event of ['PreToolUse', 'PostToolUse', 'UserPromptSubmit']) {
      const stat = await fs.stat(path.join(dir, event));
      assert.ok(stat.mode & 0o100, `${event} is executable`);
    }
    const script = await fs.readFile(path.join(dir, 'PreToolUse'), 'utf8');
    ok(await cli(['hooks', 'install', ...args]));
    assert.equal(await fs.readFile(path.join(dir, 'PreToolUse'), 'utf8'), script);

    // the script runs the hook as Cline would: payload on stdin, JSON answer on stdout
    ok(await cli(['snapshot', '--workspace', sb.ws, '--store', sb.store]));
    const run = await shell(`'${path.join(dir, 'UserPromptSubmit')}' --store '${sb.store}'`, fixture('cline/UserPromptSubmit.json', sb.ws), sb.ws, await cliHome());
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '{"cancel":false}\n');
    const list = json<Array<{ label: string | null }>>(await cli(['list', '--json', '--workspace', sb.ws, '--store', sb.store]));
    assert.match(list[0]!.label ?? '', /^Cline turn: /);

    ok(await cli(['hooks', 'uninstall', ...args]));
    assert.deepEqual((await fs.readdir(dir)).sort(), ['TaskStart']);

    // a PreToolUse of the user's own: refused, nothing written
    await writeFiles(sb.ws, { '.clinerules/hooks/PreToolUse': '#!/bin/sh\necho mine\n' });
    const refused = await cli(['hooks', 'install', ...args]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    assert.match(refused.stderr, /already runs hook scripts of its own/);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['PreToolUse', 'TaskStart']);
    assert.equal(await fs.readFile(path.join(dir, 'PreToolUse'), 'utf8'), '#!/bin/sh\necho mine\n');
  });

  test('a hook that names a tool gone since (the extension updated): status says it is broken, and repairHooks installs it again; a working hook is left alone', async () => {
    const sb = await makeSandbox('rp-hooks-moved-');
    const home = await cliHome();
    const old = path.join(sb.root, 'recovery-points-0.0.9');
    await fs.cp(path.dirname(CLI), old, { recursive: true });
    const oldCli = path.join(old, 'cli.js');
    const run = (args: string[]) => new Promise<{ code: number; stdout: string }>((resolve) => execFile(process.execPath, [oldCli, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home } }, (error, stdout) => resolve({ code: error ? 1 : 0, stdout })));
    assert.equal((await run(['hooks', 'install', '--agent', 'claude', '--workspace', sb.ws])).code, 0);
    ok(await cli(['hooks', 'install', '--agent', 'copilot', '--workspace', sb.ws]));
    await fs.rm(old, { recursive: true });

    const status = ok(await cli(['hooks', 'status', '--workspace', sb.ws, '--project'])).stdout;
    assert.match(status, new RegExp(`Claude Code +project +installed but broken: ${old.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\S+ is gone; run "hooks install" again`));
    assert.match(status, /Copilot +project +installed \(/);
    const broken = (await fs.readFile(path.join(sb.ws, '.claude', 'settings.local.json'), 'utf8'));
    const copilotBefore = await fs.readFile(path.join(sb.ws, '.github', 'hooks', 'recovery-points.json'), 'utf8');

    const cliNow = await fs.realpath(CLI);
    const repaired = await repairHooks(sb.ws, { node: process.execPath, cli: cliNow, client: findHookClient(cliNow) }, home);
    assert.deepEqual(repaired.map((r) => [r.agent, r.scope, r.changed]), [['claude', 'project', true]]);
    const fixed = await fs.readFile(path.join(sb.ws, '.claude', 'settings.local.json'), 'utf8');
    assert.ok(broken.includes(old) && !fixed.includes(old) && fixed.includes(cliNow), 'the command names this tool now');
    assert.equal(await fs.readFile(path.join(sb.ws, '.github', 'hooks', 'recovery-points.json'), 'utf8'), copilotBefore, 'the working hook is not touched');
    assert.match(ok(await cli(['hooks', 'status', '--workspace', sb.ws, '--project', '--agent', 'claude'])).stdout, /Claude Code +project +installed \(UserPromptSubmit, PreToolUse, PostToolUse\)/);
    assert.deepEqual(await repairHooks(sb.ws, { node: process.execPath, cli: cliNow, client: findHookClient(cliNow) }, home), [], 'nothing left to repair');
  });

  test('a restore of a point older than the hooks says it removed them and how to put them back', async () => {
    const sb = await makeSandbox('rp-hooks-restore-');
    await writeFiles(sb.ws, { 'src/a.ts': 'a1\n' });
    const base = ['--workspace', sb.ws, '--store', sb.store];
    const old = json<string>(await cli(['snapshot', '--json', ...base]));
    ok(await cli(['hooks', 'install', '--agent', 'claude', '--workspace', sb.ws]));
    await writeFiles(sb.ws, { 'src/a.ts': 'a2\n' });
    ok(await cli(['snapshot', ...base]));
    // the dry run says it first
    const dry = ok(await cli(['restore', old, '--dry-run', ...base])).stdout;
    assert.match(dry, /\nNote: the restore deletes \.claude\/settings\.local\.json, which holds Claude Code's checkpoint hooks: the agent makes no recovery points after it \("recovery-points hooks install --agent claude" puts them back\)\.\n$/);
    const dryJson = json<{ hooksTouched?: Array<{ agent: string; how: string }> }>(await cli(['restore', old, '--dry-run', '--json', ...base]));
    assert.deepEqual(dryJson.hooksTouched?.map((h) => [h.agent, h.how]), [['claude', 'deletes']]);
    const restored = ok(await cli(['restore', old, ...base])).stdout;
    assert.match(restored, /\nNote: the restore removed Claude Code's checkpoint hooks from \.claude\/settings\.local\.json \(the point is older than them\), so it makes no recovery points now: run "recovery-points hooks install --agent claude" to put them back\.\n/);
    ok(await cli(['undo', ...base]));
    const quiet = json<{ hooksRemoved?: unknown }>(await cli(['restore', old, '--paths', 'src/a.ts', '--json', ...base]));
    assert.equal(quiet.hooksRemoved, undefined, 'a restore that leaves the settings says nothing of them');
  });

  test('settings with comments and trailing commas (JSONC): the hooks go in and out, the comments, the other keys and their layout stay', async () => {
    const sb = await makeSandbox('rp-hooks-jsonc-');
    const file = path.join(sb.ws, '.claude', 'settings.local.json');
    const original = [
      '// this machine only',
      '{',
      '  /* who may run what */',
      '  "permissions": { "allow": ["Bash(npm test)",] },',
      '  "hooks": {',
      '    // the guard runs first',
      '    "PreToolUse": [{ "matcher": "Bash", "hooks": [{ "type": "command", "command": "./guard.sh" }] }],',
      '  },',
      '  "model": "opus", // for now',
      '}',
      '',
    ].join('\n');
    await writeFiles(sb.ws, { '.claude/settings.local.json': original });
    const args = ['--agent', 'claude', '--workspace', sb.ws];
    ok(await cli(['hooks', 'install', ...args]));
    const installed = await fs.readFile(file, 'utf8');
    for (const line of ['// this machine only', '  /* who may run what */', '  "permissions": { "allow": ["Bash(npm test)",] },', '  "model": "opus", // for now']) assert.ok(installed.includes(`${line}\n`), `kept: ${line}\n${installed}`);
    assert.match(installed, /"UserPromptSubmit": \[[^]*hook --agent claude/);
    assert.match(installed, /"command": "\.\/guard\.sh"[^]*"matcher": "Edit\|Write\|MultiEdit\|NotebookEdit\|Bash"/, 'the person\'s hook stays first');
    assert.deepEqual(json<Status[]>(await cli(['hooks', 'status', '--json', '--project', ...args]))[0]!.events.sort(), ['PostToolUse', 'PreToolUse', 'UserPromptSubmit']);
    assert.equal(await fs.readFile(`${file}.recovery-points.bak`, 'utf8'), original);
    // removed with no backup to put back: taken out of the file as it is now
    await fs.rm(`${file}.recovery-points.bak`);
    ok(await cli(['hooks', 'uninstall', ...args]));
    const removed = await fs.readFile(file, 'utf8');
    assert.doesNotMatch(removed, /hook --agent claude|UserPromptSubmit|PostToolUse/);
    for (const line of ['// this machine only', '  /* who may run what */', '  "permissions": { "allow": ["Bash(npm test)",] },', '  "model": "opus", // for now']) assert.ok(removed.includes(`${line}\n`), `kept: ${line}\n${removed}`);
    assert.match(removed, /"PreToolUse": \[\s*\{[^]*"\.\/guard\.sh"/);

    // VS Code's hook file of the project, with comments of its own
    const copilot = path.join(sb.ws, '.github', 'hooks', 'recovery-points.json');
    await writeFiles(sb.ws, { '.github/hooks/recovery-points.json': '{\n  // kept\n  "version": 1,\n}\n' });
    ok(await cli(['hooks', 'install', '--agent', 'copilot', '--workspace', sb.ws]));
    const vscodeFile = await fs.readFile(copilot, 'utf8');
    assert.ok(vscodeFile.includes('  // kept\n  "version": 1,'), vscodeFile);
    assert.match(vscodeFile, /"PreToolUse": \[[^]*hook --agent copilot/);
  });

  test('a settings file that is not valid JSON, or not hook settings, is refused and left as it is', async () => {
    const sb = await makeSandbox('rp-hooks-bad-');
    for (const text of ['{ "hooks": [', '{"hooks": {"PreToolUse": "not a list"}}']) {
      await writeFiles(sb.ws, { '.claude/settings.local.json': text });
      const run = await cli(['hooks', 'install', '--agent', 'claude', '--workspace', sb.ws]);
      assert.equal(run.code, 1, run.stdout);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, /nothing was changed/);
      assert.equal(await fs.readFile(path.join(sb.ws, '.claude', 'settings.local.json'), 'utf8'), text);
    }
    const usage = await cli(['hooks', 'install', '--workspace', sb.ws]);
    assert.equal(usage.code, 2, 'install needs --agent');
  });
});
