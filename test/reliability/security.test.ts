/**
 * Reliability suite 5: security. The store is owner-only after every kind of write (even under umask
 * 000); secrets the default excludes name never reach the store's bytes (every record of every pack
 * inflated, every manifest, the index, the capture cache, the audit log, the quarantine); nothing
 * outside the workspace is read into a point or written by a restore; the audit log names the actor of
 * every state change.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeObject } from '../../src/core/objects/compression';
import { scanPackRecords } from '../../src/core/objects/packFile';
import type { RecoveryStore } from '../../src/core/recoveryStore';
import { auditEntries, cleanupAll, damageObject, listModes, makeSandbox, openStore, readFiles, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';
import { lookupEntry } from '../../src/core/capture';

after(cleanupAll);

/** Every byte the store holds, as decoded text: files as they are, and every pack record inflated. */
async function storeContents(storeDir: string): Promise<{ text: string; files: number; records: number }> {
  const parts: string[] = [];
  let files = 0;
  let records = 0;
  for (const entry of await fs.readdir(storeDir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files++;
    parts.push((await fs.readFile(file)).toString('latin1'));
    if (entry.name.endsWith('.pack') || entry.name.endsWith('.partial')) {
      for await (const record of scanPackRecords(file)) {
        records++;
        const raw = await decodeObject(record.data, record.codec, record.rawSize).catch(() => record.data);
        parts.push(raw.toString('latin1'));
      }
    }
  }
  return { text: parts.join('\n'), files, records };
}

async function canaryUntouched(sb: Sandbox, before: Record<string, string>): Promise<void> {
  assert.deepEqual(await readFiles(sb.canary), before, 'the canary folder is unchanged');
  assert.deepEqual((await fs.readdir(sb.root)).sort(), ['canary', 'store', 'ws'], 'nothing was written beside the workspace');
}

describe('the store is owner-only', () => {
  test('every folder 0700 and every file 0600 after points, labels, restores, undo, deletion, clean-up, garbage collection, repair and quarantine, even under umask 000', async (t) => {
    const previous = process.umask(0);
    try {
      const sb = await makeSandbox('rp-security-');
      await writeFiles(sb.ws, { 'a.txt': 'a\n', 'dir/b.txt': 'b\n'.repeat(100), 'bin/run.sh': { content: '#!/bin/sh\n', mode: 0o755 } });
      const store = await openStore(sb, { retention: { maxRecoveryPoints: 3 } });
      await store.state.updateState({ data: { k: 1 } });
      const first = (await store.recovery.createRecoveryPoint(undefined, { label: 'kept' }))!;
      for (let i = 0; i < 5; i++) {
        await writeFiles(sb.ws, { 'a.txt': `change ${i}\n`, [`new${i}.txt`]: `${i}\n` });
        await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: ['ws/a.txt', `ws/new${i}.txt`] });
      }
      const points = await store.recovery.listRecoveryPoints();
      await store.persistence.setLabel(points[1]!.id, 'labelled');
      await store.recovery.restore(first.id);
      await store.recovery.undoLastRestore();
      await store.recovery.restoreFile(first.id, 'ws/a.txt');
      await store.recovery.deletePoints([points[2]!.id]);
      await store.recovery.cleanupRecoveryPoints();
      await store.recovery.collectGarbage();
      // damage: a pack (salvaged and quarantined), a manifest and the state file (quarantined)
      const newest = (await store.recovery.listRecoveryPoints())[0]!;
      const entry = await lookupEntry(await store.persistence.objects(), newest.root, 'ws/a.txt');
      await damageObject(sb.store, entry!.hash);
      const victim = (await store.recovery.listRecoveryPoints()).at(-1)!;
      await fs.writeFile(path.join(sb.store, 'points', `${victim.id}.json`), '{ broken', { mode: 0o600 });
      const repaired = await store.recovery.verify({ repair: true });
      assert.ok(repaired.repaired && repaired.repaired.pointsQuarantined > 0);
      await fs.writeFile(path.join(sb.store, 'state.json'), 'garbage', { mode: 0o600 });
      await store.state.syncState();
      // files older than the racy window, so the capture cache records (and saves) them
      const past = new Date(Date.now() - 60_000);
      for (const rel of Object.keys(await readFiles(sb.ws))) await fs.utimes(path.join(sb.ws, rel), past, past).catch(() => undefined);
      await store.recovery.createRecoveryPoint();
      await store.close();

      const modes = await listModes(sb.store);
      for (const expected of ['quarantine/', 'objects/', 'points/index.json', 'cache/capture-cache.json', 'audit.log.jsonl', 'state.json']) {
        assert.ok(modes.some((m) => m.rel.startsWith(expected)), `${expected} exists`);
      }
      assert.ok(modes.some((m) => m.rel.startsWith('quarantine/') && m.rel.endsWith('.pack')), 'a quarantined pack');
      assert.ok(modes.some((m) => m.rel.startsWith('quarantine/') && m.rel.endsWith('.reason.txt')), 'a quarantine reason');
      const wrong = modes.filter((m) => m.mode !== (m.kind === 'dir' ? 0o700 : 0o600)).map((m) => `${m.rel} ${m.mode.toString(8)}`);
      assert.deepEqual(wrong, [], 'every folder 0700, every file 0600');
      assert.equal((await fs.stat(sb.store)).mode & 0o777, 0o700);
      assert.equal(await fs.stat(`${sb.store}.lock`).then(() => true, () => false), false, 'no lock left behind');
      t.diagnostic(`${modes.filter((m) => m.kind === 'file').length} files and ${modes.filter((m) => m.kind === 'dir').length} folders checked under umask 000`);
    } finally {
      process.umask(previous);
    }
  });
});

