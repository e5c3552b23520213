import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { writeDocumentSync } from '../../src/core/documents';
import { stateDocument } from '../../src/core/schemas';
import { killChildren, startChild } from '../reliability/helpers/children';
import { cleanupAll, makeSandbox, openStore, waitFor } from './helpers/storeFixtures';

after(cleanupAll);
after(killChildren);

const WORKER = path.join(__dirname, 'helpers', 'storeWorker.ts');

/** signal-exit listens to SIGHUP, SIGINT and SIGTERM among others; write-file-atomic registers with it around every write. */
const signalListeners = () => process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP');

describe('signal-exit handlers while a store is open', () => {
  test('stay installed from open to close, so a document write does not install and remove them', async () => {
    const before = signalListeners();
    const sb = await makeSandbox();
    const store = await openStore(sb);
    const open = signalListeners();
    assert.equal(open, before + 2, 'the open store holds one listener per signal');
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    writeDocumentSync(path.join(sb.store, 'probe.json'), stateDocument, (await store.state.getState()), { durable: false });
    assert.equal(signalListeners(), open, 'a point and a write leave them installed');
    const second = await openStore(await makeSandbox());
    await second.close();
    assert.equal(signalListeners(), open, "closing another store keeps this store's hold");
    await store.close();
    assert.equal(signalListeners(), before, 'the last close removes them');
  });

  test('a SIGTERM still ends a process that holds a store open, by that signal', async () => {
    const sb = await makeSandbox();
    const holder = startChild(process.execPath, ['--import', 'tsx', WORKER, 'hold', sb.store, sb.ws, 'holder', '1']);
    await waitFor(() => holder.lines.includes('locked'), 30_000, 'the worker to take the lock');
    holder.child.kill('SIGTERM');
    await holder.exited;
    assert.equal(holder.child.signalCode, 'SIGTERM');
  });
});
