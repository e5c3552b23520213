import * as z from 'zod';

/**
 * A schema built the first time it is used (#14). Building zod schemas is much of what loading the core
 * costs a fresh process, and a command reads a few kinds of documents: `list` reads no tree, a point
 * never reads a bundle. The value stands for the schema itself; its methods run on the built one.
 */
export function lazySchema<T extends z.ZodType>(build: () => T): T {
  let built: T | undefined;
  const schema = (): T => (built ??= build());
  return new Proxy(Object.create(null) as T, {
    get(_, key) {
      const target = schema();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' && key !== 'constructor' ? value.bind(target) : value;
    },
    has: (_, key) => Reflect.has(schema(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  });
}

/** Documents of the store, validated whenever they are read from disk. Older schema versions are migrated, not rejected. */
/** Longest label a point may have (characters). */
export const MAX_LABEL_LENGTH = 200;

export const SCHEMA_VERSION = 1;
/** The files a restore records for its undo to delete (`LastRestore.untrackedWrites`); a restore that creates more leaves the rest to the person. */
export const MAX_UNTRACKED_WRITES = 2000;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]),
);

const isoTime = lazySchema(() =>
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time'),
);
/** Ids sort by creation time: `20261125T150842123Z-a1b2c3`. */
export const pointIdSchema = lazySchema(() =>
  z.string().regex(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/, 'is not a recovery point id'),
);
export const hashSchema = lazySchema(() =>
  z.string().regex(/^[0-9a-f]{64}$/, 'is not a content hash'),
);

export const selectionSchema = lazySchema(() =>
  z.object({
    anchor: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
    active: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  }),
);
export const editorTabSchema = lazySchema(() =>
  z.object({
    /** A workspace path (`root/rel/path`) for files in the workspace, otherwise the document's URI. */
    path: z.string().min(1).max(4096),
    isActive: z.boolean().default(false),
    isPinned: z.boolean().default(false),
    isPreview: z.boolean().default(false),
    selections: z.array(selectionSchema).max(100).default([]),
  }),
);
export const editorGroupSchema = lazySchema(() =>
  z.object({
    viewColumn: z.number().int().positive(),
    tabs: z.array(editorTabSchema).max(500),
  }),
);
export const editorSessionSchema = lazySchema(() =>
  z.object({
    groups: z.array(editorGroupSchema).max(50).default([]),
    activeViewColumn: z.number().int().positive().nullable().default(null),
  }),
);
export type EditorSession = z.infer<typeof editorSessionSchema>;
export type EditorTab = z.infer<typeof editorTabSchema>;

export const conflictRecordSchema = lazySchema(() =>
  z.object({
    key: z.string(),
    at: isoTime,
    actor: z.string(),
    /** The rule kept this side's value: the writer that saves later wins a key both sides changed. */
    kept: z.enum(['ours', 'theirs']),
  }),
);
export type ConflictRecord = z.infer<typeof conflictRecordSchema>;

export const lastRestoreSchema = lazySchema(() =>
  z.object({
    restoredPointId: pointIdSchema,
    safetyPointId: pointIdSchema,
    at: isoTime,
    paths: z.array(z.string()).nullable(),
    /** Set after a restore that wrote and deleted nothing (it then has no point of its result): its undo changes nothing. */
    nothingChanged: z.literal(true).optional(),
    /**
     * The folders (point paths, workspace names) the restore created to write files into, set after a
     * restore that added files: its undo removes only these when they are left empty, so a folder that
     * was there before (empty, as points do not record) stays. Absent (an older record, a restore killed
     * part way or unable to write it): the undo removes every folder its deletions leave empty.
     */
    createdFolders: z.array(z.string()).optional(),
    /**
     * Files the restore created that points leave out now (excluded, ignored, over the size limit since
     * the point): no point of its result holds them, so its undo removes these, each while it still
     * holds what the restore wrote. At most `MAX_UNTRACKED_WRITES` (the state file is read often).
     */
    untrackedWrites: z
      .array(z.object({ path: z.string(), hash: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative(), mode: z.number().int().nonnegative() }))
      .max(MAX_UNTRACKED_WRITES)
      .optional(),
    /** The real folders of the workspace folders opened through a link, by name: an undo finds the folder after the link is gone. */
    realPaths: z.record(z.string(), z.string()).optional(),
    /** Each workspace folder's device and inode (`dev:ino`), by name: an undo tells the folder moved from another folder (a copy). */
    folderIds: z.record(z.string(), z.string().max(100)).optional(),
  }),
);
export type LastRestore = z.infer<typeof lastRestoreSchema>;

