import * as z from 'zod';
import { AGENTS, shortenCommand, type HookAction, type HookEvent } from './hookEvent';

/**
 * A hook whose budget ran out while it captured the workspace (a first point, a checkout that changed
 * thousands of files) would otherwise leave the agent's action in no point, and so would every hook
 * after it, each giving up at the same place. Its point is finished instead by this tool started again,
 * detached: `hook --continue EVENT`, the hook's event as JSON, with no budget.
 */
export const CONTINUE_OPTION = '--continue';

/** Paths named in the argument, at most: an edit names one file, a patch a few. */
export const MAX_FILES = 200;
/** What is kept of a command or a prompt: more than a point's name shows. */
const MAX_TEXT = 500;

const continuedSchema = z.object({
  agent: z.enum(AGENTS),
  cwd: z.string().optional(),
  sessionId: z.string().optional(),
  action: z.discriminatedUnion('kind', [
    z.object({ kind: z.enum(['before-edit', 'after-edit']), tool: z.string(), files: z.array(z.string()).min(1) }),
    z.object({ kind: z.enum(['before-shell', 'after-shell']), tool: z.string(), command: z.string() }),
    z.object({ kind: z.literal('prompt'), prompt: z.string() }),
  ]),
});

/** The arguments of the detached hook that finishes `event`'s point in `folder`, with `storeDir`. */
export function continueArgs(event: HookEvent, storeDir: string, folder: string): string[] {
  return ['hook', CONTINUE_OPTION, continuedEventText(event), '--agent', event.agent, '--store', storeDir, '--workspace', folder];
}

/** `event` as `readContinuedEvent` reads it back, its paths and texts shortened. */
export function continuedEventText(event: HookEvent): string {
  return JSON.stringify({ agent: event.agent, cwd: event.cwd, sessionId: event.sessionId, action: shortened(event.action) });
}

function shortened(action: HookAction): HookAction {
  switch (action.kind) {
    case 'before-edit':
    case 'after-edit':
      return { ...action, files: action.files.slice(0, MAX_FILES) };
    case 'before-shell':
    case 'after-shell':
      return { ...action, command: shortenCommand(action.command, MAX_TEXT) };
    case 'prompt':
      return { ...action, prompt: shortenCommand(action.prompt, MAX_TEXT) };
    case 'none':
      return action;
  }
}

/** The event `continueArgs` passed on; throws when it is not one. */
export function readContinuedEvent(text: string): HookEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`${CONTINUE_OPTION} was given no hook event`);
  }
  const parsed = continuedSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${CONTINUE_OPTION} was given no hook event`);
  const { agent, cwd, sessionId, action } = parsed.data;
  return { agent, cwd, sessionId, action };
}
