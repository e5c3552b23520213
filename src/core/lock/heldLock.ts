/** A lock this process took, in whichever form (`folderLock.ts`, `linkedLock.ts`). */
export interface HeldLock {
  /** 2: the store lock of a store in format 2 (`writer.lock`); 1: a lock folder. */
  readonly format: 1 | 2;
  /** Whether the lock is still this process's (a takeover from another machine may have taken it). */
  stillMine(): boolean;
  /** Marks the lock fresh, for other machines and older versions, which judge a lock by its age. */
  refresh(): void;
  /** Lets go of the lock; false when it was no longer this process's. */
  release(): boolean;
}

/** One attempt to take a lock: the lock when taken; `undefined` when another holds it; `changed` when the store's format changed under the attempt (try again). */
export type TakeResult = HeldLock | undefined | 'changed';

/** What is known of a lock another process may hold. */
export interface LockSeen {
  /** Whether another process may take it now: its owner is provably dead, or it is stale. */
  readonly takeable: boolean;
}
