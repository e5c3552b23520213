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
  for (const c of changes.deleted) {
    if (!c.before) continue;
    const same = deletedBy.get(key(c.before));
    if (same) same.push(c.path);
    else deletedBy.set(key(c.before), [c.path]);
  }
  const pairs: RenamedFile[] = [];
  const used = new Set<string>();
  const unpaired: FileChange[] = [];
  const bySuffix = new Map<string, SuffixIndex>();
  for (const c of changes.added) {
    const same = c.after && deletedBy.get(key(c.after));
    let from: string | undefined;
    if (same && same.length > MANY_ALIKE) {
      // many files of one content (empty `__init__.py`s): looked up by their shared end, not scored each against each
      let index = bySuffix.get(key(c.after!));
      if (!index) bySuffix.set(key(c.after!), (index = new SuffixIndex(same)));
      from = index.take(c.path, used);
    } else {
      const candidates = same?.filter((p) => !used.has(p)) ?? [];
      if (candidates.length > 0) {
        const scored = candidates.map((candidate) => ({ from: candidate, prefix: movedPrefixes(candidate, c.path) }));
        from = scored.reduce((a, b) => (b.prefix[0].length + b.prefix[1].length < a.prefix[0].length + a.prefix[1].length ? b : a)).from;
      }
    }
    if (from === undefined) {
      unpaired.push(c);
      continue;
    }
    used.add(from);
    pairs.push({ from, to: c.path, changed: false });
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

/** Above this many deleted files of one content, an added one is paired through `SuffixIndex`. */
const MANY_ALIKE = 32;

/** Deleted paths of one content by each end of their path (`a.ts`, `cli/a.ts`, …), for the one that shares the longest end with an added path. */
class SuffixIndex {
  private readonly byEnd = new Map<string, string[]>();
  private readonly all: string[];

  constructor(paths: readonly string[]) {
    this.all = [...paths].reverse();
    for (const p of paths) {
      const parts = p.split('/');
      for (let k = 1; k < parts.length; k++) {
        const end = parts.slice(-k).join('/');
        const list = this.byEnd.get(end);
        if (list) list.push(p);
        else this.byEnd.set(end, [p]);
      }
    }
    for (const list of this.byEnd.values()) list.reverse();
  }

  /** The unused path sharing the longest end with `to` (any unused one when none shares its name), or undefined. */
  take(to: string, used: ReadonlySet<string>): string | undefined {
    const parts = to.split('/');
    for (let k = parts.length - 1; k >= 1; k--) {
      const found = takeUnused(this.byEnd.get(parts.slice(-k).join('/')), used);
      if (found !== undefined) return found;
    }
    return takeUnused(this.all, used);
  }
}

function takeUnused(list: string[] | undefined, used: ReadonlySet<string>): string | undefined {
  while (list && list.length > 0) {
    const last = list[list.length - 1]!;
    if (!used.has(last)) return last;
    list.pop();
  }
  return undefined;
}

/** The parts of two paths before the longest end they share: ["ws/src/cli", "ws/src/tool"] for ws/src/cli/a.ts and ws/src/tool/a.ts (whole paths when the names differ). */
export function movedPrefixes(from: string, to: string): [string, string] {
  const a = from.split('/');
  const b = to.split('/');
  let same = 0;
  while (same < Math.min(a.length, b.length) - 1 && a[a.length - 1 - same] === b[b.length - 1 - same]) same++;
  return [a.slice(0, a.length - same).join('/'), b.slice(0, b.length - same).join('/')];
}

/** A change without the files `renamed` pairs (its deletions at their old paths, its additions at their new ones), for showing each renamed file once. */
export function withoutRenamed(diff: Pick<TreeDiff, 'added' | 'modified' | 'deleted'>, renamed: readonly RenamedFile[] | undefined): TreeDiff {
  if (!renamed || renamed.length === 0) return { added: diff.added, modified: diff.modified, deleted: diff.deleted };
  const from = new Set(renamed.map((r) => r.from));
  const to = new Set(renamed.map((r) => r.to));
  return { added: diff.added.filter((c) => !to.has(c.path)), modified: diff.modified, deleted: diff.deleted.filter((c) => !from.has(c.path)) };
}