describe('secrets stay out of the store', () => {
  test('the default secret excludes hold in full scans, hint captures, restores and comparisons: no marker in any byte of the store', async (t) => {
    const sb = await makeSandbox('rp-security-');
    const marker = (name: string) => `SECRET-MARKER-${name.replace(/[^a-z0-9]/gi, '_')}-${randomBytes(6).toString('hex')}`;
    const secretPaths = [
      '.env',
      '.env.local',
      '.ENV.production',
      'config/.env.test',
      'id_rsa',
      'home/.ssh/id_ed25519',
      'home/.ssh/config',
      'keys/server.pem',
      'keys/Server.PEM',
      'tls/site.key',
      'certs/client.p12',
      '.aws/credentials',
      '.aws/config',
      'credentials.json',
      'gcp/service.credentials.json',
      'credentials',
      '.npmrc',
      'sub/project/.npmrc',
      '.pypirc',
      '.netrc',
      '.git-credentials',
      '.docker/config.json',
      '.kube/config',
      'secrets.json',
      'infra/prod.tfvars',
      '.vault-token',
      // #9: names the first list missed, and the backup and swap copies of excluded secrets
      '.envrc',
      '.env_local',
      '.env-dev',
      'config/secrets.yaml',
      'putty/server.ppk',
      '.pgpass',
      '.s3cfg',
      '.netrc.bak',
      '.npmrc.swp',
      '.npmrc~',
      '.npmrc.bak',
      'id_rsa~',
      'id_rsa.bak',
      '.id_rsa.swp',
      'credentials.json.bak',
      '.git-credentials.orig',
      'keys/server.pem.old',
      'keys/.server.key.swo',
      '.env.local.save',
      'infra/prod.tfvars.tmp',
      '.ssh.bak/id_ed25519',
      '.kube/config~',
      'gcp/service-account.json',
      'gcp/gcloud-key.json',
      'web/.htpasswd',
      '.my.cnf',
      '.boto',
      '.terraformrc',
      'kubeconfig',
      '.dockercfg',
      'id_ecdsa_sk',
      'vpn/office.ovpn',
      'wallet.dat',
    ];
    // Templates hold no secret: they are captured.
    const templates = ['.env.example', '.env.sample', '.env.template', '.env.dist', 'app/.env.example'];
    const secrets = new Map(secretPaths.map((p) => [p, marker(p)]));
    const contentOf = (p: string, m: string) => (p.endsWith('.npmrc') ? `//registry.npmjs.org/:_authToken=${m}\n` : p.endsWith('.json') ? JSON.stringify({ token: m }) : `TOKEN=${m}\n`);
    const control = marker('control');
    await writeFiles(sb.ws, {
      'README.md': `# project\n${control}\n`,
      'src/app.ts': 'export const app = 1;\n',
      ...Object.fromEntries([...secrets].map(([p, m]) => [p, contentOf(p, m)])),
      ...Object.fromEntries(templates.map((p) => [p, `API_KEY=replace-me ${control}-${p}\n`])),
    });
    const store = await openStore(sb);
    const first = (await store.recovery.createRecoveryPoint())!;
    const captured = await store.recovery.changedFiles(first.id);
    assert.deepEqual(
      templates.filter((p) => !captured.added.some((c) => c.path === `ws/${p}`)),
      [],
      'every template is captured',
    );
    // Secrets changed and named in a hint (as a save in the editor would), then a full scan, a restore and a comparison.
    for (const [p, m] of secrets) await writeFiles(sb.ws, { [p]: contentOf(p, `${m}-v2`) });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [...secrets.keys()].map((p) => `ws/${p}`) });
    await writeFiles(sb.ws, { 'src/app.ts': 'export const app = 2;\n' });
    await store.recovery.createRecoveryPoint();
    await store.recovery.diff(first.id);
    await store.recovery.previewRestore(first.id);
    await store.recovery.restore(first.id);
    await store.recovery.undoLastRestore();
    await store.state.updateState({ data: { note: 'after' } });
    await store.close();

    // The restore neither deleted nor changed the secrets in the workspace.
    const files = await readFiles(sb.ws);
    for (const [p, m] of secrets) assert.ok(files[p]?.includes(`${m}-v2`), `${p} is untouched in the workspace`);

    const { text, files: scanned, records } = await storeContents(sb.store);
    assert.ok(text.includes(control), 'the scan sees the content of captured files (it would see a secret)');
    const leaked = [...secrets].filter(([, m]) => text.includes(m)).map(([p]) => p);
    assert.deepEqual(leaked, [], 'no secret content anywhere in the store');
    t.diagnostic(`${secrets.size} secret files (${secrets.size * 2} markers), ${scanned} store files and ${records} pack records (inflated) scanned: no marker found`);
  });
});

