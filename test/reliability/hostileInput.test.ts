/**
 * Reliability suite 3: hostile and corrupt input. Every kind of document the store reads (state file,
 * point manifest, points index, capture cache, audit log, tree object, blob, pack file) gets systematic
 * damage: truncations, bit flips, empty, wrong schema, oversized. Trees and manifests name unsafe
 * paths; the workspace holds symbolic-link loops and files that change while a point is taken. Every
 * case ends in the same check (helpers/hostileStore.ts `checkCase`): only StateErrors, nothing written
 * outside the workspace, every valid point restores byte for byte, and the store keeps working.
 * Property-based fuzzing of the parsers closes the suite. Builds on test/core/restore.test.ts (single
 * hostile points) and verify.test.ts (single damages): here every kind gets every damage, counted.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseDocument } from '../../src/core/documents';
import { StateError } from '../../src/core/errors';
import { AuditLog } from '../../src/core/state/auditLog';
import { ObjectStore } from '../../src/core/objects/objectStore';
import { readPackIndex, scanPackRecords } from '../../src/core/objects/packFile';
import { decodeTree, encodeTree } from '../../src/core/objects/tree';
import { captureCacheDocument, pointIndexDocument, snapshotDocument, stateDocument, type DocumentType } from '../../src/core/schemas';
import { exportBundle, importBundle } from '../../src/core/transfer';
import { makeDeepPath, removeDeep } from '../core/helpers/deepPath';
import { cleanupAll, locateObject, makeSandbox, readFiles, writeFiles } from '../core/helpers/storeFixtures';
import { blob, craftBundle, hashOf, resealBundle, tree, type CraftedObject } from './helpers/hostileBundle';
import { cliRunner, disposeCli, type CliRun } from './helpers/cliAs';
import {
  buildTemplate,
  canaryIntact,
  checkCase,
  copyTemplate,
  damageFile,
  oversize,
  openCase,
  repairsNeeded,
  putRaw,
  rawPoint,
  settle,
  systematicDamage,
  WRONG_JSON,
  type Case,
  type Damage,
  type Template,
} from './helpers/hostileStore';
import { byLevel, level } from './helpers/level';
import { dropClaims, readClaims } from '../../src/core/state/pointPacks';

after(cleanupAll);
after(disposeCli);

let template: Template;
let work: string;
let caseNumber = 0;
const counts = { cases: 0, noticed: 0, fuzzInputs: 0, storeFuzz: 0, unusualPaths: 0 };

before(async () => {
  const sb = await makeSandbox('rp-hostile-');
  work = sb.root;
  template = await buildTemplate(path.join(sb.root, 'template'));
});

after(() => {
  console.log(`hostile input (${level}): ${counts.cases} damaged stores checked (${counts.noticed} operations refused with a StateError), ${counts.fuzzInputs} fuzz inputs parsed, ${counts.storeFuzz} fuzzed stores checked, ${counts.unusualPaths} unusual paths; ${repairsNeeded.count} restores of a valid point needed a repair first`);
});

async function freshCase(): Promise<Case> {
  const c = await copyTemplate(template, path.join(work, `case-${++caseNumber}`));
  return c;
}

async function runCase(c: Case, what: string, survivors: 'all' | 'older', done = true): Promise<void> {
  const noticed = await checkCase(c, what, {
    survivors: survivors === 'all' ? template.points : template.points.slice(0, 2),
    maybe: survivors === 'all' ? [] : template.points.slice(2),
  });
  counts.cases++;
  counts.noticed += noticed;
  if (done) await fs.rm(c.dir, { recursive: true, force: true });
}

const JSON_DAMAGE: Damage[] = [...systematicDamage(byLevel(2, 8), byLevel(3, 12)), ...byLevel(WRONG_JSON.slice(0, 5), WRONG_JSON)];

interface DocumentKind {
  readonly name: string;
  readonly file: (t: Template) => string;
  readonly survivors: 'all' | 'older';
}

const JSON_KINDS: DocumentKind[] = [
  { name: 'state file', file: () => 'store/state.json', survivors: 'all' },
  { name: 'point manifest', file: (t) => `store/points/${t.points[2]!.id}.json`, survivors: 'older' },
  { name: 'points index', file: () => 'store/points/index.json', survivors: 'all' },
  { name: 'points index journal', file: () => 'store/points/index.journal', survivors: 'all' },
  { name: 'capture cache', file: () => 'store/cache/capture-cache.json', survivors: 'all' },
  { name: 'audit log', file: () => 'store/audit.log.jsonl', survivors: 'all' },
];

describe('systematic damage to every kind of document', () => {
  for (const kind of JSON_KINDS) {
    test(`${kind.name}: truncated, bit-flipped, empty, wrong schema, oversized`, async (t) => {
      let n = 0;
      for (const damage of JSON_DAMAGE) {
        const c = await freshCase();
        await damageFile(path.join(c.dir, kind.file(template)), damage);
        await runCase(c, `${kind.name} ${damage.name}`, kind.survivors);
        n++;
      }
      // Far larger than any valid one: refused by its size, never read into memory (a sparse file).
      const c = await freshCase();
      await oversize(path.join(c.dir, kind.file(template)), 300 * 1024 * 1024);
      await runCase(c, `${kind.name} oversized to 300 MB`, kind.survivors);
      n++;
      t.diagnostic(`${n} damaged copies, every valid point restored byte for byte`);
    });
  }

  test('state file: 50 MB of valid JSON is refused by its size, quarantined, and the state comes back from the newest point', async () => {
    const c = await freshCase();
    const state = JSON.parse(await fs.readFile(path.join(c.store, 'state.json'), 'utf8')) as { data: Record<string, unknown> };
    state.data.huge = 'x'.repeat(50 * 1024 * 1024);
    await fs.writeFile(path.join(c.store, 'state.json'), JSON.stringify(state));
    const store = await openCase(c);
    const recovered = await store.state.getState();
    assert.equal(recovered.data.huge, undefined);
    assert.equal(recovered.data.version, 3, 'from the newest point');
    assert.ok((await fs.readdir(path.join(c.store, 'quarantine'))).some((n) => n.endsWith('state.json')));
    // And a state that big is refused when written, so it can never be saved unreadable.
    await assert.rejects(store.state.updateState({ data: { huge: 'y'.repeat(17 * 1024 * 1024) } }), (e: unknown) => e instanceof StateError && /at most/.test(e.message));
    await store.close();
    await runCase(c, 'state file of 50 MB', 'all');
  });

  test('tree object: the bytes of a folder object damaged (stored with a matching hash, so only the parser stands in the way)', async (t) => {
    const base = await openCase(await freshCase());
    const objects = await base.persistence.objects();
    const root = await objects.readTree(template.manifests[2]!.root);
    const wsTree = encodeTree(await objects.readTree(root.e[0]![2]));
    await base.close();
    const damages: Damage[] = [
      ...JSON_DAMAGE,
      { name: 'a name "../escape"', apply: (b) => Buffer.from(b.toString().replace('"a.txt"', '"../escape"')) },
      { name: 'a mode with setuid and setgid', apply: (b) => Buffer.from(b.toString().replace(',420]', ',3492]')) },
      { name: 'a negative size', apply: (b) => Buffer.from(b.toString().replace(/,(\d+),420\]/, ',-1,420]')) },
      { name: 'an unknown kind', apply: (b) => Buffer.from(b.toString().replace('"f"', '"x"')) },
      { name: 'a blob hash as a folder', apply: (b) => Buffer.from(b.toString().replace('"f"', '"d"')) },
    ];
    for (const damage of damages) {
      const c = await freshCase();
      const tree = await putRaw(c.store, 'tree', damage.apply(wsTree));
      await rawPoint(c, template, tree);
      await runCase(c, `tree object ${damage.name}`, 'all');
    }
    t.diagnostic(`${damages.length} damaged folder objects behind the newest point; the older points all restored`);
  });

  test('blob: the record of one stored file content damaged inside its pack', async (t) => {
    const base = await freshCase();
    const { entry } = await locateObject(base.store, template.uniqueBlob);
    await fs.rm(base.dir, { recursive: true, force: true });
    const header = entry.offset - 46;
    const flipAt = (name: string, at: number): Damage => ({
      name,
      apply: (b) => {
        const copy = Buffer.from(b);
        copy[at] = copy[at]! ^ 0x40;
        return copy;
      },
    });
    const damages: Damage[] = [
      { name: 'cut at its header', apply: (b) => b.subarray(0, header + 10) },
      { name: 'cut in its data', apply: (b) => b.subarray(0, entry.offset + (entry.storedSize >> 1)) },
      { name: 'cut after its data', apply: (b) => b.subarray(0, entry.offset + entry.storedSize) },
      flipAt('hash in the record flipped', header + 3),
      flipAt('type flipped', header + 32),
      flipAt('encoding flipped', header + 33),
      flipAt('raw size flipped', header + 36),
      flipAt('stored size flipped', header + 43),
      flipAt('first data byte flipped', entry.offset),
      flipAt('middle data byte flipped', entry.offset + (entry.storedSize >> 1)),
      flipAt('last data byte flipped', entry.offset + entry.storedSize - 1),
      { name: 'data zeroed', apply: (b) => Buffer.concat([b.subarray(0, entry.offset), Buffer.alloc(entry.storedSize), b.subarray(entry.offset + entry.storedSize)]) },
    ];
    for (const damage of damages) {
      const c = await freshCase();
      await damageFile(path.join(c.dir, template.newestPack), damage);
      await runCase(c, `blob ${damage.name}`, 'older');
    }
    t.diagnostic(`${damages.length} damaged records; the points that do not need them all restored`);
  });

  test('pack file: truncated, bit-flipped, empty, wrong magic, absurd sizes, oversized', async (t) => {
    const damages: Damage[] = [
      ...systematicDamage(byLevel(3, 10), byLevel(5, 16)),
      { name: 'wrong magic', apply: (b) => Buffer.concat([Buffer.from('NOTAPACK'), b.subarray(8)]) },
      { name: 'trailer count huge', apply: (b) => withTrailer(b, (tr) => tr.writeUInt32BE(0xffffffff, 6)) },
      { name: 'trailer index offset huge', apply: (b) => withTrailer(b, (tr) => tr.writeUIntBE(2 ** 47, 0, 6)) },
      { name: 'only the trailer', apply: (b) => b.subarray(b.length - 50) },
      { name: 'two packs glued together', apply: (b) => Buffer.concat([b, b]) },
    ];
    let n = 0;
    for (const damage of damages) {
      const c = await freshCase();
      await damageFile(path.join(c.dir, template.newestPack), damage);
      await runCase(c, `pack ${damage.name}`, 'older');
      n++;
    }
    for (const size of [300 * 1024 * 1024, 3 * 1024 * 1024 * 1024]) {
      const c = await freshCase();
      await oversize(path.join(c.dir, template.newestPack), size);
      await runCase(c, `pack extended to ${size} bytes (sparse)`, 'older');
      n++;
    }
    t.diagnostic(`${n} damaged packs; the points that do not need them all restored`);
  });

  test('audit log: a torn last line (a crash mid-append) does not swallow the next entry', async () => {
    const c = await freshCase();
    const file = path.join(c.store, 'audit.log.jsonl');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.slice(0, text.length - 20));
    const store = await openCase(c);
    const point = (await store.recovery.createRecoveryPoint(undefined, { label: 'after the tear' }))!;
    const entries = await new AuditLog(file, 'x').read();
    assert.equal(entries[entries.length - 1]!.pointId, point.id, 'the entry after the torn line is read back');
    await store.close();
    await runCase(c, 'torn audit log', 'all');
  });
});

function withTrailer(bytes: Buffer, change: (trailer: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes);
  change(copy.subarray(copy.length - 50));
  return copy;
}

// ── hostile paths ───────────────────────────────────────────────────────────

describe('hostile paths in trees and manifests', () => {
  const UNSAFE = ['..', '.', '../x', '../canary/canary.txt', '/etc/passwd', '/abs', 'a/b', 'nul\0byte', 'back\\slash', '..\\..\\x', ''];
  test('unsafe names at every depth of a tree: refused, nothing written anywhere, every valid point kept', async (t) => {
    let n = 0;
    for (const name of UNSAFE) {
      for (const depth of byLevel([0, 1], [0, 1, 2])) {
        const c = await freshCase();
        const evil = await putRaw(c.store, 'blob', Buffer.from('pwned\n'));
        let tree = await putRaw(c.store, 'tree', Buffer.from(JSON.stringify({ v: 1, e: [[name, 'f', evil, 6, 0o644]] })));
        for (let d = 0; d < depth; d++) tree = await putRaw(c.store, 'tree', Buffer.from(JSON.stringify({ v: 1, e: [[`sub${d}`, 'd', tree, 6, 0]] })));
        const id = await rawPoint(c, template, tree);
        const store = await openCase(c);
        const r = await settle('restore', () => store.recovery.restore(id));
        assert.ok(r.error, `${JSON.stringify(name)} at depth ${depth} is refused`);
        await settle('restore a path', () => store.recovery.restore(id, { paths: ['ws/sub0'] }));
        await settle('diff', () => store.recovery.diff(id));
        await settle('preview', () => store.recovery.previewRestore(id));
        await store.close();
        await canaryIntact(c, `name ${JSON.stringify(name)}`);
        await runCase(c, `tree naming ${JSON.stringify(name)} at depth ${depth}`, 'all');
        n++;
      }
    }
    t.diagnostic(`${n} hostile trees (${UNSAFE.length} names × depths); none wrote outside the workspace`);
  });

  test('root entries naming other folders, "..", or an absolute path are never written', async () => {
    for (const rootName of ['canary', '..', '/tmp', 'ws2']) {
      const c = await freshCase();
      const evil = await putRaw(c.store, 'blob', Buffer.from('pwned\n'));
      const outside = await putRaw(c.store, 'tree', Buffer.from(JSON.stringify({ v: 1, e: [['canary.txt', 'f', evil, 6, 0o644]] })));
      const ws = await putRaw(c.store, 'tree', Buffer.from(JSON.stringify({ v: 1, e: [['a.txt', 'f', evil, 6, 0o644]] })));
      const id = await rawPoint(c, template, ws, { extraRoot: [[rootName, 'd', outside, 6, 0]] });
      const store = await openCase(c);
      await settle('restore', () => store.recovery.restore(id));
      await store.close();
      await canaryIntact(c, `root entry ${rootName}`);
      await runCase(c, `root entry ${JSON.stringify(rootName)}`, 'all');
    }
  });

  test('manifests: ids with traversal, ids that name another file, roots naming the canary, roots with unsafe hashes', async () => {
    const c = await freshCase();
    const good = template.manifests[2]!;
    const write = (name: string, doc: unknown) => fs.writeFile(path.join(c.store, 'points', name), JSON.stringify(doc));
    await write('..%2f..%2fcanary.json', { ...good, id: '../../canary' });
    await write('20991231T235959999Z-aaaaaa.json', { ...good, id: template.points[0]!.id });
    await write('20991231T235959998Z-bbbbbb.json', { ...good, id: '20991231T235959998Z-bbbbbb', roots: [{ name: 'ws', path: c.canary }] });
    await write('20991231T235959997Z-cccccc.json', { ...good, id: '20991231T235959997Z-cccccc', root: '../../../../etc/passwd' });
    await write('20991231T235959996Z-dddddd.json', { ...good, id: '20991231T235959996Z-dddddd', roots: [{ name: '../..', path: '/' }] });
    const store = await openCase(c);
    const ids = (await store.recovery.listRecoveryPoints()).map((p) => p.id);
    assert.ok(!ids.includes('../../canary'));
    assert.ok(!ids.includes('20991231T235959997Z-cccccc'), 'a root that is not a hash is not a point');
    // A manifest's recorded roots are only a description: restores write into the open workspace.
    await store.recovery.restore('20991231T235959998Z-bbbbbb');
    assert.deepEqual(await readFiles(c.ws), template.points[2]!.files);
    await settle('restore wrong id', () => store.recovery.restore('20991231T235959999Z-aaaaaa'));
    await store.close();
    await canaryIntact(c, 'hostile manifests');
    await runCase(c, 'hostile manifests', 'all');
  });

  test('duplicate names and case-only collisions', async () => {
    const c = await freshCase();
    const one = await putRaw(c.store, 'blob', Buffer.from('one\n'));
    const two = await putRaw(c.store, 'blob', Buffer.from('two\n'));
    const dup = await putRaw(c.store, 'tree', Buffer.from(JSON.stringify({ v: 1, e: [['a.txt', 'f', one, 4, 420], ['a.txt', 'f', two, 4, 420]] })));
    const dupId = await rawPoint(c, template, dup, { time: Date.now() + 60_000 });
    const cased = await putRaw(c.store, 'tree', Buffer.from(JSON.stringify({ v: 1, e: [['A.TXT', 'f', one, 4, 420], ['a.txt', 'f', two, 4, 420]] })));
    const casedId = await rawPoint(c, template, cased, { time: Date.now() + 120_000 });
    const store = await openCase(c);
    assert.ok((await settle('duplicate', () => store.recovery.restore(dupId))).error, 'duplicate names are refused');
    const result = await settle('case-only', () => store.recovery.restore(casedId));
    // Both names are distinct files on a case-sensitive file system; on any other, one must not replace
    // the other silently outside the workspace: either way, only the workspace changes.
    if (!result.error) assert.deepEqual(Object.keys(await readFiles(c.ws)).sort(), ['A.TXT', 'a.txt']);
    await store.close();
    await runCase(c, 'duplicate and case-only names', 'all');
  });
});

// ── the workspace itself ────────────────────────────────────────────────────

describe('hostile workspaces', () => {
  test('symbolic-link loops and links out of the workspace are stored as links, never followed', async () => {
    const c = await freshCase();
    await writeFiles(c.ws, {
      loop: { symlink: 'loop' },
      'ping': { symlink: 'pong' },
      'pong': { symlink: 'ping' },
      'dir/up': { symlink: '..' },
      'dir/self': { symlink: '.' },
      'dir/root': { symlink: '/' },
      'out': { symlink: '../canary' },
    });
    const files = await readFiles(c.ws);
    const store = await openCase(c);
    const point = (await store.recovery.createRecoveryPoint())!;
    assert.ok(point.fileCount < 20, `links were not followed (${point.fileCount} files)`);
    await writeFiles(c.ws, { loop: null, ping: null, dir: null, out: 'plain file\n' });
    await store.recovery.restore(point.id);
    assert.deepEqual(await readFiles(c.ws), files);
    await store.close();
    await canaryIntact(c, 'link loops');
    await runCase(c, 'link loops', 'all');
  });

  test('files that change, vanish or turn into folders while a point is taken', async (t) => {
    const c = await freshCase();
    const names = Array.from({ length: 30 }, (_, i) => `churn/f${i}.txt`);
    const versions = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
    let stop = false;
    let writes = 0;
    const churn = (async () => {
      for (let round = 0; !stop; round++) {
        for (const [i, name] of names.entries()) {
          const file = path.join(c.ws, name);
          const content = `${name} round ${round}\n`.repeat(1 + (round % 50));
          versions.get(name)!.add(content);
          if ((i + round) % 7 === 0) await fs.rm(file, { recursive: true, force: true });
          else if ((i + round) % 11 === 0) {
            await fs.rm(file, { recursive: true, force: true });
            await fs.mkdir(file, { recursive: true });
          } else {
            await fs.rm(file, { recursive: true, force: true });
            await fs.mkdir(path.dirname(file), { recursive: true });
            await fs.writeFile(`${file}.tmp`, content);
            await fs.rename(`${file}.tmp`, file);
          }
          writes++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const store = await openCase(c);
    const made: string[] = [];
    let refused = 0;
    for (let i = 0; i < byLevel(8, 40); i++) {
      const r = await settle('point while files change', () => store.recovery.createRecoveryPoint());
      if (r.value) made.push(r.value.id);
      else refused++;
    }
    stop = true;
    await churn;
    // Every point verifies, and every churned file it holds is a whole version that was written.
    assert.ok((await store.recovery.verify()).ok);
    for (const id of made) {
      await store.recovery.restore(id);
      const files = await readFiles(c.ws);
      for (const name of names) {
        const entry = files[`${name}`];
        if (entry?.startsWith('file ')) assert.ok(versions.get(name)!.has(entry.slice(9)), `${name} in ${id} is a version that was written`);
      }
    }
    await store.close();
    await canaryIntact(c, 'churn');
    // folders the churn left empty are not part of any point
    await fs.rm(path.join(c.ws, 'churn'), { recursive: true, force: true });
    t.diagnostic(`${made.length} points taken during ${writes} concurrent changes (${refused} refused with a StateError); each holds only whole versions`);
    await runCase(c, 'churn', 'all');
  });

  test('a folder object with a huge number of entries does not hang or exhaust memory', async (t) => {
    const entries = byLevel(200_000, 1_000_000);
    const c = await freshCase();
    const blob = await putRaw(c.store, 'blob', Buffer.from('x'));
    const rows: string[] = [];
    for (let i = 0; i < entries; i++) rows.push(JSON.stringify([`f${String(i).padStart(8, '0')}`, 'f', blob, 1, 420]));
    rows.push(JSON.stringify(['f00000000', 'f', blob, 1, 420])); // a duplicate at the very end: only a full parse finds it
    const tree = await putRaw(c.store, 'tree', Buffer.from(`{"v":1,"e":[${rows.join(',')}]}`));
    rows.length = 0;
    const id = await rawPoint(c, template, tree);
    const rssBefore = process.memoryUsage().rss;
    const store = await openCase(c);
    assert.ok((await settle('restore', () => store.recovery.restore(id))).error, 'refused');
    const report = await store.recovery.verify();
    assert.deepEqual(report.brokenPoints.map((p) => p.id), [id]);
    await store.close();
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 2 * 1024 * 1024 * 1024, `memory stayed bounded (${Math.round(grown / 1e6)} MB)`);
    t.diagnostic(`a tree of ${entries + 1} entries was refused; resident memory grew ${Math.round(grown / 1e6)} MB`);
    await runCase(c, 'huge tree', 'all');
  });
});

// ── fuzzing ────────────────────────────────────────────────────────────────

/** Throws unless `error` is a StateError. */
function onlyStateError(error: unknown): void {
  if (!(error instanceof StateError)) throw error;
}

