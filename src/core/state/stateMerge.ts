import { isDeepStrictEqual } from 'node:util';
import type { ConflictRecord, ContextState, EditorSession, JsonValue, LastRestore } from '../schemas';

/** A partial update: keys of `data` set to `undefined` are removed. */
export interface StatePatch {
  readonly data?: Readonly<Record<string, JsonValue | undefined>>;
  readonly session?: EditorSession;
  readonly newestPointId?: string | null;
  readonly lastRestore?: LastRestore | null;
}

const MAX_CONFLICTS = 20;

/** The patch that turns `base` into `target`: what a caller of the spec's whole-state `updateState` changed. */
export function patchBetween(base: ContextState, target: ContextState): StatePatch {
  const data: Record<string, JsonValue | undefined> = {};
  for (const key of new Set([...Object.keys(base.data), ...Object.keys(target.data)])) {
    if (!isDeepStrictEqual(base.data[key], target.data[key])) data[key] = target.data[key];
  }
  return {
    data,
    ...(isDeepStrictEqual(base.session, target.session) ? {} : { session: target.session }),
    ...(base.newestPointId === target.newestPointId ? {} : { newestPointId: target.newestPointId }),
    ...(isDeepStrictEqual(base.lastRestore, target.lastRestore) ? {} : { lastRestore: target.lastRestore }),
  };
}

/**
 * Applies `patch`, made against `base` (the version this writer last saw), to `current` (the state on disk now).
 *
 * Merge rule: a key only this writer changed takes this writer's value; a key only the other writer
 * changed keeps theirs (it is simply not in the patch); a key both changed to different values takes
 * this writer's value — the later write wins — and is recorded as a conflict, in the state and the audit log.
 * The editor session belongs to the window that writes it and is not merged key by key.
 */
export function mergeStatePatch(
  current: ContextState,
  base: ContextState | undefined,
  patch: StatePatch,
  actor: string,
  now = new Date(),
): { state: ContextState; conflicts: ConflictRecord[] } {
  const stale = base !== undefined && base.version !== current.version;
  const conflicts: ConflictRecord[] = [];
  const data: Record<string, JsonValue> = { ...current.data };
  for (const [key, value] of Object.entries(patch.data ?? {})) {
    if (stale && !isDeepStrictEqual(current.data[key], base!.data[key]) && !isDeepStrictEqual(current.data[key], value)) {
      conflicts.push({ key, at: now.toISOString(), actor, kept: 'ours' });
    }
    if (value === undefined) delete data[key];
    else data[key] = value;
  }
  const state: ContextState = {
    ...current,
    version: current.version + 1,
    updatedAt: now.toISOString(),
    updatedBy: actor,
    data,
    session: patch.session ?? current.session,
    newestPointId: patch.newestPointId !== undefined ? patch.newestPointId : current.newestPointId,
    lastRestore: patch.lastRestore !== undefined ? patch.lastRestore : current.lastRestore,
    conflicts: [...current.conflicts, ...conflicts].slice(-MAX_CONFLICTS),
  };
  return { state, conflicts };
}
