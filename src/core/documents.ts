import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { onExit } from 'signal-exit';
import writeFileAtomic from 'write-file-atomic';
import { describeCause, errorCode, ioError, StateError } from './errors';
import type { DocumentType } from './schemas';

/** Store files and folders are readable by their owner only. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** Largest document we agree to parse; anything bigger is treated as corrupt rather than read into memory. */
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

/**
 * Creates a folder readable by its owner only, or takes group and others' access away from one that
 * exists. It never adds a permission: a store its owner made read-only stays read-only.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const { mode } = await fs.stat(dir);
    if ((mode & 0o077) !== 0) await fs.chmod(dir, mode & 0o700);
  } catch (error) {
    throw ioError(`create the folder ${dir}`, error);
  }
}

/**
 * `ensurePrivateDir` without giving up the thread: for the few folders a store needs before it can
 * list its points, so that opening a store takes no turn of a busy event loop (an extension host
 * shares its thread with every other extension, and each turn can cost hundreds of ms at start-up).
 */
export function ensurePrivateDirSync(dir: string): void {
  try {
    fsSync.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const { mode } = fsSync.statSync(dir);
    if ((mode & 0o077) !== 0) fsSync.chmodSync(dir, mode & 0o700);
  } catch (error) {
    throw ioError(`create the folder ${dir}`, error);
  }
}

/**
 * fsync a folder so that renames into it survive a power loss. write-file-atomic syncs the file but
 * not its folder; we sync folders wherever a later write depends on an earlier one being durable.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some file systems refuse fsync on folders; the rename itself is still atomic there.
    if (errorCode(error) !== 'EINVAL' && errorCode(error) !== 'EISDIR') throw ioError(`sync the folder ${dir}`, error);
  } finally {
    await handle?.close();
  }
}

/**
 * `fsyncDir` with synchronous calls, for the small metadata writes of a point: inside the locked section
 * a few microseconds each instead of a thread-pool round trip.
 */
export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fsSync.openSync(dir, 'r');
    fsSync.fsyncSync(fd);
  } catch (error) {
    if (errorCode(error) !== 'EINVAL' && errorCode(error) !== 'EISDIR') throw ioError(`sync the folder ${dir}`, error);
  } finally {
    if (fd !== undefined) fsSync.closeSync(fd);
  }
}

/** fsync a file already written (its data and size), so it survives a power loss. */
export function fsyncFileSync(file: string): void {
  let fd: number | undefined;
  try {
    fd = fsSync.openSync(file, 'r');
    fsSync.fsyncSync(fd);
  } catch (error) {
    throw ioError(`sync the file ${file}`, error);
  } finally {
    if (fd !== undefined) fsSync.closeSync(fd);
  }
}
/**
 * A hand-written check of a document's shape that answers `true` only for a value its schema accepts
 * as it is (nothing to strip or default): the common case skips the schema's pass, anything else is
 * checked by the schema, which words the error.
 */
export type QuickCheck<T> = (value: unknown) => value is T;

/** Parses and validates a document's bytes, migrating older schema versions. Throws InvalidState. */
export function parseDocument<T>(type: DocumentType<T>, text: string, where: string, quick?: QuickCheck<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw StateError.invalidState(`The ${type.name} ${where} is not valid JSON (${describeCause(error)}).`, error);
  }
  const migrated = type.migrate ? safeMigrate(type, raw, where) : raw;
  if (quick?.(migrated)) return migrated;
  const result = type.schema.safeParse(migrated);
  if (!result.success) {
    const issue = result.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw StateError.invalidState(`The ${type.name} ${where} is not valid: ${issue?.message ?? 'unknown problem'}${at}.`, result.error);
  }
  return result.data;
}

/**
 * The lines of an append-only journal that are JSON and fit `schema`, in order, and how many are not
 * (a line torn by a crash while it was appended, or damaged). Empty lines are passed over.
 */