function mutations(valid: Buffer): fc.Arbitrary<Buffer> {
  const text = valid.toString('utf8');
  let isJson = true;
  try {
    JSON.parse(text);
  } catch {
    isJson = false;
  }
  const arbitraries = [
    fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)) as fc.Arbitrary<Buffer>,
    // byte-level edits of a valid document
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { minLength: 1, maxLength: 8 }).map((edits) => {
      let bytes = Buffer.from(valid);
      for (const [at, value, kind] of edits) {
        const i = bytes.length === 0 ? 0 : at % bytes.length;
        if (kind === 'set' && bytes.length > 0) bytes[i] = value;
        else if (kind === 'cut') bytes = bytes.subarray(0, i);
        else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)]);
      }
      return bytes;
    }),
    // structure-level edits: a value anywhere replaced by another JSON value
    fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 3 })).map(([at, value]) => {
      const doc = JSON.parse(text) as unknown;
      const slots: Array<[Record<string, unknown> | unknown[], string | number]> = [];
      const walk = (node: unknown) => {
        if (node && typeof node === 'object') {
          for (const key of Object.keys(node)) {
            slots.push([node as Record<string, unknown>, Array.isArray(node) ? Number(key) : key]);
            walk((node as Record<string, unknown>)[key]);
          }
        }
      };
      walk(doc);
      if (slots.length > 0) {
        const [parent, key] = slots[at % slots.length]!;
        (parent as Record<string | number, unknown>)[key] = value;
      }
      return Buffer.from(JSON.stringify(doc));
    }),
  ];
  return fc.oneof(...(isJson ? arbitraries : arbitraries.slice(0, 2)));
}

