/**
 * Where a save's one-file point could be made (#14 target 5): in the process that holds the store, as
 * the extension makes it (a process that starts git and `sync` between its points, as the extension
 * host starts git for VS Code's git extension: a fork, after which every page it writes is copied on
 * its first write), or in a child process that holds its own store of the same workspace and never
 * starts anything, asked over Node's IPC channel (the design that leaves those page faults behind,
 * measured end to end). Each iteration edits one file, then takes turns, in an order that rotates:
 * git's `add -A && commit`, the point in this process, the point in the child, and an empty message
 * to the child (the channel's round trip alone), each after `sync`. Prints one Markdown table.
 *   node --import tsx bench/pointElsewhere.ts [--files N] [--iterations N] [--tmp DIR]
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RecoveryStore } from '../src/core/recoveryStore';
import { ShadowGit } from './lib/git';
import { settleDisk } from './lib/proc';
import { createSynthetic, editIn } from './lib/workspace';
import { numberOption, optionValue } from './lib/scriptOptions';
import { summarize } from './lib/stats';

interface Ask {
  readonly file?: string;
}
interface Answer {
  readonly ms?: number;
  readonly faults?: number;
  readonly error?: string;
}

const failed = (error: unknown) => {
  console.error(`pointElsewhere: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
};
// the child's channel to its parent would keep it running: it ends, and its parent hears of it
if (process.argv[2] === '--child') serveChild(process.argv[3]!, process.argv[4]!).catch((error: unknown) => (failed(error), process.exit(1)));
else main().catch(failed);

/** The child: its store of the workspace, a point for each path it is sent, an answer for an empty message. */
async function serveChild(storeDir: string, root: string): Promise<void> {
  const store = await RecoveryStore.open({ storeDir, roots: [{ name: 'ws', path: root }], actor: 'bench-child' });
  await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
  process.on('message', (ask: Ask) => {
    if (ask.file === undefined) return void process.send!({});
    const faults = process.resourceUsage().minorPageFault;
    const started = performance.now();
    store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [ask.file] }).then(
      () => process.send!({ ms: performance.now() - started, faults: process.resourceUsage().minorPageFault - faults } satisfies Answer),
      (error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) } satisfies Answer),
    );
  });
  process.send!({});
}

async function main(): Promise<void> {
  const files = numberOption('--files', 10000);
  const iterations = numberOption('--iterations', 30);
  const tmp = fs.mkdtempSync(path.join(optionValue('--tmp') ?? os.tmpdir(), 'rp-point-elsewhere-'));
  try {
    const ws = createSynthetic(tmp, files, 'recovery-points-bench');
    const git = await ShadowGit.withFirstCheckpoint(path.join(tmp, 'shadow.git'), ws.git);
    const store = await RecoveryStore.open({ storeDir: path.join(tmp, 'store-here'), roots: [{ name: 'ws', path: ws.ours }], actor: 'bench' });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
    const child = fork(__filename, ['--child', path.join(tmp, 'store-child'), ws.ours], { execArgv: process.execArgv, serialization: 'advanced' });
    const waiting: { resolve: (answer: Answer) => void; reject: (error: Error) => void }[] = [];
    child.on('message', (answer: Answer) => {
      const next = waiting.shift();
      if (answer.error === undefined) next?.resolve(answer);
      else next?.reject(new Error(`the child's point failed: ${answer.error}`));
    });
    let ended: Error | undefined;
    const endAll = (error: Error) => {
      ended ??= error;
      for (const next of waiting.splice(0)) next.reject(ended);
    };
    child.on('exit', (code, signal) => endAll(new Error(`the child ended (${signal ?? `exit code ${code}`}) before it answered`)));
    child.on('error', endAll);
    const ask = (message?: Ask) =>
      new Promise<Answer>((resolve, reject) => {
        if (ended) return reject(ended);
        waiting.push({ resolve, reject });
        if (message) child.send(message, (error) => error && endAll(new Error(`the child could not be asked (${error.message}): it ended`)));
      });
    const samples = { git: [] as number[], here: [] as number[], hereFaults: [] as number[], child: [] as number[], inChild: [] as number[], childFaults: [] as number[], ping: [] as number[] };
    const sides = ['git', 'here', 'child', 'ping'] as const;
    try {
      await ask();
      // two untimed iterations first: both stores have made a hint point, the caches are as in a running editor
      for (let i = -2; i < iterations; i++) {
        const file = editIn([ws.ours, ws.git], ws.editable[(i + 2) % ws.editable.length]!, `elsewhere-${i}`);
        const timed = i >= 0;
        for (let k = 0; k < sides.length; k++) {
          const side = sides[(k + Math.max(i, 0)) % sides.length]!;
          settleDisk();
          if (side === 'git') {
            const ms = git.checkpoint(`Checkpoint ${i}`).ms;
            if (timed) samples.git.push(ms);
          } else if (side === 'here') {
            const faults = process.resourceUsage().minorPageFault;
            const started = performance.now();
            await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] });
            if (timed) {
              samples.here.push(performance.now() - started);
              samples.hereFaults.push(process.resourceUsage().minorPageFault - faults);
            }
          } else {
            const started = performance.now();
            const answer = await ask(side === 'child' ? { file } : {});
            const ms = performance.now() - started;
            if (!timed) continue;
            if (side === 'ping') samples.ping.push(ms);
            else {
              samples.child.push(ms);
              samples.inChild.push(answer.ms!);
              samples.childFaults.push(answer.faults!);
            }
          }
        }
      }
    } finally {
      child.kill();
      await store.close();
    }

    const median = (values: readonly number[]) => summarize(values)!.median;
    const gitMs = median(samples.git);
    const row = (what: string, values: readonly number[], faults?: readonly number[]) =>
      `| ${what} | ${median(values).toFixed(2)} ms | ${faults ? median(faults) : ''} | ${values === samples.git ? '' : `${(gitMs / median(values)).toFixed(1)}×`} |`;
    console.log(`| One-file point with the save hint, ${files} files, ${iterations} iterations (medians) | Wall | Page faults | git / this |`);
    console.log('| --- | ---: | ---: | ---: |');
    console.log(row("git's `add -A && commit`", samples.git));
    console.log(row('the point in this process (forked for git and `sync` between points)', samples.here, samples.hereFaults));
    console.log(row('the point in the child, asked over IPC (end to end)', samples.child));
    console.log(row('…the same point timed inside the child', samples.inChild, samples.childFaults));
    console.log(row('an empty message to the child and its answer', samples.ping));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
