import assert from 'node:assert/strict';
import fsCallbacks from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { pointIdTime } from '../../src/core/ids';
import { rulesDigest } from '../../src/core/state/persistenceManager';
import type { Logger } from '../../src/core/logger';
import type { PointIndex } from '../../src/core/schemas';
import { cleanupAll, exists, listModes, makeSandbox, openStore, readFiles, readJson, writeFiles } from './helpers/storeFixtures';
import { hasPoint, manifestOf, pointIdAt, recordedPointIds, writeManifest } from './helpers/storePoints';

after(cleanupAll);

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug: () => undefined, info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
}

describe('PersistenceManager: the points folder and its index', () => {
  test('a corrupt points/index.json is rebuilt from the manifests without anyone noticing', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint(undefined, { label: 'first' }))!;
    await writeFiles(sb.ws, { 'a.txt': 'b\n' });
    const b = (await store.recovery.createRecoveryPoint())!;
    const indexFile = path.join(sb.store, 'points', 'index.json');
    for (const damage of ['{"schemaVersion":1,"points":[{"id":1}]}', 'not json at all', '']) {
      await fs.writeFile(indexFile, damage);
      const reader = await openStore(sb, { actor: 'test:reader', logger: recordingLogger() });
      const list = await reader.recovery.listRecoveryPoints();
      assert.deepEqual(
        list.map((p) => [p.id, p.label]),
        [
          [b.id, null],
          [a.id, 'first'],
        ],
      );
      const rebuilt = await readJson<PointIndex>(indexFile);
      assert.deepEqual(
        rebuilt.points.map((p) => p.id),
        [b.id, a.id],
        'the index is written again',
      );
    }
  });

  test('a new point appends one line to the index journal instead of rewriting the index; every reader lists both', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint(undefined, { label: 'first' }))!;
    const indexFile = path.join(sb.store, 'points', 'index.json');
    const journalFile = path.join(sb.store, 'points', 'index.journal');
    const before = await fs.stat(indexFile);
    const points = [a];
    for (const content of ['b\n', 'c\n']) {
      await writeFiles(sb.ws, { 'a.txt': content });
      points.unshift((await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!);
    }
    const after = await fs.stat(indexFile);
    assert.deepEqual([after.ino, after.size, after.mtimeMs], [before.ino, before.size, before.mtimeMs], 'the index document is not rewritten for a new point');
    assert.equal((await fs.readFile(journalFile, 'utf8')).trim().split('\n').length, 2, 'one journal line per point');
    const reader = await openStore(sb, { actor: 'test:reader' });
    assert.deepEqual(
      (await reader.recovery.listRecoveryPoints()).map((p) => [p.id, p.label]),
      points.map((p) => [p.id, p.label]),
    );
    // A label rewrites the document under a new generation: the journal's older copy of that point no longer applies.
    await reader.persistence.setLabel(points[0]!.id, 'kept');
    assert.equal(await exists(journalFile), false, 'the journal is folded into the document');
    assert.deepEqual(
      (await store.recovery.listRecoveryPoints()).map((p) => p.label),
      ['kept', null, 'first'],
    );
  });

  test("an index written by an older version (no generation) is read, and its journal lines ignored; the next point writes it whole", async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'b\n' });
    const b = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!;
    const indexFile = path.join(sb.store, 'points', 'index.json');
    const journalFile = path.join(sb.store, 'points', 'index.journal');
    assert.ok(await exists(journalFile));
    // What the version before the journal writes after labelling b: every summary, no generation, the journal left as it was.
    const old = await readJson<PointIndex & { generation?: string }>(indexFile);
    const { generation: _dropped, ...rest } = old;
    const bSummary = JSON.parse((await fs.readFile(journalFile, 'utf8')).trim()).add;
    await fs.writeFile(indexFile, JSON.stringify({ ...rest, points: [{ ...bSummary, label: 'by the old version' }, ...rest.points] }));
    const reader = await openStore(sb, { actor: 'test:reader' });
    assert.deepEqual(
      (await reader.recovery.listRecoveryPoints()).map((p) => [p.id, p.label]),
      [
        [b.id, 'by the old version'],
        [a.id, null],
      ],
      "the older version's document wins over the journal's stale line",
    );
    await writeFiles(sb.ws, { 'a.txt': 'c\n' });
    const c = (await reader.recovery.createRecoveryPoint(undefined, { trigger: 'save' }))!;
    const upgraded = await readJson<PointIndex & { generation?: string }>(indexFile);
    assert.ok(upgraded.generation, 'written whole, with a generation');
    assert.deepEqual(
      upgraded.points.map((p) => [p.id, p.label]),
      [
        [c.id, null],
        [b.id, 'by the old version'],
        [a.id, null],
      ],
    );
    assert.equal(await exists(journalFile), false);
  });

  test('a journal line lost or torn by a crash: the point is listed from its manifest and the index written whole', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const ids = [(await store.recovery.createRecoveryPoint())!.id];
    for (const content of ['b\n', 'c\n']) {
      await writeFiles(sb.ws, { 'a.txt': content });
      ids.unshift((await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }))!.id);
    }
    const journalFile = path.join(sb.store, 'points', 'index.journal');
    const lines = (await fs.readFile(journalFile, 'utf8')).split('\n');
    // the last line cut half way (killed while appending)
    await fs.writeFile(journalFile, `${lines[0]}\n${lines[1]!.slice(0, 40)}`);
    const reader = await openStore(sb, { actor: 'test:reader' });
    assert.deepEqual((await reader.recovery.listRecoveryPoints()).map((p) => p.id), ids);
    assert.equal(await exists(journalFile), false, 'the listing wrote the index whole');
    const index = await readJson<PointIndex>(path.join(sb.store, 'points', 'index.json'));
    assert.deepEqual(index.points.map((p) => p.id), ids);
  });

  test('a manifest written without its index update (a crash) is still listed; a deleted one is not', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    // Simulate a crash between the manifest and the index: copy a manifest under a newer id, index untouched.
    const manifest = await manifestOf(sb.store, a.id);
    const crashedId = pointIdAt(pointIdTime(a.id) + 1000);
    await writeManifest(sb.store, { ...manifest, id: crashedId, parentId: a.id });
    const other = await openStore(sb, { actor: 'test:other' });
    assert.deepEqual(
      (await other.recovery.listRecoveryPoints()).map((p) => p.id),
      [crashedId, a.id],
    );
    assert.deepEqual(
      (await store.recovery.listRecoveryPoints()).map((p) => p.id),
      [crashedId, a.id],
      'also in the process that wrote the index',
    );
    // It restores like any other point.
    await writeFiles(sb.ws, { 'a.txt': 'changed\n' });
    await store.recovery.restore(crashedId);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a\n');
    // A manifest removed behind the index's back disappears from the list.
    await fs.rm(path.join(sb.store, 'points', `${crashedId}.json`));
    assert.equal((await other.recovery.listRecoveryPoints()).some((p) => p.id === crashedId), false);
  });

  test('a corrupt manifest not in the index is not listed, and a warning says so', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const logger = recordingLogger();
    const store = await openStore(sb, { logger });
    const a = (await store.recovery.createRecoveryPoint())!;
    const brokenId = pointIdAt(Date.now() + 1000);
    await fs.writeFile(path.join(sb.store, 'points', `${brokenId}.json`), '{"schemaVersion":1,"id":');
    const list = await store.recovery.listRecoveryPoints();
    assert.deepEqual(
      list.map((p) => p.id),
      [a.id],
    );
    assert.ok(logger.warnings.some((w) => w.includes(brokenId) && /damaged/.test(w)), logger.warnings.join('\n'));
    // Other files in the folder are ignored.
    await fs.writeFile(path.join(sb.store, 'points', 'notes.json'), '{}');
    await fs.writeFile(path.join(sb.store, 'points', `${a.id}.json.1234abcd`), 'temporary of an interrupted write');
    assert.deepEqual(
      (await store.recovery.listRecoveryPoints()).map((p) => p.id),
      [a.id],
    );
  });

  test('a new point sorts after every listed point, even when the clock went back or another machine wrote a later id', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    const manifest = await manifestOf(sb.store, a.id);
    const futureId = pointIdAt(Date.now() + 3_600_000);
    await writeManifest(sb.store, { ...manifest, id: futureId, parentId: a.id });
    await writeFiles(sb.ws, { 'a.txt': 'b\n' });
    const b = (await store.recovery.createRecoveryPoint())!;
    assert.equal(b.parentId, futureId, 'its parent is the newest point');
    const list = await store.recovery.listRecoveryPoints();
    assert.equal(list[0]!.id, b.id, 'and it is listed as the newest');
    assert.equal((await store.state.getState()).newestPointId, b.id);
  });

  test('labels change only the label: the rest of the manifest stays as written', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    await store.persistence.setLabel(a.id, 'x'.repeat(500));
    const labelled = (await store.persistence.loadSnapshot(a.id))!;
    assert.equal(labelled.label, 'x'.repeat(200), 'labels are cut to 200 characters');
    assert.deepEqual({ ...labelled, label: null }, a);
  });

  test('a point killed between its record (its pack; in format 1 its manifest file too) and its index journal line is listed', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'a.txt': 'b\n' });
    const journal = path.join(sb.store, 'points', 'index.journal');
    const appendFileSync = fsCallbacks.appendFileSync;
    let killed = 0;
    fsCallbacks.appendFileSync = ((file: fsCallbacks.PathOrFileDescriptor, data: string | Uint8Array, options?: fsCallbacks.WriteFileOptions) => {
      if (file === journal) {
        killed++;
        throw Object.assign(new Error('killed'), { code: 'EIO' });
      }
      return appendFileSync(file, data, options);
    }) as typeof fsCallbacks.appendFileSync;
    try {
      await assert.rejects(store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] }));
    } finally {
      fsCallbacks.appendFileSync = appendFileSync;
    }
    assert.equal(killed, 1);
    const recorded = recordedPointIds(sb.store);
    assert.equal(recorded.length, 2, 'the point was recorded before the journal line');
    const reader = await openStore(sb, { actor: 'test:reader' });
    const listed = await reader.recovery.listRecoveryPoints();
    assert.deepEqual(listed.map((p) => p.id), [recorded[0], a.id]);
    const index = await readJson<PointIndex>(path.join(sb.store, 'points', 'index.json'));
    assert.deepEqual(index.points.map((p) => p.id), listed.map((p) => p.id), 'the listing wrote the index whole');
  });

  test('a label interrupted between its manifest and the index (a crash) is listed as its manifest says', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const store = await openStore(sb);
    const a = (await store.recovery.createRecoveryPoint())!;
    // Once the new manifest is in place, putting an index in place fails: the process died there.
    const manifest = path.join(sb.store, 'points', `${a.id}.json`);
    // The small documents of a point are written with synchronous calls; either form may be used.
    const rename = fsCallbacks.rename;
    const renameSync = fsCallbacks.renameSync;
    let manifestWritten = false;
    const killedAt = (to: string) => {
      if (to === manifest) manifestWritten = true;
      return manifestWritten && path.basename(to) === 'index.json';
    };
    fsCallbacks.rename = ((from: string, to: string, callback: (error: NodeJS.ErrnoException | null) => void) => {
      if (killedAt(to)) return callback(Object.assign(new Error('killed'), { code: 'EIO' }));
      return rename(from, to, callback);
    }) as typeof fsCallbacks.rename;
    fsCallbacks.renameSync = ((from: string, to: string) => {
      if (killedAt(to)) throw Object.assign(new Error('killed'), { code: 'EIO' });
      return renameSync(from, to);
    }) as typeof fsCallbacks.renameSync;
    try {
      await assert.rejects(store.persistence.setLabel(a.id, 'pinned'));
    } finally {
      fsCallbacks.rename = rename;
      fsCallbacks.renameSync = renameSync;
    }
    assert.equal(manifestWritten, true);
    const reader = await openStore(sb, { actor: 'test:reader', retention: { maxRecoveryPoints: 1, maxAgeDays: 0, maxTotalBytes: 0 } });
    assert.deepEqual(
      (await reader.recovery.listRecoveryPoints()).map((p) => [p.id, p.label]),
      [[a.id, 'pinned']],
      'the listing agrees with the manifest, so clean-up treats the point as pinned',
    );
  });

  test('a store folder inside the workspace is never captured nor touched by a restore', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const storeDir = path.join(sb.ws, '.recovery-store');
    const store = await openStore(sb, { storeDir });
    const a = (await store.recovery.createRecoveryPoint())!;
    assert.equal(a.fileCount, 1);
    await writeFiles(sb.ws, { 'a.txt': 'b\n' });
    const b = (await store.recovery.createRecoveryPoint())!;
    assert.equal(b.fileCount, 1);
    await store.recovery.restore(a.id);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a\n');
    assert.ok(await hasPoint(storeDir, b.id));
    assert.equal((await store.recovery.verify()).ok, true);
  });
});

