import { RecoveryStore, type OpenStoreOptions } from '../../core/recoveryStore';
import type { HookStores } from '../runHook';

interface Kept {
  readonly store: Promise<RecoveryStore>;
  /** The last point's work on this store: the next waits for it. */
  queue: Promise<unknown>;
}

/**
 * The resident helper's stores: each opened at its first hook and kept open, so the next hook's point
 * finds the pack indexes, the capture cache and the listing in memory (the store's lock and its
 * checks of what other writers did since are the same as for an editor that stays open). One hook's
 * point at a time per store; a store whose work failed is closed and opened afresh next time.
 */
export class KeptStores implements HookStores {
  private readonly kept = new Map<string, Kept>();

  use<T>(options: OpenStoreOptions, work: (store: RecoveryStore) => Promise<T>): Promise<T> {
    const key = JSON.stringify([options.storeDir, options.roots, options.actor, options.lockWaitMs]);
    let entry = this.kept.get(key);
    if (!entry) {
      const store = RecoveryStore.open(options);
      entry = { store, queue: store };
      this.kept.set(key, entry);
    }
    const kept = entry;
    // a store dropped while this waited (its open or a point failed): the work goes to a fresh one
    const run = kept.queue.then(() => (this.kept.get(key) === kept ? kept.store.then(work) : this.use(options, work)));
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
