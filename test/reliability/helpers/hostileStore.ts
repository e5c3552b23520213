/**
 * Stores for the hostile-input suite: a template with three points (the newest in a pack of its own)
 * copied for every case, ways to damage bytes, raw objects put without any check, and the check every
 * case ends with: nothing but StateErrors, the canary untouched, every valid point restorable byte for
 * byte, and a store that keeps working (a new point, repair, a clean verify).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { lookupEntry } from '../../../src/core/capture';
import { StateError } from '../../../src/core/errors';
import { hashObject, type ObjectType } from '../../../src/core/objects/hash';
import { encodeObject } from '../../../src/core/objects/compression';
import { PackWriter } from '../../../src/core/objects/packFile';
import { RecoveryStore } from '../../../src/core/recoveryStore';
import type { ContextSnapshot } from '../../../src/core/schemas';
import { LOST_CONTENT } from '../../../src/core/recovery/restorePlan';
import { readFiles, writeFiles } from '../../core/helpers/storeFixtures';
import { pointIdAt, writeManifest } from '../../core/helpers/storePoints';

export interface PointFiles {
  readonly id: string;
  readonly files: Record<string, string>;
}

export interface Template {
  readonly dir: string;
  readonly points: PointFiles[];
  readonly manifests: ContextSnapshot[];
  /** The newest point's pack (it holds only that point's new objects). */
  readonly newestPack: string;
  /** A blob only the newest point has. */
  readonly uniqueBlob: string;
}

/** A copy of the template: `ws/`, `store/` and `canary/` below `dir`. */
export interface Case {
  readonly dir: string;
  readonly ws: string;
  readonly store: string;
  readonly canary: string;
}

export function caseOf(dir: string): Case {
  return { dir, ws: path.join(dir, 'ws'), store: path.join(dir, 'store'), canary: path.join(dir, 'canary') };
}

export function openCase(c: Case, actor = 'test:hostile', warnings?: string[]): Promise<RecoveryStore> {
  const log = (m: string) => warnings?.push(m);
  return RecoveryStore.open({
    storeDir: c.store,
    roots: [{ name: 'ws', path: c.ws }],
    actor,
    logger: { debug: () => undefined, info: () => undefined, warn: log, error: log },
  });
}

export async function buildTemplate(dir: string): Promise<Template> {
  const c = caseOf(dir);
  await fs.mkdir(c.ws, { recursive: true });
  await fs.mkdir(c.canary, { recursive: true });
  await fs.writeFile(path.join(c.canary, 'canary.txt'), 'do not touch\n');
  const store = await openCase(c, 'test:template');
  const points: PointFiles[] = [];
  const manifests: ContextSnapshot[] = [];
  for (let v = 1; v <= 3; v++) {
    await writeFiles(c.ws, {
      'shared.txt': 'shared by every point\n'.repeat(40),
      'a.txt': `version ${v}\n`.repeat(v * 10),
      [`only${v}/f${v}.txt`]: `only in point ${v}: ${'x'.repeat(100 * v)}\n`,
      'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      'link-in': { symlink: 'a.txt' },
      ...(v > 1 ? { [`only${v - 1}`]: null } : {}),
    });
    await ageFiles(c.ws);
    await store.state.updateState({ data: { version: v } });
    manifests.push((await store.recovery.createRecoveryPoint(undefined, { label: v === 1 ? 'first' : undefined }))!);
    points.push({ id: manifests[v - 1]!.id, files: await readFiles(c.ws) });
  }
  const unique = await lookupEntry(await store.persistence.objects(), manifests[2]!.root, 'ws/only3/f3.txt');
  // each point's manifest file written, as a clean-up does (format 2 writes none with the point): the damage below is done to them
  await store.persistence.lock.run(() => store.persistence.settleManifests());
  await store.close();
  const packs = (await fs.readdir(path.join(c.store, 'objects'))).filter((n) => n.endsWith('.pack')).sort();
  return { dir, points, manifests, newestPack: path.join('store', 'objects', packs[packs.length - 1]!), uniqueBlob: unique!.hash };
}

/** Dates every file a minute back, so the capture cache trusts (and saves) their hashes. */
async function ageFiles(dir: string): Promise<void> {
  const past = new Date(Date.now() - 60_000);
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isFile()) await fs.utimes(file, past, past);
  }
}

export async function copyTemplate(template: Template, dir: string): Promise<Case> {
  await fs.cp(template.dir, dir, { recursive: true, verbatimSymlinks: true });
  return caseOf(dir);
}

// ── damage ────────────────────────────────────────────────────────────────

export interface Damage {
  readonly name: string;
  apply(bytes: Buffer): Buffer;
}