export const contextStateSchema = lazySchema(() =>
  z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    /** Increases by one with every update; a writer whose cached version is older merges instead of overwriting. */
    version: z.number().int().nonnegative(),
    updatedAt: isoTime,
    updatedBy: z.string(),
    newestPointId: pointIdSchema.nullable(),
    session: editorSessionSchema,
    data: z.record(z.string(), jsonValueSchema),
    lastRestore: lastRestoreSchema.nullable().default(null),
    /** The most recent merge conflicts (newest last, at most 20); the audit log keeps them all. */
    conflicts: z.array(conflictRecordSchema).max(20).default([]),
  }),
);
export type ContextState = z.infer<typeof contextStateSchema>;

/** Schema 0: the spec's first state file, before sessions and schema versions. */
const contextStateV0Schema = lazySchema(() =>
  z.object({
    version: z.number().int().nonnegative().default(0),
    updatedAt: isoTime.optional(),
    newestPointId: pointIdSchema.nullable().optional(),
    data: z.record(z.string(), jsonValueSchema).default({}),
  }),
);

export function emptyContextState(actor: string, now = new Date()): ContextState {
  return {
    schemaVersion: SCHEMA_VERSION,
    version: 0,
    updatedAt: now.toISOString(),
    updatedBy: actor,
    newestPointId: null,
    session: { groups: [], activeViewColumn: null },
    data: {},
    lastRestore: null,
    conflicts: [],
  };
}

function migrateState(raw: unknown): unknown {
  if (typeof raw === 'object' && raw !== null && !('schemaVersion' in raw)) {
    const v0 = contextStateV0Schema.parse(raw);
    return {
      ...emptyContextState('migration', v0.updatedAt ? new Date(v0.updatedAt) : new Date(0)),
      version: v0.version,
      newestPointId: v0.newestPointId ?? null,
      data: v0.data,
    };
  }
  return raw;
}

/** `restore`: the workspace as a restore (or an undo) left it. `agent`: made by an AI agent's hook (`agent` names it). */
export const triggerSchema = lazySchema(() =>
  z.enum(['manual', 'save', 'external', 'before-restore', 'restore', 'startup', 'agent']),
);
export type Trigger = z.infer<typeof triggerSchema>;

/** What a repository's HEAD names: a branch, or a commit when detached. */
export const gitHeadSchema = lazySchema(() =>
  z.union([z.object({ branch: z.string().min(1).max(1000) }), z.object({ commit: z.string().regex(/^[0-9a-f]{40,64}$/) })]),
);
export type GitHead = z.infer<typeof gitHeadSchema>;

export const workspaceRootSchema = lazySchema(() =>
  z.object({
    name: z.string().min(1),
    path: z.string().min(1),
    /** The folder `path` led to when the point was made (links resolved): a workspace folder that now leads elsewhere is refused. */
    realPath: z.string().min(1).optional(),
    /** The HEAD of the git repository holding the folder when the point was made; absent without one (and in older stores). */
    head: gitHeadSchema.optional(),
    /**
     * The folder's device, inode and creation time when the point was made (`dev:ino:birthtime`): a
     * folder renamed or moved on disk is still this one. Absent where the file system gives no
     * creation time (and in older stores).
     */
    id: z.string().min(1).max(100).optional(),
    /**
     * A digest of the git rules that apply to the folder but are no file of it (the global excludes
     * file, `.git/info/exclude`), as the point was captured; a later capture that reads them otherwise
     * scans the folder again and names the files they let in. Absent where git's rules are not followed
     * (and in older stores).
     */
    outsideRules: z.string().regex(/^[0-9a-f]{16}$/).optional(),
  }),
);
export type WorkspaceRoot = z.infer<typeof workspaceRootSchema>;

