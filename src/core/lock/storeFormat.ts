import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { fileStamp, fsyncDirSync, parseDocument, sameStamp, writeDocumentSync, type FileStamp } from '../documents';
import { errorCode, ioError, StateError } from '../errors';
import type { DocumentType } from '../schemas';

/**
 * The store's format, told by what `store.lock` is (DESIGN.md, "The store lock and the store's format"):
 * - nothing, or a folder: format 1. Writers lock with the folder (`folderLock.ts`); a folder is a
 *   writer's lock, this version's or an older version's;
 * - a file, this marker: format 2. Writers lock with the file `writer.lock` (`linkedLock.ts`). The
 *   marker stays, so an older version, which locks by making the folder `store.lock`, finds a file
 *   in its way and fails before it writes anything.
 * - format 2 also writes no manifest file with a point: the point's pack, which holds its manifest and
 *   claims it (`pointPacks.ts`), is its record until a clean-up settles it (writes the file).
 * After a clean-up, a store whose marker is removed (while no process uses it) is a format 1 store again.
 */
export const FORMAT_MARKER = 'store.lock';
export const STORE_FORMAT = 2;

const storeFormatSchema = z.object({
  recoveryPointsStoreFormat: z.number().int().positive(),
  writerLock: z.string(),
  note: z.string().optional(),
});
type StoreFormatMarker = z.infer<typeof storeFormatSchema>;
const MAX_MARKER_BYTES = 64 * 1024;
const storeFormatDocument: DocumentType<StoreFormatMarker> = { name: 'store format marker', schema: storeFormatSchema, maxBytes: MAX_MARKER_BYTES };

/** `linked`: the marker may need writing again (it is not a valid one: damaged, or written by hand). */
export type StoreForm = { readonly form: 'unmarked' | 'folder' } | { readonly form: 'linked'; readonly damaged: boolean };

/** The last marker read, per store folder: an unchanged file is not parsed again (a point checks it every time). */
const known = new Map<string, { stamp: FileStamp; form: StoreForm }>();

/** The store's format as `store.lock` tells it, now. Throws when a newer version's format is marked. */
export function storeForm(root: string): StoreForm {
  const marker = path.join(root, FORMAT_MARKER);
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(marker);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { form: 'unmarked' };
    throw error;
  }
  if (stat.isDirectory()) return { form: 'folder' };
  const stamp = fileStamp(stat);
  const cached = known.get(root);
  if (cached && sameStamp(cached.stamp, stamp)) return cached.form;
  // larger than any marker: not read (a file in the folder's place keeps older versions out, whatever it holds)
  if (stat.size > MAX_MARKER_BYTES) return { form: 'linked', damaged: true };
  let text: string;
  try {
    text = fs.readFileSync(marker, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return storeForm(root); // replaced just now
    throw error;
  }
  const value = markerIn(text);
  if (value && value.recoveryPointsStoreFormat > STORE_FORMAT) {
    throw StateError.invalidState(
      `The recovery point store ${root} was written by a newer version of Recovery Points (store format ${value.recoveryPointsStoreFormat}; this version writes format ${STORE_FORMAT}). Update Recovery Points to use it.`,
    );
  }
  // a file in the folder's place keeps older versions out, whatever it holds
  const form: StoreForm = { form: 'linked', damaged: value === undefined };
  known.set(root, { stamp, form });
  return form;
}

function markerIn(text: string): StoreFormatMarker | undefined {
  try {
    return parseDocument(storeFormatDocument, text, FORMAT_MARKER);
  } catch {
    return undefined;
  }
}

/** What renaming the marker over `store.lock` fails with when a writer of format 1 has its lock folder there. */
const LOCK_FOLDER_IN_THE_WAY = new Set(['EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR']);

/**
 * Marks the store as format 2 (durably: the marker's own `fsync`, then the store folder's). `false`
 * when a lock folder was in the way (a writer of format 1 took the lock meanwhile, and may have let it
 * go again since): the caller then holds no right to write and waits as for any other writer.
 */
export function markStore(root: string, writerLock: string): boolean {
  const marker = path.join(root, FORMAT_MARKER);
  const value: StoreFormatMarker = {
    recoveryPointsStoreFormat: STORE_FORMAT,
    writerLock,
    note: `Recovery Points store format ${STORE_FORMAT}: writers lock the store with the file ${writerLock}, and a point's pack is its record until a clean-up writes its manifest file. Earlier builds, which lock with a folder named store.lock and list points by their manifest files, cannot write this store. To use one: close every window and tool that uses the store, run a clean-up with this version (recovery-points gc), then delete this file.`,
  };
  try {
    writeDocumentSync(marker, storeFormatDocument, value);
  } catch (error) {
    if (LOCK_FOLDER_IN_THE_WAY.has(errorCode(error instanceof StateError ? error.cause : error) ?? '')) return false;
    throw error;
  }
  try {
    fsyncDirSync(root);
  } catch (error) {
    throw ioError(`mark the format of the recovery point store ${root}`, error);
  }
  return true;
}
