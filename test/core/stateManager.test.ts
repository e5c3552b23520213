import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { StateChange } from '../../src/core/state/stateManager';
import { mergeStatePatch } from '../../src/core/state/stateMerge';
import { emptyContextState, SCHEMA_VERSION, type ContextState } from '../../src/core/schemas';
import { auditEntries, cleanupAll, makeSandbox, openStore, readJson, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

describe('StateManager', () => {
  test('a point does not rewrite the state file: the newest point id is derived from the points, in this and in a new process', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    await store.state.updateState({ data: { kept: 1 } });
    const stateFile = path.join(sb.store, 'state.json');
    const before = await fs.stat(stateFile);
    const bytes = await fs.readFile(stateFile, 'utf8');
    const first = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'changed\n' });
    const second = (await store.recovery.createRecoveryPoint(undefined, { changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    assert.equal(await fs.readFile(stateFile, 'utf8'), bytes, 'the state file is untouched by points');
    assert.equal((await fs.stat(stateFile)).ino, before.ino);
    assert.equal((await store.state.getState()).newestPointId, second.id, 'this manager knows the newest point');
    assert.equal(second.state.newestPointId, first.id, 'a point captures the state as it was: the newest point before it');
    await store.close();

    const reopened = await openStore(sb, { actor: 'test:reopened' });
    const state = await reopened.state.getState();
    assert.equal(state.newestPointId, second.id, 'a new process derives it from the points');
    assert.deepEqual(state.data, { kept: 1 });
    const saved = await reopened.state.updateState({ data: { kept: 2 } });
    assert.equal(saved.newestPointId, second.id);
    assert.equal((await readJson<ContextState>(stateFile)).newestPointId, second.id, 'written with the next real update');
  });

  test('partial updates: versions increase by one, keys merge, undefined removes, saved to disk, events fire', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const events: StateChange[] = [];
    store.state.onDidChangeState((e) => events.push(e));
    const initial = await store.state.getState();
    assert.equal(initial.version, 0);
    assert.deepEqual(initial.data, {});
    assert.equal(initial.newestPointId, null);

    const s1 = await store.state.updateState({ data: { a: 1, b: { nested: [1, 2] } } });
    assert.equal(s1.version, 1);
    const s2 = await store.state.updateState({ data: { c: 'three', a: undefined } });
    assert.equal(s2.version, 2);
    assert.deepEqual(s2.data, { b: { nested: [1, 2] }, c: 'three' });
    const session = { groups: [{ viewColumn: 1, tabs: [{ path: 'ws/a.ts', isActive: true, isPinned: false, isPreview: false, selections: [] }] }], activeViewColumn: 1 };
    const s3 = await store.state.updateState({ session });
    assert.equal(s3.version, 3);
    assert.deepEqual(s3.session, session);
    assert.deepEqual(s3.data, s2.data, 'a session update keeps the data');
    assert.equal(s3.updatedBy, 'test:main');

    const onDisk = await readJson<ContextState>(path.join(sb.store, 'state.json'));
    assert.equal(onDisk.schemaVersion, SCHEMA_VERSION);
    assert.equal(onDisk.version, 3);
    assert.deepEqual(onDisk.data, s2.data);
    assert.deepEqual(
      events.map((e) => [e.origin, e.state.version]),
      [
        ['local', 1],
        ['local', 2],
        ['local', 3],
      ],
    );
    const audit = (await auditEntries(store)).filter((e) => e.action === 'state');
    assert.deepEqual(
      audit.map((e) => [e.details?.version, e.details?.keys]),
      [
        [1, ['a', 'b']],
        [2, ['c', 'a']],
      ],
      'data changes are audited (session-only changes, made at every tab switch, are not)',
    );
    // A fresh manager reads what was saved.
    const other = await openStore(sb, { actor: 'test:other' });
    assert.deepEqual(await other.state.getState(), onDisk);
  });

  test('the whole-state form of updateState (the spec form) saves what changed, even when the caller edits the state it got', async () => {
    const sb = await makeSandbox();
    const store = await openStore(sb);
    await store.state.updateState({ data: { keep: true, drop: 1 } });
    const state = await store.state.getState();
    const next = await store.state.updateState({ ...state, data: { keep: true, added: 'x' } });
    assert.equal(next.version, 2);
    assert.deepEqual(next.data, { keep: true, added: 'x' });

    // The spec's usage: get the state, change it, update with it.
    const mine = await store.state.getState();
    mine.data.edited = 42;
    const saved = await store.state.updateState(mine);
    assert.equal(saved.version, 3);
    assert.equal(saved.data.edited, 42, 'a change made to the state getState returned is saved, not lost');
    assert.equal((await readJson<ContextState>(path.join(sb.store, 'state.json'))).data.edited, 42);
  });

  test('two managers on one store: different keys both kept; the same key — the later writer wins and the conflict is recorded', async () => {
    const sb = await makeSandbox();
    const a = await openStore(sb, { actor: 'window:A' });
    const b = await openStore(sb, { actor: 'window:B' });
    await a.state.getState();
    await b.state.getState();
    await a.state.updateState({ data: { fromA: 1 } });
    const afterB = await b.state.updateState({ data: { fromB: 2 } }); // B's cached version is stale
    assert.deepEqual(afterB.data, { fromA: 1, fromB: 2 });
    assert.equal(afterB.version, 2);
    assert.deepEqual(afterB.conflicts, []);

    await a.state.updateState({ data: { shared: 'A' } }); // A's cache is stale too (B wrote version 2)
    const winner = await b.state.updateState({ data: { shared: 'B' } });
    assert.equal(winner.data.shared, 'B', 'the later write wins');
    assert.equal(winner.version, 4);
    assert.equal(winner.conflicts.length, 1);
    assert.deepEqual(
      { key: winner.conflicts[0]!.key, actor: winner.conflicts[0]!.actor, kept: winner.conflicts[0]!.kept },
      { key: 'shared', actor: 'window:B', kept: 'ours' },
    );
    const conflicts = (await auditEntries(a)).filter((e) => e.action === 'conflict');
    assert.equal(conflicts.length, 1);
    assert.equal(conflicts[0]!.actor, 'window:B');
    assert.equal(conflicts[0]!.details?.key, 'shared');
    assert.equal(conflicts[0]!.details?.otherWriter, 'window:A');

    // Writing the same value both sides changed is no conflict.
    await a.state.syncState();
    await b.state.updateState({ data: { same: 1 } });
    const agreed = await a.state.updateState({ data: { same: 1 } });
    assert.equal(agreed.conflicts.length, 1);

    // syncState picks up the other writer's changes and tells listeners.
    const seen: StateChange[] = [];
    a.state.onDidChangeState((e) => seen.push(e));
    await b.state.updateState({ data: { late: true } });
    const synced = await a.state.syncState();
    assert.equal(synced.data.late, true);
    assert.deepEqual(
      seen.map((e) => e.origin),
      ['disk'],
    );
    await a.state.syncState();
    assert.equal(seen.length, 1, 'no event when nothing changed');
  });

  test('merge rule: only keys this writer changed are applied; conflicts keep the newest 20', () => {
    const base = { ...emptyContextState('x'), version: 5, data: { a: 1, b: 1 } };
    const current = { ...base, version: 7, data: { a: 2, b: 1, c: 3 } };
    const { state, conflicts } = mergeStatePatch(current, base, { data: { b: 9 } }, 'me');
    assert.deepEqual(state.data, { a: 2, b: 9, c: 3 }, 'the other writer’s a and c survive');
    assert.equal(state.version, 8);
    assert.deepEqual(conflicts, []);
    let s: ContextState = { ...current, conflicts: [] };
    for (let i = 0; i < 25; i++) s = mergeStatePatch({ ...s, data: { k: `theirs${i}` } }, { ...s, version: s.version - 1, data: { k: 'base' } }, { data: { k: `ours${i}` } }, 'me').state;
    assert.equal(s.conflicts.length, 20);
    assert.equal(s.data.k, 'ours24');
  });
});

