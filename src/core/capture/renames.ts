import type { FileChange, TreeDiff } from './treeWalk';

/** A file deleted at one path and added at another: renamed or moved (`changed`: its content or mode too). */
export interface RenamedFile {
  readonly from: string;
  readonly to: string;
  readonly changed: boolean;
}

/**
 * The renames and moves among a change's deletions and additions: each added file paired with a
 * deleted one of the same content and the longest same end of path. `followFolders`: also a file
 * edited as its folder moved, an added `to/rest` with a deleted `from/rest` where other files of the
 * same content went from `from` to `to` (a folder renamed between two points, its files edited since).
 */
export function pairRenames(changes: Pick<TreeDiff, 'added' | 'deleted'>, options: { readonly followFolders?: boolean } = {}): RenamedFile[] {
  if (changes.added.length === 0 || changes.deleted.length === 0) return [];
  const key = (info: NonNullable<FileChange['before']>) => `${info.kind}${info.hash}`;
  const deletedBy = new Map<string, string[]>();
  for (const c of changes.deleted) if (c.before) deletedBy.set(key(c.before), [...(deletedBy.get(key(c.before)) ?? []), c.path]);
  const pairs: RenamedFile[] = [];
  const used = new Set<string>();
  const unpaired: FileChange[] = [];
  for (const c of changes.added) {
    const candidates = (c.after && deletedBy.get(key(c.after))?.filter((p) => !used.has(p))) || [];
    if (candidates.length === 0) {
      unpaired.push(c);
      continue;
    }
    const scored = candidates.map((from) => ({ from, prefix: movedPrefixes(from, c.path) }));
    const best = scored.reduce((a, b) => (b.prefix[0].length + b.prefix[1].length < a.prefix[0].length + a.prefix[1].length ? b : a));
    used.add(best.from);
    pairs.push({ from: best.from, to: c.path, changed: false });
  }
  if (!options.followFolders || unpaired.length === 0) return pairs;
  // the folders files moved between whole (same name at the end): where the others of that folder went
  const folderMoves = new Map<string, string>();
  for (const p of pairs) {
    const [from, to] = movedPrefixes(p.from, p.to);
    if (from !== p.from && !folderMoves.has(to)) folderMoves.set(to, from);
  }
  const deleted = new Map(changes.deleted.filter((c) => !used.has(c.path)).map((c) => [c.path, c]));
  for (const c of unpaired) {
    for (const [to, from] of folderMoves) {
      if (!c.path.startsWith(`${to}/`)) continue;
      const was = `${from}${c.path.slice(to.length)}`;
      if (!deleted.has(was)) continue;
      deleted.delete(was);
      pairs.push({ from: was, to: c.path, changed: true });
      break;
    }
  }
  return pairs;
}

/** The parts of two paths before the longest end they share: ["ws/src/cli", "ws/src/tool"] for ws/src/cli/a.ts and ws/src/tool/a.ts (whole paths when the names differ). */
export function movedPrefixes(from: string, to: string): [string, string] {
  const a = from.split('/');
  const b = to.split('/');
  let same = 0;
  while (same < Math.min(a.length, b.length) - 1 && a[a.length - 1 - same] === b[b.length - 1 - same]) same++;
  return [a.slice(0, a.length - same).join('/'), b.slice(0, b.length - same).join('/')];
}
