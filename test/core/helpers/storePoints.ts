/**
 * Crafting recovery points by hand: ids with chosen times, summaries for the pure retention policy,
 * and manifests written straight into a store's `points/` folder (as an older version, another
 * machine, or an attacker could leave them).
 */
import { randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { SCHEMA_VERSION, emptyContextState, type ContextSnapshot, type PointSummary } from '../../../src/core/schemas';
import { ObjectStore } from '../../../src/core/objects/objectStore';
import { dropClaims, readClaims } from '../../../src/core/state/pointPacks';

/**
 * A point id for `time`. (`newPointId(time)` cannot make old ids once a newer one was made in this
 * process: it is strictly increasing.)
 */
export function pointIdAt(time: number, suffix = randomBytes(3).toString('hex')): string {
  return `${new Date(time).toISOString().replace(/[-:.]/g, '')}-${suffix}`;
}

const ZERO_HASH = '0'.repeat(64);

export function summaryAt(time: number, overrides: Partial<PointSummary> = {}): PointSummary {
  return {
    schemaVersion: SCHEMA_VERSION,
    id: pointIdAt(time),
    createdAt: new Date(time).toISOString(),
    trigger: 'save',
    label: null,
    summary: 'Saved a.txt',
    actor: 'test',
    root: ZERO_HASH,
    roots: [{ name: 'ws', path: '/ws' }],
    parentId: null,
    changes: { added: 0, modified: 1, deleted: 0 },
    fileCount: 1,
    totalSize: 1,
    addedBytes: 1,
    ...overrides,
  };
}

/** A manifest for `root`, valid by the schema, with the given id and fields. */
export function manifestFor(root: string, overrides: Partial<ContextSnapshot> = {}): ContextSnapshot {
  const id = overrides.id ?? pointIdAt(Date.now());
  return {
    ...summaryAt(Date.now(), { root }),
    id,
    state: emptyContextState('test'),
    ...overrides,
  };
}

/** Writes a manifest file by hand (no index update, as after a crash, or as an attacker would). */
export async function writeManifest(storeDir: string, manifest: unknown, id = (manifest as { id: string }).id): Promise<string> {
  const file = path.join(storeDir, 'points', `${id}.json`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, JSON.stringify(manifest), { mode: 0o600 });
  return file;
}

/**
 * A point's manifest as the store holds it: its file, or (a store of format 2 before a clean-up, or a
 * file lost) the copy in the pack that claims the point.
 */
export async function manifestOf(storeDir: string, id: string): Promise<ContextSnapshot> {
  const text = await fs.readFile(path.join(storeDir, 'points', `${id}.json`), 'utf8').catch(() => undefined);
  if (text) return JSON.parse(text) as ContextSnapshot;
  const claim = readClaims(path.join(storeDir, 'objects')).get(id);
  if (!claim) throw new Error(`no manifest of ${id} in ${storeDir}`);
  const objects = await ObjectStore.open(path.join(storeDir, 'objects'));
  try {
    return JSON.parse((await objects.readBlob(claim.manifest)).toString('utf8')) as ContextSnapshot;
  } finally {
    await objects.close();
  }
}

/**
 * The ids of the points a store records, newest first: its manifest files, and the packs that claim a
 * point (a store of format 2 writes no manifest file before a clean-up).
 */
export function recordedPointIds(storeDir: string): string[] {
  const files = fsSync.readdirSync(path.join(storeDir, 'points')).filter((n) => /^\d{8}T\d{9}Z-[0-9a-f]{6}\.json$/.test(n)).map((n) => n.slice(0, -'.json'.length));
  return [...new Set([...files, ...readClaims(path.join(storeDir, 'objects')).keys()])].sort().reverse();
}

/** Whether the store lists point `id` by a record of it: its manifest file, or a pack that claims it. */
export async function hasPoint(storeDir: string, id: string): Promise<boolean> {
  return recordedPointIds(storeDir).includes(id);
}

/**
 * Gives an existing point another id (and so another time), as if it had been made then: the manifest
 * is rewritten under the new name and the index dropped (it is rebuilt from the folder).
 */
export async function reidPoint(storeDir: string, oldId: string, newId: string): Promise<void> {
  const pointsDir = path.join(storeDir, 'points');
  const manifest = await manifestOf(storeDir, oldId);
  await writeManifest(storeDir, { ...manifest, id: newId, createdAt: new Date(pointIdTimeOf(newId)).toISOString() });
  await fs.rm(path.join(pointsDir, `${oldId}.json`), { force: true });
  // the point's pack would list it under its old id again
  const claim = readClaims(path.join(storeDir, 'objects')).get(oldId);
  if (claim) dropClaims(path.join(storeDir, 'objects'), [claim]);
  await fs.rm(path.join(pointsDir, 'index.json'), { force: true });
}

function pointIdTimeOf(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id)!;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
}
