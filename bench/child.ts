/**
 * Runs one operation of our core in its own process, for what must be measured in a fresh process:
 * peak memory of a first point, listing and changed files with a fresh store object, CPU profiles
 * (`node --cpu-prof`) and system-call counts (strace). One store object per process: every store
 * object opened in a process slows the later ones (see BENCHMARKS.md, "Measuring in fresh processes"). Bundled by esbuild for the memory measurement (no TypeScript loader
 * in the process), or run with tsx for profiles (so frames name the source files).
 *
 *   node child.js '<json request>'   → prints one line of JSON
 */
import * as fs from 'node:fs';
import { RecoveryStore, silentLogger, type CaptureRules } from '../src/core/index';
import { readFileHistory } from '../src/core/history/fileHistory';
import { measureSlices } from './lib/loopSlices';
import { diskUsage } from './lib/proc';
import { MARK_END, MARK_START } from './lib/markers';
import { editIn } from './lib/workspace';

export interface ChildRequest {
  readonly mode: 'first-point' | 'list' | 'changed-files' | 'one-file-point' | 'file-history' | 'await-cost' | 'scenario';
  /** For `changed-files`: a point's id, or `newest`. */
  readonly pointId?: string;
  /** For `file-history`: the workspace path (`ws/rel`). */
  readonly path?: string;
  readonly storeDir: string;
  readonly root: string;
  readonly rules?: Partial<CaptureRules>;
  /** For `scenario`: which operation to repeat between the markers. */
  readonly scenario?: 'first-point' | 'hint-point' | 'full-point' | 'list' | 'restore-100' | 'restore-file' | 'changed-files';
  /** Files (root-relative) the scenario (or `await-cost`) edits. */
  readonly edits?: readonly string[];
  readonly repeat?: number;
  /** For `first-point`: then run the clean-up the extension runs after a big point, and measure memory after it. */
  readonly cleanup?: boolean;
  /** For `file-history` and `changed-files`: measure the longest turn of the event loop instead of the CPU time (bench/lib/loopSlices.ts). */
  readonly slices?: boolean;
  /** For `first-point`: capture it in a process of its own, this script (as the extension does). */
  readonly captureScript?: string;
}

/** Memory after a forced full collection (the process runs with --expose-gc). */
export interface SettledMemory {
  readonly heapUsed: number;
  readonly external: number;
  readonly rss: number;
}


function mark(name: string): bigint {
  try {
    fs.statSync(name);
  } catch {
    // expected: the failed call is the marker
  }
  return process.hrtime.bigint();
}

function settledMemory(): SettledMemory {
  const gc = (globalThis as { gc?: () => void }).gc;
  // twice: the first collection's finalizers free buffers the second one returns
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, rss: m.rss };
}

/** The V8 heap in use plus the buffers outside it (pack indexes are read into buffers), after a full garbage collection when the process allows one. */
function heapMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 2 ** 20;
}

