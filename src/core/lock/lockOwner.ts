import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * Who holds a store lock: the machine (host name and, on Linux, its boot id), the process id and the
 * process's start time (Linux: `/proc/<pid>/stat` field 22, clock ticks since boot), so a process id
 * reused by another process after a crash is not mistaken for the holder. The owner is written into
 * the lock folder as the *name* of one empty file, so it is complete the moment it appears and a
 * takeover can hand the lock over with a single rename.
 */
export interface LockOwner {
  readonly host: string;
  /** The boot id, or '' where the system does not say. */
  readonly boot: string;
  readonly pid: number;
  /** The process's start time, or '' where the system does not say. */
  readonly start: string;
  /** Random: names this holding of the lock, so a takeover renames exactly the file it judged. */
  readonly token: string;
}

const PREFIX = 'owner.';

export function ownerFileName(owner: LockOwner): string {
  return `${PREFIX}${Buffer.from(owner.host, 'utf8').toString('base64url')}.${owner.boot || '-'}.${owner.pid}.${owner.start || '-'}.${owner.token}`;
}

/** The owner a lock folder's entry names; `undefined` for any other name. */
export function parseOwnerFileName(name: string): LockOwner | undefined {
  if (!name.startsWith(PREFIX)) return undefined;
  const parts = name.slice(PREFIX.length).split('.');
  if (parts.length !== 5) return undefined;
  const [host, boot, pid, start, token] = parts as [string, string, string, string, string];
  if (!/^\d+$/.test(pid) || !/^[0-9a-f]+$/.test(token)) return undefined;
  return { host: Buffer.from(host, 'base64url').toString('utf8'), boot: boot === '-' ? '' : boot, pid: Number(pid), start: start === '-' ? '' : start, token };
}

let machine: { host: string; boot: string } | undefined;

function thisMachine(): { host: string; boot: string } {
  machine ??= { host: os.hostname(), boot: readOr('/proc/sys/kernel/random/boot_id').replace(/[^0-9a-f]/g, '') };
  return machine;
}

let selfStart: string | undefined;

/** This process as a lock owner, with a fresh token. */
export function currentOwner(token: string): LockOwner {
  selfStart ??= processStartTime(process.pid);
  return { ...thisMachine(), pid: process.pid, start: selfStart, token };
}

/** A process's start time (Linux), or '' where it cannot be read. */
export function processStartTime(pid: number): string {
  const stat = readOr(`/proc/${pid}/stat`);
  // `pid (comm) state …`: comm may hold spaces and parentheses, so count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : '';
}

/** True when the owner ran on this machine (same host and boot) and its process is gone, or its id now names a process started at another time. */
export function ownerIsProvablyDead(owner: LockOwner): boolean {
  const here = thisMachine();
  if (owner.host !== here.host || owner.boot !== here.boot) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: a live process of another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  if (owner.start === '') return false;
  const start = processStartTime(owner.pid);
  return start !== '' && start !== owner.start;
}

/** Whether process `pid` of this machine runs (a live process of another user counts: EPERM). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the owner ran on this machine, where its liveness can be checked. */
export function ownerIsLocal(owner: LockOwner): boolean {
  const here = thisMachine();
  return owner.host === here.host && owner.boot === here.boot;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}
