import * as fs from 'node:fs';
import * as path from 'node:path';
import { onExit } from 'signal-exit';
import { errorCode } from '../errors';
import type { HeldLock, LockSeen } from './heldLock';
import { currentOwner, ownerFileName, ownerIsLocal, ownerIsProvablyDead, parseOwnerFileName } from './lockOwner';
import { randomHex } from '../randomHex';

/** Hard links are not made here (FAT, some network file systems): the caller locks another way. */
export class LinksUnsupported extends Error {}

const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * A lock that is one file, `writer.lock`, holding its owner's name (`lockOwner.ts`): the store lock of
 * a store in format 2. Each lock object keeps a file of its own beside it, `writer.lock.<token>`,
 * holding its owner's name, made at its first take and removed when it is disposed of or its process
 * exits. A take hard-links that file as `writer.lock`: the link is atomic, fails when the name exists,
 * and the lock is complete (its owner named) the moment it appears. Release unlinks it. One call to
 * take and two to release, against the lock folder's `mkdir`, owner file, `unlink` and `rmdir`
 * (~0.3 ms of a point, most of it the `rmdir`); a new file per take cost ~0.1 ms more than a link.
 *
 * A lock whose owner is provably dead on this machine, or (an owner on another machine, or a file
 * naming none) whose mtime is older than `staleMs`, is taken over: renamed to a name of the taker's
 * own, and removed only when what was renamed is the file judged (same inode, same owner). Takers take
 * turns: each holds `writer.lock.taking` (its own file linked there) from its judgment to the rename,
 * so no taker moves a lock another taker has just put in place. Only a stale lock of another machine,
 * released and taken anew between the judgment and the rename, is still moved aside: it is linked back
 * at once, and in the moment between, a third process could take the free name (the owner of the lock
 * moved finds it lost at its next refresh). A `taking` left by a taker that died is itself moved aside
 * the same way by the next taker.
 */
export class LinkedLock {
  private own: { readonly file: string; readonly owner: string; readonly ino: number; readonly removeOnExit: () => void } | undefined;

  constructor(
    readonly file: string,
    private readonly staleMs: number,
    private readonly onTakeover: () => void,
  ) {}

