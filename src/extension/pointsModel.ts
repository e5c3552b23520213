import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { describeCause, pointIdTime, storeBytesBesidePacks, type PointSummary, type RecoveryStore } from '../core';
import type { Log } from './log';

/** How long the size of the store's folder besides its packs is taken as known. */
const BESIDE_PACKS_MS = 60_000;

/**
 * The list of points the views show, refreshed after our own writes and when another window or the
 * command-line tool changes the store (a watch on the points folder, and when the window gets focus).
 */
export class PointsModel implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private current: readonly PointSummary[] = [];
  private bytes: number | undefined;
  private besidePacks = { bytes: 0, at: 0 };
  private refreshing: (Promise<void> & { readonly listed: Promise<void> }) | undefined;
  private again = false;
  private readonly disposables: vscode.Disposable[] = [];
  private watchTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: RecoveryStore,
    private readonly log: Log,
  ) {
    try {
      const watcher = fs.watch(store.persistence.layout.pointsDir, () => {
        clearTimeout(this.watchTimer);
        this.watchTimer = setTimeout(() => void this.refresh(), 300);
      });
      watcher.on('error', () => undefined);
      this.disposables.push({ dispose: () => watcher.close() });
    } catch (error) {
      log.debug('view', `no watch on the points folder: ${describeCause(error)}`);
    }
    vscode.window.onDidChangeWindowState((state) => state.focused && void this.refresh(), undefined, this.disposables);
  }

  get points(): readonly PointSummary[] {
    return this.current;
  }

  /** The store's size on disk; `undefined` until the first listing has measured it. */
  get storeBytes(): number | undefined {
    return this.bytes;
  }

  find(id: string): PointSummary | undefined {
    return this.current.find((p) => p.id === id);
  }

  /** The id and creation time of the point `id` (what a time shown for it comes from); a point no longer listed is timed by its id. */
  timed(id: string): Pick<PointSummary, 'id' | 'createdAt'> {
    return this.find(id) ?? { id, createdAt: new Date(pointIdTime(id)).toISOString() };
  }

  /**
   * Reloads the list and then the store's size; concurrent calls coalesce into one extra run.
   * `listed` resolves as soon as the points are listed (what activation waits for).
   */
  refresh(): Promise<void> & { readonly listed: Promise<void> } {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    let markListed!: () => void;
    const listed = new Promise<void>((resolve) => (markListed = resolve));
    const run = (async () => {
      do {
        this.again = false;
        try {
          const listedPoints = await this.store.recovery.listRecoveryPoints();
          // A point shown against another than its parent (clean-up removed that) is counted again
          // (listShownPoints); at the first listing the points are shown as listed meanwhile, so
          // activation does not wait for those comparisons.
          if (this.current.length === 0) {
            this.show(listedPoints);
            markListed();
          }
          this.show(await this.store.recovery.listShownPoints(listedPoints));
          markListed();
          // The points first: the store's size needs its object index opened, which can wait.
          const objects = await this.store.persistence.objects();
          await objects.refresh();
          // the rest of the store's folder (manifests, caches, logs) is walked at most once a minute
          if (Date.now() - this.besidePacks.at > BESIDE_PACKS_MS) this.besidePacks = { bytes: await storeBytesBesidePacks(this.store.persistence.layout), at: Date.now() };
          const bytes = objects.stats().diskBytes + this.besidePacks.bytes;
          if (bytes !== this.bytes) {
            this.bytes = bytes;
            this.changed.fire();
          }
        } catch (error) {
          this.log.error('view', `Could not list recovery points: ${describeCause(error)}`, error);
        }
      } while (this.again);
    })().finally(() => {
      markListed();
      this.refreshing = undefined;
    });
    this.refreshing = Object.assign(run, { listed });
    return this.refreshing;
  }

  /** Shows `points` when they differ from what is shown (true then). */
  private show(points: readonly PointSummary[]): boolean {
    const changed = points.length !== this.current.length || points.some((p, i) => p !== this.current[i] && JSON.stringify(p) !== JSON.stringify(this.current[i]));
    if (!changed) return false;
    this.current = points;
    this.changed.fire();
    return true;
  }

  dispose(): void {
    clearTimeout(this.watchTimer);
    this.changed.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
