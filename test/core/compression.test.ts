import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { CODECS, decodeObject, type Effort } from '../../src/core/objects/compression';
import { isCompressedFormat } from '../../src/core/objects/compressedFormats';
import { adler32, storedBlocks } from '../../src/core/objects/storedBlocks';
import { ObjectStore } from '../../src/core/objects/objectStore';
import { cleanupSandboxes, openObjectStore, makeSandbox } from './helpers/storeFixtures';

after(cleanupSandboxes);

/** A PNG's signature and IHDR chunk, then `payload` as its image data. */
function pngLike(payload: Buffer): Buffer {
  const ihdr = Buffer.from('0000000d49484452000004000000030008060000005c72a866', 'hex');
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, payload]);
}

const text = (bytes: number) => Buffer.from('export function handle(request) { return request.body; }\n'.repeat(Math.ceil(bytes / 58))).subarray(0, bytes);

async function storeOf(contents: Buffer[], effort?: Effort): Promise<{ hashes: string[]; dir: string; store: ObjectStore }> {
  const sandbox = await makeSandbox();
  const dir = path.join(sandbox.store, 'objects');
  const store = await openObjectStore(dir);
  const batch = store.beginBatch({ effort });
  const hashes = await Promise.all(contents.map((content) => batch.putBlob(content)));
  await batch.commit();
  return { hashes, dir, store };
}

