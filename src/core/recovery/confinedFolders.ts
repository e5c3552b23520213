import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { errorCode, ioError, StateError } from '../errors';
import type { WorkspaceRoot } from '../schemas';
import { movedWorkspaceFolder } from '../storePlacement';

const open = promisify(fs.open);
const close = promisify(fs.close);
function write(fd: number, buffer: Buffer, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buffer, offset, length, null, (error, written) => (error ? reject(error) : resolve(written))));
}
const fsync = promisify(fs.fsync);
const lstat = promisify(fs.lstat);
const mkdir = promisify(fs.mkdir);
const readlink = promisify(fs.readlink);
const realpath = promisify(fs.realpath);
const rename = promisify(fs.rename);
const rmdir = promisify(fs.rmdir);
const unlink = promisify(fs.unlink);

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
const O_DIRECTORY = fs.constants.O_DIRECTORY ?? 0;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
/** A folder below the root: opened only if it is a real folder, never through a link. */
const FOLDER_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
/** A restore's temporary file: always a new file, never an existing one or a link's target. */
const TEMP_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/** Files up to this size are written with synchronous calls (the store's small packs are too). */
const SYNC_WRITE_BYTES = 256 * 1024;

/** Folders held open at once, at most (besides those in use): a restore of many folders reopens some. */
const MAX_IDLE_FOLDERS = 64;

/**
 * Whether this system names an open folder by `/proc/self/fd/N` (Linux): a path through it reaches
 * the opened folder itself, wherever it has been moved and whatever now has its old name.
 */
export const HAS_PROC_FD = process.platform === 'linux' && fs.existsSync('/proc/self/fd');

/** An open folder of the workspace. */
interface Folder {
  /** What names in this folder are put after: `/proc/self/fd/N` when opened, else the folder's path. */
  readonly base: string;
  readonly fd: number | undefined;
  /** device:inode, for the check after each operation where folders cannot be opened. */
  readonly id: string;
  refs: number;
}

/** Why a path cannot be reached inside the workspace (the restore skips it with this reason). */
export class Unreachable extends Error {}

/** What `writeAtomically` throws when the file changed on disk while its new content was being written: nothing was replaced. */
export class ChangedMeanwhile extends Error {}

/**
 * One workspace folder opened for a restore. Every lookup, write, rename, folder creation and deletion
 * happens inside a folder reached from the opened root one name at a time, each opened without
 * following a link (`O_NOFOLLOW | O_DIRECTORY` through the parent's `/proc/self/fd/N`): whatever
 * happens to the folders meanwhile (renamed, replaced by a link to outside), nothing it does can land
 * outside the workspace folder. Where `/proc` is missing, paths are used and the folders on the way
 * are checked again (still real folders, the same ones) after each operation.
 */
export class ConfinedRoot {
  /** Folders by root-relative path (`''`: the root), opened once and shared while in use. */
  private readonly folders = new Map<string, Promise<Folder>>();
  /** The folders of `folders` whose open has finished: what `closeIdle` closes without waiting. */
  private readonly opened = new Map<string, Folder>();
  /** device:inode of each folder reached, where folders cannot be opened (for `recheck`). */
  private readonly ids = new Map<string, string>();
  /** Relative paths of the folders this restore created, in the order made. */
  readonly created: string[] = [];
  private closed = false;
  /** Where folders cannot be opened: the root's real path, which paths to its folders start from. */
  private fallbackBase = '';

  private constructor(
    readonly root: WorkspaceRoot,
    private readonly viaProc: boolean,
    private readonly onCreated: ((rel: string) => void) | undefined,
  ) {}

  /**
   * Opens a workspace folder. With `root.realPath` (where the store recorded it), the opened folder
   * must be that one: a workspace folder that became a link elsewhere is refused.
   */
  static async open(root: WorkspaceRoot, options: { viaProc?: boolean; onCreated?: (rel: string) => void } = {}): Promise<ConfinedRoot> {
    const confined = new ConfinedRoot(root, options.viaProc ?? HAS_PROC_FD, options.onCreated);
    const folder = confined.openRoot();
    confined.folders.set('', folder);
    await folder;
    return confined;
  }

