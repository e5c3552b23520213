import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HookScope } from '../hooks/agentSettings';
import { AGENT_NAMES, AGENTS, type AgentId } from '../hooks/hookEvent';
import type { HookFileReport } from '../hooks/hookInstaller';
import { readContinuedEvent } from '../hooks/continuedHook';
import { DEFAULT_HOOK_BUDGET_MS, runHook } from '../hooks/runHook';
import { serveWaitingHooks } from '../hooks/waitingHooks';
import type { StoreUse } from './storeUse';
import { HELPER_ENV } from '../hooks/helper/helperFile';
import { findHookClient } from '../hooks/hookCommand';
import { startHookHelper } from '../hooks/helper/startHelper';
import { InputError, UsageError, type ParsedArgs } from './args';
import { escapeForTerminal as t } from './terminalText';

/** Environment variable that sets the hook's time budget in milliseconds (`--budget` wins). */
export const BUDGET_ENV = 'RECOVERY_POINTS_HOOK_BUDGET_MS';

function agentOf(value: string | undefined): AgentId | undefined {
  if (value === undefined) return undefined;
  if ((AGENTS as readonly string[]).includes(value)) return value as AgentId;
  throw new UsageError(`--agent must be one of ${AGENTS.join(', ')}`);
}

/** The longest budget a hook takes (longer ones are taken as this): ten minutes, far above any agent's hook timeout. */
const MAX_HOOK_BUDGET_MS = 600_000;

/**
 * The hook's time budget, and a note when the one given cannot be used: a mistyped budget must not
 * turn the agent's checkpoints off, so it falls back to the default and says so.
 */
function budgetOf(args: ParsedArgs, fromEnv: string | undefined): { ms: number; note?: string } {
  const text = args.budget ?? fromEnv;
  if (text === undefined || text === '') return { ms: DEFAULT_HOOK_BUDGET_MS };
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms <= 0) {
    const given = args.budget === undefined ? BUDGET_ENV : '--budget';
    return { ms: DEFAULT_HOOK_BUDGET_MS, note: `the hook's budget (${given} ${JSON.stringify(text)}) is not a whole number of milliseconds above 0; the default ${DEFAULT_HOOK_BUDGET_MS} ms is used` };
  }
  return { ms: Math.min(ms, MAX_HOOK_BUDGET_MS) };
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** What a hook prints; `abandoned`: its work may still be running (the budget ran out). */
export interface HookAnswer {
  readonly stdout: string;
  readonly stderr: string;
  readonly abandoned: boolean;
}

/** Where a hook runs: its process's, or (in the resident helper) its client's. */
export interface HookContext {
  readonly cwd?: string;
  /** The value of RECOVERY_POINTS_HOOK_BUDGET_MS where the hook was started. */
  readonly budgetEnv: string | undefined;
  readonly readInput: () => Promise<string>;
  readonly stores?: StoreUse;
}

/**
 * The hook's answer: the agent's on stdout, one line on stderr when no point could be made. A bad
 * option is a UsageError (its line is the caller's to print: the hook still exits 0).
 */
export async function answerHook(args: ParsedArgs, context: HookContext): Promise<HookAnswer> {
  const agent = agentOf(args.agent);
  const continued = args.continueEvent === undefined ? undefined : readContinuedEvent(args.continueEvent);
  // a point finished in the background: no agent waits for it
  const budget = continued ? { ms: MAX_HOOK_BUDGET_MS } : budgetOf(args, context.budgetEnv);
  if (args.workspaces.length > 1) throw new UsageError('hook takes one --workspace');
  const result = await runHook({ agent, store: args.store, workspace: args.workspaces[0], budgetMs: budget.ms, readInput: context.readInput, cwd: context.cwd ?? args.cwd, stores: context.stores, continued });
  const note = budget.note ? `recovery-points hook: ${t(budget.note)}.\n` : '';
  const outcome = result.continuing ? 'the point is finished in the background' : result.waiting ? 'the point is made once the store is free' : 'no point was made';
  const stderr = `${note}${result.problem ? `recovery-points hook: ${t(result.problem.replace(/\.$/, ''))}; ${outcome}, the agent goes on.\n` : ''}`;
  return { stdout: result.stdout, stderr, abandoned: result.abandoned };
}

