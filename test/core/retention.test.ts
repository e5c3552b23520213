import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { lookupEntry } from '../../src/core/capture';
import { pointIdTime } from '../../src/core/ids';
import { collectReachable } from '../../src/core/recovery/reachability';
import { applySizeLimit, decideRetention, DEFAULT_RETENTION, type RetentionPolicy } from '../../src/core/recovery/retention';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import type { ContextSnapshot, PointSummary } from '../../src/core/schemas';
import { auditEntries, cleanupAll, exists, makeSandbox, openStore, readFiles, writeFiles, type Sandbox } from './helpers/storeFixtures';
import { pointIdAt, reidPoint, summaryAt } from './helpers/storePoints';

after(cleanupAll);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A fixed "now", aligned to a day, so bucket boundaries are known. */
const NOW = Date.UTC(2026, 0, 15, 0, 0, 0);
const UNLIMITED: RetentionPolicy = { maxRecoveryPoints: 100_000, maxAgeDays: 0, maxTotalBytes: 0 };

function pointsAt(offsets: number[], overrides: (offset: number) => Partial<PointSummary> = () => ({})): PointSummary[] {
  return offsets.map((offset) => summaryAt(NOW - offset, overrides(offset)));
}

function removedIds(points: PointSummary[], policy: RetentionPolicy, protectedIds?: Set<string>) {
  const decision = decideRetention(points, policy, NOW, protectedIds);
  return { decision, removed: new Map(decision.remove.map((r) => [r.id, r.reason])) };
}

