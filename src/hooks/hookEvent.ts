import { readClaudePayload } from './claudePayload';
import { readClinePayload } from './clinePayload';
import { readVsCodePayload } from './vscodePayload';

/** The agents whose hooks `recovery-points hook` reads. `copilot` is VS Code's agent hooks (Copilot's agent mode). */
export const AGENTS = ['claude', 'copilot', 'cline'] as const;
export type AgentId = (typeof AGENTS)[number];

/** The name a point carries and the tree shows. */
export const AGENT_NAMES: Record<AgentId, string> = { claude: 'Claude Code', copilot: 'Copilot', cline: 'Cline' };

/** What a hook asks of the store, whatever the agent's format. Paths are as the agent gave them (absolute, or relative to `cwd`). */
export type HookAction =
  | { readonly kind: 'before-edit' | 'after-edit'; readonly tool: string; readonly files: readonly string[] }
  | { readonly kind: 'before-shell' | 'after-shell'; readonly tool: string; readonly command: string }
  | { readonly kind: 'prompt'; readonly prompt: string }
  /** An event or tool that changes no file (a read, a search). */
  | { readonly kind: 'none'; readonly reason: string };

export interface HookEvent {
  readonly agent: AgentId;
  /** The folder the agent works in: the hook's `cwd`, or Cline's first workspace root. */
  readonly cwd: string | undefined;
  readonly sessionId: string | undefined;
  readonly action: HookAction;
}

/** A payload that is not JSON, or not any agent's hook format: the hook says so and lets the agent go on. */
export class BadPayloadError extends Error {}

/**
 * Reads one hook payload. The format is told by its shape (Claude Code's `hook_event_name`, VS Code's
 * `hookEventName`, Cline's `hookName` + `taskId`), not by the agent the hook was installed for: VS Code
 * also runs the hooks of `.claude/settings*.json`, with its own payload.
 */
export function readHookEvent(text: string): HookEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BadPayloadError(text.trim() === '' ? 'no hook payload on standard input' : 'the hook payload on standard input is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BadPayloadError('the hook payload is not a JSON object');
  const event = readClaudePayload(raw) ?? readVsCodePayload(raw) ?? readClinePayload(raw);
  if (!event) throw new BadPayloadError('the hook payload is in no known format (Claude Code, VS Code agent hooks, Cline)');
  return event;
}

/** A command on one line, at most `max` characters: "npm run fmt", "git commit -m 'a long…". */
export function shortenCommand(command: string, max = 60): string {
  const line = command.trim().split(/\r?\n/)[0]!.replace(/\s+/g, ' ');
  const more = line.length > max || command.trim().includes('\n');
  return more ? `${line.slice(0, max - 1).trimEnd()}…` : line;
}
