import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentId } from './hookEvent';

/** How the hook is started: this machine's Node and the tool's `cli.js`, both absolute, so it works from any folder and any shell. */
export interface HookLauncher {
  readonly node: string;
  readonly cli: string;
  /** Set when `node` is an Electron binary (VS Code's own) that must be told to behave as Node. */
  readonly electronAsNode?: boolean;
  /** Linux and macOS: bash and `hook-client.sh`, which go through the resident helper (hook-helper) when one runs. */
  readonly client?: HookClient;
}

export interface HookClient {
  readonly bash: string;
  readonly script: string;
}

/**
 * The command an agent's settings run: `'/bin/bash' '/…/dist/hook-client.sh' '/usr/bin/node'
 * '/…/dist/cli.js' hook --agent claude` where there is a client, else `'/usr/bin/node' '/…/dist/cli.js'
 * hook --agent claude`.
 */
export function hookCommand(launcher: HookLauncher, agent: AgentId, platform = process.platform): string {
  const quote = platform === 'win32' ? (s: string) => `"${s.replace(/"/g, '""')}"` : (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const prefix = launcher.electronAsNode ? (platform === 'win32' ? 'set ELECTRON_RUN_AS_NODE=1&& ' : 'ELECTRON_RUN_AS_NODE=1 ') : '';
  const client = launcher.client && platform !== 'win32' ? `${quote(launcher.client.bash)} ${quote(launcher.client.script)} ` : '';
  return `${prefix}${client}${quote(launcher.node)} ${quote(launcher.cli)} hook --agent ${agent}`;
}

const BASH = ['/bin/bash', '/usr/bin/bash', '/usr/local/bin/bash', '/opt/homebrew/bin/bash'];

/** bash and the `hook-client.sh` beside `cli` (the build puts it there), when both are; never on Windows. */
export function findHookClient(cli: string, platform = process.platform): HookClient | undefined {
  if (platform === 'win32') return undefined;
  const script = path.join(path.dirname(cli), 'hook-client.sh');
  const bash = BASH.find((candidate) => isExecutable(candidate));
  return bash && fs.statSync(script, { throwIfNoEntry: false })?.isFile() ? { bash, script } : undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether a settings entry's command is one `hooks install` wrote (whatever Node or checkout it names). */
export function isOurHookCommand(command: unknown): boolean {
  return typeof command === 'string' && /(?:recovery-points|cli\.js)["']?\s+hook\s+--agent\s+(?:claude|copilot|cline)\b/.test(command);
}

/** The absolute paths a hook command names before `hook` (bash, the client, Node, the tool), as `hookCommand` quotes them. */
export function commandPaths(command: string): string[] {
  const paths: string[] = [];
  for (const m of command.matchAll(/'((?:[^']|'\\'')*)'|"((?:[^"]|"")*)"|(\S+)/g)) {
    const word = m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2] !== undefined ? m[2].replace(/""/g, '"') : m[3]!;
    if (word === 'hook') break;
    if (path.isAbsolute(word)) paths.push(word);
  }
  return paths;
}

/** Of the paths a hook command names, those no longer there (the extension's folder after an update, a removed checkout). */
export function missingPaths(command: string): string[] {
  return commandPaths(command).filter((p) => !fs.existsSync(p));
}

/**
 * A Node to run the tool with: `execPath` when it is Node, else `node` from PATH, else `execPath`
 * itself as Node (VS Code's Electron with ELECTRON_RUN_AS_NODE).
 */
export function findNode(execPath: string, envPath = process.env.PATH ?? ''): { node: string; electronAsNode: boolean } {
  if (/^node(\.exe)?$/i.test(path.basename(execPath))) return { node: execPath, electronAsNode: false };
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    for (const name of process.platform === 'win32' ? ['node.exe'] : ['node']) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return { node: fs.realpathSync(candidate), electronAsNode: false };
      } catch {
        // not here
      }
    }
  }
  return { node: execPath, electronAsNode: true };
}