/** Truncations at fractions of the length, bit flips at fractions of it, empty, and the given extras. */
export function systematicDamage(truncations: number, flips: number): Damage[] {
  const out: Damage[] = [{ name: 'empty', apply: () => Buffer.alloc(0) }];
  for (let i = 1; i <= truncations; i++) {
    const f = i / (truncations + 1);
    out.push({ name: `truncated at ${Math.round(f * 100)}%`, apply: (b) => b.subarray(0, Math.floor(b.length * f)) });
  }
  out.push({ name: 'last byte cut', apply: (b) => b.subarray(0, Math.max(0, b.length - 1)) });
  for (let i = 0; i < flips; i++) {
    const f = flips === 1 ? 0.5 : i / (flips - 1);
    out.push({
      name: `bit flipped at ${Math.round(f * 100)}%`,
      apply: (b) => {
        const copy = Buffer.from(b);
        if (copy.length === 0) return copy;
        const at = Math.min(copy.length - 1, Math.floor(copy.length * f));
        copy[at] = copy[at]! ^ (1 << i % 8);
        return copy;
      },
    });
  }
  return out;
}

export const WRONG_JSON: Damage[] = [
  { name: 'null', apply: () => Buffer.from('null') },
  { name: 'an array', apply: () => Buffer.from('[1,2,3]') },
  { name: 'a string', apply: () => Buffer.from('"hello"') },
  { name: 'another document type', apply: () => Buffer.from(JSON.stringify({ v: 1, e: [] })) },
  { name: 'a future schema version', apply: (b) => withJson(b, (doc) => ({ ...(doc as object), schemaVersion: 99 })) },
  { name: 'wrong field types', apply: (b) => withJson(b, (doc) => ({ ...(doc as object), version: 'seven', points: 'many', roots: 5, createdAt: 12 })) },
  { name: 'deeply nested', apply: () => Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) },
  { name: 'NUL bytes', apply: (b) => Buffer.concat([b.subarray(0, b.length >> 1), Buffer.alloc(16), b.subarray(b.length >> 1)]) },
  { name: 'invalid UTF-8', apply: (b) => Buffer.concat([b.subarray(0, 10), Buffer.from([0xff, 0xfe, 0xc3]), b.subarray(10)]) },
];

function withJson(bytes: Buffer, change: (doc: unknown) => unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(change(JSON.parse(bytes.toString('utf8')))));
  } catch {
    return Buffer.from('{}');
  }
}

export async function damageFile(file: string, damage: Damage): Promise<void> {
  const bytes = await fs.readFile(file);
  await fs.writeFile(file, damage.apply(bytes));
}

/** Makes a file far bigger than any valid document without using disk space (a sparse tail of zeros). */
export async function oversize(file: string, bytes: number): Promise<void> {
  await fs.truncate(file, bytes);
}

/** Puts one object with exactly these bytes (no encoding checks, no tree checks) into a new pack; returns its hash. */
export async function putRaw(storeDir: string, type: ObjectType, raw: Buffer): Promise<string> {
  const hash = hashObject(type, raw);
  const writer = new PackWriter(path.join(storeDir, 'objects'));
  await writer.add(hash, type, await encodeObject(raw, 'fast'), raw.length);
  await writer.finish();
  return hash;
}

/** A hand-written point whose root holds `ws` → `wsTree`; newest unless `time` says otherwise. */
export async function rawPoint(c: Case, template: Template, wsTree: string, options: { time?: number; extraRoot?: unknown[] } = {}): Promise<string> {
  const root = await putRaw(
    c.store,
    'tree',
    Buffer.from(JSON.stringify({ v: 1, e: [['ws', 'd', wsTree, 0, 0], ...(options.extraRoot ?? [])].sort((a, b) => (String((a as unknown[])[0]) < String((b as unknown[])[0]) ? -1 : 1)) })),
  );
  const id = pointIdAt(options.time ?? Date.now() + 60_000);
  await writeManifest(c.store, { ...template.manifests[2]!, id, createdAt: new Date(options.time ?? Date.now()).toISOString(), root, label: null, parentId: template.points[2]!.id });
  return id;
}

// ── the check every case ends with ──────────────────────────────────────────

