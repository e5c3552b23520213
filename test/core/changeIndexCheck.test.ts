import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkChangeIndexDocument, isChangeIndexDocument } from '../../src/core/recovery/changeIndexCheck';
import { CHANGE_INDEX_VERSION, changeIndexSchema, type ChangeIndexBody } from '../../src/core/schemas';

const h = (c: string) => c.repeat(64);
const NONE = '-'.repeat(64);

/** Two pairs (an added file; a modified and a deleted one), two roots' folders, one line count. */
function validBody(): ChangeIndexBody {
  return {
    tos: h('a') + h('b'),
    froms: NONE + h('a'),
    counts: '1,2',
    ops: 'amd',
    paths: 'ws/x.ts\0ws/y.ts\0ws/z.ts',
    kinds: 'fffl',
    hashes: h('1') + h('2') + h('3') + h('4'),
    sizes: '10,20,30,4',
    modes: '420,420,493,0',
    folderRoots: h('a') + h('b'),
    folderNames: 'ws\0ws/docs',
    lineHashes: NONE + h('1'),
    lineCounts: '0,3,0',
  };
}

/** Per column, values that keep it valid, break its pattern, or break its length against the others. */
const COLUMN_VALUES: Record<keyof ChangeIndexBody, string[]> = {
  tos: [h('a') + h('b'), h('a'), h('A') + h('b'), NONE + h('b'), `${h('a')}${h('b')}0`, ''],
  froms: [NONE + h('a'), h('c') + h('a'), `${NONE}-${h('a').slice(1)}`, h('a'), 'x'.repeat(128)],
  counts: ['1,2', '3', '1,2,0', '0,3', '1,,2', '1,x', ''],
  ops: ['amd', 'aad', 'amm', 'axd', 'am', ''],
  paths: ['ws/x.ts\0ws/y.ts\0ws/z.ts', 'ws/x.ts\0ws/y.ts', '\0\0', 'a\0b\0c\0d', ''],
  kinds: ['fffl', 'ffff', 'fffd', 'fff', 'fffff', ''],
  hashes: [h('1') + h('2') + h('3') + h('4'), h('1') + h('2') + h('3'), h('1') + h('2') + h('3') + NONE, h('1') + h('2') + h('3') + h('G'), ''],
  sizes: ['10,20,30,4', '10,20,30', '10,20,30,-4', '10,20,30,4,', ''],
  modes: ['420,420,493,0', '420,420,493,12345', '420,420,493', '420,420,493,0,0', ''],
  folderRoots: [h('a') + h('b'), h('a'), '', h('a') + NONE],
  folderNames: ['ws\0ws/docs', 'ws', '', 'ws\0\0x', 'anything'],
  lineHashes: [NONE + h('1'), '', h('1'), NONE + h('1') + NONE + h('2'), `${NONE.slice(1)}a${h('1')}`],
  lineCounts: ['0,3,0', '1,0,0', '2,3,0', '0,3', '0,3,0,1,0,0', ''],
};

function document(body: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return { schemaVersion: CHANGE_INDEX_VERSION, checksum: h('c'), body, ...extra };
}

/** The hand-written check never accepts what zod refuses, and what it accepts is what zod gives. */
function agrees(doc: unknown): boolean {
  const zod = changeIndexSchema.safeParse(doc);
  if (isChangeIndexDocument(doc)) {
    assert.ok(zod.success, `zod refuses what the check accepts: ${JSON.stringify(doc).slice(0, 300)}`);
    assert.deepEqual(doc, zod.data);
    return true;
  }
  return false;
}

