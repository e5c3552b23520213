/**
 * A second process working on a store, for the concurrency tests:
 *   node --import tsx storeWorker.ts <mode> <storeDir> <workspace> <name> <count> [lockStaleMs] [lockWaitMs]
 * modes: `update` (count partial state updates), `snapshot` (count points, each after changing a
 * file of its own), `hold` (takes the store lock and keeps it until killed), `race` (waits for the
 * file `<storeDir>.go`, then count times takes the lock and, inside it, adds one to the counter file
 * `<storeDir>.count`, checking that no other holder is inside: prints `overlap` if one is), `race1`
 * (the same, locking as a store of format 1 only, as earlier builds did: with the folder `store.lock`;
 * prints `refused` and stops once a file stands in the folder's place, where an earlier build fails),
 * `tracking` (prints `tracking <before> <during> <after>`: how many symbols Node put on a new promise
 * before the store was opened, inside a hold of its lock, and after a point, once no lock is held; a
 * promise carries them while Node tracks the async context of every promise of the process).
 * Prints one line per acknowledged operation: `ack <key>`, `point <id>`, `locked`, `ready`, `counted`.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { FolderLock } from '../../../src/core/lock/folderLock';
import { RecoveryStore } from '../../../src/core/recoveryStore';

/** How many symbols Node puts on a new promise: none unless it tracks every promise's async context. */
const trackedSymbols = () => Object.getOwnPropertySymbols(Promise.resolve()).length;

async function main(): Promise<void> {
  const trackedBefore = trackedSymbols();
  const [mode, storeDir, workspace, name, countText, staleText, waitText] = process.argv.slice(2);
  if (!mode || !storeDir || !workspace || !name) throw new Error('usage: storeWorker <mode> <storeDir> <workspace> <name> <count> [lockStaleMs]');
  const count = Number(countText ?? '1');
  const store = await RecoveryStore.open({
    storeDir,
    roots: [{ name: 'ws', path: workspace }],
    actor: `worker:${name}`,
    lockStaleMs: staleText ? Number(staleText) : undefined,
    lockWaitMs: waitText ? Number(waitText) : undefined,
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (mode === 'update') {
    for (let k = 0; k < count; k++) {
      await store.state.updateState({ data: { [`${name}-${k}`]: k } });
      say(`ack ${name}-${k}`);
    }
  } else if (mode === 'snapshot') {
    for (let k = 0; k < count; k++) {
      await fs.writeFile(path.join(workspace, `${name}.txt`), `${name} ${k}\n`);
      const point = await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
      say(`point ${point!.id}`);
    }
  } else if (mode === 'tracking') {
    const during = await store.persistence.lock.run(async () => {
      await null;
      return trackedSymbols();
    });
    await fs.writeFile(path.join(workspace, `${name}.txt`), `${name}\n`);
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
    await new Promise((resolve) => setTimeout(resolve, 1));
    say(`tracking ${trackedBefore} ${during} ${trackedSymbols()}`);
  } else if (mode === 'hold') {
    await store.persistence.lock.run(async () => {
      say('locked');
      await new Promise<void>(() => {
        setInterval(() => undefined, 1000); // keep the process (and the lock) alive until killed
      });
    });
  } else if (mode === 'race' || mode === 'race1') {
    say('ready');
    while (!(await fs.stat(`${storeDir}.go`).then(() => true, () => false))) await new Promise((resolve) => setTimeout(resolve, 2));
    const inside = `${storeDir}.inside`;
    const counter = `${storeDir}.count`;
    const count1 = async () => {
      const entered = await fs.writeFile(inside, name, { flag: 'wx' }).then(() => true, () => false);
      if (!entered) say('overlap');
      const value = Number(await fs.readFile(counter, 'utf8').catch(() => '0'));
      await new Promise((resolve) => setTimeout(resolve, 3));
      await fs.writeFile(counter, String(value + 1));
      if (entered) await fs.unlink(inside);
    };
    const folder = new FolderLock(path.join(storeDir, 'store.lock'), staleText ? Number(staleText) : 10_000, () => undefined);
    for (let k = 0; k < count; k++) {
      if (mode === 'race') await store.persistence.lock.run(count1);
      else {
        let held = folder.tryTake();
        while (held === undefined) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          held = folder.tryTake();
        }
        if (held === 'changed') {
          say('refused');
          break;
        }
        try {
          await count1();
        } finally {
          held.release();
        }
      }
      say('counted');
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
