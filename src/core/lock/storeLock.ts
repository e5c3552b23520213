import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errorCode, ioError, isNotWritable, StateError, StoreBusyError, storeNotWritable } from '../errors';
import { FolderLock } from './folderLock';
import type { HeldLock, LockSeen, TakeResult } from './heldLock';
import { isLinkedLockLeftover, LinkedLock, LinksUnsupported } from './linkedLock';
import { FORMAT_MARKER, markStore, storeForm } from './storeFormat';

/** The store lock's file in a store of format 2. */
export const WRITER_LOCK = 'writer.lock';

/**
 * One writer at a time per store, across processes, and within a process (a promise queue, so
 * callers in one process wait instead of polling). An operation run under the lock is given its hold
 * (`Hold`) and passes it to the locked operations it calls (`run(…, { within: hold })`), which then
 * run at once under the same hold instead of waiting for it to end.
 *
 * Across processes, the store lock takes the form the store's format asks for (`storeFormat.ts`):
 * the file `writer.lock` in a store of format 2 (`linkedLock.ts`), the folder `store.lock` in one of
 * format 1 (`folderLock.ts`). A store of format 1 is marked as format 2 by its first writer that finds
 * `store.lock` free and can make hard links there: it takes `writer.lock` first, then puts the marker
 * in the folder's place, which fails if a writer of format 1 made the folder meanwhile (it then lets
 * go and waits). Other locks (`name`, the collection lock) are folders in every format.
 */
export interface Hold {
  /** The store's format this hold was taken in: 2 when it holds `writer.lock`. */
  readonly format: 1 | 2;
}

interface HeldToken extends Hold {
  readonly key: string;
  /** False once the operation it was given to has ended: a continuation that outlives it takes the lock anew. */
  active: boolean;
}

/**
 * An `AsyncLocalStorage` could find the holds without their being passed, but on Node 20 it tracks
 * every promise and callback of the process while in use, which made a restore 10–15 % slower
 * (BENCHMARKS.md). With `RP_CHECK_HOLDS=1` (the core tests) one is kept all the same, to check that
 * every locked operation called under a hold is passed it: one that is not would wait for the very
 * hold its caller is waiting in.
 */
const nestedHolds = process.env.RP_CHECK_HOLDS === '1' ? new AsyncLocalStorage<readonly HeldToken[]>() : undefined;

export class StoreLock {
  private static readonly queues = new Map<string, Promise<unknown>>();
  private readonly lockfilePath: string;
  private readonly key: string;
  /** Takeovers and lost holds by lock key, for the whole process: another store object on the same folder counts too. */
  private static readonly takenOver = new Map<string, number>();
  /** The store lock in format 2, once taken: it keeps a file of its own beside the lock until disposed of. */
  private writer: LinkedLock | undefined;
  /** Stores (by lock key) whose folder cannot hold hard links: they stay in format 1, locked with the folder. */
  private static readonly noLinks = new Set<string>();

  constructor(
    private readonly storeRoot: string,
    private readonly options: {
      staleMs?: number;
      waitMs?: number;
      onCompromised?: (error: Error) => void;
      /** Called once the lock is taken, before a writing operation runs: throws when the store cannot be written. */
      checkWritable?: () => void;
      /** The lock folder's name in the store folder (another name is another lock, taken the same way). */
      name?: string;
      /**
       * Called when the lock cannot be taken for an operation that may write because a folder is gone:
       * true when it made the store again (the take is tried again), false to fail.
       */
      onStoreGone?: () => boolean;
    } = {},
  ) {
    this.lockfilePath = path.join(storeRoot, options.name ?? 'store.lock');
    this.key = options.name === undefined ? path.resolve(storeRoot) : `${path.resolve(storeRoot)}\0${options.name}`;
  }

  /**
   * Runs `operation` holding the lock: at once when `within` is a hold of this lock still held (a
   * locked operation calling another), else once the lock is taken. Unless `options.mayWrite` is false
   * (closing, which writes only what it can), the store is first checked to be writable, so a store
   * that cannot be written fails before anything is written.
   */
  async run<T>(operation: (hold: Hold) => Promise<T>, options: { mayWrite?: boolean; within?: Hold } = {}): Promise<T> {
    if (this.holds(options.within)) return operation(options.within);
    this.checkNotNested();
    const key = this.key;
    const previous = StoreLock.queues.get(key) ?? Promise.resolve();
    const check = options.mayWrite === false ? undefined : this.options.checkWritable;
    const checked = check
      ? async (hold: Hold) => {
          check();
          return operation(hold);
        }
      : operation;
    const mine = previous.catch(() => undefined).then(() => this.runLocked(checked, options.mayWrite !== false));
    const tail = mine.catch(() => undefined);
    StoreLock.queues.set(key, tail);
    try {
      return await mine;
    } finally {
      if (StoreLock.queues.get(key) === tail) StoreLock.queues.delete(key);
    }
  }

