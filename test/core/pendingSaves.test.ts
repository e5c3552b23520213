// Saves kept on disk until their point is made (PendingSaves): what a window killed in a save's merge
// window leaves, and how the next window takes it over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { PendingSaves } from '../../src/core/state/pendingSaves';
import { cleanupAll, makeSandbox } from './helpers/storeFixtures';

after(cleanupAll);

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

async function folders(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [])).sort();
}

describe('saves kept until their point is made', () => {
  test('a save released after its point leaves nothing; one kept by a process that is gone is taken over by the next, the newest of each file', async () => {
    const { root } = await makeSandbox();
    const dir = path.join(root, 'pending-saves');
    const killed = new PendingSaves(dir, await deadPid());
    const first = await killed.keep('/ws/a.ts', Buffer.from('a, saved first\n'), 0o100644, 1000);
    await killed.keep('/ws/a.ts', Buffer.from('a, saved again\n'), 0o100644, 2000);
    await killed.keep('/ws/run.sh', Buffer.from('#!/bin/sh\n'), 0o100755, 1500);
    const released = await killed.keep('/ws/b.ts', Buffer.from('b\n'), 0o100644, 1600);
    assert.ok(first && released);
    await killed.release([released]);

    const next = new PendingSaves(dir);
    const claimed = await next.claimOrphans();
    const byPath = new Map(claimed.saves.map((save) => [save.path, save]));
    assert.deepEqual([...byPath.keys()].sort(), ['/ws/a.ts', '/ws/run.sh'], 'the released save is not taken over');
    assert.equal(byPath.get('/ws/a.ts')!.content.toString(), 'a, saved again\n', 'of two saves of one file, the newer');
    assert.equal(byPath.get('/ws/run.sh')!.mode, 0o100755);
    assert.equal(byPath.get('/ws/run.sh')!.savedAt, 1500);

    // taken over once: another window starting at the same time finds nothing
    assert.equal((await new PendingSaves(dir, process.ppid).claimOrphans()).saves.length, 0);
    await claimed.done();
    assert.deepEqual(await folders(dir), [], 'their folder goes once their point is made');
  });

  test('the saves of a window still running are left to it; a folder of this pid that is not this window\'s is a process before it', async () => {
    const { root } = await makeSandbox();
    const dir = path.join(root, 'pending-saves');
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await new PendingSaves(dir, running.pid!).keep('/ws/open.ts', Buffer.from('still waiting\n'), 0o100644);
      await new PendingSaves(dir, process.pid).keep('/ws/before.ts', Buffer.from('same pid, earlier process\n'), 0o100644);
      const self = new PendingSaves(dir, process.pid);
      await self.keep('/ws/mine.ts', Buffer.from('this window\'s own\n'), 0o100644);
      const claimed = await self.claimOrphans();
      assert.deepEqual(claimed.saves.map((save) => save.path), ['/ws/before.ts']);
      await claimed.done();
      const left = await folders(dir);
      assert.equal(left.length, 2, 'the running window\'s folder and this window\'s own stay');
      assert.ok(left.some((name) => name.startsWith(`${running.pid}.`)));
    } finally {
      running.kill();
    }
  });

  test('a record cut short or changed is left out, and the rest are still taken over', async () => {
    const { root } = await makeSandbox();
    const dir = path.join(root, 'pending-saves');
    const killed = new PendingSaves(dir, await deadPid());
    const cut = (await killed.keep('/ws/cut.ts', Buffer.from('x'.repeat(5000)), 0o100644))!;
    const changed = (await killed.keep('/ws/changed.ts', Buffer.from('original bytes\n'), 0o100644))!;
    const header = (await killed.keep('/ws/header.ts', Buffer.from('fine\n'), 0o100644))!;
    await killed.keep('/ws/whole.ts', Buffer.from('whole\n'), 0o100644);
    await fs.truncate(cut, (await fs.stat(cut)).size - 10);
    const bytes = await fs.readFile(changed);
    bytes[bytes.length - 3] ^= 0x20;
    await fs.writeFile(changed, bytes);
    await fs.writeFile(header, '{"schemaVersion":1,"path":""}\nfine\n');
    const claimed = await new PendingSaves(dir).claimOrphans();
    assert.deepEqual(claimed.saves.map((save) => save.path), ['/ws/whole.ts']);
  });

  test('a window that closes with no save waiting takes its folder away', async () => {
    const { root } = await makeSandbox();
    const dir = path.join(root, 'pending-saves');
    const window = new PendingSaves(dir);
    const record = await window.keep('/ws/a.ts', Buffer.from('a\n'), 0o100644);
    await window.close();
    assert.equal((await folders(dir)).length, 1, 'a save still waiting keeps it');
    await window.release([record]);
    await window.close();
    assert.deepEqual(await folders(dir), []);
  });
});
