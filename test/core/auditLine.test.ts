import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { auditEntrySchema, type AuditEntry } from '../../src/core/schemas';
import { AuditLog, auditLine } from '../../src/core/state/auditLog';

const AT = '2026-11-30T16:00:00.000Z';
const POINT = '20261130T160000000Z-a1b2c3';

/** The line zod's check alone gives, or its error. */
function outcome(line: (entry: AuditEntry) => string, entry: unknown): { line?: string; error?: string } {
  try {
    return { line: line(entry as AuditEntry) };
  } catch (error) {
    return { error: String(error) };
  }
}

const byZod = (entry: AuditEntry) => `${JSON.stringify(auditEntrySchema.parse(entry))}\n`;

describe('an audit line checked by hand in the common case (auditLine)', () => {
  test('each entry is written or refused exactly as zod alone writes or refuses it', () => {
    const base = { at: AT, actor: 'extension:1', action: 'create', pointId: POINT, details: { trigger: 'save', mode: 'hint', files: 10_000, ms: 12.5, ok: true, none: null } };
    const entries: unknown[] = [
      base,
      { at: AT, actor: 'a', action: 'gc' },
      { ...base, details: {} },
      { ...base, at: 'yesterday' },
      { ...base, at: 5 },
      { ...base, actor: 7 },
      { ...base, action: 'created' },
      { ...base, pointId: 'not-a-point' },
      { ...base, pointId: `${POINT}\n` },
      { ...base, details: { n: Number.NaN } },
      { ...base, details: { n: Number.POSITIVE_INFINITY } },
      { ...base, details: { list: [1, 'two', { three: null }] } },
      { ...base, details: { nested: { deeper: [true] } } },
      { ...base, details: { bad: undefined } },
      { ...base, details: { fn: () => 1 } },
      { ...base, details: [1, 2] },
      { ...base, details: null },
      { ...base, extra: 'stripped by zod' },
      { at: AT, actor: 'a' },
    ];
    for (const entry of entries) assert.deepEqual(outcome(auditLine, entry), outcome(byZod, entry), JSON.stringify(entry) ?? String(entry));
  });

  test('a point\'s entry is appended as one line that reads back as it was written', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rp-audit-'));
    try {
      const log = new AuditLog(path.join(dir, 'audit.log.jsonl'), 'extension:1');
      await log.append({ action: 'create', pointId: POINT, details: { trigger: 'save', files: 3 } });
      await assert.rejects(log.append({ action: 'create', pointId: 'nope' }));
      const read = await log.read();
      assert.equal(read.length, 1);
      assert.deepEqual({ ...read[0], at: undefined }, { at: undefined, actor: 'extension:1', action: 'create', pointId: POINT, details: { trigger: 'save', files: 3 } });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
