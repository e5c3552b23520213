import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeCause } from '../../core';
import type { Log } from '../log';

/** More folders than this are not watched this way (each takes one of the user's inotify watches, which VS Code's own watcher needs too); the periodic full check still finds their changes. */
const MAX_FOLDERS = 500;

/**
 * Watches, one by one, the folders below a folder the workspace watcher reported made. On Linux, VS
 * Code's file watcher (@parcel/watcher, inotify) starts watching a new folder only once it hears of it:
 * the folders made inside it before that (`mkdir -p .clinerules/hooks`, a tool writing a tree) are never
 * watched, and every later edit below them goes unreported (parcel-bundler/watcher#97). Their events
 * reach `onEvent` as the workspace watcher's do; a folder made in a watched one is watched too.
 */
export class NewFolderWatches {
  private readonly watches = new Map<string, fs.FSWatcher>();
  private warned = false;
  private disposed = false;

  constructor(
    private readonly onEvent: (file: string) => void,
    /** Folders never watched (those points always leave out: `.git`, `node_modules`). */
    private readonly skip: (folder: string) => boolean,
    private readonly log: Log,
    private readonly enabled = process.platform === 'linux',
  ) {}

  /** The workspace watcher reported `file` made: when it is a folder, the folders below it are watched. */
  created(file: string): void {
    if (this.enabled) void this.follow(file, false);
  }

  private async follow(folder: string, self: boolean): Promise<void> {
    if (this.disposed || this.skip(folder)) return;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(folder, { withFileTypes: true });
    } catch {
      return; // a file, or gone already
    }
    if (self) this.watch(folder);
    for (const entry of entries) if (entry.isDirectory()) await this.follow(path.join(folder, entry.name), true);
  }

  private watch(folder: string): void {
    if (this.disposed || this.watches.has(folder)) return;
    if (this.watches.size >= MAX_FOLDERS) {
      if (!this.warned) this.log.warn('capture', `Over ${MAX_FOLDERS} new folders are watched one by one: changes in more are found by the periodic full check (fullCheckMinutes).`);
      this.warned = true;
      return;
    }
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(folder, { persistent: false }, (_event, name) => {
        if (!fs.existsSync(folder)) return this.unwatch(folder);
        if (!name) return this.onEvent(folder);
        const file = path.join(folder, name.toString());
        this.onEvent(file);
        void this.follow(file, true);
      });
    } catch (error) {
      this.log.debug('capture', `Could not watch the new folder ${folder}: ${describeCause(error)}`);
      return;
    }
    watcher.on('error', () => this.unwatch(folder));
    this.watches.set(folder, watcher);
    // what it held before the watch began: its folder is listed by the next point
    this.onEvent(folder);
  }

  private unwatch(folder: string): void {
    this.watches.get(folder)?.close();
    this.watches.delete(folder);
  }

  dispose(): void {
    this.disposed = true;
    for (const watcher of this.watches.values()) watcher.close();
    this.watches.clear();
  }
}