export function parseJournalLines<T>(text: string, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): { lines: T[]; unreadable: number } {
  const lines: T[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let parsed;
    try {
      parsed = schema.safeParse(JSON.parse(line));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) lines.push(parsed.data);
    else unreadable++;
  }
  return { lines, unreadable };
}

function safeMigrate<T>(type: DocumentType<T>, raw: unknown, where: string): unknown {
  try {
    return type.migrate!(raw);
  } catch (error) {
    throw StateError.invalidState(`The ${type.name} ${where} has an old format that could not be migrated (${describeCause(error)}).`, error);
  }
}

/**
 * Reads a document; `undefined` when the file does not exist. Throws InvalidState when it is corrupt,
 * IoError when unreadable. Documents are small and size-limited, so the read itself is synchronous.
 */
export async function readDocument<T>(file: string, type: DocumentType<T>): Promise<T | undefined> {
  return readDocumentSync(file, type)?.value;
}

/** Reads a document with synchronous calls, with the file's identity, so callers can skip re-reading an unchanged file. */
export function readDocumentSync<T>(file: string, type: DocumentType<T>, quick?: QuickCheck<T>): { value: T; stamp: FileStamp } | undefined {
  let text: string;
  let stamp: FileStamp;
  try {
    const stat = fsSync.statSync(file);
    if (stat.size > maxBytesOf(type)) {
      throw StateError.invalidState(`The ${type.name} ${file} is ${stat.size} bytes, larger than any valid one (at most ${maxBytesOf(type)}).`);
    }
    text = fsSync.readFileSync(file, 'utf8');
    stamp = fileStamp(stat);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    if (error instanceof StateError) throw error;
    throw ioError(`read the ${type.name} ${file}`, error);
  }
  return { value: parseDocument(type, text, file, quick), stamp };
}

