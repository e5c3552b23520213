import * as fs from 'node:fs';
import { nowMs } from '../clock';

/**
 * The few file-system calls a capture makes, on Node's callback API: for tens of thousands of small
 * calls it costs about half of `fs/promises` (no FileHandle objects, fewer promises per call).
 */

export function lstat(file: string): Promise<fs.Stats> {
  return new Promise((resolve, reject) => fs.lstat(file, (error, stats) => (error ? reject(error) : resolve(stats))));
}

export function stat(file: string): Promise<fs.Stats> {
  return new Promise((resolve, reject) => fs.stat(file, (error, stats) => (error ? reject(error) : resolve(stats))));
}

export function readdir(dir: string): Promise<fs.Dirent[]> {
  return new Promise((resolve, reject) => fs.readdir(dir, { withFileTypes: true }, (error, entries) => (error ? reject(error) : resolve(entries))));
}

/** A folder's entries with their names as the bytes the file system holds (for names that are not valid UTF-8). */
export function readdirBytes(dir: string): Promise<fs.Dirent<Buffer>[]> {
  return new Promise((resolve, reject) => fs.readdir(dir, { withFileTypes: true, encoding: 'buffer' }, (error, entries) => (error ? reject(error) : resolve(entries))));
}

/** A link's target as the bytes the file system holds (a target need not be valid UTF-8). */
export function readlink(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => fs.readlink(file, { encoding: 'buffer' }, (error, target) => (error ? reject(error) : resolve(target))));
}

function open(file: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
}

function fstat(fd: number): Promise<fs.Stats> {
  return new Promise((resolve, reject) => fs.fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats))));
}

function read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))));
}

function close(fd: number): Promise<void> {
  return new Promise((resolve) => fs.close(fd, () => resolve()));
}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;
const O_DIRECTORY = fs.constants.O_DIRECTORY ?? 0;

/**
 * Whether an open file's real path can be read back (`/proc/self/fd/N`, Linux): a file or folder is
 * then checked to be the one at the path the capture expects, not one reached through a folder that
 * was swapped for a link after it was looked at.
 */
export const CAN_CHECK_OPENED = process.platform === 'linux' && fs.existsSync('/proc/self/fd');