  private async openRoot(): Promise<Folder> {
    const rootPath = this.root.path;
    if (this.viaProc) {
      let fd: number;
      try {
        fd = await open(rootPath, O_RDONLY | O_DIRECTORY).catch(async (error: unknown) => {
          if (!(await this.madeAgain(error))) throw error;
          return open(rootPath, O_RDONLY | O_DIRECTORY);
        });
      } catch (error) {
        throw ioError(`open the workspace folder ${rootPath}`, error);
      }
      const base = `/proc/self/fd/${fd}`;
      const real = await readlink(base).catch(() => undefined);
      if (this.root.realPath !== undefined && real !== this.root.realPath) {
        await close(fd).catch(() => undefined);
        throw movedRoot(this.root, real);
      }
      return { base, fd, id: '', refs: 0 };
    }
    const stat = await fs.promises
      .stat(rootPath)
      .catch(async (error: unknown) => {
        if (!(await this.madeAgain(error))) throw error;
        return fs.promises.stat(rootPath);
      })
      .catch((error: unknown) => Promise.reject(ioError(`open the workspace folder ${rootPath}`, error)));
    if (!stat.isDirectory()) throw StateError.invalidState(`The workspace folder ${rootPath} is not a folder.`);
    const real = await realpath(rootPath).catch(() => undefined);
    if (this.root.realPath !== undefined && real !== this.root.realPath) throw movedRoot(this.root, real);
    this.ids.set('', `${stat.dev}:${stat.ino}`);
    this.fallbackBase = real ?? rootPath;
    return { base: real ?? rootPath, fd: undefined, id: `${stat.dev}:${stat.ino}`, refs: 0 };
  }

  /**
   * After `error` opening the workspace folder: when the folder itself was removed (its parent is
   * there, and where the store recorded the folder's real path, the parent is still where it was), it is
   * made again, so that a restore can put the point's files back. True when it is there now.
   */
  private async madeAgain(error: unknown): Promise<boolean> {
    if (errorCode(error) !== 'ENOENT') return false;
    const rootPath = this.root.path;
    if (this.root.realPath !== undefined && (await realpath(path.dirname(rootPath)).catch(() => undefined)) !== path.dirname(this.root.realPath)) return false;
    try {
      await mkdir(rootPath);
      return true;
    } catch (made) {
      return errorCode(made) === 'EEXIST';
    }
  }

  /** The path a person knows for a root-relative path (for messages). */
  shown(rel: string): string {
    return rel === '' ? this.root.path : path.join(this.root.path, ...rel.split('/'));
  }

  /**
   * Runs `work` with the folder `dir` (root-relative, `''`: the root) and the path of `name` inside it;
   * `create` makes missing folders on the way. Throws `Unreachable` when a folder on the way is a link
   * or a file, or (without `create`) missing; `null` from `lookup`-style callers is theirs to return.
   */
  async within<T>(dir: string, create: boolean, work: (at: (name: string) => string) => Promise<T>): Promise<T> {
    const folder = await this.acquire(dir, create);
    try {
      const result = await work((name) => `${folder.base}/${name}`);
      if (!this.viaProc) await this.recheck(dir);
      return result;
    } finally {
      this.release(folder);
    }
  }

  /** `lstat` of a root-relative path; `null` when it (or a folder on the way) does not exist. */
  async lstat(rel: string): Promise<fs.Stats | null> {
    const { dir, name } = split(rel);
    try {
      return await this.within(dir, false, async (at) => fs.lstatSync(at(name)));
    } catch (error) {
      if (error instanceof MissingFolder || errorCode(error) === 'ENOENT') return null;
      throw error;
    }
  }

  async readlink(rel: string): Promise<string> {
    const { dir, name } = split(rel);
    return this.within(dir, false, (at) => readlink(at(name)));
  }

  /** Deletes a file or link; `false` when it was already gone. */
  async unlink(rel: string): Promise<boolean> {
    const { dir, name } = split(rel);
    try {
      await this.within(dir, false, (at) => unlink(at(name)));
      return true;
    } catch (error) {
      if (error instanceof MissingFolder || errorCode(error) === 'ENOENT') return false;
      if (error instanceof Unreachable) throw error;
      throw ioError(`delete ${this.shown(rel)}`, error);
    }
  }

  /** Removes an empty folder; `false` when it is not empty, not a folder, or gone. */
  async removeEmptyFolder(rel: string): Promise<boolean> {
    const { dir, name } = split(rel);
    this.forget(rel);
    return this.within(dir, false, (at) => rmdir(at(name))).then(
      () => true,
      () => false,
    );
  }