export const changeCountsSchema = lazySchema(() =>
  z.object({
    added: z.number().int().nonnegative(),
    modified: z.number().int().nonnegative(),
    deleted: z.number().int().nonnegative(),
    /** Of `deleted`, the files still on disk that the point stopped tracking (its `untracked`); absent when none (and in older stores). */
    untracked: z.number().int().positive().optional(),
    /** Of `added`, the files on disk before that the point began tracking (its `nowTracked`); absent when none (and in older stores). */
    nowTracked: z.number().int().positive().optional(),
  }),
);
export type ChangeCounts = z.infer<typeof changeCountsSchema>;

/** At most this many paths are kept in a point as no longer or now tracked (`untracked`, `nowTracked`); the rest are shown as deletions and additions. */
export const MAX_UNTRACKED_PATHS = 1000;

/** What the point list shows: a manifest without the captured state. */
export const pointSummarySchema = lazySchema(() =>
  z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    id: pointIdSchema,
    createdAt: isoTime,
    trigger: triggerSchema,
    label: z.string().max(MAX_LABEL_LENGTH).nullable(),
    /** What triggered it, in words: "Saved app.ts, util.ts". */
    summary: z.string().max(500),
    actor: z.string(),
    /** The root tree: one entry per workspace folder. */
    root: hashSchema,
    roots: z.array(workspaceRootSchema),
    parentId: pointIdSchema.nullable(),
    changes: changeCountsSchema,
    fileCount: z.number().int().nonnegative(),
    totalSize: z.number().int().nonnegative(),
    /** Bytes this point added to the store (new compressed objects). */
    addedBytes: z.number().int().nonnegative(),
    /** A digest of the capture rules the point was taken with; a point with other rules is no base for a hint. */
    rules: z.string().regex(/^[0-9a-f]{16}$/).optional(),
    /** The AI agent whose hook made the point ("Claude Code"); absent for every other point (and in older stores). */
    agent: z.string().min(1).max(100).optional(),
    /**
     * Point paths the point stopped tracking while they were on disk (a `.gitignore` line or an exclude
     * added, a file grown past the size limit): among its deletions, but not deleted. A folder stands
     * for every file below it (`stillOnDisk`); absent when there is none (and in older stores).
     */
    untracked: z.array(z.string().min(1).max(4096)).min(1).max(MAX_UNTRACKED_PATHS).optional(),
    /**
     * Point paths the point began tracking that were on disk before the point before it (a `.gitignore`
     * line or an exclude taken out): among its additions, but not created. A folder stands for every
     * file below it (`existedBefore`); absent when there is none (and in older stores).
     */
    nowTracked: z.array(z.string().min(1).max(4096)).min(1).max(MAX_UNTRACKED_PATHS).optional(),
    /**
     * Point paths on disk when the point was made that its capture left out although the rules include
     * them (larger than the size limit, unreadable, a special file): a restore of the point leaves them
     * as they are rather than delete them. A hint capture carries over its parent's that it did not
     * capture; absent when there is none (and in older stores).
     */
    leftOut: z.array(z.string().min(1).max(4096)).min(1).max(MAX_UNTRACKED_PATHS).optional(),
  }),
);
export type PointSummary = z.infer<typeof pointSummarySchema>;

/** A recovery point (the spec's ContextSnapshot), one immutable file per point; only its label may change. */
export const contextSnapshotSchema = lazySchema(() =>
  pointSummarySchema.extend({ state: contextStateSchema }),
);
export type ContextSnapshot = z.infer<typeof contextSnapshotSchema>;

