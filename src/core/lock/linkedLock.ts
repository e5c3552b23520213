import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { errorCode } from '../errors';
import type { HeldLock, LockSeen } from './heldLock';
import { currentOwner, ownerFileName, ownerIsLocal, ownerIsProvablyDead, parseOwnerFileName } from './lockOwner';

/** Hard links are not made here (FAT, some network file systems): the caller locks another way. */
export class LinksUnsupported extends Error {}

const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * A lock that is one file, `writer.lock`, holding its owner's name (`lockOwner.ts`): the store lock of
 * a store in format 2. A taker writes its owner's name into a file of its own (`writer.lock.<token>`)
 * and hard-links it as `writer.lock`: the link is atomic and fails when the name exists, and the lock
 * is complete (its owner named) the moment it appears. Release unlinks it. That is four small calls
 * to take and two to release, against the lock folder's `mkdir` and `rmdir` (~0.3 ms of a point).
 *
 * A lock whose owner is provably dead on this machine, or (an owner on another machine, or a file
 * naming none) whose mtime is older than `staleMs`, is taken over: renamed to a name of the taker's
 * own, and removed only when what was renamed is the file judged (same inode, same owner). A lock
 * that changed hands between the judgment and the rename is linked back at once; in the moment
 * between, a third process could take the free name, and the owner whose lock was moved then finds
 * it lost at its next refresh (as with a folder set aside, `folderLock.ts`).
 */
export class LinkedLock {
  constructor(
    readonly file: string,
    private readonly staleMs: number,
    private readonly onTakeover: () => void,
  ) {}

  /** One attempt, all synchronous: the lock, or `undefined` when another holds it. Throws `LinksUnsupported` where links cannot be made. */
  tryTake(): HeldLock | undefined {
    const token = randomBytes(8).toString('hex');
    const owner = ownerFileName(currentOwner(token));
    const temp = `${this.file}.${token}`;
    const fd = fs.openSync(temp, 'wx', 0o600);
    let ino: number;
    try {
      fs.writeSync(fd, owner);
      ino = fs.fstatSync(fd).ino;
    } finally {
      fs.closeSync(fd);
    }
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          fs.linkSync(temp, this.file);
          return this.held(ino);
        } catch (error) {
          const code = errorCode(error);
          if (code !== 'EEXIST') throw code !== undefined && NO_LINKS.has(code) ? new LinksUnsupported(`hard links cannot be made in ${path.dirname(this.file)} (${code})`) : error;
        }
        const found = this.read();
        if (found === undefined) continue; // released just now
        if (!found.takeable) return undefined;
        if (!this.takeOver(found, `${this.file}.aside-${token}`)) return undefined;
      }
      return undefined;
    } finally {
      removeIfThere(temp);
    }
  }

  /** The lock as it is now, `undefined` when there is none. */
  seen(): LockSeen | undefined {
    return this.read();
  }

  private held(ino: number): HeldLock {
    const file = this.file;
    const stillMine = () => {
      try {
        return fs.lstatSync(file).ino === ino;
      } catch {
        return false;
      }
    };
    return {
      stillMine,
      refresh: () => {
        const now = new Date();
        fs.utimesSync(file, now, now);
      },
      release: () => {
        if (!stillMine()) return false;
        try {
          fs.unlinkSync(file);
          return true;
        } catch {
          return false;
        }
      },
    };
  }

  /** Moves the judged lock out of the way; false when it turned out to be another (put back: the lock counts as held). */
  private takeOver(judged: { stat: fs.Stats; text: string }, aside: string): boolean {
    try {
      fs.renameSync(this.file, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return true; // released or taken just now: try again
      throw error;
    }
    try {
      const moved = fs.lstatSync(aside);
      if (moved.ino === judged.stat.ino && fs.readFileSync(aside, 'utf8') === judged.text) {
        this.onTakeover();
        return true;
      }
      try {
        fs.linkSync(aside, this.file);
      } catch {
        // a new lock is there already: the owner of the one moved finds it lost on its next refresh
      }
      return false;
    } finally {
      removeIfThere(aside);
    }
  }

  /** The lock file as it is now (`undefined`: there is none): its owner, and whether another may take it. */
  private read(): { stat: fs.Stats; text: string; takeable: boolean } | undefined {
    let stat: fs.Stats;
    let text: string;
    try {
      stat = fs.lstatSync(this.file);
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    const stale = Date.now() - stat.mtimeMs > this.staleMs;
    const owner = parseOwnerFileName(text);
    // no owner: a file damaged by a power loss (linked, its bytes never written back)
    const takeable = owner ? (ownerIsLocal(owner) ? ownerIsProvablyDead(owner) : stale) : stale;
    return { stat, text, takeable };
  }
}

function removeIfThere(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

/** Whether `name` is a file a taker of `lockName` left beside it (killed between its steps). */
export function isLinkedLockLeftover(lockName: string, name: string): boolean {
  return name.startsWith(`${lockName}.`) && /^(aside-)?[0-9a-f]{16}$/.test(name.slice(lockName.length + 1));
}
