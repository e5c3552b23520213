// Wording shared by the command-line tool and the extension (src/core/format.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { groupDigits, plural } from '../../src/core/format';

test('counts are grouped as toLocaleString("en-US") groups them, without the locale machinery', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.maxSafeInteger(), fc.integer()), (n) => {
      assert.equal(groupDigits(n), n.toLocaleString('en-US'));
    }),
    { numRuns: 2000 },
  );
  for (const n of [0, 7, 999, 1000, 10000, 123456, 1234567, -1000, Number.MAX_SAFE_INTEGER, 1.5]) assert.equal(groupDigits(n), n.toLocaleString('en-US'));
  assert.equal(plural(10000, 'file'), '10,000 files');
  assert.equal(plural(1, 'point'), '1 point');
});
