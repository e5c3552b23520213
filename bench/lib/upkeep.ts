import type { RecoveryStore } from '../../src/core/index';

/** `CLEANUP_EVERY` in src/extension/automatic/autoCapture.ts: the extension cleans up after every 25 of its points. */
const POINTS_PER_CLEANUP = 25;

/**
 * The clean-up the extension runs after every 25 points (in the background), run here untimed and
 * waited for, as git's automatic gc is: without it the benchmark's store grew to a pack per point
 * (143 at 10k files), which no store the extension keeps ever holds.
 */
export class OursUpkeep {
  runs = 0;
  ms = 0;
  private listedAfterLast: number | undefined;

  constructor(private readonly store: RecoveryStore) {}

  /** Cleans up when 25 points (any writer's: the hooks' too) were added since the last clean-up. */
  async due(): Promise<void> {
    const listed = (await this.store.recovery.listRecoveryPoints()).length;
    this.listedAfterLast ??= listed;
    if (listed - this.listedAfterLast < POINTS_PER_CLEANUP) return;
    const started = performance.now();
    await this.store.recovery.cleanupRecoveryPoints();
    this.ms += performance.now() - started;
    this.runs++;
    this.listedAfterLast = (await this.store.recovery.listRecoveryPoints()).length;
  }
}
