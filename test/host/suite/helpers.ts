// Shared by the extension-host tests (bundled into each compiled test file). Everything here drives
// the real extension through its API and real VS Code; only the person's answers are scripted, with
// `api.prompts.answerNext(...)`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PointSummary } from '../../../src/core';
import type { RecoveryPointsApi } from '../../../src/extension/container';
import type { Node } from '../../../src/extension/views/pointsTreeProvider';

export const EXTENSION_ID = 'recovery-points.recovery-points';
/** The checkout: test files are compiled to out/test/host/ (a suite's subfolder for some). */
export const PROJECT_ROOT = __dirname.slice(0, __dirname.lastIndexOf(`${path.sep}out${path.sep}test${path.sep}host`));
export const FIXTURE = path.join(PROJECT_ROOT, 'test', 'host', 'fixtures', 'workspace');

export type Api = RecoveryPointsApi;
export type { Node, PointSummary };

/** The one workspace folder the runner opens: a temporary copy of the fixture. */
export function workspaceFolder(): vscode.WorkspaceFolder {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  return folder;
}

/** The absolute path of a file of the workspace, from its relative path (`src/greeting.ts`). */
export function wsFile(rel: string): string {
  return path.join(workspaceFolder().uri.fsPath, ...rel.split('/'));
}

export function wsUri(rel: string): vscode.Uri {
  return vscode.Uri.file(wsFile(rel));
}

/** The path a point uses for a workspace file: `<folder name>/<rel>`. */
export function pointPath(rel: string): string {
  return `${workspaceFolder().name}/${rel}`;
}

export function readFile(rel: string): string {
  return fs.readFileSync(wsFile(rel), 'utf8');
}

export function writeFile(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(wsFile(rel)), { recursive: true });
  fs.writeFileSync(wsFile(rel), text);
}

export function fixtureText(rel: string): string {
  return fs.readFileSync(path.join(FIXTURE, ...rel.split('/')), 'utf8');
}

/** The activated extension's API, once its store is open. */
export async function getApi(): Promise<Api> {
  const extension = vscode.extensions.getExtension<Api>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  const api = await extension.activate();
  await api.ready;
  assert.ok(api.store, 'the extension opened its store');
  return api;
}

export function store(api: Api): NonNullable<Api['store']> {
  assert.ok(api.store, 'the store is open');
  return api.store;
}

/** The points in the store, newest first (read from disk, not from the view's model). */
export function listPoints(api: Api): Promise<PointSummary[]> {
  return store(api).recovery.listRecoveryPoints();
}

/** How much longer than on an idle machine a wait may take: the runner's load factor (RP_HOST_WAIT_SCALE, see runHostTests.mjs). */
export const WAIT_SCALE = Number(process.env.RP_HOST_WAIT_SCALE) || 1;

/** Polls `check` every 50 ms until it returns a value other than undefined/false, for at most `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000 * WAIT_SCALE): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the store holds a point that is not in `before` and fits `filter`; returns it. */
export function waitForNewPoint(api: Api, before: readonly PointSummary[], filter: (p: PointSummary) => boolean = () => true, timeoutMs = 10_000 * WAIT_SCALE): Promise<PointSummary> {
  const known = new Set(before.map((p) => p.id));
  return waitFor('a new recovery point', async () => (await listPoints(api)).find((p) => !known.has(p.id) && filter(p)), timeoutMs);
}

/** The points in the store now that are not in `before`, newest first. */
export async function newPoints(api: Api, before: readonly PointSummary[]): Promise<PointSummary[]> {
  const known = new Set(before.map((p) => p.id));
  return (await listPoints(api)).filter((p) => !known.has(p.id));
}

let barrierCount = 0;

/**
 * Resolves once every file-system event caused before the call has reached the extension's
 * watchers: a marker file is written in `.hg/` (a folder the extension never captures and whose
 * events it drops), and the events arrive in order, so when a watcher of ours sees the marker, the
 * extension's watcher has seen everything before it.
 */
