import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { pathBelow } from '../core/capture/hintLinks';
import { describeCause, StateError, StoreBusyError } from '../core/errors';
import type { SavedContent } from '../core/capture';
import { realPathOf } from '../core/realPath';
import type { WorkspaceRoot } from '../core/schemas';
import { AuditLog } from '../core/state/auditLog';
import { notAStoreFolder, StoreLayout } from '../core/storeLayout';
import { startCleanupIfDue } from '../cli/backgroundCleanup';
import { startToolDetached } from '../cli/detachedTool';
import { findNearestExtensionStore } from '../cli/storeLocator';
import { STORE_PER_RUN, type StoreUse } from '../cli/storeUse';
import { AGENT_NAMES, BadPayloadError, readHookEvent, type AgentId, type HookEvent } from './hookEvent';
import { continueArgs } from './continuedHook';
import { makeHookPoint, type HookOutcome } from './hookPoint';
import { leaveToWaiter, resumeWaitingHooks } from './waitingHooks';

export const DEFAULT_HOOK_BUDGET_MS = 2000;
/** After the budget, the work is told to stop and given this long to let go of the store before the hook answers anyway. */
const GRACE_MS = 300;

export interface HookRunOptions {
  /** The agent the hook was installed for: tells the output protocol when the payload cannot. */
  readonly agent?: AgentId;
  readonly store?: string;
  readonly workspace?: string;
  readonly budgetMs: number;
  readonly readInput: () => Promise<string>;
  /** The folder `store`, `workspace` and a payload without `cwd` are read against: the agent's (the helper is given its client's). */
  readonly cwd?: string;
  /** How the store is opened for the point: once per hook, or kept open by the resident helper. */
  readonly stores?: StoreUse;
  /** The event of a hook that ran out of time making its point (`continueArgs`): its point is finished, no payload is read. */
  readonly continued?: HookEvent;
  /** With `continued`: the bytes of edited files as the hook found them (`waitingHooks`), by the names the event gives them. */
  readonly kept?: ReadonlyMap<string, SavedContent>;
}

export interface HookRunResult {
  /** What the agent reads on standard output: nothing that changes its behaviour. */
  readonly stdout: string;
  /** One line when no point could be made (the agent goes on regardless), else undefined. */
  readonly problem: string | undefined;
  readonly outcome: HookOutcome | undefined;
  /** The work may still be running (the budget ran out): the process should exit after answering. */
  readonly abandoned: boolean;
  /** The budget ran out while the point was made: it is finished by a detached process. */
  readonly continuing: boolean;
  /** The budget ran out while another process held the store: the store's waiter makes the point once it is free (`waitingHooks`). */
  readonly waiting: boolean;
  /** No point was made because another process held the store all along. */
  readonly storeBusy: boolean;
}

/** Claude Code and VS Code read nothing from an exit-0 hook that prints nothing; Cline reads its answer as JSON. */
function answer(agent: AgentId | undefined): string {
  return agent === 'cline' ? '{"cancel":false}\n' : '';
}

/**
 * `recovery-points hook`: reads an agent's hook payload and makes the point it asks for, within a time
 * budget. It never fails the agent's action: every problem becomes one line for standard error and an
 * entry in the store's audit log (when there is a store to write it to), and the exit code stays 0.
 */
export async function runHook(options: HookRunOptions): Promise<HookRunResult> {
  const controller = new AbortController();
  const state: HookState = { phase: 'reading the payload' };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), options.budgetMs);
  });
  const work = doWork(options, state, controller.signal).then(
    (outcome) => ({ outcome }),
    (error: unknown) => ({ error }),
  );
  const first = await Promise.race([work, expired]);
  clearTimeout(timer);
  let result: { outcome?: HookOutcome; error?: unknown };
  let abandoned = false;
  let continuing = false;
  let storeBusy = false;
  if (first === 'expired') {
    // what it was doing when the time ran out (the grace below may see it move on)
    const phase = state.phase;
    const making = phase === MAKING;
    controller.abort();
    const late = await Promise.race([work, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), GRACE_MS))]);
    abandoned = late === 'late';
    result = { error: new BudgetError(`gave up after ${options.budgetMs} ms while ${phase}`) };
    storeBusy = phase === WAITING;
    if (making && !options.continued && state.event && state.storeDir && state.folder) continuing = startToolDetached(continueArgs(state.event, state.storeDir, state.folder));
  } else {
    result = first;
    // the lock's own wait may end first
    storeBusy = result.error instanceof StoreBusyError;
  }
  // the store's holder may be busy for minutes (a first point of a big repository): its waiter makes the point after it
  const waiting = storeBusy && !options.continued && state.event !== undefined && state.storeDir !== undefined && state.folder !== undefined && leaveToWaiter(state.storeDir, state.folder, state.event);
  const agent = state.event?.agent ?? options.agent;
  if (result.outcome) {
    // an agent's hooks may be the only writer of this store: its packs and points are cleaned up as the editor's are
    if ('made' in result.outcome && state.storeDir && state.folder) await startCleanupIfDue(state.storeDir, [state.folder]).catch(() => false);
    // the store was free: hooks a waiter that gave up left waiting get their points (the waiter itself looks again as it ends)
    if (state.storeDir && state.folder && !options.continued) resumeWaitingHooks(state.storeDir);
    return { stdout: answer(agent), problem: undefined, outcome: result.outcome, abandoned, continuing: false, waiting: false, storeBusy: false };
  }
  const problem = describeProblem(result.error);
  await recordProblem(state, continuing ? `${problem}; the point is finished in the background` : waiting ? `${problem}; the point is made once the store is free` : problem);
  return { stdout: answer(agent), problem, outcome: undefined, abandoned, continuing, waiting, storeBusy };
}

