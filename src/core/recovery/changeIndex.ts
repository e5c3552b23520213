import { createHash } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { diffTrees, type FileChange, type FileInfo, type TreeDiff } from '../capture/treeWalk';
import { ensurePrivateDir, PRIVATE_FILE_MODE, removeStaleDocumentTemporaries, replaceLink } from '../documents';
import { describeCause, errorCode, ioError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import type { ObjectReader } from '../objects/objectStore';
import { CHANGE_INDEX_VERSION, changeIndexSchema, type ChangeIndexBody, type PointSummary } from '../schemas';
import { nextTurn, TimeSlices } from '../timeSlices';
import { checkChangeIndexDocument, isChangeIndexDocument, type ChangeIndexDocument } from './changeIndexCheck';

/** Largest index read; a bigger file is treated as damaged and rebuilt. */
const MAX_INDEX_BYTES = 128 * 1024 * 1024;
/** The text before the body: `{"schemaVersion":2,"checksum":"<64 hex>","body":`. */
const BODY_AT = `{"schemaVersion":${CHANGE_INDEX_VERSION},"checksum":"`.length + 64 + `","body":`.length;

/**
 * A pair with at least this many changes (a first point's list of every file, a point that rewrote a
 * whole tree) is kept in a document of its own, read only when that pair is asked for: inline, a first
 * point of 10,000 files made up three quarters of the index that every first listing reads.
 */
export const LARGE_PAIR_CHANGES = 1000;
/** A document larger than this is checked in steps, the event loop given a turn between them. */
const STEPPED_BYTES = 256 * 1024;
/** Characters of a column split at once while a document is taken in. */
const STEP_CHARACTERS = 64 * 1024;
/**
 * What comparing a pair's trees costs per change, in bytes of the main document read for the same
 * time: a change reads about six trees (~0.5 ms cold, in a fresh process), reading the document ~11 ms
 * a MB. A pair asked for alone is compared from its trees when the document is larger.
 */
const COMPARE_COST_BYTES_PER_CHANGE = 48 * 1024;
/** A large pair's document: `<from hash or none>-<to hash>.json`. */
const LARGE_PAIR_NAME = /^([0-9a-f]{64}|none)-([0-9a-f]{64})\.json$/;

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

/**
 * A pair's changes as stored (columns) until first asked for, then as a TreeDiff. `saved`: a large
 * pair's own document holds it (so it is not written again).
 */
type Entry = { diff: TreeDiff; stored?: undefined; saved: boolean } | { diff?: undefined; stored: StoredPair; saved: boolean };

/**
 * What changed between two root trees, remembered by their hashes: `diffTrees(from, to)` for the pairs
 * of points people look at (each point and the listed one before it, the oldest against nothing), and
 * each root's folder names. Trees never change, so an entry can never go stale; entries of points no
 * longer listed are dropped by `retain`. Kept in `cache/change-index.json` with a checksum, and each
 * large pair in a document of its own (`cache/change-index-large/`) read only when it is asked for: a
 * document that fails its checksum or its schema is ignored (and rebuilt from the trees as they are
 * asked for), never trusted. A file's history and a point's changes then read no tree for the points it holds.
 */
export class ChangeIndex {
  private readonly pairs = new Map<string, Entry>();
  private readonly folderNames = new Map<string, readonly string[]>();
  private readonly lineChanges = new Map<string, LineChange>();
  private readonly computing = new Map<string, Promise<TreeDiff>>();
  private changed = false;
  private saving: Promise<void> | undefined;
  /** Set by `retain`: the pairs whose own documents the next save keeps (the others are removed). */
  private keep: Set<string> | undefined;
  /** Where large pairs' documents are. */
  private readonly largeDir: string;

  private constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    this.largeDir = path.join(path.dirname(file), 'change-index-large');
  }

  /** Reads the index; an absent, damaged or foreign one gives an empty index (rewritten at the next save). */
  static async load(file: string, logger: Logger): Promise<ChangeIndex> {
    const index = new ChangeIndex(file, logger);
    const read = await readDocument(file);
    if (read === undefined) return index;
    if (read === null) {
      logger.info(`The change index ${file} was written by an older version (its line counts follow another rule): it is rebuilt.`);
      index.changed = true;
      return index;
    }
    if (typeof read === 'string') index.discard(index.file, read);
    else await index.take(read);
    return index;
  }

  /** Takes a document's entries, giving the event loop a turn every few milliseconds (an index of many points is thousands of them). */
  private async take(body: ChangeIndexBody): Promise<void> {
    const slices = new TimeSlices();
    for (const [key, stored] of await storedPairs(body, slices)) {
      this.pairs.set(key, { stored, saved: false });
      // a large pair from an older index: moved to its own document at the next save
      if (stored.opEnd - stored.opStart >= LARGE_PAIR_CHANGES) this.changed = true;
    }
    const names = await splitStepped(body.folderNames, '\0', slices);
    for (let i = 0; i < names.length; i++) {
      if ((i & 255) === 255) await slices.pause();
      this.folderNames.set(body.folderRoots.slice(i * 64, i * 64 + 64), split(names[i]!, '/'));
    }
    const lineCounts = (await splitStepped(body.lineCounts, ',', slices)).map(Number);
    for (let i = 0; i * 128 < body.lineHashes.length; i++) {
      if ((i & 255) === 255) await slices.pause();
      const [binary, added, removed] = lineCounts.slice(i * 3, i * 3 + 3) as [number, number, number];
      // the key is the two hashes as they stand in the column (`lineKey`)
      this.lineChanges.set(body.lineHashes.slice(i * 128, i * 128 + 128), { binary: binary === 1, lines: binary === 1 ? null : { added, removed } });
    }
  }

  private discard(file: string, problem: string): void {
    this.logger.warn(`The change index ${file} is not used and will be rebuilt: ${problem}.`);
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
    const held = this.heldChangeAt(from, to, path);
    if (held !== undefined) return held ?? undefined;
    const diff = await this.shared(objects, from, to);
    return findChange(diff, path);
  }

  /**
   * `changeAt` without waiting, when the pair is in memory: the change, `null` when the path did not
   * change, `undefined` when the pair must be read or computed first. A stored pair is looked through, not decoded.
   */
  heldChangeAt(from: string | null, to: string, path: string): FileChange | null | undefined {
    const entry = this.pairs.get(pairKey(from, to));
    if (!entry) return undefined;
    return (entry.diff ? findChange(entry.diff, path) : storedChangeAt(entry.stored, path)) ?? null;
  }

  /** The names of a root tree's folders when they are in memory (else `folders` reads them). */
  heldFolders(root: string): readonly string[] | undefined {
    return this.folderNames.get(root);
  }

  /** Records what was computed elsewhere: a new point's changes against its parent, and its root's folder names. */
  record(from: string | null, to: string, folders: readonly string[], diff: TreeDiff): void {
    if (!this.folderNames.has(to)) {
      this.folderNames.set(to, [...folders]);
      this.changed = true;
    }
    const key = pairKey(from, to);
    if (this.pairs.get(key)?.diff) return;
    this.pairs.set(key, { diff: copy(diff), saved: false });
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
    this.keep = keys;
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
      const from = points[i + 1]?.root ?? null;
      await this.folders(objects, point.root);
      // a large pair already in its own document (`writeOldestPair`) stays there until asked for
      if (!this.pairs.has(pairKey(from, point.root)) && (await fileExists(this.largeFile(pairKey(from, point.root))))) continue;
      await this.shared(objects, from, point.root);
    }
  }

  /**
   * Writes the document of the oldest point's pair (`to` against nothing: every file it holds) when it
   * is large and has none yet, without loading the index: for the extension's work process, so that the
   * extension host's `complete` finds it on disk instead of reading every tree of the point and holding
   * the list (a first point of 50k files). `file`: the index's document. True when it wrote one.
   */
  static async writeOldestPair(file: string, objects: ObjectReader, to: string): Promise<boolean> {
    const index = new ChangeIndex(file, silentLogger);
    const key = pairKey(null, to);
    if (await fileExists(index.largeFile(key))) return false;
    const diff = await diffTrees(objects, null, to);
    if (changeCount(diff) < LARGE_PAIR_CHANGES) return false;
    await writeDocument(index.largeFile(key), await columnsOf([[key, diff]], new Map(), new Map()));
    return true;
  }

  /** Whether reading the index's main document costs more than comparing the trees of a pair of `changes` changes (none: reading it costs nothing). */
  static costsMoreThanComparing(file: string, changes: number): boolean {
    try {
      return fsSync.statSync(file).size > Math.max(1, changes) * COMPARE_COST_BYTES_PER_CHANGE;
    } catch {
      return false;
    }
  }

  /**
   * A large pair from its own document, without loading the index (whose main document grows with
   * every point): for a point's changes asked for alone. `undefined` when it has none or it is not
   * usable; the index, when loaded, then reads it again, says why and writes it anew.
   */
  static async readLargePair(file: string, from: string | null, to: string): Promise<TreeDiff | undefined> {
    return new ChangeIndex(file, silentLogger).readLarge(from, to);
  }

  /** Writes the index when it changed (atomically, without fsync: it is rebuilt when lost). One write at a time. */
  async save(): Promise<void> {
    while (this.saving) await this.saving;
    if (!this.changed && !this.keep) return;
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
    await this.pruneLarge();
    const small: Array<[string, TreeDiff | StoredPair]> = [];
    for (const [key, entry] of this.pairs) {
      const pair = entry.diff ?? entry.stored;
      if (changeCount(pair) < LARGE_PAIR_CHANGES) small.push([key, pair]);
      else if (!entry.saved) {
        await writeDocument(this.largeFile(key), await columnsOf([[key, pair]], new Map(), new Map()));
        entry.saved = true;
      }
    }
    await writeDocument(this.file, await columnsOf(small, this.folderNames, this.lineChanges));
  }

  /** Removes the large pairs' documents that `retain` did not keep (and that were not asked for since), and stale temporaries. */
  private async pruneLarge(): Promise<void> {
    const keep = this.keep;
    if (!keep) return;
    let names: string[];
    try {
      names = await fs.readdir(this.largeDir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') names = [];
      else throw ioError(`list ${this.largeDir}`, error);
    }
    for (const name of names) {
      const match = LARGE_PAIR_NAME.exec(name);
      if (!match) continue;
      const key = pairKey(match[1] === 'none' ? null : match[1]!, match[2]!);
      if (keep.has(key) || this.pairs.has(key)) continue;
      await fs.rm(path.join(this.largeDir, name), { force: true }).catch((error: unknown) => {
        throw ioError(`remove ${path.join(this.largeDir, name)}`, error);
      });
    }
    // what a write cut short by a crash left behind
    await removeStaleDocumentTemporaries(this.largeDir);
    if (this.keep === keep) this.keep = undefined;
  }

  private largeFile(key: string): string {
    const at = key.indexOf('>');
    return path.join(this.largeDir, `${at === 0 ? 'none' : key.slice(0, at)}-${key.slice(at + 1)}.json`);
  }

  /** A large pair from its own document; `undefined` when there is none or it is damaged (logged). */
  private async readLarge(from: string | null, to: string): Promise<TreeDiff | undefined> {
    const key = pairKey(from, to);
    const file = this.largeFile(key);
    const read = await readDocument(file);
    if (read === undefined || read === null) return undefined;
    // splitting the columns and decoding the changes share one budget of thread time
    const slices = new TimeSlices();
    const pairs = typeof read === 'string' ? [] : await storedPairs(read, slices);
    if (typeof read === 'string' || pairs.length !== 1 || pairs[0]![0] !== key) {
      this.discard(file, typeof read === 'string' ? read : 'it does not hold the pair its name says');
      return undefined;
    }
    return fromColumns(pairs[0]![1], slices);
  }

  private async shared(objects: ObjectReader, from: string | null, to: string): Promise<TreeDiff> {
    const key = pairKey(from, to);
    const entry = this.pairs.get(key);
    if (entry?.diff) return entry.diff;
    if (entry) {
      const diff = fromColumns(entry.stored);
      this.pairs.set(key, { diff, saved: entry.saved });
      return diff;
    }
    let pending = this.computing.get(key);
    if (!pending) {
      pending = (async () => {
        const saved = await this.readLarge(from, to);
        const diff = saved ?? (await diffTrees(objects, from, to));
        this.pairs.set(key, { diff, saved: saved !== undefined });
        if (!saved) this.changed = true;
        return diff;
      })();
      this.computing.set(key, pending);
      const forget = () => this.computing.delete(key);
      pending.then(forget, forget);
    }
    return pending;
  }
}