function openedAt(fd: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** True when `real` is given, can be checked, and the open file is somewhere else. */
function movedFrom(fd: number, real: string | undefined): boolean {
  return real !== undefined && CAN_CHECK_OPENED && openedAt(fd) !== real;
}

export type WholeFile =
  | { readonly kind: 'read'; readonly content: Buffer; readonly stat: fs.Stats; readonly readAt: number }
  | { readonly kind: 'not-a-file' }
  | { readonly kind: 'too-large'; readonly size: number }
  /** The file opened is not at the expected real path: a folder on the way was swapped for a link. */
  | { readonly kind: 'moved' };

export type FolderListing =
  | { readonly kind: 'listed'; readonly stat: fs.Stats; readonly entries: fs.Dirent[] }
  | { readonly kind: 'not-a-folder' }
  /** The folder opened is not at the expected real path, or changed while it was listed. */
  | { readonly kind: 'moved' };

/**
 * Lists a folder as it really is: opened without following a link (`follow`: the workspace folder
 * itself, which may be one), checked to be the folder at `real` (links resolved), and listed through
 * the open folder, so a folder swapped for a link meanwhile is never listed in its place. Where open
 * folders cannot be checked: lstat, list, and lstat again (the same folder, or `moved`).
 */
export async function listFolder(dir: string, real: string | undefined, follow: boolean): Promise<FolderListing> {
  if (!CAN_CHECK_OPENED || real === undefined) {
    const before = await (follow ? stat(dir) : lstat(dir));
    if (!before.isDirectory()) return { kind: 'not-a-folder' };
    const entries = await readdir(dir);
    const after = await (follow ? stat(dir) : lstat(dir));
    return after.dev === before.dev && after.ino === before.ino ? { kind: 'listed', stat: before, entries } : { kind: 'moved' };
  }
  let fd: number;
  try {
    fd = await open(dir, fs.constants.O_RDONLY | O_DIRECTORY | (follow ? 0 : O_NOFOLLOW));
  } catch (error) {
    if (errorCode(error) === 'ENOTDIR' || errorCode(error) === 'ELOOP') return { kind: 'not-a-folder' };
    throw error;
  }
  try {
    const stats = await fstat(fd);
    if (movedFrom(fd, real)) return { kind: 'moved' };
    return { kind: 'listed', stat: stats, entries: await readdir(`/proc/self/fd/${fd}`) };
  } finally {
    await close(fd);
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/**
 * Reads a whole regular file once. The file is opened without following a link and without blocking
 * on a fifo that took its place; `stat` is the open file's, `readAt` the time just before reading.
 * If the file grows while it is read, only the size it had when opened is read. `reserve` is called
 * with that size before the buffer is allocated (to wait for room in a memory budget). With `real`
 * (the file's path with links resolved), a file opened elsewhere (a folder on the way was swapped for
 * a link) is `moved`, not read.
 */
export async function readWholeFile(file: string, maxSize: number, reserve?: (size: number) => Promise<void>, real?: string): Promise<WholeFile> {
  const fd = await open(file, fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const stats = await fstat(fd);
    if (!stats.isFile()) return { kind: 'not-a-file' };
    if (movedFrom(fd, real)) return { kind: 'moved' };
    if (stats.size > maxSize) return { kind: 'too-large', size: stats.size };
    await reserve?.(stats.size);
    const readAt = Date.now();
    const buffer = Buffer.allocUnsafe(stats.size);
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = await read(fd, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { kind: 'read', content: filled === buffer.length ? buffer : buffer.subarray(0, filled), stat: stats, readAt };
  } finally {
    await close(fd);
  }
}

/** Files up to this size are read with synchronous calls (when those are on); larger ones through the thread pool. */
export const SYNC_READ_BYTES = 256 * 1024;

/**
 * `readWholeFile` with synchronous calls, for a file of at most `SYNC_READ_BYTES`; `undefined` when
 * it is larger (read it with `readWholeFile`).
 */
export function readSmallFileSync(file: string, maxSize: number, real?: string): WholeFile | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) return { kind: 'not-a-file' };
    if (movedFrom(fd, real)) return { kind: 'moved' };
    if (stats.size > maxSize) return { kind: 'too-large', size: stats.size };
    if (stats.size > SYNC_READ_BYTES) return undefined;
    const readAt = Date.now();
    const buffer = Buffer.allocUnsafe(stats.size);
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = fs.readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { kind: 'read', content: filled === buffer.length ? buffer : buffer.subarray(0, filled), stat: stats, readAt };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
/** Main-thread time a capture spends at most before it lets the event loop run (between two folders or files). */
const SLICE_MS = 8;
/** A synchronous call slower than this is slow; a slice of mostly slow calls means a slow file system (network, cold disk). */
const SLOW_CALL_MS = 2;
/** Fewest calls in a slice to judge the file system by (a single slow call may be the thread being descheduled). */
const CALLS_TO_JUDGE = 4;
/** One call this slow turns synchronous calls off at once. */
const STALLED_CALL_MS = 500;

/**
 * The small metadata calls of a capture (lstat, stat, readdir, readlink) made synchronously on the
 * main thread: on a local file system an `lstat` takes a few microseconds, while a round trip through
 * the thread pool costs ten times that in callbacks, promises and thread hand-offs. The calls run in
 * slices of at most `SLICE_MS`: the caller asks `due` after each one and awaits `pause()` when the
 * slice is used up, so an editor sharing the thread stays responsive. When most calls of a slice
 * are slow, or one call stalls (a network or cold file system), `enabled` turns false and the caller
 * uses the thread pool for the rest of the capture. A busy machine alone does not: the thread being
 * descheduled makes one call of a slice slow, not most of them.
 */
export class SyncFs {
  private sliceStart: number;
  private sliceCalls = 0;
  private sliceSlowCalls = 0;
  private slow: boolean;

  /** `enabled: false` makes every call go through the thread pool; `now` is the clock (ms), for tests. */
  constructor(enabled = true, private readonly now: () => number = nowMs) {
    this.slow = !enabled;
    this.sliceStart = now();
  }

  /** Whether synchronous calls are still used. */
  get enabled(): boolean {
    return !this.slow;
  }

  /** Whether the current slice is used up (then await `pause()` before more work). */
  get due(): boolean {
    return this.now() - this.sliceStart >= SLICE_MS;
  }

  /** Lets the event loop run, then starts a new slice. */
  async pause(): Promise<void> {
    if (this.sliceCalls >= CALLS_TO_JUDGE && this.sliceSlowCalls * 2 > this.sliceCalls) this.slow = true;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = this.now();
    this.sliceCalls = 0;
    this.sliceSlowCalls = 0;
  }

  lstat(file: string): fs.Stats {
    const start = this.now();
    try {
      return fs.lstatSync(file);
    } finally {
      this.took(start);
    }
  }

  stat(file: string): fs.Stats {
    const start = this.now();
    try {
      return fs.statSync(file);
    } finally {
      this.took(start);
    }
  }

  /**
   * `readWholeFile` with synchronous calls, for a file of at most `SYNC_READ_BYTES`; `undefined` when
   * it is larger (read it with `readWholeFile`).
   */
  readSmallFile(file: string, maxSize: number, real?: string): WholeFile | undefined {
    const start = this.now();
    try {
      return readSmallFileSync(file, maxSize, real);
    } finally {
      this.took(start);
    }
  }

  /** `listFolder` with synchronous calls. */
  listFolder(dir: string, real: string | undefined, follow: boolean): FolderListing {
    const start = this.now();
    try {
      if (!CAN_CHECK_OPENED || real === undefined) {
        const before = follow ? fs.statSync(dir) : fs.lstatSync(dir);
        if (!before.isDirectory()) return { kind: 'not-a-folder' };
        const entries = fs.readdirSync(dir, { withFileTypes: true });
        const after = follow ? fs.statSync(dir) : fs.lstatSync(dir);
        return after.dev === before.dev && after.ino === before.ino ? { kind: 'listed', stat: before, entries } : { kind: 'moved' };
      }
      let fd: number;
      try {
        fd = fs.openSync(dir, fs.constants.O_RDONLY | O_DIRECTORY | (follow ? 0 : O_NOFOLLOW));
      } catch (error) {
        if (errorCode(error) === 'ENOTDIR' || errorCode(error) === 'ELOOP') return { kind: 'not-a-folder' };
        throw error;
      }
      try {
        const stats = fs.fstatSync(fd);
        if (movedFrom(fd, real)) return { kind: 'moved' };
        return { kind: 'listed', stat: stats, entries: fs.readdirSync(`/proc/self/fd/${fd}`, { withFileTypes: true }) };
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      this.took(start);
    }
  }

  readdirBytes(dir: string): fs.Dirent<Buffer>[] {
    const start = this.now();
    try {
      return fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } finally {
      this.took(start);
    }
  }

  readlink(file: string): Buffer {
    const start = this.now();
    try {
      return fs.readlinkSync(file, { encoding: 'buffer' });
    } finally {
      this.took(start);
    }
  }

  private took(start: number): void {
    const ms = this.now() - start;
    this.sliceCalls++;
    if (ms > SLOW_CALL_MS) this.sliceSlowCalls++;
    if (ms > STALLED_CALL_MS) this.slow = true;
  }
}
