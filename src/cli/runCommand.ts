import * as fs from 'node:fs';
import * as path from 'node:path';
// The core's modules, not its index: a command loads what it uses (#14), not transfer, search or the agent tools.
import { describeCause, errorCode, StateError, StoreNotWritableError, WRITABLE_FOR } from '../core/errors';
import type { Logger } from '../core/logger';
import type { CaptureProcessOptions } from '../core/capture/captureProcess';
import type { OpenStoreOptions, RecoveryStore } from '../core/recoveryStore';
import { MAX_LABEL_LENGTH } from '../core/schemas';
import { checkStorePlacement } from '../core/storePlacement';
import { plural } from '../core/format';
import { InputError, UsageError, type ParsedArgs } from './args';
import type { Output } from './commands';
import { startCleanupIfDue } from './backgroundCleanup';
import { resumeWaitingHooks } from '../hooks/waitingHooks';
import type { StoreUse } from './storeUse';
import { loadCommand } from './commandIndex';
import { findExtensionStore, findNearestExtensionStore } from './storeLocator';
import { escapeForTerminal } from './terminalText';

/** Where a command's output goes: this process's streams, or the answer the helper sends its client. */
export interface CommandIo {
  stdout(data: string | Uint8Array): void;
  stderr(text: string): void;
  /** Progress lines are for a person watching a terminal. */
  readonly stderrIsTTY: boolean;
  /** How the command's store is opened and let go of: once per process, or kept open by the resident helper. */
  readonly stores: StoreUse;
  /** The process stays up after the command (the resident helper): a store's first point is captured in a process of its own. */
  readonly resident?: boolean;
}

/**
 * A store command (everything but `hook`, `hooks`, `hook-helper` and `--help`), from its parsed
 * arguments to its exit code: run by `recovery-points` itself, and by the resident helper for the
 * commands its client hands it (`hook-client.sh`). Relative paths are read against `args.cwd`.
 */
export async function runCommand(args: ParsedArgs, io: CommandIo): Promise<number> {
  const usage = (message: string) => usageError(io, message);
  const command = await loadCommand(args.command!);
  if (!command) return usage(`unknown command "${args.command}"`);
  const [min, max] = command.positionals;
  if (args.positionals.length < min || args.positionals.length > max) return usage(`"${args.command}" takes ${min === max ? plural(min, 'argument') : `${min} to ${max} arguments`}`);
  const badArgument = checkArguments(args);
  if (badArgument) return usage(badArgument);
  const stray = [...args.given].find((option) => !GLOBAL_OPTIONS.has(option) && !command.options?.includes(option));
  if (stray) return usage(`"${args.command}" does not take ${stray}`);

  if (args.workspaces.length === 0 && !fs.statSync(args.cwd, { throwIfNoEntry: false })) {
    return badInput(io, `The current folder ${args.cwd} no longer exists (deleted or moved): run the tool from your project's folder, or name it with --workspace DIR.`);
  }
  let workspaces = (args.workspaces.length > 0 ? args.workspaces : [args.cwd]).map((w) => path.resolve(args.cwd, w));
  // a removed folder is told from a mistyped one once the store is open: its points name it
  const removed: string[] = [];
  const notThere = (workspace: string) =>
    `The workspace folder ${workspace} does not exist.${command.withoutFolder ? '' : ' (A removed workspace folder\'s points are listed with "list" and put back with "restore" while the folder above it is there.)'}`;
  for (const workspace of workspaces) {
    const stat = fs.statSync(workspace, { throwIfNoEntry: false });
    if (stat && !stat.isDirectory()) return badInput(io, `The workspace folder ${workspace} is a file, not a folder.`);
    if (stat) continue;
    if (!(command.withoutFolder && fs.statSync(path.dirname(workspace), { throwIfNoEntry: false })?.isDirectory())) return badInput(io, notThere(workspace));
    removed.push(workspace);
  }
  let storeDir = args.store ? path.resolve(args.cwd, args.store) : await findExtensionStore(workspaces[0]!);
  if (!storeDir && !args.store && args.workspaces.length === 0) {
    // run in a subfolder of the folder the editor opened: that folder's store, and that folder
    const nearest = await findNearestExtensionStore(args.cwd);
    if (nearest) [storeDir, workspaces] = [nearest.store, [nearest.folder]];
  }
  if (!storeDir) {
    return fail(io, `No recovery point store was found for ${workspaces[0]}: open it in VS Code with Recovery Points installed, or give one with --store DIR.`);
  }
  if (NEEDS_A_STORE.has(args.command!)) {
    const missing = storeProblem(storeDir);
    if (missing) return args.store ? badInput(io, missing) : fail(io, missing);
  }
  try {
    checkStorePlacement(storeDir, workspaces.map((workspace) => ({ name: path.basename(workspace) || 'workspace', path: workspace })));
  } catch (error) {
    return usage(error instanceof StateError ? error.message : describeCause(error));
  }
  // a damaged point is found by every listing of a command: said once
  const warned = new Set<string>();
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => {
      if (warned.has(message)) return;
      warned.add(message);
      io.stderr(`warning: ${escapeForTerminal(message)}\n`);
    },
    error: (message) => io.stderr(`error: ${escapeForTerminal(message)}\n`),
  };
  let exitCode = 0;
  const out: Output = {
    result: (human, data) => io.stdout(`${args.json ? JSON.stringify(data, null, 2) : human}\n`),
    progress: (message) => {
      if (!args.json && io.stderrIsTTY) io.stderr(`${message}…\n`);
    },
    bytes: (data) => io.stdout(data),
    exitWith: (code) => (exitCode = code),
  };
  let opened = false;
  try {
    const roots = rootsFor(workspaces);
    const mcp = args.command === 'mcp';
    const open: OpenStoreOptions = { storeDir, roots, actor: `${mcp ? 'mcp' : 'cli'}:${process.pid}`, logger, captureProcess: mcp || io.resident ? captureProcessBeside() : undefined };
    const refused = await io.stores.use(open, async (store: RecoveryStore) => {
      opened = true;
      // The editor names folders as VS Code does (a .code-workspace may rename them): use the names the newest point gave these paths.
      const listed = await store.recovery.listRecoveryPoints();
      const unknown = removed.find((workspace) => !listed.some((point) => point.roots.some((root) => path.resolve(root.path) === workspace)));
      if (unknown !== undefined) return new InputError(notThere(unknown));
      const named = adoptPointNames(roots, listed[0]?.roots ?? []);
      if (named) store.persistence.configure({ roots: named });
      try {
        await command.run(store, args, out, listed);
      } catch (error) {
        // a mistyped id or path is no failure of the store: the helper keeps it open
        if (error instanceof UsageError || error instanceof InputError) return error;
        throw error;
      }
      return undefined;
    });
    if (refused) throw refused;
    return exitCode;
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    if (error instanceof InputError) return badInput(io, error.message);
    if (error instanceof StoreNotWritableError && readsUnderLock(args)) return fail(io, error.message.replace(WRITABLE_FOR, lockedReadNote(args)));
    return fail(io, error instanceof StateError ? error.message : `Unexpected error: ${describeCause(error)}`);
  } finally {
    if (opened && MAKES_POINTS.has(args.command!)) {
      await startCleanupIfDue(storeDir, workspaces).catch(() => false);
      // agents' hooks a waiter that gave up left waiting get their points
      resumeWaitingHooks(storeDir);
    }
  }
}

