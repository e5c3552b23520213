import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { StateError } from '../../src/core/errors';
import { hashObject } from '../../src/core/objects/hash';
import { CODECS } from '../../src/core/objects/compression';
import { ObjectStore, packsToRoll, REPACK_PACK_LIMIT } from '../../src/core/objects/objectStore';
import { PackWriter, readPackIndex } from '../../src/core/objects/packFile';
import { encodeTree, hashTree, makeTree } from '../../src/core/objects/tree';
import type { TreeEntry, TreeObject } from '../../src/core/schemas';
import { cleanupSandboxes, openObjectStore, exists, flipByte, listModes, locateObject as locateObjectIn, makeSandbox, packFiles } from './helpers/storeFixtures';

after(cleanupSandboxes);

async function openObjects(): Promise<{ store: ObjectStore; storeDir: string; dir: string }> {
  const sandbox = await makeSandbox();
  const dir = path.join(sandbox.store, 'objects');
  return { store: await openObjectStore(dir), storeDir: sandbox.store, dir };
}

async function putBlobs(store: ObjectStore, contents: Buffer[]): Promise<string[]> {
  const batch = store.beginBatch();
  const hashes = [];
  for (const content of contents) hashes.push(await batch.putBlob(content));
  await batch.commit();
  return hashes;
}

function isLoadError(kind = 'SnapshotLoadError') {
  return (error: unknown) => error instanceof StateError && error.kind === kind;
}

/** The temporary file a pack writer created, once it is there. */
async function waitForPartial(dir: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const partial = (await fs.readdir(dir)).find((n) => n.endsWith('.partial'));
    if (partial) return partial;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('no temporary pack file was created');
}