  /**
   * Writes a file (or link) atomically: a new temporary file `temp` beside it (never an existing file,
   * never through a link), fsynced, given its permission bits, then renamed over `rel` in the same
   * folder. Missing folders on the way are created. Returns a file's stat as the rename left it
   * (`undefined` for a link).
   */
  async writeAtomically(rel: string, temp: string, kind: 'f' | 'l', content: Buffer, mode: number, stillAsChecked?: (now: fs.Stats | null) => boolean): Promise<fs.Stats | undefined> {
    const { dir, name } = split(rel);
    // A small file's calls are made on this thread (each a few microseconds, where a thread-pool round
    // trip costs 0.1–0.3 ms); its fsync, the wait for the disk, goes to the thread pool, so the fsyncs
    // of the files written at once overlap, and so does its rename: a rename over a file frees the old
    // file's inode and blocks, ~0.4 ms of kernel work here, which this thread would otherwise wait for
    // before starting the next file (BENCHMARKS.md, "#14 target 6: the result point…").
    const small = content.length <= SYNC_WRITE_BYTES;
    // the last look before the rename (after the write and its fsync, the slow part): a save that
    // landed meanwhile is left in place, never replaced by the point's version
    const checkAgain = (at: (n: string) => string) => {
      if (stillAsChecked && !stillAsChecked(fs.lstatSync(at(name), { throwIfNoEntry: false }) ?? null)) throw new ChangedMeanwhile(`${this.shown(rel)} changed while it was being restored`);
    };
    return this.within(dir, true, async (at) => {
      try {
        if (kind === 'l') {
          fs.symlinkSync(content, at(temp)); // the target's exact bytes
          checkAgain(at);
          fs.renameSync(at(temp), at(name));
          return undefined;
        }
        const fd = small ? fs.openSync(at(temp), TEMP_FLAGS, 0o600) : await open(at(temp), TEMP_FLAGS, 0o600);
        try {
          for (let written = 0; written < content.length; ) {
            written += small ? fs.writeSync(fd, content, written, content.length - written) : await write(fd, content, written, content.length - written);
          }
          // permission bits only: a point never sets setuid, setgid or sticky bits
          fs.fchmodSync(fd, mode & 0o777);
          await fsync(fd);
          checkAgain(at);
          await rename(at(temp), at(name));
          // the stat the rename left (it changes the ctime), taken from the open file: no path to look up
          return fs.fstatSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      } catch (error) {
        await unlink(at(temp)).catch(() => undefined);
        throw error;
      }
    }).catch((error: unknown) => Promise.reject(error instanceof Unreachable || error instanceof ChangedMeanwhile ? error : ioError(`write ${this.shown(rel)}`, error)));
  }

  /** Removes the folders this restore created that are still empty, deepest first (after a failure). */
  async removeCreatedFolders(): Promise<void> {
    const made = [...this.created].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const rel of made) await this.removeEmptyFolder(rel);
  }

  /** Closes every folder still open. */
  async close(): Promise<void> {
    this.closed = true;
    const folders = [...this.folders.values()];
    this.folders.clear();
    this.opened.clear();
    for (const pending of folders) {
      const folder = await pending.catch(() => undefined);
      if (folder?.fd !== undefined) closeQuietly(folder.fd);
    }
  }

  private async acquire(dir: string, create: boolean, retried = false): Promise<Folder> {
    if (this.closed) throw new Error('internal: the workspace folder was closed');
    let pending = this.folders.get(dir);
    if (pending) {
      // most recently used last, so idle folders are closed oldest first
      this.folders.delete(dir);
      this.folders.set(dir, pending);
    } else {
      pending = this.openFolder(dir, create);
      this.folders.set(dir, pending);
      pending.catch(() => this.folders.get(dir) === pending && this.folders.delete(dir));
    }
    let folder: Folder;
    try {
      folder = await pending;
    } catch (error) {
      // a lookup found it missing just before: this caller makes it
      if (!create || retried || !(error instanceof MissingFolder)) throw error;
      if (this.folders.get(dir) === pending) this.folders.delete(dir);
      return this.acquire(dir, create, true);
    }
    if (this.folders.get(dir) === pending) this.opened.set(dir, folder);
    folder.refs++;
    return folder;
  }

  private release(folder: Folder): void {
    folder.refs--;
    if (folder.refs === 0) this.closeIdle();
  }

  /** Closes idle folders (least recently used first) beyond `MAX_IDLE_FOLDERS`; the root stays open. */
  private closeIdle(): void {
    let excess = this.folders.size - MAX_IDLE_FOLDERS;
    for (const dir of this.folders.keys()) {
      if (excess <= 0) return;
      const folder = this.opened.get(dir);
      if (dir === '' || !folder || folder.refs > 0) continue;
      this.folders.delete(dir);
      this.opened.delete(dir);
      excess--;
      if (folder.fd !== undefined) closeQuietly(folder.fd);
    }
  }

