import { describeCause, StateError } from '../core/errors';
import { commandUsage, InputError, parseArgs, UsageError, USAGE, type ParsedArgs } from './args';
import { badInput, fail, runCommand, usageError, type CommandIo } from './runCommand';
import { STORE_PER_RUN } from './storeUse';
import { escapeForTerminal } from './terminalText';

/**
 * A reader that went away (`restore --dry-run | head -2`) is no error of the command's, which finishes
 * what it was doing (a restore is never cut short by it) and prints nothing more, as git does.
 */
function quietWhenReaderGoes(): void {
  // stderr too: a warning written to a reader gone (`2>&1 | head -1`) must not end a restore part way
  for (const stream of [process.stdout, process.stderr]) {
    let gone = false;
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || gone) {
        gone = true;
        return;
      }
      throw error;
    });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  quietWhenReaderGoes();
  if (argv[0] === 'help') return help(argv[1]);
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // exit 2 would block the agent's action (Claude Code, VS Code): a hook with bad options says so and lets it go on
    if (argv[0] === 'hook') return hookUsage(message);
    return usageError(PROCESS_IO, message);
  }
  if (args.help && args.command) return help(args.command);
  if (args.help || !args.command) {
    process.stdout.write(`${USAGE}\n`);
    return args.command || args.help ? 0 : 2;
  }
  if (args.command === 'hook' || args.command === 'hooks' || args.command === 'hook-helper') return agentHooks(args);
  const code = await runCommand(args, PROCESS_IO);
  // run by hook-client.sh, which found no helper: start one for the commands after this
  if (process.env.RECOVERY_POINTS_HELPER === 'start') (await import('../hooks/helper/startHelper.js')).startHookHelper();
  return code;
}

/** `help [COMMAND]`: one command's help, or all of it. */
function help(command: string | undefined): number {
  if (command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const usage = commandUsage(command);
  if (!usage) return usageError(PROCESS_IO, `unknown command "${command}"`);
  process.stdout.write(`${usage}\n`);
  return 0;
}

const PROCESS_IO: CommandIo = {
  stdout: (data) => process.stdout.write(data),
  stderr: (text) => process.stderr.write(text),
  get stderrIsTTY() {
    return process.stderr.isTTY === true;
  },
  stores: STORE_PER_RUN,
};

/** `hook` (run by an agent), `hooks` (its settings) and `hook-helper` (its resident helper) find their store and folders themselves. */
async function agentHooks(args: ParsedArgs): Promise<number> {
  try {
    const { hookHelperMain, hookMain, hooksMain } = await import('./hookCommands.js');
    if (args.command === 'hook') return await hookMain(args).catch((error: unknown) => hookUsage(error instanceof Error ? error.message : String(error)));
    const write = (human: string, data: unknown) => process.stdout.write(`${args.json ? JSON.stringify(data, null, 2) : human}\n`);
    if (args.command === 'hook-helper') return await hookHelperMain(args, write);
    return await hooksMain(args, write);
  } catch (error) {
    if (error instanceof UsageError) return usageError(PROCESS_IO, error.message);
    if (error instanceof InputError) return badInput(PROCESS_IO, error.message);
    return fail(PROCESS_IO, error instanceof StateError ? error.message : `Unexpected error: ${describeCause(error)}`);
  }
}

function hookUsage(message: string): number {
  process.stderr.write(`recovery-points hook: ${escapeForTerminal(message.replace(/\.$/, ''))}; no point was made, the agent goes on.\n`);
  return 0;
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
