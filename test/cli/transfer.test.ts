import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, ensureBuilt, REPO } from './helpers/runCli';
import { currentOwner, ownerFileName } from '../../src/core/lock/lockOwner';
import { cleanupAll, exists, makeSandbox, packFiles, readFiles, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';

after(cleanupAll);

const EXTENSION_ID = 'recovery-points.recovery-points';

before(ensureBuilt);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the tool with a private HOME, so only the workspace storage a test makes there is found. */
function cli(home: string, args: string[]): Promise<Run> {
  const env = { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share'), APPDATA: path.join(home, 'AppData') };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function ok(run: Run): Run {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run;
}

function json<T>(run: Run): T {
  return JSON.parse(ok(run).stdout) as T;
}

function filesOnly(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).filter(([, v]) => v !== 'dir'));
}

async function project(): Promise<{ sb: Sandbox; home: string; base: string[]; ids: string[] }> {
  const sb = await makeSandbox();
  const home = path.join(sb.root, 'home');
  await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'src/c.ts': 'c1\n', 'big.txt': 'line of text\n'.repeat(5000) });
  const base = ['--workspace', sb.ws, '--store', sb.store];
  const ids = [json<string>(await cli(home, ['snapshot', '--json', ...base]))];
  await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
  ids.push(json<string>(await cli(home, ['snapshot', '--json', ...base])));
  await writeFiles(sb.ws, { 'b.txt': 'b3\n', 'new.txt': 'new\n' });
  ids.push(json<string>(await cli(home, ['snapshot', '--json', ...base])));
  return { sb, home, base, ids };
}

