/** The payload readers of `recovery-points hook` (#13), one per agent, on the fixtures and on the tools' other input shapes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadPayloadError, readHookEvent, shortenCommand } from '../../src/hooks/hookEvent';
import { fixture } from './helpers/runHook';

const WS = '/work/project';

describe('hook payload readers', () => {
  test('every fixture reads as its agent, with the action it asks for', () => {
    const expected: Record<string, [string, string]> = {
      'claude/UserPromptSubmit.json': ['claude', 'prompt'],
      'claude/PreToolUse-Edit.json': ['claude', 'before-edit'],
      'claude/PostToolUse-Write.json': ['claude', 'after-edit'],
      'claude/PostToolUse-Bash.json': ['claude', 'after-shell'],
      'claude/PreToolUse-Read.json': ['claude', 'none'],
      'copilot/UserPromptSubmit.json': ['copilot', 'prompt'],
      'copilot/PreToolUse-replace_string_in_file.json': ['copilot', 'before-edit'],
      'copilot/PostToolUse-run_in_terminal.json': ['copilot', 'after-shell'],
      'copilot/PreToolUse-read_file.json': ['copilot', 'none'],
      'cline/UserPromptSubmit.json': ['cline', 'prompt'],
      'cline/PreToolUse-write_to_file.json': ['cline', 'before-edit'],
      'cline/PostToolUse-execute_command.json': ['cline', 'after-shell'],
      'cline/PreToolUse-read_file.json': ['cline', 'none'],
    };
    for (const [name, [agent, kind]] of Object.entries(expected)) {
      const event = readHookEvent(fixture(name, WS));
      assert.equal(event.agent, agent, name);
      assert.equal(event.action.kind, kind, name);
      assert.equal(event.cwd, WS, name);
    }
    const cline = readHookEvent(fixture('cline/PreToolUse-write_to_file.json', WS));
    assert.deepEqual(cline.action, { kind: 'before-edit', tool: 'write_to_file', files: ['src/app.ts'] }, 'Cline names files relative to its first workspace root');
  });

  test("VS Code's edit tools: several files from multi_replace_string_in_file and apply_patch; a shell command before and after it runs", () => {
    const vscode = (event: string, tool: string, input: unknown) => readHookEvent(JSON.stringify({ hookEventName: event, cwd: WS, sessionId: 's', tool_name: tool, tool_input: input }));
    assert.deepEqual(
      vscode('PreToolUse', 'multi_replace_string_in_file', { explanation: 'x', replacements: [{ filePath: `${WS}/a.ts` }, { filePath: `${WS}/b.ts` }, { filePath: `${WS}/a.ts` }] }).action,
      { kind: 'before-edit', tool: 'multi_replace_string_in_file', files: [`${WS}/a.ts`, `${WS}/b.ts`] },
    );
    const patch = '*** Begin Patch\n*** Update File: /work/project/src/x.ts\n@@\n-a\n+b\n*** Add File: /work/project/src/y.ts\n+new\n*** End Patch';
    assert.deepEqual(vscode('PostToolUse', 'apply_patch', { input: patch, explanation: 'x' }).action, { kind: 'after-edit', tool: 'apply_patch', files: ['/work/project/src/x.ts', '/work/project/src/y.ts'] });
    const move = '*** Begin Patch\n*** Update File: /work/project/src/a.ts\n*** Move to: /work/project/src/a2.ts\n@@\n-a\n+b\n*** End Patch';
    assert.deepEqual(vscode('PreToolUse', 'apply_patch', { input: move }).action, { kind: 'before-edit', tool: 'apply_patch', files: ['/work/project/src/a.ts', '/work/project/src/a2.ts'] }, 'a file moved by the patch: its new name too');
    assert.deepEqual(vscode('PreToolUse', 'run_in_terminal', { command: 'rm -rf dist' }).action, { kind: 'before-shell', tool: 'run_in_terminal', command: 'rm -rf dist' });
    assert.deepEqual(vscode('PostToolUse', 'run_in_terminal', { command: 'rm -rf dist' }).action, { kind: 'after-shell', tool: 'run_in_terminal', command: 'rm -rf dist' });
    assert.equal(vscode('Stop', '', {}).action.kind, 'none');
  });

  test('Claude Code: NotebookEdit names its notebook; a Bash is checked before it runs; an edit without a path makes none', () => {
    const claude = (event: string, tool: string, input: unknown) => readHookEvent(JSON.stringify({ hook_event_name: event, cwd: WS, session_id: 's', tool_name: tool, tool_input: input }));
    assert.deepEqual(claude('PreToolUse', 'NotebookEdit', { notebook_path: `${WS}/n.ipynb`, new_source: 'x' }).action, { kind: 'before-edit', tool: 'NotebookEdit', files: [`${WS}/n.ipynb`] });
    assert.deepEqual(claude('PreToolUse', 'Bash', { command: 'ls' }).action, { kind: 'before-shell', tool: 'Bash', command: 'ls' });
    assert.equal(claude('PreToolUse', 'Edit', {}).action.kind, 'none');
  });

  test('what is no payload is refused with a sentence', () => {
    for (const text of ['', 'nope', '[]', '42', '{"a":1}', '{"hook_event_name":7}', '{"hookName":"PreToolUse","preToolUse":{"toolName":3}}']) {
      assert.throws(() => readHookEvent(text), BadPayloadError, text);
    }
  });

  test('commands and prompts are shortened to one line', () => {
    assert.equal(shortenCommand('npm run fmt'), 'npm run fmt');
    assert.equal(shortenCommand('  npm   run\tfmt  '), 'npm run fmt');
    assert.equal(shortenCommand('cat <<EOF\nhello\nEOF'), 'cat <<EOF…');
    const long = shortenCommand('x'.repeat(100));
    assert.equal(long.length, 60);
    assert.ok(long.endsWith('…'));
  });
});
