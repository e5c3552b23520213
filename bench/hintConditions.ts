/**
 * What the one-file point with the save hint costs after what came before it (#14 target 5): the same
 * store and workspace, a point made back to back with the one before, after 100 ms of idleness (as a
 * save after typing), after another process swept 256 MB of memory (the caches' content gone), and
 * after git's `add -A && commit` and `sync` started by another process (the benchmark's rounds, without
 * a fork of this one). The conditions take turns; wall time and CPU time (`process.cpuUsage`: user and
 * system) of each point. Prints one Markdown table.
 *   node --import tsx bench/hintConditions.ts [--files N] [--iterations N] [--tmp DIR]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RecoveryStore } from '../src/core/recoveryStore';
import { ShadowGit } from './lib/git';
import { sleep } from './lib/proc';
import { RunnerElsewhere } from './lib/runnerElsewhere';
import { numberOption, optionValue } from './lib/scriptOptions';
import { num, summarize } from './lib/stats';
import { createSynthetic, editIn } from './lib/workspace';

const SWEEP = 'const b = Buffer.alloc(256 << 20); for (let r = 0; r < 2; r++) for (let i = 0; i < b.length; i += 64) b[i]++;';

const CONDITIONS = {
  'back to back': 'the point right after the one before',
  'after 100 ms idle': 'the process idle for 100 ms first',
  'after a memory sweep': 'another process wrote 256 MB first',
  "after git's commit and sync": "another process ran git's `add -A && commit`, then `sync`",
} as const;
type Condition = keyof typeof CONDITIONS;

async function main(): Promise<void> {
  const files = numberOption('--files', 10000);
  const iterations = numberOption('--iterations', 30);
  const tmp = fs.mkdtempSync(path.join(optionValue('--tmp') ?? os.tmpdir(), 'rp-hint-conditions-'));
  const runner = new RunnerElsewhere();
  try {
    const ws = createSynthetic(tmp, files, 'recovery-points-bench');
    const git = await ShadowGit.withFirstCheckpoint(path.join(tmp, 'shadow.git'), ws.git);
    const store = await RecoveryStore.open({ storeDir: path.join(tmp, 'store'), roots: [{ name: 'ws', path: ws.ours }], actor: 'bench' });
    try {
      await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
      const conditions = Object.keys(CONDITIONS) as Condition[];
      const samples = new Map(conditions.map((c) => [c, { wall: [] as number[], cpu: [] as number[], user: [] as number[] }]));
      let n = 0;
      // two untimed rounds first: the trees the hint path reads are as warm as in a running extension
      for (let i = -2; i < iterations; i++) {
        for (let k = 0; k < conditions.length; k++) {
          const condition = conditions[(k + Math.max(i, 0)) % conditions.length]!;
          const rel = ws.editable[n++ % ws.editable.length]!;
          const file = editIn([ws.ours], rel, `conditions-${i}-${k}`);
          if (condition === 'after 100 ms idle') await sleep(100);
          if (condition === 'after a memory sweep') await runner.run(process.execPath, ['-e', SWEEP]);
          if (condition === "after git's commit and sync") {
            editIn([ws.git], rel, `conditions-${i}-${k}`);
            await git.checkpointElsewhere(runner, `c${i}-${k}`);
            await runner.settleDisk();
          }
          const cpu = process.cpuUsage();
          const started = performance.now();
          await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] });
          const wall = performance.now() - started;
          const used = process.cpuUsage(cpu);
          if (i < 0) continue;
          const s = samples.get(condition)!;
          s.wall.push(wall);
          s.cpu.push((used.user + used.system) / 1000);
          s.user.push(used.user / 1000);
        }
      }
      const median = (xs: number[]) => `${num(summarize(xs)!.median)} ms`;
      console.log(`One-file point with the save hint, ${files} files, ${iterations} points a condition (medians; the conditions take turns)\n`);
      console.log('| Before the point | Wall | CPU (user + system) | User | What came first |');
      console.log('| --- | ---: | ---: | ---: | --- |');
      for (const c of conditions) {
        const s = samples.get(c)!;
        console.log(`| ${c} | ${median(s.wall)} | ${median(s.cpu)} | ${median(s.user)} | ${CONDITIONS[c]} |`);
      }
    } finally {
      await store.close();
    }
  } finally {
    runner.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`hintConditions: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
