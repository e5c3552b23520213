import type { GcResult, ObjectStore } from '../objects/objectStore';
import { collectReachable, extendReachable } from './reachability';

/**
 * Runs `work` holding the store lock, with the root trees of the points listed at that moment. The
 * lock is released when `work` settles.
 */
export type UnderLock = <T>(work: (roots: readonly string[]) => Promise<T>) => Promise<T>;

/** The points and packs a collection starts from, both taken under the store lock at one moment. */
export interface CollectionStart {
  readonly roots: readonly string[];
  /** The packs that existed then: only these may be dropped (a pack written later belongs to a newer point). */
  readonly packs: readonly string[];
}

/**
 * Garbage collection that holds the store lock only in short slices, so points are made while it
 * runs. Without the lock: marking what `start.roots` reach, planning, and writing the new pack (it
 * only duplicates objects). Then, one pack at a time under the lock: the points made since are
 * marked too (their new trees only: a tree already marked has everything below it marked), and the
 * pack is deleted unless an object live now would go with it (a new point may reuse an object the
 * first mark found dead: that pack stays, for the next collection). Between two packs the lock is free.
 */
export async function collectInSlices(objects: ObjectStore, start: CollectionStart, underLock: UnderLock, options: { repack?: 'auto' | 'all' } = {}): Promise<GcResult> {
  const live = await collectReachable(objects, start.roots);
  const marked = new Set(start.roots);
  const plan = await objects.planCollection(live, { repack: options.repack, among: new Set(start.packs) });
  const written = await objects.writeRepack(plan);
  /** Objects found live after the plan was made. */
  const added: string[] = [];
  let removedObjects = 0;
  let freedBytes = 0;
  for (const name of plan.drop) {
    const dropped = await underLock(async (roots) => {
      for (const root of roots) {
        if (marked.has(root)) continue;
        for (const hash of await extendReachable(objects, root, live)) added.push(hash);
        marked.add(root);
      }
      return objects.dropPack(name, { live, relyOn: written.relyOn, added });
    });
    if (!dropped) continue;
    removedObjects += plan.dead.get(name)!.objects;
    freedBytes += plan.dead.get(name)!.bytes;
  }
  return { removedObjects, freedBytes, mergedPacks: written.pack ? plan.rewrite.length : 0, recompressed: written.recompressed };
}
