// The last test of this run: it closes the extension as VS Code does when a window closes or reloads
// (deactivate, then the subscriptions disposed at once, without waiting for it), so nothing runs after.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { RecoveryStore } from '../../../../src/core/recoveryStore';
import { editAndSave, getApi, listPoints, setSetting, store, workspaceFolder } from '../helpers';

suite('the window closing', () => {
  test('a save still waiting for its point when the window closes is kept by a point named after the save, though VS Code disposes the extension at once', async () => {
    const api = await getApi();
    await setSetting('mergeWindowSeconds', 120);
    const before = await listPoints(api);
    await editAndSave('src/greeting.ts', 'export const greeting = "saved just before the window closed";\n');
    const storeDir = store(api).persistence.layout.root;
    const closing = api as unknown as { shutdown(): Promise<void>; dispose(): void };
    const done = closing.shutdown();
    closing.dispose();
    await done;
    const reopened = await RecoveryStore.open({ storeDir, roots: [{ name: workspaceFolder().name, path: workspaceFolder().uri.fsPath }], actor: 'test:after-close' });
    try {
      const points = await reopened.recovery.listRecoveryPoints();
      const made = points.filter((p) => !before.some((b) => b.id === p.id));
      assert.deepEqual(made.map((p) => [p.trigger, p.summary]), [['save', 'Saved greeting.ts']]);
    } finally {
      await reopened.close();
    }
  });
});
