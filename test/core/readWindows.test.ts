import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planReadWindows } from '../../src/core/objects/readWindows';

describe('planReadWindows', () => {
  test('records in pack order share a window up to its size and gap; the result follows the records as given', () => {
    const records = [
      { pack: 'b', offset: 10, storedSize: 5 },
      { pack: 'a', offset: 300, storedSize: 50 },
      { pack: 'a', offset: 10, storedSize: 90 },
      { pack: 'a', offset: 100, storedSize: 100 },
      { pack: 'a', offset: 900, storedSize: 10 }, // too far after the one before
      { pack: 'a', offset: 1000, storedSize: 5000 }, // larger than a window: alone
      { pack: 'b', offset: 20, storedSize: 5 },
    ];
    const windows = planReadWindows(records, 1000, 200);
    assert.deepEqual(
      windows.map((w) => [w.pack, w.start, w.length, w.remaining]),
      [
        ['b', 10, 15, 2],
        ['a', 10, 340, 3],
        ['a', 10, 340, 3],
        ['a', 10, 340, 3],
        ['a', 900, 10, 1],
        ['a', 1000, 5000, 1],
        ['b', 10, 15, 2],
      ],
    );
    assert.equal(windows[1], windows[2], 'one window object shared by its records');
    assert.equal(planReadWindows(records, 1000).filter((w, i, all) => all.indexOf(w) === i).length, 3, 'no gap limit: the far record joins its neighbours');
  });
});
