import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { exists, makeSandbox } from '../../core/helpers/storeFixtures';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');

/** The tool's bundle, which dist/cli.js compiles and runs (scripts/build.mjs writes it before dist/cli.js). */
export const CLI_BUNDLE = path.join(REPO, 'dist', 'cli', 'main.js');

/** The tests run the built tool (`npm run build`); this builds it, as `npm run build` does, if it is missing or older than a source file. */
export async function ensureBuilt(): Promise<void> {
  if ((await exists(CLI)) && (await exists(CLI_BUNDLE)) && (await fs.stat(CLI_BUNDLE)).mtimeMs >= (await newestSource(path.join(REPO, 'src')))) return;
  await promisify(execFile)(process.execPath, [path.join(REPO, 'scripts', 'build.mjs')], { cwd: REPO });
}

/** When a file under `dir` was last changed (ms). */
async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await fs.stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let home: string | undefined;

/** A private HOME for the tool (no VS Code stores of the machine are found), made once per test file. */
export async function cliHome(): Promise<string> {
  home ??= (await makeSandbox('rp-cli-home-')).root;
  return home;
}

export interface CliOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Run as this user and group (the tests run as root, which permissions do not stop). */
  readonly uid?: number;
  readonly gid?: number;
  /** Another build of the tool to run than dist/cli.js. */
  readonly cli?: string;
  /** Run through the launcher, `dist/recovery-points` (bash), instead of Node. */
  readonly launcher?: boolean;
  /** Run in this folder, made and then deleted by the shell that starts the tool (as a checkout deletes the folder a terminal is in). */
  readonly deletedCwd?: string;
}

/** Runs the tool with a private HOME. */
export async function cli(args: string[], options: CliOptions = {}): Promise<Run> {
  const dir = await cliHome();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, '.config'),
    XDG_DATA_HOME: path.join(dir, '.local', 'share'),
    APPDATA: path.join(dir, 'AppData'),
    ...options.env,
  };
  const tool = options.launcher ? [path.join(path.dirname(options.cli ?? CLI), 'recovery-points'), ...args] : [process.execPath, options.cli ?? CLI, ...args];
  const [file, argv] = options.deletedCwd ? ['bash', ['-c', 'mkdir -p -- "$1" && cd -- "$1" && rmdir -- "$1" && shift && exec "$@"', 'bash', options.deletedCwd, ...tool]] : [tool[0]!, tool.slice(1)];
  return new Promise((resolve) => {
    execFile(file, argv, { cwd: options.cwd ?? REPO, env, timeout: 60_000, uid: options.uid, gid: options.gid }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function ok(run: Run): Run {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run;
}

export function json<T = unknown>(run: Run): T {
  return JSON.parse(ok(run).stdout) as T;
}
