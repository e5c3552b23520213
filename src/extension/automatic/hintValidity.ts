import type { Log } from '../log';

/** Hints save a full walk; a point still scans every file when the last full scan is older than this (`fullCheckMinutes`, or 10 when it is 0). */
const DEFAULT_FULL_SCAN_INTERVAL_MS = 10 * 60_000;

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
  private lastFullScanAt = 0;

  constructor(
    private readonly log: Log,
    /** `fullCheckMinutes` in milliseconds (0: no periodic check). */
    private readonly interval: () => number,
  ) {}

  /** When the last full scan ended (0: none yet). */
  get lastFullScan(): number {
    return this.lastFullScanAt;
  }

  /** A change may have gone unseen: the next point scans everything. */
  invalidate(reason: string): void {
    this.generation++;
    if (this.gap === undefined) this.log.info('capture', `The next point checks every file: ${reason}.`);
    this.gap = reason;
  }

  /** Why the next point must scan everything; `undefined` while the hints are complete. */
  get reason(): string | undefined {
    if (this.gap !== undefined) return this.gap;
    const interval = this.interval() || DEFAULT_FULL_SCAN_INTERVAL_MS;
    if (Date.now() - this.lastFullScanAt > interval) return `${formatMinutes(interval)} since the last full check`;
    return undefined;
  }

  /** Taken before a capture starts, for `fullScanDone`. */
  token(): number {
    return this.generation;
  }

  /** A full scan that started at `token` succeeded: the hints are complete again, unless a gap opened while it ran. */
  fullScanDone(token: number): void {
    this.lastFullScanAt = Date.now();
    if (token === this.generation) this.gap = undefined;
  }

  /** `paths` when they are known to be every change since the newest point, else `undefined` (a full check is needed). */
  takeHints<T>(paths: T): T | undefined {
    return this.reason === undefined ? paths : undefined;
  }
}

function formatMinutes(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 1) return `${Math.round(ms / 1000)} s`;
  return `${Number(minutes.toFixed(1))} minute${minutes === 1 ? '' : 's'}`;
}
