/**
 * Starting and killing the suites' child processes: the library user (`storeUser.ts`, bundled once
 * with esbuild so a start costs no TypeScript loader), the command-line tool (`dist/cli.js`) and the
 * core tests' `storeWorker.ts` (run with tsx). Each child's stdout is split into lines as it arrives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { UserRequest } from './storeUser';

export interface Child {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves on exit with the code (null when killed) and what the child wrote to stderr. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

const running = new Set<ChildProcess>();

/** Kills every child still running (for `after`). */
export function killChildren(): void {
  for (const child of running) child.kill('SIGKILL');
}

export function startChild(command: string, args: readonly string[], onLine?: (line: string) => void, env?: NodeJS.ProcessEnv): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  running.add(child);
  const lines: string[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      onLine?.(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stderr });
    }),
  );
  return { child, lines, exited };
}

/** A line the library user printed: `start` before an operation, `done` after it was acknowledged. */
export interface UserEvent {
  readonly t: number;
  readonly ev: 'ready' | 'start' | 'done';
  readonly op?: string;
  readonly [key: string]: unknown;
}

export function events(lines: readonly string[]): UserEvent[] {
  // the last line may be cut off by the kill: only whole lines were flushed with their newline
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as UserEvent);
}

/** Bundles `storeUser.ts` into a temporary folder; returns the script and a function removing it. */
export async function bundleStoreUser(): Promise<{ script: string; dispose: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rp-user-'));
  const script = path.join(dir, 'storeUser.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({ entryPoints: [path.join(__dirname, 'storeUser.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: script, logLevel: 'warning' });
  return { script, dispose: () => fs.rm(dir, { recursive: true, force: true }) };
}

export function startUser(script: string, request: UserRequest, onLine?: (line: string) => void): Child {
  return startChild(process.execPath, [script, JSON.stringify(request)], onLine);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
