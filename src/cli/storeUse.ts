import { RecoveryStore, type OpenStoreOptions } from '../core/recoveryStore';

/** Opens a store for one command's or hook's work and lets go of it after, or keeps it for the next (the resident helper's `KeptStores`). */
export interface StoreUse {
  use<T>(options: OpenStoreOptions, work: (store: RecoveryStore) => Promise<T>): Promise<T>;
}

/** A process that does one piece of work: opens the store, closes it after. */
export const STORE_PER_RUN: StoreUse = {
  async use(options, work) {
    const store = await RecoveryStore.open(options);
    try {
      return await work(store);
    } finally {
      await store.close().catch(() => undefined);
    }
  },
};
