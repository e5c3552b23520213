import assert from 'node:assert/strict';
import { lookupEntry } from '../../../src/core/capture';
import type { RecoveryStore } from '../../../src/core/recoveryStore';
import type { ContextSnapshot } from '../../../src/core/schemas';
import { auditEntries, openStore, writeFiles, type Sandbox } from './storeFixtures';

const KEEP_EVERYTHING = { maxRecoveryPoints: 1_000, maxAgeDays: 0, maxTotalBytes: 0 };

/**
 * A store whose first point is deleted: the content only it had ("first version" of a.txt, and its
 * root tree) is unused when a collection starts; the files on disk are back to that first version,
 * so the next point reuses those very objects (already stored: not written again).
 */
export async function storeWithUnusedFirstPoint(sb: Sandbox, options: Parameters<typeof openStore>[1] = {}): Promise<{ store: RecoveryStore; first: ContextSnapshot }> {
  const files: Record<string, string> = { 'a.txt': 'first version\n' };
  for (let i = 0; i < 50; i++) files[`src/f${i}.txt`] = `file ${i}\n`;
  await writeFiles(sb.ws, files);
  const store = await openStore(sb, { retention: KEEP_EVERYTHING, ...options });
  const first = (await store.recovery.createRecoveryPoint())!;
  await writeFiles(sb.ws, { 'a.txt': 'second version\n' });
  await store.recovery.createRecoveryPoint();
  await store.recovery.deletePoints([first.id]);
  await writeFiles(sb.ws, { 'a.txt': 'first version\n' });
  return { store, first };
}

/**
 * Starts `collect` and, once it holds the lock for its first slice (it took the points and packs it
 * starts from), a point. `order`: the audit log's entries of the two, as each wrote its own at its
 * end under the lock ('create', then 'cleanup' or 'gc': the point was made before the collection ended).
 */
export async function pointDuringCollection<T>(store: RecoveryStore, collect: () => Promise<T>): Promise<{ order: string[]; point: ContextSnapshot; collected: T }> {
  const before = (await auditEntries(store)).length;
  const collecting = collect();
  // the collection's first slice takes the lock in this turn's microtasks; the point asks for it after
  await new Promise((resolve) => setImmediate(resolve));
  const pointMade = store.recovery.createRecoveryPoint(undefined, { trigger: 'save' });
  const [collected, point] = await Promise.all([collecting, pointMade]);
  const order = (await auditEntries(store)).slice(before).map((entry) => entry.action);
  return { order, point: point!, collected };
}

/** Every object of the point reads back (hash-checked), and a.txt holds "first version". */
export async function assertPointWhole(store: RecoveryStore, point: ContextSnapshot): Promise<void> {
  const report = await store.recovery.verify();
  assert.deepEqual({ brokenObjects: report.brokenObjects, brokenPoints: report.brokenPoints }, { brokenObjects: [], brokenPoints: [] });
  const objects = await store.persistence.objects();
  const entry = await lookupEntry(objects, point.root, 'ws/a.txt');
  assert.ok(entry, 'the point holds a.txt');
  assert.equal((await objects.readBlob(entry.hash)).toString(), 'first version\n');
}
