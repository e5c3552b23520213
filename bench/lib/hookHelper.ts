/**
 * The hooks' resident helper for the benchmark (#14 target 2): `recovery-points hook-helper` started
 * (untimed) with an address folder of its own, and a hook run as `hooks install` writes it on Linux
 * (`bash dist/hook-client.sh NODE CLI hook …`), so its whole process is timed as an agent runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface BenchHelper {
  readonly pid: number;
  readonly env: NodeJS.ProcessEnv;
  /** The hook command's program and arguments, before the hook's own options. */
  readonly command: [string, string[]];
  /** `dist/recovery-points`, the tool's launcher on Linux and macOS; `undefined` for a build without it. */
  readonly launcher: string | undefined;
  /** Ends the helper and waits for it. */
  stop(): Promise<void>;
}

/** Starts the helper of the tool `cli` with its address in `dir`; `undefined` when that build has no hook client. */
export async function startBenchHelper(cli: string, dir: string, env: NodeJS.ProcessEnv = process.env): Promise<BenchHelper | undefined> {
  const client = path.join(path.dirname(cli), 'hook-client.sh');
  if (!fs.existsSync(client)) return undefined;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const helperEnv = { ...env, RECOVERY_POINTS_HELPER_DIR: dir, RECOVERY_POINTS_HELPER_IDLE_MS: String(6 * 60 * 60 * 1000) };
  const child: ChildProcess = spawn(process.execPath, [cli, 'hook-helper'], { env: helperEnv, stdio: 'ignore' });
  const address = path.join(dir, 'address');
  const until = Date.now() + 30_000;
  while (!fs.existsSync(address) || Number(fs.readFileSync(address, 'utf8').split(' ')[3]) !== child.pid) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`the hook helper of ${cli} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    env: helperEnv,
    command: ['/bin/bash', [client, process.execPath, cli]],
    launcher: fs.existsSync(path.join(path.dirname(cli), 'recovery-points')) ? path.join(path.dirname(cli), 'recovery-points') : undefined,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
