/**
 * The benchmark's rows from a real VS Code: the extension's activation and the time from a save to its
 * point being listed, measured by bench/host/entry.ts inside the extension host that
 * scripts/host/runHostTests.mjs runs (the VS Code server + headless Chromium) on a synthetic workspace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSynthetic, type Workspace } from './workspace';

/** What bench/host/entry.ts measures in the extension host (times in ms). */
export interface HostSamples {
  activationMs: number;
  startupPointMs: number;
  pointsAtStart: number;
  /** mergeWindowSeconds 0: save → point listed. */
  saveToPoint: number[];
  /** The same saves: how long the capture itself took, from the store's own timing. */
  capture: number[];
  /** The default merge window (5 s): save → point listed. */
  saveToPointDefault: number[];
  files: number;
  /** After Developer: Reload Window: the extension's own activation measure ("Ready in"). */
  activationAfterReloadMs?: number;
  /** From asking for the reload until the reloaded window's view shows the points (wall clock). */
  treeAfterReloadMs?: number;
}

interface HostRunner {
  runEntryInHost(options: { entry: string; folder: string; env?: Record<string, string>; userSettings?: Record<string, unknown>; timeoutSeconds?: number; logsDir?: string }): Promise<{ code: number; reason?: string }>;
}

interface CodeServer {
  isHostInstalled(): boolean;
}

/** The samples from the host, or `skipped` with the reason when it cannot run here (not installed, extension not built). */
export async function runHostBench(root: string, tmp: string, files: number, seed: string, rounds: number): Promise<{ samples: HostSamples; workspace: Workspace } | { skipped: string }> {
  const codeServer = (await import(pathToFileURL(path.join(root, 'scripts', 'host', 'codeServer.mjs')).href)) as CodeServer;
  if (!codeServer.isHostInstalled()) return { skipped: 'code-server is not installed (npm run host:install)' };
  if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) return { skipped: 'dist/extension.js is missing (npm run build)' };
  const runner = (await import(pathToFileURL(path.join(root, 'scripts', 'host', 'runHostTests.mjs')).href)) as HostRunner;
  const entry = path.join(root, 'out', 'bench', 'host', 'index.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({ entryPoints: [path.join(root, 'bench', 'host', 'entry.ts')], outfile: entry, bundle: true, packages: 'external', external: ['vscode'], platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
  const workspace = createSynthetic(path.join(tmp, 'host'), files, seed);
  const out = path.join(tmp, 'host-samples.json');
  const result = await runner.runEntryInHost({
    entry,
    folder: workspace.ours,
    env: { RP_BENCH_HOST_OUT: out, RP_BENCH_HOST_EDITS: workspace.editable.slice(0, rounds + 10).join('\n'), RP_BENCH_HOST_ROUNDS: String(rounds) },
    timeoutSeconds: 600,
    logsDir: path.join(root, 'bench-results', 'host-logs'),
  });
  if (result.code !== 0 || !fs.existsSync(out)) throw new Error(`the benchmark in the VS Code host failed${result.reason ? `: ${result.reason}` : ''}`);
  return { samples: JSON.parse(fs.readFileSync(out, 'utf8')) as HostSamples, workspace };
}
