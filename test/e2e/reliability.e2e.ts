// Reliability in the real extension host (issue #5, suite 6), through the workbench in headless
// Chromium: two windows on one folder saving at once, a window reloaded while a point is being
// written, files changed while the server was down, a save whose point still waited when the editor
// was killed, and a damaged store at start-up. Checked on the
// store itself with the command-line tool (verify, list, diff) and in every window's tree view.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { E2EStep } from './e2eContext';
import { StoreOnDisk, waitUntil, type AuditRow, type PointRow } from './storeOnDisk';
import { Workbench } from './workbench';

/** Every save is its own point, so two windows saving at once write many points concurrently. */
export const settings = { 'recoveryPoints.mergeWindowSeconds': 0 };

const SAVES_PER_WINDOW = 6;
/** The big change written on disk while the window reloads: enough content that its capture takes a while. */
const BULK_FILES = 400;
const BULK_FILE_BYTES = 48 * 1024;

let wb: Workbench;
let store: StoreOnDisk;

function createdBy(audit: readonly AuditRow[]): Map<string, string> {
  return new Map(audit.filter((entry) => entry.action === 'create' && entry.pointId).map((entry) => [entry.pointId!, entry.actor]));
}

/** The store is whole: verify finds nothing broken, every id is listed once, the state file is valid and names no missing point. */
/** `lostContent`: after damage and a repair, points that lost some files' content for good may stay (they restore the rest); nothing else may be wrong. */
async function assertStoreWhole(options: { lostContent?: boolean } = {}): Promise<PointRow[]> {
  const report = await store.verify();
  const lostOnly = options.lostContent === true && !report.needsRepair && report.brokenPoints.every((p) => p.restorable);
  assert.ok(report.ok || lostOnly, `verify: ${JSON.stringify(report)}`);
  const points = await store.list();
  assert.equal(new Set(points.map((p) => p.id)).size, points.length, 'no point id is listed twice');
  // Points do not rewrite the state file (the newest point's id is derived from the points when the
  // state is read); the file holds it as of its last update, which must name a listed point.
  const state = JSON.parse(fs.readFileSync(store.stateFile, 'utf8')) as { newestPointId: string | null };
  assert.ok(state.newestPointId === null || points.some((p) => p.id === state.newestPointId), `the state file names a listed point (${state.newestPointId})`);
  return points;
}

/** A message for people: no stack trace, no source positions. */
function assertPlain(text: string): void {
  assert.doesNotMatch(text, /\n\s+at |\bat .+\.(js|ts):\d+|Error:/, `a plain message: ${text}`);
}

/** The names of the files in the store's quarantine folder. */
function quarantined(): string[] {
  return fs.existsSync(store.quarantineDir) ? fs.readdirSync(store.quarantineDir) : [];
}

/** Saves `count` edits of the active editor one after another, each a new last line. */
async function saveRepeatedly(window: Workbench, tag: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await window.appendLine(`// ${tag} save ${i}`);
    await window.saveActiveEditor();
  }
}

/** The view's title shows the point count the store holds. */
async function viewShowsCount(window: Workbench, count: number): Promise<void> {
  await window.sideBarTitle().filter({ hasText: new RegExp(`\\b${count} points\\b`, 'i') }).waitFor();
}