describe('store permissions', () => {
  test('every folder of the store is 0700 and every file 0600, after every kind of write', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'dir/b.txt': 'b\n' });
    const store = await openStore(sb);
    await store.state.updateState({ data: { k: 1 } });
    const a = (await store.recovery.createRecoveryPoint(undefined, { label: 'x' }))!;
    await writeFiles(sb.ws, { 'a.txt': 'changed\n' });
    const b = (await store.recovery.createRecoveryPoint())!;
    await store.persistence.setLabel(b.id, 'y');
    await store.recovery.restore(a.id);
    await store.recovery.undoLastRestore();
    await store.recovery.deletePoints([b.id]);
    await store.recovery.cleanupRecoveryPoints();
    await fs.writeFile(path.join(sb.store, 'state.json'), 'garbage');
    await store.state.syncState(); // quarantines the state file
    await store.close();
    const modes = await listModes(sb.store);
    assert.ok(modes.some((m) => m.rel.startsWith('quarantine/')));
    assert.ok(modes.some((m) => m.rel.endsWith('.pack')));
    assert.ok(modes.some((m) => m.rel === 'audit.log.jsonl'));
    assert.ok(modes.some((m) => m.rel === 'points/index.json'));
    const wrong = modes.filter((m) => m.mode !== (m.kind === 'dir' ? 0o700 : 0o600)).map((m) => `${m.rel} ${m.mode.toString(8)}`);
    assert.deepEqual(wrong, []);
    assert.equal(((await fs.stat(sb.store)).mode & 0o777).toString(8), '700');
    // The restore wrote files in the workspace with their own modes, not the store's.
    assert.equal((await readFiles(sb.ws))['a.txt'], 'file 644 changed\n');
  });

  test('opening a store takes group and others\' access away but never adds a permission its owner took away', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    await (await openStore(sb)).close();
    await fs.chmod(path.join(sb.store, 'points'), 0o555);
    await fs.chmod(sb.store, 0o555);
    try {
      const reader = await openStore(sb);
      await reader.recovery.listRecoveryPoints();
      await reader.close();
      assert.equal(((await fs.stat(sb.store)).mode & 0o777).toString(8), '500', 'the store folder: write stays off, others\' access is taken away');
      assert.equal(((await fs.stat(path.join(sb.store, 'points'))).mode & 0o777).toString(8), '500');
    } finally {
      await fs.chmod(sb.store, 0o700);
      await fs.chmod(path.join(sb.store, 'points'), 0o700);
    }
  });

  test('an audit entry that cannot be written after the point is made: the point is made and said to be, with a warning', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const logger = recordingLogger();
    const store = await openStore(sb, { logger });
    store.persistence.audit.append = () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    const point = await store.recovery.createRecoveryPoint();
    assert.ok(point, 'the point is reported as made');
    assert.deepEqual((await store.recovery.listRecoveryPoints()).map((p) => p.id), [point.id]);
    assert.ok(logger.warnings.some((w) => w.includes(`create of recovery point ${point.id} was done, but its audit log entry could not be written`)), logger.warnings.join('\n'));
  });
});

