/**
 * Runs the command-line tool in a child process, as an unprivileged user when the tests run as root
 * (root reads every file whatever its permissions, so "permission denied" needs another user): the
 * suites reach the real capture and restore through the real tool. The tool is bundled from its
 * sources once per test process, so each run starts fast.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI_SOURCE = path.resolve(__dirname, '..', '..', '..', 'src', 'cli', 'cli.ts');
/** nobody:nogroup */
const UNPRIVILEGED = 65534;
export const isRoot = process.getuid?.() === 0;

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let bundled: Promise<{ script: string; dir: string }> | undefined;

function bundle(): Promise<{ script: string; dir: string }> {
  bundled ??= (async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rp-cli-as-'));
    const script = path.join(dir, 'cli.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const alias = require('../../../scripts/bundleAliases.cjs') as Record<string, string>;
    await esbuild.build({ entryPoints: [CLI_SOURCE], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: script, logLevel: 'warning', alias });
    await fs.chmod(dir, 0o755);
    return { script, dir };
  })();
  return bundled;
}

/** Removes the bundled tool (call from `after`). */
export async function disposeCli(): Promise<void> {
  if (bundled) await fs.rm((await bundled).dir, { recursive: true, force: true });
  bundled = undefined;
}

/**
 * A tool runner for the files below `sandboxRoot`. As root, the folder is given to the unprivileged
 * user before each run (the test may have written files since) and every run is made as that user;
 * otherwise runs are made as the current user.
 */
export async function cliRunner(sandboxRoot: string): Promise<(args: readonly string[]) => Promise<CliRun>> {
  const { script } = await bundle();
  const home = path.join(sandboxRoot, 'home');
  await fs.mkdir(home, { recursive: true });
  const user = isRoot ? { uid: UNPRIVILEGED, gid: UNPRIVILEGED } : {};
  return (args) =>
    new Promise((resolve) => {
      if (isRoot) execFileSync('chown', ['-R', `${UNPRIVILEGED}:${UNPRIVILEGED}`, sandboxRoot]);
      execFile(process.execPath, [script, ...args], { cwd: home, ...user, env: { PATH: process.env.PATH ?? '', HOME: home, TMPDIR: home }, timeout: 120_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
}
