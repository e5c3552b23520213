import * as path from 'node:path';

/** Command-line arguments: a command, its positionals, and options (`--paths` and `--changed` take every value up to the next option). */
export interface ParsedArgs {
  readonly command: string | undefined;
  readonly positionals: string[];
  readonly workspaces: string[];
  readonly store: string | undefined;
  readonly json: boolean;
  readonly help: boolean;
  readonly label: string | undefined;
  readonly changed: string[] | undefined;
  readonly paths: string[] | undefined;
  readonly dryRun: boolean;
  readonly repair: boolean;
  readonly ifDue: boolean;
  readonly out: string | undefined;
  readonly points: string[] | undefined;
  readonly since: string | undefined;
  readonly from: string | undefined;
  readonly regex: boolean;
  readonly caseSensitive: boolean;
  readonly patch: boolean;
  readonly binary: boolean;
  readonly agent: string | undefined;
  readonly budget: string | undefined;
  /** `hook --continue EVENT`: the hook's own, to finish a point in the background (`src/hooks/continuedHook.ts`). */
  readonly continueEvent: string | undefined;
  /** `hook --waiting`: the store's waiter, making the points of hooks that gave up waiting for it (`src/hooks/waitingHooks.ts`). */
  readonly waiting: boolean;
  readonly user: boolean;
  readonly project: boolean;
  /** The folder relative paths are read against: the process's, or the one the helper's client ran in. */
  readonly cwd: string;
  /** Every option given (`-h` as `--help`), to refuse one its command does not take. */
  readonly given: ReadonlySet<string>;
}

export class UsageError extends Error {}

/** Input that names nothing the store holds (an unknown path or point): one line, exit 2. */
export class InputError extends Error {}

const VALUE_OPTIONS = new Set(['--workspace', '--store', '--label', '--out', '--since', '--from', '--agent', '--budget', '--continue']);
const LIST_OPTIONS = new Set(['--changed', '--paths', '--points']);
const FLAGS = new Set(['--json', '--help', '-h', '--dry-run', '--repair', '--if-due', '--regex', '--case-sensitive', '--patch', '--binary', '--user', '--project', '--waiting']);

/**
 * The process's folder. One deleted under the shell that started the tool (a checkout that removed
 * it) has no `process.cwd()`; the shell's `$PWD` still names it, so a command can say it is gone.
 */
export function currentFolder(): string {
  try {
    return process.cwd();
  } catch {
    const named = process.env.PWD;
    return named && path.isAbsolute(named) ? named : path.parse(process.execPath).root;
  }
}

