import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, cliHome, REPO, type Run } from './runCli';

/** The environment variable of the hook's time budget (`src/cli/hookCommands.ts`). */
export const BUDGET_ENV = 'RECOVERY_POINTS_HOOK_BUDGET_MS';

export const FIXTURES = path.join(REPO, 'test', 'cli', 'fixtures', 'hooks');
/** The workspace path the fixtures were written with. */
const FIXTURE_WORKSPACE = '/home/user/project';

/** A fixture payload with its workspace path replaced by `ws`. */
export function fixture(name: string, ws: string): string {
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8').replaceAll(FIXTURE_WORKSPACE, ws);
}

export interface HookRunOptions {
  readonly env?: Record<string, string>;
  /** Node options before the tool (`--import` of a failing file system). */
  readonly nodeArgs?: string[];
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Another build of the tool to run than dist/cli.js. */
  readonly cli?: string;
}

/** Runs `recovery-points ARGS` with `input` on standard input, as an agent runs its hook, with a private HOME. */
export async function runWithInput(args: string[], input: string, options: HookRunOptions = {}): Promise<Run> {
  const home = await cliHome();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    APPDATA: path.join(home, 'AppData'),
    // the hook's 2 s budget is a promise to agents, not to a loaded test machine: tests of the budget set their own
    [BUDGET_ENV]: '60000',
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.cli ?? CLI, ...args], { cwd: options.cwd ?? REPO, env, uid: options.uid, gid: options.gid });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** `recovery-points hook ARGS` given `payload`. */
export function hook(args: string[], payload: string, options: HookRunOptions = {}): Promise<Run> {
  return runWithInput(['hook', ...args], payload, options);
}