/** Reads and checks a change index document: its body, `undefined` when there is none, or what made it unusable. */
/** A document's body; `undefined` when there is none, `null` when an older version wrote it (rebuilt without a warning), else why it is not used. */
async function readDocument(file: string): Promise<ChangeIndexBody | string | null | undefined> {
  let bytes: Buffer;
  try {
    const { size } = await fs.stat(file);
    if (size > MAX_INDEX_BYTES) return `it is ${size} bytes, larger than any valid one`;
    bytes = await fs.readFile(file);
  } catch (error) {
    return errorCode(error) === 'ENOENT' ? undefined : `it could not be read (${describeCause(error)})`;
  }
  const stepped = bytes.length > STEPPED_BYTES;
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return `it is not valid JSON (${describeCause(error)})`;
  }
  if (isOlderVersion(raw)) return null;
  if (stepped) await nextTurn();
  const slices = new TimeSlices();
  const valid = stepped ? await checkChangeIndexDocument(raw, () => slices.pause()) : isChangeIndexDocument(raw);
  const parsed = valid ? { success: true as const, data: raw as ChangeIndexDocument } : changeIndexSchema.safeParse(raw);
  if (!parsed.success) return `it is not valid: ${parsed.error.issues[0]?.message ?? 'unknown problem'} at ${parsed.error.issues[0]?.path.join('.') ?? '?'}`;
  // the prefix before the body is ASCII: its length in characters is its length in bytes
  const body = bytes.subarray(BODY_AT, bytes.length - 1);
  const sum = createHash('sha256');
  for (let at = 0; at < body.length; at += STEPPED_BYTES) {
    await slices.pause();
    sum.update(body.subarray(at, at + STEPPED_BYTES));
  }
  if (sum.digest('hex') !== parsed.data.checksum) return 'its checksum does not match its content';
  if (stepped) await nextTurn();
  return parsed.data.body;
}

