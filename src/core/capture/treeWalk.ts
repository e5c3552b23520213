import { StateError } from '../errors';
import type { ObjectReader } from '../objects/objectStore';
import type { ChangeCounts, TreeEntry, TreeEntryKind } from '../schemas';
import { Semaphore, settleAll } from './concurrency';

/** A tree entry without its name. */
export interface EntryInfo {
  readonly kind: TreeEntryKind;
  readonly hash: string;
  readonly size: number;
  readonly mode: number;
}

/** A file (`f`) or symbolic link (`l`). */
export interface FileInfo extends EntryInfo {
  readonly kind: 'f' | 'l';
}

/** One changed path (`rootName/rel/path`): `before` for deleted and modified, `after` for added and modified. */
export interface FileChange {
  readonly path: string;
  readonly before?: FileInfo;
  readonly after?: FileInfo;
}

export interface TreeDiff {
  readonly added: FileChange[];
  readonly modified: FileChange[];
  readonly deleted: FileChange[];
}

export interface WalkOptions {
  /** Only this folder (or file) of the point: `rootName` or `rootName/rel/path`. */
  readonly under?: string;
}

/** Trees read at once when a walk has many folders to read. */
const READ_CONCURRENCY = 16;

function info(entry: TreeEntry): EntryInfo {
  return { kind: entry[1], hash: entry[2], size: entry[3], mode: entry[4] };
}