  /** Drops a folder about to be removed from the open ones (its fd is closed once idle). */
  private forget(rel: string): void {
    const pending = this.folders.get(rel);
    if (!pending) return;
    this.folders.delete(rel);
    this.opened.delete(rel);
    void pending.then(
      async (folder) => {
        while (folder.refs > 0) await new Promise((resolve) => setImmediate(resolve));
        if (folder.fd !== undefined) closeQuietly(folder.fd);
      },
      () => undefined,
    );
  }

  private async openFolder(dir: string, create: boolean): Promise<Folder> {
    const { dir: parentDir, name } = split(dir);
    const parent = await this.acquire(parentDir, create);
    try {
      return this.viaProc ? await this.openChild(parent, dir, name, create) : await this.checkChild(parent, dir, name, create);
    } finally {
      this.release(parent);
    }
  }

  private async openChild(parent: Folder, dir: string, name: string, create: boolean): Promise<Folder> {
    const at = `${parent.base}/${name}`;
    for (let attempt = 0; ; attempt++) {
      try {
        // synchronous, like the small writes: an open of a folder takes microseconds
        const fd = fs.openSync(at, FOLDER_FLAGS);
        return { base: `/proc/self/fd/${fd}`, fd, id: '', refs: 0 };
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' && create && attempt < 3) {
          await this.makeFolder(at, dir);
          continue;
        }
        throw await this.notAFolder(dir, at, error);
      }
    }
  }

  private async checkChild(parent: Folder, dir: string, name: string, create: boolean): Promise<Folder> {
    const at = `${parent.base}/${name}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const stat = await lstat(at);
        if (!stat.isDirectory()) throw Object.assign(new Error(`not a folder: ${at}`), { code: stat.isSymbolicLink() ? 'ELOOP' : 'ENOTDIR' });
        this.ids.set(dir, `${stat.dev}:${stat.ino}`);
        return { base: at, fd: undefined, id: `${stat.dev}:${stat.ino}`, refs: 0 };
      } catch (error) {
        if (errorCode(error) === 'ENOENT' && create && attempt < 3) {
          await this.makeFolder(at, dir);
          continue;
        }
        throw await this.notAFolder(dir, at, error);
      }
    }
  }

  private async makeFolder(at: string, dir: string): Promise<void> {
    try {
      fs.mkdirSync(at);
      this.created.push(dir);
      this.onCreated?.(dir);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw ioError(`create the folder ${this.shown(dir)}`, error);
    }
  }

  private async notAFolder(dir: string, at: string, error: unknown): Promise<Error> {
    let code = errorCode(error);
    // `O_NOFOLLOW | O_DIRECTORY` on a link says ENOTDIR on Linux: tell a link from a file
    if (code === 'ENOTDIR' && (await lstat(at).catch(() => undefined))?.isSymbolicLink()) code = 'ELOOP';
    if (code === 'ELOOP') return new Unreachable(`${this.shown(dir)} is a symbolic link, and writing through it could leave the workspace`);
    if (code === 'ENOTDIR') return new Unreachable(`${this.shown(dir)} is a file, not a folder`);
    if (code === 'ENOENT') return new MissingFolder(`${this.shown(dir)} does not exist`);
    return ioError(`open the folder ${this.shown(dir)}`, error);
  }

  /** Where folders cannot be opened: the root and the folders on the way to `dir` are still the same real folders. */
  private async recheck(dir: string): Promise<void> {
    const base = this.fallbackBase;
    const chain = [''];
    if (dir !== '') dir.split('/').forEach((name, i) => chain.push(i === 0 ? name : `${chain[i]}/${name}`));
    for (const rel of chain) {
      const stat = await (rel === '' ? fs.promises.stat(base) : lstat(path.join(base, ...rel.split('/')))).catch(() => undefined);
      if (!stat?.isDirectory() || `${stat.dev}:${stat.ino}` !== this.ids.get(rel)) {
        throw StateError.invalidState(`The folder ${this.shown(rel)} was replaced while it was being restored; the restore stopped. Check the folder and restore again.`);
      }
    }
  }
}

/** A folder on the way does not exist (a lookup or deletion there has nothing to do). */
class MissingFolder extends Unreachable {}

/** Closes a folder's descriptor (synchronous: it takes microseconds, a thread-pool round trip far more). */
function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed or never valid: nothing to release
  }
}

function split(rel: string): { dir: string; name: string } {
  const at = rel.lastIndexOf('/');
  return at < 0 ? { dir: '', name: rel } : { dir: rel.slice(0, at), name: rel.slice(at + 1) };
}

function movedRoot(root: WorkspaceRoot, real: string | undefined): StateError {
  return movedWorkspaceFolder(root.path, real, root.realPath!);
}
