import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { hashObject, type ObjectType } from '../../src/core/objects/hash';

/** The definition, written out: SHA-256 of the type's letter, a NUL, and the content. */
function expected(type: ObjectType, content: Uint8Array): string {
  return createHash('sha256').update(type === 'blob' ? 'b\0' : 't\0').update(content).digest('hex');
}

describe('hashObject', () => {
  test('names an object as every store written before holds it', () => {
    assert.equal(hashObject('blob', Buffer.from('hello\n')), '16d88b5e370564b4124d9d7fbca7e6e48c0d36c470aec6d1fa4d3713183e0bab');
    assert.notEqual(hashObject('blob', Buffer.from('{}')), hashObject('tree', Buffer.from('{}')));
  });

  test('is the same on both sides of the size hashed in one call, and whatever was hashed before', () => {
    const sizes = [0, 1, 2, 4095, 64 * 1024 - 2, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 64 * 1024 + 2, 300_000];
    for (const size of sizes) {
      for (const type of ['blob', 'tree'] as const) {
        const content = Buffer.alloc(size, size % 251);
        assert.equal(hashObject(type, content), expected(type, content), `${type} of ${size} bytes`);
      }
    }
    // a larger object hashed just before leaves nothing of itself in a smaller one's hash
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), fc.uint8Array({ maxLength: 300 }), fc.constantFrom<ObjectType>('blob', 'tree'), (before, content, type) => {
        hashObject(type, before);
        assert.equal(hashObject(type, content), expected(type, content));
        // a view into a larger buffer is hashed as its own bytes
        const inside = Buffer.concat([Buffer.from('xx'), content, Buffer.from('yy')]).subarray(2, 2 + content.length);
        assert.equal(hashObject(type, inside), expected(type, content));
      }),
      { numRuns: 200 },
    );
  });
});
