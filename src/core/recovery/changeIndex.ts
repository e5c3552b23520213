import { createHash } from 'node:crypto';
import * as fsSync from 'node:fs';
import writeFileAtomic from 'write-file-atomic';
import { diffTrees, type FileChange, type FileInfo, type TreeDiff } from '../capture/treeWalk';
import { PRIVATE_FILE_MODE } from '../documents';
import { describeCause, errorCode, ioError } from '../errors';
import type { Logger } from '../logger';
import type { ObjectReader } from '../objects/objectStore';
import { CHANGE_INDEX_VERSION, changeIndexSchema, type ChangeIndexBody, type PointSummary } from '../schemas';

/** Largest index read; a bigger file is treated as damaged and rebuilt. */
const MAX_INDEX_BYTES = 128 * 1024 * 1024;
/** The text before the body: `{"schemaVersion":1,"checksum":"<64 hex>","body":`. */
const BODY_AT = `{"schemaVersion":${CHANGE_INDEX_VERSION},"checksum":"`.length + 64 + `","body":`.length;

/** Line counts remembered (by pair of contents) at most; the oldest are dropped first. */
const MAX_LINE_COUNTS = 50_000;
/** Stands for "nothing" where a hash is expected in a column. */
const NONE = '-'.repeat(64);

/** What a version changed against the one before it, as `contentChange` (history/lineChanges.ts) gives it. */
export interface LineChange {
  readonly binary: boolean;
  readonly lines: { readonly added: number; readonly removed: number } | null;
}

/** The columns of a document read, split once; each stored pair is a range of them. */
interface Columns {
  readonly ops: string;
  readonly paths: readonly string[];
  readonly kinds: string;
  readonly hashes: string;
  readonly sizes: readonly string[];
  readonly modes: readonly string[];
}

/** A pair as read: its changes are `ops[opStart, opEnd)` and its file entries start at `entryStart`. */
interface StoredPair {
  readonly columns: Columns;
  readonly opStart: number;
  readonly opEnd: number;
  readonly entryStart: number;
}

/** A pair's changes as stored (columns) until first asked for, then as a TreeDiff. */
type Entry = { diff: TreeDiff; stored?: undefined } | { diff?: undefined; stored: StoredPair };

/**
 * What changed between two root trees, remembered by their hashes: `diffTrees(from, to)` for the pairs
 * of points people look at (each point and the listed one before it, the oldest against nothing), and
 * each root's folder names. Trees never change, so an entry can never go stale; entries of points no
 * longer listed are dropped by `retain`. Kept in `cache/change-index.json` with a checksum: a document
 * that fails it or its schema is ignored (and rebuilt from the trees as they are asked for), never trusted.
 * A file's history and a point's changes then read no tree for the points it holds.
 */
export class ChangeIndex {
  private readonly pairs = new Map<string, Entry>();
  private readonly folderNames = new Map<string, readonly string[]>();
  private readonly lineChanges = new Map<string, LineChange>();
  private readonly computing = new Map<string, Promise<TreeDiff>>();
  private changed = false;
  private saving: Promise<void> | undefined;

  private constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {}

  /** Reads the index; an absent, damaged or foreign one gives an empty index (rewritten at the next save). */
  static load(file: string, logger: Logger): ChangeIndex {
    const index = new ChangeIndex(file, logger);
    let text: string;
    try {
      const size = fsSync.statSync(file).size;
      if (size > MAX_INDEX_BYTES) throw new Error(`${size} bytes, larger than any valid one`);
      text = fsSync.readFileSync(file, 'utf8');
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') index.discard(`it could not be read (${describeCause(error)})`);
      return index;
    }
    const problem = index.read(text);
    if (problem) index.discard(problem);
    return index;
  }