/** A cache of the summaries of every point, cross-checked against the points folder when read. */
export const pointIndexSchema = lazySchema(() =>
  z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    points: z.array(pointSummarySchema),
    /** Names this version of the document: only journal lines of the same generation extend it (absent: none do; older stores). */
    generation: z.string().min(1).max(64).optional(),
  }),
);
export type PointIndex = z.infer<typeof pointIndexSchema>;
/** One line of `points/index.journal`: a point listed after the index document of generation `g` was written. */
export const pointIndexJournalLineSchema = lazySchema(() =>
  z.object({ g: z.string().min(1).max(64), add: pointSummarySchema }),
);

/** Tree entries: `f` file, `l` symbolic link (the blob holds its target, never followed), `d` folder. */
export const treeEntryKindSchema = lazySchema(() =>
  z.enum(['f', 'l', 'd']),
);
export type TreeEntryKind = z.infer<typeof treeEntryKindSchema>;
export const treeEntrySchema = lazySchema(() =>
  z.tuple([
    z.string().min(1).max(1024),
    treeEntryKindSchema,
    hashSchema,
    /** Size in bytes of the file, or of every file below a folder. */
    z.number().int().nonnegative(),
    /** Permission bits of a file (`mode & 0o777`, so the executable bit is kept); 0 for folders and links. */
    z.number().int().min(0).max(0o7777),
  ]),
);
export type TreeEntry = z.infer<typeof treeEntrySchema>;
export const treeObjectSchema = lazySchema(() =>
  z.object({ v: z.literal(1), e: z.array(treeEntrySchema) }),
);
export type TreeObject = z.infer<typeof treeObjectSchema>;

/**
 * Version of the change index document (`cache/change-index.json`); another version is ignored and
 * rebuilt. 2: line counts as the diff editor shows them (`lineCounts`); version 1's were git's.
 */
export const CHANGE_INDEX_VERSION = 2;

/**
 * The change index's content as columns of text, so checking it costs a few passes over strings
 * however many points it holds. Per pair of root trees: its `to` hash and its `from` hash (64 `-` for
 * nothing) and its number of changes; per change an op (`a` added, `m` modified, `d` deleted; within a
 * pair each group sorted by path, in that order) and a path (joined by NUL, which no name holds); per
 * file entry of those changes (before, then after) a kind, a hash (64 hex digits each, joined), a size
 * and a mode (decimal, joined by commas). Per root tree its hash and its folders' names (`/` between
 * names, NUL between roots). Per pair of contents the line counts: both hashes (64 `-` for nothing) and
 * binary (0/1), lines added, lines removed.
 */
