import { diffLines } from 'diff';

/** Bytes looked at to tell a binary file from text (git looks at the first 8,000). */
const BINARY_SNIFF_BYTES = 8000;
/** Line diffs remembered by content pair: a view refreshed after a new point counts only the new version's lines. */
const CACHE_LIMIT = 5000;
/** Past this many lines changed, a pair's count is given as "every line" instead of searched for (keeps one count fast). */
const MAX_EDIT_LENGTH = 20_000;

export interface LineCounts {
  readonly added: number;
  readonly removed: number;
}

/** True when the bytes hold a NUL in their first 8,000 bytes, as git decides. */
export function isBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, BINARY_SNIFF_BYTES);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

/** Lines of a text: a last line without a line break counts too. */
export function countLines(text: string): number {
  if (text.length === 0) return 0;
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return text.endsWith('\n') ? lines : lines + 1;
}

const cache = new Map<string, LineCounts>();

/** Lines added and removed from `before` to `after` (jsdiff's line diff); remembered by the pair of content hashes. */
export function lineCounts(beforeHash: string | null, before: string, afterHash: string | null, after: string): LineCounts {
  const key = beforeHash !== null && afterHash !== null ? `${beforeHash}:${afterHash}` : undefined;
  const known = key ? cache.get(key) : undefined;
  if (known) return known;
  let counts: LineCounts;
  if (before.length === 0 || after.length === 0) {
    counts = { added: countLines(after), removed: countLines(before) };
  } else {
    const changes = diffLines(before, after, { maxEditLength: MAX_EDIT_LENGTH });
    if (!changes) {
      counts = { added: countLines(after), removed: countLines(before) };
    } else {
      let added = 0;
      let removed = 0;
      for (const change of changes) {
        if (change.added) added += change.count;
        else if (change.removed) removed += change.count;
      }
      counts = { added, removed };
    }
  }
  if (key) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, counts);
  }
  return counts;
}
