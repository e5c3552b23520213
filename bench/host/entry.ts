// The benchmark's part inside a real VS Code: loaded as extensionTestsPath by bench/host.ts (compiled to
// out/bench/host/index.js). Measures the extension's activation and the time from a save to its point
// being in the store and in the view, on the workspace the runner opened, then reloads the window
// (Developer: Reload Window): the workbench runs this entry again in the new extension host, which
// measures activation and the tree after the reload. Writes the samples as JSON to RP_BENCH_HOST_OUT.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RecoveryPointsApi } from '../../src/extension/container';
import type { HostSamples } from '../lib/host';

const EXTENSION_ID = 'recovery-points.recovery-points';

/** Written before the reload: when the reload was asked for, and the samples so far. */
interface BeforeReload {
  readonly reloadAt: number;
  readonly samples: HostSamples;
}

export async function run(): Promise<void> {
  const out = process.env.RP_BENCH_HOST_OUT;
  if (out && fs.existsSync(`${out}.reload`)) return afterReload(out);
  const edits = (process.env.RP_BENCH_HOST_EDITS ?? '').split('\n').filter(Boolean);
  const rounds = Number(process.env.RP_BENCH_HOST_ROUNDS ?? 20);
  const defaultRounds = Number(process.env.RP_BENCH_HOST_DEFAULT_ROUNDS ?? 3);
  if (!out || edits.length === 0) throw new Error('RP_BENCH_HOST_OUT and RP_BENCH_HOST_EDITS must be set');
  const extension = vscode.extensions.getExtension<RecoveryPointsApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not loaded`);
  const api = await extension.activate();
  await api.ready;
  if (!api.store || !api.auto || !api.model || api.activationMs === undefined) throw new Error('the extension did not open its store');
  const pointsAtStart = api.model.points.length;
  const startupStarted = performance.now();
  await api.auto.flush();
  const startupPointMs = performance.now() - startupStarted;
  const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const config = vscode.workspace.getConfiguration('recoveryPoints');
  const samples: HostSamples = {
    activationMs: api.activationMs,
    startupPointMs,
    pointsAtStart,
    saveToPoint: [],
    capture: [],
    saveToPointDefault: [],
    files: api.model.points[0]?.fileCount ?? 0,
  };
  const model = api.model;
  const timings = () => api.store!.recovery.stats().then((s) => s.timings);

  async function saveAndWait(rel: string, tag: string): Promise<number> {
    const before = model.points[0]?.id;
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(path.join(folder, ...rel.split('/'))));
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, new vscode.Position(Math.floor(document.lineCount / 2), 0), `// ${tag}\n`);
    await vscode.workspace.applyEdit(edit);
    const listed = new Promise<void>((resolve) => {
      const subscription = model.onDidChange(() => {
        if (model.points[0] && model.points[0].id !== before) {
          subscription.dispose();
          resolve();
        }
      });
    });
    const started = performance.now();
    if (!(await document.save())) throw new Error(`could not save ${rel}`);
    await listed;
    return performance.now() - started;
  }

  await config.update('mergeWindowSeconds', 0, vscode.ConfigurationTarget.Global);
  await saveAndWait(edits[0]!, 'warm-up');
  for (let i = 0; i < rounds; i++) {
    const before = await timings();
    samples.saveToPoint.push(await saveAndWait(edits[(i + 1) % edits.length]!, `edit ${i}`));
    const after = await timings();
    const key = Object.keys(after).find((k) => k.startsWith('create (hint'));
    if (key) {
      const total = (after[key]!.totalMs ?? 0) - (before[key]?.totalMs ?? 0);
      samples.capture.push(total);
    }
  }
  await config.update('mergeWindowSeconds', undefined, vscode.ConfigurationTarget.Global);
  for (let i = 0; i < defaultRounds; i++) samples.saveToPointDefault.push(await saveAndWait(edits[(i + rounds + 1) % edits.length]!, `default ${i}`));
  const steps = api.activationSteps;
  if (steps) console.log(`bench: first start: store opened in ${steps.storeOpenMs.toFixed(0)} ms, points listed in ${steps.listMs.toFixed(0)} ms, the host's thread busy ${Math.round(steps.hostBusy * 100)} %; the extension host had run ${steps.hostUptimeMs.toFixed(0)} ms before activation`);
  console.log(`bench: activation ${samples.activationMs.toFixed(0)} ms, ${samples.saveToPoint.length} saves measured; reloading the window`);
  // The view open, as a person has it, so the reloaded window restores it.
  await vscode.commands.executeCommand('workbench.view.extension.recoveryPoints');
  await waitUntil(() => api.view?.visible === true);
  await api.auto.flush();
  const before: BeforeReload = { reloadAt: Date.now(), samples };
  fs.writeFileSync(`${out}.reload`, JSON.stringify(before));
  await vscode.commands.executeCommand('workbench.action.reloadWindow');
  await new Promise(() => undefined); // this extension host ends with the window
}

/** In the reloaded window: the extension's activation, and the time from the reload until the tree shows the points. */
async function afterReload(out: string): Promise<void> {
  const before = JSON.parse(fs.readFileSync(`${out}.reload`, 'utf8')) as BeforeReload;
  const extension = vscode.extensions.getExtension<RecoveryPointsApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not loaded`);
  const api = await extension.activate();
  await api.ready;
  if (!api.model || !api.view || api.activationMs === undefined) throw new Error('the extension did not open its store after the reload');
  const view = api.view;
  const model = api.model;
  await waitUntil(() => view.visible && model.points.length > 0);
  const samples: HostSamples = { ...before.samples, activationAfterReloadMs: api.activationMs, treeAfterReloadMs: Date.now() - before.reloadAt };
  fs.writeFileSync(out, JSON.stringify(samples));
  const steps = api.activationSteps;
  const detail = steps ? ` (store opened in ${steps.storeOpenMs.toFixed(0)} ms, points listed in ${steps.listMs.toFixed(0)} ms, the host's thread busy ${Math.round(steps.hostBusy * 100)} %; the extension host had run ${steps.hostUptimeMs.toFixed(0)} ms before activation)` : '';
  const relisted = performance.now();
  await api.store!.recovery.listRecoveryPoints();
  console.log(`bench: after the reload, listing the points again took ${(performance.now() - relisted).toFixed(0)} ms`);
  console.log(`bench: after the reload, activation ${samples.activationAfterReloadMs!.toFixed(0)} ms${detail}, tree ${samples.treeAfterReloadMs} ms after the reload`);
}

async function waitUntil(check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting in the benchmark entry');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