  /**
   * Whether `hold` is a hold of this lock, still held: what was read under it is known not to be from
   * another hold (other processes may have written in between).
   */
  holds(hold: Hold | undefined): hold is Hold {
    const token = hold as HeldToken | undefined;
    return token !== undefined && token.key === this.key && token.active;
  }

  /**
   * With `RP_CHECK_HOLDS=1`: throws when the caller runs under a hold of this lock that it did not pass
   * (`nestedHolds`). For operations that take the lock on some paths only.
   */
  checkNotNested(): void {
    if (nestedHolds?.getStore()?.some((token) => this.holds(token))) throw new Error(`internal: an operation holding the lock ${this.options.name ?? 'of the store'} called a locked operation without passing its hold`);
  }

  /** Removes what this lock object keeps in the store between takes (its own file beside `writer.lock`). Taking the lock again makes it anew. */
  dispose(): void {
    this.writer?.dispose();
  }

  /**
   * How many times this process took the lock over from another owner (dead, or stale) or lost its
   * own hold: what another writer may have left half-done shows only in the files, not in what this
   * process read before (`KnownListing`).
   */
  get takeovers(): number {
    return StoreLock.takenOver.get(this.key) ?? 0;
  }

  private countTakeover(): void {
    StoreLock.takenOver.set(this.key, this.takeovers + 1);
  }

  private async runLocked<T>(operation: (hold: Hold) => Promise<T>, mayWrite: boolean): Promise<T> {
    const staleMs = this.options.staleMs ?? 10_000;
    const waitMs = this.options.waitMs ?? 60_000;
    const held = await this.acquire(staleMs, waitMs, mayWrite);
    const token: HeldToken = { key: this.key, format: held.format, active: true };
    try {
      if (!nestedHolds) return await operation(token);
      return await nestedHolds.run([...(nestedHolds.getStore() ?? []), token], () => operation(token));
    } finally {
      token.active = false;
      held.release();
    }
  }