/**
 * `recovery-points hook`: exit 0 whatever happens (an agent's action must never fail because of us),
 * the agent's answer on stdout, one line on stderr when no point could be made. Run by `hook-client.sh`
 * when no resident helper answered (`RECOVERY_POINTS_HELPER=start`): starts one for the next hooks.
 */
export async function hookMain(args: ParsedArgs): Promise<number> {
  if (args.waiting) return waitingHooksMain(args);
  const answer = await answerHook(args, { budgetEnv: process.env[BUDGET_ENV], readInput: readStdin });
  process.stderr.write(answer.stderr);
  process.stdout.write(answer.stdout);
  process.stdin.destroy();
  if (process.env[HELPER_ENV] === 'start' && args.continueEvent === undefined) startHookHelper();
  // The budget ran out with work still pending (a lock wait, a capture): answer now; the store is safe to leave at any moment.
  if (answer.abandoned) process.exit(0);
  return 0;
}

/** How long the store's waiter waits for the store before it leaves its hooks to the next waiter. */
const WAITER_BUDGET_MS = 30 * 60_000;

/** `hook --waiting --store STORE`: the store's waiter (`waitingHooks`), started detached by a hook that gave up waiting for the store. */
async function waitingHooksMain(args: ParsedArgs): Promise<number> {
  if (args.store === undefined) throw new UsageError('hook --waiting needs --store');
  const storeDir = path.resolve(args.cwd, args.store);
  await serveWaitingHooks(storeDir, async (waiting) => {
    const result = await runHook({ agent: waiting.event.agent, store: storeDir, workspace: waiting.folder, budgetMs: WAITER_BUDGET_MS, readInput: () => Promise.resolve(''), continued: waiting.event, kept: waiting.kept });
    return result.storeBusy ? 'busy' : 'done';
  });
  return 0;
}

function scopeOf(args: ParsedArgs): HookScope {
  if (args.user && args.project) throw new UsageError('give --user or --project, not both');
  return args.user ? 'user' : 'project';
}

/** What `hooks` takes: the project (`--workspace`), the agent and the scope. */
const HOOKS_OPTIONS = new Set(['--workspace', '--json', '--help', '--agent', '--user', '--project']);

