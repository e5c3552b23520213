import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { toolCacheDir } from '../../cli/codeCache';

/** `RECOVERY_POINTS_HELPER=off`: hooks never use or start the resident helper. */
export const HELPER_ENV = 'RECOVERY_POINTS_HELPER';
/** Where the helper's file and log live (tests, the benchmark); else the tool's cache folder. */
export const HELPER_DIR_ENV = 'RECOVERY_POINTS_HELPER_DIR';

/**
 * How a hook's client finds the resident helper: one line, `port clientSecret helperSecret pid cli`,
 * read by `hook-client.sh` with bash's `read` (so the bundle's path, which may hold spaces, is last).
 * The client proves itself with the first secret, the helper with the second: a program that took
 * the port of a helper gone since never sees a payload.
 */
export interface HelperAddress {
  readonly port: number;
  readonly clientSecret: string;
  readonly helperSecret: string;
  readonly pid: number;
  /** The `cli.js` the helper runs: a client of another install starts its own. */
  readonly cli: string;
}

/** A folder of its own, private to the user (the tool's cache folder may be readable by others). */
export function helperDir(): string {
  return process.env[HELPER_DIR_ENV] || path.join(toolCacheDir(), 'hook-helper');
}

export function helperFile(dir = helperDir()): string {
  return path.join(dir, 'address');
}

/** The folder, made private to this user; refused when another user could read or replace what is in it. */
export function privateHelperDir(dir = helperDir()): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.statSync(dir);
  const mine = typeof process.getuid !== 'function' || stat.uid === process.getuid();
  if (!stat.isDirectory() || !mine || (stat.mode & 0o077) !== 0) {
    throw new Error(`${dir} must be a folder only its owner can read (chmod 700 ${dir})`);
  }
  return dir;
}

export function readHelperAddress(file = helperFile()): HelperAddress | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^(\d{1,5}) ([0-9a-f]{16,128}) ([0-9a-f]{16,128}) (\d+) (.+)\n?$/.exec(text);
  if (!match) return undefined;
  return { port: Number(match[1]), clientSecret: match[2]!, helperSecret: match[3]!, pid: Number(match[4]), cli: match[5]! };
}

export function writeHelperAddress(address: HelperAddress, file = helperFile()): void {
  if (/[\n\r]/.test(address.cli)) throw new Error('the tool\'s path holds a line break');
  writeFileAtomic.sync(file, `${address.port} ${address.clientSecret} ${address.helperSecret} ${address.pid} ${address.cli}\n`, { mode: 0o600 });
}

/** Removes the file if it still names this helper (another may have taken its place). */
export function removeHelperAddress(address: HelperAddress, file = helperFile()): void {
  const now = readHelperAddress(file);
  if (now && now.port === address.port && now.clientSecret === address.clientSecret) fs.rmSync(file, { force: true });
}