function fileInfo(entry: TreeEntry): FileInfo {
  return info(entry) as FileInfo;
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}/${name}`;
}

function byPath(a: FileChange, b: FileChange): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/**
 * Lists the change at `path` from `before` to `after` (a file, a link or nothing on either side) in
 * `diff` as `diffTrees` would. `false` when either side is a folder: its files are not listed here.
 */
export function addEntryChange(diff: TreeDiff, path: string, before: TreeEntry | undefined, after: TreeEntry | undefined): boolean {
  if (before?.[1] === 'd' || after?.[1] === 'd') return false;
  if (before && after) {
    if (before[1] !== after[1] || before[2] !== after[2] || before[4] !== after[4]) diff.modified.push({ path, before: fileInfo(before), after: fileInfo(after) });
  } else if (before) {
    diff.deleted.push({ path, before: fileInfo(before) });
  } else if (after) {
    diff.added.push({ path, after: fileInfo(after) });
  }
  return true;
}

/** Sorts each list of `diff` by path, as `diffTrees` returns them. */
export function sortDiff(diff: TreeDiff): TreeDiff {
  diff.added.sort(byPath);
  diff.modified.sort(byPath);
  diff.deleted.sort(byPath);
  return diff;
}

/** Splits a point path (`root/a/b`) into names; rejects empty, `.` and `..` parts. */
function pathParts(p: string): string[] {
  const parts = p.split('/').filter((part) => part !== '');
  if (parts.some((part) => part === '.' || part === '..')) throw StateError.invalidState(`"${p}" is not a path inside a recovery point.`);
  return parts;
}

/** The entry at `path` (`rootName` or `rootName/rel/path`), reading only the trees on the way; `undefined` when absent. */
export async function lookupEntry(objects: ObjectReader, rootHash: string, path: string): Promise<EntryInfo | undefined> {
  const parts = pathParts(path);
  if (parts.length === 0) return { kind: 'd', hash: rootHash, size: 0, mode: 0 };
  let treeHash = rootHash;
  for (let i = 0; i < parts.length; i++) {
    const tree = await objects.readTree(treeHash);
    const entry = findEntry(tree.e, parts[i]!);
    if (!entry) return undefined;
    if (i === parts.length - 1) return info(entry);
    if (entry[1] !== 'd') return undefined;
    treeHash = entry[2];
  }
  return undefined;
}

/** Binary search in a tree's sorted entries. */
export function findEntry(entries: readonly TreeEntry[], name: string): TreeEntry | undefined {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const candidate = entries[mid]![0];
    if (candidate === name) return entries[mid];
    if (candidate < name) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Every file and symbolic link of a point (or of one folder of it), keyed by `rootName/rel/path`. */
export async function listFiles(objects: ObjectReader, rootHash: string, options: WalkOptions = {}): Promise<Map<string, FileInfo>> {
  const files = new Map<string, FileInfo>();
  const limit = new Semaphore(READ_CONCURRENCY);
  const start = options.under === undefined ? '' : pathParts(options.under).join('/');
  const startEntry = start === '' ? { kind: 'd' as const, hash: rootHash, size: 0, mode: 0 } : await lookupEntry(objects, rootHash, start);
  if (!startEntry) return files;
  if (startEntry.kind !== 'd') {
    files.set(start, startEntry as FileInfo);
    return files;
  }
  const visit = async (prefix: string, hash: string): Promise<void> => {
    const tree = await limit.run(() => objects.readTree(hash));
    const folders: Promise<void>[] = [];
    for (const entry of tree.e) {
      const p = join(prefix, entry[0]);
      if (entry[1] === 'd') folders.push(visit(p, entry[2]));
      else files.set(p, fileInfo(entry));
    }
    await settleAll(folders);
  };
  await visit(start, startEntry.hash);
  return new Map([...files].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Number of files and links below a folder tree (reads every tree below it). */
export async function countFiles(objects: ObjectReader, treeHash: string): Promise<number> {
  const limit = new Semaphore(READ_CONCURRENCY);
  const visit = async (hash: string): Promise<number> => {
    const tree = await limit.run(() => objects.readTree(hash));
    let count = 0;
    const folders: Promise<number>[] = [];
    for (const entry of tree.e) {
      if (entry[1] === 'd') folders.push(visit(entry[2]));
      else count++;
    }
    for (const sub of await settleAll(folders)) count += sub;
    return count;
  };
  return visit(treeHash);
}

type Visitor = (kind: 'added' | 'modified' | 'deleted', change: FileChange) => void;

/** Walks two trees side by side; equal subtrees (same hash) are skipped without being read. */
async function walkDiff(objects: ObjectReader, oldHash: string | null, newHash: string | null, prefix: string, visit: Visitor): Promise<void> {
  const limit = new Semaphore(READ_CONCURRENCY);
  const read = (hash: string | null): Promise<readonly TreeEntry[]> => (hash === null ? Promise.resolve([]) : limit.run(async () => (await objects.readTree(hash)).e));
  const walk = async (at: string, a: string | null, b: string | null): Promise<void> => {
    if (a === b) return;
    const [before, after] = await Promise.all([read(a), read(b)]);
    const folders: Promise<void>[] = [];
    let i = 0;
    let j = 0;
    while (i < before.length || j < after.length) {
      const x = before[i];
      const y = after[j];
      let old: TreeEntry | undefined;
      let neu: TreeEntry | undefined;
      if (x && (!y || x[0] < y[0])) {
        old = x;
        i++;
      } else if (y && (!x || y[0] < x[0])) {
        neu = y;
        j++;
      } else {
        i++;
        j++;
        // the same entry on both sides (most of a folder): nothing below it changed
        if (x![2] === y![2] && x![1] === y![1] && x![4] === y![4]) continue;
        old = x;
        neu = y;
      }
      const p = join(at, (old ?? neu)![0]);
      const oldDir = old?.[1] === 'd' ? old[2] : null;
      const newDir = neu?.[1] === 'd' ? neu[2] : null;
      if (oldDir !== null || newDir !== null) folders.push(walk(p, oldDir, newDir));
      const oldFile = old && old[1] !== 'd' ? old : undefined;
      const newFile = neu && neu[1] !== 'd' ? neu : undefined;
      if (oldFile && newFile) {
        if (oldFile[1] !== newFile[1] || oldFile[2] !== newFile[2] || oldFile[4] !== newFile[4]) {
          visit('modified', { path: p, before: fileInfo(oldFile), after: fileInfo(newFile) });
        }
      } else if (oldFile) {
        visit('deleted', { path: p, before: fileInfo(oldFile) });
      } else if (newFile) {
        visit('added', { path: p, after: fileInfo(newFile) });
      }
    }
    await settleAll(folders);
  };
  await walk(prefix, oldHash, newHash);
}

async function subtree(objects: ObjectReader, rootHash: string | null, under: string): Promise<string | null> {
  if (rootHash === null) return null;
  if (under === '') return rootHash;
  const entry = await lookupEntry(objects, rootHash, under);
  return entry?.kind === 'd' ? entry.hash : null;
}

/**
 * The files added, modified (content, kind or mode) and deleted from `oldRoot` (`null`: nothing) to
 * `newRoot`, each sorted by path. Only trees that differ are read. With `under`, only that folder.
 */
export async function diffTrees(objects: ObjectReader, oldRoot: string | null, newRoot: string, options: WalkOptions = {}): Promise<TreeDiff> {
  const diff: TreeDiff = { added: [], modified: [], deleted: [] };
  const under = options.under === undefined ? '' : pathParts(options.under).join('/');
  if (under !== '') {
    const [a, b] = await Promise.all([oldRoot === null ? undefined : lookupEntry(objects, oldRoot, under), lookupEntry(objects, newRoot, under)]);
    if (a?.kind !== 'd' || b?.kind !== 'd') {
      // a single file (or nothing) at `under`, possibly a folder on one side
      const aFile = a && a.kind !== 'd' ? (a as FileInfo) : undefined;
      const bFile = b && b.kind !== 'd' ? (b as FileInfo) : undefined;
      if (aFile && bFile) {
        if (aFile.kind !== bFile.kind || aFile.hash !== bFile.hash || aFile.mode !== bFile.mode) diff.modified.push({ path: under, before: aFile, after: bFile });
      } else if (aFile) diff.deleted.push({ path: under, before: aFile });
      else if (bFile) diff.added.push({ path: under, after: bFile });
    }
  }
  await walkDiff(objects, await subtree(objects, oldRoot, under), await subtree(objects, newRoot, under), under, (kind, change) => diff[kind].push(change));
  return sortDiff(diff);
}

/** Only the numbers of `diffTrees`. */
export async function countChanges(objects: ObjectReader, oldRoot: string | null, newRoot: string): Promise<ChangeCounts> {
  const counts = { added: 0, modified: 0, deleted: 0 };
  await walkDiff(objects, oldRoot, newRoot, '', (kind) => counts[kind]++);
  return counts;
}