/** Median time of one `await` of an async function that awaits once, in ns, over 5 runs of 200,000. */
async function awaitCostNs(): Promise<number> {
  const leaf = async (i: number) => {
    await null;
    return i;
  };
  const runs: number[] = [];
  for (let run = 0; run < 6; run++) {
    const t = performance.now();
    for (let i = 0; i < 200_000; i++) await leaf(i);
    // the first run warms up
    if (run > 0) runs.push(((performance.now() - t) * 1e6) / 200_000);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2]!) as ChildRequest;
  const roots = [{ name: 'ws', path: request.root }];
  const baselineRss = process.memoryUsage().rss;
  const out: Record<string, unknown> = { baselineRss };
  if (request.mode === 'first-point') {
    // where the memory is: the V8 heap (objects, strings) or buffers outside it
    const peak = { heapUsed: 0, external: 0, arrayBuffers: 0, rss: 0 };
    const sample = () => {
      const m = process.memoryUsage();
      for (const key of Object.keys(peak) as Array<keyof typeof peak>) peak[key] = Math.max(peak[key], m[key]);
    };
    const sampler = setInterval(sample, 20);
    out.peakMemory = peak;
    let t = performance.now();
    // the capture process says how much memory it took (its own high-water mark, and above its start)
    const logger = {
      ...silentLogger,
      info: (message: string) => {
        const used = /^The (capture|clean-up) process used at most ([\d.]+) MB of memory \(([\d.]+) MB above its start\)/.exec(message);
        if (used?.[1] === 'capture') [out.processMaxRssMB, out.processAboveMB] = [Number(used[2]), Number(used[3])];
        if (used?.[1] === 'clean-up') [out.cleanupProcessMaxRssMB, out.cleanupProcessAboveMB] = [Number(used[2]), Number(used[3])];
      },
    };
    const captureProcess = request.captureScript ? { script: request.captureScript } : undefined;
    const store = await RecoveryStore.open({ storeDir: request.storeDir, roots, rules: request.rules, captureProcess, logger });
    out.openMs = performance.now() - t;
    t = performance.now();
    const point = await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    out.createMs = performance.now() - t;
    clearInterval(sampler);
    sample();
    // the kernel's high-water mark (what /usr/bin/time reports), before anything else runs
    out.pointMaxRss = process.resourceUsage().maxRSS * 1024;
    // what the store open in the extension keeps once the point is made
    out.afterPoint = settledMemory();
    if (request.cleanup) {
      // the store as the point left it, before the clean-up repacks it (the clean-up's own row measures after)
      out.duBeforeCleanup = diskUsage(request.storeDir);
      t = performance.now();
      const report = await store.recovery.cleanupRecoveryPoints();
      out.cleanupMs = performance.now() - t;
      out.cleanupRecompressed = report.recompressed ?? 0;
      out.cleanupMaxRss = process.resourceUsage().maxRSS * 1024;
      out.afterCleanup = settledMemory();
    }
    t = performance.now();
    await store.close();
    out.closeMs = performance.now() - t;
    out.totalMs = (out.openMs as number) + (out.createMs as number) + (out.closeMs as number);
    out.pointId = point?.id;
    out.fileCount = point?.fileCount;
    out.totalSize = point?.totalSize;
  } else if (request.mode === 'list') {
    out.heapBeforeMB = heapMB();
    const t = performance.now();
    const store = await RecoveryStore.open({ storeDir: request.storeDir, roots, rules: request.rules });
    out.openMs = performance.now() - t;
    const t2 = performance.now();
    const points = await store.recovery.listRecoveryPoints();
    out.listMs = performance.now() - t2;
    out.totalMs = performance.now() - t;
    out.count = points.length;
    // what an open store that has listed its points holds (run with --expose-gc: after a full collection)
    out.heapOpenMB = heapMB();
    await store.close();
  } else if (request.mode === 'changed-files') {
    out.heapBeforeMB = heapMB();
    const t = performance.now();
    const store = await RecoveryStore.open({ storeDir: request.storeDir, roots, rules: request.rules });
    out.openMs = performance.now() - t;
    // `newest`: the points listed first (untimed), as the command-line tool's `show latest` lists them
    const listed = request.pointId === 'newest' ? await store.recovery.listRecoveryPoints() : undefined;
    const pointId = listed ? listed[0]!.id : request.pointId!;
    const changed = () => store.recovery.changedFiles(pointId, listed);
    if (request.slices) {
      // the points listed first, as the extension has them: the turns measured are the changes' own
      await store.recovery.listRecoveryPoints();
      const { result: diff, slices } = await measureSlices(changed);
      Object.assign(out, { longestTurnMs: slices.longestWallMs, longestTurnCpuMs: slices.longestCpuMs, count: diff.added.length + diff.modified.length + diff.deleted.length });
    } else {
      const t2 = performance.now();
      const cpu = process.cpuUsage();
      const diff = await changed();
      out.changedMs = performance.now() - t2;
      const used = process.cpuUsage(cpu);
      out.changedCpuMs = (used.user + used.system) / 1000;
      out.count = diff.added.length + diff.modified.length + diff.deleted.length;
    }
    // what the open store holds once it has read a point's changes (run with --expose-gc: after a full collection)
    out.heapAfterMB = heapMB();
    await store.close();
  } else if (request.mode === 'one-file-point') {
    // a fresh process's first point, one file edited and named as the hint: an agent's hook, the helper's or a new window's first point
    const file = editIn([request.root], request.edits![0]!, `one-file-point-${Date.now()}`);
    out.heapBeforeMB = heapMB();
    const t = performance.now();
    const store = await RecoveryStore.open({ storeDir: request.storeDir, roots, rules: request.rules });
    const point = await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] });
    out.pointMs = performance.now() - t;
    out.fileCount = point?.fileCount;
    // what the open store holds once it has made the point (run with --expose-gc: after a full collection)
    out.heapAfterMB = heapMB();
    await store.close();
  } else if (request.mode === 'await-cost') {
    // what every other `await` of the process (in an extension host: every other extension's) costs
    // before the store is opened, inside one of its locked operations, and between its points
    out.awaitBeforeNs = await awaitCostNs();
    const store = await RecoveryStore.open({ storeDir: request.storeDir, roots, rules: request.rules });
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
    const file = editIn([request.root], request.edits![0]!, `await-cost-${Date.now()}`);
    await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] });
    out.awaitInsideNs = await store.persistence.lock.run(() => awaitCostNs());
    await new Promise((resolve) => setTimeout(resolve, 1));
    out.awaitAfterNs = await awaitCostNs();
    await store.close();
  } else if (request.mode === 'file-history') {
    // the first listing in a process: the store opened and its points listed first, as the extension has them
    const store = await RecoveryStore.open({ storeDir: request.storeDir, roots, rules: request.rules });
    await store.recovery.listRecoveryPoints();
    if (request.slices) {
      const { result: history, slices } = await measureSlices(() => readFileHistory(store, request.path!));
      Object.assign(out, { longestTurnMs: slices.longestWallMs, longestTurnCpuMs: slices.longestCpuMs, count: history.versions.length });
    } else {
      const cpu = process.cpuUsage();
      const t = performance.now();
      const history = await readFileHistory(store, request.path!);
      out.historyMs = performance.now() - t;
      const used = process.cpuUsage(cpu);
      out.historyCpuMs = (used.user + used.system) / 1000;
      out.count = history.versions.length;
    }
    await store.close();
  } else {
    Object.assign(out, await scenario(request));
  }
  out.maxRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Sets up, then runs the operation `repeat` times between two markers (for profiles and strace). */
