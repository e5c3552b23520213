import { cleanupDue } from '../core/recovery/cleanupDue';

/**
 * After a point the tool or an agent's hook made: when the store is due a clean-up (`cleanupDue`),
 * starts `recovery-points cleanup --if-due` detached, so the command or the agent does not wait for
 * it. The clean-up holds the store's lock only in short slices; a second one started meanwhile finds
 * the first running and ends.
 */
export async function startCleanupIfDue(storeDir: string, workspaces: readonly string[]): Promise<boolean> {
  const cli = process.argv[1];
  if (!cli || !(await cleanupDue(storeDir))) return false;
  try {
    // the loader options the tool runs with (tsx in development), not a debugger's or a profiler's
    const nodeOptions = process.execArgv.filter((option) => !/^--(inspect|debug|cpu-prof|heap-prof|prof)/.test(option));
    // loaded here, not at start: child_process brings net and dgram, a few ms of every command's start (#14);
    // a require, not an import(): the launcher runs the bundle in a vm.Script, which has no module loader
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const child = spawn(process.execPath, [...nodeOptions, cli, 'cleanup', '--if-due', '--store', storeDir, ...workspaces.flatMap((w) => ['--workspace', w])], {
      detached: true,
      stdio: 'ignore',
      windowsHide: true,
    });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false; // the next point asks again
  }
}
