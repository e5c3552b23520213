import type { ObjectReader } from '../objects/objectStore';
import { TimeSlices } from '../timeSlices';

/**
 * Walks the trees of the given root hashes (in order) and collects every object they reference.
 * Shared subtrees are visited once. `onFirstSeen` tells which root first needed each object — for the
 * size limit, which needs the store size of keeping the newest N points. A missing or damaged tree throws.
 * Gives the event loop a turn every few milliseconds (trees read from the cache take no I/O).
 */
export async function collectReachable(
  objects: ObjectReader,
  roots: readonly string[],
  onFirstSeen?: (hash: string, rootIndex: number) => void,
): Promise<Set<string>> {
  const reachable = new Set<string>();
  const slices = new TimeSlices();
  for (let i = 0; i < roots.length; i++) {
    const stack = [roots[i]!];
    while (stack.length > 0) {
      const treeHash = stack.pop()!;
      if (reachable.has(treeHash)) continue;
      if (slices.due) await slices.pause();
      const tree = await objects.readTree(treeHash);
      reachable.add(treeHash);
      onFirstSeen?.(treeHash, i);
      for (const [, kind, hash] of tree.e) {
        if (kind === 'd') stack.push(hash);
        else if (!reachable.has(hash)) {
          reachable.add(hash);
          onFirstSeen?.(hash, i);
        }
      }
    }
  }
  return reachable;
}

/**
 * Adds to `reachable` (a set `collectReachable` made, or this extended) what `root` reaches beyond it,
 * and returns what it added. A tree already in the set is not read: everything below it is there.
 */
export async function extendReachable(objects: ObjectReader, root: string, reachable: Set<string>): Promise<string[]> {
  const added: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const treeHash = stack.pop()!;
    if (reachable.has(treeHash)) continue;
    const tree = await objects.readTree(treeHash);
    reachable.add(treeHash);
    added.push(treeHash);
    for (const [, kind, hash] of tree.e) {
      if (kind === 'd') stack.push(hash);
      else if (!reachable.has(hash)) {
        reachable.add(hash);
        added.push(hash);
      }
    }
  }
  return added;
}

/**
 * Like `collectReachable` for one root, but reports missing or damaged objects instead of throwing.
 * `known` remembers, per tree, the problems of everything below it, so trees shared by many points are
 * read once and yet every point that shares a broken one is reported. `complete` (the store's
 * `completeTrees`) skips trees found complete before, and learns the ones found complete now.
 * `treesOnly`: only the folders (what a point's file list needs), not whether each file's content is
 * there; `known` must then be a map of its own, and nothing is learnt into `complete`.
 */
export async function findMissing(objects: ObjectReader, root: string, known: Map<string, string[]>, complete?: Set<string>, treesOnly = false): Promise<string[]> {
  const visit = async (hash: string): Promise<string[]> => {
    if (complete?.has(hash)) return [];
    const seen = known.get(hash);
    if (seen) return seen;
    const problems: string[] = [];
    try {
      const tree = await objects.readTree(hash);
      for (const [name, kind, child] of tree.e) {
        if (kind === 'd') for (const problem of await visit(child)) problems.push(problem);
        else if (!treesOnly && !objects.has(child)) problems.push(`file content ${child.slice(0, 12)} of "${name}" is missing`);
      }
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
    known.set(hash, problems);
    if (problems.length === 0 && !treesOnly) complete?.add(hash);
    return problems;
  };
  return visit(root);
}