describe('ObjectStore', () => {
  test('blobs and trees round-trip byte for byte, named by their content hash', async () => {
    const { store, dir } = await openObjects();
    const small = Buffer.from('hi');
    const text = Buffer.from('hello world\n'.repeat(1000));
    const big = Buffer.from('compressible line of text\n'.repeat(20_000)); // > 256 KB: the asynchronous deflate path
    const random = randomBytes(100_000); // incompressible: stored as is
    const empty = Buffer.alloc(0);
    const batch = store.beginBatch();
    const hashes = await Promise.all([small, text, big, random, empty].map((b) => batch.putBlob(b)));
    const tree = makeTree([
      ['a.txt', 'f', hashes[0]!, 2, 0o644],
      ['sub', 'd', hashObject('tree', encodeTree({ v: 1, e: [] })), 0, 0],
    ]);
    const treeHash = await batch.putTree(tree);
    assert.equal(treeHash, hashTree(tree));
    assert.equal(hashes[0], hashObject('blob', small));
    // Readable by the writer before commit, invisible to others.
    assert.deepEqual(await batch.readBlob(hashes[1]!), text);
    assert.deepEqual(await batch.readTree(treeHash), tree);
    const other = await openObjectStore(dir);
    assert.equal(other.has(hashes[1]!), false);
    await batch.commit();
    assert.equal((await packFiles(path.dirname(dir))).length, 1, 'one pack per write');

    for (const reader of [store, await openObjectStore(dir)]) {
      assert.deepEqual(await reader.readBlob(hashes[0]!), small);
      assert.deepEqual(await reader.readBlob(hashes[1]!), text);
      assert.deepEqual(await reader.readBlob(hashes[2]!), big);
      assert.deepEqual(await reader.readBlob(hashes[3]!), random);
      assert.deepEqual(await reader.readBlob(hashes[4]!), empty);
      assert.deepEqual(await reader.readTree(treeHash), tree);
    }
    // `refresh` picks up another process's packs.
    assert.equal(other.has(hashes[1]!), false);
    await other.refresh();
    assert.equal(other.has(hashes[1]!), true);

    const stats = store.stats();
    assert.equal(stats.blobs, 5);
    assert.equal(stats.trees, 1);
    assert.equal(stats.rawBytes, small.length + text.length + big.length + random.length + empty.length + encodeTree(tree).length);
    assert.ok(stats.storedBytes < stats.rawBytes / 2, 'compressible content is compressed');
    assert.ok(stats.diskBytes >= stats.storedBytes);
  });

  test('a second write of the same content adds nothing; duplicates within a batch are stored once', async () => {
    const { store, storeDir } = await openObjects();
    const content = Buffer.from('same content, written twice '.repeat(10));
    const batch = store.beginBatch();
    const [h1, h2] = await Promise.all([batch.putBlob(content), batch.putBlob(Buffer.from(content))]);
    assert.equal(h1, h2);
    assert.equal(batch.addedObjects, 1);
    await batch.commit();
    const again = store.beginBatch();
    assert.equal(await again.putBlob(content), h1);
    assert.equal(again.addedObjects, 0);
    assert.equal(again.addedBytes, 0);
    await again.commit();
    assert.equal((await packFiles(storeDir)).length, 1, 'an empty batch writes no pack');
    assert.equal(store.stats().objects, 1);
  });

  test('after a skipped refresh, an object is not taken as stored on the word of a pack another process removed', async () => {
    const { store, dir } = await openObjects();
    const [gone] = await putBlobs(store, [Buffer.from('in a pack another process removes\n')]);
    const [kept] = await putBlobs(store, [Buffer.from('in a pack that stays\n')]);
    const removed = await openObjectStore(dir);
    await removed.planCollection(new Set([kept!])).then((plan) => Promise.all(plan.drop.map((name) => removed.dropPack(name, { live: new Set([kept!]), relyOn: plan.kept, added: [] }))));
    await store.refreshSkipped();
    assert.equal(store.has(gone!), false, 'its pack is gone: not stored');
    assert.equal(store.has(kept!), true);
    const batch = store.beginBatch();
    await batch.putBlob(Buffer.from('in a pack another process removes\n'));
    assert.equal(batch.addedObjects, 1, 'written again');
    await batch.commit();
    await store.refresh();
    assert.deepEqual(await store.readBlob(gone!), Buffer.from('in a pack another process removes\n'));
  });

  test('an object found a moment ago is not stored once its pack is dropped (has asks the pack of its last answer first)', async () => {
    const { store, dir } = await openObjects();
    const [dead] = await putBlobs(store, [Buffer.from('dead: its pack is dropped\n')]);
    const [live] = await putBlobs(store, [Buffer.from('live\n')]);
    assert.equal(store.has(dead!), true);
    await store.removeUnreferenced(new Set([live!]));
    assert.equal(store.has(dead!), false, 'this store dropped the pack');
    const [other] = await putBlobs(store, [Buffer.from('dropped by another process\n')]);
    const elsewhere = await openObjectStore(dir);
    assert.equal(store.has(other!), true);
    await elsewhere.planCollection(new Set([live!])).then((plan) => Promise.all(plan.drop.map((name) => elsewhere.dropPack(name, { live: new Set([live!]), relyOn: plan.kept, added: [] }))));
    await store.refresh();
    assert.equal(store.has(other!), false, 'another process dropped the pack');
    assert.equal(store.has(live!), true);
  });

  test('abort leaves nothing behind; a committed batch refuses more objects', async () => {
    const { store, dir } = await openObjects();
    const batch = store.beginBatch();
    const hash = await batch.putBlob(Buffer.from('aborted'));
    await batch.abort();
    assert.deepEqual(await fs.readdir(dir), []);
    assert.equal(store.has(hash), false);
    await assert.rejects(store.readBlob(hash), isLoadError());
    const committed = store.beginBatch();
    await committed.putBlob(Buffer.from('x'));
    await committed.commit();
    await assert.rejects(committed.putBlob(Buffer.from('y')));
  });

  test('a finished pack keeps no per-object entries in its writer: its index answers, and the batch still reads every object', async () => {
    const { store, dir } = await openObjects();
    const writer = new PackWriter(dir);
    const content = Buffer.from('kept in the pack, not in the writer');
    const hash = hashObject('blob', content);
    await writer.add(hash, 'blob', { data: content, codec: CODECS.stored }, content.length);
    const written = await writer.finish();
    assert.ok(written);
    assert.equal(writer.has(hash), false);
    assert.equal(writer.entry(hash), undefined);
    assert.equal(writer.objectCount, 1);
    assert.ok(written.index.find(Buffer.from(hash, 'hex')) >= 0);
    const batch = store.beginBatch();
    const put = await batch.putBlob(Buffer.from('read back after the commit'));
    await batch.commit();
    assert.equal(batch.has(put), true);
    assert.equal((await batch.readBlob(put)).toString(), 'read back after the commit');
  });

  test('a missing object, or one read as the wrong type, is a SnapshotLoadError', async () => {
    const { store } = await openObjects();
    const [blob] = await putBlobs(store, [Buffer.from('{"v":1,"e":[]}')]);
    await assert.rejects(store.readBlob('0'.repeat(64)), isLoadError());
    await assert.rejects(store.readTree(blob!), isLoadError());
  });

  test('a bit flipped in an object is detected on read, by verifyAll, and salvage keeps the others', async () => {
    const { store, dir, storeDir } = await openObjects();
    const contents = [Buffer.from('first object '.repeat(50)), Buffer.from('second object '.repeat(50)), Buffer.from('third')];
    const hashes = await putBlobs(store, contents);
    const [pack] = await packFiles(storeDir);
    const entries = await readPackIndex(pack!);
    const victim = entries.find((e) => e.hash === hashes[1])!;
    await flipByte(pack!, victim.offset + Math.floor(victim.storedSize / 2));

    const fresh = await openObjectStore(dir);
    await assert.rejects(fresh.readBlob(hashes[1]!), isLoadError());
    assert.deepEqual(await fresh.readBlob(hashes[0]!), contents[0]);
    const broken = await fresh.verifyAll();
    assert.deepEqual(
      broken.map((b) => b.hash),
      [hashes[1]],
    );

    const quarantine = path.join(storeDir, 'quarantine');
    const result = await fresh.salvage(broken.map((b) => b.pack), quarantine);
    assert.equal(result.saved, 2);
    assert.equal(result.lost, 1);
    assert.equal((await fs.readdir(quarantine)).length, 1, 'the damaged pack is kept in quarantine');
    assert.equal(await exists(pack!), false);
    assert.deepEqual(await fresh.verifyAll(), []);
    assert.equal(fresh.has(hashes[1]!), false);
    const reopened = await openObjectStore(dir);
    assert.deepEqual(await reopened.readBlob(hashes[0]!), contents[0]);
    assert.deepEqual(await reopened.readBlob(hashes[2]!), contents[2]);
    assert.equal(reopened.has(hashes[1]!), false);
  });

  test('a pack with a damaged index is reported and every record is salvaged from it', async () => {
    const { store, dir, storeDir } = await openObjects();
    const contents = [Buffer.from('alpha'), Buffer.from('beta '.repeat(40)), Buffer.from('gamma')];
    const hashes = await putBlobs(store, contents);
    const [pack] = await packFiles(storeDir);
    const size = (await fs.stat(pack!)).size;
    await flipByte(pack!, size - 50 - 49 * 3 + 5); // inside the first index entry (trailer 50, entries 49 bytes)

    const fresh = await openObjectStore(dir);
    assert.equal(fresh.damaged.size, 1);
    await assert.rejects(fresh.readBlob(hashes[0]!), isLoadError());
    const broken = await fresh.verifyAll();
    assert.equal(broken.length, 1);
    assert.equal(broken[0]!.hash, undefined);
    const result = await fresh.salvage([broken[0]!.pack], path.join(storeDir, 'quarantine'));
    assert.equal(result.saved, 3);
    for (let i = 0; i < 3; i++) assert.deepEqual(await fresh.readBlob(hashes[i]!), contents[i]);
    assert.equal((await openObjectStore(dir)).damaged.size, 0);
  });

  test('a pack that failed to load for a passing reason is tried again: its objects are not lost to the open store', async () => {
    const { store, dir, storeDir } = await openObjects();
    const reader = await openObjectStore(dir);
    const hashes = await putBlobs(store, [Buffer.from('kept '.repeat(20))]);
    const [pack] = await packFiles(storeDir);
    const bytes = await fs.readFile(pack!);
    // A read error rather than bad bytes (here: the name is a folder for a moment).
    await fs.rm(pack!);
    await fs.mkdir(pack!);
    await reader.refresh();
    assert.equal(reader.damaged.size, 1);
    await fs.rmdir(pack!);
    await fs.writeFile(pack!, bytes);
    assert.deepEqual(await reader.readBlob(hashes[0]!), Buffer.from('kept '.repeat(20)));
    assert.equal(reader.damaged.size, 0);

    // Bad bytes: reported until the file changes on disk, then read again.
    await fs.writeFile(pack!, bytes.subarray(0, 20));
    const again = await openObjectStore(dir);
    assert.equal(again.damaged.size, 1);
    await again.refresh();
    assert.equal(again.damaged.size, 1, 'a damaged pack that did not change stays damaged');
    await fs.writeFile(pack!, bytes);
    assert.deepEqual(await again.readBlob(hashes[0]!), Buffer.from('kept '.repeat(20)));
    assert.deepEqual(await again.verifyAll(), []);
  });

  test('a truncated pack is reported; the records before the cut are salvaged', async () => {
    const { store, dir, storeDir } = await openObjects();
    const contents = [Buffer.from('one '.repeat(30)), Buffer.from('two '.repeat(30)), Buffer.from('three '.repeat(30))];
    const hashes = await putBlobs(store, contents);
    const [pack] = await packFiles(storeDir);
    const entries = await readPackIndex(pack!);
    const third = entries.find((e) => e.hash === hashes[2])!;
    await fs.truncate(pack!, third.offset + 3);

    const fresh = await openObjectStore(dir);
    assert.equal(fresh.damaged.size, 1);
    const broken = await fresh.verifyAll();
    assert.equal(broken.length, 1);
    const result = await fresh.salvage([broken[0]!.pack], path.join(storeDir, 'quarantine'));
    assert.equal(result.saved, 2);
    assert.deepEqual(await fresh.readBlob(hashes[0]!), contents[0]);
    assert.deepEqual(await fresh.readBlob(hashes[1]!), contents[1]);
    assert.equal(fresh.has(hashes[2]!), false);
    assert.deepEqual(await fresh.verifyAll(), []);
  });

  test('trees with unsafe, duplicate or unsorted names are refused on read', async () => {
    const { store } = await openObjects();
    const blob = (await putBlobs(store, [Buffer.from('x')]))[0]!;
    const entry = (name: string): TreeEntry => [name, 'f', blob, 1, 0o644];
    const hostile: TreeObject[] = [
      { v: 1, e: [entry('..')] },
      { v: 1, e: [entry('.')] },
      { v: 1, e: [entry('a/b')] },
      { v: 1, e: [entry('../x')] },
      { v: 1, e: [entry('/etc/x')] },
      { v: 1, e: [entry('a\\b')] },
      { v: 1, e: [entry('nul\0name')] },
      { v: 1, e: [entry('')] },
      { v: 1, e: [entry('a'), entry('a')] },
      { v: 1, e: [entry('b'), entry('a')] },
    ];
    const batch = store.beginBatch();
    const hashes = [];
    for (const tree of hostile) hashes.push(await batch.putTree(tree)); // bypasses makeTree's checks
    const notJson = await batch.putBlob(Buffer.from('not a tree'));
    await batch.commit();
    for (const [i, hash] of hashes.entries()) {
      await assert.rejects(store.readTree(hash), isLoadError(), `tree ${JSON.stringify(hostile[i]!.e.map((e) => e[0]))} must be refused`);
    }
    // A blob whose bytes are not a tree cannot pass for one (the hash has a type prefix).
    await assert.rejects(store.readTree(notJson), isLoadError());
    assert.throws(() => makeTree([entry('a'), entry('a')]), isLoadError('InvalidState'));
  });

  test('removeUnreferenced deletes dead packs, rewrites mixed ones, and keeps every live object readable', async () => {
    const { store, dir, storeDir } = await openObjects();
    const [a, b] = await putBlobs(store, [Buffer.from('live a '.repeat(20)), Buffer.from('dead b '.repeat(20))]);
    const [c] = await putBlobs(store, [Buffer.from('dead c')]);
    const [d] = await putBlobs(store, [Buffer.from('live d')]);
    assert.equal((await packFiles(storeDir)).length, 3);
    const before = store.stats();
    const result = await store.removeUnreferenced(new Set([a!, d!]));
    assert.equal(result.removedObjects, 2);
    assert.ok(result.freedBytes > 0);
    const after = store.stats();
    assert.equal(after.objects, before.objects - 2);
    assert.equal(after.packs, 2, 'the all-dead pack is deleted, the mixed one replaced');
    for (const reader of [store, await openObjectStore(dir)]) {
      assert.deepEqual(await reader.readBlob(a!), Buffer.from('live a '.repeat(20)));
      assert.deepEqual(await reader.readBlob(d!), Buffer.from('live d'));
      assert.equal(reader.has(b!), false);
      assert.equal(reader.has(c!), false);
    }
    assert.deepEqual(await store.verifyAll(), []);
    // Nothing left to collect the second time.
    assert.deepEqual(await store.removeUnreferenced(new Set([a!, d!])), { removedObjects: 0, freedBytes: 0, mergedPacks: 0, recompressed: 0 });
  });

  test('a reader keeps working after another process garbage-collected and rewrote a pack', async () => {
    const { store, dir } = await openObjects();
    const [live] = await putBlobs(store, [Buffer.from('live '.repeat(30)), Buffer.from('dead '.repeat(30))]);
    const reader = await openObjectStore(dir); // another window: index loaded, no pack open yet
    await store.removeUnreferenced(new Set([live!])); // the command-line tool's gc
    assert.deepEqual(await reader.readBlob(live!), Buffer.from('live '.repeat(30)));
  });

  test('many concurrent reads across more packs than stay open all succeed (no handle is closed under a read)', async () => {
    const { store, dir } = await openObjects();
    const contents = Array.from({ length: 150 }, (_, i) => Buffer.from(`object number ${i} `.repeat(40)));
    const hashes: string[] = [];
    for (const content of contents) hashes.push(...(await putBlobs(store, [content]))); // one pack each
    const reader = await openObjectStore(dir);
    for (let round = 0; round < 3; round++) {
      const results = await Promise.allSettled(hashes.map((hash) => reader.readBlob(hash)));
      const failed = results.filter((r) => r.status === 'rejected');
      assert.deepEqual(failed, [], `round ${round}`);
      results.forEach((r, i) => assert.deepEqual((r as PromiseFulfilledResult<Buffer>).value, contents[i]));
    }
    await reader.close();
  });

  test('readBlobs reads many blobs in the order asked, across packs, each checked; a missing, damaged or non-blob one is an error in its place', async () => {
    const { store, dir, storeDir } = await openObjects();
    const contents = Array.from({ length: 40 }, (_, i) => Buffer.from(`blob number ${i} `.repeat(30 + i)));
    const first = await putBlobs(store, contents.slice(0, 20));
    const second = await putBlobs(store, [...contents.slice(20), randomBytes(2000), Buffer.from('x')]); // stored as they are too
    const stored = second.slice(20);
    const treeHash = await (async () => {
      const batch = store.beginBatch();
      const hash = await batch.putTree(makeTree([]));
      await batch.commit();
      return hash;
    })();
    const damaged = first[7]!;
    const { file, entry } = await locateObjectIn(storeDir, damaged);
    await flipByte(file, entry.offset + Math.floor(entry.storedSize / 2));
    const missing = '0'.repeat(64);
    // newest first and interleaved, as a search asks for them: not in pack order
    const asked = [...second.slice(0, 20).reverse(), missing, ...first.filter((_, i) => i % 2 === 1), ...stored, treeHash, ...first.filter((_, i) => i % 2 === 0)];
    const reader = await openObjectStore(dir);
    const results = [];
    for await (const read of reader.readBlobs(asked)) results.push(read);
    assert.deepEqual(results.map((r) => r.hash), asked);
    for (const read of results) {
      if (read.hash === missing || read.hash === damaged || read.hash === treeHash) {
        assert.ok(isLoadError()(read.error), read.hash);
        assert.equal(read.content, undefined);
      } else {
        assert.equal(read.error, undefined);
        assert.deepEqual(read.content, await reader.readBlob(read.hash));
        assert.equal(hashObject('blob', read.content!), read.hash);
      }
    }
    const partial = reader.readBlobs(asked);
    assert.equal((await partial.next()).value?.hash, asked[0]);
    await partial.return(undefined); // stopping early is fine
    await reader.close();
  });

  test('readBlobs gives the caller\'s pause its turns while it looks up a batch of many blobs, and reads the same', async () => {
    const { store, dir } = await openObjects();
    const contents = Array.from({ length: 300 }, (_, i) => Buffer.from(`small blob ${i}\n`));
    const hashes = await putBlobs(store, contents);
    const reader = await openObjectStore(dir);
    const read = async (options?: { pause: () => Promise<void> }) => {
      const contentsRead: Buffer[] = [];
      for await (const blob of reader.readBlobs(hashes, options)) contentsRead.push(blob.content!);
      return contentsRead;
    };
    let pauses = 0;
    const sliced = await read({ pause: async () => void pauses++ });
    // 300 small blobs are one batch: looked up with a pause every 64 of them
    assert.ok(pauses >= 4, `${pauses} pauses`);
    assert.deepEqual(sliced, contents);
    assert.deepEqual(await read(), contents);
    await reader.close();
  });

  test('objects folder and packs are owner-only; stale temporaries are removed', async () => {
    const { store, dir, storeDir } = await openObjects();
    await putBlobs(store, [Buffer.from('private')]);
    for (const entry of await listModes(storeDir)) {
      assert.equal(entry.mode, entry.kind === 'dir' ? 0o700 : 0o600, `${entry.rel} has mode ${entry.mode.toString(8)}`);
    }
    const leftover = path.join(dir, 'tmp-abc.pack.partial');
    const recent = path.join(dir, 'tmp-def.pack.partial');
    await fs.writeFile(leftover, 'x');
    await fs.writeFile(recent, 'x');
    const old = new Date(Date.now() - 2 * 3_600_000);
    await fs.utimes(leftover, old, old);
    assert.equal(await store.removeStaleTemporaries(), 1);
    assert.equal(await exists(leftover), false);
    assert.equal(await exists(recent), true, 'a writer may still be filling a recent one');
  });
});