  /**
   * Takes the lock, waiting up to `waitMs` while another live process holds it. Only contention is
   * waited for: a store folder that is unwritable, or gone (unless `onStoreGone` makes it again for an
   * operation that may write), fails at once.
   */
  private async acquire(staleMs: number, waitMs: number, mayWrite: boolean): Promise<{ readonly format: 1 | 2; release(): void }> {
    const deadline = Date.now() + waitMs;
    let delay = 5;
    let remade = false;
    for (;;) {
      let taken: HeldLock | undefined;
      try {
        taken = this.tryTake(staleMs);
      } catch (error) {
        if (error instanceof StateError) throw error;
        if (mayWrite && !remade && errorCode(error) === 'ENOENT' && this.options.onStoreGone?.()) {
          remade = true;
          continue;
        }
        if (isNotWritable(error)) throw storeNotWritable(this.storeRoot, error);
        // a folder made where the lock's file belongs (by hand, a sync tool): no writer can take the lock until it is moved away
        if (errorCode(error) === 'EISDIR') throw StateError.io(`Could not lock the recovery point store ${this.storeRoot}: a folder stands where it keeps its lock file (${this.options.name ?? WRITER_LOCK}). Move that folder out of the store and try again.`, error);
        throw ioError(`lock the recovery point store ${this.storeRoot}`, error);
      }
      if (taken !== undefined) return this.hold(taken, staleMs);
      if (Date.now() >= deadline) {
        throw new StoreBusyError(`The recovery point store ${this.storeRoot} is busy: another window or the command-line tool held its lock for over ${Math.round(waitMs / 1000)} s. Try again.`);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(100, Math.ceil(delay * 1.3));
    }
  }

  /** One attempt, all synchronous (a lock is taken around every point): the lock when taken, `undefined` when another holds it. */
  private tryTake(staleMs: number): HeldLock | undefined {
    const onTakeover = () => this.countTakeover();
    if (this.options.name !== undefined) return taken(new FolderLock(this.lockfilePath, staleMs, onTakeover).tryTake());
    this.writer ??= new LinkedLock(path.join(this.storeRoot, WRITER_LOCK), staleMs, onTakeover);
    const writer = this.writer;
    for (let attempt = 0; attempt < 3; attempt++) {
      const format = storeForm(this.storeRoot);
      if (format.form === 'linked') {
        const held = this.takeLinked(writer);
        if (held && format.damaged) {
          try {
            markStore(this.storeRoot, WRITER_LOCK);
          } catch {
            // the file there keeps earlier builds out as it is; the next writer writes it again
          }
        }
        return held;
      }
      if (format.form === 'folder' || StoreLock.noLinks.has(this.key)) {
        const result = new FolderLock(this.lockfilePath, staleMs, onTakeover).tryTake();
        if (result === 'changed') continue;
        return result;
      }
      // unmarked: this writer marks the store as format 2, holding `writer.lock` while it does
      let held: HeldLock | undefined;
      try {
        held = writer.tryTake();
      } catch (error) {
        if (!(error instanceof LinksUnsupported)) throw error;
        StoreLock.noLinks.add(this.key);
        continue;
      }
      if (held === undefined) return undefined;
      let marked: boolean;
      try {
        marked = markStore(this.storeRoot, WRITER_LOCK);
      } catch (error) {
        held.release();
        throw error;
      }
      if (marked) return held;
      // a writer of format 1 made the lock folder first: it holds the store (or held it until just now)
      held.release();
      return undefined;
    }
    return undefined;
  }

  private takeLinked(writer: LinkedLock): HeldLock | undefined {
    try {
      return writer.tryTake();
    } catch (error) {
      if (!(error instanceof LinksUnsupported)) throw error;
      throw StateError.io(`The recovery point store ${this.storeRoot} is in store format 2, which locks with a hard link, and ${error.message}. Move the store back to a file system that has them.`, error);
    }
  }

  /** The held lock, refreshed (for other machines and older versions) until released. */
  private hold(lock: HeldLock, staleMs: number): { readonly format: 1 | 2; release(): void } {
    let lost = false;
    const timer = setInterval(() => {
      if (!lock.stillMine()) {
        if (!lost) {
          this.countTakeover();
          this.options.onCompromised?.(new Error(`the lock ${this.options.name ?? 'of the store'} is no longer this process's`));
        }
        lost = true;
        return;
      }
      try {
        lock.refresh();
      } catch {
        // the next refresh tries again
      }
    }, Math.max(1000, Math.floor(staleMs / 4)));
    timer.unref();
    return {
      format: lock.format,
      release: () => {
        clearInterval(timer);
        // false: taken over (a stale takeover from another machine), the lock is theirs now
        if (!lock.release()) this.countTakeover();
      },
    };
  }
}

function taken(result: TakeResult): HeldLock | undefined {
  return result === 'changed' ? undefined : result;
}

/**
 * Whether another process holds the store's lock (or its collection lock) right now: its owner is
 * alive on this machine, or (an owner on another machine, or none recorded) it was refreshed within
 * `staleMs`. For refusing to move a store a live window or command is writing; a lock left by a
 * killed process reads as not held. `store.lock` stands for the store lock in either format.
 */
export async function isStoreLockHeld(storeRoot: string, staleMs = 10_000, locks: readonly string[] = [FORMAT_MARKER, 'collection.lock']): Promise<boolean> {
  const none = () => undefined;
  const held = (seen: LockSeen | undefined) => seen !== undefined && !seen.takeable;
  try {
    // a clean-up holds `collection.lock` throughout, and the store's lock only in slices
    return locks.some((name) => {
      const folder = new FolderLock(path.join(storeRoot, name), staleMs, none);
      if (name !== FORMAT_MARKER) return held(folder.seen());
      // a writer marking the store holds `writer.lock` before the marker is there
      return held(folder.seen()) || held(new LinkedLock(path.join(storeRoot, WRITER_LOCK), staleMs, none).seen());
    });
  } catch (error) {
    throw ioError(`check the lock of the recovery point store ${storeRoot}`, error);
  }
}

/**
 * Removes what killed processes left beside the store lock: a lock object's own file whose owner is
 * provably dead (on another machine, older than `olderThanMs`), a lock moved aside during a takeover
 * or the marker's temporary file, once older than `olderThanMs`. Caller holds the store lock. Returns
 * how many were removed.
 */
export async function removeStaleLockLeftovers(storeRoot: string, olderThanMs = 3_600_000): Promise<number> {
  let removed = 0;
  for (const name of await fs.readdir(storeRoot).catch(() => [] as string[])) {
    const file = path.join(storeRoot, name);
    if (/^store\.lock\.\d+$/.test(name)) {
      const stat = await fs.lstat(file).catch(() => undefined);
      if (!stat?.isFile() || Date.now() - stat.mtimeMs <= olderThanMs) continue;
    } else if (!isLinkedLockLeftover(storeRoot, WRITER_LOCK, name, olderThanMs)) continue;
    await fs.rm(file, { force: true });
    removed++;
  }
  return removed;
}