describe('retention policy (pure)', () => {
  test('ids carry their time; pointIdAt makes ids that decideRetention reads back', () => {
    const t = Date.UTC(2025, 4, 6, 7, 8, 9, 123);
    assert.equal(pointIdTime(pointIdAt(t)), t);
    assert.ok(Number.isNaN(pointIdTime('not-an-id')));
  });

  test('thinning: everything of the last hour is kept, older points keep the newest per 10 minutes', () => {
    const offsets = Array.from({ length: 90 }, (_, k) => k * 2 * MINUTE); // every 2 minutes for 3 hours
    const points = pointsAt(offsets);
    const { decision, removed } = removedIds(points, UNLIMITED);
    for (const point of points) {
      const age = NOW - pointIdTime(point.id);
      if (age <= HOUR) assert.equal(removed.has(point.id), false, `a point ${age / MINUTE} min old is kept`);
    }
    const keptOld = decision.keep.map((id) => NOW - pointIdTime(id)).filter((age) => age > HOUR).map((age) => age / MINUTE);
    // times in [NOW-70, NOW-60) … [NOW-180, NOW-170) min: the newest of each is 62, 72, …, 172 min old
    assert.deepEqual(keptOld, [62, 72, 82, 92, 102, 112, 122, 132, 142, 152, 162, 172]);
    assert.equal(decision.keep.length, 31 + 12);
    assert.ok([...removed.values()].every((reason) => reason === 'thinned'));
    assert.equal(decision.keep.length + decision.remove.length, points.length);
  });

  test('after a clock that ran ahead, points are thinned and aged by when they were made, not by their ids', () => {
    // a point made at NOW-6h while the clock was 5 hours ahead; the 60 points of the next 5 hours, one
    // every 5 minutes, each get an id a millisecond after the one before (ids only grow)
    const ahead = summaryAt(NOW - 6 * HOUR + 5 * HOUR);
    const aheadTime = NOW - HOUR;
    const after = Array.from({ length: 60 }, (_, k) => summaryAt(NOW - 6 * HOUR + (k + 1) * 5 * MINUTE, { id: pointIdAt(aheadTime + k + 1) }));
    const { decision, removed } = removedIds([ahead, ...after], UNLIMITED);
    const keptAfter = after.filter((p) => !removed.has(p.id));
    // made 5 h 55 min to 1 h ago: the one an hour old, and the newest of each 10 minutes before it (by their ids' times, all in one bucket: one)
    assert.equal(keptAfter.length, 1 + 30, `kept ${keptAfter.length} of the 60`);
    assert.ok(decision.keep.includes(ahead.id));
    // and no point of a day is older than 30 days by its id while made today
    const aged = decideRetention([...after].reverse().concat(summaryAt(NOW - 40 * DAY, { id: pointIdAt(NOW - 40 * DAY) })), { ...UNLIMITED, maxAgeDays: 30 }, NOW);
    assert.deepEqual(aged.remove.filter((r) => r.reason === 'age').length, 1);
  });

  test('thinning: hourly between a day and a week, daily beyond a week', () => {
    const offsets = Array.from({ length: 10 * 24 }, (_, k) => k * HOUR + 5 * MINUTE); // hourly for 10 days
    const points = pointsAt(offsets);
    const { decision } = removedIds(points, UNLIMITED);
    const keptAges = decision.keep.map((id) => NOW - pointIdTime(id));
    // Up to a week old, hourly points are each in their own hour bucket: all kept.
    assert.equal(keptAges.filter((age) => age <= 7 * DAY).length, offsets.filter((o) => o <= 7 * DAY).length);
    // Beyond a week: one per (UTC) day.
    const oldDays = keptAges.filter((age) => age > 7 * DAY).map((age) => Math.floor((NOW - age) / DAY));
    assert.equal(new Set(oldDays).size, oldDays.length, 'at most one point per day beyond a week');
    assert.equal(oldDays.length, 3, 'days 8, 9 and 10 (the newest point of each)');
    for (const age of keptAges.filter((a) => a > 7 * DAY)) {
      // the newest of its day: no removed point of that day is newer
      const day = Math.floor((NOW - age) / DAY);
      const newerSameDay = points.filter((p) => Math.floor(pointIdTime(p.id) / DAY) === day && pointIdTime(p.id) > NOW - age);
      assert.deepEqual(newerSameDay, []);
    }
  });

  test('age: unlabelled points older than maxAgeDays go; labelled ones and the newest stay', () => {
    const points = [
      summaryAt(NOW - 10 * DAY),
      summaryAt(NOW - 40 * DAY),
      summaryAt(NOW - 50 * DAY),
      summaryAt(NOW - 60 * DAY, { label: 'release 1.0' }),
    ];
    const { removed } = removedIds(points, { ...UNLIMITED, maxAgeDays: 30 });
    assert.deepEqual(
      [...removed],
      [
        [points[1]!.id, 'age'],
        [points[2]!.id, 'age'],
      ],
    );
    // Even when every point is too old, the newest one is kept.
    const allOld = [summaryAt(NOW - 40 * DAY), summaryAt(NOW - 41 * DAY)];
    const decision = decideRetention(allOld, { ...UNLIMITED, maxAgeDays: 30 }, NOW);
    assert.deepEqual(decision.keep, [allOld[0]!.id]);
  });

  test("an agent's turn points are labelled but thinned, aged and counted like automatic points; a person's label still pins", () => {
    const points = [
      summaryAt(NOW - 10 * DAY),
      summaryAt(NOW - 40 * DAY, { label: 'Claude Code turn: fix the parser', trigger: 'agent', agent: 'Claude Code' }),
      summaryAt(NOW - 50 * DAY, { label: 'release 1.0', trigger: 'manual' }),
      summaryAt(NOW - 60 * DAY, { label: 'keep: the parser before the rewrite', trigger: 'agent', agent: 'Claude Code' }),
    ];
    const { removed } = removedIds(points, { ...UNLIMITED, maxAgeDays: 30 });
    assert.deepEqual([...removed], [[points[1]!.id, 'age']]);
    assert.deepEqual(applySizeLimit(points, [10, 20, 30, 40], 15), [points[1]!.id]);
  });

  test('count: the newest maxRecoveryPoints are kept; labelled, protected and newest points count but are never removed', () => {
    const points = pointsAt(Array.from({ length: 10 }, (_, k) => k * MINUTE));
    let { decision, removed } = removedIds(points, { ...UNLIMITED, maxRecoveryPoints: 5 });
    assert.deepEqual(decision.keep, points.slice(0, 5).map((p) => p.id));
    assert.ok([...removed.values()].every((reason) => reason === 'count'));

    const labelled = pointsAt(Array.from({ length: 10 }, (_, k) => k * MINUTE), (o) => (o >= 8 * MINUTE ? { label: `pin ${o}` } : {}));
    const protectedId = labelled[7]!.id;
    ({ decision, removed } = removedIds(labelled, { ...UNLIMITED, maxRecoveryPoints: 5 }, new Set([protectedId])));
    // exempt: newest (0), protected (7), labelled (8, 9) → room for one more: point 1.
    assert.deepEqual(decision.keep, [labelled[0]!.id, labelled[1]!.id, labelled[7]!.id, labelled[8]!.id, labelled[9]!.id]);

    // More exempt points than the limit: all exempt ones stay, nothing else.
    ({ decision } = removedIds(labelled, { ...UNLIMITED, maxRecoveryPoints: 1 }, new Set([protectedId])));
    assert.deepEqual(decision.keep, [labelled[0]!.id, labelled[7]!.id, labelled[8]!.id, labelled[9]!.id]);
  });

  test('size: points from the first one past the limit go, except the newest, labelled and protected', () => {
    const kept = pointsAt([0, 1, 2, 3, 4].map((k) => k * MINUTE), (o) => (o === 3 * MINUTE ? { label: 'keep me' } : {}));
    const cumulative = [10, 20, 30, 40, 50];
    assert.deepEqual(applySizeLimit(kept, cumulative, 25), [kept[2]!.id, kept[4]!.id]);
    assert.deepEqual(applySizeLimit(kept, cumulative, 25, new Set([kept[4]!.id])), [kept[2]!.id]);
    assert.deepEqual(applySizeLimit(kept, cumulative, 5), [kept[1]!.id, kept[2]!.id, kept[4]!.id], 'the newest stays even when it alone is too big');
    assert.deepEqual(applySizeLimit(kept, cumulative, 50), []);
    assert.deepEqual(applySizeLimit(kept, cumulative, 0), [], '0 means no size limit');
  });

  test('property: exempt points are never removed, keep and remove partition the points, the count limit holds', () => {
    const pointArb = fc.record({
      ageMinutes: fc.integer({ min: 0, max: 60 * 24 * 60 }),
      labelled: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(pointArb, { minLength: 1, maxLength: 60, selector: (p) => p.ageMinutes }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 60 }),
        fc.nat(),
        (specs, maxRecoveryPoints, maxAgeDays, protectPick) => {
          const points = specs.map((s, i) => summaryAt(NOW - s.ageMinutes * MINUTE - (i % 7), { label: s.labelled ? 'pinned' : null }));
          const sorted = [...points].sort((a, b) => (a.id < b.id ? 1 : -1));
          const protectedIds = new Set([points[protectPick % points.length]!.id]);
          const decision = decideRetention(points, { maxRecoveryPoints, maxAgeDays, maxTotalBytes: 0 }, NOW, protectedIds);
          const removed = new Set(decision.remove.map((r) => r.id));
          assert.equal(removed.size, decision.remove.length, 'no point removed twice');
          assert.equal(decision.keep.length + removed.size, points.length);
          for (const id of decision.keep) assert.equal(removed.has(id), false);
          assert.equal(removed.has(sorted[0]!.id), false, 'the newest point stays');
          for (const p of points) {
            if (p.label !== null || protectedIds.has(p.id)) assert.equal(removed.has(p.id), false, 'labelled and protected points stay');
          }
          const exempt = sorted.filter((p, i) => i === 0 || p.label !== null || protectedIds.has(p.id)).length;
          assert.ok(decision.keep.length <= Math.max(maxRecoveryPoints, exempt), 'the count limit holds');
          // Within the last hour, only the count limit removes points.
          for (const r of decision.remove) {
            if (NOW - pointIdTime(r.id) <= HOUR) assert.equal(r.reason, 'count');
          }
          // keep is newest first
          assert.deepEqual(decision.keep, [...decision.keep].sort().reverse());
        },
      ),
      { numRuns: 300 },
    );
  });

  test('the defaults match the documented policy', () => {
    assert.deepEqual(DEFAULT_RETENTION, { maxRecoveryPoints: 500, maxAgeDays: 30, maxTotalBytes: 2 * 1024 ** 3 });
  });
});

