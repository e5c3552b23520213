import * as fs from 'node:fs';
import * as path from 'node:path';
import { startToolDetached } from '../../cli/detachedTool';
import { privateHelperDir } from './helperFile';

const MAX_LOG_BYTES = 1024 * 1024;

/**
 * Starts `recovery-points hook-helper` detached, for the hooks after this one; its messages go to
 * `helper.log` beside its address. Never fails the hook: a helper that cannot start leaves the next
 * hooks to Node, as before.
 */
export function startHookHelper(): boolean {
  let log: number | undefined;
  try {
    const dir = privateHelperDir();
    const logFile = path.join(dir, 'helper.log');
    const size = fs.statSync(logFile, { throwIfNoEntry: false })?.size ?? 0;
    log = fs.openSync(logFile, size > MAX_LOG_BYTES ? 'w' : 'a', 0o600);
    return startToolDetached(['hook-helper'], log);
  } catch {
    return false;
  } finally {
    if (log !== undefined) fs.closeSync(log);
  }
}
