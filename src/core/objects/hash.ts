import { createHash } from 'node:crypto';

export type ObjectType = 'blob' | 'tree';

const PREFIX: Record<ObjectType, Buffer> = { blob: Buffer.from('b\0'), tree: Buffer.from('t\0') };

/** The content hash that names an object: SHA-256 of a type prefix and the content, so a file's bytes never pass for a tree. */
export function hashObject(type: ObjectType, content: Uint8Array): string {
  return createHash('sha256').update(PREFIX[type]).update(content).digest('hex');
}
