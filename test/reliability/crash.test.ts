/**
 * Crash at any moment: a library user is killed with SIGKILL at random (seeded) moments while it
 * creates points, updates the state, labels, restores, undoes, deletes and cleans up; and while it
 * restores a point 200 files away. After every kill the store must open, verify, list every
 * acknowledged point with exactly the files it captured, and keep every acknowledged state update.
 * Repeat a run with RP_RELIABILITY_SEED=<printed seed>.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import type { PointSummary } from '../../src/core/schemas';
import { summaryOf } from '../../src/core/state/persistenceManager';
import { cleanupAll, makeSandbox, openStore, writeFiles, writerLock, type Sandbox } from '../core/helpers/storeFixtures';
import { bundleStoreUser, events, killChildren, sleep, startUser, type Child, type UserEvent } from './helpers/children';
import { digestPoint, digestWorkspace, isRestoreTemporary, type FileDigest } from './helpers/digest';
import { byLevel, level } from './helpers/level';
import { mulberry32, runSeed } from './helpers/random';

const KEEP_EVERYTHING = { maxRecoveryPoints: 1_000_000, maxAgeDays: 0, maxTotalBytes: 0 };

let user: { script: string; dispose: () => Promise<void> };
before(async () => {
  user = await bundleStoreUser();
});
after(async () => {
  killChildren();
  await cleanupAll();
  await user?.dispose();
});

/** Runs a child until it printed `ready` and `delayMs` more, then kills it. Returns its events and whether it was still running. */
async function killAfter(child: Child, delayMs: number): Promise<{ events: UserEvent[]; killed: boolean }> {
  let ready = false;
  const exitedEarly = child.exited.then(() => true);
  while (!ready) {
    ready = child.lines.some((l) => l.includes('"ev":"ready"'));
    if (!ready && (await Promise.race([exitedEarly, sleep(5).then(() => false)]))) break;
  }
  if (ready) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([child.exited, new Promise((resolve) => (timer = setTimeout(resolve, delayMs)))]);
    clearTimeout(timer);
  }
  const killed = child.child.exitCode === null && child.child.signalCode === null;
  if (killed) child.child.kill('SIGKILL');
  const { code, signal, stderr } = await child.exited;
  assert.ok(signal === 'SIGKILL' || code === 0, `the child failed on its own (code ${code}): ${stderr}`);
  return { events: events(child.lines), killed: signal === 'SIGKILL' };
}

/**
 * The store lock the killed child left, if any. A lock naming its owner is left as it is: the owner is
 * dead, so the checker takes it over at once (its lock wait is shorter than the stale time). A lock
 * naming no owner (its bytes not written back) can only go stale; its time is set back instead of
 * waiting, so that path runs without the wait.
 */
async function leftLock(sb: Sandbox): Promise<'owned' | 'ownerless' | undefined> {
  const lock = writerLock(sb.store);
  const owner = await fs.readFile(lock, 'utf8').catch(() => undefined);
  if (owner === undefined) return undefined;
  if (owner.startsWith('owner.')) return 'owned';
  const old = new Date(Date.now() - 60_000);
  await fs.utimes(lock, old, old).catch(() => undefined);
  return 'ownerless';
}

/** A store whose lock wait (5 s) is shorter than the stale time (10 s): a lock of a dead owner must be taken over without going stale. */
async function openChecker(sb: Sandbox): Promise<RecoveryStore> {
  return openStore(sb, { actor: 'test:checker', retention: KEEP_EVERYTHING, lockWaitMs: 5000 });
}

async function assertVerifies(store: RecoveryStore, when: string): Promise<void> {
  const report = await store.recovery.verify();
  assert.deepEqual({ brokenObjects: report.brokenObjects, brokenPoints: report.brokenPoints, stateProblem: report.stateProblem }, { brokenObjects: [], brokenPoints: [], stateProblem: null }, `verify ${when}`);
}

