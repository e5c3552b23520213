/**
 * A second process working on a store, for the concurrency tests:
 *   node --import tsx storeWorker.ts <mode> <storeDir> <workspace> <name> <count> [lockStaleMs]
 * modes: `update` (count partial state updates), `snapshot` (count points, each after changing a
 * file of its own), `hold` (takes the store lock and keeps it until killed).
 * Prints one line per acknowledged operation: `ack <key>`, `point <id>`, `locked`.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { RecoveryStore } from '../../../src/core/recoveryStore';

async function main(): Promise<void> {
  const [mode, storeDir, workspace, name, countText, staleText] = process.argv.slice(2);
  if (!mode || !storeDir || !workspace || !name) throw new Error('usage: storeWorker <mode> <storeDir> <workspace> <name> <count> [lockStaleMs]');
  const count = Number(countText ?? '1');
  const store = await RecoveryStore.open({
    storeDir,
    roots: [{ name: 'ws', path: workspace }],
    actor: `worker:${name}`,
    lockStaleMs: staleText ? Number(staleText) : undefined,
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
  } else if (mode === 'hold') {
    await store.persistence.lock.run(async () => {
      say('locked');
      await new Promise<void>(() => {
        setInterval(() => undefined, 1000); // keep the process (and the lock) alive until killed
      });
    });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
