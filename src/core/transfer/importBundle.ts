import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describeCause, ioError, StateError } from '../errors';
import { decodeObject } from '../objects/compression';
import { hashObject, type ObjectType } from '../objects/hash';
import type { ObjectStore } from '../objects/objectStore';
import { PackWriter } from '../objects/packFile';
import { decodeTree, isSafeName } from '../objects/tree';
import type { RecoveryStore } from '../recoveryStore';
import { snapshotDocument, type ContextSnapshot, type TreeObject } from '../schemas';
import { badBundle, BundleReader, MAX_MANIFEST_BYTES, type BundleHeader } from './bundleFormat';

export interface ImportResult {
  /** Points listed by this import, oldest first. */
  readonly added: string[];
  /** Points the store already had with the same content. */
  readonly skipped: string[];
  readonly objectsAdded: number;
  /** Objects of the bundle the store already held (not written again). */
  readonly objectsPresent: number;
  /** Size of the pack the import wrote (0 when it needed none). */
  readonly bytesWritten: number;
}

/** What a complete check of a bundle found: its points, and the objects they need from the store. */
interface CheckedBundle {
  readonly header: BundleHeader;
  readonly checksum: Buffer;
  readonly manifests: ContextSnapshot[];
  /** Objects the points reach that the bundle does not hold: the store must have them. */
  readonly fromStore: Set<string>;
}

/**
 * Merges a bundle into the store. The bundle is checked completely before anything is written: its
 * checksum, every object decompressed and re-hashed, every folder's names (no `..`, separators or
 * NUL), every manifest validated, every object a point reaches present. Then, under the store lock,
 * the objects the store lacks are written as one new pack (durable before any point names it) and
 * the new manifests listed. Points keep their ids: one already present with the same content is
 * skipped, one with different content refuses the whole import. A killed or failed import lists
 * nothing new (an unlisted pack is garbage for the next collection).
 */
export async function importBundle(store: RecoveryStore, file: string, options: { onProgress?: (message: string) => void } = {}): Promise<ImportResult> {
  const bundle = path.resolve(file);
  const persistence = store.persistence;
  const objects = await persistence.objects();
  options.onProgress?.('Checking the bundle');
  const checked = await checkBundle(bundle, objects);
  return persistence.lock.run(async () => {
    await objects.refresh();
    const added: ContextSnapshot[] = [];
    const skipped: string[] = [];
    for (const manifest of checked.manifests) {
      let existing: ContextSnapshot | undefined;
      try {
        existing = await persistence.loadSnapshot(manifest.id);
      } catch (error) {
        throw StateError.invalidState(`The bundle ${bundle} holds point ${manifest.id}, which this store has in a damaged form (${describeCause(error)}). Run "Verify Store" with repair first. Nothing was changed.`, error);
      }
      if (!existing) added.push(manifest);
      else if (sameContent(existing, manifest)) skipped.push(manifest.id);
      else throw StateError.invalidState(`The bundle ${bundle} holds point ${manifest.id}, which this store already has with different content. Nothing was changed.`);
    }
    for (const hash of checked.fromStore) {
      if (!objects.has(hash)) throw badBundle(bundle, `it refers to object ${hash.slice(0, 12)}, which neither the bundle nor this store holds`);
    }
    if (added.length === 0) return { added: [], skipped, objectsAdded: 0, objectsPresent: checked.header.objects, bytesWritten: 0 };
    options.onProgress?.('Writing the points');
    const { objectsAdded, objectsPresent, bytesWritten } = await copyObjects(bundle, checked.checksum, objects);
    await persistence.addSnapshots(added, 'import', { bundle, objects: objectsAdded, bytes: bytesWritten });
    return { added: added.map((m) => m.id), skipped, objectsAdded, objectsPresent, bytesWritten };
  });
}

/** The label is the one part of a point a person may change later: a point differing only in it is the same point. */
function sameContent(a: ContextSnapshot, b: ContextSnapshot): boolean {
  return isDeepStrictEqual({ ...a, label: null }, { ...b, label: null });
}

