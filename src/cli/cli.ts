import * as fs from 'node:fs';
import * as path from 'node:path';
// The core's modules, not its index: a command loads what it uses (#14), not transfer, search or the agent tools.
import { describeCause, StateError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { CaptureProcessOptions } from '../core/capture/captureProcess';
import { RecoveryStore } from '../core/recoveryStore';
import { MAX_LABEL_LENGTH } from '../core/schemas';
import { checkStorePlacement } from '../core/storePlacement';
import { InputError, parseArgs, UsageError, USAGE, type ParsedArgs } from './args';
import type { Output } from './commands';
import { startCleanupIfDue } from './backgroundCleanup';
import { loadCommand } from './commandIndex';
import { findExtensionStore } from './storeLocator';
import { escapeForTerminal } from './terminalText';
import { plural } from '../core/format';

async function main(argv: readonly string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // exit 2 would block the agent's action (Claude Code, VS Code): a hook with bad options says so and lets it go on
    if (argv[0] === 'hook') return hookUsage(message);
    return usage(message);
  }
  if (args.help || !args.command) {
    process.stdout.write(`${USAGE}\n`);
    return args.command || args.help ? 0 : 2;
  }
  if (args.command === 'hook' || args.command === 'hooks' || args.command === 'hook-helper') return agentHooks(args);
  const command = await loadCommand(args.command);
  if (!command) return usage(`unknown command "${args.command}"`);
  const [min, max] = command.positionals;
  if (args.positionals.length < min || args.positionals.length > max) return usage(`"${args.command}" takes ${min === max ? plural(min, 'argument') : `${min} to ${max} arguments`}`);
  const badArgument = checkArguments(args);
  if (badArgument) return usage(badArgument);
  const stray = [...args.given].find((option) => !GLOBAL_OPTIONS.has(option) && !command.options?.includes(option));
  if (stray) return usage(`"${args.command}" does not take ${stray}`);

  const workspaces = (args.workspaces.length > 0 ? args.workspaces : [process.cwd()]).map((w) => path.resolve(w));
  for (const workspace of workspaces) {
    const stat = fs.statSync(workspace, { throwIfNoEntry: false });
    if (!stat?.isDirectory()) return badInput(stat ? `The workspace folder ${workspace} is a file, not a folder.` : `The workspace folder ${workspace} does not exist.`);
  }
  const storeDir = args.store ? path.resolve(args.store) : await findExtensionStore(workspaces[0]!);
  if (!storeDir) {
    return fail(`No recovery point store was found for ${workspaces[0]}: open it in VS Code with Recovery Points installed, or give one with --store DIR.`);
  }
  if (NEEDS_A_STORE.has(args.command)) {
    const missing = storeProblem(storeDir);
    if (missing) return args.store ? badInput(missing) : fail(missing);
  }
  try {
    checkStorePlacement(storeDir, workspaces.map((workspace) => ({ name: path.basename(workspace) || 'workspace', path: workspace })));
  } catch (error) {
    return usage(error instanceof StateError ? error.message : describeCause(error));
  }
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => process.stderr.write(`warning: ${escapeForTerminal(message)}\n`),
    error: (message) => process.stderr.write(`error: ${escapeForTerminal(message)}\n`),
  };
  const out: Output = {
    result: (human, data) => process.stdout.write(`${args.json ? JSON.stringify(data, null, 2) : human}\n`),
    progress: (message) => {
      if (!args.json && process.stderr.isTTY) process.stderr.write(`${message}…\n`);
    },
  };
  let store: RecoveryStore | undefined;
  try {
    const roots = rootsFor(workspaces);
    const mcp = args.command === 'mcp';
    store = await RecoveryStore.open({ storeDir, roots, actor: `${mcp ? 'mcp' : 'cli'}:${process.pid}`, logger, captureProcess: mcp ? captureProcessBeside() : undefined });
    // The editor names folders as VS Code does (a .code-workspace may rename them): use the names the newest point gave these paths.
    const named = adoptPointNames(roots, (await store.persistence.listSnapshots())[0]?.roots ?? []);
    if (named) store.persistence.configure({ roots: named });
    await command.run(store, args, out);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    if (error instanceof InputError) return badInput(error.message);
    return fail(error instanceof StateError ? error.message : `Unexpected error: ${describeCause(error)}`);
  } finally {
    await store?.close().catch(() => undefined);
    if (store && MAKES_POINTS.has(args.command)) await startCleanupIfDue(storeDir, workspaces).catch(() => false);
  }
}

/**
 * The script a store's first point is captured in (bundled beside the tool, `dist/captureProcess.js`),
 * for the MCP server: it stays up for an agent's whole session, and would keep the capture's memory
 * (100–200 MB at 50k files) as long; the other commands end right after their point. Without the
 * script (run from source), in this process.
 */
function captureProcessBeside(): CaptureProcessOptions | undefined {
  const script = path.join(__dirname, '..', 'captureProcess.js');
  return fs.existsSync(script) ? { script } : undefined;
}

/** Options every command takes. */
const GLOBAL_OPTIONS = new Set(['--workspace', '--store', '--json', '--help']);

/** Commands that add points (and packs): after them a clean-up starts in the background when one is due. */
const MAKES_POINTS = new Set(['snapshot', 'restore', 'undo', 'import']);