/** A command that changes nothing but takes the store's lock, which a store that cannot be written does not give. */
function readsUnderLock(args: ParsedArgs): boolean {
  return args.command === 'diff' || (args.command === 'verify' && !args.repair) || ((args.command === 'restore' || args.command === 'undo') && args.dryRun);
}

/** Why such a command needs a store it can write, and what reads it as it is. */
function lockedReadNote(args: ParsedArgs): string {
  const command = args.dryRun ? `${args.command} --dry-run` : args.command;
  return `"${command}" takes the store's lock${args.command === 'verify' ? '' : ' to compare it with the current files'}, which needs it writable too; list, show, log, cat, search and stats read it as it is.`;
}

/**
 * The script a store's first point is captured in (bundled beside the tool, `dist/captureProcess.js`),
 * for the MCP server and the resident helper: they stay up for an agent's whole session, and would keep
 * the capture's memory (100–200 MB at 50k files) as long; the other commands end right after their
 * point. Without the script (run from source), in this process.
 */
function captureProcessBeside(): CaptureProcessOptions | undefined {
  const script = path.join(__dirname, '..', 'captureProcess.js');
  return fs.existsSync(script) ? { script } : undefined;
}

/** Options every command takes. */
const GLOBAL_OPTIONS = new Set(['--workspace', '--store', '--json', '--help']);

/** Commands that add points (and packs): after them a clean-up starts in the background when one is due. */
const MAKES_POINTS = new Set(['snapshot', 'restore', 'undo', 'import']);

/** Commands that read or change existing points: on a missing store they say so instead of creating one. */
const NEEDS_A_STORE = new Set(['list', 'show', 'diff', 'stats', 'verify', 'restore', 'undo', 'cleanup', 'gc', 'search', 'log', 'cat', 'export']);

/** Why `storeDir` cannot be read as a store, or `undefined`. A folder with neither points nor a state file is not one. */
function storeProblem(storeDir: string): string | undefined {
  try {
    return storeProblemOf(storeDir);
  } catch (error) {
    return `The recovery point store ${storeDir} cannot be looked at (${errorCode(error) === 'EACCES' ? 'permission denied: it belongs to another user, or a folder on its way is closed' : describeCause(error)}).`;
  }
}

function storeProblemOf(storeDir: string): string | undefined {
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

/** Bad usage: the message and where help is, exit 2. */
export function usageError(io: Pick<CommandIo, 'stderr'>, message: string): number {
  io.stderr(`recovery-points: ${escapeForTerminal(message)}\nRun "recovery-points --help" for usage.\n`);
  return 2;
}

/** Input naming nothing the store holds: one line, exit 2. */
export function badInput(io: Pick<CommandIo, 'stderr'>, message: string): number {
  io.stderr(`recovery-points: ${escapeForTerminal(message.replace(/\s*\n\s*/g, ' '))}\n`);
  return 2;
}

export function fail(io: Pick<CommandIo, 'stderr'>, message: string): number {
  io.stderr(`recovery-points: ${escapeForTerminal(message.replace(/\s*\n\s*/g, ' '))}\n`);
  return 1;
}
