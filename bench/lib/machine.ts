/** The machine a run happened on, printed at the top of the results. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { run } from './proc';

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly cpuMHz: number;
  readonly platform: string;
  readonly kernel: string;
  readonly node: string;
  readonly git: string;
  readonly totalMemoryMB: number;
  readonly freeMemoryMB: number;
  readonly availableMemoryMB: number;
  readonly disk: string;
  readonly tmpDir: string;
  /** The code measured: commit, and the files of src/core changed since it. */
  readonly revision: string;
  readonly load: { readonly before: number[]; after?: number[]; maxDuringRun?: number };
  readonly startedAt: string;
  /** What this kernel charges for a page's first write: see `pageWriteCost`. */
  readonly pageWrite: PageWriteCost;
}

export interface PageWriteCost {
  /** µs per page written for the first time after the process forked (a copy-on-write fault each). */
  readonly afterForkUs: number;
  /** µs per page of a new allocation written for the first time (a zero-filled page each). */
  readonly freshUs: number;
  /** µs per page written again, no fault: the floor the two above are measured against. */
  readonly warmUs: number;
}

/**
 * A process that starts a child (git, sync: Node's libuv forks on Linux) has every page it writes
 * afterwards copied on its first write; what that fault costs differs between machines by more than
 * tenfold (a virtual machine's kernel pays far more), and a one-file point after a fork writes a
 * hundred-odd pages of the heaps it shares with the rest of the process. Medians of 5 rounds of 2,048 pages.
 */
export function pageWriteCost(): PageWriteCost {
  const PAGE = 4096;
  const PAGES = 2048;
  const rounds = { afterFork: [] as number[], fresh: [] as number[], warm: [] as number[] };
  const writeEach = (buffer: Buffer) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < PAGES; i++) buffer[i * PAGE]++;
    return Number(process.hrtime.bigint() - started) / 1000 / PAGES;
  };
  for (let r = 0; r < 5; r++) {
    // allocUnsafe of 8 MiB: memory the allocator maps afresh, not yet written
    const buffer = Buffer.allocUnsafe(PAGES * PAGE);
    rounds.fresh.push(writeEach(buffer));
    rounds.warm.push(writeEach(buffer));
    spawnSync('true');
    rounds.afterFork.push(writeEach(buffer));
  }
  const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! * 100) / 100;
  return { afterForkUs: median(rounds.afterFork), freshUs: median(rounds.fresh), warmUs: median(rounds.warm) };
}

function memAvailableMB(): number {
  try {
    const match = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    if (match) return Math.round(Number(match[1]) / 1024);
  } catch {
    // not Linux
  }
  return Math.round(os.freemem() / 1024 / 1024);
}

function cpuMHzFromProc(): number {
  try {
    const match = /cpu MHz\s*:\s*([\d.]+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export function describeMachine(tmpDir: string): MachineInfo {
  const cpus = os.cpus();
  let disk = 'unknown';
  try {
    const lines = run('df', ['-hT', tmpDir]).stdout.trim().split('\n');
    const f = lines[lines.length - 1]!.split(/\s+/);
    disk = `${f[0]} (${f[1]}), ${f[2]} total, ${f[4]} free, mounted on ${f[6]}`;
  } catch {
    // df missing
  }
  let git = 'not found';
  try {
    git = run('git', ['--version']).stdout.trim().replace(/^git version /, '');
  } catch {
    // git missing
  }
  let revision = 'unknown';
  try {
    const root = `${__dirname}/../..`;
    const head = run('git', ['-C', root, 'log', '-1', '--format=%h %cI %s']).stdout.trim();
    const dirty = run('git', ['-C', root, 'status', '--porcelain', '--', 'src/core']).stdout.trim().split('\n').filter(Boolean).length;
    revision = `${head}${dirty > 0 ? ` + ${dirty} uncommitted change(s) in src/core` : ''}`;
  } catch {
    // not a git checkout
  }
  return {
    revision,
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuMHz: Math.round(cpus[0]?.speed || cpuMHzFromProc()),
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    git,
    totalMemoryMB: Math.round(os.totalmem() / 1024 / 1024),
    freeMemoryMB: Math.round(os.freemem() / 1024 / 1024),
    availableMemoryMB: memAvailableMB(),
    disk,
    tmpDir,
    load: { before: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    startedAt: new Date().toISOString(),
    pageWrite: pageWriteCost(),
  };
}
