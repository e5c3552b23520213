import * as z from 'zod';
import type { HookEvent } from './hookEvent';
import { patchFiles } from './patchFiles';

/**
 * Cline's hooks (https://docs.cline.bot/features/hooks/hook-reference): an executable per event in
 * `.clinerules/hooks/`, given `clineVersion`, `hookName`, `timestamp`, `taskId`, `workspaceRoots`,
 * `userId` and one object named after the event: `preToolUse` / `postToolUse` (`toolName`,
 * `parameters`, after the tool also `result`, `success`), `userPromptSubmit` (`prompt`).
 * Tool parameters name files relative to the first workspace root.
 */
const toolSchema = z.looseObject({ toolName: z.string(), parameters: z.record(z.string(), z.unknown()).optional() });
const clineSchema = z.looseObject({
  hookName: z.string(),
  taskId: z.string().optional(),
  workspaceRoots: z.array(z.string()).optional(),
  preToolUse: toolSchema.optional(),
  postToolUse: toolSchema.optional(),
  userPromptSubmit: z.looseObject({ prompt: z.string().optional() }).optional(),
});

const FILE_TOOLS = new Set(['write_to_file', 'replace_in_file', 'new_rule']);
const SHELL_TOOLS = new Set(['execute_command']);

export function readClinePayload(raw: object): HookEvent | undefined {
  if (!('hookName' in raw)) return undefined;
  const parsed = clineSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  const base = { agent: 'cline' as const, cwd: p.workspaceRoots?.[0], sessionId: p.taskId };
  if (p.hookName === 'UserPromptSubmit') return { ...base, action: { kind: 'prompt', prompt: p.userPromptSubmit?.prompt ?? '' } };
  const before = p.hookName === 'PreToolUse';
  const use = before ? p.preToolUse : p.hookName === 'PostToolUse' ? p.postToolUse : undefined;
  if (!use) return { ...base, action: { kind: 'none', reason: `${p.hookName} makes no point` } };
  const tool = use.toolName;
  const params = use.parameters ?? {};
  if (SHELL_TOOLS.has(tool)) {
    const command = typeof params.command === 'string' ? params.command : '';
    return { ...base, action: { kind: before ? 'before-shell' : 'after-shell', tool, command } };
  }
  if (tool === 'apply_patch') {
    const patch = typeof params.input === 'string' ? params.input : '';
    const files = patchFiles(patch);
    return files.length > 0 ? { ...base, action: { kind: before ? 'before-edit' : 'after-edit', tool, files } } : { ...base, action: { kind: 'none', reason: `${tool} names no file` } };
  }
  if (!FILE_TOOLS.has(tool)) return { ...base, action: { kind: 'none', reason: `${tool} changes no file` } };
  const file = params.path;
  return typeof file === 'string' && file ? { ...base, action: { kind: before ? 'before-edit' : 'after-edit', tool, files: [file] } } : { ...base, action: { kind: 'none', reason: `${tool} names no file` } };
}