// ── clean-up on a real store ───────────────────────────────────────────────

interface Built {
  sb: Sandbox;
  store: RecoveryStore;
  points: ContextSnapshot[];
  files: Map<string, Record<string, string>>;
}

/** `n` points; each changes `common.txt` and `big.bin` (incompressible, `bigBytes`), so each has content of its own. */
async function build(n: number, retention: Partial<RetentionPolicy>, bigBytes = 2000): Promise<Built> {
  const sb = await makeSandbox();
  await writeFiles(sb.ws, { 'stable/never-changes.txt': 'stable\n'.repeat(100) });
  const store = await openStore(sb, { retention });
  const points: ContextSnapshot[] = [];
  const files = new Map<string, Record<string, string>>();
  for (let i = 1; i <= n; i++) {
    await writeFiles(sb.ws, { 'common.txt': `version ${i}\n`, 'big.bin': randomBytes(bigBytes), [`dir${i}/f.txt`]: `file of point ${i}\n` });
    const point = (await store.recovery.createRecoveryPoint())!;
    points.push(point);
    files.set(point.id, await readFiles(sb.ws));
  }
  return { sb, store, points, files };
}

/** No object is left that no listed point needs; every kept point verifies and restores exactly. */
async function assertCollectedAndRestorable(b: Built, store: RecoveryStore = b.store): Promise<void> {
  const listed = await store.recovery.listRecoveryPoints();
  const objects = await store.persistence.objects();
  const live = await collectReachable(objects, listed.map((p) => p.root));
  const stats = await store.recovery.stats();
  assert.equal(stats.objects, live.size, 'exactly the reachable objects remain');
  assert.equal((await store.recovery.verify()).ok, true);
  for (const point of listed) {
    const expected = b.files.get(point.id);
    if (!expected) continue;
    await store.recovery.restore(point.id);
    assert.deepEqual(await readFiles(b.sb.ws), expected, `point ${point.id} restores exactly`);
  }
}