  /** What made a document unusable, or `undefined` when its entries were taken. */
  private read(text: string): string | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return `it is not valid JSON (${describeCause(error)})`;
    }
    const parsed = changeIndexSchema.safeParse(raw);
    if (!parsed.success) return `it is not valid: ${parsed.error.issues[0]?.message ?? 'unknown problem'} at ${parsed.error.issues[0]?.path.join('.') ?? '?'}`;
    if (checksum(text.slice(BODY_AT, -1)) !== parsed.data.checksum) return 'its checksum does not match its content';
    this.take(parsed.data.body);
    return undefined;
  }

  private take(body: ChangeIndexBody): void {
    const split = (text: string, separator: string) => (text === '' ? [] : text.split(separator));
    const columns: Columns = { ops: body.ops, paths: split(body.paths, '\0'), kinds: body.kinds, hashes: body.hashes, sizes: split(body.sizes, ','), modes: split(body.modes, ',') };
    const counts = split(body.counts, ',').map(Number);
    let op = 0;
    let entry = 0;
    for (let i = 0; i < counts.length; i++) {
      const from = body.froms.slice(i * 64, i * 64 + 64);
      const opEnd = op + counts[i]!;
      this.pairs.set(pairKey(from === NONE ? null : from, body.tos.slice(i * 64, i * 64 + 64)), { stored: { columns, opStart: op, opEnd, entryStart: entry } });
      for (; op < opEnd; op++) entry += body.ops[op] === 'm' ? 2 : 1;
    }
    const names = split(body.folderNames, '\0');
    for (let i = 0; i < names.length; i++) this.folderNames.set(body.folderRoots.slice(i * 64, i * 64 + 64), split(names[i]!, '/'));
    const lineCounts = split(body.lineCounts, ',').map(Number);
    for (let i = 0; i * 128 < body.lineHashes.length; i++) {
      const [binary, added, removed] = lineCounts.slice(i * 3, i * 3 + 3) as [number, number, number];
      this.lineChanges.set(lineKey(body.lineHashes.slice(i * 128, i * 128 + 64), body.lineHashes.slice(i * 128 + 64, i * 128 + 128)), { binary: binary === 1, lines: binary === 1 ? null : { added, removed } });
    }
  }

  private discard(problem: string): void {
    this.logger.warn(`The change index ${this.file} is not used and will be rebuilt: ${problem}.`);
    this.changed = true;
  }

  /** Entries added or dropped since the index was read or saved. */
  get dirty(): boolean {
    return this.changed;
  }

  /** The number of pairs held (for tests and statistics). */
  get size(): number {
    return this.pairs.size;
  }

  /** `diffTrees(objects, from, to)`, from the index when it holds the pair. The arrays are the caller's; the changes are shared. */
  async changes(objects: ObjectReader, from: string | null, to: string): Promise<TreeDiff> {
    return copy(await this.shared(objects, from, to));
  }

  /** The change at `path` (a file path in the roots' names) between the two roots: `undefined` when it did not change. */
  async changeAt(objects: ObjectReader, from: string | null, to: string, path: string): Promise<FileChange | undefined> {
    const diff = await this.shared(objects, from, to);
    return find(diff.added, path) ?? find(diff.modified, path) ?? find(diff.deleted, path);
  }

  /** Records what was computed elsewhere: a new point's changes against its parent, and its root's folder names. */
  record(from: string | null, to: string, folders: readonly string[], diff: TreeDiff): void {
    if (!this.folderNames.has(to)) {
      this.folderNames.set(to, [...folders]);
      this.changed = true;
    }
    const key = pairKey(from, to);
    if (this.pairs.get(key)?.diff) return;
    this.pairs.set(key, { diff: copy(diff) });
    this.changed = true;
  }

  /** The names of the folders (entries of kind `d`) of a point's root tree. */
  async folders(objects: ObjectReader, root: string): Promise<readonly string[]> {
    const known = this.folderNames.get(root);
    if (known) return known;
    const names = (await objects.readTree(root)).e.filter((e) => e[1] === 'd').map((e) => e[0]);
    this.folderNames.set(root, names);
    this.changed = true;
    return names;
  }

  /** The line counts remembered for a change of content (`null`: nothing), if any. */
  lineChange(before: string | null, after: string | null): LineChange | undefined {
    return this.lineChanges.get(lineKey(before ?? NONE, after ?? NONE));
  }

  recordLineChange(before: string | null, after: string | null, change: LineChange): void {
    const key = lineKey(before ?? NONE, after ?? NONE);
    if (this.lineChanges.has(key)) return;
    if (this.lineChanges.size >= MAX_LINE_COUNTS) this.lineChanges.delete(this.lineChanges.keys().next().value!);
    this.lineChanges.set(key, { binary: change.binary, lines: change.lines && { added: change.lines.added, removed: change.lines.removed } });
    this.changed = true;
  }

  /**
   * Keeps only what the listed points (newest first) read: each point against the one listed before
   * it, the oldest against nothing, and their roots' folder names. Pairs asked for otherwise (two points
   * compared, a point whose parent is gone) are kept until then.
   */
  retain(points: readonly PointSummary[]): void {
    const keys = new Set(points.map((point, i) => pairKey(points[i + 1]?.root ?? null, point.root)));
    const roots = new Set(points.map((p) => p.root));
    for (const key of this.pairs.keys()) {
      if (keys.has(key)) continue;
      this.pairs.delete(key);
      this.changed = true;
    }
    for (const root of this.folderNames.keys()) {
      if (roots.has(root)) continue;
      this.folderNames.delete(root);
      this.changed = true;
    }
  }

  /** Fills in what a file's history and the points' changes read: each point against the listed one before it, the oldest against nothing. */
  async complete(objects: ObjectReader, points: readonly PointSummary[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < points.length; i++) {
      signal?.throwIfAborted();
      const point = points[i]!;
      await this.folders(objects, point.root);
      await this.shared(objects, points[i + 1]?.root ?? null, point.root);
    }
  }

  /** Writes the index when it changed (atomically, without fsync: it is rebuilt when lost). One write at a time. */
  async save(): Promise<void> {
    while (this.saving) await this.saving;
    if (!this.changed) return;
    this.changed = false;
    this.saving = this.write().finally(() => (this.saving = undefined));
    try {
      await this.saving;
    } catch (error) {
      this.changed = true;
      throw error;
    }
  }

  private async write(): Promise<void> {
    const body = this.body();
    const bodyText = JSON.stringify(body);
    const text = `{"schemaVersion":${CHANGE_INDEX_VERSION},"checksum":"${checksum(bodyText)}","body":${bodyText}}`;
    try {
      await writeFileAtomic(this.file, text, { mode: PRIVATE_FILE_MODE, fsync: false });
    } catch (error) {
      throw ioError(`write the change index ${this.file}`, error);
    }
  }

  /** Everything held, as the document's columns. */
  private body(): ChangeIndexBody {
    const tos: string[] = [];
    const froms: string[] = [];
    const counts: number[] = [];
    const ops: string[] = [];
    const paths: string[] = [];
    const kinds: string[] = [];
    const hashes: string[] = [];
    const sizes: number[] = [];
    const modes: number[] = [];
    const add = (info: FileInfo) => {
      kinds.push(info.kind);
      hashes.push(info.hash);
      sizes.push(info.size);
      modes.push(info.mode);
    };
    for (const [key, entry] of this.pairs) {
      const at = key.indexOf('>');
      froms.push(at === 0 ? NONE : key.slice(0, at));
      tos.push(key.slice(at + 1));
      const diff = entry.diff ?? fromColumns(entry.stored);
      counts.push(diff.added.length + diff.modified.length + diff.deleted.length);
      for (const [op, changes] of [
        ['a', diff.added],
        ['m', diff.modified],
        ['d', diff.deleted],
      ] as const) {
        for (const change of changes) {
          ops.push(op);
          paths.push(change.path);
          if (change.before) add(change.before);
          if (change.after) add(change.after);
        }
      }
    }
    const lineHashes: string[] = [];
    const lineCounts: number[] = [];
    for (const [key, change] of this.lineChanges) {
      lineHashes.push(key);
      lineCounts.push(change.binary ? 1 : 0, change.lines?.added ?? 0, change.lines?.removed ?? 0);
    }
    return {
      tos: tos.join(''),
      froms: froms.join(''),
      counts: counts.join(','),
      ops: ops.join(''),
      paths: paths.join('\0'),
      kinds: kinds.join(''),
      hashes: hashes.join(''),
      sizes: sizes.join(','),
      modes: modes.join(','),
      folderRoots: [...this.folderNames.keys()].join(''),
      folderNames: [...this.folderNames.values()].map((names) => names.join('/')).join('\0'),
      lineHashes: lineHashes.join(''),
      lineCounts: lineCounts.join(','),
    };
  }

  private async shared(objects: ObjectReader, from: string | null, to: string): Promise<TreeDiff> {
    const key = pairKey(from, to);
    const entry = this.pairs.get(key);
    if (entry?.diff) return entry.diff;
    if (entry) {
      const diff = fromColumns(entry.stored);
      this.pairs.set(key, { diff });
      return diff;
    }
    let pending = this.computing.get(key);
    if (!pending) {
      pending = diffTrees(objects, from, to).then((diff) => {
        this.pairs.set(key, { diff });
        this.changed = true;
        return diff;
      });
      this.computing.set(key, pending);
      const forget = () => this.computing.delete(key);
      pending.then(forget, forget);
    }
    return pending;
  }
}

