import * as z from 'zod';
import type { HookEvent } from './hookEvent';
import { patchFiles } from './patchFiles';

/**
 * VS Code's agent hooks (Preview; https://code.visualstudio.com/docs/agent-customization/hooks): common
 * fields `timestamp`, `cwd`, `sessionId`, `hookEventName`, `transcript_path`; tool events add `tool_name`,
 * `tool_input` (VS Code's tools, camelCase inputs such as `filePath`), `tool_use_id`. VS Code ignores
 * matchers, so every tool reaches the hook and the ones that change no file are passed over here.
 */
const vscodeSchema = z.looseObject({
  hookEventName: z.string(),
  sessionId: z.string().optional(),
  cwd: z.string().optional(),
  tool_name: z.string().optional(),
  tool_input: z.record(z.string(), z.unknown()).optional(),
  prompt: z.string().optional(),
});

const FILE_TOOLS = new Set(['create_file', 'replace_string_in_file', 'insert_edit_into_file', 'edit_notebook_file', 'create_new_jupyter_notebook', 'editFiles', 'createFile']);
const SHELL_TOOLS = new Set(['run_in_terminal', 'runInTerminal', 'runTerminalCommand']);

/** The files a VS Code edit tool names: `filePath`, `replacements[].filePath`, `files[]`, or apply_patch's (`patchFiles`). */
function editedFiles(tool: string, input: Record<string, unknown>): string[] | undefined {
  const str = (v: unknown) => (typeof v === 'string' && v ? [v] : []);
  if (tool === 'multi_replace_string_in_file') {
    const list = Array.isArray(input.replacements) ? input.replacements : [];
    return [...new Set(list.flatMap((r) => (typeof r === 'object' && r !== null ? str((r as Record<string, unknown>).filePath) : [])))];
  }
  if (tool === 'apply_patch') {
    const patch = typeof input.input === 'string' ? input.input : '';
    return patchFiles(patch);
  }
  if (!FILE_TOOLS.has(tool)) return undefined;
  if (Array.isArray(input.files)) return input.files.flatMap(str);
  return [...str(input.filePath), ...str(input.path)];
}

export function readVsCodePayload(raw: object): HookEvent | undefined {
  if (!('hookEventName' in raw)) return undefined;
  const parsed = vscodeSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  const base = { agent: 'copilot' as const, cwd: p.cwd, sessionId: p.sessionId };
  const tool = p.tool_name ?? '';
  const input = p.tool_input ?? {};
  switch (p.hookEventName) {
    case 'UserPromptSubmit':
      return { ...base, action: { kind: 'prompt', prompt: p.prompt ?? '' } };
    case 'PreToolUse':
    case 'PostToolUse': {
      const before = p.hookEventName === 'PreToolUse';
      if (SHELL_TOOLS.has(tool)) {
        const command = typeof input.command === 'string' ? input.command : '';
        return { ...base, action: { kind: before ? 'before-shell' : 'after-shell', tool, command } };
      }
      const files = editedFiles(tool, input);
      if (!files) return { ...base, action: { kind: 'none', reason: `${tool || 'the tool'} changes no file` } };
      if (files.length === 0) return { ...base, action: { kind: 'none', reason: `${tool} names no file` } };
      return { ...base, action: { kind: before ? 'before-edit' : 'after-edit', tool, files } };
    }
    default:
      return { ...base, action: { kind: 'none', reason: `${p.hookEventName} makes no point` } };
  }
}
