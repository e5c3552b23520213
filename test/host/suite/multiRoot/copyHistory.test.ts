// A folder of this workspace opened before in a window of another shape (on its own): VS Code keeps
// that window's history apart, and the extension offers a copy of it. Runs in the "workspace" run of
// scripts/host/runHostTests.mjs.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecoveryStore } from '../../../../src/core/recoveryStore';
import { assertPromptsUsed, getApi, listPoints, store, type Api } from '../helpers';
import { file, read, resetMultiRoot, write } from './multiRoot';

suite('the history another window keeps of a folder of this workspace', () => {
  let api: Api;
  let otherWindow: string;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(async () => {
    await resetMultiRoot(api);
    // the workspace storage of a window of `one` on its own, beside this window's
    const own = store(api).persistence.layout.root;
    otherWindow = path.join(path.dirname(path.dirname(own)), 'rp-host-one-alone', path.basename(own));
  });
  teardown(() => {
    fs.rmSync(path.dirname(otherWindow), { recursive: true, force: true });
    assertPromptsUsed(api);
  });

  async function historyOfOneAlone(): Promise<string> {
    write('one/alone.txt', 'written while one was opened on its own\n');
    const other = await RecoveryStore.open({ storeDir: otherWindow, roots: [{ name: 'one', path: file('one') }], actor: 'test:shape' });
    const point = (await other.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'one on its own' }))!;
    await other.close();
    fs.rmSync(file('one/alone.txt'));
    return point.id;
  }

  test('offered as a copy: Copy History lists its points here and they restore here; the other window keeps them; this window\'s first point is named by what differs', async () => {
    const alone = await historyOfOneAlone();
    const first = (await store(api).recovery.createRecoveryPoint(undefined, { trigger: 'startup' }))!;
    assert.equal(first.parentId, null);
    api.prompts.answerNext({ button: 'Copy History' });
    assert.equal(await api.movedHistory!.offerCopy(), 1);
    assert.match(api.movedHistory!.lastOffer!.message, /^one has 1 recovery point from a window of one on its own\. Copy it into this window's history\? The other window keeps its\.$/);
    const listed = await listPoints(api);
    assert.deepEqual(listed.map((p) => p.id), [first.id, alone]);
    const shown = api.model!.points.find((p) => p.id === first.id)!;
    assert.match(shown.summary, /^Added folder two to the workspace \(\d+ files?\); deleted while the editor was closed: alone\.txt$/);
    const twoBefore = read('two/notes.md');
    await store(api).recovery.restore(alone, { paths: ['one/alone.txt'] });
    assert.equal(read('one/alone.txt'), 'written while one was opened on its own\n');
    assert.equal(read('two/notes.md'), twoBefore);
    const other = await RecoveryStore.open({ storeDir: otherWindow, roots: [{ name: 'one', path: file('one') }], actor: 'test:shape' });
    try {
      assert.deepEqual((await other.recovery.listRecoveryPoints()).map((p) => p.id), [alone], 'the other window keeps its history');
    } finally {
      await other.close();
    }
  });

  test('Not Now: not offered again (the command still finds it)', async () => {
    await historyOfOneAlone();
    api.prompts.answerNext({ button: 'Not Now' });
    assert.equal(await api.movedHistory!.offerCopy(), undefined);
    assert.equal(await api.movedHistory!.offerCopy(), undefined);
    assert.equal(api.prompts.history.filter((q) => /Copy it into this window's history/.test(q.text)).length, 1, 'asked once');
    assert.deepEqual((await api.movedHistory!.histories()).map((h) => h.storeDir), [otherWindow]);
    assert.deepEqual(await listPoints(api), [], 'nothing copied');
  });
});
