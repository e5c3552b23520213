import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { ObjectStore } from '../../src/core/objects/objectStore';
import { loadPack, readPackIndex } from '../../src/core/objects/packFile';
import { fanoutBytes, PackIndex } from '../../src/core/objects/packIndex';
import { cleanupAll, makeSandbox, openStore, packFiles, readFiles, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

const TRAILER = 50;
const ENTRY = 49;

/** The parts of a pack file: records (magic included), index entries, what follows them, and the trailer's facts. */
function parts(bytes: Buffer): { records: Buffer; entries: Buffer; table: Buffer; count: number; end: string } {
  const trailer = bytes.subarray(bytes.length - TRAILER);
  const indexOffset = trailer.readUIntBE(0, 6);
  const count = trailer.readUInt32BE(6);
  return {
    records: bytes.subarray(0, indexOffset),
    entries: bytes.subarray(indexOffset, indexOffset + count * ENTRY),
    table: bytes.subarray(indexOffset + count * ENTRY, bytes.length - TRAILER),
    count,
    end: trailer.subarray(42).toString('latin1'),
  };
}

function packWith(records: Buffer, index: Buffer, count: number, end: string): Buffer {
  const trailer = Buffer.alloc(TRAILER);
  trailer.writeUIntBE(records.length, 0, 6);
  trailer.writeUInt32BE(count, 6);
  createHash('sha256').update(index).digest().copy(trailer, 10);
  Buffer.from(end, 'latin1').copy(trailer, 42);
  return Buffer.concat([records, index, trailer]);
}

/**
 * The same pack as the format before the in-place index wrote it (format 2): magic `RPPACK02`, the
 * index in record order, no fan-out table, end marker `RPPKEND2`.
 */
async function toFormat2(file: string): Promise<void> {
  const { records, entries, count } = parts(await fs.readFile(file));
  const byOffset = Array.from({ length: count }, (_, i) => entries.subarray(i * ENTRY, (i + 1) * ENTRY)).sort((a, b) => a.readUIntBE(33, 6) - b.readUIntBE(33, 6));
  const oldRecords = Buffer.concat([Buffer.from('RPPACK02'), records.subarray(8)]);
  await fs.writeFile(file, packWith(oldRecords, Buffer.concat(byOffset), count, 'RPPKEND2'));
}

async function magicOf(file: string): Promise<string> {
  return (await fs.readFile(file)).subarray(0, 8).toString('latin1');
}

/** Index entries of blobs with these hashes, in this order, entry `i`'s data at offset `firstOffset + i`. */
function blobEntries(hashes: readonly Buffer[], firstOffset: number): Buffer {
  return Buffer.concat(
    hashes.map((hash, i) => {
      const entry = Buffer.alloc(ENTRY);
      hash.copy(entry);
      entry[32] = 0x10;
      entry.writeUIntBE(firstOffset + i, 33, 6);
      return entry;
    }),
  );
}

/** One pack of `contents` written by an object store in a new sandbox: its objects folder, file, bytes and hashes (as written, and sorted). */
async function onePack(contents: readonly Buffer[]): Promise<{ dir: string; file: string; bytes: Buffer; hashes: string[]; sorted: string[] }> {
  const sb = await makeSandbox();
  const dir = path.join(sb.store, 'objects');
  const writer = await ObjectStore.open(dir);
  const batch = writer.beginBatch();
  const hashes = await Promise.all(contents.map((c) => batch.putBlob(c)));
  await batch.commit();
  await writer.close();
  const [file] = await packFiles(sb.store);
  return { dir, file: file!, bytes: await fs.readFile(file!), hashes, sorted: [...hashes].sort() };
}

describe('Pack indexes, looked up in place', () => {
  test('the index on disk is sorted by hash with a fan-out table; every object is found, no absent one is', async () => {
    const sb = await makeSandbox();
    const dir = path.join(sb.store, 'objects');
    const writer = await ObjectStore.open(dir);
    const batch = writer.beginBatch();
    const contents = Array.from({ length: 300 }, (_, i) => Buffer.from(`object ${i}\n`.repeat(1 + (i % 7))));
    const hashes = await Promise.all(contents.map((c) => batch.putBlob(c)));
    await batch.commit();
    const [file] = await packFiles(sb.store);
    const bytes = await fs.readFile(file!);
    assert.equal(bytes.subarray(0, 8).toString('latin1'), 'RPPACK03');
    const { entries, table, count, end } = parts(bytes);
    assert.equal(end, 'RPPKEND3');
    assert.equal(count, 300);
    const onDisk = Array.from({ length: count }, (_, i) => entries.toString('hex', i * ENTRY, i * ENTRY + 32));
    assert.deepEqual(onDisk, [...hashes].sort(), 'the index holds every hash once, in order');
    assert.equal(table.length, 1024, 'a fan-out table of 256 counts follows the index');
    for (let b = 0; b < 256; b++) assert.equal(table.readUInt32BE(b * 4), onDisk.filter((h) => parseInt(h.slice(0, 2), 16) <= b).length);

    const reader = await ObjectStore.open(dir);
    for (const [i, hash] of hashes.entries()) {
      assert.ok(reader.has(hash));
      assert.deepEqual(await reader.readBlob(hash), contents[i]);
      // the same first byte (same fan-out bucket), another hash
      const neighbour = hash.slice(0, 62) + (hash.slice(62) === '00' ? '01' : '00');
      if (!hashes.includes(neighbour)) assert.equal(reader.has(neighbour), false);
    }
    for (let i = 0; i < 300; i++) assert.equal(reader.has(randomBytes(32).toString('hex')), false);
    for (const bad of ['', 'zz', hashes[0]!.slice(0, 63), `${hashes[0]!.slice(0, 63)}g`, hashes[0]!.toUpperCase()]) assert.equal(reader.has(bad), false, bad);
    assert.equal(reader.stats().objects, 300);
    await reader.close();
    await writer.close();
  });

  test("a large pack's index is read in place: opening reads its fan-out table, a lookup a few of its entries; a walk over every entry reads it whole and checks it", async () => {
    const sb = await makeSandbox();
    const dir = path.join(sb.store, 'objects');
    const writer = await ObjectStore.open(dir);
    const batch = writer.beginBatch();
    // 1,500 entries: an index over 64 KiB (a smaller one is read whole at open)
    const hashes = await Promise.all(Array.from({ length: 1500 }, (_, i) => batch.putBlob(Buffer.from(`object ${i}`))));
    await batch.commit();
    await writer.close();
    const [file] = await packFiles(sb.store);
    const bytes = await fs.readFile(file!);
    const { records, entries, table, count } = parts(bytes);
    const sorted = [...hashes].sort();
    // the last entry's offset spoilt, the checksum left as it was: only reading the index whole can tell
    const last = sorted.at(-1)!;
    const spoilt = Buffer.from(entries);
    spoilt[(count - 1) * ENTRY + 38]! ^= 0xff;
    const damaged = packWith(records, Buffer.concat([spoilt, table]), count, 'RPPKEND3');
    damaged.subarray(damaged.length - TRAILER + 10, damaged.length - TRAILER + 42).set(bytes.subarray(bytes.length - TRAILER + 10, bytes.length - TRAILER + 42));
    await fs.writeFile(file!, damaged);

    const { index } = await loadPack(file!);
    assert.equal(index.verified, false);
    assert.equal(index.count, 1500);
    const first = sorted[0]!;
    const at = index.find(Buffer.from(first, 'hex'));
    assert.equal(index.entryAt(at, 'test').hash, first, 'found in its bucket');
    assert.equal(index.find(Buffer.from(last, 'hex')), count - 1, 'the spoilt entry is found by its hash');
    assert.equal(index.verified, false, 'a lookup reads no more than a part of the index');
    // a position no lookup read: the walk reads the index whole and checks it
    const unread = sorted.findIndex((h) => h[0] !== first[0] && h[0] !== last[0] && h[1] !== first[1]);
    assert.throws(() => index.hashAt(unread), /damaged index \(checksum mismatch\)/);
    await fs.writeFile(file!, bytes);
    const good = (await loadPack(file!)).index;
    assert.equal(good.hashAt(unread), sorted[unread]);
    assert.equal(good.verified, true);
    assert.deepEqual((await readPackIndex(file!)).map((e) => e.hash), sorted);
  });

  test('a process that looks up many objects reads an index whole after a few reads in place, and finds every object either way; a damaged one stays in place', async () => {
    const sb = await makeSandbox();
    const dir = path.join(sb.store, 'objects');
    const writer = await ObjectStore.open(dir);
    const batch = writer.beginBatch();
    const hashes = await Promise.all(Array.from({ length: 3000 }, (_, i) => batch.putBlob(Buffer.from(`many ${i}`))));
    await batch.commit();
    await writer.close();
    const [file] = await packFiles(sb.store);
    const sorted = [...hashes].sort();
    const { index } = await loadPack(file!);
    let readWhole = -1;
    for (const [n, hash] of hashes.entries()) {
      const at = index.find(Buffer.from(hash, 'hex'));
      assert.equal(at, sorted.indexOf(hash), hash);
      assert.equal(index.entryAt(at, 'test').hash, hash);
      if (readWhole < 0 && index.verified) readWhole = n;
    }
    // 3,000 entries: read whole after 4 + 3,000 / 300 = 14 reads in place
    assert.ok(readWhole > 0 && readWhole < 60, `read whole after ${readWhole} lookups`);

    const bytes = await fs.readFile(file!);
    bytes[bytes.length - TRAILER - 1024 - 5]! ^= 0xff; // inside the last entry: the checksum no longer matches
    await fs.writeFile(file!, bytes);
    const spoilt = (await loadPack(file!)).index;
    for (const hash of hashes) assert.equal(spoilt.find(Buffer.from(hash, 'hex')), sorted.indexOf(hash), hash);
    assert.equal(spoilt.verified, false);
  });

  test("an object store relies on an entry of an index read in place once its record agrees: one that does not has the index checked and set aside, reads find its objects nowhere else, verify reports it, salvage keeps every record", async () => {
    const contents = Array.from({ length: 1500 }, (_, i) => Buffer.from(`content ${i}\n`.repeat(3)));
    const { dir, file, bytes, hashes, sorted } = await onePack(contents);
    const { entries, count } = parts(bytes);
    const victim = sorted[7]!;
    const other = sorted.find((h) => h[0] !== victim[0] && h[1] !== victim[1])!;
    // the victim's offset spoilt in place (the checksum no longer matches)
    const spoilt = Buffer.from(bytes);
    spoilt[bytes.length - TRAILER - 1024 - count * ENTRY + 7 * ENTRY + 38]! ^= 0xff;
    assert.ok(entries.length === count * ENTRY);
    await fs.writeFile(file!, spoilt);

    const reader = await ObjectStore.open(dir);
    assert.equal(reader.damaged.size, 0, 'not read whole at open');
    assert.deepEqual(await reader.readBlob(other), contents[hashes.indexOf(other)]);
    assert.equal(reader.damaged.size, 0, 'a read checks the object, not the index');
    // a writer stores no copy of an object it finds: an entry found in place is confirmed by its record, not by reading the index whole
    assert.equal(reader.has(other), true);
    assert.equal(reader.damaged.size, 0, 'one entry confirmed, the index not read whole');
    // the victim's entry points elsewhere: its record disagrees, so the index is checked and set aside
    assert.equal(reader.has(victim), false);
    assert.match(reader.damaged.get(path.basename(file!)) ?? '', /checksum mismatch/);
    assert.equal(reader.has(other), false, 'nothing is taken as stored on the word of a damaged index');
    await reader.close();

    const another = await ObjectStore.open(dir);
    await assert.rejects(another.readBlob(victim), (error: unknown) => error instanceof Error && /missing/.test(error.message));
    assert.equal(another.damaged.size, 1, 'the failed read checked the index');
    await another.close();

    const verifier = await ObjectStore.open(dir);
    const broken = await verifier.verifyAll();
    assert.deepEqual(broken.map((b) => [b.pack, b.hash]), [[path.basename(file!), undefined]]);
    const result = await verifier.salvage([path.basename(file!)], path.join(path.dirname(dir), 'quarantine'));
    assert.equal(result.saved, 1500);
    for (const [i, hash] of hashes.entries()) assert.deepEqual(await verifier.readBlob(hash), contents[i]);
    await verifier.close();
  });

  test("an object store asks the indexes it holds whole before one read in place: reading a small pack's objects reads nothing of a large pack loaded before it", async () => {
    const sb = await makeSandbox();
    const dir = path.join(sb.store, 'objects');
    const writer = await ObjectStore.open(dir);
    const large = writer.beginBatch();
    // 1,500 entries: an index over 64 KiB, read in place; named to be loaded first, as a long history's collected packs are
    await Promise.all(Array.from({ length: 1500 }, (_, i) => large.putBlob(Buffer.from(`collected ${i}`))));
    await large.commit({ packName: 'a-collected.pack' });
    const small = writer.beginBatch();
    const recent = await Promise.all(Array.from({ length: 20 }, (_, i) => small.putBlob(Buffer.from(`recent ${i}`))));
    await small.commit({ packName: 'b-recent.pack' });
    await writer.close();

    const reader = await ObjectStore.open(dir);
    // the large pack's index cut off once opened: a lookup that reads any of it fails, and has it set aside
    const largeFile = path.join(dir, 'a-collected.pack');
    await fs.truncate(largeFile, parts(await fs.readFile(largeFile)).records.length);
    for (const [i, hash] of recent.entries()) assert.deepEqual(await reader.readBlob(hash), Buffer.from(`recent ${i}`));
    assert.equal(reader.damaged.size, 0, 'no look-up read the large index');
    await reader.close();
  });

  test('a pack with a fan-out table but an index of 64 KiB or less is read whole at open: a lookup that misses reads nothing more', async () => {
    const sb = await makeSandbox();
    const dir = path.join(sb.store, 'objects');
    const writer = await ObjectStore.open(dir);
    for (const length of [300, 1337, 1338]) {
      const batch = writer.beginBatch();
      await Promise.all(Array.from({ length }, (_, i) => batch.putBlob(Buffer.from(`${length}: ${i}`))));
      await batch.commit();
    }
    await writer.close();
    const byCount = new Map<number, boolean>();
    for (const file of await packFiles(sb.store)) {
      const { table, count } = parts(await fs.readFile(file));
      assert.equal(table.length, 1024, 'every one of these has its fan-out table');
      byCount.set(count, (await loadPack(file)).index.verified);
    }
    // 1,337 entries of 49 bytes: 65,513 bytes; 1,338: 65,562
    assert.deepEqual([...byCount.entries()].sort(([a], [b]) => a - b), [[300, true], [1337, true], [1338, false]]);
  });

  test("an entry whose record disagrees under an intact index is no copy to rely on: the object is stored again", async () => {
    const contents = Array.from({ length: 1500 }, (_, i) => Buffer.from(`record ${i}\n`.repeat(4)));
    const { dir, file, bytes, hashes, sorted } = await onePack(contents);
    const { entries, count } = parts(bytes);
    const victim = sorted[11]!;
    const at = sorted.indexOf(victim);
    assert.ok(at < count);
    // the record's header (its hash prefix, 8 bytes before the data) spoilt; the index and its checksum intact
    const dataOffset = entries.readUIntBE(at * ENTRY + 33, 6);
    const spoilt = Buffer.from(bytes);
    spoilt[dataOffset - 1]! ^= 0xff;
    await fs.writeFile(file!, spoilt);

    const store = await ObjectStore.open(dir);
    assert.equal(store.has(victim), false, 'not taken as stored');
    assert.equal(store.damaged.size, 0, 'the index itself is intact');
    const other = sorted[12]!;
    assert.equal(store.has(other), true);
    const again = store.beginBatch();
    assert.equal(await again.putBlob(contents[hashes.indexOf(victim)]!), victim);
    await again.commit();
    await store.close();
    const packs = await packFiles(path.dirname(dir));
    assert.equal(packs.length, 2, 'a new pack holds the copy');
    const copies = await readPackIndex(packs.find((f) => f !== file)!);
    assert.deepEqual(copies.map((e) => e.hash), [victim]);
  });

  test('a lookup in an index read in place reads a window of its bucket, and the whole bucket where hashes are uneven: every hash is found, no other', async () => {
    const sb = await makeSandbox();
    // 40,000 uniform hashes (buckets of ~156: windows of ±27) and 3,000 starting with aa whose next byte is below 0x10 (the window misses)
    const uneven = Array.from({ length: 3000 }, () => Buffer.concat([Buffer.from([0xaa, Math.floor(Math.random() * 16)]), randomBytes(30)]));
    const hashes = [...Array.from({ length: 40_000 }, () => randomBytes(32)), ...uneven].sort(Buffer.compare);
    const entries = blobEntries(hashes, 1000);
    const table = fanoutBytes(entries);
    const indexBytes = Buffer.concat([entries, table]);
    const file = path.join(sb.root, 'index-only');
    await fs.writeFile(file, indexBytes);
    const onDisk = { file, at: 0, bytes: indexBytes.length, checksum: createHash('sha256').update(indexBytes).digest() };
    const open = () => PackIndex.inPlace(table, hashes.length, onDisk, 10_000_000, 27, 'test');
    // 4 + 43,000 / 300 = 148 reads in place before it is read whole (a lookup makes one or two): 50 lookups an index, so every one is in place
    const lookups: Array<[Buffer, number]> = [];
    for (const [i, hash] of hashes.entries()) if (i % 7 === 0 || hash[0] === 0xaa) lookups.push([hash, i]);
    for (let i = 0; i < 2000; i++) lookups.push([randomBytes(32), -1]);
    for (const hash of uneven.slice(0, 500)) lookups.push([Buffer.concat([hash.subarray(0, 31), Buffer.from([hash[31]! ^ 1])]), -1]);
    let index = open();
    for (const [n, [hash, want]] of lookups.entries()) {
      if (n % 50 === 0) index = open();
      const at = index.find(hash);
      if (want < 0) {
        assert.ok(at < 0 || hashes[at]!.equals(hash), `absent ${hash.toString('hex')}`);
        continue;
      }
      assert.equal(at, want, hash.toString('hex'));
      assert.equal(index.entryAt(at, 'test').offset, 1000 + want, 'the entry is read from the window the lookup read');
      assert.equal(index.verified, false);
    }
    assert.equal(index.hashAt(0), hashes[0]!.toString('hex'), 'a position no lookup read: the index is read whole and checked');
    assert.equal(index.verified, true);
  });

  test('an index in record order (format 2) is sorted when loaded, hashes sharing their first bytes included', () => {
    const hashes = Array.from({ length: 500 }, (_, i) => (i % 5 === 0 ? Buffer.concat([Buffer.from('aabbccddee', 'hex'), randomBytes(27)]) : randomBytes(32)));
    hashes.push(Buffer.alloc(32, 0), Buffer.alloc(32, 0xff));
    const entries = blobEntries(hashes, 100);
    const index = PackIndex.unsorted(entries, 10_000, 27);
    const want = hashes.map((h) => h.toString('hex')).sort();
    assert.deepEqual(Array.from({ length: index.count }, (_, i) => index.hashAt(i)), want);
    for (const [i, hash] of hashes.entries()) {
      const at = index.find(hash);
      assert.equal(index.hashAt(at), hash.toString('hex'));
      assert.equal(index.entryAt(at, 'test').offset, 100 + i, 'each entry keeps its own facts');
    }
    // the first five bytes shared: a look-up that compares a prefix must still tell them apart
    assert.equal(index.find(Buffer.concat([Buffer.from('aabbccddee', 'hex'), Buffer.alloc(27, 1)])), -1);
    assert.equal(index.find(Buffer.concat([Buffer.from('aabbccddef', 'hex'), Buffer.alloc(27, 0)])), -1);
  });

  test('a fan-out table that does not fit its index (checksum made to match) is a damaged pack, not a crash', async () => {
    const sb = await makeSandbox();
    const dir = path.join(sb.store, 'objects');
    const store = await ObjectStore.open(dir);
    const batch = store.beginBatch();
    const hashes = await Promise.all(Array.from({ length: 100 }, (_, i) => batch.putBlob(Buffer.from(`blob ${i}`))));
    await batch.commit();
    await store.close();
    const [file] = await packFiles(sb.store);
    const { records, entries, table, count } = parts(await fs.readFile(file!));
    for (const damage of [(t: Buffer) => t.writeUInt32BE(count + 5, 255 * 4), (t: Buffer) => t.writeUInt32BE(0xffffffff, 0), (t: Buffer) => t.writeUInt32BE(0, 128 * 4)]) {
      const copy = Buffer.from(table);
      damage(copy);
      await fs.writeFile(file!, packWith(records, Buffer.concat([entries, copy]), count, 'RPPKEND3'));
      const reader = await ObjectStore.open(dir);
      assert.match(reader.damaged.get(path.basename(file!)) ?? '', /fan-out/);
      assert.equal(reader.has(hashes[0]!), false);
      await reader.close();
    }
  });

  test('a store whose packs have the old index (format 2) keeps working, and clean-up rewrites them in place, crash-safe', async () => {
    const sb = await makeSandbox();
    let store = await openStore(sb);
    const points = [];
    const files = [];
    for (let v = 1; v <= 3; v++) {
      await writeFiles(sb.ws, { 'shared.txt': 'shared by every point\n'.repeat(50), 'a.txt': `version ${v}\n`.repeat(v * 20), [`only${v}.txt`]: `only in ${v}\n` });
      points.push((await store.recovery.createRecoveryPoint())!);
      files.push(await readFiles(sb.ws));
    }
    await store.close();
    const packs = await packFiles(sb.store);
    assert.equal(packs.length, 3);
    for (const file of packs) await toFormat2(file);
    for (const file of packs) assert.equal(await magicOf(file), 'RPPACK02');

    // read as they are: listed, compared, restored, verified
    store = await openStore(sb);
    assert.equal((await store.recovery.listRecoveryPoints()).length, 3);
    assert.deepEqual((await store.recovery.changedFiles(points[1]!.id)).modified.map((m) => m.path), ['ws/a.txt']);
    await store.recovery.restore(points[0]!.id);
    assert.deepEqual(await readFiles(sb.ws), files[0]);
    assert.equal((await store.recovery.verify()).ok, true);

    // clean-up rewrites every old pack with the new index; the old ones go only after the new one is durable
    const oldCopies = new Map<string, Buffer>();
    for (const file of await packFiles(sb.store)) if ((await magicOf(file)) === 'RPPACK02') oldCopies.set(file, await fs.readFile(file));
    await store.recovery.collectGarbage();
    for (const file of await packFiles(sb.store)) assert.equal(await magicOf(file), 'RPPACK03', `${path.basename(file)} was upgraded`);
    await store.close();

    // a crash after the new pack but before the old ones were removed: both are there, nothing is lost
    for (const [file, bytes] of oldCopies) await fs.writeFile(file, bytes);
    store = await openStore(sb);
    assert.equal((await store.recovery.verify()).ok, true);
    for (const [i, point] of points.entries()) {
      await store.recovery.restore(point.id);
      assert.deepEqual(await readFiles(sb.ws), files[i]);
    }
    await store.recovery.collectGarbage();
    for (const file of await packFiles(sb.store)) assert.equal(await magicOf(file), 'RPPACK03');
    const objects = await store.persistence.objects();
    let indexed = 0;
    for (const file of await packFiles(sb.store)) indexed += (await readPackIndex(file)).length;
    assert.equal(indexed, objects.stats().objects, 'the duplicates the crash left are gone');
    assert.equal((await store.recovery.verify()).ok, true);
  });
});