describe('StateManager: damaged state files', () => {
  const damaged: Array<[string, string]> = [
    ['garbage', '{ this is not json'],
    ['empty', ''],
    ['wrong schema', JSON.stringify({ schemaVersion: 1, version: 'seven', data: 5 })],
    ['a future schema', JSON.stringify({ ...emptyContextState('x'), schemaVersion: 99 })],
    ['an array', '[1,2,3]'],
    ['null', 'null'],
  ];
  for (const [what, content] of damaged) {
    test(`${what}: quarantined, rebuilt from the newest point, warned about and audited`, async () => {
      const sb = await makeSandbox();
      await writeFiles(sb.ws, { 'a.txt': 'a\n' });
      const first = await openStore(sb);
      await first.state.updateState({ data: { remembered: 'yes', n: 1 } });
      const point = (await first.recovery.createRecoveryPoint())!;
      await first.close();
      await fs.writeFile(path.join(sb.store, 'state.json'), content);

      const store = await openStore(sb, { actor: 'test:after-crash' });
      const warnings: string[] = [];
      const changes: string[] = [];
      store.state.onWarning((m) => warnings.push(m));
      store.state.onDidChangeState((e) => changes.push(e.origin));
      const state = await store.state.getState();
      assert.deepEqual(state.data, { remembered: 'yes', n: 1 }, 'the data the newest point captured');
      assert.equal(state.newestPointId, point.id);
      assert.ok(state.version > point.state.version);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /damaged/);
      assert.deepEqual(changes, ['recovered']);
      const quarantined = await fs.readdir(path.join(sb.store, 'quarantine'));
      const moved = quarantined.filter((n) => n.endsWith('state.json'));
      assert.equal(moved.length, 1);
      assert.equal(await fs.readFile(path.join(sb.store, 'quarantine', moved[0]!), 'utf8'), content, 'the broken file is kept for inspection');
      const audit = (await auditEntries(store)).filter((e) => e.action === 'recover-state');
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.pointId, point.id);
      assert.equal(audit[0]!.actor, 'test:after-crash');
      // The repaired state file is valid again and updates go on.
      const next = await store.state.updateState({ data: { after: true } });
      assert.equal(next.version, state.version + 1);
      assert.equal((await readJson<ContextState>(path.join(sb.store, 'state.json'))).data.after, true);
    });
  }

  test('with the newest point unreadable, the state comes from the next one; with no point, from scratch', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const first = await openStore(sb);
    await first.state.updateState({ data: { from: 'older' } });
    const older = (await first.recovery.createRecoveryPoint())!;
    await first.state.updateState({ data: { from: 'newer' } });
    const newer = (await first.recovery.createRecoveryPoint())!;
    await first.close();
    await fs.writeFile(path.join(sb.store, 'points', `${newer.id}.json`), '{"broken":');
    await fs.writeFile(path.join(sb.store, 'state.json'), 'garbage');
    const store = await openStore(sb);
    const state = await store.state.getState();
    assert.equal(state.data.from, 'older');
    assert.equal((await auditEntries(store)).find((e) => e.action === 'recover-state')?.pointId, older.id);

    const empty = await makeSandbox();
    await fs.mkdir(empty.store, { recursive: true });
    await fs.writeFile(path.join(empty.store, 'state.json'), 'garbage');
    const fresh = await openStore(empty);
    const warnings: string[] = [];
    fresh.state.onWarning((m) => warnings.push(m));
    const scratch = await fresh.state.getState();
    assert.deepEqual(scratch.data, {});
    assert.match(warnings[0]!, /scratch/);
  });

  test('a state file that disappeared while points exist is rebuilt from the newest point', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const first = await openStore(sb);
    await first.state.updateState({ data: { remembered: 1 } });
    const point = (await first.recovery.createRecoveryPoint())!;
    await first.close();
    await fs.rm(path.join(sb.store, 'state.json'));
    const store = await openStore(sb);
    const warnings: string[] = [];
    store.state.onWarning((m) => warnings.push(m));
    const state = await store.state.getState();
    assert.deepEqual(state.data, { remembered: 1 });
    assert.equal(state.newestPointId, point.id);
    assert.equal(warnings.length, 1);
    assert.ok((await auditEntries(store)).some((e) => e.action === 'recover-state' && e.pointId === point.id));
  });

  test('an old-schema state file (schema 0, no schemaVersion) is migrated, not rejected', async () => {
    const sb = await makeSandbox();
    await fs.mkdir(sb.store, { recursive: true });
    await fs.writeFile(path.join(sb.store, 'state.json'), JSON.stringify({ version: 7, updatedAt: '2024-03-26T10:00:00.000Z', data: { legacy: 'kept' } }));
    const store = await openStore(sb);
    const warnings: string[] = [];
    store.state.onWarning((m) => warnings.push(m));
    const state = await store.state.getState();
    assert.equal(state.version, 7);
    assert.deepEqual(state.data, { legacy: 'kept' });
    assert.equal(state.schemaVersion, SCHEMA_VERSION);
    assert.deepEqual(warnings, []);
    assert.equal(await fs.readdir(path.join(sb.store, 'quarantine')).catch(() => 'none'), 'none');
    const next = await store.state.updateState({ data: { added: 1 } });
    assert.equal(next.version, 8);
    const onDisk = await readJson<ContextState>(path.join(sb.store, 'state.json'));
    assert.equal(onDisk.schemaVersion, SCHEMA_VERSION, 'written back in the current schema');
    assert.deepEqual(onDisk.data, { legacy: 'kept', added: 1 });
  });
});
