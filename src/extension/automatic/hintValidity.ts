import type { Log } from '../log';

/** Hints save a full walk; a full scan still runs this often, catching anything a watcher missed. */
const FULL_SCAN_INTERVAL_MS = 10 * 60_000;

/**
 * Whether the extension can prove it saw every change since the last full scan, so that a point may
 * look only at the paths the save tracker and the file watcher reported (hints). Any gap — automatic
 * points or one of their triggers off, a failed point, our own restore writing, settings that change
 * which files are captured, the watchers recreated, the window just opened — makes the next point a
 * full scan; only a full scan that ran entirely after the last gap closes it.
 */
export class HintValidity {
  private gap: string | undefined = 'the window has just opened (files may have changed while it was closed)';
  private generation = 0;
  private lastFullScan = 0;

  constructor(private readonly log: Log) {}

  /** A change may have gone unseen: the next point scans everything. */
  invalidate(reason: string): void {
    this.generation++;
    if (this.gap === undefined) this.log.info('capture', `The next point checks every file: ${reason}.`);
    this.gap = reason;
  }

  /** Why the next point must scan everything; `undefined` while the hints are complete. */
  get reason(): string | undefined {
    if (this.gap !== undefined) return this.gap;
    if (Date.now() - this.lastFullScan > FULL_SCAN_INTERVAL_MS) return 'ten minutes since the last full check';
    return undefined;
  }

  /** Taken before a capture starts, for `fullScanDone`. */
  token(): number {
    return this.generation;
  }

  /** A full scan that started at `token` succeeded: the hints are complete again, unless a gap opened while it ran. */
  fullScanDone(token: number): void {
    this.lastFullScan = Date.now();
    if (token === this.generation) this.gap = undefined;
  }

  /** `paths` when they are known to be every change since the newest point, else `undefined` (a full check is needed). */
  takeHints<T>(paths: T): T | undefined {
    return this.reason === undefined ? paths : undefined;
  }
}
