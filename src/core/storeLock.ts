import { AsyncLocalStorage } from 'node:async_hooks';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { errorCode, ioError, StateError } from './errors';

/**
 * One writer at a time per store, across processes (proper-lockfile: a lock folder whose mtime is
 * refreshed while held; a lock left by a killed process is stale after `staleMs` and taken over)
 * and within a process (a promise queue, so callers in one process wait instead of polling).
 * Re-entrant within one async call chain, so a locked operation may call another.
 */
export class StoreLock {
  private static readonly queues = new Map<string, Promise<unknown>>();
  /** Set while an operation of this call chain holds the lock; continuations that outlive the operation see `active: false`. */
  private readonly held = new AsyncLocalStorage<{ active: boolean }>();
  private readonly lockfilePath: string;

  constructor(
    private readonly storeRoot: string,
    private readonly options: { staleMs?: number; waitMs?: number; onCompromised?: (error: Error) => void } = {},
  ) {
    this.lockfilePath = path.join(storeRoot, 'store.lock');
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.held.getStore()?.active) return operation();
    const key = path.resolve(this.storeRoot);
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
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.storeRoot, {
        lockfilePath: this.lockfilePath,
        realpath: false,
        stale: staleMs,
        update: Math.max(1000, Math.floor(staleMs / 4)),
        retries: { retries: Math.ceil(waitMs / 100), factor: 1.3, minTimeout: 5, maxTimeout: 100 },
        onCompromised: (error) => this.options.onCompromised?.(error),
      });
    } catch (error) {
      if (errorCode(error) === 'ELOCKED') {
        throw StateError.io(`The recovery point store ${this.storeRoot} is busy: another window or the command-line tool held its lock for over ${Math.round(waitMs / 1000)} s. Try again.`, error);
      }
      throw ioError(`lock the recovery point store ${this.storeRoot}`, error);
    }
    const token = { active: true };
    try {
      return await this.held.run(token, operation);
    } finally {
      token.active = false;
      await release().catch(() => undefined);
    }
  }
}
