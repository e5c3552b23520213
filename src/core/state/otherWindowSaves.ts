import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ensurePrivateDir, readDocument, writeDocument } from '../documents';
import { describeCause } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { recentSavesDocument, SCHEMA_VERSION, type RecentSaves } from '../schemas';

/** How long a save is remembered: longer than the quiet time before another window records a change on disk. */
const REMEMBER_MS = 2 * 60_000;
/** A window's document not written for this long belongs to a window long closed. */
const FORGET_WINDOW_MS = 24 * 60 * 60_000;

/**
 * Saves shared between the windows of one folder (they share the store). Each window writes the files
 * it saved, with the size and modification time each save left, to a document of its own; another
 * window's file watcher then reports the change, and that window looks here: a file whose size and
 * modification time are exactly those another window's save left was saved in that window, not
 * changed outside the editor. A later write by any other program changes the modification time, so
 * it is never taken for the save.
 */
export class OtherWindowSaves {
  private readonly file: string;
  private saves: RecentSaves['saves'] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly actor: string,
    private readonly logger: Logger = silentLogger,
  ) {
    this.file = path.join(dir, `${actor.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  }

  /** Records files this window saved (absolute paths), with the stamp each save left. */
  record(files: ReadonlyArray<{ path: string; size: number; mtimeMs: number }>, now = Date.now()): Promise<void> {
    const saved = new Set(files.map((f) => f.path));
    this.saves = [...this.saves.filter((s) => now - s.at < REMEMBER_MS && !saved.has(s.path)), ...files.map((f) => ({ ...f, at: now }))].slice(-1000);
    const document: RecentSaves = { schemaVersion: SCHEMA_VERSION, actor: this.actor, saves: this.saves };
    this.writing = this.writing
      .then(async () => {
        await ensurePrivateDir(this.dir);
        await writeDocument(this.file, recentSavesDocument, document, { durable: false });
      })
      .catch((error: unknown) => this.logger.debug(`Could not record this window's saves: ${describeCause(error)}`));
    return this.writing;
  }

  /** Of `files` (absolute paths), those whose current size and modification time are what a save in another window left. */
  async savedElsewhere(files: readonly string[], now = Date.now()): Promise<Set<string>> {
    const found = new Set<string>();
    let names: string[];
    try {
      names = (await fs.readdir(this.dir)).filter((name) => name.endsWith('.json') && path.join(this.dir, name) !== this.file);
    } catch {
      return found;
    }
    const stamps = new Map<string, Array<{ size: number; mtimeMs: number }>>();
    for (const name of names) {
      try {
        // the document of a window closed long ago: removed, so the folder does not grow with every window
        if (now - (await fs.stat(path.join(this.dir, name))).mtimeMs > FORGET_WINDOW_MS) {
          await fs.rm(path.join(this.dir, name), { force: true });
          continue;
        }
        const document = await readDocument(path.join(this.dir, name), recentSavesDocument);
        for (const save of document?.saves ?? []) {
          if (now - save.at > REMEMBER_MS) continue;
          stamps.set(save.path, [...(stamps.get(save.path) ?? []), save]);
        }
      } catch (error) {
        this.logger.debug(`Another window's saves (${name}) cannot be read: ${describeCause(error)}`);
      }
    }
    for (const file of files) {
      const candidates = stamps.get(file);
      if (!candidates) continue;
      try {
        const stat = await fs.stat(file);
        if (candidates.some((c) => c.size === stat.size && c.mtimeMs === stat.mtimeMs)) found.add(file);
      } catch {
        // gone since: not a save
      }
    }
    return found;
  }
}
