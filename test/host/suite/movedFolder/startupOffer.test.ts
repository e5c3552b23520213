// Activation on a folder whose history was left behind by a move: the "moved" run of
// scripts/host/runHostTests.mjs puts, before VS Code starts, the workspace-storage folder of a folder
// that no longer exists ("old-app") beside this window's, with a store of three points of the same
// files. The extension activates on the folder with no history of its own and, once its start-up
// point is made, offers that history in a real notification; its first button is clicked as a person
// would (the workbench's "Accept Notification Primary Action", Ctrl+Shift+A).
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import * as os from 'node:os';
import { RecoveryStore } from '../../../../src/core/recoveryStore';
import { getApi, listPoints, store, WAIT_SCALE, waitFor, workspaceFolder } from '../helpers';

suite('activation on a folder whose history was left behind by a move', () => {
  test('the offer to continue that history appears when the extension starts; "Continue History" brings its points here', async () => {
    const api = await getApi();
    const offer = await waitFor('the offer made at start-up', () => api.movedHistory?.lastOffer, 20_000 * WAIT_SCALE);
    assert.match(offer.message, /old-app, which was moved or renamed \(100 % of the files match\)\. Continue its history here \(3 recovery points\)\?/);
    assert.equal(path.basename(path.dirname(offer.storeDir)), 'rp-host-moved-away');
    assert.ok(api.movedHistory!.startup, 'the offer is the one activation made');
    assert.equal(api.prompts.history.length, 0, 'a real notification, not a scripted answer');

    let answered = false;
    const startup = api.movedHistory!.startup.finally(() => (answered = true));
    // The notification reaches the workbench a moment after the question is asked: click until it is answered.
    await waitFor('the notification to be answered', async () => {
      await vscode.commands.executeCommand('notification.acceptPrimaryAction');
      await Promise.race([startup, new Promise((resolve) => setTimeout(resolve, 250))]);
      return answered;
    }, 8_000 * WAIT_SCALE);
    const adopted = await startup;
    assert.ok(adopted, 'the history was continued');
    assert.equal(adopted.adopted.length, 3);
    assert.ok(api.prompts.notifications.some((n) => /^Recovery Points: continued the history of \S+\/old-app \(3 points\)\.$/.test(n.message)), api.prompts.notifications.map((n) => n.message).join(' | '));
    const listed = await listPoints(api);
    assert.ok(listed.some((p) => p.label === 'history before the move'), 'the moved folder\'s points are listed here');
    assert.ok(api.model!.points.some((p) => p.label === 'history before the move'), 'and shown in the view');
    // the start-up point made before the answer is not shown as a first point of every file on top of that history
    const newest = api.model!.points[0]!;
    assert.equal(newest.parentId, null);
    assert.equal(newest.summary, `Moved old-app \u2192 ${workspaceFolder().name}`);
    assert.deepEqual(newest.changes, { added: 0, modified: 0, deleted: 0 });
    assert.equal(JSON.parse(fs.readFileSync(path.join(offer.storeDir, 'moved.json'), 'utf8')).movedTo, store(api).persistence.layout.root);
    // the same files, held by the adopted packs and by this folder's own first point, are merged at once
    const cleanup = await waitFor('the clean-up after continuing the history', async () => (await store(api).persistence.audit.read()).find((e) => e.action === 'cleanup'), 20_000 * WAIT_SCALE);
    assert.ok((cleanup.details as { freedBytes: number }).freedBytes > 0, JSON.stringify(cleanup.details));
  });

  test('an offer a window closed before answering is made again at the next start, though the folder has points of its own by then; once answered, it is not', async () => {
    const api = await getApi();
    const moved = api.movedHistory!;
    // another folder's history of the same files, whose folder is gone
    const storage = path.dirname(path.dirname(store(api).persistence.layout.root));
    const gone = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-host-moved-again-'));
    const storeDir = path.join(storage, 'rp-host-moved-again', path.basename(store(api).persistence.layout.root));
    try {
      fs.cpSync(workspaceFolder().uri.fsPath, path.join(gone, 'other-app'), { recursive: true });
      const other = await RecoveryStore.open({ storeDir, roots: [{ name: 'other-app', path: path.join(gone, 'other-app') }], actor: 'test:moved' });
      await other.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
      await other.close();
      fs.rmSync(gone, { recursive: true, force: true });

      assert.equal(await moved.atStartup(true), undefined);
      assert.notEqual(moved.lastOffer?.storeDir, storeDir, 'a folder with points of its own and no offer waiting is not searched');

      // the offer is made and shown (a real notification) but not answered: the window closes so
      const unanswered = moved.offer();
      await waitFor('the offer to be shown', () => moved.lastOffer?.storeDir === storeDir, 10_000 * WAIT_SCALE);
      // the next start asks again
      api.prompts.answerNext({ button: 'Not Now' });
      assert.equal(await moved.atStartup(true), undefined);
      const asked = api.prompts.history.filter((q) => q.kind === 'message' && /other-app, which was moved or renamed/.test(q.text));
      assert.deepEqual(asked.map((q) => q.answer), ['Not Now'], 'asked again at the next start');
      await vscode.commands.executeCommand('notifications.clearAll');
      assert.equal(await unanswered, undefined, 'the first notification, closed, adopts nothing');
      assert.equal(await moved.atStartup(true), undefined);
      assert.equal(api.prompts.history.length, asked.length, 'answered: not asked again');
      assert.equal(fs.existsSync(path.join(storeDir, 'moved.json')), false, 'nothing was adopted');
    } finally {
      fs.rmSync(gone, { recursive: true, force: true });
      fs.rmSync(path.dirname(storeDir), { recursive: true, force: true });
    }
  });
  test('Continue History of a Moved Folder… finds a history answered "Don\'t Ask Again", asks, and continues it; with none left it says what a match needs', async () => {
    const api = await getApi();
    const storage = path.dirname(path.dirname(store(api).persistence.layout.root));
    const gone = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-host-moved-cmd-'));
    const storeDir = path.join(storage, 'rp-host-moved-cmd', path.basename(store(api).persistence.layout.root));
    try {
      fs.cpSync(workspaceFolder().uri.fsPath, path.join(gone, 'third-app'), { recursive: true });
      const other = await RecoveryStore.open({ storeDir, roots: [{ name: 'third-app', path: path.join(gone, 'third-app') }], actor: 'test:moved' });
      await other.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'before the third move' });
      await other.close();
      fs.rmSync(gone, { recursive: true, force: true });
      api.prompts.answerNext({ button: "Don't Ask Again" });
      assert.equal(await api.movedHistory!.offer(), undefined);
      api.prompts.reset();
      assert.equal(await api.movedHistory!.atStartup(false), undefined);
      assert.equal(api.prompts.history.length, 0, 'the offer is not made again');

      api.prompts.answerNext({ button: 'Continue History' });
      const adopted = await vscode.commands.executeCommand<{ adopted: unknown[] } | undefined>('recoveryPoints.continueMovedHistory');
      const asked = api.prompts.history.filter((q) => q.kind === 'message');
      assert.equal(asked.length, 1);
      assert.match(asked[0]!.text, /third-app, which was moved or renamed \(100 % of the files match\)\. Continue its history here \(1 recovery point\)\?/);
      assert.equal(adopted?.adopted.length, 1);
      assert.ok((await listPoints(api)).some((p) => p.label === 'before the third move'), 'its point is here');
      assert.equal(JSON.parse(fs.readFileSync(path.join(storeDir, 'moved.json'), 'utf8')).movedTo, store(api).persistence.layout.root);

      api.prompts.reset();
      assert.equal(await vscode.commands.executeCommand('recoveryPoints.continueMovedHistory'), undefined);
      assert.deepEqual(api.prompts.history, [], 'nothing to ask about');
      assert.match(api.prompts.notifications.at(-1)?.message ?? '', /^No history of a moved or renamed folder matches this folder: a history is found when its folder no longer exists where it was/);
    } finally {
      fs.rmSync(gone, { recursive: true, force: true });
      fs.rmSync(path.dirname(storeDir), { recursive: true, force: true });
    }
  });
});
