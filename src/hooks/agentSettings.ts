import * as os from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import type { AgentId } from './hookEvent';

export type HookScope = 'project' | 'user';

/**
 * Where each agent reads hooks, per scope:
 * - Claude Code: `~/.claude/settings.json` (user); `.claude/settings.local.json` in the project, the
 *   project file that is not committed, since the command names this machine's paths.
 * - VS Code's agent hooks (Copilot): a file of our own in `~/.copilot/hooks/` or `.github/hooks/`.
 * - Cline: one executable per event in `~/Documents/Cline/Hooks/` or `.clinerules/hooks/`.
 */
export function settingsLocation(agent: AgentId, scope: HookScope, projectDir: string, home = os.homedir()): string {
  const base = scope === 'user' ? home : projectDir;
  switch (agent) {
    case 'claude':
      return scope === 'user' ? path.join(home, '.claude', 'settings.json') : path.join(base, '.claude', 'settings.local.json');
    case 'copilot':
      return scope === 'user' ? path.join(home, '.copilot', 'hooks', 'recovery-points.json') : path.join(base, '.github', 'hooks', 'recovery-points.json');
    case 'cline':
      return scope === 'user' ? path.join(home, 'Documents', 'Cline', 'Hooks') : path.join(base, '.clinerules', 'hooks');
  }
}

/** One hook command entry (Claude Code's and VS Code's); unknown keys are kept as they are. */
export const commandHookSchema = z.looseObject({ type: z.string(), command: z.string().optional() });
export type CommandHook = z.infer<typeof commandHookSchema>;

/** Claude Code's settings: `hooks` maps an event to matcher groups, each with its commands. Everything else is left alone. */
export const claudeSettingsSchema = z.looseObject({
  hooks: z.record(z.string(), z.array(z.looseObject({ matcher: z.string().optional(), hooks: z.array(commandHookSchema) }))).optional(),
});
export type ClaudeSettings = z.infer<typeof claudeSettingsSchema>;

/** A VS Code hook file: `hooks` maps an event to commands (VS Code ignores matchers). */
export const vscodeHookFileSchema = z.looseObject({ hooks: z.record(z.string(), z.array(commandHookSchema)).optional() });
export type VsCodeHookFile = z.infer<typeof vscodeHookFileSchema>;

/** The events each agent's hook is installed for (Claude Code's matchers limit them to the tools that change files). */
export const CLAUDE_EDIT_TOOLS = 'Edit|Write|MultiEdit|NotebookEdit';
export const HOOK_EVENTS = ['UserPromptSubmit', 'PreToolUse', 'PostToolUse'] as const;
/** Seconds the agent waits for the hook; the hook itself gives up after its budget (2 s by default). */
export const HOOK_TIMEOUT_SECONDS = 10;