export const changeIndexBodySchema = lazySchema(() =>
  z
    .object({
      tos: z.string().regex(/^[0-9a-f]*$/, 'has a root hash that is not one'),
      froms: z.string().regex(/^[0-9a-f-]*$/, 'has a root hash that is not one'),
      counts: z.string().regex(/^(?:\d+(?:,\d+)*)?$/, 'has a count that is not a number'),
      ops: z.string().regex(/^[amd]*$/, 'has an unknown op'),
      paths: z.string(),
      kinds: z.string().regex(/^[fl]*$/, 'has an unknown kind'),
      hashes: z.string().regex(/^[0-9a-f]*$/, 'has a hash that is not hexadecimal'),
      sizes: z.string().regex(/^(?:\d+(?:,\d+)*)?$/, 'has a size that is not a number'),
      modes: z.string().regex(/^(?:\d{1,4}(?:,\d{1,4})*)?$/, 'has a mode that is not a number'),
      folderRoots: z.string().regex(/^[0-9a-f]*$/, 'has a root hash that is not one'),
      folderNames: z.string(),
      lineHashes: z.string().regex(/^[0-9a-f-]*$/, 'has a content hash that is not one'),
      lineCounts: z.string().regex(/^(?:[01],\d+,\d+(?:,[01],\d+,\d+)*)?$/, 'has line counts that are not numbers'),
    })
    .refine((b) => {
      const count = (text: string, separator: string) => (text === '' ? 0 : text.split(separator).length);
      // hashes are 64 characters each; where a hash may be absent, a block is all `-` or holds none
      const blocks = (text: string) => {
        if (text.length % 64 !== 0) return false;
        for (let at = text.indexOf('-'); at !== -1; at = text.indexOf('-', at - (at % 64) + 64)) if (text.slice(at - (at % 64), at - (at % 64) + 64) !== '-'.repeat(64)) return false;
        return true;
      };
      if (!blocks(b.tos) || !blocks(b.froms) || !blocks(b.hashes) || !blocks(b.folderRoots) || !blocks(b.lineHashes)) return false;
      const pairs = b.tos.length / 64;
      const perPair = b.counts === '' ? [] : b.counts.split(',').map(Number);
      if (b.froms.length !== b.tos.length || perPair.length !== pairs || perPair.reduce((a, n) => a + n, 0) !== b.ops.length) return false;
      let entries = 0;
      for (let i = 0; i < b.ops.length; i++) entries += b.ops[i] === 'm' ? 2 : 1;
      if (count(b.paths, '\0') !== b.ops.length || b.kinds.length !== entries || b.hashes.length !== entries * 64) return false;
      if (count(b.sizes, ',') !== entries || count(b.modes, ',') !== entries) return false;
      if (b.folderRoots.length / 64 !== (b.folderRoots === '' ? 0 : b.folderNames.split('\0').length)) return false;
      return count(b.lineCounts, ',') === (b.lineHashes.length / 128) * 3 && b.lineHashes.length % 128 === 0;
    }, 'has columns that do not match'),
);
export type ChangeIndexBody = z.infer<typeof changeIndexBodySchema>;
/** The change index: a cache of the changes between points, with a checksum (SHA-256) of the body's JSON text. */
export const changeIndexSchema = lazySchema(() =>
  z.object({ schemaVersion: z.literal(CHANGE_INDEX_VERSION), checksum: hashSchema, body: changeIndexBodySchema }),
);

/** Capture cache: root name → relative path → [size, mtimeMs, ctimeMs, ino, hash, mode]. */
export const captureCacheEntrySchema = lazySchema(() =>
  z.tuple([z.number(), z.number(), z.number(), z.number(), hashSchema, z.number()]),
);
export type CaptureCacheEntry = z.infer<typeof captureCacheEntrySchema>;
/** The entries of one root as parallel columns: smaller than one tuple per path, and checked far faster. */
export interface CaptureCacheColumns {
  paths: string[];
  sizes: number[];
  mtimes: number[];
  ctimes: number[];
  inodes: number[];
  /** Every path's hash, 64 hex digits each, one after the other. */
  hashes: string;
  modes: number[];
}
const NUMBER_COLUMNS = ['sizes', 'mtimes', 'ctimes', 'inodes', 'modes'] as const;

/**
 * The columns' shape, checked when the document is read: a list of paths, lists of one length, and 64
 * characters of hash per path. Each entry's other values are checked when it is first used
 * (`captureCacheEntriesValid`, by `ColumnEntries`): a point of a few files looks up a handful of tens of
 * thousands, and a pass over every value cost a cold start more than parsing the document (#14).
 */
function isCaptureCacheColumns(value: unknown): value is CaptureCacheColumns {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const c = value as Record<string, unknown>;
  const paths = c.paths;
  if (!Array.isArray(paths)) return false;
  const n = paths.length;
  for (let i = 0; i < n; i++) if (typeof paths[i] !== 'string') return false;
  for (const key of NUMBER_COLUMNS) {
    const column = c[key];
    if (!Array.isArray(column) || column.length !== n) return false;
  }
  const hashes = c.hashes;
  return typeof hashes === 'string' && hashes.length === n * 64;
}

/**
 * Whether the entries `from` to `to` (exclusive) of columns of the right shape hold what an entry may:
 * four finite numbers, a hash of 64 hex digits and a fifth number (`captureCacheEntrySchema`'s rules),
 * checked with plain loops.
 */