describe('nothing outside the workspace is read or written', () => {
  test('links to outside are stored as links, never followed; restores never write through them', async (t) => {
    const sb = await makeSandbox('rp-security-');
    const outsideMarker = `OUTSIDE-MARKER-${randomBytes(6).toString('hex')}`;
    await writeFiles(sb.canary, { 'secret.txt': `${outsideMarker}\n`, 'dir/inner.txt': `${outsideMarker} inner\n` });
    const canaryBefore = await readFiles(sb.canary);
    await writeFiles(sb.ws, {
      'a.txt': 'a\n',
      'to-file': { symlink: '../canary/secret.txt' },
      'to-dir': { symlink: '../canary' },
      'to-abs': { symlink: path.join(sb.canary, 'dir') },
      'to-root': { symlink: '/' },
      'nested/up': { symlink: '../../canary/dir' },
    });
    const wsBefore = await readFiles(sb.ws);
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint())!;
    assert.equal(point.fileCount, 6, 'the links count as entries, nothing behind them');
    const { text } = await storeContents(sb.store);
    assert.ok(!text.includes(outsideMarker), 'no byte from outside the workspace is in the store');

    // Replace the links by folders and files, then restore: the links come back as links.
    await writeFiles(sb.ws, { 'to-file': 'now a file\n', 'to-dir': null, 'to-dir/x.txt': 'x\n', 'to-abs': null, 'nested/up': 'file\n' });
    await store.recovery.restore(point.id);
    assert.deepEqual(await readFiles(sb.ws), wsBefore);
    await canaryUntouched(sb, canaryBefore);

    // The opposite: a point with real folders restored where the workspace now has links to outside.
    await writeFiles(sb.ws, { 'to-dir': null, 'to-dir/x.txt': 'inside\n', 'nested/up': null, 'nested/up/y.txt': 'inside\n' });
    const withFolders = (await store.recovery.createRecoveryPoint())!;
    await writeFiles(sb.ws, { 'to-dir': { symlink: '../canary' }, 'nested/up': { symlink: '../../canary/dir' }, '.gitignore': 'to-dir\nnested/up\n' });
    const result = await store.recovery.restore(withFolders.id);
    await canaryUntouched(sb, canaryBefore);
    t.diagnostic(`restore through links: ${result.outcome.written.length} written, ${result.outcome.skipped.length} skipped (${[...new Set(result.outcome.skipped.map((s) => s.reason))].join('; ')})`);
    await store.close();
  });
});

