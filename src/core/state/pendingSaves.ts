import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../documents';
import { describeCause, errorCode } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { isProcessAlive } from '../lock/lockOwner';
import { randomHex } from '../randomHex';
import { pendingSaveHeaderSchema, SCHEMA_VERSION, type PendingSaveHeader } from '../schemas';

/** A save kept on disk by a process that stopped before its point was made. */
export interface PendingSave {
  /** The saved file's absolute path. */
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
  /** When it was saved (ms since the epoch). */
  readonly savedAt: number;
}

/** Saves kept by processes that are gone, claimed by this one (`PendingSaves.claimOrphans`). */
export interface ClaimedSaves {
  /** The newest kept save of each path. */
  readonly saves: readonly PendingSave[];
  /** Their point is made (or none is needed): they are removed. */
  done(): Promise<void>;
}

const RECORD_SUFFIX = '.save';

/**
 * Saves waiting for their point, kept on disk. The editor makes a save's point when its merge window
 * ends; an editor killed in those seconds (a crash, a power cut, the machine put to sleep and never
 * woken) would lose the saved version if the file then changed before the next start (a checkout, a
 * formatter, a pull). Each window keeps the bytes of the saves it waits on in a folder of its own,
 * `<pid>.<random>`, until their point is made; a window that starts takes over the folders of
 * processes that are gone and makes the points they missed.
 *
 * A record is one file: a JSON header line (the path, mode, time, size and SHA-256 of the bytes),
 * then the saved bytes, written atomically.
 */
export class PendingSaves {
  private readonly own: string;
  private count = 0;
  private warned = false;
  /** Folders this process took over: not taken again while it makes their points. */
  private readonly claimed = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly pid = process.pid,
    private readonly logger: Logger = silentLogger,
  ) {
    this.own = path.join(dir, `${pid}.${randomHex(8)}`);
  }

  /** Keeps what a save wrote until `release`; resolves with the record's name (`undefined`: it could not be written, and the save waits in memory only). */
  async keep(file: string, content: Buffer, mode: number, savedAt = Date.now()): Promise<string | undefined> {
    const header: PendingSaveHeader = { schemaVersion: SCHEMA_VERSION, path: file, mode, savedAt, size: content.length, sha256: createHash('sha256').update(content).digest('hex') };
    const record = path.join(this.own, `${++this.count}${RECORD_SUFFIX}`);
    try {
      await ensurePrivateDir(this.own);
      await writeFileAtomic(record, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), content]), { mode: PRIVATE_FILE_MODE });
      return record;
    } catch (error) {
      // said once a window: every save would say it again
      if (!this.warned) this.logger.warn(`Could not keep the save of ${file} on disk until its point is made (${describeCause(error)}): saves wait for their point in memory only.`);
      this.warned = true;
      return undefined;
    }
  }

  /** The saves of these records are in a point (or were saved again): their records are removed. */
  async release(records: Iterable<string | undefined>): Promise<void> {
    for (const record of records) {
      if (record === undefined || path.dirname(record) !== this.own) continue;
      await fs.rm(record, { force: true }).catch((error: unknown) => this.logger.debug(`Could not remove ${record}: ${describeCause(error)}`));
    }
  }

  /** The window closes: its folder goes when no save waits in it. */
  async close(): Promise<void> {
    await fs.rmdir(this.own).catch(() => undefined);
  }

  /**
   * Takes over the kept saves of every process that is gone: its folder is renamed to one of this
   * process first, so that of two windows starting at once only one makes their points, and a window
   * killed while it makes them leaves them to the next.
   */
  async claimOrphans(): Promise<ClaimedSaves> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') this.logger.warn(`Could not look for saves kept by a window that stopped: ${describeCause(error)}`);
      return { saves: [], done: async () => undefined };
    }
    const claimed: string[] = [];
    for (const name of names) {
      const folder = path.join(this.dir, name);
      if (folder === this.own || this.claimed.has(folder)) continue;
      const owner = Number(name.split('.')[0]);
      // a folder of this pid that is not this process's: a process before it that had the same pid
      if (Number.isInteger(owner) && owner > 0 && owner !== this.pid && isProcessAlive(owner)) continue;
      const mine = path.join(this.dir, `${this.pid}.${randomHex(8)}`);
      try {
        await fs.rename(folder, mine);
        this.claimed.add(mine);
        claimed.push(mine);
      } catch (error) {
        // another window took it first
        if (errorCode(error) !== 'ENOENT') this.logger.warn(`Could not take over the saves kept in ${folder}: ${describeCause(error)}`);
      }
    }
    const newest = new Map<string, PendingSave>();
    for (const folder of claimed) {
      for (const save of await this.readFolder(folder)) {
        const other = newest.get(save.path);
        if (!other || other.savedAt <= save.savedAt) newest.set(save.path, save);
      }
    }
    return {
      saves: [...newest.values()],
      done: async () => {
        for (const folder of claimed) {
          await fs.rm(folder, { recursive: true, force: true }).catch((error: unknown) => this.logger.warn(`Could not remove ${folder}: ${describeCause(error)}`));
          this.claimed.delete(folder);
        }
      },
    };
  }

  private async readFolder(folder: string): Promise<PendingSave[]> {
    const saves: PendingSave[] = [];
    let names: string[];
    try {
      names = (await fs.readdir(folder)).filter((name) => name.endsWith(RECORD_SUFFIX));
    } catch (error) {
      this.logger.warn(`Could not read the saves kept in ${folder}: ${describeCause(error)}`);
      return saves;
    }
    for (const name of names) {
      const file = path.join(folder, name);
      try {
        const save = parseRecord(await fs.readFile(file));
        if (save) saves.push(save);
        else this.logger.warn(`The kept save ${file} is damaged (cut short or changed): left out.`);
      } catch (error) {
        this.logger.warn(`Could not read the kept save ${file}: ${describeCause(error)}`);
      }
    }
    return saves;
  }
}

/** A record's save, or `undefined` when it is not whole. */
function parseRecord(bytes: Buffer): PendingSave | undefined {
  const end = bytes.indexOf(0x0a);
  if (end === -1 || end > 16 * 1024) return undefined;
  let header: PendingSaveHeader;
  try {
    const parsed = pendingSaveHeaderSchema.safeParse(JSON.parse(bytes.subarray(0, end).toString('utf8')));
    if (!parsed.success) return undefined;
    header = parsed.data;
  } catch {
    return undefined;
  }
  const content = bytes.subarray(end + 1);
  if (content.length !== header.size || createHash('sha256').update(content).digest('hex') !== header.sha256) return undefined;
  return { path: header.path, content: Buffer.from(content), mode: header.mode, savedAt: header.savedAt };
}