/** `recovery-points hooks install|uninstall|status`. */
export async function hooksMain(args: ParsedArgs, write: (human: string, data: unknown) => void): Promise<number> {
  const [verb, ...rest] = args.positionals;
  if (!verb || !['install', 'uninstall', 'status'].includes(verb) || rest.length > 0) throw new UsageError('hooks takes one of install, uninstall, status');
  if (args.workspaces.length > 1) throw new UsageError('hooks takes one --workspace (the project)');
  const stray = [...args.given].find((option) => !HOOKS_OPTIONS.has(option));
  if (stray) throw new UsageError(`"hooks" does not take ${stray}`);
  const projectDir = path.resolve(args.cwd, args.workspaces[0] ?? '.');
  if (!fs.statSync(projectDir, { throwIfNoEntry: false })?.isDirectory()) throw new InputError(`The project folder ${projectDir} does not exist.`);
  const agent = agentOf(args.agent);
  // the settings files' code is not on the path of `hook`, which agents run at every tool call
  const { hooksStatus, installHooks, uninstallHooks } = await import('../hooks/hookInstaller.js');
  if (verb === 'status') {
    const scopes: HookScope[] = args.user || args.project ? [scopeOf(args)] : ['project', 'user'];
    const reports: Array<HookFileReport & { agent: AgentId; scope: HookScope }> = [];
    for (const a of agent ? [agent] : AGENTS) for (const scope of scopes) reports.push({ agent: a, scope, ...(await hooksStatus({ agent: a, scope, projectDir })) });
    const state = (r: HookFileReport) =>
      r.events.length === 0 ? 'not installed' : r.missing ? `installed but broken: ${t(r.missing[0]!)} is gone; run "hooks install" again` : `installed (${r.events.join(', ')})`;
    const lines = reports.map((r) => `${AGENT_NAMES[r.agent].padEnd(12)} ${r.scope.padEnd(8)} ${state(r)}  ${t(r.location)}`);
    write(lines.join('\n'), reports);
    return 0;
  }
  if (!agent) throw new UsageError(`hooks ${verb} needs --agent (${AGENTS.join(', ')})`);
  const target = { agent, scope: scopeOf(args), projectDir };
  if (verb === 'install') {
    const { HOOK_EVENTS } = await import('../hooks/agentSettings.js');
    const cli = fs.realpathSync(process.argv[1]!);
    const report = await installHooks(target, { node: process.execPath, cli, client: findHookClient(cli) });
    const what = report.changed ? `Installed the Recovery Points hook for ${AGENT_NAMES[agent]} (${HOOK_EVENTS.join(', ')}) in ${t(report.location)}` : `The Recovery Points hook for ${AGENT_NAMES[agent]} is already installed in ${t(report.location)}`;
    write(`${what}${report.backup ? `; the file as it was is in ${t(report.backup)}` : ''}.`, report);
  } else {
    const report = await uninstallHooks(target);
    const what = report.changed ? `Removed the Recovery Points hook for ${AGENT_NAMES[agent]} from ${t(report.location)}` : `No Recovery Points hook for ${AGENT_NAMES[agent]} in ${t(report.location)}`;
    write(`${what}${report.backup ? `; the file as it was is in ${t(report.backup)}` : ''}.`, report);
  }
  return 0;
}

/** `recovery-points hook-helper [status|stop]`: runs the hooks' resident helper, says whether one runs, or ends it. */
export async function hookHelperMain(args: ParsedArgs, write: (human: string, data: unknown) => void): Promise<number> {
  const [verb, ...rest] = args.positionals;
  if ((verb !== undefined && verb !== 'status' && verb !== 'stop') || rest.length > 0) throw new UsageError('hook-helper takes nothing (run the helper), status or stop');
  const stray = [...args.given].find((option) => option !== '--json' && option !== '--help');
  if (stray) throw new UsageError(`"hook-helper" does not take ${stray}`);
  const { helperFile, readHelperAddress } = await import('../hooks/helper/helperFile.js');
  const { answersAt, HELPER_IDLE_ENV, serveHookHelper, stopHookHelper } = await import('../hooks/helper/hookHelper.js');
  // as the hook's command names it (and hook-client.sh compares it), links not resolved
  const cli = path.resolve(process.argv[1]!);
  if (verb === undefined) {
    const idle = Number(process.env[HELPER_IDLE_ENV]);
    await serveHookHelper({
      cli,
      bundle: path.join(path.dirname(cli), 'cli', 'main.js'),
      idleMs: Number.isInteger(idle) && idle > 0 ? idle : undefined,
      log: (line) => process.stderr.write(`${new Date().toISOString()} hook-helper ${process.pid}: ${line}\n`),
    });
    return 0;
  }
  const address = readHelperAddress(helperFile());
  if (verb === 'stop') {
    const stopped = address !== undefined && (await stopHookHelper(address));
    write(stopped ? `The hook helper (pid ${address.pid}) was asked to end.` : 'No hook helper is running.', { stopped, pid: stopped ? address.pid : null });
    return 0;
  }
  const running = address !== undefined && (await answersAt(address));
  write(running ? `A hook helper runs: pid ${address.pid}, 127.0.0.1:${address.port}, for ${t(address.cli)}${address.cli === cli ? '' : ' (another install)'}.` : 'No hook helper is running; the next hook made through hook-client.sh, or command through dist/recovery-points, starts one.', running ? { running, pid: address.pid, port: address.port, cli: address.cli } : { running });
  return 0;
}
