/**
 * A scripted Claude Code session (#13): the hooks `hooks install` wrote are fired as Claude Code fires
 * them (through the shell, payload on stdin, matchers applied), files change through "tools" and
 * "shell commands", then the turn's point is restored and the restore undone; the workspace is
 * compared byte for byte at each step, and a file git ignores is never touched.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { auditFileEntries, cleanupAll, makeSandbox, readFiles, writeFiles } from '../core/helpers/storeFixtures';
import { cli, cliHome, ensureBuilt, json, ok } from './helpers/runCli';
import { BUDGET_ENV } from './helpers/runHook';

after(cleanupAll);
before(ensureBuilt);

interface Settings {
  hooks: Record<string, Array<{ matcher?: string; hooks: Array<{ type: string; command: string }> }>>;
}

interface PointJson {
  id: string;
  label: string | null;
  summary: string;
  agent?: string;
}

test('a Claude Code turn through the installed hooks: restore the turn point, then undo, byte for byte', async () => {
  const sb = await makeSandbox('rp-agent-session-');
  const home = await cliHome();
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37) % 256));
  await writeFiles(sb.ws, {
    '.gitignore': 'build.log\n',
    'build.log': 'ignored, before\n',
    'README.md': '# project\n',
    'src/app.ts': 'export const answer = 1;\n',
    'src/util.ts': 'export const util = true;\n',
  });
  await fs.writeFile(path.join(sb.ws, 'assets.bin'), binary);
  const store = ['--workspace', sb.ws, '--store', sb.store];
  ok(await cli(['snapshot', ...store]));
  ok(await cli(['hooks', 'install', '--agent', 'claude', '--workspace', sb.ws]));
  const settings = JSON.parse(await fs.readFile(path.join(sb.ws, '.claude', 'settings.local.json'), 'utf8')) as Settings;

  const helperDir = path.join(sb.root, 'hook-helper');
  const session = { session_id: 'c0ffee00-1111-2222-3333-444455556666', transcript_path: path.join(home, 'transcript.jsonl'), cwd: sb.ws, permission_mode: 'acceptEdits' };
  /** Fires every hook of `event` whose matcher takes `tool`, as Claude Code does: through the shell, in the project folder. */
  const fire = async (event: string, payload: Record<string, unknown>, tool?: string) => {
    for (const group of settings.hooks[event] ?? []) {
      if (tool !== undefined && group.matcher !== undefined && !new RegExp(`^(?:${group.matcher})$`).test(tool)) continue;
      for (const h of group.hooks) {
        const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          const child = execFile('/bin/sh', ['-c', `${h.command} --store '${sb.store}'`], { cwd: sb.ws, env: { PATH: process.env.PATH ?? '', HOME: home, [BUDGET_ENV]: '60000', RECOVERY_POINTS_HELPER_DIR: helperDir } }, (error, stdout, stderr) =>
            resolve({ code: error ? 1 : 0, stdout, stderr }),
          );
          child.stdin!.end(JSON.stringify({ ...session, hook_event_name: event, ...payload }));
        });
        assert.deepEqual(run, { code: 0, stdout: '', stderr: '' }, `${event} ${tool ?? ''}`);
      }
    }
  };
  const tool = async (name: string, input: Record<string, unknown>, act: () => Promise<void>) => {
    await fire('PreToolUse', { tool_name: name, tool_input: input, tool_use_id: `toolu_${name}` }, name);
    await act();
    await fire('PostToolUse', { tool_name: name, tool_input: input, tool_use_id: `toolu_${name}`, tool_response: { success: true } }, name);
  };

  // the user edited a file by hand since the last point; then submits a prompt
  await writeFiles(sb.ws, { 'src/util.ts': 'export const util = false; // by hand\n' });
  await fire('UserPromptSubmit', { prompt: 'Make answer 2, add a test, and format everything' });
  const atPrompt = await readFiles(sb.ws);
  // the first hook ran with Node (no helper yet) and started the resident helper: the agent's next steps go through it
  const helperPid = await helperStarted(helperDir);
  try {
    await tool('Read', { file_path: path.join(sb.ws, 'src/app.ts') }, async () => undefined);
    await tool('Edit', { file_path: path.join(sb.ws, 'src/app.ts'), old_string: '1', new_string: '2' }, () => writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 2;\n' }));
    await tool('Write', { file_path: path.join(sb.ws, 'test/app.test.ts'), content: 'test\n' }, () => writeFiles(sb.ws, { 'test/app.test.ts': 'test\n' }));
    // meanwhile the user types notes into a file in another editor, which the agent's next command deletes
    await writeFiles(sb.ws, { 'README.md': '# project\n\nNotes typed by hand during the turn.\n' });
    await tool('Bash', { command: 'npm run fmt && rm README.md' }, async () => {
      await writeFiles(sb.ws, { 'src/util.ts': 'export const util = false; // formatted\n', 'build.log': 'ignored, after\n' });
      await fs.rm(path.join(sb.ws, 'README.md'));
      await fs.writeFile(path.join(sb.ws, 'assets.bin'), binary.subarray(0, 100));
    });
    const afterTurn = await readFiles(sb.ws);
    const actors = new Map((await auditFileEntries(sb.store)).filter((e) => e.action === 'create').map((e) => [e.pointId, e.actor]));

    const list = json<PointJson[]>(await cli(['list', '--json', ...store]));
    assert.deepEqual(
      list.map((p) => p.label ?? p.summary),
      [
        'After Claude Code: Bash `npm run fmt && rm README.md`',
        'Before Claude Code: Bash `npm run fmt && rm README.md`',
        'After Claude Code: Write test/app.test.ts',
        'After Claude Code: Edit src/app.ts',
        'Claude Code turn: Make answer 2, add a test, and format everything',
        'First recovery point',
      ],
      'the edit before each tool found nothing new (the point after the previous tool holds it); a read makes no point',
    );
    assert.ok(list.slice(0, 5).every((p) => p.agent === 'Claude Code'));
    assert.notEqual(actors.get(list[4]!.id), `hook:claude:${helperPid}`, 'the prompt\'s point was made by Node');
    assert.deepEqual(list.slice(0, 4).map((p) => actors.get(p.id)), Array(4).fill(`hook:claude:${helperPid}`), 'the tools\' points by the helper');
    // the notes the command deleted are in the point made before it ran
    const notes = await cli(['restore', list[1]!.id, '--paths', 'README.md', '--dry-run', ...store]);
    ok(notes);
    assert.match(notes.stdout, /README\.md/);
    ok(await cli(['restore', list[1]!.id, '--paths', 'README.md', ...store]));
    assert.equal(await fs.readFile(path.join(sb.ws, 'README.md'), 'utf8'), '# project\n\nNotes typed by hand during the turn.\n');
    ok(await cli(['undo', ...store]));
    const turn = list[4]!;

    // undo the whole turn: the workspace is as it was at the prompt, except the file git ignores
    ok(await cli(['restore', turn.id, ...store]));
    assert.deepEqual(await readFiles(sb.ws), { ...atPrompt, 'build.log': afterTurn['build.log'] });
    assert.equal(await fs.readFile(path.join(sb.ws, 'build.log'), 'utf8'), 'ignored, after\n', 'an ignored file is never touched');
    assert.ok(!(await fs.stat(path.join(sb.ws, 'test', 'app.test.ts')).catch(() => undefined)), 'the file the agent created is gone');

    // and undo that restore: the workspace is as the turn left it
    ok(await cli(['undo', ...store]));
    assert.deepEqual(await readFiles(sb.ws), afterTurn);
  } finally {
    await cli(['hook-helper', 'stop'], { env: { RECOVERY_POINTS_HELPER_DIR: helperDir } });
  }
});

/** The pid of the helper a hook started, once its address is written. */
async function helperStarted(dir: string): Promise<number> {
  const until = Date.now() + 20_000;
  for (;;) {
    const text = await fs.readFile(path.join(dir, 'address'), 'utf8').catch(() => '');
    if (text) return Number(text.split(' ')[3]);
    if (Date.now() > until) throw new Error('no hook helper started');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