/** Runs `work`; a StateError is an accepted outcome (returned), anything else fails the case. */
export async function settle<T>(what: string, work: () => Promise<T>): Promise<{ value?: T; error?: StateError }> {
  try {
    return { value: await work() };
  } catch (error) {
    if (error instanceof StateError) {
      assert.ok(error.message.length > 0 && !/\n\s+at /.test(error.message), `${what}: a clear message`);
      return { error };
    }
    throw new assert.AssertionError({ message: `${what}: threw something other than a StateError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
  }
}

/** Valid points whose restore needed "Verify Store" with repair first (see checkCase). */
export const repairsNeeded = { count: 0 };

/** Runs `work`, which must succeed; a failure names the case and the step. */
async function must<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new assert.AssertionError({ message: `${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
  }
}

export interface CheckOptions {
  /** Points that must still be listed and restore byte for byte. */
  readonly survivors: readonly PointFiles[];
  /** Points that may be gone, but that restore exactly if they are still listed. */
  readonly maybe?: readonly PointFiles[];
}

export async function canaryIntact(c: Case, what: string): Promise<void> {
  assert.deepEqual(await readFiles(c.canary), { 'canary.txt': 'file 644 do not touch\n' }, `${what}: the canary folder is untouched`);
  assert.deepEqual((await fs.readdir(c.dir)).filter((n) => n !== 'meta.json').sort(), ['canary', 'store', 'ws'], `${what}: nothing was written beside the workspace`);
}

/**
 * Reads everything the way a person would after the damage, then checks what must hold. Returns the
 * number of operations that ended in a StateError (the damage was noticed).
 */
export async function checkCase(c: Case, what: string, options: CheckOptions): Promise<number> {
  let noticed = 0;
  const note = <R extends { error?: StateError }>(r: R): R => {
    if (r.error) noticed++;
    return r;
  };
  const store = await openCase(c);
  try {
    const listed = note(await settle(`${what}: list`, () => store.recovery.listRecoveryPoints())).value ?? [];
    note(await settle(`${what}: state`, () => store.state.getState()));
    note(await settle(`${what}: verify`, () => store.recovery.verify()));
    for (const p of listed) note(await settle(`${what}: changed files of ${p.id}`, () => store.recovery.changedFiles(p.id)));
    const ids = new Set(listed.map((p) => p.id));
    for (const point of options.survivors) {
      assert.ok(ids.has(point.id), `${what}: valid point ${point.id} is still listed`);
      const first = await settle(`${what}: restore of valid point ${point.id}`, () => store.recovery.restore(point.id));
      if (first.error) {
        // A damaged object that the current files share (deduplicated) stops the safety point's plan:
        // the error says so, and after "Verify Store" with repair the valid point restores.
        assert.equal(first.error.kind, 'SnapshotLoadError', `${what}: ${first.error.message}`);
        repairsNeeded.count++;
        await must(`${what}: repair`, () => store.recovery.verify({ repair: true }));
        await must(`${what}: restore of valid point ${point.id} after repair`, () => store.recovery.restore(point.id));
      }
      assert.deepEqual(await readFiles(c.ws), point.files, `${what}: valid point ${point.id} restores byte for byte`);
    }
    for (const point of options.maybe ?? []) {
      if (!ids.has(point.id)) continue;
      const r = note(await settle(`${what}: restore ${point.id}`, () => store.recovery.restore(point.id)));
      if (r.error) continue;
      // a point that lost some files' content to the damage restores the rest and names the files it left
      const lost = new Set(r.value!.outcome.skipped.filter((s) => s.reason === LOST_CONTENT).map((s) => s.path.replace(/^[^/]+\//, '')));
      const files = await readFiles(c.ws, { skip: (rel) => lost.has(rel) });
      // a folder that held only files it left is not made either
      const kept = Object.keys(point.files).filter((rel) => !lost.has(rel) && point.files[rel] !== 'dir');
      const madeFor = (dir: string) => kept.some((rel) => rel.startsWith(`${dir}/`)) || ![...lost].some((rel) => rel.startsWith(`${dir}/`));
      const expected = Object.fromEntries(Object.entries(point.files).filter(([rel, kind]) => !lost.has(rel) && (kind !== 'dir' || madeFor(rel))));
      assert.deepEqual(files, expected, `${what}: ${point.id} restores exactly (but for the files it names as lost) or not at all`);
    }
    for (const p of listed) {
      if (options.survivors.some((s) => s.id === p.id) || options.maybe?.some((s) => s.id === p.id)) continue;
      note(await settle(`${what}: restore ${p.id}`, () => store.recovery.restore(p.id)));
    }
    await canaryIntact(c, what);
    // The store keeps working: repair moves what is broken aside, a new point captures the files exactly.
    note(await settle(`${what}: repair`, () => store.recovery.verify({ repair: true })));
    await writeFiles(c.ws, { 'after.txt': `written after: ${what}\n` });
    const files = await readFiles(c.ws);
    const point = (await must(`${what}: a new point`, () => store.recovery.createRecoveryPoint()))!;
    await writeFiles(c.ws, { 'after.txt': null, 'a.txt': 'changed again\n' });
    await must(`${what}: restore of the new point`, () => store.recovery.restore(point.id));
    assert.deepEqual(await readFiles(c.ws), files, `${what}: a point made after the damage restores byte for byte`);
    const report = await store.recovery.verify();
    // what is left are points that lost some files' content for good: nothing a repair could do
    assert.ok(!report.needsRepair && report.brokenPoints.every((p) => p.restorable), `${what}: verify finds nothing to repair after repair: ${JSON.stringify({ o: report.brokenObjects, p: report.brokenPoints, s: report.stateProblem })}`);
    await canaryIntact(c, what);
  } finally {
    await store.close();
  }
  return noticed;
}
