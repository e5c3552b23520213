// A folder added to a running multi-root workspace: its files are kept at once, as they are, so the
// first edit of one of them does not take the version from before it out of history. Runs in the
// "workspace" run of scripts/host/runHostTests.mjs.
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { lookupEntry } from '../../../../src/core';
import { assertPromptsUsed, getApi, listPoints, store, waitForNewPoint, type Api } from '../helpers';
import { ORIGINAL_FOLDERS, resetMultiRoot, setFolders, write } from './multiRoot';

suite('a folder added to a running multi-root workspace', () => {
  let api: Api;
  suiteSetup(async () => {
    api = await getApi();
  });
  setup(() => resetMultiRoot(api));
  teardown(() => assertPromptsUsed(api));

  test('gets a point of its files as they are at once, named so, before any of them is edited', async () => {
    write('three/notes.txt', 'three, as it was when added\n');
    write('three/src/main.ts', 'export const main = 3;\n');
    await store(api).recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'two folders' });
    const before = await listPoints(api);
    await setFolders(api, [...ORIGINAL_FOLDERS, { path: 'three' }]);
    const point = await waitForNewPoint(api, before, (p) => p.summary.startsWith('Added folder'));
    assert.equal(point.summary, 'Added folder three to the workspace (2 files)');
    const objects = await store(api).persistence.objects();
    const entry = await lookupEntry(objects, point.root, 'three/notes.txt');
    assert.ok(entry && entry.kind === 'f', 'the point holds the added folder\'s file');
    assert.equal((await objects.readBlob(entry.hash)).toString(), 'three, as it was when added\n');
    await setFolders(api, ORIGINAL_FOLDERS);
  });
});
