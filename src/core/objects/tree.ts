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

/** Whether two sorted entry lists are the same (so their trees, of one version, encode to the same bytes). */
export function sameEntries(a: readonly TreeEntry[], b: readonly TreeEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && (x.length !== y.length || x[0] !== y[0] || x[1] !== y[1] || x[2] !== y[2] || x[3] !== y[3] || x[4] !== y[4])) return false;
  }
  return true;
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
  let tree: TreeObject;
  if (isTreeObject(raw)) {
    tree = raw;
  } else {
    const parsed = treeObjectSchema.safeParse(raw);
    if (!parsed.success) {
      throw StateError.snapshotLoad(`Folder object ${hash} is not valid: ${parsed.error.issues[0]?.message ?? 'unknown problem'}.`, parsed.error);
    }
    tree = parsed.data;
  }
  const problem = namesProblem(tree);
  if (problem) throw StateError.snapshotLoad(`Folder object ${hash} holds ${problem}.`);
  return tree;
}

const HASH = /^[0-9a-f]{64}$/;

/**
 * `treeObjectSchema` by hand, for the common case: folders are the objects read most (every capture,
 * listing and diff), and zod's pass (and building it, in a fresh process) cost more than the rest of
 * decoding. `true` only for a value the schema accepts as it is; anything else (an unknown key zod
 * would strip, a bad entry) is left to the schema, which words the error. test/core/tree.test.ts holds
 * the two to each other.
 */
export function isTreeObject(value: unknown): value is TreeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let keys = 0;
  for (const key in value) {
    if (key !== 'v' && key !== 'e') return false;
    keys++;
  }
  const { v, e } = value as { v?: unknown; e?: unknown };
  if (keys !== 2 || v !== 1 || !Array.isArray(e)) return false;
  for (const entry of e as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 5) return false;
    const [name, kind, hash, size, mode] = entry as unknown[];
    if (typeof name !== 'string' || name.length < 1 || name.length > 1024) return false;
    if (kind !== 'f' && kind !== 'd' && kind !== 'l') return false;
    if (typeof hash !== 'string' || !HASH.test(hash)) return false;
    if (!Number.isSafeInteger(size) || (size as number) < 0) return false;
    if (!Number.isSafeInteger(mode) || (mode as number) < 0 || (mode as number) > 0o7777) return false;
  }
  return true;
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
