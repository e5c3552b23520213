/**
 * A root's capture-cache entries as read (#14): answered from the document's columns until many or all
 * are needed, then made a Map. Whatever the order of lookups, changes and listings, they behave as the
 * Map built from the same columns would.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ColumnEntries } from '../../src/core/capture/columnEntries';
import type { CaptureCacheColumns, CaptureCacheEntry } from '../../src/core/schemas';

const PATHS = ['a.ts', 'b.ts', 'src/c.ts', 'src/d.ts', 'e/f/g.md', 'h', 'i.txt', 'j.json'];
const hashOf = (n: number) => n.toString(16).padStart(64, '0');
const entryOf = (n: number): CaptureCacheEntry => [n, n + 1, n + 2, n + 3, hashOf(n), 0o644];

function columnsOf(rows: Array<[string, number]>): CaptureCacheColumns {
  return {
    paths: rows.map(([p]) => p),
    sizes: rows.map(([, n]) => n),
    mtimes: rows.map(([, n]) => n + 1),
    ctimes: rows.map(([, n]) => n + 2),
    inodes: rows.map(([, n]) => n + 3),
    hashes: rows.map(([, n]) => hashOf(n)).join(''),
    modes: rows.map(() => 0o644),
  };
}

type Op = { t: 'get' | 'has' | 'delete'; path: string } | { t: 'set'; path: string; n: number } | { t: 'size' | 'list' | 'clear' };
const path = fc.constantFrom(...PATHS, 'missing');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constantFrom('get' as const, 'has' as const, 'delete' as const), path }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('set' as const), path, n: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('size' as const, 'list' as const, 'clear' as const) }) },
);

test('lookups, changes and listings give what a Map of the same columns gives, before and after it is made', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.nat(1000)), { maxLength: 12 }), fc.array(op, { maxLength: 40 }), fc.nat(20), (rows, ops, lookupsBeforeMap) => {
      const columns = columnsOf(rows);
      const lazy = new ColumnEntries(columns, lookupsBeforeMap);
      const map = new Map<string, CaptureCacheEntry>(rows.map(([p, n]) => [p, entryOf(n)]));
      for (const o of ops) {
        if (o.t === 'get') assert.deepEqual(lazy.get(o.path), map.get(o.path), `get ${o.path}`);
        else if (o.t === 'has') assert.equal(lazy.has(o.path), map.has(o.path), `has ${o.path}`);
        else if (o.t === 'delete') assert.equal(lazy.delete(o.path), map.delete(o.path), `delete ${o.path}`);
        else if (o.t === 'set') {
          lazy.set(o.path, entryOf(o.n));
          map.set(o.path, entryOf(o.n));
        } else if (o.t === 'size') assert.equal(lazy.size, map.size);
        else if (o.t === 'clear') {
          lazy.clear();
          map.clear();
        } else assert.deepEqual(new Map(lazy), map);
      }
      assert.deepEqual(new Map([...lazy.entries()]), map);
      assert.deepEqual([...lazy.keys()].sort(), [...map.keys()].sort());
    }),
    { numRuns: 500 },
  );
});

test('a few lookups leave the columns as they are; many make the Map once', () => {
  const rows: Array<[string, number]> = Array.from({ length: 1000 }, (_, i) => [`file${i}.ts`, i]);
  const lazy = new ColumnEntries(columnsOf(rows));
  assert.deepEqual(lazy.get('file7.ts'), entryOf(7));
  assert.equal(Map.prototype.has.call(lazy, 'file7.ts'), false, 'a lookup made no Map');
  for (let i = 0; i < 100; i++) assert.deepEqual(lazy.get(`file${i}.ts`), entryOf(i));
  assert.equal(Map.prototype.has.call(lazy, 'file999.ts'), true, 'many lookups made the Map');
  assert.equal(lazy.size, 1000);
});
