// Agent checkpoints in the real extension host (#13): "Set Up Agent Checkpoints…" writes the project's
// hook settings, and the point the hook it wrote makes shows in the tree with the agent's name and icon;
// the first hook starts the resident helper (#14), and the next goes through it.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeWaitingHook } from '../../../src/hooks/waitingHooks';
import { assertPromptsUsed, createPoint, getApi, labelText, pointNode, pointText, resetAll, run, settle, store, treeChildren, waitFor, workspaceFolder, type Api } from './helpers';

interface ClaudeSettings {
  hooks: Record<string, Array<{ matcher?: string; hooks: Array<{ type: string; command: string }> }>>;
}

suite('agent checkpoints', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetAll(api));
  teardown(() => assertPromptsUsed(api));

  test('"Set Up Agent Checkpoints…" writes the project settings file; the hook it wrote makes a point the tree shows with the agent’s name and icon', async () => {
    const root = workspaceFolder().uri.fsPath;
    const file = path.join(root, '.claude', 'settings.local.json');
    assert.ok(!fs.existsSync(file));
    api.prompts.answerNext({ pick: 'Claude Code' }, { pick: 'This Project' });
    const report = await run<{ location: string; changed: boolean }>('setUpAgentCheckpoints');
    assert.equal(report.location, file);
    assert.ok(report.changed);
    assert.match(api.prompts.notifications.at(-1)?.message ?? '', /Claude Code now makes recovery points/);
    // the settings file it wrote in the project makes a point named after the command, not "changed outside the editor"
    const setUp = await waitFor('the point of the settings written', () => api.model!.points.find((p) => p.trigger === 'external'));
    assert.equal(setUp.summary, 'Set up Claude Code checkpoints (settings.local.json)');
    const settings = JSON.parse(fs.readFileSync(file, 'utf8')) as ClaudeSettings;
    const command = settings.hooks.UserPromptSubmit![0]!.hooks[0]!.command;
    assert.ok(command.includes(path.join('dist', 'cli.js')), command);
    assert.ok(command.includes(path.join('dist', 'hook-client.sh')), `on Linux, through the hook client: ${command}`);
    assert.deepEqual(Object.keys(settings.hooks).sort(), ['PostToolUse', 'PreToolUse', 'UserPromptSubmit']);

    // Claude Code runs the command through the shell, in the project, with the payload on stdin
    // (the resident helper's address in a folder of this test's, not the user's)
    const helperDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-host-helper-'));
    const address = path.join(helperDir, 'address');
    const hook = (payload: object) =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        const env = { ...process.env, RECOVERY_POINTS_HOOK_BUDGET_MS: '60000', RECOVERY_POINTS_HELPER_DIR: helperDir };
        const child = execFile('/bin/sh', ['-c', `${command} --store '${store(api).persistence.layout.root}'`], { cwd: root, env }, (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }));
        child.stdin!.end(JSON.stringify(payload));
      });
    try {
      assert.deepEqual(await hook({ session_id: 'host-test', transcript_path: '/tmp/t.jsonl', cwd: root, hook_event_name: 'UserPromptSubmit', prompt: 'Rename the greeting' }), { code: 0, stderr: '' });
      // that hook ran with Node and started the helper; the next goes through it
      const helperPid = Number((await waitFor('the resident helper', () => fs.existsSync(address) && fs.readFileSync(address, 'utf8'))).split(' ')[3]);
      fs.writeFileSync(path.join(root, 'src', 'greeting.ts'), 'export const greeting = "changed by hand";\n');
      const edit = { session_id: 'host-test', transcript_path: '/tmp/t.jsonl', cwd: root, hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: path.join(root, 'src', 'greeting.ts'), old_string: 'a', new_string: 'b' }, tool_use_id: 'toolu_host' };
      assert.deepEqual(await hook(edit), { code: 0, stderr: '' });
      const before = await waitFor('the edit hook’s point in the view', () => api.model!.points.find((p) => p.summary === 'Before Claude Code: Edit src/greeting.ts'));
      const made = (await store(api).persistence.audit.read()).find((e) => e.action === 'create' && e.pointId === before.id);
      assert.equal(made?.actor, `hook:claude:${helperPid}`, 'the helper made it');
    } finally {
      const text = fs.existsSync(address) ? fs.readFileSync(address, 'utf8') : '';
      if (text) process.kill(Number(text.split(' ')[3]), 'SIGTERM');
      await waitFor('the helper to end', () => !fs.existsSync(address));
      fs.rmSync(helperDir, { recursive: true, force: true });
    }

    // the view notices the point another process wrote, without being told
    const point = await waitFor('the prompt hook’s point in the view', () => api.model!.points.find((p) => p.trigger === 'agent' && p.label !== null));
    assert.equal(point.agent, 'Claude Code');
    const day = (await treeChildren(api))[0]!;
    const row = (await treeChildren(api, day.node)).find((r) => r.node.kind === 'point' && r.node.point.id === point.id);
    assert.ok(row, 'the tree lists the point');
    assert.equal(labelText(row.item), 'Claude Code turn: Rename the greeting');
    assert.equal((row.item.iconPath as vscode.ThemeIcon).id, 'robot', 'agent points have an icon of their own, labelled or not');
    assert.match((row.item.tooltip as vscode.MarkdownString).value, /Made by Claude Code/);
  });

  test('"Set Up Agent Checkpoints…" for Cline writes its hook scripts in the project; the point of them is named after the command, a later edit of one is not', async () => {
    const root = workspaceFolder().uri.fsPath;
    const dir = path.join(root, '.clinerules', 'hooks');
    api.prompts.answerNext({ pick: 'Cline' }, { pick: 'This Project' });
    const report = await run<{ location: string; changed: boolean }>('setUpAgentCheckpoints');
    assert.deepEqual([report.location, report.changed], [dir, true]);
    const setUp = await waitFor('the point of the scripts written', () => api.model!.points.find((p) => p.trigger === 'external'));
    assert.equal(setUp.summary, 'Set up Cline checkpoints (hooks)');
    assert.ok(fs.existsSync(path.join(dir, 'PreToolUse')));
    // the person's own change of a script, within the minute: theirs
    fs.appendFileSync(path.join(dir, 'PreToolUse'), '# edited by hand\n');
    await settle(api);
    const edited = await waitFor('the point of the script edited', () => api.model!.points[0]!.id !== setUp.id && api.model!.points[0]);
    assert.equal(edited.summary, 'Changed outside the editor: PreToolUse');
    assert.match(await pointText(edited.id, '.clinerules/hooks/PreToolUse'), /# edited by hand\n$/);
  });

  test('hooks that name a version of the extension gone since (an update) are installed again at start-up; the point says so', async () => {
    const root = workspaceFolder().uri.fsPath;
    const file = path.join(root, '.claude', 'settings.local.json');
    const gone = path.join(os.tmpdir(), 'rp-gone-extension-0.0.9', 'dist');
    const command = `'/bin/bash' '${gone}/hook-client.sh' '${process.execPath}' '${gone}/cli.js' hook --agent claude`;
    const theirs = { matcher: 'Bash', hooks: [{ type: 'command', command: './guard.sh' }] };
    const broken = { model: 'opus', hooks: { UserPromptSubmit: [{ hooks: [{ type: 'command', command, timeout: 30 }] }], PreToolUse: [theirs, { matcher: 'Edit', hooks: [{ type: 'command', command, timeout: 30 }] }] } };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(broken, null, 2)}\n`);
    await waitFor('the point of the broken settings', () => api.model!.points.find((p) => p.summary.includes('settings.local.json')));

    await api.checkAgentHooks!();
    const settings = JSON.parse(fs.readFileSync(file, 'utf8')) as ClaudeSettings & { model: string };
    const now = settings.hooks.UserPromptSubmit![0]!.hooks[0]!.command;
    assert.ok(!now.includes(gone) && now.includes(path.join('dist', 'cli.js')) && fs.existsSync(now.match(/'([^']*cli\.js)'/)![1]!), now);
    assert.deepEqual(settings.hooks.PreToolUse![0], theirs, 'the person\'s own hook is kept');
    assert.equal(settings.model, 'opus');
    const point = await waitFor('the point of the settings written again', () => api.model!.points.find((p) => p.summary === 'Updated the agent checkpoint hooks to this version of Recovery Points'));
    assert.equal(point.trigger, 'external');
  });

  test('a hook left waiting for the store with no waiter running (it gave up) gets its point once the editor has made its own', async () => {
    const root = workspaceFolder().uri.fsPath;
    const storeDir = store(api).persistence.layout.root;
    const greeting = path.join(root, 'src', 'greeting.ts');
    // the agent's edit, whose hook gave up while the store was held; then the file changed again
    fs.writeFileSync(greeting, 'export const greeting = "the agent\'s edit";\n');
    assert.ok(writeWaitingHook(storeDir, root, { agent: 'claude', cwd: root, sessionId: undefined, action: { kind: 'after-edit', tool: 'Edit', files: ['src/greeting.ts'] } }));
    fs.writeFileSync(greeting, 'export const greeting = "changed since";\n');
    // the editor's point of the change, then the one the hook asked for, holding the file as the hook found it
    const point = await waitFor('the waiting hook\'s point', () => api.model!.points.find((p) => p.summary === 'After Claude Code: Edit src/greeting.ts'), 30_000);
    assert.equal(await pointText(point.id, 'src/greeting.ts'), 'export const greeting = "the agent\'s edit";\n');
    await waitFor('no hook left waiting', () => fs.readdirSync(store(api).persistence.layout.waitingHooksDir).length === 0);
  });

  test('a restore of a point older than the project\'s agent hooks says it removed them, with a button that sets them up again', async () => {
    const root = workspaceFolder().uri.fsPath;
    const file = path.join(root, '.claude', 'settings.local.json');
    const older = await createPoint(api, 'before the hooks');
    api.prompts.answerNext({ pick: 'Claude Code' }, { pick: 'This Project' });
    await run('setUpAgentCheckpoints');
    await waitFor('the point of the settings written', () => api.model!.points.find((p) => p.summary === 'Set up Claude Code checkpoints (settings.local.json)'));
    api.prompts.reset();

    api.prompts.answerNext({ pickMany: 'all' });
    await run('restore', await pointNode(api, older.id));
    assert.ok(!fs.existsSync(file), 'the restore deleted the settings file the point did not have');
    const warning = await waitFor('the warning', () => api.prompts.notifications.find((n) => n.severity === 'warning'));
    assert.equal(warning.message, "The restore removed Claude Code's checkpoint hooks from .claude/settings.local.json (the point is older than them), so it makes no recovery points now: Set Up Agent Checkpoints… puts them back.");
    assert.deepEqual(warning.buttons, ['Set Up Agent Checkpoints…']);
    assert.deepEqual(api.prompts.notifications.map((n) => n.severity), ['information', 'warning'], 'after the restore\'s own message');
    assert.match(api.prompts.notifications[0]!.message, /^Deleted \.claude\/settings\.local\.json from "before the hooks"/);
  });
});