describe('What a point compresses', () => {
  test('a file of a compressed format is stored as it is, per object, and reads back byte for byte', async () => {
    // a PNG whose data would deflate well (a flat image): its header alone says it is not worth trying
    const png = pngLike(Buffer.alloc(200_000, 7));
    const smallPng = pngLike(Buffer.alloc(5_000, 7)); // the synchronous path
    const source = text(200_000);
    const { hashes, dir, store } = await storeOf([png, smallPng, source]);
    const fresh = await openObjectStore(dir);
    for (const reader of [store, fresh]) {
      assert.deepEqual(await reader.readBlob(hashes[0]!), png);
      assert.deepEqual(await reader.readBlob(hashes[1]!), smallPng);
      assert.deepEqual(await reader.readBlob(hashes[2]!), source);
    }
    assert.equal((await fresh.readStoredObject(hashes[0]!)).codec, CODECS.stored);
    assert.equal((await fresh.readStoredObject(hashes[1]!)).codec, CODECS.stored);
    const stored = await fresh.readStoredObject(hashes[2]!);
    assert.equal(stored.codec, CODECS.deflateFast, 'source text in the same point is still deflated');
    assert.ok(stored.data.length < source.length / 5);
  });

  test('a large object of an unknown format is stored as it is when a sample of it does not compress', async () => {
    // random first 64 KiB (encrypted or compressed data), then bytes that would deflate
    const opaque = Buffer.concat([randomBytes(64 * 1024), Buffer.alloc(200_000)]);
    const compressible = Buffer.concat([text(64 * 1024), randomBytes(100_000)]); // the sample compresses: the whole is tried
    const random = randomBytes(300_000);
    const { hashes, dir } = await storeOf([opaque, compressible, random]);
    const fresh = await openObjectStore(dir);
    assert.equal((await fresh.readStoredObject(hashes[0]!)).codec, CODECS.stored);
    assert.deepEqual(await fresh.readBlob(hashes[0]!), opaque);
    assert.equal((await fresh.readStoredObject(hashes[1]!)).codec, CODECS.deflateFast);
    assert.deepEqual(await fresh.readBlob(hashes[1]!), compressible);
    assert.equal((await fresh.readStoredObject(hashes[2]!)).codec, CODECS.stored);
    assert.deepEqual(await fresh.readBlob(hashes[2]!), random);
  });

  test('a point a person waits on (deferred) writes deflate stored blocks, small and large, and a compressed format as it is; all read back byte for byte', async () => {
    const small = text(5_000);
    const large = text(300_000); // still on the main thread: several stored blocks
    const huge = text(1_200_000); // the thread pool
    const png = pngLike(Buffer.alloc(200_000, 7));
    const { hashes, dir } = await storeOf([small, large, png, huge], 'deferred');
    const fresh = await openObjectStore(dir);
    for (const [i, content] of [[0, small], [1, large], [3, huge]] as const) {
      const record = await fresh.readStoredObject(hashes[i]!);
      assert.equal(record.codec, CODECS.deflateFast, 'a deflate stream: every reader inflates it, the repack compresses it');
      assert.ok(record.data.length > content.length && record.data.length < content.length + 16 + 5 * Math.ceil(content.length / 65535), `stored blocks: ${record.data.length} bytes for ${content.length}`);
      assert.deepEqual(await fresh.readBlob(hashes[i]!), content);
      assert.deepEqual(zlib.inflateSync(record.data), content, 'a plain zlib stream');
    }
    assert.equal((await fresh.readStoredObject(hashes[2]!)).codec, CODECS.stored, 'a compressed format is not wrapped');
    assert.deepEqual(await fresh.readBlob(hashes[2]!), png);
  });

  test('a point writes its first new files up to 64 KiB as stored blocks and deflates the rest; a repack compresses them all', async () => {
    const files = Array.from({ length: 20 }, (_, i) => Buffer.concat([Buffer.from(`// file ${i}\n`), text(5_000)]));
    const sandbox = await makeSandbox();
    const dir = path.join(sandbox.store, 'objects');
    const store = await openObjectStore(dir);
    const batch = store.beginBatch();
    const hashes: string[] = [];
    for (const content of files) hashes.push(await batch.putBlob(content));
    await batch.commit();
    const sizes = files.map((content) => content.length);
    const deferred = sizes.findIndex((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0) > 64 * 1024);
    assert.equal(deferred, 13, 'thirteen files of 5 kB fit in 64 KiB');
    for (const [i, content] of files.entries()) {
      const record = await store.readStoredObject(hashes[i]!);
      assert.equal(record.codec, CODECS.deflateFast, `file ${i}: a deflate stream either way, which the repack compresses`);
      if (i < deferred) assert.ok(record.data.length > content.length, `file ${i} in stored blocks: ${record.data.length} bytes for ${content.length}`);
      else assert.ok(record.data.length < content.length / 5, `file ${i} deflated: ${record.data.length} bytes for ${content.length}`);
      assert.deepEqual(await store.readBlob(hashes[i]!), content);
    }
    const result = await store.removeUnreferenced(new Set(hashes), { repack: 'all' });
    assert.equal(result.recompressed, files.length);
    const fresh = await openObjectStore(dir);
    for (const [i, content] of files.entries()) {
      const record = await fresh.readStoredObject(hashes[i]!);
      assert.equal(record.codec, CODECS.brotli);
      assert.ok(record.data.length < content.length / 5);
      assert.deepEqual(await fresh.readBlob(hashes[i]!), content);
    }
  });

  test('stored blocks written without zlib are the bytes of zlib level 0 for a small file, and inflate to the content at any size', () => {
    assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398);
    assert.equal(adler32(Buffer.alloc(0)), 1);
    assert.equal(adler32(Buffer.alloc(100_000, 0xff)), zlib.deflateSync(Buffer.alloc(100_000, 0xff)).readUInt32BE(zlib.deflateSync(Buffer.alloc(100_000, 0xff)).length - 4), 'the sums wrap past NMAX bytes as zlib\'s');
    for (const size of [0, 1, 777, 16_000, 65_535, 65_536, 200_001]) {
      const content = randomBytes(size);
      const ours = storedBlocks(content);
      // zlib cuts its blocks shorter than 64 KiB (its buffer's size): one block's bytes are the same
      if (size <= 16_000) assert.deepEqual(ours, zlib.deflateSync(content, { level: 0 }), `${size} bytes`);
      assert.deepEqual(zlib.inflateSync(ours), content, `${size} bytes`);
    }
  });

  test('compressed formats are told by their first bytes, not by a prefix a text file may share', () => {
    const formats: Record<string, Buffer> = {
      png: pngLike(Buffer.alloc(10)),
      jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]),
      gif: Buffer.from('GIF89a\x40\x01', 'latin1'),
      webp: Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]),
      woff2: Buffer.from('wOF2\0\x01\0\0', 'latin1'),
      zip: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0]),
      gzip: zlib.gzipSync('hello'),
      mp4: Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom')]),
    };
    for (const [name, bytes] of Object.entries(formats)) assert.ok(isCompressedFormat(bytes), name);
    for (const plain of ['RIFF....WAVE', 'GIF8', 'BZh is not bzip2', 'ID3 tags\n', 'PK', '', 'export const a = 1;']) {
      assert.equal(isCompressedFormat(Buffer.from(plain, 'latin1')), false, plain);
    }
  });
});

describe('decoding an object', () => {
  test('allocates one output buffer of its size, not a second one zlib adds when the first is filled exactly', async () => {
    const content = text(100_000);
    for (const [codec, data] of [
      [CODECS.brotli, zlib.brotliCompressSync(content)],
      [CODECS.deflate, zlib.deflateSync(content)],
      [CODECS.deflateFast, zlib.deflateSync(content, { level: 1 })],
    ] as const) {
      const allocUnsafe = Buffer.allocUnsafe;
      let large = 0;
      Buffer.allocUnsafe = (size: number) => {
        if (size >= content.length) large++;
        return allocUnsafe(size);
      };
      let decoded: Buffer;
      try {
        decoded = await decodeObject(data, codec, content.length);
      } finally {
        Buffer.allocUnsafe = allocUnsafe;
      }
      assert.ok(decoded.equals(content), `codec ${codec}`);
      assert.equal(large, 1, `codec ${codec}: buffers of the content's size allocated`);
    }
  });
});
