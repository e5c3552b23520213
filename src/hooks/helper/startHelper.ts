import * as fs from 'node:fs';
import * as path from 'node:path';
import { privateHelperDir } from './helperFile';

const MAX_LOG_BYTES = 1024 * 1024;

/**
 * Starts `recovery-points hook-helper` detached, for the hooks after this one; its messages go to
 * `helper.log` beside its address. Never fails the hook: a helper that cannot start leaves the next
 * hooks to Node, as before.
 */
export function startHookHelper(): boolean {
  const cli = process.argv[1];
  if (!cli) return false;
  let log: number | undefined;
  try {
    const dir = privateHelperDir();
    const logFile = path.join(dir, 'helper.log');
    const size = fs.statSync(logFile, { throwIfNoEntry: false })?.size ?? 0;
    log = fs.openSync(logFile, size > MAX_LOG_BYTES ? 'w' : 'a', 0o600);
    // the loader options the tool runs with (tsx in development), not a debugger's or a profiler's
    const nodeOptions = process.execArgv.filter((option) => !/^--(inspect|debug|cpu-prof|heap-prof|prof)/.test(option));
    // loaded here, not at start (see backgroundCleanup.ts)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const child = spawn(process.execPath, [...nodeOptions, cli, 'hook-helper'], { detached: true, stdio: ['ignore', log, log], windowsHide: true });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  } finally {
    if (log !== undefined) fs.closeSync(log);
  }
}
