/** System-call counts of the measured window of an strace log (`strace -f -o log`). */
import * as fs from 'node:fs';

export interface SyscallCounts {
  readonly total: number;
  readonly byName: Record<string, number>;
}

export function countSyscalls(logFile: string, startMarker: string, endMarker: string): SyscallCounts {
  const lines = fs.readFileSync(logFile, 'utf8').split('\n');
  let inside = false;
  const byName: Record<string, number> = {};
  let total = 0;
  for (const line of lines) {
    if (line.includes(startMarker)) {
      inside = true;
      continue;
    }
    if (line.includes(endMarker)) break;
    if (!inside) continue;
    const match = /^\d+\s+(?:\d+:\d+:\d+\.\d+\s+)?([a-z_0-9]+)\(/.exec(line);
    if (!match) continue; // "<... resumed>", signals, exits
    // with `strace -y`, file descriptors show what they are: event-loop wake-ups are not file I/O
    const name = /^\d+\s+[a-z_0-9]+\(\d+<(anon_inode|pipe):/.test(line) ? `${match[1]!}:wakeup` : match[1]!;
    byName[name] = (byName[name] ?? 0) + 1;
    total++;
  }
  return { total, byName };
}

/** Groups of calls that matter for a store: durability, metadata, data, directory listing. */
export function syscallGroups(c: SyscallCounts, per: number): Array<{ group: string; calls: number }> {
  const sum = (names: string[]) => names.reduce((s, n) => s + (c.byName[n] ?? 0), 0) / per;
  const groups = [
    { group: 'fsync / fdatasync', calls: sum(['fsync', 'fdatasync', 'sync_file_range']) },
    { group: 'open / openat', calls: sum(['open', 'openat', 'openat2']) },
    { group: 'close', calls: sum(['close']) },
    { group: 'stat / lstat / fstat / statx', calls: sum(['stat', 'lstat', 'fstat', 'newfstatat', 'statx']) },
    { group: 'read / pread / readv', calls: sum(['read', 'pread64', 'readv', 'preadv', 'preadv2']) },
    { group: 'write / pwrite / writev', calls: sum(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2']) },
    { group: 'getdents64 (folder listings)', calls: sum(['getdents64', 'getdents']) },
    { group: 'rename', calls: sum(['rename', 'renameat', 'renameat2']) },
    { group: 'mkdir / rmdir (lock folder, restored folders)', calls: sum(['mkdir', 'mkdirat', 'rmdir']) },
    { group: 'unlink', calls: sum(['unlink', 'unlinkat']) },
    { group: 'utimensat (lock refresh)', calls: sum(['utimensat', 'utimes']) },
    { group: 'chmod / fchmod / fchown', calls: sum(['chmod', 'fchmod', 'fchmodat', 'fchown', 'chown']) },
    { group: 'event-loop wake-ups (eventfd/pipe read, write)', calls: sum(['read:wakeup', 'write:wakeup']) },
    { group: 'futex (thread-pool hand-offs)', calls: sum(['futex']) },
  ];
  const counted = groups.reduce((s, g) => s + g.calls, 0);
  groups.push({ group: 'other (epoll, mmap, madvise, …)', calls: c.total / per - counted });
  groups.push({ group: 'all', calls: c.total / per });
  return groups.map((g) => ({ group: g.group, calls: Math.round(g.calls * 10) / 10 }));
}