export function captureCacheEntriesValid(c: CaptureCacheColumns, from: number, to: number): boolean {
  for (const key of NUMBER_COLUMNS) {
    const column: readonly unknown[] = c[key];
    for (let i = from; i < to; i++) {
      const item = column[i];
      if (typeof item !== 'number' || !Number.isFinite(item)) return false;
    }
  }
  return HEX_DIGITS.test(from === 0 && to * 64 === c.hashes.length ? c.hashes : c.hashes.slice(from * 64, to * 64));
}
const HEX_DIGITS = /^[0-9a-f]*$/;
export const captureCacheColumnsSchema = lazySchema(() =>
  z.custom<CaptureCacheColumns>(isCaptureCacheColumns, 'has columns that are not lists of the same length of paths, numbers and hashes'),
);
export const captureCacheSchema = lazySchema(() =>
  z.union([
    z.object({
      schemaVersion: z.literal(SCHEMA_VERSION),
      /** Names this writing of the document: journal lines of another generation are ignored. */
      generation: z.string().min(1).max(64),
      columns: z.record(z.string(), captureCacheColumnsSchema),
    }),
    // the first form (one tuple per path), still read
    z.object({
      schemaVersion: z.literal(SCHEMA_VERSION),
      generation: z.string().min(1).max(64).optional(),
      roots: z.record(z.string(), z.record(z.string(), captureCacheEntrySchema)),
    }),
  ]),
);
export type CaptureCacheDocument = z.infer<typeof captureCacheSchema>;
/** One line of the capture cache's journal: the changes of one save, on top of the document of generation `g`. */
export interface CaptureCacheJournalLine {
  g: string;
  /** root name → relative path → entry set */
  set: Record<string, Record<string, CaptureCacheEntry>>;
  /** root name → relative paths dropped */
  del: Record<string, string[]>;
}

/**
 * Checked with plain loops, as the columns are: a cold start replays every line of the journal (hundreds
 * of saves), and a schema pass per line and per entry was most of its cost. The rules are
 * `captureCacheEntrySchema`'s and zod's for records: a generation of 1–64 characters, plain objects of
 * plain objects, entries of four finite numbers, a content hash and a fifth number, nothing more.
 */
function isCaptureCacheJournalLine(value: unknown): value is CaptureCacheJournalLine {
  if (!isPlainRecord(value)) return false;
  const { g, set, del } = value;
  if (typeof g !== 'string' || g.length < 1 || g.length > 64 || !isPlainRecord(set) || !isPlainRecord(del)) return false;
  for (const entries of Object.values(set)) {
    if (!isPlainRecord(entries)) return false;
    for (const entry of Object.values(entries)) if (!isCaptureCacheEntry(entry)) return false;
  }
  for (const paths of Object.values(del)) {
    if (!Array.isArray(paths)) return false;
    for (const rel of paths) if (typeof rel !== 'string') return false;
  }
  return true;
}

function isCaptureCacheEntry(value: unknown): value is CaptureCacheEntry {
  if (!Array.isArray(value) || value.length !== 6) return false;
  for (let i = 0; i < 6; i++) if (i !== 4 && !Number.isFinite(value[i])) return false;
  return typeof value[4] === 'string' && HASH.test(value[4]);
}
const HASH = /^[0-9a-f]{64}$/;

/** An object as JSON gives one (no array, no class instance): what zod's records accept. */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
export const captureCacheJournalLineSchema = lazySchema(() =>
  z.custom<CaptureCacheJournalLine>(isCaptureCacheJournalLine, 'is not a capture cache journal line'),
);

export const auditEntrySchema = lazySchema(() =>
  z.object({
    at: isoTime,
    actor: z.string(),
    action: z.enum(['create', 'restore', 'label', 'delete', 'cleanup', 'gc', 'conflict', 'repair', 'state', 'recover-state', 'import', 'adopt', 'hook']),
    pointId: pointIdSchema.optional(),
    details: z.record(z.string(), jsonValueSchema).optional(),
  }),
);
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** A document type: its schema and how older versions become the current one. */
export interface DocumentType<T> {
  readonly name: string;
  readonly schema: z.ZodType<T>;
  readonly migrate?: (raw: unknown) => unknown;
  /** Largest file of this type that is read or written; a bigger one is refused as corrupt (InvalidState). */
  readonly maxBytes?: number;
}

