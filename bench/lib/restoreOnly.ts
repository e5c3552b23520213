/**
 * `--restore-only`: the "Restore a point 100 files away" rows alone, on one synthetic workspace, with
 * wall and CPU time; `--against <commit>` also restores with the core of that commit, on a third copy
 * of the workspace, taking turns with this code and git in the same rounds (both cores bundled by
 * esbuild the same way, so the comparison is of the code alone).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RACY_WINDOW_MS, type RecoveryStore } from '../../src/core/index';
import { ShadowGit } from './git';
import { settleDisk } from './proc';
import { contentHash, createSynthetic, editIn, type Workspace } from './workspace';

export type Core = { RecoveryStore: typeof RecoveryStore };

/** One side's restore: wall and CPU milliseconds (CPU of this process: the main thread and the thread pool). */
export interface RestoreSample {
  readonly ms: number;
  readonly cpuMs: number;
  /** Minor page faults of this process meanwhile (a page touched for the first time, or copied after a fork); in-process samples only. */
  readonly faults?: number;
}

export interface RestoreOnlyResult {
  readonly ws: Workspace;
  readonly ours: RestoreSample[];
  readonly old: RestoreSample[];
  readonly git: number[];
  readonly safetyModes: { hint: number; full: number };
}

/** Bundles `src/core/index.ts` of a source folder (this one, or a commit's copy) into one CommonJS file and loads it. */
export async function loadCore(sourceRoot: string, outfile: string, nodeModules: string): Promise<Core> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({ entryPoints: [path.join(sourceRoot, 'src', 'core', 'index.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, nodePaths: [nodeModules], logLevel: 'warning' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(outfile) as Core;
}

/** The `src` folder of `commit`, written under `into`. */
export function extractCommit(repo: string, commit: string, into: string): void {
  fs.mkdirSync(into, { recursive: true });
  const archive = path.join(into, 'src.tar');
  execFileSync('git', ['-C', repo, 'archive', '-o', archive, commit, 'src']);
  execFileSync('tar', ['-xf', archive, '-C', into]);
}

export async function timed(work: () => Promise<unknown>): Promise<RestoreSample> {
  const faults = process.resourceUsage().minorPageFault;
  const cpu = process.cpuUsage();
  const t = performance.now();
  await work();
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, faults: process.resourceUsage().minorPageFault - faults };
}

/** This checkout's core on the workspace, and with `against` that commit's core on a copy of it (same rounds, side by side). */
export async function coresToCompare(options: { tmp: string; files: number; against?: string; repo: string }, ws: Workspace): Promise<Array<{ side: 'ours' | 'old'; core: Core; root: string }>> {
  const { tmp, files } = options;
  const nodeModules = path.join(options.repo, 'node_modules');
  const cores: Array<{ side: 'ours' | 'old'; core: Core; root: string }> = [{ side: 'ours', core: await loadCore(options.repo, path.join(tmp, 'core-ours.cjs'), nodeModules), root: ws.ours }];
  if (options.against) {
    const source = path.join(tmp, 'against');
    extractCommit(options.repo, options.against, source);
    const root = path.join(tmp, `synthetic-${files}-old`);
    execFileSync('cp', ['-a', ws.ours, root]);
    cores.push({ side: 'old', core: await loadCore(source, path.join(tmp, 'core-old.cjs'), nodeModules), root });
  }
  return cores;
}

/**
 * What the extension's idle time does between the point that took some edits and a restore of them,
 * which comes seconds or minutes later: it reads again the files its point read within the capture
 * cache's racy window and keeps them (`settleRecentFiles`, 2.5 s after the point). Waits until the
 * edits (made at `editedAt`, ms since the epoch) are out of the window first. Untimed. A core without
 * `settleRecentFiles` (an older commit's) only waits. Git's side is left as its commit left it: a
 * refreshed index (`git update-index --refresh`, what an editor's `git status` does) made its
 * `reset --hard` no faster (74.6 and 78.4 ms without, 82.2 and 104 ms with, 12 rounds each).
 */
export async function settleLikeTheExtension(stores: readonly RecoveryStore[], editedAt: number): Promise<void> {
  const wait = editedAt + RACY_WINDOW_MS + 100 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  for (const store of stores) await (store.persistence as { settleRecentFiles?: () => Promise<number> }).settleRecentFiles?.();
}

/**
 * `saved`: the edits are in a point before the restore (untimed), as the extension's points on save and
 * on outside changes put them, and git commits them (untimed): the restore's hint is then empty. The
 * restore comes after the extension's idle time (`settleLikeTheExtension`), as a person's does.
 * Without it, the 100 edited files are in no point and the safety point stores them.
 */
export async function restoreOnly(options: { tmp: string; files: number; seed: string; rounds: number; against?: string; saved?: boolean; repo: string; log: (message: string) => void }): Promise<RestoreOnlyResult> {
  const { tmp, files, rounds, log } = options;
  const ws = createSynthetic(tmp, files, options.seed);
  const cores = await coresToCompare(options, ws);
  const sg = await ShadowGit.withFirstCheckpoint(path.join(tmp, 'restore-shadow.git'), ws.git);
  const targetCommit = sg.head();
  const sides = await Promise.all(
    cores.map(async ({ side, core, root }) => {
      const store = await core.RecoveryStore.open({ storeDir: path.join(tmp, `restore-store-${side}`), roots: [{ name: 'ws', path: root }], actor: 'bench' });
      const target = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' }))!;
      return { side, store, root, target };
    }),
  );
  log(`restore-only: ${ws.label}, ${sides.map((s) => s.side).join(' + ')} + git, ${rounds} rounds${options.saved ? ', the edits saved in a point first' : ''}`);
  const hundred = ws.editable.slice(0, Math.min(100, ws.editable.length));
  const expected = new Map(hundred.map((rel) => [rel, contentHash(ws.ours, rel)]));
  const result: RestoreOnlyResult = { ws, ours: [], old: [], git: [], safetyModes: { hint: 0, full: 0 } };
  const turns = [...sides.map((s) => s.side), 'git'] as const;
  for (let r = 0; r < rounds; r++) {
    // a full-scan point when the newest is a safety point, as the extension's first point after a restore
    for (const s of sides) {
      if ((await s.store.recovery.listRecoveryPoints())[0]?.trigger === 'before-restore') await s.store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
    }
    const edited = new Map<string, string[]>(sides.map((s) => [s.side, []]));
    const editedAt = Date.now();
    for (const rel of hundred) {
      editIn([ws.git, ...sides.map((s) => s.root)], rel, `restore-only-${r}`);
      for (const s of sides) edited.get(s.side)!.push(path.join(s.root, ...rel.split('/')));
    }
    if (options.saved) {
      for (const s of sides) {
        await s.store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: edited.get(s.side)! });
        edited.set(s.side, []);
      }
      sg.checkpoint(`restore-only edits ${r}`);
      await settleLikeTheExtension(sides.map((s) => s.store), editedAt);
    }
    // each round starts with another side
    const order = turns.map((_, i) => turns[(i + r) % turns.length]!);
    for (const side of order) {
      settleDisk();
      if (side === 'git') {
        result.git.push(sg.git(['reset', '-q', '--hard', targetCommit]).ms);
        continue;
      }
      const s = sides.find((x) => x.side === side)!;
      let capture: 'hint' | 'full' = 'full';
      const sample = await timed(async () => {
        capture = (await s.store.recovery.restore(s.target.id, { changedPaths: edited.get(side)! })).safetyCapture;
      });
      result[side].push(sample);
      if (side === 'ours') result.safetyModes[capture]++;
    }
    for (const root of [ws.git, ...sides.map((s) => s.root)]) {
      for (const rel of hundred) if (contentHash(root, rel) !== expected.get(rel)) throw new Error(`restore-only: ${rel} not restored in ${root}`);
    }
  }
  for (const s of sides) await s.store.close();
  return result;
}