function isOlderVersion(raw: unknown): boolean {
  const version = typeof raw === 'object' && raw !== null ? (raw as { schemaVersion?: unknown }).schemaVersion : undefined;
  return typeof version === 'number' && Number.isInteger(version) && version >= 1 && version < CHANGE_INDEX_VERSION;
}

async function writeDocument(file: string, body: ChangeIndexBody): Promise<void> {
  const bodyText = JSON.stringify(body);
  if (bodyText.length > STEPPED_BYTES) await nextTurn();
  const text = `{"schemaVersion":${CHANGE_INDEX_VERSION},"checksum":"${checksum(bodyText)}","body":${bodyText}}`;
  try {
    await ensurePrivateDir(path.dirname(file));
    replaceLink(file);
    await writeFileAtomic(file, text, { mode: PRIVATE_FILE_MODE, fsync: false });
  } catch (error) {
    throw ioError(`write the change index ${file}`, error);
  }
}

/** A document's pairs, each a range of its columns (split once), by pair key; the event loop given its turns by `slices`. */
async function storedPairs(body: ChangeIndexBody, slices: TimeSlices): Promise<Array<[string, StoredPair]>> {
  const columns: Columns = { ops: body.ops, paths: await splitStepped(body.paths, '\0', slices), kinds: body.kinds, hashes: body.hashes, sizes: await splitStepped(body.sizes, ',', slices), modes: await splitStepped(body.modes, ',', slices) };
  const counts = (await splitStepped(body.counts, ',', slices)).map(Number);
  const pairs: Array<[string, StoredPair]> = [];
  let op = 0;
  let entry = 0;
  for (let i = 0; i < counts.length; i++) {
    if ((i & 63) === 63) await slices.pause();
    const from = body.froms.slice(i * 64, i * 64 + 64);
    const opEnd = op + counts[i]!;
    pairs.push([pairKey(from === NONE ? null : from, body.tos.slice(i * 64, i * 64 + 64)), { columns, opStart: op, opEnd, entryStart: entry }]);
    for (; op < opEnd; op++) entry += body.ops[op] === 'm' ? 2 : 1;
  }
  return pairs;
}

