import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { documentText } from '../../src/core/documents';
import { StateError } from '../../src/core/errors';
import { emptyContextState, snapshotDocument, type ContextSnapshot } from '../../src/core/schemas';
import { ManifestText } from '../../src/core/state/manifestText';
import { summaryAt } from './helpers/storePoints';

const T0 = Date.UTC(2026, 10, 30, 12);

function manifest(i: number, change: (m: Record<string, unknown>) => void = () => undefined): ContextSnapshot {
  const m: Record<string, unknown> = { ...summaryAt(T0 + i, { rules: '0123456789abcdef' }), state: { ...emptyContextState('test', new Date(T0)), newestPointId: summaryAt(T0 + i - 1).id } };
  change(m);
  return m as unknown as ContextSnapshot;
}

const state = (m: Record<string, unknown>) => m.state as Record<string, unknown>;

/** The text zod's check alone gives, or its error message. */
function outcome(of: (m: ContextSnapshot) => string, m: ContextSnapshot): { text?: string; error?: string } {
  try {
    return { text: of(m) };
  } catch (error) {
    assert.ok(error instanceof StateError, 'only StateError');
    return { error: error.message };
  }
}

describe('a manifest checked without zod on every point (ManifestText)', () => {
  test('after a state was accepted, each manifest is written or refused exactly as the schema check alone does', () => {
    const variants: Array<[string, (m: Record<string, unknown>) => void]> = [
      ['the same state', () => undefined],
      ['a summary over 500 characters', (m) => (m.summary = 's'.repeat(501))],
      ['a label over the limit', (m) => (m.label = 'l'.repeat(201))],
      ['a bad root hash', (m) => (m.root = 'A'.repeat(64))],
      ['a negative file count', (m) => (m.fileCount = -1)],
      ['an unknown trigger', (m) => (m.trigger = 'hook')],
      ['a key the schema strips', (m) => (m.extra = 1)],
      ['a bad newest point id in the state', (m) => (state(m).newestPointId = 'not-a-point')],
      ['no newest point', (m) => (state(m).newestPointId = null)],
      ['a state with another version', (m) => (state(m).version = 3)],
      ['a state with a negative version', (m) => (state(m).version = -1)],
      ['a state with a key the schema strips', (m) => (state(m).extra = true)],
      ['a state whose conflicts are defaulted', (m) => delete state(m).conflicts],
      ['a state with data', (m) => (state(m).data = { key: [1, 'two', { three: null }] })],
      ['the first state again', () => undefined],
    ];
    const reference = (m: ContextSnapshot) => documentText(snapshotDocument, m, {});
    // each variant after the first state was accepted, and after each other variant
    for (const [name, change] of variants) {
      for (const [before, changeBefore] of variants) {
        const texts = new ManifestText();
        const first = manifest(1);
        assert.deepEqual(outcome((m) => texts.of(m), first), outcome(reference, first));
        const previous = manifest(2, changeBefore);
        assert.deepEqual(outcome((m) => texts.of(m), previous), outcome(reference, previous), `${before}`);
        const m = manifest(3, change);
        assert.deepEqual(outcome((x) => texts.of(x), m), outcome(reference, m), `${name}, after ${before}`);
      }
    }
  });

  test('the refusals are the schema check\'s own words', () => {
    const texts = new ManifestText();
    texts.of(manifest(1));
    assert.throws(
      () => texts.of(manifest(2, (m) => (m.summary = 's'.repeat(501)))),
      (error: unknown) => error instanceof StateError && error.kind === 'InvalidState' && /Refusing to write an invalid recovery point manifest/.test(error.message),
    );
  });
});
