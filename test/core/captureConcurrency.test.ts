import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Semaphore, settleAll, TaskPool } from '../../src/core/capture/concurrency';
import { SyncFs } from '../../src/core/capture/fsCalls';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('capture concurrency helpers', () => {
  test('Semaphore serves waiters in order, never over capacity, and caps a request at the capacity', async () => {
    const sem = new Semaphore(3);
    let held = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        sem.run(async () => {
          held++;
          most = Math.max(most, held);
          order.push(i);
          await tick();
          held--;
        }),
      ),
    );
    assert.equal(most, 3);
    assert.deepEqual(order, Array.from({ length: 3000 }, (_, i) => i));
    const big = await sem.acquire(1000);
    assert.equal(big, 3, 'a request larger than the capacity takes all of it');
    let second = false;
    const waiting = sem.acquire(1).then(() => (second = true));
    await tick();
    assert.equal(second, false);
    sem.release(big);
    await waiting;
    assert.equal(second, true);
  });

  test('TaskPool runs at most `limit` tasks, newest first, and reports failures', async () => {
    const errors: unknown[] = [];
    const pool = new TaskPool(2, (error) => errors.push(error));
    let running = 0;
    let most = 0;
    const started: number[] = [];
    for (let i = 0; i < 6; i++) {
      pool.push(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await tick();
        running--;
        if (i === 3) throw new Error('task 3 failed');
      });
    }
    await pool.idle();
    assert.equal(most, 2);
    assert.deepEqual(started, [0, 1, 5, 4, 3, 2]);
    assert.equal((errors[0] as Error).message, 'task 3 failed');
    // clear drops what has not started
    const ran: number[] = [];
    for (let i = 0; i < 5; i++) pool.push(async () => void ran.push(i));
    pool.clear();
    await pool.idle();
    assert.deepEqual(ran, [0, 1]);
  });

  test('settleAll waits for every task before rejecting with the first error', async () => {
    let finished = false;
    const slow = (async () => {
      await tick();
      await tick();
      finished = true;
      return 1;
    })();
    await assert.rejects(settleAll([Promise.reject(new Error('first')), slow, Promise.reject(new Error('second'))]), /first/);
    assert.equal(finished, true);
    assert.deepEqual(await settleAll([Promise.resolve(1), Promise.resolve(2)]), [1, 2]);
  });
});

describe('synchronous file-system calls', () => {
  test('a slice is due after 8 ms; pause lets the event loop run and starts a new slice', async () => {
    let now = 0;
    const sync = new SyncFs(true, () => now);
    assert.equal(sync.due, false);
    now = 7.9;
    assert.equal(sync.due, false);
    now = 8;
    assert.equal(sync.due, true);
    let ran = false;
    setImmediate(() => (ran = true));
    await sync.pause();
    assert.equal(ran, true, 'the event loop ran during the pause');
    assert.equal(sync.due, false);
    assert.equal(sync.enabled, true);
  });

  test('a slice of mostly slow calls, or one stalled call, turns them off; one slow call in a slice does not', async () => {
    let now = 0;
    let step = 0;
    const clock = () => (now += step);
    const busy = new SyncFs(true, clock);
    for (let i = 0; i < 20; i++) {
      step = i === 5 ? 30 : 0; // descheduled once
      busy.lstat(__filename);
    }
    await busy.pause();
    assert.equal(busy.enabled, true, 'one slow call is the machine being busy');

    const slow = new SyncFs(true, clock);
    step = 3;
    for (let i = 0; i < 4; i++) slow.lstat(__filename);
    assert.equal(slow.enabled, true, 'judged at the end of the slice');
    await slow.pause();
    assert.equal(slow.enabled, false, 'every call was slow: a slow file system');

    const stalled = new SyncFs(true, clock);
    step = 600;
    stalled.lstat(__filename);
    assert.equal(stalled.enabled, false, 'a stalled call turns them off at once');

    step = 0;
    const failing = new SyncFs(true, clock);
    assert.throws(() => failing.lstat(`${__filename}.missing`), { code: 'ENOENT' });
    assert.equal(new SyncFs(false).enabled, false);
  });
});
