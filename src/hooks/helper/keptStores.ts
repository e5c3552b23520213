import type { Logger } from '../../core/logger';
import { RecoveryStore, type OpenStoreOptions } from '../../core/recoveryStore';
import type { StoreUse } from '../../cli/storeUse';

interface Kept {
  readonly store: Promise<RecoveryStore>;
  /** The last piece of work on this store: the next waits for it. */
  queue: Promise<unknown>;
  /** What the store logs goes to the logger of the work running on it (a command's, to its own client). */
  readonly relay: RelayLogger;
}

/**
 * The resident helper's stores: each opened at its first hook or command and kept open, so the next
 * one's point finds the pack indexes, the capture cache and the listing in memory (the store's lock and
 * its checks of what other writers did since are the same as for an editor that stays open). One piece
 * of work at a time per store; a store whose work failed is closed and opened afresh next time.
 */
export class KeptStores implements StoreUse {
  private readonly kept = new Map<string, Kept>();

  use<T>(options: OpenStoreOptions, work: (store: RecoveryStore) => Promise<T>): Promise<T> {
    const key = JSON.stringify([options.storeDir, options.roots, options.actor, options.lockWaitMs, options.captureProcess]);
    let entry = this.kept.get(key);
    if (!entry) {
      const relay = new RelayLogger();
      relay.to = options.logger;
      const store = RecoveryStore.open({ ...options, logger: relay });
      entry = { store, queue: store, relay };
      this.kept.set(key, entry);
    }
    const kept = entry;
    const logged = async (store: RecoveryStore) => {
      kept.relay.to = options.logger;
      try {
        return await work(store);
      } finally {
        kept.relay.to = undefined;
      }
    };
    // a store dropped while this waited (its open or a point failed): the work goes to a fresh one
    const run = kept.queue.then(() => (this.kept.get(key) === kept ? kept.store.then(logged) : this.use(options, work)));
    kept.queue = run.then(
      () => undefined,
      async () => {
        if (this.kept.get(key) !== kept) return;
        this.kept.delete(key);
        await (await kept.store.catch(() => undefined))?.close().catch(() => undefined);
      },
    );
    return run;
  }

  async closeAll(): Promise<void> {
    const entries = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(
      entries.map(async (entry) => {
        await entry.queue.catch(() => undefined);
        const store = await entry.store.catch(() => undefined);
        await store?.close().catch(() => undefined);
      }),
    );
  }
}

/** A logger that passes each message to the logger of the work in hand; between two, to none. */
class RelayLogger implements Logger {
  to: Logger | undefined;
  debug(message: string): void {
    this.to?.debug(message);
  }
  info(message: string): void {
    this.to?.info(message);
  }
  warn(message: string): void {
    this.to?.warn(message);
  }
  error(message: string, error?: unknown): void {
    this.to?.error(message, error);
  }
}