describe('the audit log', () => {
  test('every state change is recorded with the actor that made it', async () => {
    const sb = await makeSandbox('rp-security-');
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const alice = await openStore(sb, { actor: 'test:alice', retention: { maxRecoveryPoints: 2 } });
    const bob = await openStore(sb, { actor: 'test:bob', retention: { maxRecoveryPoints: 2 } });
    const made: Array<[RecoveryStore, string]> = [];
    const point = async (who: RecoveryStore, content: string) => {
      await writeFiles(sb.ws, { 'a.txt': content });
      const p = (await who.recovery.createRecoveryPoint())!;
      made.push([who, p.id]);
      return p;
    };
    const p1 = await point(alice, 'one\n');
    const p2 = await point(bob, 'two\n');
    await point(alice, 'three\n');
    await alice.persistence.setLabel(p1.id, 'first');
    await bob.state.updateState({ data: { from: 'bob' } });
    await alice.state.updateState({ data: { from: 'alice' } });
    const restored = await bob.recovery.restore(p2.id);
    await alice.recovery.undoLastRestore();
    await bob.recovery.deletePoints([p2.id]);
    await point(bob, 'four\n');
    await point(bob, 'five\n');
    const cleanup = await alice.recovery.cleanupRecoveryPoints();
    await bob.recovery.collectGarbage();
    await fs.writeFile(path.join(sb.store, 'state.json'), 'garbage');
    await alice.state.syncState();
    await bob.recovery.verify({ repair: true });

    const entries = await auditEntries(alice);
    const actorOf = (store: RecoveryStore) => (store === alice ? 'test:alice' : 'test:bob');
    const find = (action: string, pointId?: string) => entries.filter((e) => e.action === action && (pointId === undefined || e.pointId === pointId));
    for (const [who, id] of made) assert.deepEqual(find('create', id).map((e) => e.actor), [actorOf(who)], `creation of ${id}`);
    assert.deepEqual(find('create', restored.safetyPointId).map((e) => e.actor), ['test:bob'], 'the safety point');
    assert.deepEqual(find('label', p1.id).map((e) => e.actor), ['test:alice']);
    assert.deepEqual(find('restore', p2.id).map((e) => e.actor), ['test:bob']);
    assert.deepEqual(find('restore', restored.safetyPointId).map((e) => e.actor), ['test:alice'], 'the undo');
    assert.deepEqual(find('delete').map((e) => [e.actor, e.details?.ids]), [['test:bob', [p2.id]]]);
    const cleanups = find('cleanup');
    assert.equal(cleanups.length, 1);
    assert.equal(cleanups[0]!.actor, 'test:alice');
    assert.equal((cleanups[0]!.details?.ids as string[]).length, cleanup.removedPoints, 'the clean-up names the points it removed');
    assert.deepEqual(find('gc').map((e) => e.actor), ['test:bob']);
    assert.deepEqual(find('recover-state').map((e) => e.actor), ['test:alice']);
    // Every state version written by an update is in the log, with the writer the state file names.
    const stateEntries = find('state');
    assert.ok(stateEntries.some((e) => e.actor === 'test:bob'), 'bob’s state update');
    assert.ok(stateEntries.some((e) => e.actor === 'test:alice'), 'alice’s state update');
    const versions = stateEntries.map((e) => e.details?.version as number);
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'versions only increase');
    assert.ok(entries.every((e) => e.actor === 'test:alice' || e.actor === 'test:bob'), 'no entry without its actor');
  });
});