describe('command-line tool: export, import, adopt', () => {
  test('export → import into an empty store, then a bundle that overlaps it: deduplicated; restores byte for byte', async () => {
    const { sb, home, base, ids } = await project();
    const bundle = path.join(sb.root, 'all.rpbundle');
    const first = path.join(sb.root, 'first.rpbundle');
    assert.match(ok(await cli(home, ['export', '--out', bundle, ...base])).stdout, /^Exported 3 points \(\d+ stored objects, .+\) to /);
    ok(await cli(home, ['export', '--out', first, '--points', ids[0]!.slice(0, 22), ...base]));

    const other = await makeSandbox();
    const target = ['--workspace', other.ws, '--store', other.store];
    const one = json<{ added: string[]; bytesWritten: number }>(await cli(home, ['import', first, '--json', ...target]));
    assert.deepEqual(one.added, [ids[0]]);
    const packsBefore = await packFiles(other.store);
    const all = json<{ added: string[]; skipped: string[]; objectsPresent: number; bytesWritten: number }>(await cli(home, ['import', bundle, '--json', ...target]));
    assert.deepEqual(all.added, ids.slice(1));
    assert.deepEqual(all.skipped, [ids[0]]);
    assert.ok(all.objectsPresent >= 4, `${all.objectsPresent} objects already present`);
    // only the changed files and their folders are written: the big file is not written again
    assert.ok(all.bytesWritten < 2000, `${all.bytesWritten} bytes written`);
    assert.equal((await packFiles(other.store)).length, packsBefore.length + 1);
    assert.match(ok(await cli(home, ['import', bundle, ...target])).stdout, /^Imported 0 points .*\n3 points were already here\./);

    for (const id of ids) {
      ok(await cli(home, ['restore', id, ...base]));
      ok(await cli(home, ['restore', id, ...target]));
      assert.deepEqual(filesOnly(await readFiles(other.ws)), filesOnly(await readFiles(sb.ws)), id);
    }
  });

  test('a bundle of some points: list says which counts are against another point than the one each was made after', async () => {
    const { sb, home, base, ids } = await project();
    const some = path.join(sb.root, 'some.rpbundle');
    ok(await cli(home, ['export', '--out', some, '--points', ids[0]!, ids[2]!, ...base]));
    const other = await makeSandbox();
    const target = ['--workspace', other.ws, '--store', other.store];
    ok(await cli(home, ['import', some, ...target]));
    const lines = ok(await cli(home, ['list', ...target])).stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`^${ids[2]} .* \\(counted since the point below: the one it was made after is not kept\\)$`));
    assert.doesNotMatch(lines[1]!, /counted/, 'the first point was made after none');
    assert.doesNotMatch(ok(await cli(home, ['list', ...base])).stdout, /counted/, 'every parent kept: nothing to say');
  });

  test('export --out never replaces what is not a bundle: the store\'s own files, a file of other content, a link, a pipe (exit 2, all unchanged); a bundle or an empty file is replaced', async () => {
    const { sb, home, base } = await project();
    const store = await readFiles(sb.store);
    const notes = path.join(sb.root, 'notes.txt');
    await fs.writeFile(notes, 'keep me\n');
    await fs.symlink(notes, path.join(sb.root, 'link.rpbundle'));
    execFileSync('mkfifo', [path.join(sb.root, 'pipe.rpbundle')]);
    const refused: Array<[string, RegExp]> = [
      [path.join(sb.store, 'state.json'), /inside the recovery point store/],
      [path.join(sb.store, 'x.rpbundle'), /inside the recovery point store/],
      [notes, /exists and is not a recovery points bundle/],
      [path.join(sb.root, 'link.rpbundle'), /symbolic link/],
      [path.join(sb.root, 'pipe.rpbundle'), /not a regular file/],
      [sb.root, /is a folder/],
    ];
    for (const [out, says] of refused) {
      const run = await cli(home, ['export', '--out', out, ...base]);
      assert.equal(run.code, 2, `${out}: ${run.stderr}`);
      assert.match(run.stderr, says);
    }
    assert.deepEqual(await readFiles(sb.store), store, 'the store unchanged');
    assert.equal(await fs.readFile(notes, 'utf8'), 'keep me\n');
    assert.ok((await fs.lstat(path.join(sb.root, 'link.rpbundle'))).isSymbolicLink());
    const bundle = path.join(sb.root, 'again.rpbundle');
    ok(await cli(home, ['export', '--out', bundle, ...base]));
    ok(await cli(home, ['export', '--out', bundle, ...base])); // a bundle is replaced
    const empty = path.join(sb.root, 'empty.rpbundle');
    await fs.writeFile(empty, '');
    ok(await cli(home, ['export', '--out', empty, ...base])); // an empty file (mktemp) is taken
  });

  test('--since chooses the points; bad arguments exit 2; a damaged bundle exits 1 with one line and changes nothing', async () => {
    const { sb, home, base, ids } = await project();
    const bundle = path.join(sb.root, 'since.rpbundle');
    const t = ids[1]!;
    const since = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}.${t.slice(15, 18)}Z`;
    assert.deepEqual(json<{ points: string[] }>(await cli(home, ['export', '--out', bundle, '--since', since, '--json', ...base])).points, ids.slice(1));
    assert.equal((await cli(home, ['export', ...base])).code, 2, 'export needs --out');
    assert.equal((await cli(home, ['export', '--out', bundle, '--since', 'yesterday-ish', ...base])).code, 2);
    assert.equal((await cli(home, ['export', '--out', bundle, '--since', since, '--points', ids[0]!, ...base])).code, 2);
    assert.equal((await cli(home, ['import', ...base])).code, 2, 'import needs a file');

    const other = await makeSandbox();
    const target = ['--workspace', other.ws, '--store', other.store];
    const data = await fs.readFile(bundle);
    data[Math.floor(data.length / 2)]! ^= 0x01;
    await fs.writeFile(bundle, data);
    const run = await cli(home, ['import', bundle, ...target]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /damaged \(its checksum does not match its content\)\. Nothing was changed\./);
    assert.deepEqual(json<unknown[]>(await cli(home, ['list', '--json', ...target])), []);
    assert.deepEqual(await packFiles(other.store), []);
  });

  test('adopt: --from a store, and without it the store of the moved folder found in the editor\'s storage (the server\'s meta.json layout)', async () => {
    const { sb, home, base, ids } = await project();
    // the project was opened in a VS Code Server: its storage folder has meta.json, no workspace.json
    const storage = path.join(home, '.vscode-server', 'data', 'User', 'workspaceStorage');
    const oldWorkspaceDir = path.join(storage, 'a1b2c3');
    await fs.mkdir(oldWorkspaceDir, { recursive: true });
    await fs.writeFile(path.join(oldWorkspaceDir, 'meta.json'), JSON.stringify({ id: 'a1b2c3', name: 'ws' }));
    await fs.rename(sb.store, path.join(oldWorkspaceDir, EXTENSION_ID));
    // the tool finds that store for the folder by the folder its points recorded
    assert.equal(json<unknown[]>(await cli(home, ['list', '--json', '--workspace', sb.ws])).length, 3);

    // the folder is renamed, and opened again: a new, empty store
    const moved = path.join(sb.root, 'ws-renamed');
    await fs.rename(sb.ws, moved);
    const newWorkspaceDir = path.join(storage, 'd4e5f6');
    await fs.mkdir(path.join(newWorkspaceDir, EXTENSION_ID), { recursive: true });
    await fs.writeFile(path.join(newWorkspaceDir, 'meta.json'), JSON.stringify({ id: 'd4e5f6', name: 'ws-renamed' }));
    const newStore = path.join(newWorkspaceDir, EXTENSION_ID);
    const target = ['--workspace', moved, '--store', newStore];
    const adopted = ok(await cli(home, ['adopt', ...target]));
    assert.match(adopted.stdout, /^Adopted 3 points from .*a1b2c3/);
    assert.deepEqual(json<Array<{ id: string }>>(await cli(home, ['list', '--json', ...target])).map((p) => p.id), [...ids].reverse());
    assert.ok(await exists(path.join(oldWorkspaceDir, EXTENSION_ID, 'moved.json')));
    // the old store says where its history went, instead of "No recovery points yet"
    const left = ok(await cli(home, ['list', '--store', path.join(oldWorkspaceDir, EXTENSION_ID), '--workspace', sb.root]));
    assert.match(left.stdout, /this folder's history was moved to .*d4e5f6/);
    // nothing left to adopt
    const again = await cli(home, ['adopt', ...target]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /No store of a moved folder was found/);
    const named = await cli(home, ['adopt', '--from', path.join(oldWorkspaceDir, EXTENSION_ID), ...target]);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /was already moved to .*d4e5f6/, 'not "Adopted 0 points"');
    void base;
  });

  test('adopt: the old store\'s last restore comes along, and undo undoes it in the renamed folder', async () => {
    const { sb, home, base, ids } = await project();
    const edited = await readFiles(sb.ws);
    ok(await cli(home, ['restore', ids[0]!, ...base]));
    assert.notDeepEqual(await readFiles(sb.ws), edited);
    const moved = path.join(sb.root, 'ws-renamed');
    await fs.rename(sb.ws, moved);
    const target = ['--workspace', moved, '--store', path.join(sb.root, 'store-after-move')];
    // the renamed folder has a point of its own first, as the editor makes when it opens it
    ok(await cli(home, ['snapshot', ...target]));
    const adopted = ok(await cli(home, ['adopt', '--from', sb.store, ...target]));
    assert.match(adopted.stdout, /Undo Last Restore \(recovery-points undo\) still undoes its last restore/);
    ok(await cli(home, ['undo', ...target]));
    assert.deepEqual(await readFiles(moved), edited);
  });

  test('adopt --from: refused while the old folder is still in use (the editor holds its lock), then adopted', async () => {
    const { sb, home, ids } = await project();
    const moved = path.join(sb.root, 'moved');
    await fs.rename(sb.ws, moved);
    const other = await makeSandbox();
    const target = ['--workspace', moved, '--store', other.store];
    // the editor's lock: a live owner (this process)
    await fs.writeFile(path.join(sb.store, 'writer.lock'), ownerFileName(currentOwner('0123456789abcdef')));
    const busy = await cli(home, ['adopt', '--from', sb.store, ...target]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /in use by another window/);
    await fs.rm(path.join(sb.store, 'writer.lock'));
    assert.equal(json<{ adopted: string[] }>(await cli(home, ['adopt', '--from', sb.store, '--json', ...target])).adopted.length, ids.length);
  });

  test('adopt --from the store of a folder that still exists is refused, and both histories stay as they were (export and import copy it)', async () => {
    const { sb, home, ids } = await project();
    const copy = await makeSandbox();
    const copied = path.join(copy.root, 'ws-copy');
    await fs.cp(sb.ws, copied, { recursive: true });
    const target = ['--workspace', copied, '--store', copy.store];
    const refused = await cli(home, ['adopt', '--from', sb.store, ...target]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /still exists: adopting would take that history away from it/);
    assert.equal(json<unknown[]>(await cli(home, ['list', '--json', '--workspace', sb.ws, '--store', sb.store])).length, ids.length, 'the folder keeps its history');
    assert.ok(!(await exists(path.join(sb.store, 'moved.json'))));
    // the same store adopted into a store of the same folder (the folder is this workspace's): allowed
    const second = await makeSandbox();
    const same = ['--workspace', sb.ws, '--store', second.store];
    assert.equal(json<{ adopted: string[] }>(await cli(home, ['adopt', '--from', sb.store, '--json', ...same])).adopted.length, ids.length);
  });
});
