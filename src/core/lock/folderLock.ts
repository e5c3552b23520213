import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorCode } from '../errors';
import type { HeldLock, LockSeen, TakeResult } from './heldLock';
import { currentOwner, ownerFileName, ownerIsLocal, ownerIsProvablyDead, parseOwnerFileName } from './lockOwner';
import { randomHex } from '../randomHex';

/**
 * A lock that is a folder (`mkdir` is atomic; the oldest versions made the same folder with
 * proper-lockfile) holding one empty file whose name is its owner (`lockOwner.ts`). The folder's mtime
 * is refreshed while held. A lock whose owner is provably dead on this machine is taken over at once
 * by renaming the owner file to the taker's name: one rename, so of several takers exactly one wins,
 * and a lock that changed hands in the meantime (another owner file) is never touched. An owner on
 * another machine is taken over the same way once the folder is older than `staleMs`; a folder with
 * no owner (an older version's lock, or a writer killed between its `mkdir` and its owner file) is
 * renamed aside once older than `staleMs`, then made anew.
 *
 * The store lock of a store in format 1, and every store's collection lock. Its `mkdir` and `rmdir`
 * cost ~0.3 ms of every point, which is why format 2 locks with a file (`linkedLock.ts`).
 */
export class FolderLock {
  constructor(
    readonly dir: string,
    private readonly staleMs: number,
    private readonly onTakeover: () => void,
  ) {}

  /** One attempt, all synchronous. `changed`: the folder's place holds a file (the store's format changed). */
  tryTake(): TakeResult {
    const dir = this.dir;
    const mine = path.join(dir, ownerFileName(currentOwner(randomHex(8))));
    for (let attempt = 0; attempt < 3; attempt++) {
      let made = true;
      try {
        fs.mkdirSync(dir, 0o700);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
        made = false;
      }
      if (made) {
        try {
          fs.closeSync(fs.openSync(mine, 'wx', 0o600));
          return this.held(mine);
        } catch (error) {
          fs.rmSync(dir, { recursive: true, force: true });
          throw error;
        }
      }
      const found = this.read();
      if (found === 'changed') return 'changed';
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
        this.onTakeover();
        const now = new Date();
        fs.utimesSync(dir, now, now);
        return this.held(mine);
      }
      if (!stale) return undefined;
      if (!this.setAside(dir, stat)) return undefined;
      this.onTakeover();
    }
    return undefined;
  }

  /** The lock as it is now, `undefined` when there is none. */
  seen(): LockSeen | undefined {
    const found = this.read();
    return found === 'changed' ? undefined : found;
  }

  private held(ownerFile: string): HeldLock {
    const dir = this.dir;
    return {
      format: 1,
      stillMine: () => fs.existsSync(ownerFile),
      refresh: () => {
        const now = new Date();
        fs.utimesSync(dir, now, now);
      },
      release: () => {
        try {
          fs.unlinkSync(ownerFile);
        } catch {
          return false; // taken over (a stale takeover from another machine): the folder is theirs now
        }
        try {
          fs.rmdirSync(dir);
        } catch {
          // another process is already waiting on it
        }
        return true;
      },
    };
  }

  /**
   * Renames a stale lock folder without one owner (an older version's, or a writer's killed before it
   * named itself) aside and removes it. False when what was renamed turns out not to be that folder
   * (it was replaced meanwhile): it is put back and the lock counts as held.
   */
  private setAside(dir: string, judged: fs.Stats): boolean {
    const aside = `${dir}.stale-${randomHex(6)}`;
    try {
      fs.renameSync(dir, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return true;
      throw error;
    }
    const moved = fs.statSync(aside);
    if (moved.ino !== judged.ino || !moved.isDirectory() || fs.readdirSync(aside).some((name) => parseOwnerFileName(name) !== undefined)) {
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

  /**
   * The lock folder as it is now (`undefined`: there is none; `changed`: a file is in its place): its
   * owner files, whether it is older than `staleMs`, and whether another may take it — one owner,
   * provably dead on this machine or (on another machine) stale; no single owner (an older version's
   * lock, a writer killed before it named itself) and stale.
   */
  private read(): { owners: Array<{ name: string }>; stale: boolean; stat: fs.Stats; takeable: boolean } | undefined | 'changed' {
    let entries: string[];
    let stat: fs.Stats;
    try {
      entries = fs.readdirSync(this.dir);
      stat = fs.statSync(this.dir);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return undefined;
      if (code === 'ENOTDIR') return 'changed';
      throw error;
    }
    if (!stat.isDirectory()) return 'changed';
    const stale = Date.now() - stat.mtimeMs > this.staleMs;
    const owners = entries.flatMap((name) => {
      const owner = parseOwnerFileName(name);
      return owner ? [{ name, owner }] : [];
    });
    const only = owners.length === 1 ? owners[0]!.owner : undefined;
    const takeable = only ? (ownerIsLocal(only) ? ownerIsProvablyDead(only) : stale) : stale;
    return { owners, stale, stat, takeable };
  }
}