describe('rulesDigest', () => {
  test('remembers only the last rules it was asked about: any field that changes gives another digest, and asking again the same one', () => {
    const base = { respectGitignore: true, excludes: ['dist/', '*.log'], excludeSecrets: true, maxFileSize: 1024 };
    const variants = [
      base,
      { ...base, respectGitignore: false },
      { ...base, excludeSecrets: false },
      { ...base, maxFileSize: 2048 },
      { ...base, excludes: ['dist/'] },
      { ...base, excludes: ['dist/', '*.log', 'out/'] },
    ];
    const first = variants.map((rules) => rulesDigest(rules));
    assert.equal(new Set(first).size, variants.length);
    // asked in turns, each answer is still the one of its own rules
    for (const i of [0, 3, 3, 1, 5, 0, 2, 4, 4, 0]) assert.equal(rulesDigest(variants[i]!), first[i]);
    // the digest depends on the set of patterns, not their order
    assert.equal(rulesDigest({ ...base, excludes: ['*.log', 'dist/'] }), first[0]);
    // the same array changed in place is not taken for the rules asked before
    const excludes = ['dist/', '*.log'];
    const live = { ...base, excludes };
    assert.equal(rulesDigest(live), first[0]);
    excludes.pop();
    assert.equal(rulesDigest(live), first[4]);
  });
});
