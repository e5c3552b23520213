import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseDocument } from '../../src/core/documents';
import { StateError } from '../../src/core/errors';
import { silentLogger } from '../../src/core/logger';
import { pointIdSchema, pointIndexDocument, pointIndexJournalLineSchema, pointSummarySchema, type PointSummary } from '../../src/core/schemas';
import { PointIndexFile } from '../../src/core/state/pointIndex';
import { isPointId, isPointIndex, isPointIndexJournalLine, isPointSummary } from '../../src/core/state/pointSummaryCheck';
import { summaryAt } from './helpers/storePoints';

const HASH = 'a'.repeat(64);

/** Each field of a summary with values the schema refuses, and some it accepts. */
const FIELD_VALUES: Record<string, { bad: unknown[]; good: unknown[] }> = {
  schemaVersion: { bad: [0, 2, '1', null], good: [1] },
  id: { bad: ['20261125T150842123Z-a1b2c', '20261125T150842123Z-A1B2C3', '', 7, null, '20261125T150842123Z-a1b2c3\n'], good: ['20261125T150842123Z-a1b2c3'] },
  createdAt: { bad: ['yesterday', '', 0, null, '2026-13-45T99:99:99Z'], good: ['2026-11-25T15:08:42.123Z', '2026-11-25'] },
  trigger: { bad: ['Save', 'hook', '', null, 1], good: ['save', 'agent', 'before-restore'] },
  label: { bad: ['x'.repeat(201), 5, undefined], good: [null, '', 'x'.repeat(200), 'ünïcødé'] },
  summary: { bad: ['s'.repeat(501), null], good: ['', 's'.repeat(500)] },
  actor: { bad: [null, 3, undefined], good: ['', 'extension:1'] },
  root: { bad: ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), null], good: [HASH] },
  roots: {
    bad: [null, {}, [null], [{ name: '', path: '/w' }], [{ name: 'w', path: '' }], [{ name: 'w' }], [{ name: 'w', path: '/w', realPath: '' }], [{ name: 'w', path: '/w', realPath: 3 }],
      [{ name: 'w', path: '/w', head: {} }], [{ name: 'w', path: '/w', head: { branch: '' } }], [{ name: 'w', path: '/w', head: { commit: 'abc' } }], [{ name: 'w', path: '/w', head: { commit: 'A'.repeat(40) } }], [{ name: 'w', path: '/w', head: 'main' }], [{ name: 'w', path: '/w', head: null }]],
    good: [[], [{ name: 'w', path: '/w' }], [{ name: 'w', path: '/w', realPath: '/real' }], [{ name: 'w', path: '/w', extra: true }],
      [{ name: 'w', path: '/w', head: { branch: 'main' } }], [{ name: 'w', path: '/w', realPath: '/real', head: { commit: 'a'.repeat(40) } }], [{ name: 'w', path: '/w', head: { branch: 'main', commit: 'a'.repeat(40) } }], [{ name: 'w', path: '/w', head: { branch: 'main', extra: 1 } }]],
  },
  parentId: { bad: ['nope', undefined, 0], good: [null, '20261125T150842123Z-a1b2c3'] },
  changes: { bad: [null, { added: 0, modified: 0 }, { added: -1, modified: 0, deleted: 0 }, { added: 0.5, modified: 0, deleted: 0 }, { added: '1', modified: 0, deleted: 0 },
      { added: 0, modified: 0, deleted: 1, untracked: 0 }, { added: 0, modified: 0, deleted: 1, untracked: -1 }, { added: 1, modified: 0, deleted: 0, nowTracked: '1' }, { added: 1, modified: 0, deleted: 0, nowTracked: null }],
    good: [{ added: 0, modified: 0, deleted: 0 }, { added: 1, modified: 2, deleted: 3, more: 4 }, { added: 1, modified: 0, deleted: 3, untracked: 2 }, { added: 3, modified: 0, deleted: 1, nowTracked: 2, untracked: 1 }] },
  fileCount: { bad: [-1, 1.5, 2 ** 60, '1', null, Infinity], good: [0, 10, Number.MAX_SAFE_INTEGER] },
  totalSize: { bad: [-1, 0.1, null], good: [0, 123456789] },
  addedBytes: { bad: [-0.5, '0', null], good: [0, 7] },
  rules: { bad: ['0123456789abcde', '0123456789ABCDEF', 16, null], good: [undefined, '0123456789abcdef'] },
  agent: { bad: ['', 'a'.repeat(101), 3, null], good: [undefined, 'Claude Code', 'a'.repeat(100)] },
  untracked: { bad: [[], [''], ['x'.repeat(4097)], [3], 'ws/dist', null, Array.from({ length: 1001 }, (_, i) => `ws/f${i}`)], good: [undefined, ['ws/dist'], ['ws/a.js', 'ws/dist'], Array.from({ length: 1000 }, (_, i) => `ws/f${i}`)] },
  nowTracked: { bad: [[], [''], ['x'.repeat(4097)], [3], 'ws/dist', null, Array.from({ length: 1001 }, (_, i) => `ws/f${i}`)], good: [undefined, ['ws/dist'], ['ws/a.js', 'ws/dist'], Array.from({ length: 1000 }, (_, i) => `ws/f${i}`)] },
  extra: { bad: [], good: [undefined, 'kept out', { nested: 1 }] },
};