export async function fileEventBarrier(timeoutMs = 10_000 * WAIT_SCALE): Promise<void> {
  const folder = workspaceFolder();
  const marker = path.join(folder.uri.fsPath, '.hg', `rp-barrier-${process.pid}-${++barrierCount}`);
  const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/*'));
  try {
    const seen = new Promise<void>((resolve) => {
      const onEvent = (uri: vscode.Uri) => uri.fsPath === marker && resolve();
      watcher.onDidCreate(onEvent);
      watcher.onDidChange(onEvent);
    });
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    // Written again every half second until seen: right after the window opens, the file watcher may
    // not be watching yet, and the first write goes unreported.
    const deadline = Date.now() + timeoutMs;
    let isSeen = false;
    void seen.then(() => (isSeen = true));
    while (!isSeen) {
      if (Date.now() > deadline) throw new Error(`no file event for ${marker} within ${timeoutMs} ms`);
      fs.writeFileSync(marker, String(Date.now()));
      await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 500))]);
    }
  } finally {
    watcher.dispose();
    fs.rmSync(marker, { force: true });
  }
}

/** Every automatic point already due (saves, changes on disk) is created: file events delivered, then pending points flushed. */
export async function settle(api: Api): Promise<void> {
  await fileEventBarrier();
  await api.auto!.flush();
}

/** Sets a `recoveryPoints.*` setting in the user settings (never in the workspace, whose files the tests count). */
export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('recoveryPoints').update(key, value, vscode.ConfigurationTarget.Global);
  const shown = vscode.workspace.getConfiguration('recoveryPoints').inspect(key)?.globalValue;
  assert.deepEqual(shown, value, `recoveryPoints.${key} is set when update() resolves`);
}

function contributedSettings(): string[] {
  const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
  const properties = extension.packageJSON.contributes.configuration.properties as Record<string, unknown>;
  return Object.keys(properties).map((key) => key.slice('recoveryPoints.'.length));
}

/** Reverts and closes every editor, so no unsaved edit or open tab carries over to the next test. */
export async function closeAllEditors(): Promise<void> {
  for (const doc of vscode.workspace.textDocuments) {
    if (!doc.isDirty || doc.isClosed) continue;
    await vscode.window.showTextDocument(doc, { preview: false });
    await vscode.commands.executeCommand('workbench.action.files.revert');
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

function listFiles(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(full, base);
    return [path.relative(base, full).split(path.sep).join('/')];
  });
}

/**
 * Puts everything back as the runner left it: editors closed, settings at their defaults, the
 * workspace files equal to the fixture, no points in the store, no restore to undo, no queued answers.
 */
export async function resetAll(api: Api): Promise<void> {
  await settle(api);
  await closeAllEditors();
  api.prompts.reset();
  const settings = vscode.workspace.getConfiguration('recoveryPoints');
  for (const key of contributedSettings()) {
    if (settings.inspect(key)?.globalValue !== undefined) await settings.update(key, undefined, vscode.ConfigurationTarget.Global);
  }
  const root = workspaceFolder().uri.fsPath;
  const wanted = new Set(listFiles(FIXTURE));
  for (const entry of fs.readdirSync(root)) {
    if (entry === '.hg') continue;
    const full = path.join(root, entry);
    for (const rel of fs.statSync(full).isDirectory() ? listFiles(full, root) : [entry]) {
      if (!wanted.has(rel)) fs.rmSync(path.join(root, rel), { force: true });
    }
  }
  for (const rel of wanted) {
    const text = fixtureText(rel);
    if (!fs.existsSync(wsFile(rel)) || readFile(rel) !== text) writeFile(rel, text);
  }
  removeEmptyFolders(root);
  await settle(api);
  const s = store(api);
  const ids = (await s.recovery.listRecoveryPoints()).map((p) => p.id);
  if (ids.length > 0) await s.recovery.deletePoints(ids);
  await s.state.updateState({ lastRestore: null });
  // One point to compare against, so the first point a test makes names only what the test changed.
  const baseline = await s.recovery.createRecoveryPoint(undefined, { trigger: 'manual', summary: 'Test baseline' });
  assert.ok(baseline, 'the baseline point was created');
  await api.model!.refresh();
  assert.deepEqual((await listPoints(api)).map((p) => p.id), [baseline.id], 'the store holds only the baseline after the reset');
}

function removeEmptyFolders(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.hg') continue;
    const full = path.join(dir, entry.name);
    removeEmptyFolders(full);
    if (fs.readdirSync(full).length === 0) fs.rmdirSync(full);
  }
}