/** `hook` (run by an agent), `hooks` (its settings) and `hook-helper` (its resident helper) find their store and folders themselves. */
async function agentHooks(args: ParsedArgs): Promise<number> {
  try {
    const { hookHelperMain, hookMain, hooksMain } = await import('./hookCommands.js');
    if (args.command === 'hook') return await hookMain(args).catch((error: unknown) => hookUsage(error instanceof Error ? error.message : String(error)));
    const write = (human: string, data: unknown) => process.stdout.write(`${args.json ? JSON.stringify(data, null, 2) : human}\n`);
    if (args.command === 'hook-helper') return await hookHelperMain(args, write);
    return await hooksMain(args, write);
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    if (error instanceof InputError) return badInput(error.message);
    return fail(error instanceof StateError ? error.message : `Unexpected error: ${describeCause(error)}`);
  }
}

/** Commands that read or change existing points: on a missing store they say so instead of creating one. */
const NEEDS_A_STORE = new Set(['list', 'show', 'diff', 'stats', 'verify', 'restore', 'undo', 'cleanup', 'gc', 'search', 'log', 'cat']);

/** Why `storeDir` cannot be read as a store, or `undefined`. A folder with neither points nor a state file is not one. */
function storeProblem(storeDir: string): string | undefined {
  const stat = fs.statSync(storeDir, { throwIfNoEntry: false });
  if (!stat) return `The recovery point store ${storeDir} does not exist. Check --store (a point is made with "recovery-points snapshot").`;
  if (!stat.isDirectory()) return `The recovery point store ${storeDir} is not a folder.`;
  const inside = (name: string) => fs.statSync(path.join(storeDir, name), { throwIfNoEntry: false }) !== undefined;
  if (!inside('points') && !inside('state.json')) return `${storeDir} is not a recovery point store (it has no points). Check --store.`;
  return undefined;
}

/** Arguments refused before any work: what would otherwise fail after a whole capture. */
function checkArguments(args: ParsedArgs): string | undefined {
  const label = args.label?.trim();
  if (label !== undefined && label.length > MAX_LABEL_LENGTH) return `--label is ${label.length} characters long; a label may have at most ${MAX_LABEL_LENGTH}`;
  if (args.patch && args.command !== 'diff' && args.command !== 'show') return '--patch goes with "diff" or "show"';
  if (args.binary && !args.patch) return '--binary goes with --patch';
  return undefined;
}

/** Workspace folders are named like VS Code names them: by their folder name, made unique. */
function rootsFor(workspaces: string[]): Array<{ name: string; path: string }> {
  const used = new Set<string>();
  return workspaces.map((workspace) => {
    const base = path.basename(workspace) || 'workspace';
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return { name, path: workspace };
  });
}

/** `roots` renamed after the point's folders with the same paths; `undefined` when nothing changes. */
function adoptPointNames(roots: Array<{ name: string; path: string }>, known: ReadonlyArray<{ name: string; path: string }>): Array<{ name: string; path: string }> | undefined {
  const byPath = new Map(known.map((r) => [r.path, r.name]));
  const renamed = roots.map((root) => ({ name: byPath.get(root.path) ?? root.name, path: root.path }));
  const unique = new Set(renamed.map((r) => r.name)).size === renamed.length;
  return unique && renamed.some((r, i) => r.name !== roots[i]!.name) ? renamed : undefined;
}

function hookUsage(message: string): number {
  process.stderr.write(`recovery-points hook: ${escapeForTerminal(message)}; no point was made, the agent goes on.\n`);
  return 0;
}

function usage(message: string): number {
  process.stderr.write(`recovery-points: ${escapeForTerminal(message)}\nRun "recovery-points --help" for usage.\n`);
  return 2;
}

/** Input naming nothing the store holds: one line, exit 2. */
function badInput(message: string): number {
  process.stderr.write(`recovery-points: ${escapeForTerminal(message.replace(/\s*\n\s*/g, ' '))}\n`);
  return 2;
}

function fail(message: string): number {
  process.stderr.write(`recovery-points: ${escapeForTerminal(message.replace(/\s*\n\s*/g, ' '))}\n`);
  return 1;
}

/**
 * Ends the process once what it printed is written (#14). Every write to the store was finished and
 * synced before the command returned and the store was closed; left to end by itself, Node would first
 * wait for V8's background work (compiling, collecting), which a process about to end has no use for
 * (measured on a loaded machine: the end came a median 15 ms sooner after the store's lock was released).
 */
function exitWhenWritten(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit()));
}

/**
 * A command that waits for something that never comes (a promise nothing settles: a bug) leaves Node's
 * event loop empty, and Node would end the process with exit 0, as if the command had succeeded: an
 * agent's hook or a script would take it for done. It ends with exit 1 and a sentence instead.
 */
let settled = false;
process.once('beforeExit', () => {
  if (settled) return;
  process.stderr.write('recovery-points: internal error: the command stopped before it finished, waiting for something that never came. Run "recovery-points verify" to check the store.\n');
  process.exitCode = 1;
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    exitWhenWritten(code);
  },
  (error: unknown) => {
    settled = true;
    process.stderr.write(`recovery-points: ${describeCause(error)}\n`);
    exitWhenWritten(1);
  },
);
