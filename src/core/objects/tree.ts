import { describeCause, StateError } from '../errors';
import { treeObjectSchema, type TreeEntry, type TreeObject } from '../schemas';
import { hashObject } from './hash';

/** Entries sorted by name (UTF-16 code units, like `Array.sort`), so equal folders serialise to equal bytes. */
export function makeTree(entries: Iterable<TreeEntry>): TreeObject {
  const sorted = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]![0] === sorted[i - 1]![0]) throw StateError.invalidState(`A folder cannot hold two entries named "${sorted[i]![0]}".`);
  }
  return { v: 1, e: sorted };
}

export function encodeTree(tree: TreeObject): Buffer {
  return Buffer.from(JSON.stringify(tree), 'utf8');
}

export function hashTree(tree: TreeObject): string {
  return hashObject('tree', encodeTree(tree));
}

/** Names a tree entry may have: one path component, no separators, no NUL, not `.` or `..`. */
export function isSafeName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/** Parses a tree object's bytes and checks every name and that names are unique and sorted. */
export function decodeTree(bytes: Uint8Array, hash: string): TreeObject {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw StateError.snapshotLoad(`Folder object ${hash} is not valid JSON (${describeCause(error)}).`, error);
  }
  const parsed = treeObjectSchema.safeParse(raw);
  if (!parsed.success) {
    throw StateError.snapshotLoad(`Folder object ${hash} is not valid: ${parsed.error.issues[0]?.message ?? 'unknown problem'}.`, parsed.error);
  }
  const problem = namesProblem(parsed.data);
  if (problem) throw StateError.snapshotLoad(`Folder object ${hash} holds ${problem}.`);
  return parsed.data;
}

/** Whether every name of the tree is safe, and the names are sorted and distinct (what `decodeTree` checks besides the shape). */
export function hasSafeNames(tree: TreeObject): boolean {
  return namesProblem(tree) === undefined;
}

function namesProblem(tree: TreeObject): string | undefined {
  const entries = tree.e;
  for (let i = 0; i < entries.length; i++) {
    const name = entries[i]![0];
    if (!isSafeName(name)) return `an unsafe name ${JSON.stringify(name)}`;
    if (i > 0 && !(entries[i - 1]![0] < name)) return `duplicate or unsorted names near ${JSON.stringify(name)}`;
  }
  return undefined;
}
