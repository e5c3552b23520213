import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { newPointId, pointIdTime, pointTime } from '../../src/core/ids';
import { randomHex } from '../../src/core/randomHex';
import { cleanupAll, makeSandbox, openStore, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

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

describe('A point\'s time', () => {
  test('points made after one made while the clock ran ahead sort after it and keep the time they were made', async (t) => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'one\n' });
    const store = await openStore(sb);
    const realNow = Date.now;
    const ahead = 5 * 3_600_000;
    t.mock.method(Date, 'now', () => realNow() + ahead);
    const early = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    t.mock.restoreAll();
    await writeFiles(sb.ws, { 'a.txt': 'two\n' });
    const made = Date.now();
    const later = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    const [newest, older] = await store.recovery.listRecoveryPoints();
    assert.deepEqual([newest!.id, older!.id], [later.id, early.id], 'the later point is listed first');
    assert.ok(pointIdTime(newest!.id) > pointIdTime(early.id), 'its id sorts after the point made while the clock was ahead');
    assert.ok(Math.abs(pointTime(newest!) - made) < 60_000, `made now, not ${(pointTime(newest!) - made) / 3_600_000} h from now`);
    assert.ok(pointTime(older!) - made > ahead - 60_000, 'the point made while the clock was ahead keeps that clock\'s time');
    assert.equal(pointTime({ id: older!.id, createdAt: 'not a time' }), pointIdTime(older!.id), 'a point without a readable creation time has its id\'s');
  });
});
