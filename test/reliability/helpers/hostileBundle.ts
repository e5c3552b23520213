/**
 * Bundles for the hostile-input suite: a valid one exported from a real store, and hand-made ones
 * (any header, manifests and objects, with a correct checksum), so that only the importer's checks
 * stand between a hostile bundle and the store.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { hashObject, type ObjectType } from '../../../src/core/objects/hash';
import { encodeTree } from '../../../src/core/objects/tree';
import { BUNDLE_END, BUNDLE_FORMAT, BUNDLE_MAGIC, encodeObjectHeader, lengthPrefixed } from '../../../src/core/transfer/bundleFormat';
import type { TreeObject } from '../../../src/core/schemas';

export interface CraftedObject {
  readonly type: ObjectType;
  readonly raw: Buffer;
  /** Claim this hash instead of the content's. */
  readonly hash?: string;
}

export function blob(text: string): CraftedObject {
  return { type: 'blob', raw: Buffer.from(text) };
}

export function tree(value: TreeObject | unknown): CraftedObject {
  return { type: 'tree', raw: encodeTree(value as TreeObject) };
}

export function hashOf(object: CraftedObject): string {
  return object.hash ?? hashObject(object.type, object.raw);
}

/** Writes a bundle with a correct checksum over whatever it is given. */
export async function craftBundle(file: string, content: { header?: unknown; manifests: unknown[]; objects: CraftedObject[] }): Promise<void> {
  const header = content.header ?? { format: BUNDLE_FORMAT, version: 1, createdAt: new Date().toISOString(), points: content.manifests.length, objects: content.objects.length };
  const parts: Buffer[] = [BUNDLE_MAGIC, ...lengthPrefixed(JSON.stringify(header))];
  for (const manifest of content.manifests) parts.push(...lengthPrefixed(JSON.stringify(manifest)));
  for (const object of content.objects) {
    parts.push(encodeObjectHeader({ hash: hashOf(object), type: object.type, codec: 0, rawSize: object.raw.length, storedSize: object.raw.length }), object.raw);
  }
  const body = Buffer.concat(parts);
  await fs.writeFile(file, Buffer.concat([body, createHash('sha256').update(body).digest(), BUNDLE_END]));
}

/** Rewrites a bundle's checksum after its bytes were changed on purpose. */
export async function resealBundle(file: string): Promise<void> {
  const data = await fs.readFile(file);
  const body = data.subarray(0, data.length - 40);
  await fs.writeFile(file, Buffer.concat([body, createHash('sha256').update(body).digest(), BUNDLE_END]));
}