describe('the change index checked by hand (changeIndexCheck.ts) agrees with its zod schema', () => {
  test('a valid document is accepted as it is', () => {
    assert.equal(agrees(document({ ...validBody() })), true);
    const empty = Object.fromEntries(Object.keys(validBody()).map((k) => [k, ''])) as unknown as ChangeIndexBody;
    assert.equal(agrees(document(empty)), true, 'an empty index');
  });

  test('each column made wrong on its own: refused by both, or accepted by both', () => {
    let refused = 0;
    for (const [column, values] of Object.entries(COLUMN_VALUES)) {
      for (const value of values) {
        const doc = document({ ...validBody(), [column]: value });
        const accepted = agrees(doc);
        if (!changeIndexSchema.safeParse(doc).success) {
          assert.equal(accepted, false);
          refused++;
        }
      }
    }
    assert.ok(refused > 40, `${refused} refused`);
  });

  test('wrong version, checksum, a column of another type, a missing or an extra key: left to zod, which refuses or strips as before', () => {
    const body = validBody();
    const { ops: _ops, ...withoutOps } = body;
    for (const doc of [
      document({ ...body }, { schemaVersion: 1 }),
      document({ ...body }, { schemaVersion: CHANGE_INDEX_VERSION + 1 }),
      document({ ...body }, { checksum: h('C') }),
      document({ ...body }, { checksum: 7 }),
      document({ ...body, sizes: 10 }),
      document({ ...body, paths: null }),
      document(withoutOps),
      { schemaVersion: CHANGE_INDEX_VERSION, checksum: h('c') },
      [document({ ...body })],
      null,
    ]) {
      assert.equal(isChangeIndexDocument(doc), false);
      assert.equal(changeIndexSchema.safeParse(doc).success, false);
    }
    for (const doc of [document({ ...body }, { more: 1 }), document({ ...body, more: 'x' })]) {
      assert.equal(isChangeIndexDocument(doc), false, 'an extra key: not sure');
      assert.equal(changeIndexSchema.safeParse(doc).success, true, 'zod strips it');
    }
  });

  test('a root with no folders (folder names empty) is accepted as zod accepts it', () => {
    const doc = document({ ...validBody(), folderRoots: h('a'), folderNames: '' });
    assert.equal(changeIndexSchema.safeParse(doc).success, true);
    assert.equal(isChangeIndexDocument(doc), true);
  });

  test('property: any mix of columns, or random text in them, is never accepted when zod refuses it', () => {
    const columns = Object.keys(COLUMN_VALUES) as Array<keyof ChangeIndexBody>;
    const randomText = fc.string({ unit: fc.constantFrom('0', '1', 'a', 'f', 'G', '-', ',', '\0', 'm', 'd', 'l', '9'), maxLength: 140 });
    // mostly the valid value, so that mixes near the edge of validity are common
    const column = (key: keyof ChangeIndexBody) => fc.oneof({ arbitrary: fc.constant(COLUMN_VALUES[key][0]!), weight: 12 }, { arbitrary: fc.constantFrom(...COLUMN_VALUES[key]), weight: 2 }, { arbitrary: randomText, weight: 1 });
    const body = fc.record(Object.fromEntries(columns.map((key) => [key, column(key)])) as Record<keyof ChangeIndexBody, fc.Arbitrary<string>>);
    let accepted = 0;
    fc.assert(
      fc.property(body, (b) => {
        if (agrees(document(b))) accepted++;
      }),
      { numRuns: 3000 },
    );
    assert.ok(accepted > 0, 'some mixes are valid');
  });
});

/** A valid body whose columns are longer than one step of the stepped check (64k characters): `pairs` pairs of one added file each. */
function longBody(pairs: number): ChangeIndexBody {
  const hex = (i: number) => i.toString(16).padStart(64, '0');
  const range = Array.from({ length: pairs }, (_, i) => i);
  return {
    tos: range.map((i) => hex(i + 1)).join(''),
    froms: range.map((i) => (i === 0 ? NONE : hex(i))).join(''),
    counts: range.map(() => '1').join(','),
    ops: 'a'.repeat(pairs),
    paths: range.map((i) => `ws/${'p'.repeat(60)}/${i}.ts`).join('\0'),
    kinds: 'f'.repeat(pairs),
    hashes: range.map((i) => hex(i + 7)).join(''),
    sizes: range.map((i) => String(i)).join(','),
    modes: range.map(() => '420').join(','),
    folderRoots: hex(1),
    folderNames: 'ws',
    lineHashes: range.map((i) => NONE + hex(i + 7)).join(''),
    lineCounts: range.map((i) => `0,${i},0`).join(','),
  };
}

describe('the stepped check (checkChangeIndexDocument)', () => {
  test('gives what the whole check gives on columns longer than one step, with a wrong character in the first or a later step, and pauses between steps', async () => {
    const body = longBody(1100);
    assert.ok(body.hashes.length > 64 * 1024 && body.lineHashes.length > 2 * 64 * 1024);
    let pauses = 0;
    const pause = async () => {
      pauses++;
    };
    assert.equal(await checkChangeIndexDocument(document({ ...body }), pause), true);
    assert.equal(isChangeIndexDocument(document({ ...body })), true);
    assert.ok(pauses > Object.keys(body).length, `${pauses} pauses`);
    let refused = 0;
    for (const column of ['tos', 'froms', 'ops', 'kinds', 'hashes', 'lineHashes'] as const) {
      const text = body[column];
      for (const at of [10, 64 * 1024 + 10, text.length - 1]) {
        const spoilt = document({ ...body, [column]: `${text.slice(0, at)}G${text.slice(at + 1)}` });
        const stepped = await checkChangeIndexDocument(spoilt, pause);
        assert.equal(stepped, isChangeIndexDocument(spoilt), `${column} at ${at}`);
        assert.equal(stepped, false, `${column} at ${at}`);
        assert.equal(changeIndexSchema.safeParse(spoilt).success, false);
        refused++;
      }
    }
    assert.equal(refused, 18);
  });
});
