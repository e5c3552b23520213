import * as fs from 'node:fs/promises';
import type { PendingSaves, SavedContent } from '../../core';

/** A saved file larger than this is read from disk when its point is made, as before. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** All saves waiting for their point together keep at most this much. */
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

interface Kept extends SavedContent {
  readonly size: number;
  /** Where `PendingSaves` keeps it on disk until its point is made. */
  readonly record?: string;
}

/** The saves a point is about to hold, taken from those waiting. */
export interface TakenSaves {
  /** The saved bytes of the files the disk no longer holds as saved, by path. */
  readonly changed: ReadonlyMap<string, SavedContent>;
  /** Their point is made: what was kept on disk for them goes. */
  release(): Promise<void>;
}

/**
 * What each save waiting for its point wrote, read right after the save. The save's point is made
 * when the merge window ends; a checkout, a reset or a clean in those seconds would otherwise leave
 * the saved version in no point, and name what the disk then holds after the save. The point is given
 * the saved bytes of the files the disk no longer holds as saved (`take`). Each is also kept on disk
 * (`PendingSaves`) until its point is made, for the next start should the editor be killed first.
 */
export class SavedVersions {
  private readonly kept = new Map<string, Promise<Kept | undefined>>();
  private total = 0;
  /** Readings begun before a `clear` count for nothing after it. */
  private generation = 0;

  /** `onDisk`: whether a save of that file may be kept on disk (not one points leave out as holding secrets). */
  constructor(
    private readonly pending?: PendingSaves,
    private readonly onDisk: (file: string) => boolean = () => true,
  ) {}

  /** Reads `file` as just saved (a later save of it replaces what was kept). */
  keep(file: string): void {
    const previous = this.kept.get(file);
    const generation = this.generation;
    const reading = (async (): Promise<Kept | undefined> => {
      const gone = await previous;
      if (gone && generation === this.generation) this.total -= gone.size;
      try {
        const stat = await fs.lstat(file);
        if (!stat.isFile() || stat.size > MAX_FILE_BYTES || this.total + stat.size > MAX_TOTAL_BYTES) return undefined;
        const content = await fs.readFile(file);
        if (generation !== this.generation) return undefined;
        this.total += content.length;
        return { content, mode: stat.mode, size: content.length, record: this.onDisk(file) ? await this.pending?.keep(file, content, stat.mode) : undefined };
      } catch {
        return undefined;
      } finally {
        // the save before this one is superseded, whether or not this one could be kept
        if (gone?.record) await this.pending?.release([gone.record]);
      }
    })();
    this.kept.set(file, reading);
  }

  /** Takes what was kept of every one of `files`, for their point. */
  async take(files: readonly string[]): Promise<TakenSaves> {
    const changed = new Map<string, SavedContent>();
    const records: Array<string | undefined> = [];
    for (const file of files) {
      const reading = this.kept.get(file);
      if (!reading) continue;
      this.kept.delete(file);
      const kept = await reading;
      if (!kept) continue;
      this.total -= kept.size;
      records.push(kept.record);
      if (!(await holds(file, kept.content))) changed.set(file, { content: kept.content, mode: kept.mode });
    }
    return { changed, release: () => this.pending?.release(records) ?? Promise.resolve() };
  }

  clear(): void {
    this.kept.clear();
    this.total = 0;
    this.generation++;
  }
}

/** Whether `file` on disk is a file with exactly `content`. */
export async function holds(file: string, content: Buffer): Promise<boolean> {
  try {
    const stat = await fs.lstat(file);
    if (!stat.isFile() || stat.size !== content.length) return false;
    return (await fs.readFile(file)).equals(content);
  } catch {
    return false;
  }
}
