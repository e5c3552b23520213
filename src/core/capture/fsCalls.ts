import * as fs from 'node:fs';

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

export type WholeFile =
  | { readonly kind: 'read'; readonly content: Buffer; readonly stat: fs.Stats; readonly readAt: number }
  | { readonly kind: 'not-a-file' }
  | { readonly kind: 'too-large'; readonly size: number };

/**
 * Reads a whole regular file once. The file is opened without following a link and without blocking
 * on a fifo that took its place; `stat` is the open file's, `readAt` the time just before reading.
 * If the file grows while it is read, only the size it had when opened is read. `reserve` is called
 * with that size before the buffer is allocated (to wait for room in a memory budget).
 */
export async function readWholeFile(file: string, maxSize: number, reserve?: (size: number) => Promise<void>): Promise<WholeFile> {
  const fd = await open(file, fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const stats = await fstat(fd);
    if (!stats.isFile()) return { kind: 'not-a-file' };
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
  constructor(enabled = true, private readonly now: () => number = () => performance.now()) {
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

  readdir(dir: string): fs.Dirent[] {
    const start = this.now();
    try {
      return fs.readdirSync(dir, { withFileTypes: true });
    } finally {
      this.took(start);
    }
  }

  /**
   * `readWholeFile` with synchronous calls, for a file of at most `SYNC_READ_BYTES`; `undefined` when
   * it is larger (read it with `readWholeFile`).
   */
  readSmallFile(file: string, maxSize: number): WholeFile | undefined {
    const start = this.now();
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      const stats = fs.fstatSync(fd);
      if (!stats.isFile()) return { kind: 'not-a-file' };
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