async function scenario(request: ChildRequest): Promise<Record<string, unknown>> {
  const roots = [{ name: 'ws', path: request.root }];
  const repeat = request.repeat ?? 1;
  const edits = request.edits ?? [];
  const open = () => RecoveryStore.open({ storeDir: request.storeDir, roots, rules: request.rules });
  let store = await open();
  const times: number[] = [];
  let start = 0n;
  let end = 0n;
  const timed = async (work: () => Promise<unknown>) => {
    const t = performance.now();
    await work();
    times.push(performance.now() - t);
  };
  switch (request.scenario) {
    case 'first-point': {
      await store.close();
      fs.rmSync(request.storeDir, { recursive: true, force: true });
      start = mark(MARK_START);
      await timed(async () => {
        store = await open();
        await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' });
        await store.close();
      });
      end = mark(MARK_END);
      break;
    }
    case 'hint-point':
    case 'full-point': {
      // one point first, so the trees the hint path reads are as warm as in a running extension
      const warm = editIn([request.root], edits[0]!, `warm-${Date.now()}`);
      await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [warm] });
      start = mark(MARK_START);
      for (let i = 0; i < repeat; i++) {
        const file = editIn([request.root], edits[(i + 1) % edits.length]!, `profile-${Date.now()}-${i}`);
        await timed(() => store.recovery.createRecoveryPoint(undefined, request.scenario === 'hint-point' ? { trigger: 'save', changedPaths: [file] } : { trigger: 'save' }));
      }
      end = mark(MARK_END);
      break;
    }
    case 'list': {
      await store.close();
      start = mark(MARK_START);
      for (let i = 0; i < repeat; i++) {
        await timed(async () => {
          store = await open();
          await store.recovery.listRecoveryPoints();
        });
        if (i < repeat - 1) await store.close();
      }
      end = mark(MARK_END);
      break;
    }
    case 'restore-100':
    case 'restore-file': {
      const target = (await store.recovery.listRecoveryPoints())[0]!;
      const many = request.scenario === 'restore-100';
      start = mark(MARK_START);
      for (let i = 0; i < repeat; i++) {
        // edits are outside the timed part, but inside the window: they are a few writes; their paths
        // are the hint, as the extension's watcher passes them (the benchmark's restore rows)
        const changedPaths = (many ? edits : edits.slice(0, 1)).map((rel) => editIn([request.root], rel, `restore-${Date.now()}-${i}`));
        await timed(() => (many ? store.recovery.restore(target.id, { changedPaths }) : store.recovery.restoreFile(target.id, `ws/${edits[0]}`, { changedPaths })));
      }
      end = mark(MARK_END);
      break;
    }
    case 'changed-files': {
      const points = await store.recovery.listRecoveryPoints();
      await store.close();
      start = mark(MARK_START);
      for (let i = 0; i < repeat; i++) {
        store = await open();
        await timed(() => store.recovery.changedFiles(points[i % points.length]!.id));
        if (i < repeat - 1) await store.close();
      }
      end = mark(MARK_END);
      break;
    }
    default:
      throw new Error(`unknown scenario ${request.scenario}`);
  }
  await store.close();
  return { times, windowStartUs: Number(start / 1000n), windowEndUs: Number(end / 1000n) };
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