/** What the work found so far: for the problem's record, and the clean-up after a point. */
interface HookState {
  event?: HookEvent;
  storeDir?: string;
  /** The workspace folder the point was made of. */
  folder?: string;
  phase: string;
}

const MAKING = 'making the point';
const WAITING = 'waiting for the store';

class BudgetError extends Error {}
class NoStoreError extends Error {}

async function doWork(options: HookRunOptions, state: HookState, signal: AbortSignal): Promise<HookOutcome> {
  const cwd = options.cwd ?? process.cwd();
  let event: HookEvent;
  try {
    event = options.continued ?? readHookEvent(await options.readInput());
  } catch (error) {
    // the problem is still recorded in the store of the folder the hook runs in, when it has one
    state.storeDir = options.store ? path.resolve(cwd, options.store) : (await findNearestExtensionStore(path.resolve(cwd, options.workspace ?? '.')))?.store;
    throw error;
  }
  state.event = event;
  if (event.action.kind === 'none') return { skipped: event.action.reason };
  state.phase = 'finding the store';
  const start = path.resolve(cwd, options.workspace ?? event.cwd ?? '.');
  let folder: string;
  if (options.store) {
    state.storeDir = path.resolve(cwd, options.store);
    folder = start;
  } else {
    const edited = event.action.kind === 'before-edit' || event.action.kind === 'after-edit' ? event.action.files[0] : undefined;
    const editedIn = edited === undefined ? undefined : path.dirname(path.resolve(start, edited));
    let found = await findNearestExtensionStore(start);
    // an edit outside the folder the agent works in: an agent started above the opened folder (a
    // monorepo's root), or given another project (Claude Code's --add-dir): the file's folder names the store
    if (editedIn !== undefined && (found === undefined || (path.resolve(found.folder) !== editedIn && pathBelow(found.folder, editedIn) === undefined))) found = (await findNearestExtensionStore(editedIn)) ?? found;
    if (!found) throw new NoStoreError(`no recovery point store for ${start} (open the folder in VS Code with Recovery Points installed)`);
    state.storeDir = found.store;
    folder = found.folder;
  }
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) throw new NoStoreError(`the workspace folder ${folder} does not exist`);
  state.folder = folder;
  state.phase = WAITING;
  const open = { storeDir: state.storeDir, roots: [{ name: path.basename(folder) || 'workspace', path: folder }], actor: `hook:${event.agent}:${process.pid}`, lockWaitMs: options.budgetMs };
  return (options.stores ?? STORE_PER_RUN).use(open, async (store) => {
    // The editor names folders as VS Code does, and may hold more than this one: take the newest point's folders when they include it.
    const newest = (await store.persistence.listSnapshots())[0];
    // the same folder by its real path: the agent's `cwd` may be the real path of a folder the editor opened through a link
    const real = realPathOf(folder);
    const roots: WorkspaceRoot[] = newest?.roots.some((r) => path.resolve(r.path) === folder || realPathOf(r.path) === real) ? newest.roots.map((r) => ({ name: r.name, path: r.path })) : open.roots;
    if (!isDeepStrictEqual(roots, store.persistence.workspaceRoots)) store.persistence.configure({ roots });
    return makeHookPoint(store, event, { signal, continued: options.continued !== undefined, kept: options.kept, onCapturing: () => (state.phase = MAKING) });
  });
}

function describeProblem(error: unknown): string {
  if (error instanceof BadPayloadError || error instanceof BudgetError || error instanceof NoStoreError) return error.message;
  if (error instanceof StateError) return error.message.replace(/\s*\n\s*/g, ' ');
  return `unexpected error: ${describeCause(error)}`;
}

/** An audit-log entry in the store the hook was for, if it exists; a full disk may refuse even that. */
async function recordProblem(state: { event?: HookEvent; storeDir?: string }, problem: string): Promise<void> {
  // never into a folder that is not a store (a mistyped --store): the log would make it one
  if (!state.storeDir || !fs.statSync(state.storeDir, { throwIfNoEntry: false })?.isDirectory() || notAStoreFolder(state.storeDir) !== undefined) return;
  const agent = state.event ? AGENT_NAMES[state.event.agent] : 'unknown agent';
  const log = new AuditLog(new StoreLayout(state.storeDir).auditLogFile, `hook:${state.event?.agent ?? 'unknown'}:${process.pid}`);
  await log.append({ action: 'hook', details: { agent, action: state.event?.action.kind ?? 'unread', problem } }).catch(() => undefined);
}