  /** One attempt, all synchronous: the lock, or `undefined` when another holds it. Throws `LinksUnsupported` where links cannot be made. */
  tryTake(): HeldLock | undefined {
    for (let attempt = 0; attempt < 3; attempt++) {
      const own = this.ownFile();
      try {
        fs.linkSync(own.file, this.file);
        return this.held(own.ino);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') {
          // its own file was removed (by hand, or as a leftover): made again
          this.dispose();
          continue;
        }
        if (code !== 'EEXIST') throw code !== undefined && NO_LINKS.has(code) ? new LinksUnsupported(`hard links cannot be made in ${path.dirname(this.file)} (${code})`) : error;
      }
      const found = this.read(this.file);
      if (found === undefined) continue; // released just now
      // this object's own file, left linked by a hold whose release failed: nobody else's
      if (found.stat.ino === own.ino && found.text === own.owner) removeIfThere(this.file);
      else if (!found.takeable || !this.takeOverInTurn(own)) return undefined;
    }
    return undefined;
  }

  /** Removes this object's own file (it is made again at the next take). */
  dispose(): void {
    const own = this.own;
    if (!own) return;
    this.own = undefined;
    own.removeOnExit();
    try {
      if (fs.lstatSync(own.file).ino === own.ino) fs.unlinkSync(own.file);
    } catch {
      // gone already
    }
  }

  private ownFile(): NonNullable<LinkedLock['own']> {
    if (this.own) return this.own;
    const token = randomHex(8);
    const owner = ownerFileName(currentOwner(token));
    const file = `${this.file}.${token}`;
    const fd = fs.openSync(file, 'wx', 0o600);
    let ino: number;
    try {
      fs.writeSync(fd, owner);
      ino = fs.fstatSync(fd).ino;
    } finally {
      fs.closeSync(fd);
    }
    const removeOnExit = onExit(() => {
      try {
        fs.unlinkSync(file);
      } catch {
        // gone already
      }
    });
    this.own = { file, owner, ino, removeOnExit };
    return this.own;
  }

  /** The lock as it is now, `undefined` when there is none. */
  seen(): LockSeen | undefined {
    return this.read(this.file);
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
      format: 2,
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

  /**
   * Takes over the lock, judged takeable, holding `taking` while it judges it again and moves it out of
   * the way; true when the caller may try to take the free name, false when the lock counts as held (by
   * its owner, or by another taker at it now).
   */
  private takeOverInTurn(own: NonNullable<LinkedLock['own']>): boolean {
    const taking = `${this.file}.taking`;
    try {
      // fresh, for takers on other machines, which judge a turn by its age
      const now = new Date();
      fs.utimesSync(own.file, now, now);
      fs.linkSync(own.file, taking);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        // its own file was removed meanwhile: made again at the next attempt
        this.dispose();
        return true;
      }
      if (errorCode(error) !== 'EEXIST') throw error;
      // another taker's turn; one that died in it is moved aside for the next attempt
      const other = this.read(taking);
      if (other?.takeable) this.moveAside(taking, other);
      return false;
    }
    try {
      const judged = this.read(this.file);
      if (judged === undefined) return true; // released just now
      if (!judged.takeable) return false;
      const taken = this.moveAside(this.file, judged);
      if (taken) this.onTakeover();
      return taken;
    } finally {
      try {
        if (fs.lstatSync(taking).ino === own.ino) fs.unlinkSync(taking);
      } catch {
        // gone already
      }
    }
  }

  /** Moves the judged lock file out of the way; false when it turned out to be another (put back: it counts as held). */
  private moveAside(file: string, judged: { stat: fs.Stats; text: string }): boolean {
    const aside = `${this.file}.aside-${randomHex(8)}`;
    try {
      fs.renameSync(file, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return true; // released or taken just now: try again
      throw error;
    }
    try {
      const moved = fs.lstatSync(aside);
      if (moved.ino === judged.stat.ino && fs.readFileSync(aside, 'utf8') === judged.text) return true;
      try {
        fs.linkSync(aside, file);
      } catch {
        // a new one is there already: the owner of the one moved finds it lost on its next refresh
      }
      return false;
    } finally {
      removeIfThere(aside);
    }
  }

  /** A lock file (`writer.lock`, or a taker's `taking`) as it is now (`undefined`: there is none): its owner, and whether another may take it. */
  private read(file: string): { stat: fs.Stats; text: string; takeable: boolean } | undefined {
    let stat: fs.Stats;
    let text: string;
    try {
      stat = fs.lstatSync(file);
      text = fs.readFileSync(file, 'utf8');
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

/**
 * Whether `name`, beside the lock `lockName`, is what a killed process left: a lock object's own file,
 * or a taker's turn (`taking`), whose owner is provably dead (or, on another machine or naming none,
 * older than `olderThanMs`), or a lock it was moving aside.
 */
export function isLinkedLockLeftover(dir: string, lockName: string, name: string, olderThanMs: number): boolean {
  if (!name.startsWith(`${lockName}.`)) return false;
  const rest = name.slice(lockName.length + 1);
  if (!/^(aside-)?[0-9a-f]{16}$/.test(rest) && rest !== 'taking') return false;
  let stat: fs.Stats;
  let text: string;
  try {
    stat = fs.lstatSync(path.join(dir, name));
    if (!stat.isFile()) return false;
    text = fs.readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return false;
  }
  const old = Date.now() - stat.mtimeMs > olderThanMs;
  if (rest.startsWith('aside-')) return old;
  const owner = parseOwnerFileName(text);
  return owner && ownerIsLocal(owner) ? ownerIsProvablyDead(owner) : old;
}
