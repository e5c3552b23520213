import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * V8's code cache of the command-line tool's bundle (#14). Without it every process compiles the code
 * it runs again (Node 20 has no `module.enableCompileCache`): the launcher compiles the bundle with the
 * bytecode a previous run of the same command left, and writes it when there was none or V8 refused it.
 *
 * One file per command, install (the bundle's path) and Node, in the user's cache folder. Each holds
 * the bundle's identity (size, times, inode) and Node's version, and a checksum: a cache of another
 * build, another Node or damaged bytes is not used (V8 itself checks little more than the source's
 * length), and is replaced by the next successful run; so is one another user owns or could change. A
 * cache that cannot be read or written only makes the start slower: it never fails a command.
 */

/** `RECOVERY_POINTS_CODE_CACHE=off` turns the cache off (to measure, or to rule it out). */
export const CODE_CACHE_ENV = 'RECOVERY_POINTS_CODE_CACHE';

const MAGIC = Buffer.from('RPCODE01', 'latin1');
const CHECKSUM_BYTES = 32;
/** A cache file not rewritten for this long (an old install's, another Node's) is removed when one is written. */
const STALE_MS = 30 * 24 * 60 * 60 * 1000;

/** The user's cache folder for the tool: `$XDG_CACHE_HOME/recovery-points`, else `~/.cache/recovery-points`. */
export function toolCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'recovery-points');
}

/** Where the cache of `command` run from `bundle` by this Node lives; `undefined` when it is turned off or `command` is not a command's name. */
export function codeCacheFile(bundle: string, command: string | undefined): string | undefined {
  if (process.env[CODE_CACHE_ENV] === 'off' || command === undefined || !/^[a-z]{2,20}$/.test(command)) return undefined;
  const install = createHash('sha256').update(`${bundle}\0${process.version}\0${process.arch}`).digest('hex').slice(0, 16);
  return join(toolCacheDir(), 'code-cache', `${command}-${install}.bin`);
}

/** What a cache must have been made from: this bundle file as it is now, and this Node. */
export function bundleIdentity(stat: Stats): string {
  return `${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.ino}:${process.version}:${process.arch}:${process.versions.v8}`;
}

/** The cached bytecode in `file` made for `identity`; `undefined` when there is none, or it is another's or damaged. */
export function readCodeCache(file: string, identity: string): Buffer | undefined {
  let bytes: Buffer;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    // bytecode runs as this user: only a file this user wrote and nobody else may change
    const stat = fstatSync(fd);
    if ((process.getuid !== undefined && stat.uid !== process.getuid()) || (stat.mode & 0o022) !== 0) return undefined;
    bytes = readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
  const key = Buffer.from(identity, 'utf8');
  const body = MAGIC.length + CHECKSUM_BYTES;
  if (bytes.length <= body + 2 + key.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const keyLength = bytes.readUInt16BE(body);
  if (keyLength !== key.length || !bytes.subarray(body + 2, body + 2 + keyLength).equals(key)) return undefined;
  const checksum = createHash('sha256').update(bytes.subarray(body)).digest();
  if (!checksum.equals(bytes.subarray(MAGIC.length, body))) return undefined;
  return bytes.subarray(body + 2 + keyLength);
}

/** Writes the cache (a temporary file renamed over the old one); any failure leaves things as they were, silently. */
export function writeCodeCache(file: string, identity: string, data: Buffer): void {
  const dir = dirname(file);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const key = Buffer.from(identity, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(key.length);
    const checksum = createHash('sha256').update(length).update(key).update(data).digest();
    writeFileSync(temp, Buffer.concat([MAGIC, checksum, length, key, data]), { mode: 0o600 });
    renameSync(temp, file);
    removeStale(dir);
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // nothing more to do: the next run tries again
    }
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // the cache was read or refused already
  }
}

function removeStale(dir: string): void {
  const now = Date.now();
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat?.isFile() && now - stat.mtimeMs > STALE_MS) rmSync(file, { force: true });
  }
}