async function fileExists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

function changeCount(pair: TreeDiff | StoredPair): number {
  return 'opEnd' in pair ? pair.opEnd - pair.opStart : pair.added.length + pair.modified.length + pair.deleted.length;
}

/** Pairs, folder names and line counts as a document's columns. */
async function columnsOf(pairs: ReadonlyArray<[string, TreeDiff | StoredPair]>, folderNames: ReadonlyMap<string, readonly string[]>, lineChanges: ReadonlyMap<string, LineChange>): Promise<ChangeIndexBody> {
  const slices = new TimeSlices();
  const tos: string[] = [];
  const froms: string[] = [];
  const counts: number[] = [];
  const ops: string[] = [];
  const paths: string[] = [];
  const kinds: string[] = [];
  const hashes: string[] = [];
  const sizes: Array<number | string> = [];
  const modes: Array<number | string> = [];
  const add = (info: FileInfo) => {
    kinds.push(info.kind);
    hashes.push(info.hash);
    sizes.push(info.size);
    modes.push(info.mode);
  };
  for (const [i, [key, pair]] of pairs.entries()) {
    if ((i & 63) === 0) await slices.pause();
    const at = key.indexOf('>');
    froms.push(at === 0 ? NONE : key.slice(0, at));
    tos.push(key.slice(at + 1));
    if ('opEnd' in pair) {
      // a pair as it was read: its ranges of the columns, copied as they are
      const c = pair.columns;
      let entryEnd = pair.entryStart;
      for (let op = pair.opStart; op < pair.opEnd; op++) entryEnd += c.ops[op] === 'm' ? 2 : 1;
      counts.push(pair.opEnd - pair.opStart);
      ops.push(c.ops.slice(pair.opStart, pair.opEnd));
      for (let op = pair.opStart; op < pair.opEnd; op++) paths.push(c.paths[op]!);
      kinds.push(c.kinds.slice(pair.entryStart, entryEnd));
      hashes.push(c.hashes.slice(pair.entryStart * 64, entryEnd * 64));
      for (let k = pair.entryStart; k < entryEnd; k++) {
        sizes.push(c.sizes[k]!);
        modes.push(c.modes[k]!);
      }
      continue;
    }
    const diff = pair;
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
  let n = 0;
  for (const [key, change] of lineChanges) {
    if ((++n & 255) === 0) await slices.pause();
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
    folderRoots: [...folderNames.keys()].join(''),
    folderNames: [...folderNames.values()].map((names) => names.join('/')).join('\0'),
    lineHashes: lineHashes.join(''),
    lineCounts: lineCounts.join(','),
  };
}

function split(text: string, separator: string): string[] {
  return text === '' ? [] : text.split(separator);
}

/** `split` in pieces of about STEP_CHARACTERS, cut at a separator, with `slices` pausing between them (a large pair's columns are 10,000 values and more). */
async function splitStepped(text: string, separator: string, slices: TimeSlices): Promise<string[]> {
  if (text.length <= STEP_CHARACTERS) return split(text, separator);
  const parts: string[] = [];
  for (let at = 0; ; ) {
    await slices.pause();
    const cut = text.indexOf(separator, at + STEP_CHARACTERS);
    for (const part of text.slice(at, cut === -1 ? undefined : cut).split(separator)) parts.push(part);
    if (cut === -1) return parts;
    at = cut + separator.length;
  }
}

function pairKey(from: string | null, to: string): string {
  return `${from ?? ''}>${to}`;
}

function checksum(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

function copy(diff: TreeDiff): TreeDiff {
  return { added: [...diff.added], modified: [...diff.modified], deleted: [...diff.deleted] };
}

function findChange(diff: TreeDiff, path: string): FileChange | undefined {
  return find(diff.added, path) ?? find(diff.modified, path) ?? find(diff.deleted, path);
}

/** The change at `path` in a stored pair, read from its columns (no other change decoded). */
function storedChangeAt(pair: StoredPair, path: string): FileChange | undefined {
  const c = pair.columns;
  let k = pair.entryStart;
  for (let i = pair.opStart; i < pair.opEnd; i++) {
    const op = c.ops[i];
    if (c.paths[i] === path) {
      const info = (at: number): FileInfo => ({ kind: c.kinds[at] as FileInfo['kind'], hash: c.hashes.slice(at * 64, at * 64 + 64), size: Number(c.sizes[at]), mode: Number(c.modes[at]) });
      if (op === 'a') return { path, after: info(k) };
      if (op === 'd') return { path, before: info(k) };
      return { path, before: info(k), after: info(k + 1) };
    }
    k += op === 'm' ? 2 : 1;
  }
  return undefined;
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

/** A stored pair's changes as `diffTrees` gives them; with `slices`, the event loop is given turns on the way. */
function fromColumns(pair: StoredPair): TreeDiff;
function fromColumns(pair: StoredPair, slices: TimeSlices): Promise<TreeDiff>;
function fromColumns(pair: StoredPair, slices?: TimeSlices): TreeDiff | Promise<TreeDiff> {
  if (!slices) {
    const diff: TreeDiff = { added: [], modified: [], deleted: [] };
    decodeRange(pair, pair.opStart, pair.opEnd, pair.entryStart, diff);
    return diff;
  }
  return (async () => {
    const diff: TreeDiff = { added: [], modified: [], deleted: [] };
    let k = pair.entryStart;
    for (let i = pair.opStart; i < pair.opEnd; i += 1024) {
      await slices.pause();
      k = decodeRange(pair, i, Math.min(i + 1024, pair.opEnd), k, diff);
    }
    return diff;
  })();
}

/** Decodes the changes `[opStart, opEnd)` of a pair (their first file entry at `k`) into `diff`; gives the entry after them. */
function decodeRange(pair: StoredPair, opStart: number, opEnd: number, k: number, diff: TreeDiff): number {
  const { columns: c } = pair;
  const next = (): FileInfo => {
    const info: FileInfo = { kind: c.kinds[k] as FileInfo['kind'], hash: c.hashes.slice(k * 64, k * 64 + 64), size: Number(c.sizes[k]), mode: Number(c.modes[k]) };
    k++;
    return info;
  };
  for (let i = opStart; i < opEnd; i++) {
    const path = c.paths[i]!;
    const op = c.ops[i];
    if (op === 'a') diff.added.push({ path, after: next() });
    else if (op === 'd') diff.deleted.push({ path, before: next() });
    else {
      const before = next();
      diff.modified.push({ path, before, after: next() });
    }
  }
  return k;
}