/** Checks after each test that every scripted answer was used, and fitted its question. */
export function assertPromptsUsed(api: Api): void {
  const problems = [...api.prompts.problems];
  const pending = api.prompts.pending;
  api.prompts.reset();
  assert.deepEqual(problems, [], 'every scripted answer fitted its question');
  assert.equal(pending, 0, 'every scripted answer was used by a question');
}

/** Runs a command as the palette, a menu or a tree item would. */
export function run<T = unknown>(command: string, ...args: unknown[]): Promise<T> {
  return vscode.commands.executeCommand<T>(`recoveryPoints.${command}`, ...args) as Promise<T>;
}

/** Creates a point with "Create Recovery Point…" (label typed into the input box) and returns it. */
export async function createPoint(api: Api, label = ''): Promise<PointSummary> {
  api.prompts.answerNext({ input: label });
  const id = await run<string | undefined>('create');
  assert.ok(id, 'create returned the new point id');
  const point = (await listPoints(api)).find((p) => p.id === id);
  assert.ok(point, 'the new point is in the store');
  return point;
}

/** Opens a workspace file in an editor. */
export async function openEditor(rel: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(wsUri(rel));
  return vscode.window.showTextDocument(doc, { preview: false });
}

/** Replaces a document's whole text in its editor (the document is left unsaved). */
export async function replaceText(editor: vscode.TextEditor, text: string): Promise<void> {
  const doc = editor.document;
  const ok = await editor.edit((edit) => edit.replace(new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), text));
  assert.ok(ok, 'the edit was applied');
}

/** Opens, edits and saves a file in the editor, as a person would. */
export async function editAndSave(rel: string, text: string): Promise<vscode.TextDocument> {
  const editor = await openEditor(rel);
  await replaceText(editor, text);
  assert.ok(await editor.document.save(), `${rel} was saved`);
  return editor.document;
}

/** The text a point holds for a file, read through the extension's `recovery-point:` documents. */
export async function pointText(pointId: string, rel: string): Promise<string> {
  const uri = vscode.Uri.from({ scheme: 'recovery-point', path: `/${pointPath(rel)}`, query: pointId });
  return (await vscode.workspace.openTextDocument(uri)).getText();
}

/** The tree's children of `node` (the roots when absent), with their tree items. */
export async function treeChildren(api: Api, node?: Node): Promise<Array<{ node: Node; item: vscode.TreeItem }>> {
  const tree = api.tree;
  assert.ok(tree, 'the tree provider exists');
  const children = (await tree.getChildren(node)) ?? [];
  return Promise.all(children.map(async (child) => ({ node: child, item: await tree.getTreeItem(child) })));
}

export function labelText(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

/** The tree's node of a point (under its day). */
export async function pointNode(api: Api, pointId: string): Promise<Node> {
  for (const day of await treeChildren(api)) {
    for (const child of await treeChildren(api, day.node)) {
      if (child.node.kind === 'point' && child.node.point.id === pointId) return child.node;
    }
  }
  throw new Error(`the tree has no node for point ${pointId}`);
}

/** The changed files under a node (a point or a folder of its changes), through its folders, with their tree items. */
export async function changedFileRows(api: Api, node: Node): Promise<Array<{ node: Node; item: vscode.TreeItem }>> {
  const rows: Array<{ node: Node; item: vscode.TreeItem }> = [];
  for (const child of await treeChildren(api, node)) {
    if (child.node.kind === 'file') rows.push(child);
    else if (child.node.kind === 'folder') rows.push(...(await changedFileRows(api, child.node)));
  }
  return rows;
}

/** The tree's node of a changed file under a point (in the folders of its changes). */
export async function fileNode(api: Api, pointId: string, rel: string): Promise<Node> {
  const children = await changedFileRows(api, await pointNode(api, pointId));
  const found = children.find((c) => c.node.kind === 'file' && c.node.change.path === pointPath(rel));
  assert.ok(found, `the tree lists ${rel} under point ${pointId}`);
  return found.node;
}

/** The active tab when it is a diff editor. */
export function activeDiff(): vscode.TabInputTextDiff | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputTextDiff ? input : undefined;
}