export function parseArgs(argv: readonly string[], cwd = currentFolder()): ParsedArgs {
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    let token = argv[i]!;
    // the end of the options: what follows is positional, even when it starts with "-" (a label "-x")
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let inline: string | undefined;
    if (token.startsWith('--') && token.includes('=')) {
      inline = token.slice(token.indexOf('=') + 1);
      token = token.slice(0, token.indexOf('='));
    }
    if (FLAGS.has(token) || VALUE_OPTIONS.has(token) || LIST_OPTIONS.has(token)) given.add(token === '-h' ? '--help' : token);
    if (FLAGS.has(token)) {
      if (inline !== undefined) throw new UsageError(`${token} takes no value`);
      flags.add(token);
    } else if (VALUE_OPTIONS.has(token)) {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${token} needs a value`);
      // an unset variable in a script: "" would mean the current folder (or every point, every path)
      if (value === '' && token !== '--label') throw new UsageError(`${token} was given an empty value`);
      values.set(token, [...(values.get(token) ?? []), value]);
    } else if (LIST_OPTIONS.has(token)) {
      const list = values.get(token) ?? [];
      if (inline !== undefined) list.push(inline);
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) list.push(argv[++i]!);
      // `--paths -- --odd-name`: what follows "--" is the list's, as a shell user writes it for a name that starts with dashes
      if (argv[i + 1] === '--') {
        list.push(...argv.slice(i + 2));
        i = argv.length;
      }
      if (list.length === 0) throw new UsageError(`${token} needs at least one path`);
      if (list.includes('')) throw new UsageError(`${token} was given an empty ${token === '--points' ? 'point' : 'path'}: an empty one would mean all of them`);
      values.set(token, list);
    } else if (token.startsWith('-') && token !== '-') {
      throw new UsageError(`unknown option ${token}`);
    } else {
      positionals.push(token);
    }
  }
  const single = (name: string) => {
    const list = values.get(name);
    if (list && list.length > 1) throw new UsageError(`${name} may be given once`);
    return list?.[0];
  };
  return {
    command: positionals.shift(),
    positionals,
    workspaces: values.get('--workspace') ?? [],
    store: single('--store'),
    json: flags.has('--json'),
    help: flags.has('--help') || flags.has('-h'),
    label: single('--label'),
    changed: values.get('--changed'),
    paths: values.get('--paths'),
    dryRun: flags.has('--dry-run'),
    repair: flags.has('--repair'),
    ifDue: flags.has('--if-due'),
    out: single('--out'),
    points: values.get('--points'),
    since: single('--since'),
    from: single('--from'),
    regex: flags.has('--regex'),
    caseSensitive: flags.has('--case-sensitive'),
    patch: flags.has('--patch'),
    binary: flags.has('--binary'),
    agent: single('--agent'),
    budget: single('--budget'),
    continueEvent: single('--continue'),
    waiting: flags.has('--waiting'),
    user: flags.has('--user'),
    project: flags.has('--project'),
    cwd,
    given,
  };
}

export const USAGE = `Usage: recovery-points <command> [options]

Commands:
  snapshot [--label TEXT] [--changed PATH…]   create a recovery point (--changed: only these paths changed)
  list                                         list recovery points, newest first
  show ID [--patch [--binary]]                 show a point and the files it changed (--patch: its change as a unified diff)
  diff ID [ID2]                                files that differ between a point and ID2 (default: the current files)
    [--patch [--binary]]                       as a unified diff that git apply takes (--binary: with binary files' bytes)
  restore ID [--paths PATH…] [--dry-run]       restore a point, or some of its files (a safety point is made first)
  undo [--dry-run]                             undo the last restore (--dry-run: what it would put back)
  verify [--repair]                            check every stored object and point (--repair: move broken ones aside)
  cleanup [--if-due]                           remove points the retention limits let go and merge packs
                                               (--if-due: only when the store needs it; started by itself after tool/hook points)
  gc                                           remove stored content no point needs
  stats                                        store size, objects, points, deduplication
  export --out FILE [--points ID…|--since TIME]  write points and their files to one bundle file
  import FILE                                  merge a bundle's points into the store (checked first)
  adopt [--from STORE]                         continue the history of this folder before it was moved
  search PATTERN [--regex] [--case-sensitive] [--paths GLOB…]
                                               search every version of every file in the store (--json: one object a line)
  log PATH                                     a file's distinct versions, newest first (renames followed)
  cat ID PATH                                  a point's version of a file, byte for byte, to standard output
  mcp                                          serve the store to AI agents over the Model Context Protocol (stdio)
  hook [--agent A] [--budget MS]               make the point an agent's hook asks for (payload on stdin; always exits 0)
  hook-helper [status|stop]                    run the resident helper (hooks and dist/recovery-points start it), or show or end it
  hooks install|uninstall|status [--agent A] [--user|--project]
                                               add/remove/show the hook in an agent's settings (A: claude, copilot, cline)

Options:
  --workspace DIR   workspace folder (default: the current folder; repeat for a multi-root workspace)
  --store DIR       store folder (default: the store VS Code keeps for that workspace)
  --json            machine-readable output
  -h, --help        this help (help COMMAND, or COMMAND --help: that command's)

ID may be any unique prefix of a point id or of its last part (after the "-"), or "latest".
Paths are printed relative to the workspace folder (with several folders: with the folder's name in front).
Exit codes: 0 success, 1 failure, 2 bad usage or input naming nothing usable (an unknown point, path or folder).`;

/**
 * The help of one command (`help restore`, `restore --help`): its lines of `USAGE`, then the options
 * every command takes and the notes; `undefined` for a name that is no command.
 */
export function commandUsage(name: string): string | undefined {
  const [head, rest] = USAGE.split('\nCommands:\n');
  const [commands, options] = rest!.split('\n\nOptions:\n');
  const lines = commands!.split('\n');
  const at = lines.findIndex((line) => line.trimStart().split(/[\s|]/)[0] === name);
  if (at < 0) return undefined;
  let end = at + 1;
  while (end < lines.length && /^ {4,}/.test(lines[end]!)) end++;
  return `${head!.trimEnd().replace('<command>', name)}\n\n${lines.slice(at, end).join('\n')}\n\nOptions:\n${options}`;
}