describe('ObjectStore writes and repacks', () => {
  test("a small pack is written into the temporary file created on the thread pool when its first object was added (a save's point does not wait for the file's creation)", async () => {
    const { dir } = await openObjects();
    const writer = new PackWriter(dir);
    const content = Buffer.from('the first object of a save');
    const hash = hashObject('blob', content);
    await writer.add(hash, 'blob', { data: content, codec: CODECS.stored }, content.length);
    const created = await waitForPartial(dir);
    const early = await fs.stat(path.join(dir, created));
    assert.equal(early.size, 0, 'created empty; the pack is written whole at the end');
    const written = await writer.finish();
    assert.ok(written);
    assert.equal((await fs.stat(written.file)).ino, early.ino, 'the pack is that file, renamed');
    assert.deepEqual((await fs.readdir(dir)).filter((n) => n.endsWith('.partial')), []);
    assert.deepEqual((await readPackIndex(written.file)).map((e) => e.hash), [hash]);
  });

  test('a batch larger than the write buffer and the bound on unwritten bytes reads back before and after commit', async () => {
    const { store, dir } = await openObjects();
    const contents = Array.from({ length: 400 }, (_, i) => (i % 2 ? randomBytes(20_000) : Buffer.from(`line ${i}\n`.repeat(3_000))));
    const batch = store.beginBatch();
    const hashes = await Promise.all(contents.map((c) => batch.putBlob(c))); // all at once: the writer must make them wait, not fail
    for (const i of [0, 1, 200, 398, 399]) assert.deepEqual(await batch.readBlob(hashes[i]!), contents[i], `object ${i} before commit`);
    await batch.commit();
    const [pack] = await packFiles(path.dirname(dir));
    const entries = await readPackIndex(pack!);
    assert.equal(entries.length, 400);
    assert.deepEqual((await fs.readdir(dir)).filter((n) => n.endsWith('.partial')), [], 'the file created early is the one written, or closed and removed');
    const reader = await openObjectStore(dir);
    for (const [i, hash] of hashes.entries()) assert.deepEqual(await reader.readBlob(hash), contents[i]);
    assert.deepEqual(await reader.verifyAll(), []);
  });

  test('a batch answers reads of its own trees with the tree it was given', async () => {
    const { store } = await openObjects();
    const batch = store.beginBatch();
    const tree = makeTree([['a.txt', 'f', hashObject('blob', Buffer.from('a')), 1, 0o644]]);
    const hash = await batch.putTree(tree);
    assert.equal(await batch.readTree(hash), tree);
    await batch.commit();
    assert.deepEqual(await store.readTree(hash), tree);
  });

  test('the trees a batch wrote are read from memory after its commit (a restore plans against the point it just made)', async () => {
    const { store, storeDir } = await openObjects();
    const batch = store.beginBatch();
    const tree = makeTree([['a.txt', 'f', hashObject('blob', Buffer.from('a')), 1, 0o644]]);
    const hash = await batch.putTree(tree);
    await batch.commit();
    // the pack's bytes gone: a read of the tree from disk would fail
    for (const pack of await packFiles(storeDir)) await fs.truncate(pack, 0);
    assert.equal(await store.readTree(hash), tree);
  });

  test('the trees found complete are forgotten when a pack is dropped', async () => {
    const { store } = await openObjects();
    const [a, b] = await putBlobs(store, [Buffer.from('live a'), Buffer.from('dead b')]);
    store.completeTrees.add('some tree');
    await store.removeUnreferenced(new Set([a!]));
    assert.equal(store.has(b!), false);
    assert.equal(store.completeTrees.size, 0);
  });

  test("a small batch's trees are read back from memory after its commit (the next save's point starts from them); a large batch's (a first point's) are not kept", async () => {
    const { store, dir } = await openObjects();
    const blob = hashObject('blob', Buffer.from('a'));
    const small = store.beginBatch();
    const tree = makeTree([['a.txt', 'f', blob, 1, 0o644]]);
    const hash = await small.putTree(tree);
    await small.commit();
    const large = store.beginBatch();
    const many: string[] = [];
    for (let i = 0; i < 1100; i++) many.push(await large.putTree(makeTree([[`f${i}.txt`, 'f', blob, 1, 0o644]])));
    await large.commit();
    // With the packs moved away, only what the store holds in memory can still be read.
    const aside = path.join(path.dirname(dir), 'aside');
    await fs.rename(dir, aside);
    try {
      assert.deepEqual(await store.readTree(hash), tree);
      await assert.rejects(store.readTree(many[0]!));
    } finally {
      await fs.rename(aside, dir);
    }
  });

  test('garbage collection of packs holding more objects than a call takes arguments (a long history: 320k objects) repacks them', async () => {
    // A stack of 100 kB (a tenth of Node's) makes the limit about 15k arguments, so 30k objects show it quickly.
    const { dir } = await openObjects();
    const script = path.join(path.dirname(dir), 'gc.ts');
    const store = JSON.stringify(path.resolve(__dirname, '../../src/core/objects/objectStore.ts'));
    await fs.writeFile(
      script,
      `import { ObjectStore } from ${store};
      async function main(): Promise<void> {
        const objects = await ObjectStore.open(${JSON.stringify(dir)});
        const live = new Set<string>();
        for (let b = 0; b < 2; b++) {
          const batch = objects.beginBatch();
          for (let i = 0; i < 15000; i++) live.add(await batch.putBlob(Buffer.from('object ' + b + ' ' + i)));
          await batch.commit();
        }
        const result = await objects.removeUnreferenced(live, { repack: 'all' });
        process.stdout.write(JSON.stringify({ ...result, live: live.size, has: [...live].every((h) => objects.has(h)) }));
      }
      main().catch((error) => {
        process.stderr.write(String(error));
        process.exitCode = 1;
      });\n`,
    );
    const run = spawnSync(process.execPath, ['--stack-size=100', '--import', 'tsx', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { mergedPacks: number; removedObjects: number; live: number; has: boolean };
    assert.deepEqual([result.mergedPacks, result.removedObjects, result.live, result.has], [2, 0, 30000, true]);
    assert.equal((await packFiles(path.dirname(dir))).length, 1, 'one pack left');
  });

  test('packsToRoll merges the small packs that break a geometric progression of sizes', () => {
    const packs = (sizes: number[]) => sizes.map((size, i) => ({ name: `p${i}`, size }));
    assert.deepEqual(packsToRoll(packs([1000, 300, 100, 1])), [], 'already geometric');
    assert.deepEqual(packsToRoll(packs([1000, 10, 10, 10, 10])).sort(), ['p1', 'p2', 'p3', 'p4']);
    assert.deepEqual(packsToRoll(packs([1000, 900, 10, 10])).sort(), ['p0', 'p1', 'p2', 'p3'], 'the big pack is no bigger than twice the rest');
    assert.deepEqual(packsToRoll(packs([5, 1000]), true).sort(), ['p0', 'p1']);
  });

  test('garbage collection merges many packs into few, drops dead objects and recompresses fast-codec objects', async () => {
    const { store, dir, storeDir } = await openObjects();
    const first = Array.from({ length: 20 }, (_, i) => Buffer.from(`big first point file ${i}\n`.repeat(400)));
    const live = new Set(await putBlobs(store, first));
    const dead: string[] = [];
    const later: Buffer[] = [];
    for (let i = 0; i < REPACK_PACK_LIMIT + 4; i++) {
      const content = Buffer.from(`point ${i} edit\n`.repeat(30));
      later.push(content);
      const [kept, dropped] = await putBlobs(store, [content, Buffer.from(`dead ${i} `.repeat(20))]);
      live.add(kept!);
      dead.push(dropped!);
    }
    const before = await packFiles(storeDir);
    assert.equal(before.length, REPACK_PACK_LIMIT + 5);
    for (const entry of await readPackIndex(before[0]!)) assert.equal(entry.codec, CODECS.deflateFast, 'points write the fast codec');
    const reader = await openObjectStore(dir); // another process that indexed the old packs

    const result = await store.removeUnreferenced(live);
    assert.equal(result.removedObjects, dead.length);
    assert.equal(result.mergedPacks, before.length);
    assert.equal(result.recompressed, live.size);
    const after = await packFiles(storeDir);
    assert.equal(after.length, 1, 'one pack left');
    for (const entry of await readPackIndex(after[0]!)) assert.equal(entry.codec, CODECS.brotli);
    for (const opened of [store, reader, await openObjectStore(dir)]) {
      for (const [i, content] of [...first, ...later].entries()) assert.deepEqual(await opened.readBlob([...live][i]!), content);
      for (const hash of dead) assert.equal(opened.has(hash), false);
    }
    assert.deepEqual(await store.verifyAll(), []);
    // A few packs: nothing to merge, nothing rewritten.
    const [extra] = await putBlobs(store, [Buffer.from('one more')]);
    live.add(extra!);
    assert.deepEqual(await store.removeUnreferenced(live), { removedObjects: 0, freedBytes: 0, mergedPacks: 0, recompressed: 0 });
  });

  test('a point writes small folder trees as they are; a repack compresses them, not stored media again, and they read back byte for byte', async () => {
    const { store, dir, storeDir } = await openObjects();
    const entry = (name: string, i: number): TreeEntry => [name, 'f', hashObject('blob', Buffer.from(`${name} ${i}`)), i, 0];
    const trees = [1, 40, 400].map((n) => makeTree(Array.from({ length: n }, (_, i) => entry(`file-${n}-${i}.ts`, i))));
    const media = randomBytes(70_000); // does not compress: stored, and never tried again (over the 64 KiB a point writes as stored blocks)
    const batch = store.beginBatch();
    const hashes = [];
    for (const tree of trees) hashes.push(await batch.putTree(tree));
    const mediaHash = await batch.putBlob(media);
    await batch.commit();
    const codecs = async () => new Map((await readPackIndex((await packFiles(storeDir))[0]!)).map((e) => [e.hash, e.codec]));
    const written = await codecs();
    assert.ok(encodeTree(trees[1]!).length > 2048 && encodeTree(trees[2]!).length > 16 * 1024);
    assert.equal(written.get(hashes[0]!), CODECS.stored, 'a one-entry folder: stored');
    assert.equal(written.get(hashes[1]!), CODECS.stored, 'a small folder: stored');
    assert.equal(written.get(hashes[2]!), CODECS.deflateFast, 'a large folder is deflated as before');
    assert.equal(written.get(mediaHash), CODECS.stored);

    const live = new Set([...hashes, mediaHash]);
    const result = await store.removeUnreferenced(live);
    assert.deepEqual(result, { removedObjects: 0, freedBytes: 0, mergedPacks: 1, recompressed: 3 }, 'the pack is rewritten for its trees; the media is copied as it is');
    const repacked = await codecs();
    for (const hash of hashes) assert.equal(repacked.get(hash), CODECS.brotli);
    assert.equal(repacked.get(mediaHash), CODECS.stored);
    for (const opened of [store, await openObjectStore(dir)]) {
      for (const [i, hash] of hashes.entries()) {
        const stored = await opened.readStoredObject(hash);
        assert.ok(stored.data.length < encodeTree(trees[i]!).length * 0.9, 'compressed');
        assert.deepEqual(encodeTree(await opened.readTree(hash)), encodeTree(trees[i]!), 'byte for byte');
      }
      assert.deepEqual(await opened.readBlob(mediaHash), media);
    }
    assert.deepEqual(await store.verifyAll(), []);
    assert.deepEqual(await store.removeUnreferenced(live), { removedObjects: 0, freedBytes: 0, mergedPacks: 0, recompressed: 0 }, 'nothing is tried again');
  });

  test('with more than the pack limit, only the small packs are merged; the big one is left as it is', async () => {
    const { store, dir, storeDir } = await openObjects();
    const put = async (contents: Buffer[]) => {
      const batch = store.beginBatch({ effort: 'small' }); // brotli: nothing to recompress
      const hashes = await Promise.all(contents.map((c) => batch.putBlob(c)));
      await batch.commit();
      return hashes;
    };
    const all = new Map<string, Buffer>();
    const big = Array.from({ length: 10 }, () => randomBytes(50_000));
    (await put(big)).forEach((h, i) => all.set(h, big[i]!));
    const [bigPack] = await packFiles(storeDir);
    for (let i = 0; i <= REPACK_PACK_LIMIT; i++) {
      const small = Buffer.from(`small pack ${i} `.repeat(20));
      all.set((await put([small]))[0]!, small);
    }
    const result = await store.removeUnreferenced(new Set(all.keys()));
    assert.equal(result.mergedPacks, REPACK_PACK_LIMIT + 1);
    assert.equal(result.recompressed, 0);
    const after = await packFiles(storeDir);
    assert.equal(after.length, 2);
    assert.ok(after.includes(bigPack!), 'the big pack is not rewritten');
    const reader = await openObjectStore(dir);
    for (const [hash, content] of all) assert.deepEqual(await reader.readBlob(hash), content);
  });

  test('a repack that stopped half way (new pack written, old ones left, a temporary file left) loses nothing', async () => {
    const { store, dir, storeDir } = await openObjects();
    const contents = Array.from({ length: 5 }, (_, i) => Buffer.from(`object ${i} `.repeat(50)));
    const hashes: string[] = [];
    for (const content of contents) hashes.push(...(await putBlobs(store, [content])));
    const old = await packFiles(storeDir);
    const saved = await Promise.all(old.map((file) => fs.readFile(file)));
    await store.removeUnreferenced(new Set(hashes), { repack: 'all' });
    assert.equal((await packFiles(storeDir)).length, 1);
    // The crash: the old packs were not removed yet, and a writer left a partial pack behind.
    await Promise.all(old.map((file, i) => fs.writeFile(file, saved[i]!)));
    await fs.writeFile(path.join(dir, 'tmp-crashed.pack.partial'), saved[0]!.subarray(0, 40));
    const reopened = await openObjectStore(dir);
    assert.equal(reopened.stats().packs, 6);
    for (const [i, hash] of hashes.entries()) assert.deepEqual(await reopened.readBlob(hash), contents[i]);
    assert.deepEqual(await reopened.verifyAll(), []);
    // The next collection drops the duplicates: every object is stored once again.
    const result = await reopened.removeUnreferenced(new Set(hashes));
    assert.equal(result.removedObjects, 0);
    let stored = 0;
    for (const file of await packFiles(storeDir)) stored += (await readPackIndex(file)).length;
    assert.equal(stored, hashes.length);
    for (const [i, hash] of hashes.entries()) assert.deepEqual(await (await openObjectStore(dir)).readBlob(hash), contents[i]);
  });

  test('a repack stopped by a damaged live object removes nothing', async () => {
    const { store, dir, storeDir } = await openObjects();
    const hashes: string[] = [];
    for (let i = 0; i < 3; i++) hashes.push(...(await putBlobs(store, [Buffer.from(`object ${i} `.repeat(50))])));
    const { file, entry } = await locateObjectIn(storeDir, hashes[1]!);
    await flipByte(file, entry.offset + Math.floor(entry.storedSize / 2));
    await assert.rejects(store.removeUnreferenced(new Set(hashes), { repack: 'all' }), isLoadError());
    assert.equal((await packFiles(storeDir)).length, 3);
    assert.deepEqual((await fs.readdir(dir)).filter((n) => n.endsWith('.partial')), [], 'the unfinished pack is removed');
    assert.deepEqual(await store.readBlob(hashes[0]!), Buffer.from('object 0 '.repeat(50)));
  });

  test('salvage keeps records whose content matches the hash prefix in their header', async () => {
    const { store, dir, storeDir } = await openObjects();
    const contents = [Buffer.from('kept one '.repeat(30)), randomBytes(500), Buffer.from('kept two '.repeat(30))];
    const hashes = await putBlobs(store, contents);
    const { file, entry } = await locateObjectIn(storeDir, hashes[1]!); // stored as is: no checksum of its own
    await flipByte(file, entry.offset + 100);
    const fresh = await openObjectStore(dir);
    const result = await fresh.salvage([path.basename(file)], path.join(storeDir, 'quarantine'));
    assert.deepEqual(result, { saved: 2, lost: 1 });
    assert.deepEqual(await fresh.readBlob(hashes[0]!), contents[0]);
    assert.deepEqual(await fresh.readBlob(hashes[2]!), contents[2]);
    assert.equal(fresh.stats().objects, 2, 'the damaged record is not stored under another name');
  });
});