async function checkBundle(file: string, objects: ObjectStore): Promise<CheckedBundle> {
  const { reader, header, checksum } = await BundleReader.open(file);
  try {
    await verifyChecksum(file, reader.end, checksum);
    const manifests: ContextSnapshot[] = [];
    const ids = new Set<string>();
    for (let i = 0; i < header.points; i++) {
      const manifest = validateManifest(file, await reader.takeJson(MAX_MANIFEST_BYTES, `manifest ${i + 1}`));
      if (ids.has(manifest.id)) throw badBundle(file, `it holds point ${manifest.id} twice`);
      ids.add(manifest.id);
      manifests.push(manifest);
    }
    const types = new Map<string, ObjectType>();
    const trees = new Map<string, TreeObject>();
    for (let i = 0; i < header.objects; i++) {
      const record = await reader.takeObject();
      let raw: Buffer;
      try {
        raw = await decodeObject(record.data, record.codec, record.rawSize);
      } catch (error) {
        throw badBundle(file, `object ${record.hash.slice(0, 12)} is damaged (${describeCause(error)})`, error);
      }
      if (raw.length !== record.rawSize || hashObject(record.type, raw) !== record.hash) throw badBundle(file, `object ${record.hash.slice(0, 12)} does not match its hash`);
      if (record.type === 'tree') {
        try {
          trees.set(record.hash, decodeTree(raw, record.hash));
        } catch (error) {
          throw badBundle(file, describeCause(error).replace(/\.$/, ''), error);
        }
      }
      types.set(record.hash, record.type);
    }
    reader.finish(checksum);
    const fromStore = await reachFromStore(file, manifests, types, trees, objects);
    return { header, checksum, manifests, fromStore };
  } finally {
    await reader.close();
  }
}

async function verifyChecksum(file: string, end: number, checksum: Buffer): Promise<void> {
  const hash = createHash('sha256');
  try {
    if (end > 0) for await (const chunk of createReadStream(file, { start: 0, end: end - 1, highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  } catch (error) {
    throw ioError(`read the bundle ${file}`, error);
  }
  if (!hash.digest().equals(checksum)) throw badBundle(file, 'it is damaged (its checksum does not match its content)');
}

function validateManifest(file: string, raw: unknown): ContextSnapshot {
  let migrated: unknown;
  try {
    migrated = snapshotDocument.migrate ? snapshotDocument.migrate(raw) : raw;
  } catch (error) {
    throw badBundle(file, `a point's manifest has a format that cannot be read (${describeCause(error)})`, error);
  }
  const parsed = snapshotDocument.schema.safeParse(migrated);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw badBundle(file, `a point's manifest is not valid: ${issue?.message ?? 'unknown problem'}${at}`, parsed.error);
  }
  const manifest = parsed.data;
  const names = new Set<string>();
  for (const root of manifest.roots) {
    if (!isSafeName(root.name) || names.has(root.name)) throw badBundle(file, `point ${manifest.id} names a workspace folder ${JSON.stringify(root.name)} that cannot be used`);
    names.add(root.name);
  }
  return manifest;
}

/**
 * Walks every point's trees (the bundle's, else the store's) and checks each entry's object is there
 * with the right type. Returns the objects only the store holds.
 */
async function reachFromStore(file: string, manifests: readonly ContextSnapshot[], types: ReadonlyMap<string, ObjectType>, trees: ReadonlyMap<string, TreeObject>, objects: ObjectStore): Promise<Set<string>> {
  const fromStore = new Set<string>();
  const seen = new Set<string>();
  for (const manifest of manifests) {
    const stack = [manifest.root];
    while (stack.length > 0) {
      const hash = stack.pop()!;
      if (seen.has(hash)) continue;
      seen.add(hash);
      let tree = trees.get(hash);
      if (!tree) {
        if (types.has(hash) || !objects.has(hash)) throw badBundle(file, `point ${manifest.id} needs folder ${hash.slice(0, 12)}, which neither the bundle nor this store holds`);
        tree = await objects.readTree(hash);
        fromStore.add(hash);
      }
      for (const [name, kind, child] of tree.e) {
        if (kind === 'd') stack.push(child);
        else if (types.get(child) === 'blob') continue;
        else if (!types.has(child) && objects.has(child)) fromStore.add(child);
        else throw badBundle(file, `point ${manifest.id} needs the content of "${name}" (${child.slice(0, 12)}), which neither the bundle nor this store holds`);
      }
    }
  }
  return fromStore;
}

/**
 * Copies the bundle's objects the store lacks into one new pack, as stored. The bundle is read again,
 * so its checksum is checked again: a file changed since the check writes nothing. Caller holds the lock.
 */
async function copyObjects(file: string, checksum: Buffer, objects: ObjectStore): Promise<{ objectsAdded: number; objectsPresent: number; bytesWritten: number }> {
  const { reader, header } = await BundleReader.open(file);
  const writer = new PackWriter(objects.dir);
  try {
    for (let i = 0; i < header.points; i++) await reader.takeJson(MAX_MANIFEST_BYTES, `manifest ${i + 1}`);
    let objectsPresent = 0;
    for (let i = 0; i < header.objects; i++) {
      const record = await reader.takeObject();
      if (objects.has(record.hash)) objectsPresent++;
      else await writer.add(record.hash, record.type, { data: record.data, codec: record.codec }, record.rawSize);
    }
    reader.finish(checksum);
    const written = await writer.finish();
    if (written) objects.addPack(path.basename(written.file), written.index, written.size);
    return { objectsAdded: written?.index.count ?? 0, objectsPresent, bytesWritten: written?.size ?? 0 };
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await reader.close();
  }
}
