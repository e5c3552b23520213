import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { errorCode, ioError, isNotWritable, StateError, storeNotWritable } from './errors';
import { currentOwner, ownerFileName, ownerIsLocal, ownerIsProvablyDead, parseOwnerFileName } from './lockOwner';

/**
 * One writer at a time per store, across processes, and within a process (a promise queue, so
 * callers in one process wait instead of polling). Re-entrant within one async call chain, so a
 * locked operation may call another.
 *
 * Across processes: the lock folder `store.lock` (`mkdir` is atomic; older versions made the same
 * folder with proper-lockfile) holding one empty file whose name is its owner (`lockOwner.ts`). The
 * folder's mtime is refreshed while held. A lock whose owner is provably dead on this machine is
 * taken over at once by renaming the owner file to the taker's name: one rename, so of several takers
 * exactly one wins, and a lock that changed hands in the meantime (another owner file) is never
 * touched. An owner on another machine is taken over the same way once the folder is older than
 * `staleMs`; a folder with no owner (an older version's lock, or a writer killed between its `mkdir`
 * and its owner file) is renamed aside once older than `staleMs`, then made anew.
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

export class StoreLock {
  private static readonly queues = new Map<string, Promise<unknown>>();
  private readonly lockfilePath: string;
  private readonly key: string;
  /** Takeovers and lost holds by lock key, for the whole process: another store object on the same folder counts too. */
  private static readonly takenOver = new Map<string, number>();

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
    } = {},
  ) {
    this.lockfilePath = path.join(storeRoot, options.name ?? 'store.lock');
    this.key = options.name === undefined ? path.resolve(storeRoot) : `${path.resolve(storeRoot)}\0${options.name}`;
  }

  /**
   * Runs `operation` holding the lock. Unless `options.mayWrite` is false (closing, which writes only
   * what it can), the store is first checked to be writable, so a store that cannot be written fails
   * before anything is written.
   */
  async run<T>(operation: () => Promise<T>, options: { mayWrite?: boolean } = {}): Promise<T> {
    if (this.currentHold() !== undefined) return operation();
    const key = this.key;
    const previous = StoreLock.queues.get(key) ?? Promise.resolve();
    const check = options.mayWrite === false ? undefined : this.options.checkWritable;
    const checked = check
      ? async () => {
          check();
          return operation();
        }
      : operation;
    const mine = previous.catch(() => undefined).then(() => this.runLocked(checked));
    const tail = mine.catch(() => undefined);
    StoreLock.queues.set(key, tail);
    try {
      return await mine;
    } finally {
      if (StoreLock.queues.get(key) === tail) StoreLock.queues.delete(key);
    }
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

  /**
   * This hold of the lock when the current async call chain holds it, else `undefined`: a different
   * object for every hold, so what was read under one hold is known not to be from another (other
   * processes may have written in between).
   */
  currentHold(): object | undefined {
    return heldLocks.getStore()?.find((held) => held.key === this.key && held.active);
  }

  private async runLocked<T>(operation: () => Promise<T>): Promise<T> {
    const staleMs = this.options.staleMs ?? 10_000;
    const waitMs = this.options.waitMs ?? 60_000;
    const held = await this.acquire(staleMs, waitMs);
    const token: HeldLock = { key: this.key, active: true };
    try {
      return await heldLocks.run([...(heldLocks.getStore() ?? []).filter((h) => h.active), token], operation);
    } finally {
      token.active = false;
      held.release();
    }
  }

  /**
   * Takes the lock, waiting up to `waitMs` while another live process holds it. Only contention is
   * waited for: a store folder that is gone or unwritable fails at once.
   */
  private async acquire(staleMs: number, waitMs: number): Promise<{ release(): void }> {
    const deadline = Date.now() + waitMs;
    let delay = 5;
    for (;;) {
      let taken: string | undefined;
      try {
        taken = this.tryTake(staleMs);
      } catch (error) {
        if (isNotWritable(error)) throw storeNotWritable(this.storeRoot, error);
        throw ioError(`lock the recovery point store ${this.storeRoot}`, error);
      }
      if (taken !== undefined) return this.hold(taken, staleMs);
      if (Date.now() >= deadline) {
        throw StateError.io(`The recovery point store ${this.storeRoot} is busy: another window or the command-line tool held its lock for over ${Math.round(waitMs / 1000)} s. Try again.`);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(100, Math.ceil(delay * 1.3));
    }
  }

  /** One attempt, all synchronous (a lock is taken around every point): the owner file's path when taken, `undefined` when another holds it. */
  private tryTake(staleMs: number): string | undefined {
    const dir = this.lockfilePath;
    const mine = path.join(dir, ownerFileName(currentOwner(randomBytes(8).toString('hex'))));
    for (let attempt = 0; attempt < 3; attempt++) {
      let made = true;
      try {
        fs.mkdirSync(dir);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
        made = false;
      }
      if (made) {
        try {
          fs.closeSync(fs.openSync(mine, 'wx', 0o600));
          return mine;
        } catch (error) {
          fs.rmSync(dir, { recursive: true, force: true });
          throw error;
        }
      }
      const found = readLock(dir, staleMs);
      if (found === undefined) continue; // released just now: try again
      const { owners, stale, stat } = found;
      if (owners.length === 1) {
        const { name } = owners[0]!;
        if (!found.takeable) return undefined;
        try {
          // The takeover: of several takers one rename wins; the others find the name gone (ENOENT).
          fs.renameSync(path.join(dir, name), mine);
        } catch (error) {
          if (errorCode(error) === 'ENOENT') return undefined;
          throw error;
        }
        this.countTakeover();
        const now = new Date();
        fs.utimesSync(dir, now, now);
        return mine;
      }
      if (!stale) return undefined;
      if (!this.setAside(dir, stat)) return undefined;
      this.countTakeover();
    }
    return undefined;
  }

  /**
   * Renames a stale lock folder without one owner (an older version's, or a writer's killed before it
   * named itself) aside and removes it. False when what was renamed turns out not to be that folder
   * (it was replaced meanwhile): it is put back and the lock counts as held.
   */
  private setAside(dir: string, judged: fs.Stats): boolean {
    const aside = `${dir}.stale-${randomBytes(6).toString('hex')}`;
    try {
      fs.renameSync(dir, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return true;
      throw error;
    }
    const moved = fs.statSync(aside);
    if (moved.ino !== judged.ino || fs.readdirSync(aside).some((name) => parseOwnerFileName(name) !== undefined)) {
      try {
        fs.renameSync(aside, dir);
      } catch {
        // a new lock is there already; the one moved aside keeps its owner file, which finds it lost on its next refresh
      }
      return false;
    }
    fs.rmSync(aside, { recursive: true, force: true });
    return true;
  }

  /** The held lock: its folder's mtime refreshed (for other machines and older versions) until released. */
  private hold(ownerFile: string, staleMs: number): { release(): void } {
    const dir = this.lockfilePath;
    let lost = false;
    const timer = setInterval(() => {
      if (!fs.existsSync(ownerFile)) {
        if (!lost) {
          this.countTakeover();
          this.options.onCompromised?.(new Error(`the lock's owner file ${path.basename(ownerFile)} is gone`));
        }
        lost = true;
        return;
      }
      const now = new Date();
      try {
        fs.utimesSync(dir, now, now);
      } catch {
        // the next refresh tries again
      }
    }, Math.max(1000, Math.floor(staleMs / 4)));
    timer.unref();
    return {
      release: () => {
        clearInterval(timer);
        try {
          fs.unlinkSync(ownerFile);
        } catch {
          this.countTakeover();
          return; // taken over (a stale takeover from another machine): the folder is theirs now
        }
        try {
          fs.rmdirSync(dir);
        } catch {
          // another process is already waiting on it
        }
      },
    };
  }
}

/**
 * Whether another process holds the store's lock (or its collection lock) right now: the lock folder exists and its owner is
 * alive on this machine, or (an owner on another machine, or none recorded) it was refreshed within
 * `staleMs`. For refusing to move a store a live window or command is writing; a lock left by a
 * killed process reads as not held.
 */
export async function isStoreLockHeld(storeRoot: string, staleMs = 10_000, locks: readonly string[] = ['store.lock', 'collection.lock']): Promise<boolean> {
  try {
    // a clean-up holds `collection.lock` throughout, and the store's lock only in slices
    return locks.some((name) => {
      const found = readLock(path.join(storeRoot, name), staleMs);
      return found !== undefined && !found.takeable;
    });
  } catch (error) {
    throw ioError(`check the lock of the recovery point store ${storeRoot}`, error);
  }
}

/**
 * The lock folder `dir` as it is now (`undefined`: there is none): its owner files, whether it is
 * older than `staleMs`, and whether another may take it — one owner, provably dead on this machine
 * or (on another machine) stale; no single owner (an older version's lock, a writer killed before it
 * named itself) and stale.
 */
function readLock(dir: string, staleMs: number): { owners: Array<{ name: string }>; stale: boolean; stat: fs.Stats; takeable: boolean } | undefined {
  let entries: string[];
  let stat: fs.Stats;
  try {
    entries = fs.readdirSync(dir);
    stat = fs.statSync(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const stale = Date.now() - stat.mtimeMs > staleMs;
  const owners = entries.flatMap((name) => {
    const owner = parseOwnerFileName(name);
    return owner ? [{ name, owner }] : [];
  });
  const only = owners.length === 1 ? owners[0]!.owner : undefined;
  const takeable = only ? (ownerIsLocal(only) ? ownerIsProvablyDead(only) : stale) : stale;
  return { owners, stale, stat, takeable };
}