export const steps: E2EStep[] = [
  {
    name: 'the window opens with the extension; the store has its start-up point',
    async run({ page, userDataDir, workspace, root }) {
      wb = new Workbench(page);
      await wb.ready();
      await wb.openActivity('Recovery Points');
      await wb.treeRow(/First recovery point/).waitFor();
      store = await StoreOnDisk.find(userDataDir, workspace, root);
      assert.equal((await assertStoreWhole()).length, 1);
    },
  },
  {
    name: 'two windows on the folder (two extension hosts) saving at once: every point kept once, the store whole, both trees show all points',
    async run({ newPage }) {
      const second: Page = await newPage();
      try {
        const wb2 = new Workbench(second);
        await wb2.ready();
        await wb2.openActivity('Recovery Points');
        await wb2.treeRow(/First recovery point/).waitFor();
        await wb.openFile('format.ts');
        await wb2.openFile('index.ts');

        await Promise.all([saveRepeatedly(wb, 'first window', SAVES_PER_WINDOW), saveRepeatedly(wb2, 'second window', SAVES_PER_WINDOW)]);
        await waitUntil('the newest point to hold both windows\' last saves', () => store.newestMatchesDisk(), 30_000);

        const points = await assertStoreWhole();
        const actors = createdBy(store.audit());
        const actorOf = (summary: string) => new Set(points.filter((p) => p.summary === summary).map((p) => actors.get(p.id)));
        const first = actorOf('Saved format.ts');
        const second_ = actorOf('Saved index.ts');
        assert.equal(first.size, 1, `one extension host made the first window's save points: ${[...first].join(', ')}`);
        assert.equal(second_.size, 1, `one extension host made the second window's save points: ${[...second_].join(', ')}`);
        assert.notEqual([...first][0], [...second_][0], 'each window has its own extension host');
        const listed = new Set(points.map((p) => p.id));
        const lost = [...actors.keys()].filter((id) => !listed.has(id));
        assert.deepEqual(lost, [], 'every point a window reported creating is listed');
        // VS Code gives the second window's extension host a storage folder of its own (<id>-1): both use the first one's store.
        assert.deepEqual(store.storesOfWorkspaceStorage(), [store.dir], 'one store for the folder');

        // Each window's tree shows the other window's points and the same count.
        await wb.treeRow(/Saved index\.ts/).waitFor();
        await wb2.treeRow(/Saved format\.ts/).waitFor();
        await viewShowsCount(wb, points.length);
        await viewShowsCount(wb2, points.length);
      } finally {
        await second.close();
      }
    },
  },
  {
    name: 'the window reloads while a big change is being captured: the store stays whole, nothing is lost, new points follow',
    async run({ workspace }) {
      await wb.page.keyboard.press('Escape');
      // The reload command waits in the command palette, so Enter reloads the moment the capture is seen.
      const input = await wb.openQuickOpen();
      await input.fill('>Developer: Reload Window');
      await wb.quickInput().locator('.monaco-list-row.focused').filter({ hasText: 'Reload Window' }).waitFor();

      const bulk = path.join(workspace, 'src', 'bulk');
      fs.mkdirSync(bulk, { recursive: true });
      for (let i = 0; i < BULK_FILES; i++) fs.writeFileSync(path.join(bulk, `part${i}.txt`), randomBytes(BULK_FILE_BYTES / 2).toString('hex'));
      let midCapture = false;
      await waitUntil('the capture of the big change to start', () => (midCapture = store.partialPacks().length > 0), 20_000).catch(() => undefined);
      await wb.page.keyboard.press('Enter');
      console.log(`      (reload ${midCapture ? 'while a pack was being written' : 'without seeing the pack being written'})`);

      await wb.page.waitForEvent('load');
      await wb.ready();
      await wb.openActivity('Recovery Points');
      await waitUntil('a point holding the big change (written before the reload, or at start-up after it)', () => store.newestMatchesDisk(), 60_000);
      const points = await assertStoreWhole();
      assert.ok(points.some((p) => p.summary.includes('part')), 'a point records the big change');

      // The view lists the store's points only once the extension is active, and so listens for saves.
      await viewShowsCount(wb, points.length);
      const before = points.length;
      await wb.openFile('cart.ts');
      await wb.appendLine('// after the reload');
      await wb.saveActiveEditor();
      await wb.treeRow(/Saved cart\.ts/).waitFor();
      await waitUntil('the save point in the store', async () => (await store.list()).length === before + 1);
    },
  },
  {
    name: 'files changed while the server was down: the start-up point after the restart records them',
    async run({ restartServer, workspace }) {
      await restartServer(async () => {
        fs.appendFileSync(path.join(workspace, 'src', 'cart.ts'), '// edited while VS Code was closed\n');
        fs.rmSync(path.join(workspace, 'src', 'format.ts'));
        fs.writeFileSync(path.join(workspace, 'src', 'offline.ts'), 'export const writtenOffline = true;\n');
      });
      await wb.ready();
      await wb.openActivity('Recovery Points');
      await wb.treeRow(/Changed while the editor was closed/).waitFor();
      const points = await assertStoreWhole();
      const startup = points[0]!;
      assert.equal(startup.trigger, 'startup');
      assert.deepEqual(startup.changes, { added: 1, modified: 1, deleted: 1 });
      const { data: shown } = await store.cli<{ changedFiles: { added: string[]; modified: string[]; deleted: string[] } }>('show', startup.id);
      assert.deepEqual(shown.changedFiles, { added: ['workspace/src/offline.ts'], modified: ['workspace/src/cart.ts'], deleted: ['workspace/src/format.ts'] });
      assert.equal(await store.newestMatchesDisk(), true);
    },
  },
  {
    name: 'a save whose point still waited when the editor was killed, the file changed on disk before the next start: that start makes the point, holding the file as it was saved',
    async run({ restartServer, workspace, userDataDir }) {
      const settingsFile = path.join(userDataDir, 'User', 'settings.json');
      const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
      // a merge window longer than the step: the save's point waits until the editor is killed
      await restartServer(async () => {
        fs.writeFileSync(settingsFile, JSON.stringify({ ...settings, 'recoveryPoints.mergeWindowSeconds': 600, 'recoveryPoints.mergeWindowMaxSeconds': 1200 }));
      });
      await wb.ready();
      await wb.openActivity('Recovery Points');
      await wb.treeRow(/Saved|Changed/).first().waitFor();
      const before = (await store.list()).length;
      const cart = path.join(workspace, 'src', 'cart.ts');
      await wb.openFile('cart.ts');
      await wb.appendLine('// saved just before the editor was killed');
      await wb.saveActiveEditor();
      await wb.page.locator('.statusbar-item', { hasText: 'pending' }).first().waitFor();
      const saved = fs.readFileSync(cart);
      assert.ok(saved.includes('saved just before the editor was killed'));
      // the window keeps the save in a folder named after its extension host's pid until its point is made
      const pendingDir = path.join(store.dir, 'pending-saves');
      let window: string | undefined;
      await waitUntil('the save kept on disk', () => (window = fs.existsSync(pendingDir) ? fs.readdirSync(pendingDir).find((name) => fs.readdirSync(path.join(pendingDir, name)).some((f) => f.endsWith('.save'))) : undefined) !== undefined);
      assert.equal((await store.list()).length, before, 'no point yet: the merge window waits');
      process.kill(Number(window!.split('.')[0]), 'SIGKILL');

      const checkedOut = '// cart.ts as another branch has it\n';
      await restartServer(async () => {
        fs.writeFileSync(cart, checkedOut);
        fs.writeFileSync(settingsFile, JSON.stringify(settings));
      });
      await wb.ready();
      await wb.openActivity('Recovery Points');
      await wb.treeRow(/Saved cart\.ts before the editor stopped/).waitFor();
      await wb.treeRow(/Changed while the editor was closed/).first().waitFor();
      const points = await assertStoreWhole();
      const recovered = points.find((p) => p.summary === 'Saved cart.ts before the editor stopped')!;
      assert.equal(recovered.trigger, 'save');
      assert.deepEqual(recovered.changes, { added: 0, modified: 1, deleted: 0 }, 'the point holds the save alone');
      const { data: inPoint } = await store.cli<{ content: string }>('cat', recovered.id, 'src/cart.ts');
      assert.equal(inPoint.content, saved.toString('utf8'), 'the point holds cart.ts as it was saved, not as the disk has it now');
      assert.equal(points[0]!.trigger, 'startup', 'the start-up point, after it, holds the file as the disk has it');
      assert.equal(await store.newestMatchesDisk(), true);
      assert.deepEqual(fs.readdirSync(pendingDir).filter((name) => fs.readdirSync(path.join(pendingDir, name)).length > 0), [], 'the kept save is gone once its point is made');
    },
  },
  {
    name: 'a damaged store at start-up (state file, a manifest, the newest pack): the extension starts, says so plainly, the manifest comes back from its pack (or, without one, is quarantined), Verify Store moves the damage to quarantine, new points are whole',
    async run({ restartServer, workspace }) {
      const points = await store.list();
      const packs = fs.readdirSync(store.objectsDir).filter((name) => name.endsWith('.pack')).map((name) => path.join(store.objectsDir, name));
      const newestPack = packs.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]!;
      // A point's pack keeps a copy of its manifest (named point-<id>-….pack) until a clean-up makes the file durable on its own
      const claimOf = (id: string) => packs.find((pack) => path.basename(pack).startsWith(`point-${id}-`));
      const damagedPoint = points.slice(1).find((p) => claimOf(p.id) !== newestPack)!.id;
      const fromPack = claimOf(damagedPoint) !== undefined;
      await restartServer(async () => {
        fs.writeFileSync(store.stateFile, '{"schemaVersion": 1, "version": ');
        const manifest = path.join(store.pointsDir, `${damagedPoint}.json`);
        // a store of format 2 writes a point's manifest file at the clean-up after it: a torn one is made if there is none yet
        const text = fs.existsSync(manifest) ? fs.readFileSync(manifest, 'utf8') : JSON.stringify({ schemaVersion: 1, id: damagedPoint, createdAt: new Date().toISOString() });
        fs.writeFileSync(manifest, text.slice(0, 40));
        const pack = fs.readFileSync(newestPack);
        pack.fill(0x5a, Math.floor(pack.length / 3), Math.floor((pack.length * 2) / 3));
        fs.writeFileSync(newestPack, pack);
        fs.appendFileSync(path.join(workspace, 'src', 'cart.ts'), '// edited while the store was damaged\n');
      });
      await wb.ready();

      // The state file: moved to quarantine and rebuilt, with a plain warning.
      // A window killed with the server may have left the store's lock behind: taken over once stale (10 s).
      const warning = await wb.waitForNotification(/Recovery Points: The recovery state file was damaged/, { timeout: 60_000 });
      assertPlain((await warning.textContent()) ?? '');
      assert.ok(quarantined().some((name) => name.endsWith('state.json')), 'the damaged state file is in quarantine');
      assert.doesNotThrow(() => JSON.parse(fs.readFileSync(store.stateFile, 'utf8')), 'a new state file was written');
      await wb.openActivity('Recovery Points');
      await wb.treeRow(/Changed while the editor was closed/).waitFor();

      // Verify Store finds the damaged pack and the points it breaks; Repair moves them to quarantine.
      await wb.clearNotifications();
      await wb.runCommand('Recovery Points: Verify Store');
      const problems = await wb.waitForNotification(/The store has problems: [1-9]\d* broken objects?, [1-9]\d* broken points?/);
      assertPlain((await problems.textContent()) ?? '');
      await problems.locator('.monaco-button').filter({ hasText: 'Repair' }).click();
      // Clicked at once, the repair's progress and its result can follow the check's within 800 ms: no
      // toast then, the result is in the notification centre (see Workbench.waitForNotification).
      // the points the damage broke are moved to quarantine (a manifest or folder lost) or kept (some files' content lost: they restore the rest)
      await wb.waitForNotification(/Repaired: \d+ objects? kept, \d+ points? moved to quarantine/, { timeout: 60_000 });
      assert.ok(
        store.audit().some((entry) => entry.action === 'repair' && Number(entry.details?.pointsQuarantined) + Number(entry.details?.pointsKept) > 0),
        'the store\'s audit log records the repair',
      );
      // a pack that claimed its point is renamed when it gives the claim up (point-<id>-<hash>.pack → <id>-<hash, 8 digits>.pack)
      const claim = /^point-(.+)-([0-9a-f]{8})[0-9a-f]{56}\.pack$/.exec(path.basename(newestPack));
      const packNames = [path.basename(newestPack), ...(claim ? [`${claim[1]}-${claim[2]}.pack`] : [])];
      assert.ok(quarantined().some((name) => packNames.some((pack) => name.endsWith(pack))), `the damaged pack is in quarantine (${packNames.join(' or ')})`);
      const repaired = await assertStoreWhole({ lostContent: true });
      if (fromPack) {
        // The torn manifest whose pack still holds a copy is written whole again from there.
        const manifest = JSON.parse(fs.readFileSync(path.join(store.pointsDir, `${damagedPoint}.json`), 'utf8')) as { id: string };
        assert.equal(manifest.id, damagedPoint, 'the torn manifest was written again from its pack');
        assert.ok(repaired.some((p) => p.id === damagedPoint), 'the point whose manifest was torn is still listed');
      } else {
        assert.ok(quarantined().some((name) => name.endsWith(`${damagedPoint}.json`)), 'the damaged manifest is in quarantine');
        assert.equal(repaired.some((p) => p.id === damagedPoint), false, 'the damaged point is no longer listed');
      }
      await viewShowsCount(wb, repaired.length);

      // New points are whole: the newest holds every file on disk, readable object by object.
      await wb.openFile('index.ts');
      await wb.appendLine('// saved after the repair');
      await wb.saveActiveEditor();
      await wb.treeRow(/Saved index\.ts/).waitFor();
      await waitUntil('the newest point to hold the files on disk', () => store.newestMatchesDisk(), 30_000);
      await assertStoreWhole({ lostContent: true });
    },
  },
];