describe('property: parsers throw nothing but StateError', () => {
  const runs = byLevel(600, 20_000);

  const documents: Array<[string, DocumentType<unknown>, string]> = [
    ['state file', stateDocument as DocumentType<unknown>, 'store/state.json'],
    ['point manifest', snapshotDocument as DocumentType<unknown>, ''],
    ['points index', pointIndexDocument as DocumentType<unknown>, 'store/points/index.json'],
    ['capture cache', captureCacheDocument as DocumentType<unknown>, 'store/cache/capture-cache.json'],
  ];
  for (const [name, type, file] of documents) {
    test(`${name}: random bytes and mutations of a valid one`, async (t) => {
      const valid = await fs.readFile(path.join(template.dir, file || `store/points/${template.points[2]!.id}.json`));
      let tried = 0;
      fc.assert(
        fc.property(mutations(valid), (bytes) => {
          tried++;
          try {
            parseDocument(type, bytes.toString('utf8'), 'fuzz');
          } catch (error) {
            onlyStateError(error);
          }
        }),
        { numRuns: runs },
      );
      counts.fuzzInputs += tried;
      t.diagnostic(`${tried} inputs`);
    });
  }

  test('tree object: random bytes and mutations of a valid one', async (t) => {
    const store = await openCase(await freshCase());
    const objects = await store.persistence.objects();
    const root = await objects.readTree(template.manifests[2]!.root);
    const valid = encodeTree(await objects.readTree(root.e[0]![2]));
    await store.close();
    let tried = 0;
    fc.assert(
      fc.property(mutations(valid), (bytes) => {
        tried++;
        try {
          decodeTree(bytes, 'fuzz');
        } catch (error) {
          onlyStateError(error);
        }
      }),
      { numRuns: runs },
    );
    counts.fuzzInputs += tried;
    t.diagnostic(`${tried} inputs`);
  });

  test('pack file: random bytes and mutations of a valid one (index, records, every object read)', async (t) => {
    const valid = await fs.readFile(path.join(template.dir, template.newestPack));
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rp-packfuzz-'));
    let tried = 0;
    try {
      await fc.assert(
        fc.asyncProperty(mutations(valid), async (bytes) => {
          tried++;
          const file = path.join(dir, '20990101T000000000Z-fuzz.pack');
          await fs.writeFile(file, bytes);
          try {
            await readPackIndex(file);
          } catch (error) {
            onlyStateError(error);
          }
          try {
            for await (const record of scanPackRecords(file)) void record;
          } catch (error) {
            onlyStateError(error);
          }
          try {
            const objects = await ObjectStore.open(dir);
            await objects.verifyAll();
            await objects.close();
          } catch (error) {
            onlyStateError(error);
          }
        }),
        { numRuns: byLevel(300, 10_000) },
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    counts.fuzzInputs += tried;
    t.diagnostic(`${tried} inputs`);
  });
});

describe('property: a fuzzed document never makes the store lose a valid point', () => {
  test('mutated state, manifest, index, cache, audit log or pack in a real store', async (t) => {
    const targets: Array<[string, string, 'all' | 'older']> = [
      ['state', 'store/state.json', 'all'],
      ['manifest', `store/points/${template.points[2]!.id}.json`, 'older'],
      ['index', 'store/points/index.json', 'all'],
      ['cache', 'store/cache/capture-cache.json', 'all'],
      ['audit', 'store/audit.log.jsonl', 'all'],
      ['pack', template.newestPack, 'older'],
    ];
    const originals = await Promise.all(targets.map(([, file]) => fs.readFile(path.join(template.dir, file))));
    const arb = fc.nat({ max: targets.length - 1 }).chain((i) => mutations(originals[i]!).map((bytes) => [i, bytes] as const));
    await fc.assert(
      fc.asyncProperty(arb, async ([i, bytes]) => {
        const [name, file, survivors] = targets[i]!;
        const c = await freshCase();
        await fs.writeFile(path.join(c.dir, file), bytes);
        await runCase(c, `fuzzed ${name}`, survivors);
        counts.storeFuzz++;
      }),
      { numRuns: byLevel(24, 400) },
    );
    t.diagnostic(`${counts.storeFuzz} stores with a fuzzed document: every valid point restored byte for byte`);
  });
});

describe('hostile bundles (import)', () => {
  /**
   * A copy of the template store without its newest point, and a valid bundle of all three: a good
   * import would add the newest point. Every bad bundle must end in a one-line StateError and leave
   * the store as it was (same points, same packs, no temporary pack), then pass the standard check.
   */
  async function bundleCase(): Promise<{ c: Case; bundle: string }> {
    const c = await freshCase();
    const bundle = path.join(work, `bundle-${caseNumber}.rpbundle`);
    const source = await openCase(c);
    try {
      await exportBundle(source, bundle);
    } finally {
      await source.close();
    }
    await fs.rm(path.join(c.store, 'points', `${template.points[2]!.id}.json`));
    await fs.rm(path.join(c.store, 'points', 'index.json'), { force: true });
    // its pack gives it up too, as a deletion does (it would list the point again)
    const claim = readClaims(path.join(c.store, 'objects')).get(template.points[2]!.id);
    if (claim) dropClaims(path.join(c.store, 'objects'), [claim]);
    return { c, bundle };
  }

  async function storeFiles(c: Case): Promise<string[]> {
    // the points index (its document and journal) is a cache of the manifests, rewritten by any listing
    return [...(await fs.readdir(path.join(c.store, 'objects'))), ...(await fs.readdir(path.join(c.store, 'points'))).filter((n) => n !== 'index.json' && n !== 'index.journal')].sort();
  }

  async function refused(c: Case, bundle: string, what: string, pattern: RegExp): Promise<void> {
    const before = await storeFiles(c);
    const store = await openCase(c);
    try {
      const error = await importBundle(store, bundle).then(
        () => assert.fail(`${what}: the import succeeded`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StateError, `${what}: ${String(error)}`);
      assert.match(error.message, pattern, what);
      assert.match(error.message, /Nothing was changed\.$/, what);
      assert.ok(!error.message.includes('\n    at '), `${what}: a stack trace in the message`);
      assert.deepEqual((await store.recovery.listRecoveryPoints()).map((p) => p.id), template.points.slice(0, 2).map((p) => p.id).reverse(), what);
    } finally {
      await store.close();
    }
    assert.deepEqual(await storeFiles(c), before, `${what}: the store's files changed`);
    counts.noticed++;
  }

  test('the valid bundle imports (the control): the newest point comes back', async () => {
    const { c, bundle } = await bundleCase();
    const store = await openCase(c);
    assert.deepEqual((await importBundle(store, bundle)).added, [template.points[2]!.id]);
    await store.close();
    await runCase(c, 'valid bundle imported', 'all');
  });

  test('truncated and bit-flipped bundles are refused whole', async () => {
    const { c, bundle } = await bundleCase();
    const data = await fs.readFile(bundle);
    const cuts = [0, 4, 8, 12, 40, Math.floor(data.length / 2), data.length - 41, data.length - 40, data.length - 1];
    for (const length of cuts) {
      await fs.writeFile(bundle, data.subarray(0, length));
      await refused(c, bundle, `truncated to ${length} bytes`, /not a recovery points bundle|truncated|damaged/);
    }
    const flips = [2, 9, 20, Math.floor(data.length / 3), Math.floor(data.length / 2), data.length - 60, data.length - 45, data.length - 20, data.length - 3];
    for (const at of flips) {
      const flipped = Buffer.from(data);
      flipped[at]! ^= 0x10;
      await fs.writeFile(bundle, flipped);
      await refused(c, bundle, `bit flipped at byte ${at}`, /not a recovery points bundle|truncated|damaged|not valid/);
    }
    await runCase(c, 'damaged bundles', 'older');
  });

  test('a bundle from a newer format version is refused with a message that says so', async () => {
    const { c, bundle } = await bundleCase();
    const good = await fs.readFile(bundle);
    const headerLength = good.readUInt32BE(8);
    const header = JSON.parse(good.subarray(12, 12 + headerLength).toString('utf8'));
    const newer = Buffer.from(JSON.stringify({ ...header, version: 2 }));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(newer.length);
    await fs.writeFile(bundle, Buffer.concat([good.subarray(0, 8), length, newer, good.subarray(12 + headerLength)]));
    await resealBundle(bundle);
    await refused(c, bundle, 'format 2', /newer version of Recovery Points \(bundle format 2/);
    await runCase(c, 'newer bundle', 'older');
  });

  test('paths that escape, manifests that fail validation, objects that do not match their hash or are missing', async () => {
    const { c, bundle } = await bundleCase();
    const good = template.manifests[2]!;
    const file = blob('payload\n');
    const crafted = async (what: string, pattern: RegExp, manifests: unknown[], objects: CraftedObject[]) => {
      await craftBundle(bundle, { manifests, objects });
      await refused(c, bundle, what, pattern);
    };
    const withTree = (entries: unknown[]) => {
      const inner = tree({ v: 1, e: entries });
      const root = tree({ v: 1, e: [['ws', 'd', hashOf(inner), 8, 0]] });
      return { objects: [file, inner, root], manifest: { ...good, root: hashOf(root) } };
    };
    for (const name of ['..', '.', '../../canary/x', 'a/b', 'a\\b', '/etc', 'x\0y']) {
      const { objects, manifest } = withTree([[name, 'f', hashOf(file), 8, 0o644]]);
      await crafted(`tree name ${JSON.stringify(name)}`, /unsafe name|not valid/, [manifest], objects);
    }
    {
      const escapeRoot = tree({ v: 1, e: [['..', 'd', hashOf(tree({ v: 1, e: [] })), 0, 0]] });
      await crafted('root entry ".."', /unsafe name/, [{ ...good, root: hashOf(escapeRoot) }], [tree({ v: 1, e: [] }), escapeRoot]);
    }
    const { objects, manifest } = withTree([['a.txt', 'f', hashOf(file), 8, 0o644]]);
    await crafted('a manifest with a bad id', /manifest is not valid/, [{ ...manifest, id: '../../canary' }], objects);
    await crafted('a manifest without its state', /manifest is not valid/, [{ ...manifest, state: undefined }], objects);
    await crafted('a manifest whose root is not a hash', /manifest is not valid/, [{ ...manifest, root: '../../../etc/passwd' }], objects);
    await crafted('a manifest naming a folder ".."', /workspace folder/, [{ ...manifest, roots: [{ name: '..', path: '/' }] }], objects);
    await crafted('a point twice', /twice/, [manifest, manifest], objects);
    await crafted('an object under another hash', /does not match its hash/, [manifest], [{ ...file, hash: 'ab'.repeat(32) }, ...objects.slice(1)]);
    await crafted('a file content that is missing', /neither the bundle nor this store holds/, [manifest], objects.slice(1));
    {
      const fileAsFolder = tree({ v: 1, e: [['ws', 'f', hashOf(objects[1]!), 8, 0o644]] });
      await crafted('a file entry naming a folder object', /neither the bundle nor this store holds/, [{ ...manifest, root: hashOf(fileAsFolder) }], [file, objects[1]!, fileAsFolder]);
    }
    await canaryIntact(c, 'hostile bundles');
    await runCase(c, 'hostile bundles', 'older');
  });
});

describe('paths the store could not read back (#9)', () => {
  const posix = { skip: process.platform === 'win32' ? 'POSIX paths and permissions' : false };

  /** The id a `snapshot --json` printed. */
  function pointId(run: CliRun): string {
    assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    return JSON.parse(run.stdout) as string;
  }

  function ok(run: CliRun): CliRun {
    assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr.slice(0, 2_000)}`);
    return run;
  }

  test('a 4,200-byte path next to normal files: snapshot, diff and restore (whole and --paths) work, messages stay short', posix, async () => {
    const sb = await makeSandbox('rp-hostile-long-');
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'src/b.txt': 'b\n' });
    const deep = makeDeepPath(sb.ws);
    try {
      const cli = await cliRunner(sb.root);
      const base = ['--workspace', sb.ws, '--store', sb.store];
      const snapshot = await cli([...base, 'snapshot', '--json']);
      const id = pointId(snapshot);
      assert.ok(snapshot.stderr.includes('longer than the system allows'), snapshot.stderr);
      const lines = (snapshot.stderr + snapshot.stdout).split('\n');
      assert.ok(lines.every((line) => line.length < 600), `longest message line: ${Math.max(...lines.map((l) => l.length))} characters`);
      await fs.rm(path.join(sb.ws, 'a.txt'));
      ok(await cli([...base, 'diff', id]));
      ok(await cli([...base, 'restore', id, '--paths', 'a.txt']));
      assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a\n');
      await fs.rm(path.join(sb.ws, 'src', 'b.txt'));
      ok(await cli([...base, 'restore', id]));
      assert.equal(await fs.readFile(path.join(sb.ws, 'src', 'b.txt'), 'utf8'), 'b\n');
      counts.unusualPaths++;
    } finally {
      removeDeep(deep);
    }
  });

  test('names that are not valid UTF-8 are named in a warning; a link target that is not comes back byte for byte', posix, async () => {
    const sb = await makeSandbox('rp-hostile-names-');
    await writeFiles(sb.ws, { 'ok.txt': 'ok\n' });
    const names = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]].map((bytes) => Buffer.concat([Buffer.from('name-'), Buffer.from(bytes)]));
    for (const name of names) await fs.writeFile(Buffer.concat([Buffer.from(`${sb.ws}/`), name]), 'x');
    const folder = Buffer.concat([Buffer.from(`${sb.ws}/folder-`), Buffer.from([0xfe])]);
    await fs.mkdir(folder);
    await fs.writeFile(Buffer.concat([folder, Buffer.from('/inner.txt')]), 'inner');
    const target = Buffer.concat([Buffer.from('target-'), Buffer.from([0xff, 0x80])]);
    const link = path.join(sb.ws, 'link');
    await fs.symlink(target, link);
    const cli = await cliRunner(sb.root);
    const base = ['--workspace', sb.ws, '--store', sb.store];
    const snapshot = await cli([...base, 'snapshot', '--json']);
    const id = pointId(snapshot);
    for (const shown of ['name-\\xff', 'name-\\xc3(', 'name-\\xed\\xa0\\x80', 'name-\\xf8\\x88\\x80\\x80\\x80', 'folder-\\xfe']) {
      assert.ok(snapshot.stderr.includes(shown), `${shown} is named in: ${snapshot.stderr}`);
    }
    await fs.rm(link);
    ok(await cli([...base, 'restore', id]));
    assert.deepEqual(readlinkSync(link, { encoding: 'buffer' }), target);
    counts.unusualPaths += names.length + 2;
  });

  test('a folder unreadable while points are taken is not recorded as deleted, and a later restore keeps its files', posix, async () => {
    const sb = await makeSandbox('rp-hostile-closed-');
    await writeFiles(sb.ws, { 'ok.txt': 'one\n', 'closed/inner.txt': 'inner\n', 'closed/sub/deep.txt': 'deep\n' });
    const closed = path.join(sb.ws, 'closed');
    const cli = await cliRunner(sb.root);
    const base = ['--workspace', sb.ws, '--store', sb.store];
    pointId(await cli([...base, 'snapshot', '--json']));
    await fs.writeFile(path.join(sb.ws, 'ok.txt'), 'two\n');
    let full: string;
    let hinted: string;
    let said: string;
    try {
      await fs.chmod(closed, 0o000);
      const run = await cli([...base, 'snapshot', '--json']);
      full = pointId(run);
      said = run.stderr;
      await fs.writeFile(path.join(sb.ws, 'ok.txt'), 'three\n');
      hinted = pointId(await cli([...base, 'snapshot', '--json', '--changed', path.join(sb.ws, 'ok.txt'), path.join(closed, 'inner.txt')]));
    } finally {
      await fs.chmod(closed, 0o755);
    }
    for (const id of [full, hinted]) {
      const restore = JSON.parse(ok(await cli([...base, 'restore', id, '--json'])).stdout) as { removed: string[] };
      assert.deepEqual(restore.removed, [], `restoring ${id} deleted nothing`);
      assert.equal(await fs.readFile(path.join(closed, 'inner.txt'), 'utf8'), 'inner\n');
      assert.equal(await fs.readFile(path.join(closed, 'sub', 'deep.txt'), 'utf8'), 'deep\n');
    }
    assert.match(said, /could not read .*closed.*previous point/i);
    counts.unusualPaths++;
  });

  test('a folder unreadable during a restore: nothing is half-done, the rest is restored, the folder is reported', posix, async () => {
    const sb = await makeSandbox('rp-hostile-closed-restore-');
    await writeFiles(sb.ws, { 'ok.txt': 'one\n', 'closed/inner.txt': 'one\n' });
    const closed = path.join(sb.ws, 'closed');
    const cli = await cliRunner(sb.root);
    const base = ['--workspace', sb.ws, '--store', sb.store];
    const first = pointId(await cli([...base, 'snapshot', '--json']));
    await writeFiles(sb.ws, { 'ok.txt': 'two\n', 'closed/inner.txt': 'two\n' });
    pointId(await cli([...base, 'snapshot', '--json']));
    let restore: { written: string[]; skipped: Array<{ path: string; reason: string }> };
    try {
      await fs.chmod(closed, 0o000);
      restore = JSON.parse(ok(await cli([...base, 'restore', first, '--json'])).stdout) as typeof restore;
    } finally {
      await fs.chmod(closed, 0o755);
    }
    assert.deepEqual(restore.written, ['ws/ok.txt']);
    assert.deepEqual(restore.skipped.map((s) => s.path), ['ws/closed/inner.txt']);
    assert.match(restore.skipped[0]!.reason, /permission denied/);
    assert.equal(await fs.readFile(path.join(sb.ws, 'ok.txt'), 'utf8'), 'one\n');
    assert.equal(await fs.readFile(path.join(closed, 'inner.txt'), 'utf8'), 'two\n');
    counts.unusualPaths++;
  });

  test('a folder unreadable at a point, then one file of it in a hint point: restoring either point keeps the file no point captured', posix, async () => {
    const sb = await makeSandbox('rp-hostile-closed-leftout-');
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'locked/s1.txt': 's1\n', 'locked/other.txt': 'never captured\n' });
    const locked = path.join(sb.ws, 'locked');
    const cli = await cliRunner(sb.root);
    const base = ['--workspace', sb.ws, '--store', sb.store];
    let first: string;
    try {
      await fs.chmod(locked, 0o000);
      first = pointId(await cli([...base, 'snapshot', '--json']));
    } finally {
      await fs.chmod(locked, 0o755);
    }
    await fs.writeFile(path.join(locked, 's1.txt'), 's1 again\n');
    const hinted = pointId(await cli([...base, 'snapshot', '--json', '--changed', path.join(locked, 's1.txt')]));
    for (const id of [hinted, first]) {
      const restore = JSON.parse(ok(await cli([...base, 'restore', id, '--json'])).stdout) as { removed: string[] };
      assert.deepEqual(restore.removed, [], `restoring ${id} deleted nothing`);
      assert.equal(await fs.readFile(path.join(locked, 'other.txt'), 'utf8'), 'never captured\n');
    }
    counts.unusualPaths++;
  });

  test('a file made unreadable after its last point: the dry run and the restore both leave it, as unreadable, with one safety point', posix, async () => {
    const sb = await makeSandbox('rp-hostile-closed-file-');
    await writeFiles(sb.ws, { 'ok.txt': 'one\n', 'locked.txt': 'one\n' });
    const locked = path.join(sb.ws, 'locked.txt');
    const cli = await cliRunner(sb.root);
    const base = ['--workspace', sb.ws, '--store', sb.store];
    const first = pointId(await cli([...base, 'snapshot', '--json']));
    await writeFiles(sb.ws, { 'ok.txt': 'two\n', 'locked.txt': 'two\n' });
    pointId(await cli([...base, 'snapshot', '--json']));
    // its newest bytes are in no point
    await fs.writeFile(locked, 'three, in no point\n');
    type Preview = { modify: string[]; leftAlone: Array<{ path: string; reason: string }> };
    let preview: Preview;
    let restore: { written: string[]; skipped: Array<{ path: string; reason: string }> };
    try {
      await fs.chmod(locked, 0o000);
      preview = JSON.parse(ok(await cli([...base, 'restore', first, '--dry-run', '--json'])).stdout) as Preview;
      restore = JSON.parse(ok(await cli([...base, 'restore', first, '--json'])).stdout) as typeof restore;
    } finally {
      await fs.chmod(locked, 0o644);
    }
    assert.deepEqual(preview.modify, ['ws/ok.txt']);
    assert.deepEqual(preview.leftAlone.map((l) => l.path), ['ws/locked.txt']);
    assert.match(preview.leftAlone[0]!.reason, /permission denied/);
    assert.deepEqual(restore.written, ['ws/ok.txt']);
    assert.deepEqual(restore.skipped, preview.leftAlone);
    assert.equal(await fs.readFile(locked, 'utf8'), 'three, in no point\n');
    const listed = JSON.parse(ok(await cli([...base, 'list', '--json'])).stdout) as Array<{ trigger: string }>;
    assert.equal(listed.filter((p) => p.trigger === 'before-restore').length, 1, 'one safety point, not a second full one for a file taken as changing');
    counts.unusualPaths++;
  });

  test('a folder made read-only after the point: the dry run and the restore leave its files, the rest is restored whole, nothing stops part way', posix, async () => {
    const sb = await makeSandbox('rp-hostile-ro-folder-');
    await writeFiles(sb.ws, { 'ro/a.txt': 'one\n', 'other/x.txt': 'one\n', 'zz/y.txt': 'one\n' });
    const ro = path.join(sb.ws, 'ro');
    const cli = await cliRunner(sb.root);
    const base = ['--workspace', sb.ws, '--store', sb.store];
    const first = pointId(await cli([...base, 'snapshot', '--json']));
    await writeFiles(sb.ws, { 'ro/a.txt': 'two\n', 'other/x.txt': 'two\n', 'zz/y.txt': null, 'new.txt': 'new\n' });
    type Preview = { add: string[]; modify: string[]; remove: string[]; leftAlone: Array<{ path: string; reason: string }> };
    let preview: Preview;
    let restore: { written: string[]; removed: string[]; skipped: Array<{ path: string; reason: string }> };
    try {
      await fs.chmod(ro, 0o555);
      preview = JSON.parse(ok(await cli([...base, 'restore', first, '--dry-run', '--json'])).stdout) as Preview;
      restore = JSON.parse(ok(await cli([...base, 'restore', first, '--json'])).stdout) as typeof restore;
    } finally {
      await fs.chmod(ro, 0o755);
    }
    assert.deepEqual(preview.leftAlone, [{ path: 'ws/ro/a.txt', reason: 'its folder cannot be written (permission denied): left as it is' }]);
    assert.deepEqual([preview.add, preview.modify, preview.remove], [['ws/zz/y.txt'], ['ws/other/x.txt'], ['ws/new.txt']]);
    assert.deepEqual([[...restore.written].sort(), restore.removed], [['ws/other/x.txt', 'ws/zz/y.txt'], ['ws/new.txt']]);
    assert.deepEqual(restore.skipped, preview.leftAlone);
    assert.equal(await fs.readFile(path.join(ro, 'a.txt'), 'utf8'), 'two\n', 'left as it was');
    counts.unusualPaths++;
  });

  test('snapshot --changed naming a file through a linked folder holds the change', posix, async () => {
    const sb = await makeSandbox('rp-hostile-hint-link-');
    await writeFiles(sb.ws, { 'src/f.txt': 'one\n', 'link': { symlink: 'src' } });
    const cli = await cliRunner(sb.root);
    const base = ['--workspace', sb.ws, '--store', sb.store];
    pointId(await cli([...base, 'snapshot', '--json']));
    await fs.writeFile(path.join(sb.ws, 'link', 'f.txt'), 'two\n');
    const run = ok(await cli([...base, 'snapshot', '--changed', path.join(sb.ws, 'link', 'f.txt')]));
    assert.match(run.stdout, /\+0 ~1 \u22120/);
    counts.unusualPaths++;
  });
});
