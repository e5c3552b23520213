import { createHash, randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fsyncDir, PRIVATE_FILE_MODE } from '../documents';
import { ioError, StateError } from '../errors';
import { pointTime } from '../ids';
import { realPathOf } from '../realPath';
import { collectReachable } from '../recovery/reachability';
import type { RecoveryStore } from '../recoveryStore';
import type { ContextSnapshot } from '../schemas';
import { BUNDLE_END, BUNDLE_FORMAT, BUNDLE_MAGIC, BUNDLE_VERSION, encodeObjectHeader, lengthPrefixed, type BundleHeader } from './bundleFormat';

export interface ExportOptions {
  /** Full point ids; default every point. */
  readonly pointIds?: readonly string[];
  /** Only points made at or after this time. */
  readonly since?: Date;
  /** A file there that is not a bundle may be replaced (a person confirmed it in a save dialog). */
  readonly replaceAnyFile?: boolean;
  readonly onProgress?: (message: string) => void;
}

/**
 * Why a bundle cannot be written at `file`, or `undefined`: a path inside the store (the bundle would
 * replace the store's own files), something other than a file there (a folder, a link, a device, a
 * pipe), or, unless `replaceAnyFile`, a file with content that is not a bundle (never replaced unasked).
 */
export function bundleTargetProblem(storeRoot: string, file: string, options: { replaceAnyFile?: boolean } = {}): string | undefined {
  const target = path.resolve(file);
  const placed = path.join(realPathOf(path.dirname(target)), path.basename(target));
  const relative = path.relative(realPathOf(storeRoot), placed);
  if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))) return `${target} is inside the recovery point store: give a file outside it.`;
  const stat = fsSync.lstatSync(target, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (stat.isDirectory()) return `${target} is a folder: give the bundle file's name.`;
  if (stat.isSymbolicLink()) return `${target} is a symbolic link: give the file itself, or another name.`;
  if (!stat.isFile()) return `${target} is not a regular file (a device, a pipe or a socket): give another name.`;
  if (options.replaceAnyFile || stat.size === 0) return undefined;
  const start = Buffer.alloc(BUNDLE_MAGIC.length);
  let fd: number | undefined;
  try {
    fd = fsSync.openSync(target, 'r');
    fsSync.readSync(fd, start, 0, start.length, 0);
  } catch {
    // unreadable: not known to be a bundle
  } finally {
    if (fd !== undefined) fsSync.closeSync(fd);
  }
  return start.equals(BUNDLE_MAGIC) ? undefined : `${target} exists and is not a recovery points bundle, so it is not replaced: give another name, or remove it first.`;
}

export interface ExportResult {
  readonly file: string;
  readonly points: string[];
  readonly objects: number;
  readonly bytes: number;
}

/**
 * Writes the chosen points' manifests and every object they reach into one bundle (see
 * bundleFormat.ts): to a temporary file beside `file`, fsynced, then renamed, so `file` is whole or absent.
 * Objects are checked against their hash as they are read and copied as stored.
 */
export async function exportBundle(store: RecoveryStore, file: string, options: ExportOptions = {}): Promise<ExportResult> {
  const persistence = store.persistence;
  const problem = bundleTargetProblem(persistence.layout.root, file, options);
  if (problem) throw new StateError('InvalidState', problem);
  let summaries = await persistence.listSnapshots();
  if (options.pointIds) {
    const wanted = new Set(options.pointIds);
    for (const id of wanted) if (!summaries.some((p) => p.id === id)) throw StateError.snapshotNotFound(id);
    summaries = summaries.filter((p) => wanted.has(p.id));
  }
  if (options.since) summaries = summaries.filter((p) => pointTime(p) >= options.since!.getTime());
  if (summaries.length === 0) throw new StateError('SnapshotNotFound', options.since ? `No recovery point was made since ${options.since.toISOString()}: nothing to export.` : 'The store has no recovery points to export.');
  const manifests: ContextSnapshot[] = [];
  for (const summary of [...summaries].reverse()) manifests.push(await persistence.requireSnapshot(summary.id));
  const objects = await persistence.objects();
  options.onProgress?.('Collecting the stored files');
  const hashes = await collectReachable(objects, manifests.map((m) => m.root));

  const target = path.resolve(file);
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.partial`);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(temp, 'wx', PRIVATE_FILE_MODE);
  } catch (error) {
    throw ioError(`create the bundle ${target}`, error);
  }
  const checksum = createHash('sha256');
  let bytes = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const chunk = pending;
    pending = [];
    pendingBytes = 0;
    try {
      await handle.writev(chunk);
    } catch (error) {
      throw ioError(`write the bundle ${target}`, error);
    }
  };
  const write = async (...parts: Buffer[]) => {
    for (const part of parts) {
      checksum.update(part);
      pending.push(part);
      pendingBytes += part.length;
      bytes += part.length;
    }
    if (pendingBytes >= 1024 * 1024) await flush();
  };
  try {
    const header: BundleHeader = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, createdAt: new Date().toISOString(), points: manifests.length, objects: hashes.size };
    await write(BUNDLE_MAGIC, ...lengthPrefixed(JSON.stringify(header)));
    for (const manifest of manifests) await write(...lengthPrefixed(JSON.stringify(manifest)));
    let done = 0;
    for (const hash of hashes) {
      const stored = await objects.readStoredObject(hash);
      await write(encodeObjectHeader({ hash, type: stored.type, codec: stored.codec, rawSize: stored.rawSize, storedSize: stored.data.length }), stored.data);
      if (++done % 1000 === 0) options.onProgress?.(`Exported ${done} of ${hashes.size} objects`);
    }
    const digest = checksum.digest();
    pending.push(digest, BUNDLE_END);
    pendingBytes += digest.length + BUNDLE_END.length;
    bytes += digest.length + BUNDLE_END.length;
    await flush();
    await handle.sync();
    await handle.close();
    await fs.rename(temp, target);
    await fsyncDir(path.dirname(target));
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw ioError(`write the bundle ${target}`, error);
  }
  return { file: target, points: manifests.map((m) => m.id), objects: hashes.size, bytes };
}