function pairKey(from: string | null, to: string): string {
  return `${from ?? ''}>${to}`;
}

function checksum(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function copy(diff: TreeDiff): TreeDiff {
  return { added: [...diff.added], modified: [...diff.modified], deleted: [...diff.deleted] };
}

/** Binary search in changes sorted by path (as `diffTrees` sorts them). */
function find(changes: readonly FileChange[], path: string): FileChange | undefined {
  let lo = 0;
  let hi = changes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = changes[mid]!.path;
    if (at === path) return changes[mid];
    if (at < path) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

function lineKey(before: string, after: string): string {
  return before + after;
}

/** A stored pair's changes as `diffTrees` gives them. */
function fromColumns(pair: StoredPair): TreeDiff {
  const { columns: c } = pair;
  const diff: TreeDiff = { added: [], modified: [], deleted: [] };
  let k = pair.entryStart;
  const next = (): FileInfo => {
    const info: FileInfo = { kind: c.kinds[k] as FileInfo['kind'], hash: c.hashes.slice(k * 64, k * 64 + 64), size: Number(c.sizes[k]), mode: Number(c.modes[k]) };
    k++;
    return info;
  };
  for (let i = pair.opStart; i < pair.opEnd; i++) {
    const path = c.paths[i]!;
    const op = c.ops[i];
    if (op === 'a') diff.added.push({ path, after: next() });
    else if (op === 'd') diff.deleted.push({ path, before: next() });
    else {
      const before = next();
      diff.modified.push({ path, before, after: next() });
    }
  }
  return diff;
}
