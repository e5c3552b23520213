import { createHash, hash } from 'node:crypto';

export type ObjectType = 'blob' | 'tree';

const PREFIX: Record<ObjectType, Buffer> = { blob: Buffer.from('b\0'), tree: Buffer.from('t\0') };

/** Contents up to this size are hashed in one call, after their prefix in `joined`. */
const ONE_CALL_MAX = 64 * 1024;
const joined = Buffer.allocUnsafeSlow(2 + ONE_CALL_MAX);

/**
 * The content hash that names an object: SHA-256 of a type prefix and the content, so a file's bytes never pass for a tree.
 * A small object (a point's trees, a saved file) is hashed with one `crypto.hash` call: a `Hash` object
 * costs the C library's heap several allocations, each a page's first write after the process forked
 * (the extension host starts git), where the copy into `joined` costs less.
 */
export function hashObject(type: ObjectType, content: Uint8Array): string {
  if (content.length > ONE_CALL_MAX) return createHash('sha256').update(PREFIX[type]).update(content).digest('hex');
  PREFIX[type].copy(joined, 0);
  joined.set(content, 2);
  return hash('sha256', joined.subarray(0, 2 + content.length), 'hex');
}
