/** Running processes and measuring them: wall time, peak RSS (/usr/bin/time -v), disk usage, load. */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Peak resident set size in bytes, when run under /usr/bin/time -v. */
  readonly maxRssBytes?: number;
}

export const TIME_BIN = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * Writes out every file system's unsynced data (`sync`), untimed, just before a timed sample. Each
 * tool's edits, commits and restores leave data the kernel has not written yet, and an `fsync` on ext4
 * (ordered mode) writes out other files' pending data with its own: without this, whichever tool
 * syncs pays for what the other (or the benchmark's edits of both copies) left, depending on the
 * turn order (BENCHMARKS.md, "What is measured, and how").
 */
export function settleDisk(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

/** Runs a command to completion (synchronously: nothing else of ours runs meanwhile) and times it. */
export function run(cmd: string, args: readonly string[], options: SpawnSyncOptions & { measureRss?: boolean; allowFail?: boolean; input?: string } = {}): RunResult {
  const { measureRss, allowFail, ...spawnOptions } = options;
  let command = cmd;
  let argv = [...args];
  let rssFile: string | undefined;
  if (measureRss && TIME_BIN) {
    rssFile = `${os.tmpdir()}/bench-time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`;
    argv = ['-v', '-o', rssFile, cmd, ...args];
    command = TIME_BIN;
  }
  const started = performance.now();
  const result = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...spawnOptions });
  const ms = performance.now() - started;
  let maxRssBytes: number | undefined;
  if (rssFile) {
    const text = fs.readFileSync(rssFile, 'utf8');
    fs.rmSync(rssFile, { force: true });
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
    if (match) maxRssBytes = Number(match[1]) * 1024;
  }
  const out: RunResult = { code: result.status ?? -1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), ms, maxRssBytes };
  if (result.error) throw result.error;
  if (out.code !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (${out.code}): ${out.stderr.slice(0, 2000)}`);
  return out;
}

/** Same, asynchronously (for a child that takes long: lets the load sampler run). */
export function runAsync(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; measureRss?: boolean } = {}): Promise<RunResult> {
  let command = cmd;
  let argv = [...args];
  let rssFile: string | undefined;
  if (options.measureRss && TIME_BIN) {
    rssFile = `${os.tmpdir()}/bench-time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`;
    argv = ['-v', '-o', rssFile, cmd, ...args];
    command = TIME_BIN;
  }
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, argv, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      let maxRssBytes: number | undefined;
      if (rssFile) {
        try {
          const text = fs.readFileSync(rssFile, 'utf8');
          const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
          if (match) maxRssBytes = Number(match[1]) * 1024;
        } catch {
          // no report
        }
        fs.rmSync(rssFile, { force: true });
      }
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr.slice(0, 4000)}`));
      else resolve({ code: code ?? 0, stdout, stderr, ms, maxRssBytes });
    });
  });
}

/** Disk usage of a folder: allocated (du -sk, what the disk loses) and apparent bytes (du -sb). */
export function diskUsage(dir: string): { allocated: number; apparent: number } {
  if (!fs.existsSync(dir)) return { allocated: 0, apparent: 0 };
  const k = run('du', ['-sk', dir]).stdout.split(/\s+/)[0];
  const b = run('du', ['-sb', dir]).stdout.split(/\s+/)[0];
  return { allocated: Number(k) * 1024, apparent: Number(b) };
}

/** Samples the 1-minute load average every few seconds while the benchmark runs. */
export class LoadSampler {
  private timer: NodeJS.Timeout | undefined;
  readonly samples: Array<{ t: number; load1: number }> = [];

  start(everyMs = 5000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    this.samples.push({ t: Date.now(), load1: os.loadavg()[0]! });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }

  get max(): number {
    return Math.max(...this.samples.map((s) => s.load1));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
