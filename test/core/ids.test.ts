import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newPointId, pointIdTime } from '../../src/core/ids';
import { randomHex } from '../../src/core/randomHex';

describe('Names made at random', () => {
  test('random hex has the length asked for and does not repeat, across the pool being filled again', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const hex = randomHex(6); // 200 × 6 bytes: the 256-byte pool is filled several times, and a draw may not fit in what is left
      assert.match(hex, /^[0-9a-f]{12}$/);
      assert.equal(seen.has(hex), false, `${hex} drawn twice`);
      seen.add(hex);
    }
    assert.match(randomHex(8), /^[0-9a-f]{16}$/);
  });

  test('point ids sort by creation time, increase within a process, and end in random hex', () => {
    const at = Date.UTC(2026, 11, 2, 14, 30, 0, 5);
    const ids = [newPointId(at), newPointId(at), newPointId(at - 1000)];
    for (const id of ids) assert.match(id, /^\d{8}T\d{9}Z-[0-9a-f]{6}$/);
    assert.equal(pointIdTime(ids[0]!), at);
    assert.deepEqual([...ids].sort(), ids, 'later ids sort after earlier ones even when the clock did not move or went back');
  });
});