/** What tells a file's versions apart cheaply: a rename-replace changes the inode, a rewrite the size or mtime. */
export interface FileStamp {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export function fileStamp(stat: { ino: number; size: number; mtimeMs: number }): FileStamp {
  return { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
}

/** The stamp of a file now, `undefined` when it does not exist. */
export function statStampSync(file: string): FileStamp | undefined {
  try {
    return fileStamp(fsSync.statSync(file));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw ioError(`read ${file}`, error);
  }
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function maxBytesOf(type: DocumentType<unknown>): number {
  return Math.min(type.maxBytes ?? MAX_DOCUMENT_BYTES, MAX_DOCUMENT_BYTES);
}

/** Validates a document and gives its text, refusing one too large to be read back. */
export function documentText<T>(type: DocumentType<T>, value: T, options: WriteOptions): string {
  let data = value;
  if (!options.trusted) {
    const checked = type.schema.safeParse(value);
    if (!checked.success) {
      throw StateError.invalidState(`Refusing to write an invalid ${type.name}: ${checked.error.issues[0]?.message ?? 'unknown problem'}.`, checked.error);
    }
    data = checked.data;
  }
  const text = JSON.stringify(data);
  if (Buffer.byteLength(text) > maxBytesOf(type)) {
    throw StateError.invalidState(`Refusing to write a ${type.name} of ${Buffer.byteLength(text)} bytes: at most ${maxBytesOf(type)} can be read back. Store less data in it.`);
  }
  return text;
}

export interface WriteOptions {
  /** fsync the file before the rename (default true). Caches that can be rebuilt skip it. */
  readonly durable?: boolean;
  /**
   * Skip the schema check before writing: for a large document the caller builds only from values
   * of the right types (the capture cache). It is still validated when read.
   */
  readonly trusted?: boolean;
}

let exitHandlerHolds = 0;
let releaseExitHandlers: (() => void) | undefined;

/**
 * Keeps signal-exit's handlers installed while a store is open. write-file-atomic registers a
 * handler around every write (to remove its temporary file if a signal ends the process); with none
 * registered, each write installs ~17 signal handlers and removes them again, 0.3–0.4 ms of a
 * one-file point. Installed, they change nothing for a signal: with no other listener, signal-exit
 * ends the process by the same signal. Returns the release of this hold.
 */
export function holdExitHandlers(): () => void {
  if (exitHandlerHolds++ === 0) releaseExitHandlers = onExit(() => undefined);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--exitHandlerHolds === 0) {
      releaseExitHandlers?.();
      releaseExitHandlers = undefined;
    }
  };
}

/**
 * A store document that is a symbolic link is removed before it is written: write-file-atomic writes
 * to where a link leads, and a store never writes outside its folder (a link planted in it, or a file
 * of a person's linked there).
 */
export function replaceLink(file: string): void {
  if (fsSync.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) fsSync.unlinkSync(file);
}

/** Validates and writes a document atomically (temp file, fsync, rename), owner-only. */
export async function writeDocument<T>(file: string, type: DocumentType<T>, value: T, options: WriteOptions = {}): Promise<void> {
  const text = documentText(type, value, options);
  try {
    replaceLink(file);
    await writeFileAtomic(file, text, { mode: PRIVATE_FILE_MODE, fsync: options.durable ?? true });
  } catch (error) {
    throw ioError(`write the ${type.name} ${file}`, error);
  }
}

/**
 * Writes a document whose JSON text the caller encoded itself, as bytes (a large cache built in pieces,
 * never held as one string): not validated before writing (it is when read), refused when too large to
 * be read back.
 */
export async function writeDocumentBytes(file: string, type: DocumentType<unknown>, bytes: Buffer, options: Omit<WriteOptions, 'trusted'> = {}): Promise<void> {
  if (bytes.length > maxBytesOf(type)) {
    throw StateError.invalidState(`Refusing to write a ${type.name} of ${bytes.length} bytes: at most ${maxBytesOf(type)} can be read back.`);
  }
  try {
    replaceLink(file);
    await writeFileAtomic(file, bytes, { mode: PRIVATE_FILE_MODE, fsync: options.durable ?? true });
  } catch (error) {
    throw ioError(`write the ${type.name} ${file}`, error);
  }
}

/** `writeDocument` with synchronous calls (write-file-atomic's sync form): for the small documents written on every point. */
export function writeDocumentSync<T>(file: string, type: DocumentType<T>, value: T, options: WriteOptions = {}): void {
  const text = documentText(type, value, options);
  try {
    replaceLink(file);
    writeFileAtomic.sync(file, text, { mode: PRIVATE_FILE_MODE, fsync: options.durable ?? true });
  } catch (error) {
    throw ioError(`write the ${type.name} ${file}`, error);
  }
}

/** write-file-atomic's temporary name: `<file>.<number>`, renamed over `<file>` once complete. */
const DOCUMENT_TEMPORARY = /\.json\.\d+$/;

/**
 * Removes the temporary files of document writes that a killed process never renamed into place,
 * in `dir` only (not below it), once older than `olderThanMs` (a live writer renames its own within
 * moments). Caller holds the store lock. Returns how many were removed.
 */
export async function removeStaleDocumentTemporaries(dir: string, olderThanMs = 3_600_000): Promise<number> {
  let removed = 0;
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!DOCUMENT_TEMPORARY.test(name)) continue;
    const file = path.join(dir, name);
    const stat = await fs.lstat(file).catch(() => undefined);
    if (stat?.isFile() && Date.now() - stat.mtimeMs > olderThanMs) {
      await fs.rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}

/** Moves a broken file aside into the quarantine folder (kept for inspection) and returns its new path. */
export async function quarantineFile(file: string, quarantineDir: string, reason: string): Promise<string> {
  await ensurePrivateDir(quarantineDir);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = path.join(quarantineDir, `${stamp}-${path.basename(file)}`);
  try {
    await fs.rename(file, target);
    await fs.writeFile(`${target}.reason.txt`, `${reason}\n`, { mode: PRIVATE_FILE_MODE });
  } catch (error) {
    throw ioError(`move the broken file ${file} to ${quarantineDir}`, error);
  }
  return target;
}