function summaryWith(field: string, value: unknown): Record<string, unknown> {
  const summary: Record<string, unknown> = { ...summaryAt(Date.UTC(2026, 10, 25)), rules: '0123456789abcdef', agent: 'Claude Code' };
  if (value === undefined) delete summary[field];
  else summary[field] = value;
  return summary;
}

/** What reading the text as a points index gives: the value, or the error's message. */
function outcome(text: string, quick: boolean): { value?: unknown; error?: string } {
  try {
    return { value: parseDocument(pointIndexDocument, text, 'index.json', quick ? isPointIndex : undefined) };
  } catch (error) {
    assert.ok(error instanceof StateError, 'only StateError');
    return { error: error.message };
  }
}

describe('the points index checked by hand (pointSummaryCheck.ts) agrees with its zod schemas', () => {
  test('each field with a value the schema refuses: the hand-written check refuses it too, and the document is refused with zod\'s own words', () => {
    let refused = 0;
    for (const [field, { bad, good }] of Object.entries(FIELD_VALUES)) {
      for (const value of bad) {
        const summary = summaryWith(field, value);
        assert.equal(pointSummarySchema.safeParse(summary).success, false, `zod refuses ${field}=${JSON.stringify(value)}`);
        assert.equal(isPointSummary(summary), false, `${field}=${JSON.stringify(value)}`);
        const text = JSON.stringify({ schemaVersion: 1, points: [summaryAt(Date.UTC(2026, 0, 1)), summary], generation: 'g1' });
        const quick = outcome(text, true);
        assert.ok(quick.error, `${field}=${JSON.stringify(value)} is refused`);
        assert.deepEqual(quick, outcome(text, false));
        refused++;
      }
      for (const value of good) {
        const summary = summaryWith(field, value);
        const zod = pointSummarySchema.safeParse(summary);
        assert.ok(zod.success, `zod accepts ${field}=${JSON.stringify(value)}`);
        // accepted as it is, or left to zod (which strips what it does not know)
        if (isPointSummary(summary)) assert.deepEqual(summary, zod.data);
        const text = JSON.stringify({ schemaVersion: 1, points: [summary] });
        assert.deepEqual(outcome(text, true), outcome(text, false));
      }
    }
    assert.ok(refused > 60);
  });

  test('a summary as this version writes it (each folder with its HEAD) is accepted by the hand-written check, not left to zod', () => {
    for (const head of [{ branch: 'feature/login' }, { commit: 'a'.repeat(40) }]) {
      assert.equal(isPointSummary(summaryWith('roots', [{ name: 'w', path: '/w', realPath: '/real/w', head }])), true, JSON.stringify(head));
    }
    for (const changes of [{ added: 1, modified: 0, deleted: 3, untracked: 2 }, { added: 3, modified: 1, deleted: 0, nowTracked: 2 }]) {
      assert.equal(isPointSummary(summaryWith('changes', changes)), true, JSON.stringify(changes));
    }
  });

  test('a summary with a key the schema does not know is left to zod, which strips it, as before', () => {
    const summary = summaryWith('extra', 'kept out');
    assert.equal(isPointSummary(summary), false);
    const read = outcome(JSON.stringify({ schemaVersion: 1, points: [summary] }), true).value as { points: PointSummary[] };
    assert.equal('extra' in read.points[0]!, false);
    assert.deepEqual(read.points[0], pointSummarySchema.parse(summary));
  });

  test('the document and a journal line: wrong version, generation, points or keys are refused as zod refuses them', () => {
    const point = summaryAt(Date.UTC(2026, 0, 1));
    const documents: unknown[] = [
      { schemaVersion: 2, points: [] },
      { schemaVersion: 1 },
      { schemaVersion: 1, points: {} },
      { schemaVersion: 1, points: [], generation: '' },
      { schemaVersion: 1, points: [], generation: 'g'.repeat(65) },
      { schemaVersion: 1, points: [], generation: 7 },
      { schemaVersion: 1, points: [point, null] },
      [point],
      null,
      'index',
    ];
    for (const document of documents) {
      assert.equal(isPointIndex(document), false, JSON.stringify(document));
      const text = JSON.stringify(document);
      const quick = outcome(text, true);
      assert.ok(quick.error, JSON.stringify(document));
      assert.deepEqual(quick, outcome(text, false));
    }
    assert.equal(isPointIndex({ schemaVersion: 1, points: [point], generation: 'g'.repeat(64) }), true);
    const lines: unknown[] = [{ g: '', add: point }, { g: 'g1' }, { g: 'g1', add: { ...point, fileCount: -1 } }, { g: 'g1', add: point, more: 1 }, { add: point }];
    for (const line of lines) {
      assert.equal(isPointIndexJournalLine(line), false, JSON.stringify(line));
      if ('more' in (line as object)) assert.ok(pointIndexJournalLineSchema.safeParse(line).success, 'an extra key: zod strips it');
      else assert.equal(pointIndexJournalLineSchema.safeParse(line).success, false);
    }
    assert.equal(isPointIndexJournalLine({ g: 'g1', add: point }), true);
  });

  test('property: for any mix of good and bad fields, reading with the hand-written check gives what zod alone gives', () => {
    const fields = Object.entries(FIELD_VALUES);
    const fieldValue = fc.constantFrom(...fields.flatMap(([field, { bad, good }]) => [...bad, ...good].map((value) => [field, value] as const)));
    const summary = fc.array(fieldValue, { maxLength: 4 }).map((changes) => {
      const s = summaryWith('extra', undefined);
      for (const [field, value] of changes) {
        if (value === undefined) delete s[field];
        else s[field] = value;
      }
      return s;
    });
    fc.assert(
      fc.property(fc.array(summary, { maxLength: 4 }), fc.constantFrom(undefined, 'g1', ''), (points, generation) => {
        for (const s of points) {
          if (!isPointSummary(s)) continue;
          const zod = pointSummarySchema.safeParse(s);
          assert.ok(zod.success);
          assert.deepEqual(s, zod.data);
        }
        const text = JSON.stringify({ schemaVersion: 1, points, ...(generation === undefined ? {} : { generation }) });
        assert.deepEqual(outcome(text, true), outcome(text, false));
      }),
      { numRuns: 400 },
    );
  });

  test('point ids: the same pattern as pointIdSchema', () => {
    for (const id of ['20261125T150842123Z-a1b2c3', '20261125T150842123Z-a1b2c', 'x', '', '20261125T150842123Z-a1b2c3.json', '00000000T000000000Z-000000', '20261125t150842123Z-a1b2c3']) {
      assert.equal(isPointId(id), pointIdSchema.safeParse(id).success, id);
    }
    assert.equal(isPointId(5), false);
  });

  test('a hand-edited index whose summary breaks the schema is refused with the schema error (a listing then reads the manifests, as before)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rp-pointcheck-'));
    try {
      const file = path.join(dir, 'index.json');
      const index = new PointIndexFile(file, silentLogger);
      const points = [summaryAt(Date.UTC(2026, 0, 2)), summaryAt(Date.UTC(2026, 0, 1))];
      index.write(points);
      assert.deepEqual(new PointIndexFile(file, silentLogger).read(), points);
      const written = JSON.parse(await fs.readFile(file, 'utf8')) as { points: Array<Record<string, unknown>> };
      written.points[1]!.label = 'l'.repeat(201);
      await fs.writeFile(file, JSON.stringify(written));
      assert.throws(() => new PointIndexFile(file, silentLogger).read(), (e: unknown) => e instanceof StateError && /is not valid: .* at points\.1\.label/.test(e.message));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
