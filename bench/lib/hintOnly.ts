/**
 * `--hint-only`: the "One-file point, path given as a hint" row alone, on one synthetic workspace, with
 * wall and CPU time, against `git add -A && git commit` in the same rounds; `--against <commit>` also
 * makes the points with the core of that commit, on a copy of the workspace, taking turns (both cores
 * bundled by esbuild the same way, so the comparison is of the code alone). Each iteration then makes
 * one point of ours and one commit more with git and `sync` started by another process
 * (`RunnerElsewhere`), so that this process, which holds the store, is not forked between our points.
 */
import * as path from 'node:path';
import { ShadowGit } from './git';
import { settleDisk } from './proc';
import { RunnerElsewhere } from './runnerElsewhere';
import { coresToCompare, timed, type RestoreSample } from './restoreOnly';
import { createSynthetic, editIn, type Workspace } from './workspace';

export interface HintOnlyResult {
  readonly ws: Workspace;
  readonly ours: RestoreSample[];
  readonly old: RestoreSample[];
  readonly git: number[];
  /** The same turns of ours and git with git and `sync` started by another process (`RunnerElsewhere`). */
  readonly oursElsewhere: RestoreSample[];
  readonly gitElsewhere: number[];
}

export async function hintOnly(options: { tmp: string; files: number; seed: string; rounds: number; iterations: number; against?: string; repo: string; log: (message: string) => void }): Promise<HintOnlyResult> {
  const { tmp, files, rounds, iterations, log } = options;
  const ws = createSynthetic(tmp, files, options.seed);
  const cores = await coresToCompare(options, ws);
  const sg = await ShadowGit.withFirstCheckpoint(path.join(tmp, 'hint-shadow.git'), ws.git);
  const sides = await Promise.all(
    cores.map(async ({ side, core, root }) => {
      const store = await core.RecoveryStore.open({ storeDir: path.join(tmp, `hint-store-${side}`), roots: [{ name: 'ws', path: root }], actor: 'bench' });
      await store.recovery.createRecoveryPoint(undefined, { trigger: 'external' });
      // one untimed hint point, so the trees the hint path reads are as warm as in a running extension
      const warm = editIn([root], ws.editable[0]!, 'hint-only-warm');
      await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [warm] });
      return { side, store, root };
    }),
  );
  log(`hint-only: ${ws.label}, ${sides.map((s) => s.side).join(' + ')} + git, ${rounds} rounds × ${iterations}`);
  const result: HintOnlyResult = { ws, ours: [], old: [], git: [], oursElsewhere: [], gitElsewhere: [] };
  const ours = sides.find((s) => s.side === 'ours')!;
  const turns = [...sides.map((s) => s.side), 'git'] as const;
  const runner = new RunnerElsewhere();
  const hintPoint = async (s: (typeof sides)[number], rel: string, tag: string, settle: () => unknown): Promise<RestoreSample> => {
    const file = editIn([s.root], rel, tag);
    await settle();
    return timed(() => s.store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [file] }));
  };
  let n = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < iterations; i++) {
        // one point a side in turn, as in the full run (where git's commit or a full check comes between
        // two of our hint points): five of ours in a row ran warm, 1–2 ms of CPU cheaper than after a pause
        const order = turns.map((_, k) => turns[(k + r + i) % turns.length]!);
        for (const side of order) {
          const rel = ws.editable[(1 + n++) % ws.editable.length]!;
          if (side === 'git') {
            editIn([ws.git], rel, `hint-only-${r}-${i}`);
            settleDisk();
            result.git.push(sg.checkpoint(`c${r}-${i}`).ms);
          } else result[side].push(await hintPoint(sides.find((x) => x.side === side)!, rel, `hint-only-${r}-${i}`, settleDisk));
        }
        // the same turns, with git and sync started by another process: this one is not forked between our points
        for (const side of (r + i) % 2 === 0 ? (['ours', 'git'] as const) : (['git', 'ours'] as const)) {
          const rel = ws.editable[(1 + n++) % ws.editable.length]!;
          if (side === 'git') {
            editIn([ws.git], rel, `hint-elsewhere-${r}-${i}`);
            await runner.settleDisk();
            result.gitElsewhere.push(await sg.checkpointElsewhere(runner, `e${r}-${i}`));
          } else result.oursElsewhere.push(await hintPoint(ours, rel, `hint-elsewhere-${r}-${i}`, () => runner.settleDisk()));
        }
      }
    }
  } finally {
    runner.close();
  }
  for (const s of sides) await s.store.close();
  return result;
}