/** The listing (the index, a cache) says of every point what its manifest says. */
async function assertListingMatchesManifests(store: RecoveryStore, when: string): Promise<PointSummary[]> {
  const points = await store.recovery.listRecoveryPoints();
  for (const point of points) assert.deepEqual(point, summaryOf(await store.persistence.requireSnapshot(point.id)), `the listing of ${point.id} agrees with its manifest ${when}`);
  return points;
}

/** Temporary files killed writers left: documents (`<name>.json.<n>`, write-file-atomic), packs (`*.pack.partial`) and restored files in the workspace. */
async function leftovers(sb: Sandbox): Promise<{ documents: number; packs: number; workspace: number }> {
  const names = async (dir: string): Promise<string[]> => {
    const out: string[] = [];
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) out.push(...(await names(path.join(dir, entry.name))).map((n) => `${entry.name}/${n}`));
      else out.push(entry.name);
    }
    return out;
  };
  const store = await names(sb.store);
  return {
    documents: store.filter((n) => /\.json\.\d+$/.test(n)).length,
    packs: store.filter((n) => n.endsWith('.partial')).length,
    workspace: (await names(sb.ws)).filter((n) => isRestoreTemporary(`ws/${n}`)).length,
  };
}

describe('crash at any moment', () => {
  test('a library user killed at random moments loses no acknowledged operation, and every listed point restores byte for byte', { timeout: byLevel(180_000, 1_500_000) }, async (t) => {
    const seed = runSeed();
    t.diagnostic(`level ${level}, seed ${seed} (repeat with RP_RELIABILITY_SEED=${seed})`);
    const rng = mulberry32(seed);
    const targetKills = byLevel(25, 300);
    const deadline = Date.now() + byLevel(60_000, 900_000);
    const sb = await makeSandbox('rp-crash-');
    await writeFiles(sb.ws, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}.txt`, `initial ${i}\n`])));

    /** What every point whose content is known holds. */
    const expected = new Map<string, FileDigest>();
    /** Acknowledged points (created, or safety points of acknowledged restores) not deleted since. */
    const live = new Set<string>();
    const everAcknowledged = new Set<string>();
    const labels = new Map<string, string | null>();
    const stateValues = new Map<string, number>();
    const figures = { kills: 0, exitedBeforeKill: 0, operations: 0, pointsVerified: 0, restoresChecked: 0, deadOwnerLocks: 0, ownerlessLocks: 0, unacknowledgedPointsFound: 0, inFlightFoundDone: 0, stateRecoveries: 0, pointsAtEnd: 0 };
    const killedDuring: Record<string, number> = {};

    /**
     * The last restore (or undo) acknowledged: its safety point, the files it changed, and the point of
     * its result (null when it changed nothing), which an undo reads them from. `undefined` when one was
     * in flight when the process was killed.
     */
    let lastRestore: { safety: string; changed: Set<string>; result: string | null } | undefined;
    /**
     * An undo puts back, from the safety point, the files the restore changed (and removes a killed
     * restore's temporary files) and leaves every other file as it was just before it; when the
     * restore is not known here, or the point of its result was deleted since, each file is at least
     * one of the two.
     */
    const checkUndo = (safety: string, before: FileDigest, after: FileDigest) => {
      const point = expected.get(safety)!;
      const known = lastRestore?.safety === safety && (lastRestore.result === null || live.has(lastRestore.result)) ? lastRestore.changed : undefined;
      const paths = new Set([...Object.keys(before), ...Object.keys(point), ...Object.keys(after)]);
      if (!known) {
        for (const rel of paths) assert.ok(after[rel] === point[rel] || after[rel] === before[rel], `undo of ${safety}: ${rel} is either as before the undo or as the safety point`);
        return;
      }
      const want: FileDigest = {};
      for (const rel of paths) {
        const fromPoint = known.has(rel) || (isRestoreTemporary(rel) && !(rel in point));
        const value = fromPoint ? point[rel] : before[rel];
        if (value !== undefined) want[rel] = value;
      }
      assert.deepEqual(after, want, `undo of ${safety} put back the files the restore changed, and only them`);
    };
    const changedBetween = (a: FileDigest, b: FileDigest) => new Set([...Object.keys(a), ...Object.keys(b)].filter((rel) => a[rel] !== b[rel]));

    const acknowledge = (id: string, files: FileDigest) => {
      assert.ok(!everAcknowledged.has(id), `point id ${id} acknowledged twice`);
      everAcknowledged.add(id);
      live.add(id);
      expected.set(id, files);
    };

    for (let gen = 0; figures.kills < targetKills && Date.now() < deadline; gen++) {
      const name = `c${gen}`;
      const child = startUser(user.script, { mode: 'crash-loop', storeDir: sb.store, ws: sb.ws, name, seed: Math.floor(rng() * 2 ** 32), lockStaleMs: 2000 });
      const { events: evs, killed } = await killAfter(child, Math.floor(rng() * 1500));
      if (killed) figures.kills++;
      else figures.exitedBeforeKill++;
      const last = evs.at(-1);
      const inFlight = last?.ev === 'start' ? last : undefined;
      killedDuring[inFlight?.op ?? 'between operations'] = (killedDuring[inFlight?.op ?? 'between operations'] ?? 0) + 1;

      for (const e of evs) {
        if (e.ev !== 'done') continue;
        figures.operations++;
        const files = e.files as FileDigest;
        switch (e.op) {
          case 'create':
            acknowledge(e.id as string, files);
            break;
          case 'restore':
          case 'undo':
            if (e.op === 'restore' && expected.has(e.target as string)) {
              // the workspace after a completed restore is exactly the point
              assert.deepEqual(e.after, expected.get(e.target as string), `restore of ${e.target as string} wrote the point's files`);
            } else if (e.op === 'undo' && expected.has(e.target as string)) {
              checkUndo(e.target as string, files, e.after as FileDigest);
            }
            acknowledge(e.safety as string, files);
            lastRestore = { safety: e.safety as string, changed: changedBetween(files, e.after as FileDigest), result: e.restored as string | null };
            // the workspace as the restore left it is a point of its own
            if (e.restored) acknowledge(e.restored as string, e.after as FileDigest);
            figures.restoresChecked++;
            break;
          case 'state':
            stateValues.set(e.key as string, e.value as number);
            break;
          case 'label':
            labels.set(e.id as string, e.label as string | null);
            break;
          case 'delete':
            for (const id of e.ids as string[]) {
              live.delete(id);
              expected.delete(id);
              labels.delete(id);
            }
            break;
          case 'cleanup':
            assert.equal(e.removedPoints, 0, 'clean-up with thinning, age, count and size limits off removes no point');
            break;
        }
      }
      // a restore or undo killed part way may have recorded itself: which files it changed is not known here
      if (inFlight?.op === 'restore' || inFlight?.op === 'undo') lastRestore = undefined;

      const left = await leftLock(sb);
      if (left === 'owned') figures.deadOwnerLocks++;
      if (left === 'ownerless') figures.ownerlessLocks++;
      const store = await openChecker(sb);
      await assertVerifies(store, `after kill ${figures.kills} (${inFlight?.op ?? 'between operations'})`);

      // the state: every acknowledged update is there; the one in flight may or may not have landed,
      // and once seen it counts as done (later checks expect it)
      const state = await store.state.getState();
      const stateKeys = new Set([...stateValues.keys(), ...(inFlight?.op === 'state' ? [inFlight.key as string] : [])]);
      for (const key of stateKeys) {
        const found = state.data[key] as number | undefined;
        if (found === stateValues.get(key)) continue;
        assert.ok(inFlight?.op === 'state' && inFlight.key === key && found === inFlight.value, `state key ${key} is ${String(found)}, acknowledged ${String(stateValues.get(key))}`);
        stateValues.set(key, inFlight.value as number);
        figures.inFlightFoundDone++;
      }
      figures.stateRecoveries = (await store.persistence.audit.read()).filter((a) => a.action === 'recover-state').length;

      // the points: every acknowledged one is listed, nothing appears that no operation made
      const points = await assertListingMatchesManifests(store, `after kill ${figures.kills}`);
      const listed = new Map(points.map((p) => [p.id, p]));
      assert.equal(listed.size, points.length, 'no point listed twice');
      for (const id of live) {
        if (listed.has(id)) continue;
        assert.ok(inFlight?.op === 'delete' && (inFlight.ids as string[]).includes(id), `acknowledged point ${id} is listed`);
        live.delete(id);
        expected.delete(id);
      }
      const unknown = points.filter((p) => !expected.has(p.id));
      // A restore or undo in flight may have made its safety point and the point of its result.
      const isRestore = inFlight?.op === 'restore' || inFlight?.op === 'undo';
      assert.ok(unknown.length <= (isRestore ? 2 : 1), `at most the points of the operation in flight are new: ${unknown.map((p) => p.id).join(', ')}`);
      for (const point of unknown) {
        // a clean-up in flight with `files` made a point while it ran
        const madePoint = ['create', 'restore', 'undo'].includes(inFlight?.op ?? '') || (inFlight?.op === 'cleanup' && inFlight.files !== undefined);
        assert.ok(inFlight && madePoint, `point ${point.id} was made by the operation in flight (${inFlight?.op ?? 'none'})`);
        if (point.trigger === 'restore' && inFlight.op === 'undo') {
          // an undo's result: the files it put back and the others as they were; made after its last write, as the workspace is now
          acknowledge(point.id, await digestWorkspace(sb.ws));
        } else if (point.trigger === 'restore') {
          assert.ok(isRestore && expected.has(inFlight.target as string), `the restore point ${point.id} comes from the restore in flight`);
          acknowledge(point.id, expected.get(inFlight.target as string)!);
        } else {
          acknowledge(point.id, inFlight.files as FileDigest);
        }
        figures.unacknowledgedPointsFound++;
      }
      for (const point of points) {
        const acknowledged = labels.get(point.id) ?? null;
        if (point.label === acknowledged) continue;
        assert.ok(inFlight?.op === 'label' && inFlight.id === point.id && point.label === inFlight.label, `point ${point.id} has label ${point.label}, acknowledged ${acknowledged}`);
        labels.set(point.id, point.label);
        figures.inFlightFoundDone++;
      }

      // every listed point holds exactly the files it captured (every tree and blob read and hash-checked)
      const objects = await store.persistence.objects();
      for (const point of points) {
        assert.deepEqual(await digestPoint(objects, point.root), expected.get(point.id), `point ${point.id} holds the files it captured`);
        figures.pointsVerified++;
      }

      // and really restores: the newest point and one at random
      for (const point of new Set(points.length > 0 ? [points[0]!, points[Math.floor(rng() * points.length)]!] : [])) {
        const before = await digestWorkspace(sb.ws);
        const result = await store.recovery.restore(point.id);
        assert.deepEqual(await digestWorkspace(sb.ws), expected.get(point.id), `restoring ${point.id} wrote exactly its files`);
        acknowledge(result.safetyPointId, before);
        if (result.restoredPointId) acknowledge(result.restoredPointId, expected.get(point.id)!);
        lastRestore = { safety: result.safetyPointId, changed: changedBetween(before, expected.get(point.id)!), result: result.restoredPointId ?? null };
        figures.restoresChecked++;
      }
      // keep the store near 40 points, so the checks after each kill stay bounded (an explicit delete, as a person would)
      const excess = (await store.recovery.listRecoveryPoints()).slice(1).filter((p) => p.label === null).slice(30);
      if (excess.length > 0) {
        await store.recovery.deletePoints(excess.map((p) => p.id));
        for (const { id } of excess) {
          live.delete(id);
          expected.delete(id);
        }
      }
      figures.pointsAtEnd = points.length;
      await store.close();
    }

    t.diagnostic(`figures ${JSON.stringify(figures)}`);
    t.diagnostic(`killed during ${JSON.stringify(killedDuring)}`);
    t.diagnostic(`temporary files left by killed writers ${JSON.stringify(await leftovers(sb))}`);
    assert.ok(figures.kills >= Math.min(5, targetKills), `enough kills landed (${figures.kills})`);
    assert.equal(figures.stateRecoveries, 0, 'the state file never needed rebuilding');
  });

  test('a label killed at any moment is either applied or not, and the listing agrees with the manifests', { timeout: byLevel(120_000, 600_000) }, async (t) => {
    const seed = runSeed();
    t.diagnostic(`level ${level}, seed ${seed} (repeat with RP_RELIABILITY_SEED=${seed})`);
    const rng = mulberry32(seed ^ 0x1abe1);
    const targetKills = byLevel(20, 150);
    const deadline = Date.now() + byLevel(40_000, 300_000);
    const sb = await makeSandbox('rp-crash-label-');
    const setup = await openChecker(sb);
    for (let i = 0; i < 6; i++) {
      await writeFiles(sb.ws, { 'a.txt': `a ${i}\n` });
      await setup.recovery.createRecoveryPoint();
    }
    await setup.close();
    const labels = new Map<string, string | null>();
    let kills = 0;
    let inFlightApplied = 0;
    let acknowledgedLabels = 0;
    while (kills < targetKills && Date.now() < deadline) {
      const child = startUser(user.script, { mode: 'label-loop', storeDir: sb.store, ws: sb.ws, name: `k${kills}`, seed: Math.floor(rng() * 2 ** 32), lockStaleMs: 2000 });
      const { events: evs, killed } = await killAfter(child, 30 + Math.floor(rng() * 300));
      assert.ok(killed, 'the label loop runs until killed');
      kills++;
      for (const e of evs) {
        if (e.ev !== 'done') continue;
        labels.set(e.id as string, e.label as string | null);
        acknowledgedLabels++;
      }
      const inFlight = evs.at(-1)?.ev === 'start' ? evs.at(-1) : undefined;
      await leftLock(sb);
      const store = await openChecker(sb);
      for (const point of await assertListingMatchesManifests(store, `after kill ${kills}`)) {
        const acknowledged = labels.has(point.id) ? labels.get(point.id) : null;
        if (inFlight?.id === point.id && point.label === inFlight.label && point.label !== acknowledged) {
          inFlightApplied++;
          labels.set(point.id, point.label);
        } else assert.equal(point.label, acknowledged, `point ${point.id} carries its acknowledged label`);
      }
      await store.close();
    }
    t.diagnostic(`kills ${kills}, labels acknowledged ${acknowledgedLabels}, in-flight labels found applied ${inFlightApplied}`);
  });

  test('a restore killed at any moment leaves the workspace as before, as the point or a mix, and always recoverable', { timeout: byLevel(180_000, 900_000) }, async (t) => {
    const seed = runSeed();
    t.diagnostic(`level ${level}, seed ${seed} (repeat with RP_RELIABILITY_SEED=${seed})`);
    const rng = mulberry32(seed ^ 0x5eed);
    const targetKills = byLevel(8, 80);
    const deadline = Date.now() + byLevel(40_000, 360_000);
    const sb = await makeSandbox('rp-crash-restore-');
    const files = (variant: string, from: number, to: number) => Object.fromEntries(Array.from({ length: to - from }, (_, k) => [`d${(from + k) % 10}/file${from + k}.txt`, `${variant} ${from + k}\n`.repeat(50)]));
    // A: files 0..199; B: 150 of them changed, 25 deleted, 25 added — 200 files away from A.
    await writeFiles(sb.ws, files('A', 0, 200));
    const setup = await openChecker(sb);
    const pointA = (await setup.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { ...files('B', 0, 150), ...Object.fromEntries(Array.from({ length: 25 }, (_, k) => [`d${(175 + k) % 10}/file${175 + k}.txt`, null])), ...files('B', 200, 225) });
    const pointB = (await setup.recovery.createRecoveryPoint())!;
    const digestOf = new Map([
      [pointA.id, await digestPoint(await setup.persistence.objects(), pointA.root)],
      [pointB.id, await digestPoint(await setup.persistence.objects(), pointB.root)],
    ]);
    let seenSafety = (await setup.state.getState()).lastRestore?.safetyPointId ?? null;
    await setup.close();

    const cases = { before: 0, point: 0, mix: 0, notYetRecorded: 0, completed: 0 };
    let leftoverTemporaries = 0;
    let restoreMs = 0;
    let current = pointB.id;
    for (let round = 0; cases.before + cases.point + cases.mix < targetKills && Date.now() < deadline; round++) {
      const target = current === pointA.id ? pointB.id : pointA.id;
      const [was, want] = [digestOf.get(current)!, digestOf.get(target)!];
      const child = startUser(user.script, { mode: 'restore', storeDir: sb.store, ws: sb.ws, name: `r${round}`, seed: round, pointId: target, lockStaleMs: 2000 });
      // round 0 runs to the end and measures how long a restore takes; later rounds are killed within that time
      const { events: evs, killed } = await killAfter(child, round === 0 ? 600_000 : Math.floor(rng() * restoreMs * 1.2));
      if (round === 0) {
        const ready = evs.find((e) => e.ev === 'ready')!;
        restoreMs = evs.at(-1)!.t - ready.t;
        t.diagnostic(`an uninterrupted restore of ${Object.keys(want).length} files took ${restoreMs} ms`);
      }
      await leftLock(sb);
      const store = await openChecker(sb);
      await assertVerifies(store, `after a restore killed in round ${round}`);

      const now = await digestWorkspace(sb.ws);
      const temporaries = Object.keys(now).filter(isRestoreTemporary);
      leftoverTemporaries += temporaries.length;
      const tracked = Object.fromEntries(Object.entries(now).filter(([rel]) => !isRestoreTemporary(rel)));
      let found: 'before' | 'point' | 'mix';
      if (isDeepEqual(tracked, was)) found = 'before';
      else if (isDeepEqual(tracked, want)) found = 'point';
      else {
        for (const rel of new Set([...Object.keys(tracked), ...Object.keys(was), ...Object.keys(want)])) {
          assert.ok(tracked[rel] === was[rel] || tracked[rel] === want[rel], `${rel} is either as before or as the point`);
        }
        found = 'mix';
      }
      if (!killed) cases.completed++;
      else cases[found]++;

      const last = (await store.state.getState()).lastRestore;
      const recorded = last !== null && last.restoredPointId === target && last.safetyPointId !== seenSafety;
      if (recorded) {
        // the safety point holds the files from before, and undo brings them back byte for byte
        const safety = (await store.recovery.listRecoveryPoints()).find((p) => p.id === last.safetyPointId);
        assert.ok(safety, 'the safety point recorded before writing is listed');
        assert.deepEqual(await digestPoint(await store.persistence.objects(), safety.root), was, 'the safety point holds the files from before the restore');
        await store.recovery.undoLastRestore();
        assert.deepEqual(await digestWorkspace(sb.ws), was, 'undo brings back the files from before the restore');
      } else {
        // killed before the restore was recorded: it had not changed a file yet
        assert.ok(killed && found === 'before' && temporaries.length === 0, 'a restore not yet recorded changed nothing');
        cases.notYetRecorded++;
      }
      // and restoring the point again completes it
      await store.recovery.restore(target);
      assert.deepEqual(await digestWorkspace(sb.ws), want, 'restoring the point again completes it');
      seenSafety = (await store.state.getState()).lastRestore!.safetyPointId;
      current = target;
      await store.close();
    }
    t.diagnostic(`kills landed: ${JSON.stringify(cases)} (notYetRecorded is part of "before"); leftover temporary files cleaned by recovery: ${leftoverTemporaries}`);
    assert.ok(cases.before + cases.point + cases.mix >= Math.min(3, targetKills), 'enough kills landed');
  });
});

function isDeepEqual(a: FileDigest, b: FileDigest): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
