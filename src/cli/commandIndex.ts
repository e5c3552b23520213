import type { RecoveryStore } from '../core/recoveryStore';
import type { PointSummary } from '../core/schemas';
import type { ParsedArgs } from './args';
import type { Output } from './commands';

export interface CommandSpec {
  readonly positionals: [number, number];
  /** The options it takes besides --workspace, --store, --json and --help; any other is refused (exit 2). */
  readonly options?: readonly string[];
  /**
   * Runs when a workspace folder itself was removed (its parent is there): the commands that only read
   * the store, and `restore`, which makes the folder again and puts the point's files back in it.
   */
  readonly withoutFolder?: boolean;
  /** `listed`: the store's points as listed when the command started (a listing reads the index and the points folder: once a command). */
  readonly run: (store: RecoveryStore, args: ParsedArgs, out: Output, listed: readonly PointSummary[]) => Promise<void>;
}

export type CommandTable = Record<string, CommandSpec>;

const points = async () => (await import('./commands.js')).COMMANDS;
const transfer = async () => (await import('./transferCommands.js')).TRANSFER_COMMANDS;
const search = async () => (await import('./searchCommand.js')).SEARCH_COMMANDS;
const history = async () => (await import('./historyCommands.js')).HISTORY_COMMANDS;
const mcp = async () => (await import('./mcpCommand.js')).MCP_COMMANDS;

/**
 * Which file holds each command (`hook` and `hooks` are run apart, in cli.ts). A command loads only
 * its own group: a point made by a script or an agent's hook pays for no MCP server, search or
 * bundle code, which the build keeps in chunks of their own.
 */
export const COMMAND_GROUPS: Readonly<Record<string, () => Promise<CommandTable>>> = {
  snapshot: points,
  list: points,
  show: points,
  diff: points,
  restore: points,
  undo: points,
  verify: points,
  cleanup: points,
  gc: points,
  stats: points,
  export: transfer,
  import: transfer,
  adopt: transfer,
  search,
  log: history,
  cat: history,
  mcp,
};

/** The command `name`, loading its group; `undefined` for a name no group has. */
export async function loadCommand(name: string): Promise<CommandSpec | undefined> {
  const group = Object.hasOwn(COMMAND_GROUPS, name) ? COMMAND_GROUPS[name] : undefined;
  return group ? (await group())[name] : undefined;
}
