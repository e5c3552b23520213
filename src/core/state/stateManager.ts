import { StateError } from '../errors';
import { Emitter, type Disposable, type Event } from '../events';
import { emptyContextState, type ContextState } from '../schemas';
import type { Hold } from '../lock/storeLock';
import type { PersistenceManager } from './persistenceManager';
import { mergeStatePatch, patchBetween, type StatePatch } from './stateMerge';

export interface StateChange {
  readonly state: ContextState;
  /** `local` for this manager's updates, `disk` for changes another writer made, found by `syncState`. */
  readonly origin: 'local' | 'disk' | 'recovered';
}

/**
 * The current ContextState, cached in memory (the spec's StateManager). Every update is a
 * read-modify-write of the state file under the store lock, so writers in this process and in other
 * processes never interleave; a writer whose cached version is stale merges (see `mergeStatePatch`).
 * `within`, on each: the caller's hold of the store lock.
 */
export class StateManager {
  private cached: ContextState | undefined;
  private readonly changed = new Emitter<StateChange>();
  private readonly warned = new Emitter<string>();
  readonly onDidChangeState: Event<StateChange> = this.changed.event;
  /** Things a person should be told about, such as a damaged state file that was recovered. */
  readonly onWarning: Event<string> = this.warned.event;

  private readonly remade: Disposable;

  constructor(private readonly repository: PersistenceManager) {
    // the state in memory was the removed store's: the new one's is read afresh
    this.remade = repository.onStoreRemade((message) => {
      this.cached = undefined;
      this.warned.fire(message);
    });
  }

  /** A copy of the current state: changing it changes nothing until it is passed to `updateState`. */
  async getState(within?: Hold): Promise<ContextState> {
    if (this.cached) return structuredClone(this.cached);
    return this.repository.lock.run(async (hold) => {
      this.cached ??= await this.loadOrRecover(hold);
      return structuredClone(this.cached);
    }, { within });
  }

  /** Updates the whole state (the spec's form) or applies a partial update; returns the state as saved. */
  async updateState(update: ContextState | StatePatch, within?: Hold): Promise<ContextState> {
    return this.repository.lock.run(async (hold) => {
      const base = this.cached;
      const patch = isWholeState(update) ? patchBetween(base ?? emptyContextState(this.repository.actor), update) : update;
      const current = await this.loadOrRecover(hold);
      const { state, conflicts } = mergeStatePatch(current, base, patch, this.repository.actor);
      await this.repository.saveState(state);
      for (const conflict of conflicts) {
        await this.repository.audit.append({ action: 'conflict', details: { key: conflict.key, kept: conflict.kept, otherWriter: current.updatedBy } });
      }
      const keys = Object.keys(patch.data ?? {});
      // The editor session changes with every tab switch; only changes of the extension's data are audited.
      if (keys.length > 0 || patch.lastRestore !== undefined) {
        await this.repository.audit.append({ action: 'state', details: { version: state.version, keys, lastRestore: patch.lastRestore !== undefined } });
      }
      this.cached = state;
      this.changed.fire({ state: structuredClone(state), origin: 'local' });
      return structuredClone(state);
    }, { within });
  }

  /**
   * A point was created: the newest point's id is derived from the points, so it changes in memory
   * only, without a write of the state file on the save path. It is written with the next real update.
   */
  noteNewestPoint(id: string): void {
    if (this.cached) this.cached = { ...this.cached, newestPointId: id };
  }

  /** Reloads the state from disk, picking up other writers' changes; fires a change event when there were any. */
  async syncState(within?: Hold): Promise<ContextState> {
    return this.repository.lock.run(async (hold) => {
      const previous = this.cached;
      const state = await this.loadOrRecover(hold);
      this.cached = state;
      if (!previous || previous.version !== state.version || previous.updatedAt !== state.updatedAt) this.changed.fire({ state: structuredClone(state), origin: 'disk' });
      return structuredClone(state);
    }, { within });
  }

  dispose(): void {
    this.remade.dispose();
    this.changed.dispose();
    this.warned.dispose();
  }

  /**
   * The state file, or a fresh state when there is none and no point either. A corrupt or invalid state
   * file is moved to quarantine, and a corrupt or lost one is rebuilt from the newest point that can be
   * read (points capture the state). Caller holds the lock (`hold`).
   */
  private async loadOrRecover(hold: Hold): Promise<ContextState> {
    let problem: string;
    let quarantined: string | undefined;
    try {
      const loaded = await this.repository.loadState();
      // only the newest point's id is taken from it
      const points = await this.repository.listSnapshots({ deletesNothing: true, hold });
      if (loaded) return { ...loaded, newestPointId: points[0]?.id ?? null };
      if (points.length === 0) {
        // A new store: write the state now, so a point created next is never mistaken for a lost state file.
        const fresh = emptyContextState(this.repository.actor);
        await this.repository.saveState(fresh);
        return fresh;
      }
      problem = 'The recovery state file was missing although recovery points exist.';
    } catch (error) {
      if (!(error instanceof StateError) || error.kind !== 'InvalidState') throw error;
      quarantined = await this.repository.quarantineState(error.message);
      problem = `The recovery state file was damaged (${error.message}) It was moved to ${quarantined}.`;
    }
    const points = await this.repository.listSnapshots({ hold });
    let recovered = emptyContextState(this.repository.actor);
    let from: string | undefined;
    for (const point of points) {
      try {
        const snapshot = await this.repository.loadSnapshot(point.id);
        if (!snapshot) continue;
        recovered = snapshot.state;
        from = point.id;
        break;
      } catch {
        // try the next older point
      }
    }
    const state: ContextState = {
      ...recovered,
      version: recovered.version + 1,
      updatedAt: new Date().toISOString(),
      updatedBy: this.repository.actor,
      newestPointId: points[0]?.id ?? null,
    };
    await this.repository.saveState(state);
    await this.repository.audit.append({ action: 'recover-state', pointId: from, details: { quarantined: quarantined ?? null, reason: problem } });
    const message = `${problem} The state was rebuilt from ${from ? `recovery point ${from}` : 'scratch (no readable point)'}.`;
    this.repository.logger.warn(message);
    this.warned.fire(message);
    this.changed.fire({ state: structuredClone(state), origin: 'recovered' });
    return state;
  }
}

function isWholeState(update: ContextState | StatePatch): update is ContextState {
  return 'schemaVersion' in update && 'version' in update;
}
