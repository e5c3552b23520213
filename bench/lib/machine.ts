/** The machine a run happened on, printed at the top of the results. */
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
  };
}
