import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { errorCode, ioError, StateError } from './errors';

/**
 * One writer at a time per store, across processes (proper-lockfile: a lock folder whose mtime is
 * refreshed while held; a lock left by a killed process is stale after `staleMs` and taken over)
 * and within a process (a promise queue, so callers in one process wait instead of polling).
 * Re-entrant within one async call chain, so a locked operation may call another.
 */
interface HeldLock {
  readonly key: string;
  active: boolean;
}

/**
 * The store locks the current async call chain holds. One for the whole process: every
 * AsyncLocalStorage instance adds a cost to every later async operation, so none is made per lock.
 * A continuation that outlives its operation sees `active: false`.
 */
const heldLocks = new AsyncLocalStorage<readonly HeldLock[]>();

/**
 * The calls proper-lockfile makes (mkdir, stat, utimes, rmdir of the lock folder), done synchronously:
 * a lock is taken and released around every point, and a thread-pool round trip costs more than the
 * call itself. Callbacks still run asynchronously, as proper-lockfile expects.
 */
const syncLockFs = {
  mkdir: (dir: string, callback: Callback) => settle(() => fs.mkdirSync(dir), callback),
  rmdir: (dir: string, callback: Callback) => settle(() => fs.rmdirSync(dir), callback),
  stat: (file: string, callback: Callback) => settle(() => fs.statSync(file), callback),
  utimes: (file: string, atime: Date, mtime: Date, callback: Callback) => settle(() => fs.utimesSync(file, atime, mtime), callback),
  realpath: (file: string, callback: Callback) => settle(() => fs.realpathSync(file), callback),
  rmdirSync: (dir: string) => fs.rmdirSync(dir),
};

type Callback = (error: Error | null, result?: unknown) => void;

function settle(call: () => unknown, callback: Callback): void {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    queueMicrotask(() => callback(error as Error));
    return;
  }
  queueMicrotask(() => callback(null, result));
}

export class StoreLock {
  private static readonly queues = new Map<string, Promise<unknown>>();
  private readonly lockfilePath: string;
  private readonly key: string;

  constructor(
    private readonly storeRoot: string,
    private readonly options: { staleMs?: number; waitMs?: number; onCompromised?: (error: Error) => void } = {},
  ) {
    this.lockfilePath = path.join(storeRoot, 'store.lock');
    this.key = path.resolve(storeRoot);
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (heldLocks.getStore()?.some((held) => held.key === this.key && held.active)) return operation();
    const key = this.key;
    const previous = StoreLock.queues.get(key) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.runLocked(operation));
    const tail = mine.catch(() => undefined);
    StoreLock.queues.set(key, tail);
    try {
      return await mine;
    } finally {
      if (StoreLock.queues.get(key) === tail) StoreLock.queues.delete(key);
    }
  }

  private async runLocked<T>(operation: () => Promise<T>): Promise<T> {
    const staleMs = this.options.staleMs ?? 10_000;
    const waitMs = this.options.waitMs ?? 60_000;
    const release = await this.acquire(staleMs, waitMs);
    const token: HeldLock = { key: this.key, active: true };
    try {
      return await heldLocks.run([...(heldLocks.getStore() ?? []).filter((held) => held.active), token], operation);
    } finally {
      token.active = false;
      await release().catch(() => undefined);
    }
  }

  /**
   * Takes the lock folder, waiting up to `waitMs` while another process holds it. Only "held by
   * another" is waited for: proper-lockfile's own retries would also retry a store folder that is
   * gone or unwritable, for the whole wait.
   */
  private async acquire(staleMs: number, waitMs: number): Promise<() => Promise<void>> {
    const deadline = Date.now() + waitMs;
    let delay = 5;
    for (;;) {
      try {
        return await lockfile.lock(this.storeRoot, {
          lockfilePath: this.lockfilePath,
          realpath: false,
          stale: staleMs,
          update: Math.max(1000, Math.floor(staleMs / 4)),
          retries: 0,
          fs: syncLockFs,
          onCompromised: (error) => this.options.onCompromised?.(error),
        });
      } catch (error) {
        // Another process taking over a stale lock can remove the lock folder between our mkdir and
        // our stat of it: that is contention, not a broken store, as long as the store is still there.
        const contended = errorCode(error) === 'ELOCKED' || (errorCode(error) === 'ENOENT' && fs.existsSync(this.storeRoot));
        if (!contended) throw ioError(`lock the recovery point store ${this.storeRoot}`, error);
        if (Date.now() >= deadline) {
          throw StateError.io(`The recovery point store ${this.storeRoot} is busy: another window or the command-line tool held its lock for over ${Math.round(waitMs / 1000)} s. Try again.`, error);
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(100, Math.ceil(delay * 1.3));
      }
    }
  }
}

/**
 * Whether another process holds the store's lock right now: its lock folder exists and was refreshed
 * within `staleMs` (a live holder refreshes it every `staleMs / 4`). For refusing to move a store
 * that a live window or command is writing; a lock left by a killed process reads as not held.
 */
export async function isStoreLockHeld(storeRoot: string, staleMs = 10_000): Promise<boolean> {
  try {
    return await lockfile.check(storeRoot, { lockfilePath: path.join(storeRoot, 'store.lock'), realpath: false, stale: staleMs, fs: syncLockFs });
  } catch (error) {
    throw ioError(`check the lock of the recovery point store ${storeRoot}`, error);
  }
}
