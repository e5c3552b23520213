import * as z from 'zod';
import type { HookEvent } from './hookEvent';

/**
 * Claude Code's hook input (https://code.claude.com/docs/en/hooks): common fields `session_id`,
 * `transcript_path`, `cwd`, `hook_event_name`; tool events add `tool_name`, `tool_input`, `tool_use_id`
 * (and `tool_response` after the tool); `UserPromptSubmit` adds `prompt`. Unknown fields are kept out of the way.
 */
const claudeSchema = z.looseObject({
  hook_event_name: z.string(),
  session_id: z.string().optional(),
  cwd: z.string().optional(),
  tool_name: z.string().optional(),
  tool_input: z.record(z.string(), z.unknown()).optional(),
  prompt: z.string().optional(),
});

/** Claude Code's tools that write files, and the input field naming the file. */
const EDIT_TOOLS: Record<string, string> = { Edit: 'file_path', Write: 'file_path', MultiEdit: 'file_path', NotebookEdit: 'notebook_path' };

export function readClaudePayload(raw: object): HookEvent | undefined {
  if (!('hook_event_name' in raw)) return undefined;
  const parsed = claudeSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  const base = { agent: 'claude' as const, cwd: p.cwd, sessionId: p.session_id };
  const tool = p.tool_name ?? '';
  const input = p.tool_input ?? {};
  switch (p.hook_event_name) {
    case 'UserPromptSubmit':
      return { ...base, action: { kind: 'prompt', prompt: p.prompt ?? '' } };
    case 'PreToolUse':
    case 'PostToolUse': {
      const when = p.hook_event_name === 'PreToolUse' ? 'before-edit' : 'after-edit';
      const field = EDIT_TOOLS[tool];
      if (field) {
        const file = input[field];
        return typeof file === 'string' && file ? { ...base, action: { kind: when, tool, files: [file] } } : { ...base, action: { kind: 'none', reason: `${tool} names no file` } };
      }
      if (tool === 'Bash') {
        const command = typeof input.command === 'string' ? input.command : '';
        return { ...base, action: { kind: when === 'after-edit' ? 'after-shell' : 'before-shell', tool, command } };
      }
      return { ...base, action: { kind: 'none', reason: `${tool || 'the tool'} changes no file` } };
    }
    default:
      return { ...base, action: { kind: 'none', reason: `${p.hook_event_name} makes no point` } };
  }
}