async function blobOf(store: RecoveryStore, point: ContextSnapshot, p: string): Promise<string> {
  return (await lookupEntry(await store.persistence.objects(), point.root, p))!.hash;
}

describe('clean-up and garbage collection on a real store', () => {
  test('count: the newest maxRecoveryPoints stay (labelled ones count and stay); the removed points’ content is collected', async () => {
    const b = await build(6, { maxRecoveryPoints: 3, maxAgeDays: 0, maxTotalBytes: 0 });
    const p = b.points;
    await b.store.persistence.setLabel(p[1]!.id, 'pinned');
    const removedBlobs = await Promise.all([0, 2, 3].map((i) => blobOf(b.store, p[i]!, 'ws/big.bin')));
    const keptBlobs = await Promise.all([1, 4, 5].map((i) => blobOf(b.store, p[i]!, 'ws/big.bin')));
    const before = await b.store.recovery.stats();

    const report = await b.store.recovery.cleanupRecoveryPoints();
    assert.equal(report.removedPoints, 3);
    assert.deepEqual(report.reasons, { count: 3 });
    assert.ok(report.removedObjects > 0 && report.freedBytes > 0);
    assert.deepEqual(
      (await b.store.recovery.listRecoveryPoints()).map((x) => x.id),
      [p[5]!.id, p[4]!.id, p[1]!.id],
    );
    const objects = await b.store.persistence.objects();
    for (const hash of removedBlobs) assert.equal(objects.has(hash), false, 'content only removed points had is gone');
    for (const hash of keptBlobs) assert.equal(objects.has(hash), true);
    const after = await b.store.recovery.stats();
    assert.equal(after.objects, before.objects - report.removedObjects);
    assert.ok(after.diskBytes < before.diskBytes);
    const audit = (await auditEntries(b.store)).filter((e) => e.action === 'cleanup');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.details?.removed, 3);
    assert.equal(audit[0]!.actor, 'test:main');
    // A second clean-up finds nothing to do (before the restores below, which add points of their own).
    const again = await b.store.recovery.cleanupRecoveryPoints();
    assert.equal(again.removedObjects, 0);
    await assertCollectedAndRestorable(b);
  });

  test('the safety point of the last restore is kept, so the restore can still be undone', async () => {
    const b = await build(3, { maxRecoveryPoints: 1, maxAgeDays: 0, maxTotalBytes: 0 });
    const beforeRestore = await readFiles(b.sb.ws);
    const restored = await b.store.recovery.restore(b.points[0]!.id);
    await writeFiles(b.sb.ws, { 'later.txt': 'a newer point\n' });
    const newest = (await b.store.recovery.createRecoveryPoint())!;
    const afterNewest = await readFiles(b.sb.ws);
    await b.store.recovery.cleanupRecoveryPoints();
    assert.deepEqual(
      (await b.store.recovery.listRecoveryPoints()).map((x) => x.id),
      [newest.id, restored.safetyPointId],
    );
    assert.equal(afterNewest['later.txt'], 'file 644 a newer point\n');
    await b.store.recovery.undoLastRestore();
    assert.deepEqual(await readFiles(b.sb.ws), beforeRestore, 'the files from before the restore are back');
  });

  test('age and thinning by the times in the ids; labelled old points stay', async () => {
    const b = await build(5, { maxRecoveryPoints: 500, maxAgeDays: 30, maxTotalBytes: 0 });
    const now = Date.now();
    const bucket = 10 * 60_000;
    const twoHoursAgo = Math.floor((now - 2 * 3_600_000) / bucket) * bucket + 60_000;
    const p = b.points;
    await b.store.persistence.setLabel(p[1]!.id, 'release');
    // two old points on different days (a day bucket keeps one), two in one 10-minute bucket two hours ago
    const ids = [pointIdAt(now - 45 * 86_400_000), pointIdAt(now - 40 * 86_400_000), pointIdAt(twoHoursAgo), pointIdAt(twoHoursAgo + 120_000)];
    for (let i = 0; i < 4; i++) {
      await reidPoint(b.sb.store, p[i]!.id, ids[i]!);
      b.files.set(ids[i]!, b.files.get(p[i]!.id)!);
    }
    const store = await openStore(b.sb, { actor: 'test:cleanup', retention: { maxRecoveryPoints: 500, maxAgeDays: 30, maxTotalBytes: 0 } });
    const report = await store.recovery.cleanupRecoveryPoints();
    assert.deepEqual(report.reasons, { age: 1, thinned: 1 });
    assert.deepEqual(
      (await store.recovery.listRecoveryPoints()).map((x) => x.id),
      [p[4]!.id, ids[3], ids[1]],
    );
    await assertCollectedAndRestorable(b, store);
  });

  test('garbage collection removes temporary document files a killed writer left an hour ago, and nothing else', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    const left = ['state.json.3141592653', `points/${point.id}.json.271828`, 'points/index.json.1618033', 'cache/capture-cache.json.42'].map((rel) => path.join(sb.store, rel));
    const recent = path.join(sb.store, 'state.json.777');
    const kept = path.join(sb.store, 'points', 'notes.json.txt');
    const old = new Date(Date.now() - 2 * HOUR);
    for (const file of [...left, recent, kept]) {
      await fs.writeFile(file, '{"partial":');
      if (file !== recent) await fs.utimes(file, old, old);
    }
    await store.recovery.collectGarbage();
    for (const file of left) assert.equal(await exists(file), false, `${file} removed`);
    assert.equal(await exists(recent), true, 'a writer may still be about to rename a recent one');
    assert.equal(await exists(kept), true, 'only write-file-atomic temporaries are removed');
    assert.deepEqual((await store.recovery.listRecoveryPoints()).map((p) => p.id), [point.id]);
    assert.equal((await store.recovery.verify()).ok, true);
  });

  test('size: a store whose packs together are under maxTotalBytes is not walked for sizes, and nothing goes', async () => {
    for (const [limit, walked] of [
      [10 * 1024 ** 2, false],
      [50_000, true],
    ] as const) {
      const b = await build(5, { maxRecoveryPoints: 500, maxAgeDays: 0, maxTotalBytes: limit }, 20_000);
      const objects = await b.store.persistence.objects();
      let sized = 0;
      const storedSize = objects.storedSize.bind(objects);
      objects.storedSize = (hash: string) => {
        sized++;
        return storedSize(hash);
      };
      const report = await b.store.recovery.cleanupRecoveryPoints();
      assert.equal(sized > 0, walked, `limit ${limit}: ${sized} sizes looked up`);
      assert.equal((await b.store.recovery.listRecoveryPoints()).length, walked ? 2 : 5);
      assert.deepEqual(report.reasons, walked ? { size: 3 } : {});
    }
  });

  test('size: the oldest points beyond maxTotalBytes go, and the store ends under the limit', async () => {
    const b = await build(5, { maxRecoveryPoints: 500, maxAgeDays: 0, maxTotalBytes: 50_000 }, 20_000);
    const before = await b.store.recovery.stats();
    assert.ok(before.storedBytes > 100_000);
    const report = await b.store.recovery.cleanupRecoveryPoints();
    assert.deepEqual(report.reasons, { size: 3 });
    assert.deepEqual(
      (await b.store.recovery.listRecoveryPoints()).map((x) => x.id),
      [b.points[4]!.id, b.points[3]!.id],
    );
    const after = await b.store.recovery.stats();
    assert.ok(after.storedBytes <= 50_000, `stored ${after.storedBytes} bytes`);
    await assertCollectedAndRestorable(b);
  });
});