/** The state and each manifest (which holds a copy of the state) stay small: every point rewrites them. */
const MAX_STATE_BYTES = 16 * 1024 * 1024;

export const stateDocument: DocumentType<ContextState> = { name: 'state file', schema: contextStateSchema, migrate: migrateState, maxBytes: MAX_STATE_BYTES };
export const snapshotDocument: DocumentType<ContextSnapshot> = {
  name: 'recovery point manifest',
  schema: contextSnapshotSchema,
  maxBytes: MAX_STATE_BYTES + 64 * 1024,
  migrate: (raw) => {
    if (typeof raw === 'object' && raw !== null && 'state' in raw) {
      const r = raw as Record<string, unknown>;
      return { ...r, state: migrateState(r.state) };
    }
    return raw;
  },
};
export const pointIndexDocument: DocumentType<PointIndex> = { name: 'point index', schema: pointIndexSchema, maxBytes: 64 * 1024 * 1024 };
export const captureCacheDocument: DocumentType<CaptureCacheDocument> = { name: 'capture cache', schema: captureCacheSchema };

/**
 * The capture rules the extension makes points with (its `recoveryPoints.*` settings), kept in the
 * store so the command-line tool, the agent hooks and the MCP server, which open the store without
 * settings of their own, capture and restore by the same rules.
 */
export const captureRulesFileSchema = lazySchema(() =>
  z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    rules: z.object({
      respectGitignore: z.boolean(),
      excludes: z.array(z.string().max(4096)).max(10_000),
      excludeSecrets: z.boolean(),
      maxFileSize: z.number().int().nonnegative(),
    }),
  }),
);
export type CaptureRulesFile = z.infer<typeof captureRulesFileSchema>;
export const captureRulesDocument: DocumentType<CaptureRulesFile> = { name: 'capture rules', schema: captureRulesFileSchema, maxBytes: 4 * 1024 * 1024 };

/**
 * The retention limits the extension cleans up by (its `recoveryPoints.max*` settings), kept in the
 * store so a clean-up the command-line tool, an agent's hook or the MCP server starts removes no point
 * the person's settings keep.
 */
export const retentionFileSchema = lazySchema(() =>
  z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    retention: z.object({
      maxRecoveryPoints: z.number().int().positive(),
      maxAgeDays: z.number().nonnegative(),
      maxTotalBytes: z.number().nonnegative(),
    }),
  }),
);
export type RetentionFile = z.infer<typeof retentionFileSchema>;
export const retentionDocument: DocumentType<RetentionFile> = { name: 'retention limits', schema: retentionFileSchema, maxBytes: 64 * 1024 };

/** Files one window saved lately, with the size and modification time each save left: how another window tells such a change from one made outside the editor. */
export const recentSavesSchema = lazySchema(() =>
  z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    actor: z.string().max(200),
    saves: z
      .array(z.object({ path: z.string().min(1).max(4096), size: z.number().int().nonnegative(), mtimeMs: z.number(), at: z.number() }))
      .max(1000),
  }),
);
export type RecentSaves = z.infer<typeof recentSavesSchema>;
export const recentSavesDocument: DocumentType<RecentSaves> = { name: 'recent saves', schema: recentSavesSchema, maxBytes: 1024 * 1024 };

/** The header line of a save kept on disk until its point is made (`PendingSaves`); the saved bytes follow it. */
export const pendingSaveHeaderSchema = lazySchema(() =>
  z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    path: z.string().min(1).max(4096),
    mode: z.number().int().nonnegative(),
    savedAt: z.number(),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
);
export type PendingSaveHeader = z.infer<typeof pendingSaveHeaderSchema>;
