import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { ObjectStore } from '../../src/core/objects/objectStore';
import { hashObject } from '../../src/core/objects/hash';
import { makeTree } from '../../src/core/objects/tree';
import { findMissing } from '../../src/core/recovery/reachability';
import { cleanupSandboxes, makeSandbox } from './helpers/storeFixtures';

after(cleanupSandboxes);

describe('findMissing', () => {
  test('trees found complete are remembered and not walked again; a missing object is never remembered as complete', async () => {
    const sandbox = await makeSandbox();
    const store = await ObjectStore.open(path.join(sandbox.store, 'objects'));
    const batch = store.beginBatch();
    const blob = await batch.putBlob(Buffer.from('content'));
    const sub = await batch.putTree(makeTree([['f.txt', 'f', blob, 7, 0o644]]));
    const root = await batch.putTree(makeTree([['sub', 'd', sub, 0, 0]]));
    const broken = await batch.putTree(makeTree([['gone.txt', 'f', hashObject('blob', Buffer.from('never stored')), 12, 0o644]]));
    await batch.commit();
    const reads: string[] = [];
    const counting = { ...store, has: (hash: string) => store.has(hash), readBlob: (hash: string) => store.readBlob(hash), readTree: (hash: string) => (reads.push(hash), store.readTree(hash)) };
    const complete = new Set<string>();
    assert.deepEqual(await findMissing(counting, root, new Map(), complete), []);
    assert.deepEqual(reads, [root, sub]);
    reads.length = 0;
    assert.deepEqual(await findMissing(counting, root, new Map(), complete), []);
    assert.deepEqual(reads, [], 'a tree found complete before is not read again');
    assert.equal((await findMissing(counting, broken, new Map(), complete)).length, 1);
    assert.equal((await findMissing(counting, broken, new Map(), complete)).length, 1, 'a tree with a missing object is looked at every time');
    assert.equal(complete.has(broken), false);
  });
});
