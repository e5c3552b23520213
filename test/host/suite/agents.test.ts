// Agent checkpoints in the real extension host (#13): "Set Up Agent Checkpoints…" writes the project's
// hook settings, and the point the hook it wrote makes shows in the tree with the agent's name and icon.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { assertPromptsUsed, getApi, labelText, resetAll, run, store, treeChildren, waitFor, workspaceFolder, type Api } from './helpers';

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
    const settings = JSON.parse(fs.readFileSync(file, 'utf8')) as ClaudeSettings;
    const command = settings.hooks.UserPromptSubmit![0]!.hooks[0]!.command;
    assert.ok(command.includes(path.join('dist', 'cli.js')), command);
    assert.deepEqual(Object.keys(settings.hooks).sort(), ['PostToolUse', 'PreToolUse', 'UserPromptSubmit']);

    // Claude Code runs the command through the shell, in the project, with the payload on stdin.
    const payload = { session_id: 'host-test', transcript_path: '/tmp/t.jsonl', cwd: root, hook_event_name: 'UserPromptSubmit', prompt: 'Rename the greeting' };
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = execFile('/bin/sh', ['-c', `${command} --store '${store(api).persistence.layout.root}'`], { cwd: root, env: { ...process.env, RECOVERY_POINTS_HOOK_BUDGET_MS: '60000' } }, (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }));
      child.stdin!.end(JSON.stringify(payload));
    });
    assert.deepEqual(result, { code: 0, stderr: '' });

    // the view notices the point another process wrote, without being told
    const point = await waitFor('the hook’s point in the view', () => api.model!.points.find((p) => p.trigger === 'agent'));
    assert.equal(point.agent, 'Claude Code');
    const day = (await treeChildren(api))[0]!;
    const row = (await treeChildren(api, day.node)).find((r) => r.node.kind === 'point' && r.node.point.id === point.id);
    assert.ok(row, 'the tree lists the point');
    assert.equal(labelText(row.item), 'Claude Code turn: Rename the greeting');
    assert.equal((row.item.iconPath as vscode.ThemeIcon).id, 'robot', 'agent points have an icon of their own, labelled or not');
    assert.match((row.item.tooltip as vscode.MarkdownString).value, /Made by Claude Code/);
  });
});
