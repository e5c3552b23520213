// The multi-root workspace of the "workspace" run (scripts/host/runHostTests.mjs): a temporary copy of
// test/host/fixtures/multiRoot/ opened through its .code-workspace file. Tests change the file (names,
// paths, folders) as a person would, and wait until VS Code and the extension have read it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PROJECT_ROOT, closeAllEditors, settle, store, waitFor, type Api } from '../helpers';

export const FIXTURE = path.join(PROJECT_ROOT, 'test', 'host', 'fixtures', 'multiRoot');

/** The opened .code-workspace file. */
export function workspaceFile(): string {
  const file = vscode.workspace.workspaceFile;
  assert.ok(file?.scheme === 'file' && file.fsPath.endsWith('.code-workspace'), 'a .code-workspace file is open');
  return file.fsPath;
}

/** The folder holding the workspace file and its folders. */
export function parentDir(): string {
  return path.dirname(workspaceFile());
}

/** A file of the parent folder, from its path relative to it (`two/notes.md`). */
export function file(rel: string): string {
  return path.join(parentDir(), ...rel.split('/'));
}

export function read(rel: string): string {
  return fs.readFileSync(file(rel), 'utf8');
}

export function write(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(file(rel)), { recursive: true });
  fs.writeFileSync(file(rel), text);
}

export function fixtureText(rel: string): string {
  return fs.readFileSync(path.join(FIXTURE, ...rel.split('/')), 'utf8');
}

/** One entry of the workspace file's `folders`: a path relative to the file, and a name when it has one. */
export interface FolderEntry {
  readonly path: string;
  readonly name?: string;
}

/** Writes the workspace file's folders and waits until VS Code and the extension's store work with them. */
export async function setFolders(api: Api, entries: readonly FolderEntry[]): Promise<void> {
  fs.writeFileSync(workspaceFile(), JSON.stringify({ folders: entries }, null, 2));
  const wanted = JSON.stringify(entries.map((e) => ({ name: e.name ?? path.basename(e.path), path: path.resolve(parentDir(), e.path) })));
  const now = (folders: ReadonlyArray<{ name: string; path: string }>) => JSON.stringify(folders.map((f) => ({ name: f.name, path: f.path })));
  await waitFor('VS Code to read the workspace file', () => now((vscode.workspace.workspaceFolders ?? []).map((f) => ({ name: f.name, path: f.uri.fsPath }))) === wanted);
  await waitFor('the extension to work with the new folders', () => now(store(api).persistence.workspaceRoots) === wanted);
}

export const ORIGINAL_FOLDERS: readonly FolderEntry[] = [{ path: 'one' }, { path: 'two' }];

function listFiles(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === '.hg') return [];
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full, base) : [path.relative(base, full).split(path.sep).join('/')];
  });
}

/** The files of a folder (relative paths, `.hg` left out), sorted. */
export function filesOf(rel: string): string[] {
  return listFiles(file(rel)).sort();
}

/**
 * Back to the fixture: the workspace file's two folders, their files as in the fixture (a folder moved
 * by a test moved back, folders a test added removed), editors closed, no points, nothing to undo.
 */
export async function resetMultiRoot(api: Api): Promise<void> {
  await closeAllEditors();
  api.prompts.reset();
  if (!fs.existsSync(file('two')) && fs.existsSync(file('moved/two'))) fs.renameSync(file('moved/two'), file('two'));
  await setFolders(api, ORIGINAL_FOLDERS);
  for (const extra of ['moved', 'three']) fs.rmSync(file(extra), { recursive: true, force: true });
  for (const folder of ['one', 'two']) {
    const wanted = new Set(listFiles(path.join(FIXTURE, folder)));
    for (const rel of listFiles(file(folder))) if (!wanted.has(rel)) fs.rmSync(file(`${folder}/${rel}`));
    for (const rel of wanted) if (!fs.existsSync(file(`${folder}/${rel}`)) || read(`${folder}/${rel}`) !== fixtureText(`${folder}/${rel}`)) write(`${folder}/${rel}`, fixtureText(`${folder}/${rel}`));
  }
  await settle(api);
  const s = store(api);
  const ids = (await s.recovery.listRecoveryPoints()).map((p) => p.id);
  if (ids.length > 0) await s.recovery.deletePoints(ids);
  await s.state.updateState({ lastRestore: null });
  await api.model!.refresh();
}
