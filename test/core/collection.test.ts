import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import { assertPointWhole, pointDuringCollection, storeWithUnusedFirstPoint } from './helpers/collectionFixtures';
import { cleanupAll, makeSandbox } from './helpers/storeFixtures';

after(cleanupAll);

describe('a clean-up holds the store lock only in slices', () => {
  for (const [name, action, collect] of [
    ['clean-up', 'cleanup', (store: RecoveryStore) => store.recovery.cleanupRecoveryPoints()],
    ['garbage collection', 'gc', (store: RecoveryStore) => store.recovery.collectGarbage()],
  ] as const) {
    test(`a point made while a ${name} runs is made before it ends, and the objects it reuses that the ${name} found unused survive it`, async () => {
      const sb = await makeSandbox();
      const { store, first } = await storeWithUnusedFirstPoint(sb);
      const { order, point } = await pointDuringCollection(store, () => collect(store));
      assert.deepEqual(order, ['create', action], 'the point did not wait for the whole collection');
      assert.equal(point.root, first.root, 'the point is the deleted first point again: its trees and contents were reused, not written');
      await assertPointWhole(store, point);
      // the pack that still held them was kept; the next collection, which sees the point, keeps them too
      await collect(store);
      await assertPointWhole(store, point);
      const restored = await store.recovery.restore(point.id);
      assert.equal(restored.outcome.written.length + restored.outcome.removed.length, 0, 'the files are the point already');
    });
  }

});
