import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { cleanupAll, damageObject, makeSandbox, openStore, readFiles, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';
import { cli, cliHome, ensureBuilt, json, ok } from './helpers/runCli';
import { hasPoint, manifestOf } from '../core/helpers/storePoints';
import { lookupEntry } from '../../src/core/capture';

after(cleanupAll);
before(ensureBuilt);

const ID = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

interface PointJson {
  id: string;
  label: string | null;
  trigger: string;
  parentId: string | null;
  changes: Record<string, number>;
}

async function project(): Promise<{ sb: Sandbox; base: string[] }> {
  const sb = await makeSandbox();
  await writeFiles(sb.ws, { 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'src/c.ts': 'c1\n' });
  return { sb, base: ['--workspace', sb.ws, '--store', sb.store] };
}

describe('command-line tool', () => {
  test('usage errors exit 2; help exits 0', async () => {
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /Usage: recovery-points/);
    assert.equal((await cli(['--help'])).code, 0);
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.equal((await cli(['list', '--bogus'])).code, 2);
    assert.equal((await cli(['show'])).code, 2, 'show needs an id');
    assert.equal((await cli(['list', 'extra'])).code, 2);
    assert.equal((await cli(['snapshot', '--label'])).code, 2, '--label needs a value');
  });

  test('without --store and with no store of the editor: exit 1 and one line asking for --store', async () => {
    const sb = await makeSandbox();
    const run = await cli(['list', '--workspace', sb.ws]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /--store/);
    assert.equal(run.stdout, '');
    const missing = await cli(['list', '--workspace', path.join(sb.root, 'nope'), '--store', sb.store]);
    assert.equal(missing.code, 2, 'a --workspace that does not exist is bad input');
    assert.match(missing.stderr, /does not exist/);
  });

  test('a --store that is the workspace folder or contains it is refused before anything is written: exit 2 (#9)', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n' });
    const before = await readFiles(sb.root);
    await fs.symlink(sb.ws, path.join(sb.root, 'ws-link'));
    for (const store of [sb.ws, `${sb.ws}/`, path.join(sb.root, 'ws-link'), sb.root, path.dirname(sb.root)]) {
      const run = await cli(['snapshot', '--workspace', sb.ws, '--store', store]);
      assert.equal(run.code, 2, `--store ${store}: ${run.stderr}`);
      assert.match(run.stderr, /store folder .* (is|contains) the workspace folder/);
      assert.equal(run.stderr.split('\n').filter((line) => line.includes('workspace folder')).length, 1, 'one line names the problem');
    }
    await fs.rm(path.join(sb.root, 'ws-link'));
    assert.deepEqual(await readFiles(sb.root), before, 'nothing was written anywhere');
    // a store inside the workspace is fine: captures leave it out
    ok(await cli(['snapshot', '--workspace', sb.ws, '--store', path.join(sb.ws, '.rp-store')]));
  });

  test('finds the store the editor keeps for a workspace', async () => {
    const { sb } = await project();
    const storage = path.join(await cliHome(), '.config', 'Code', 'User', 'workspaceStorage', 'abc123');
    await fs.mkdir(path.join(storage, 'recovery-points.recovery-points'), { recursive: true });
    await fs.writeFile(path.join(storage, 'workspace.json'), JSON.stringify({ folder: pathToFileURL(sb.ws).href }));
    const id = json<string>(await cli(['snapshot', '--json'], { cwd: sb.ws }));
    assert.match(id, ID);
    assert.ok(await hasPoint(path.join(storage, 'recovery-points.recovery-points'), id));
    // from a subfolder of it: the folder's store, the whole folder, paths read from the subfolder
    await writeFiles(sb.ws, { 'src/deep/x.ts': 'x\n' });
    const below = json<string>(await cli(['snapshot', '--json'], { cwd: path.join(sb.ws, 'src', 'deep') }));
    assert.ok(await hasPoint(path.join(storage, 'recovery-points.recovery-points'), below));
    const shown = json<{ roots: Array<{ path: string }>; changedFiles: { added: string[] } }>(await cli(['show', below, '--json'], { cwd: path.join(sb.ws, 'src') }));
    assert.deepEqual([shown.roots.map((r) => r.path), shown.changedFiles.added], [[sb.ws], [`${path.basename(sb.ws)}/src/deep/x.ts`]]);
    assert.equal(ok(await cli(['cat', below, 'deep/x.ts'], { cwd: path.join(sb.ws, 'src') })).stdout, 'x\n');
    await fs.rm(storage, { recursive: true });
  });

  test('finds the store of a folder opened in VS Code Server or code-server (meta.json names no folder: the points do)', async () => {
    const { sb } = await project();
    const other = await makeSandbox();
    await writeFiles(other.ws, { 'x.txt': 'x\n' });
    const home = await cliHome();
    // `npm start` and code-server keep their data in a user-data folder of their own (listed here).
    const userData = path.join(home, 'editor-data', 'user-data');
    const storage = path.join(userData, 'User', 'workspaceStorage');
    const storeOf = (hash: string) => path.join(storage, hash, 'recovery-points.recovery-points');
    for (const [hash, ws] of [['-5e1f0a2b', sb.ws], ['3c0ffee', other.ws]] as const) {
      await fs.mkdir(storeOf(hash), { recursive: true });
      await fs.writeFile(path.join(storage, hash, 'meta.json'), JSON.stringify({ id: hash, name: path.basename(ws) }));
      ok(await cli(['snapshot', '--workspace', ws, '--store', storeOf(hash)]));
    }
    const env = { RECOVERY_POINTS_USER_DATA_DIRS: userData };
    const mine = json<PointJson[]>(await cli(['list', '--json'], { cwd: sb.ws, env }));
    const theirs = json<PointJson[]>(await cli(['list', '--json'], { cwd: other.ws, env }));
    assert.equal(mine.length, 1);
    assert.equal(theirs.length, 1);
    assert.ok(await hasPoint(storeOf('-5e1f0a2b'), mine[0]!.id), 'the folder\'s own store');
    assert.ok(await hasPoint(storeOf('3c0ffee'), theirs[0]!.id), 'the other folder\'s store');
    await fs.rm(path.join(home, 'editor-data'), { recursive: true });
  });

  test('snapshot, list, show, diff, stats, gc: output parses and says the right thing', async () => {
    const { sb, base } = await project();
    const first = json<string>(await cli(['snapshot', '--label', 'start', '--json', ...base]));
    assert.match(first, ID);
    const human = ok(await cli(['snapshot', ...base]));
    assert.match(human.stdout, /^Created recovery point \d{8}T/);
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'new.txt': 'new\n' });
    const third = json<string>(await cli(['snapshot', '--changed', 'a.txt', 'new.txt', '--json', ...base]));

    const list = json<PointJson[]>(await cli(['list', '--json', ...base]));
    assert.equal(list.length, 3);
    assert.equal(list[0]!.id, third);
    assert.equal(list[2]!.id, first);
    assert.equal(list[2]!.label, 'start');
    assert.deepEqual(list.map((p) => p.id), [...list.map((p) => p.id)].sort().reverse(), 'newest first');
    const listed = ok(await cli(['list', ...base]));
    assert.match(listed.stdout, /\[start\]/);
    assert.equal(listed.stdout.trim().split('\n').length, 3);

    const shown = json<PointJson & { changedFiles: { added: string[]; modified: string[]; deleted: string[] } }>(await cli(['show', third.slice(0, 24), '--json', ...base]));
    assert.equal(shown.id, third);
    assert.deepEqual(shown.changedFiles, { added: ['ws/new.txt'], modified: ['ws/a.txt'], deleted: [] });
    const latest = json<PointJson>(await cli(['show', 'latest', '--json', ...base]));
    assert.equal(latest.id, third);

    await writeFiles(sb.ws, { 'b.txt': 'b2\n' });
    assert.deepEqual(json(await cli(['diff', first, '--json', ...base])), { added: ['ws/new.txt'], modified: ['ws/a.txt', 'ws/b.txt'], deleted: [] });
    assert.deepEqual(json(await cli(['diff', first, third, '--json', ...base])), { added: ['ws/new.txt'], modified: ['ws/a.txt'], deleted: [] });
    assert.match(ok(await cli(['diff', third, third, ...base])).stdout, /No differences/);

    const stats = json<{ points: number; labelledPoints: number; blobs: number }>(await cli(['stats', '--json', ...base]));
    // 5 file contents, and 2 manifests their points' packs hold until the next clean-up (the second point added no object)
    assert.deepEqual([stats.points, stats.labelledPoints, stats.blobs], [3, 1, 7]);
    const gc = json<{ removedObjects: number }>(await cli(['gc', '--json', ...base]));
    assert.equal(gc.removedObjects, 2, 'only the copies of those manifests: every point is kept');
    assert.equal(json<{ blobs: number }>(await cli(['stats', '--json', ...base])).blobs, 5);
    ok(await cli(['cleanup', ...base]));
    const statsText = ok(await cli(['stats', ...base])).stdout;
    assert.match(statsText, /^Objects +\d+ \(5 file contents, \d+ folders\) in 1 pack$/m, 'a clean-up leaves one pack, said in the singular');
    // a tiny store's records outweigh its files: the ratio is small, not shown as nothing
    const ratio = json<{ dedupRatio: number }>(await cli(['stats', '--json', ...base])).dedupRatio;
    assert.ok(ratio > 0 && ratio < 0.1, String(ratio));
    assert.match(statsText, new RegExp(`^Dedup ratio +${ratio.toPrecision(1).replace('.', '\\.')}\u00d7 \\(full copies of every point's files \u00f7 stored\\)$`, 'm'));
  });

  test('show names the branch each folder was on when the point was made; a restore on another branch says it changes files, not the branch', async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/main\n' });
    ok(await cli(['snapshot', ...base]));
    assert.match(ok(await cli(['show', 'latest', ...base])).stdout, new RegExp(`^Folders   ws = ${sb.ws.replaceAll('/', '\\/')} \\(on branch main\\)$`, 'm'));
    assert.deepEqual(json<{ roots: unknown[] }>(await cli(['show', 'latest', '--json', ...base])).roots, [{ name: 'ws', path: sb.ws, realPath: sb.ws, head: { branch: 'main' } }]);
    // restoring it on another branch: the dry run and the restore say the branch stays
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/feature\n', 'a.txt': 'a on feature\n' });
    const note = 'Note: the folder was on branch main when the point was made and is on branch feature now: the restore changes files, not the branch.';
    assert.ok(ok(await cli(['restore', 'latest', '--dry-run', ...base])).stdout.includes(`\n${note}\n`));
    assert.deepEqual(json<{ headsMoved: unknown }>(await cli(['restore', 'latest', '--dry-run', '--json', ...base])).headsMoved, [{ folder: 'ws', then: { branch: 'main' }, now: { branch: 'feature' } }]);
    assert.ok(ok(await cli(['restore', 'latest', ...base])).stdout.includes(`\n${note}\n`));
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a1\n');
  });

  test('run from a folder deleted under the shell: one line saying so, exit 2; --workspace still names the project (Node and the launcher)', async () => {
    const { sb, base } = await project();
    const id = json<string>(await cli(['snapshot', '--json', ...base]));
    const gone = path.join(sb.root, 'gone');
    for (const launcher of [false, true]) {
      const lost = await cli(['list'], { deletedCwd: gone, launcher });
      assert.equal(lost.code, 2, `${launcher ? 'launcher' : 'node'}: ${lost.stderr}`);
      assert.match(lost.stderr, new RegExp(`^recovery-points: The current folder ${gone.replaceAll('/', '\\/')} no longer exists \\(deleted or moved\\): run the tool from your project's folder, or name it with --workspace DIR\\.$`, 'm'));
      assert.doesNotMatch(lost.stderr, /uv_cwd|ENOENT|No recovery point store/);
      const named = json<PointJson[]>(await cli(['list', '--json', '--workspace', path.relative(gone, sb.ws), '--store', sb.store], { deletedCwd: gone, launcher }));
      assert.deepEqual(named.map((p) => p.id), [id], 'a relative --workspace is read against the deleted folder\'s path');
    }
  });

  test('bad or ambiguous ids: exit 2 with one line, as an unknown path; an id\'s last part names its point too, and so does a label', async () => {
    const { sb, base } = await project();
    ok(await cli(['snapshot', ...base]));
    ok(await cli(['snapshot', ...base]));
    const bad = await cli(['show', '19990101T000000000Z-000000', ...base]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^recovery-points: No recovery point "19990101T000000000Z-000000" exists\./);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    for (const command of [['restore', 'nonsense'], ['diff', 'nonsense'], ['diff', 'latest', 'nonsense'], ['export', '--out', 'x.rpbundle', '--points', 'nonsense']]) {
      const run = await cli([...command, ...base]);
      assert.equal(run.code, 2, `${command.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /No recovery point "nonsense" exists/);
    }
    const ids = json<PointJson[]>(await cli(['list', '--json', ...base])).map((p) => p.id);
    const suffix = ids[1]!.slice(ids[1]!.lastIndexOf('-') + 1);
    assert.equal(json<{ id: string }>(await cli(['show', suffix, '--json', ...base])).id, ids[1], 'the random part after the dash, as a person copies it');
    assert.equal(json<{ id: string }>(await cli(['show', suffix.slice(0, 4), '--json', ...base])).id, ids[1], 'or its start');
    const ambiguous = await cli(['show', '2', ...base]);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /matches 2 points/);
    const newest = json<PointJson[]>(await cli(['list', '--json', ...base]))[0]!.id;
    const outside = await cli(['restore', newest, '--paths', '../outside.txt', ...base]);
    assert.notEqual(outside.code, 0, 'a path outside the workspace is refused, not silently ignored');
    assert.match(outside.stderr, /not inside a folder of this workspace/);
    const noUndo = await cli(['undo', ...base]);
    assert.equal(noUndo.code, 1);
    assert.match(noUndo.stderr, /no restore to undo/);
    // a point's label names it, as a person gives it after "snapshot --label"
    await writeFiles(sb.ws, { 'a.txt': 'before the refactor\n' });
    const labelled = json<string>(await cli(['snapshot', '--label', 'before refactor', '--json', ...base]));
    await writeFiles(sb.ws, { 'a.txt': 'refactored\n' });
    assert.match(ok(await cli(['restore', 'before refactor', '--dry-run', ...base])).stdout, new RegExp(`^Would restore 1 file from ${labelled} \\[before refactor\\]:$`, 'm'), 'the dry run names the point it would restore');
    assert.match(ok(await cli(['restore', ' before refactor ', ...base])).stdout, new RegExp(`^Restored ${labelled}: 1 written, 0 deleted\\.$`, 'm'), 'the label as typed with spaces around it');
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'before the refactor\n');
    // a label that is also the start of another point's id names neither: said when it is given, refused when used
    const older = ids[1]!.slice(ids[1]!.lastIndexOf('-') + 1, ids[1]!.lastIndexOf('-') + 3);
    await writeFiles(sb.ws, { 'a.txt': 'shadowed\n' });
    const made = ok(await cli(['snapshot', '--label', older, ...base]));
    assert.match(made.stdout, new RegExp(`^Note: "${older}" also starts the id of (another point|\\d+ other points), so it names none of them: name this point by its id \\([0-9a-f]{6}\\)\\.$`, 'm'));
    const both = await cli(['restore', older, ...base]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, new RegExp(`^recovery-points: "${older}" names \\d+ points, by their ids and by a label \\(.*labelled "${older}".*\\); give the whole id\\.\\n$`));
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'shadowed\n', 'nothing restored');
    // a label that starts with "-" is named after "--", the end of the options
    await writeFiles(sb.ws, { 'a.txt': 'dashed\n' });
    const dashed = json<string>(await cli(['snapshot', '--label', '-x', '--json', ...base]));
    assert.equal(json<{ id: string }>(await cli(['show', '--json', ...base, '--', '-x'])).id, dashed);
  });

  test('an empty value (an unset variable in a script) is refused with exit 2 before anything changes, not read as every path, every point or the current folder', async () => {
    const { sb, base } = await project();
    ok(await cli(['snapshot', ...base]));
    await writeFiles(sb.ws, { 'a.txt': 'edited since\n', 'new.txt': 'new\n' });
    const files = await readFiles(sb.ws);
    const store = await readFiles(sb.store);
    for (const command of [['restore', 'latest', '--paths', ''], ['restore', 'latest', '--paths='], ['restore', ''], ['restore', 'latest', '--paths', 'a.txt', ''], ['export', '--out', 'x.rpbundle', '--points', '']]) {
      const run = await cli([...command, ...base]);
      assert.equal(run.code, 2, `${JSON.stringify(command)}: ${run.stderr}`);
      assert.match(run.stderr, /empty|No recovery point "" exists/, run.stderr);
    }
    const emptyStore = await cli(['restore', 'latest', '--workspace', sb.ws, '--store', ''], { cwd: sb.ws });
    assert.equal(emptyStore.code, 2, emptyStore.stderr);
    assert.match(emptyStore.stderr, /--store was given an empty value/);
    assert.deepEqual(await readFiles(sb.ws), files, 'no file changed');
    assert.deepEqual(await readFiles(sb.store), store, 'nor the store');
  });

  test('restore --paths -- NAME…: names that start with dashes, after "--", are paths', async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { '--odd.txt': 'odd\n', '-dash.txt': 'dash\n' });
    const point = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, { '--odd.txt': 'changed\n', '-dash.txt': 'changed\n', 'a.txt': 'changed\n' });
    const restored = json<{ written: string[] }>(await cli(['restore', point, '--json', ...base, '--paths', '--', '--odd.txt', '-dash.txt']));
    assert.deepEqual(restored.written.sort(), ['ws/--odd.txt', 'ws/-dash.txt']);
    const files = await readFiles(sb.ws);
    assert.deepEqual([files['--odd.txt'], files['-dash.txt'], files['a.txt']], ['file 644 odd\n', 'file 644 dash\n', 'file 644 changed\n']);
  });

  test('restore --dry-run changes nothing; restore --paths restores just that; undo brings everything back', async () => {
    const { sb, base } = await project();
    const point = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, { 'a.txt': 'a-broken\n', 'b.txt': 'b-broken\n', src: null, 'extra.txt': 'extra\n' });
    const broken = await readFiles(sb.ws);

    const plan = json<{ add: string[]; modify: string[]; remove: string[] }>(await cli(['restore', point, '--dry-run', '--json', ...base]));
    assert.deepEqual(plan, { point, add: ['ws/src/c.ts'], modify: ['ws/a.txt', 'ws/b.txt'], remove: ['ws/extra.txt'], leftAlone: [] });
    assert.deepEqual(await readFiles(sb.ws), broken, 'a dry run changes nothing');
    assert.equal(json<PointJson[]>(await cli(['list', '--json', ...base])).length, 1, 'and makes no safety point');

    const partial = json<{ written: string[]; removed: string[]; safetyPointId: string }>(await cli(['restore', point, '--paths', 'a.txt', '--json', ...base]));
    assert.deepEqual(partial.written, ['ws/a.txt']);
    assert.deepEqual(partial.removed, []);
    assert.match(partial.safetyPointId, ID);
    assert.deepEqual(await readFiles(sb.ws), { ...broken, 'a.txt': 'file 644 a1\n' });

    ok(await cli(['undo', ...base]));
    assert.deepEqual(await readFiles(sb.ws), broken);

    const whole = ok(await cli(['restore', point, ...base]));
    assert.match(whole.stdout, /Restored .*: 3 written, 1 deleted/);
    assert.match(whole.stdout, /undo/);
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a1\n', 'b.txt': 'file 644 b1\n', src: 'dir', 'src/c.ts': 'file 644 c1\n' });
    const restored = await readFiles(sb.ws);
    const preview = json<{ safetyPointId: string; undoes: string; add: string[]; modify: string[]; remove: string[] }>(await cli(['undo', '--dry-run', '--json', ...base]));
    assert.deepEqual({ ...preview, safetyPointId: undefined }, { safetyPointId: undefined, undoes: point, add: ['ws/extra.txt'], modify: ['ws/a.txt', 'ws/b.txt'], remove: ['ws/src/c.ts'], leftAlone: [] });
    assert.match(ok(await cli(['undo', '--dry-run', ...base])).stdout, /^Would undo the restore of .* put back 4 files from safety point /);
    assert.deepEqual(await readFiles(sb.ws), restored, 'undo --dry-run changes nothing');
    const undone = json<{ written: string[]; removed: string[]; safetyPointId: string }>(await cli(['undo', '--json', ...base]));
    assert.deepEqual(undone.removed, ['ws/src/c.ts']);
    assert.deepEqual(undone.written.sort(), ['ws/a.txt', 'ws/b.txt', 'ws/extra.txt']);
    assert.deepEqual(await readFiles(sb.ws), broken);
  });

  test('undo over a file changed since the restore says so before (--dry-run) and after, and undo again brings the change back', async () => {
    const { sb, base } = await project();
    const point = json<string>(await cli(['snapshot', '--json', ...base]));
    assert.match(ok(await cli(['restore', point, ...base])).stdout, /: 0 written, 0 deleted\.\nSafety point \S+ holds the files as they were; nothing changed, so "recovery-points undo" still undoes the restore before this one, if any\.\n$/);
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'b.txt': 'b2\n' });
    ok(await cli(['restore', point, ...base]));
    await writeFiles(sb.ws, { 'a.txt': 'changed after the restore\n' });
    const preview = json<{ editedSince: string[] }>(await cli(['undo', '--dry-run', '--json', ...base]));
    assert.deepEqual(preview.editedSince, ['ws/a.txt']);
    assert.match(ok(await cli(['undo', '--dry-run', ...base])).stdout, /\nNote: this would replace changes made since the restore to a\.txt;/);
    const undone = ok(await cli(['undo', ...base]));
    assert.match(undone.stdout, /\nNote: this replaced changes made since the restore to a\.txt; "recovery-points undo" again brings them back\.$/m);
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a2\n', 'b.txt': 'file 644 b2\n', src: 'dir', 'src/c.ts': 'file 644 c1\n' });
    const again = json<{ replacedEdits?: string[] }>(await cli(['undo', '--json', ...base]));
    assert.equal(again.replacedEdits, undefined, 'nothing was changed since the undo');
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'changed after the restore\n');
  });

  test('a removed workspace folder: its points are listed and shown, restore makes it again with the point\'s files; a new point is refused', async () => {
    const { sb, base } = await project();
    const point = json<string>(await cli(['snapshot', '--label', 'before', '--json', ...base]));
    await fs.rm(sb.ws, { recursive: true, force: true });
    assert.deepEqual(json<PointJson[]>(await cli(['list', '--json', ...base])).map((p) => p.label), ['before']);
    ok(await cli(['show', point, ...base]));
    const refused = await cli(['snapshot', ...base]);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr, `recovery-points: The workspace folder ${sb.ws} does not exist. (A removed workspace folder's points are listed with "list" and put back with "restore" while the folder above it is there.)\n`);

    const restored = ok(await cli(['restore', point, ...base]));
    assert.match(restored.stdout, /Restored .*: 3 written, 0 deleted/);
    assert.deepEqual(await readFiles(sb.ws), { 'a.txt': 'file 644 a1\n', 'b.txt': 'file 644 b1\n', src: 'dir', 'src/c.ts': 'file 644 c1\n' });

    const typo = path.join(sb.root, 'wss');
    const mistyped = await cli(['restore', point, '--workspace', typo, '--store', sb.store]);
    assert.equal(mistyped.code, 2, 'a folder no point of the store names is a mistyped one');
    assert.equal(mistyped.stderr, `recovery-points: The workspace folder ${typo} does not exist.\n`);
    assert.equal((await fs.readdir(sb.root)).includes('wss'), false, 'and it is not made');

    const elsewhere = path.join(sb.root, 'gone', 'deeper');
    const noParent = await cli(['restore', point, '--workspace', elsewhere, '--store', sb.store]);
    assert.equal(noParent.code, 2, 'with the folder above it gone too, nothing is made');
    assert.match(noParent.stderr, /The workspace folder .*deeper does not exist\.\n$/);
  });

  test('uses the folder names the editor gave the workspace folders (a named folder of a .code-workspace)', async () => {
    const { sb, base } = await project();
    const editor = await openStore(sb, { roots: [{ name: 'My Project', path: sb.ws }], actor: 'extension' });
    const point = (await editor.recovery.createRecoveryPoint())!;
    await editor.close();
    assert.deepEqual(json(await cli(['diff', point.id, '--json', ...base])), { added: [], modified: [], deleted: [] }, 'the same files under the same names');
    await writeFiles(sb.ws, { 'a.txt': 'changed\n' });
    const restored = json<{ written: string[]; skipped: unknown[] }>(await cli(['restore', point.id, '--paths', 'a.txt', '--json', ...base]));
    assert.deepEqual(restored.written, ['My Project/a.txt']);
    assert.deepEqual(restored.skipped, []);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.txt'), 'utf8'), 'a1\n');
  });

  test('restore into a renamed folder restores it and deletes nothing; the dry run shows the folder mapping', async () => {
    const sb = await makeSandbox();
    const app = path.join(sb.root, 'app');
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`src/file${i}.ts`] = `export const v = ${i};\n`;
    await writeFiles(app, { ...files, 'README.md': '# app\n' });
    const point = json<string>(await cli(['snapshot', '--json', '--workspace', app, '--store', sb.store]));
    const renamed = path.join(sb.root, 'app-renamed');
    await fs.rename(app, renamed);
    await writeFiles(renamed, { 'README.md': '# broken\n' });
    const base = ['--workspace', renamed, '--store', sb.store];

    const restored = ok(await cli(['restore', point, ...base]));
    assert.match(restored.stdout, /Restored .*: 1 written, 0 deleted\./);
    assert.equal(Object.keys(await readFiles(path.join(renamed, 'src'))).length, 40, 'every file is still there');
    assert.equal(await fs.readFile(path.join(renamed, 'README.md'), 'utf8'), '# app\n');

    await writeFiles(renamed, { 'README.md': '# broken again\n' });
    const dry = ok(await cli(['restore', point, '--dry-run', ...base]));
    assert.match(dry.stdout, /point folder app \u2192 workspace folder app-renamed/);
    assert.match(dry.stdout, new RegExp(`^Would restore 1 file from ${point}:\\n {2}~ README\\.md$`, 'm'));
  });

  test('a file ignored since a point: show says it is no longer tracked; restore --dry-run names it as left as it is, and the restore leaves it', async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { 'dist/out.js': 'built 1\n' });
    const point = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, { '.gitignore': 'dist/\n', 'dist/out.js': 'built 2, ignored now\n', 'a.txt': 'a2\n' });
    // the point after the .gitignore line says dist/out.js is no longer tracked, not deleted
    ok(await cli(['snapshot', ...base]));
    const shown = ok(await cli(['show', 'latest', ...base]));
    assert.match(shown.stdout, /^Trigger {3}manual: Created by hand; changed: a\.txt, \.gitignore; no longer tracked: out\.js$/m);
    assert.match(shown.stdout, /^ {2}\u2212 dist\/out\.js {2}\(no longer tracked, not deleted\)$/m);
    // counted apart, not as a deletion: in show, list and their JSON
    assert.match(shown.stdout, /^Files {5}\d+ \(.*\), \+1 ~1 \u22120, 1 no longer tracked against /m);
    assert.match(ok(await cli(['list', ...base])).stdout, /^\S+ +just now +manual +\+1 ~1 \u22120, 1 no longer tracked +Created by hand/);
    assert.deepEqual(json<PointJson[]>(await cli(['list', '--json', ...base]))[0]!.changes, { added: 1, modified: 1, deleted: 1, noLongerTracked: 1 });
    assert.deepEqual(json<{ changedFiles: { deleted: string[]; noLongerTracked: string[] } }>(await cli(['show', 'latest', '--json', ...base])).changedFiles.noLongerTracked, ['ws/dist/out.js']);
    const history = ok(await cli(['log', 'dist/out.js', ...base])).stdout;
    assert.match(history.split('\n')[0]!, /no longer tracked/, `its history says so too, not "deleted":\n${history}`);
    assert.doesNotMatch(history, /deleted/);
    // the point against the files on disk: the file is there, ignored, not deleted
    assert.match(ok(await cli(['diff', point, ...base])).stdout, /^ {2}\u2212 dist\/out\.js {2}\(no longer tracked, not deleted\)$/m);
    const against = json<{ deleted: string[]; noLongerTracked: string[] }>(await cli(['diff', point, '--json', ...base]));
    assert.deepEqual([against.deleted, against.noLongerTracked], [['ws/dist/out.js'], ['ws/dist/out.js']]);
    const dry = ok(await cli(['restore', point, '--dry-run', ...base]));
    assert.match(dry.stdout, /^Would restore 2 files from \S+:\n {2}~ a\.txt\n {2}\u2212 \.gitignore\nWould leave 1 file as it is:\n {2}dist\/out\.js: a file that is not tracked \(ignored, excluded or over the size limit\) is in the way; this restore also sets the \.gitignore above it as the point had it: if that tracks this file, restoring again replaces it \(its content now kept first in that restore's safety point\)\n$/);
    const plan = json<{ add: string[]; leftAlone: Array<{ path: string; reason: string }> }>(await cli(['restore', point, '--dry-run', '--json', ...base]));
    assert.deepEqual([plan.add, plan.leftAlone.map((l) => l.path)], [[], ['ws/dist/out.js']]);
    const done = ok(await cli(['restore', point, ...base]));
    assert.match(done.stdout, /1 written, 1 deleted\.\n {2}skipped dist\/out\.js: a file that is not tracked/);
    assert.equal(await fs.readFile(path.join(sb.ws, 'dist/out.js'), 'utf8'), 'built 2, ignored now\n');
    // the restore took out the .gitignore: its point holds dist/out.js, which it neither wrote nor created
    assert.match(ok(await cli(['show', 'latest', ...base])).stdout, /^ {2}\+ dist\/out\.js {2}\(now tracked, not created\)$/m);
    assert.deepEqual(json<{ changedFiles: { nowTracked: string[] } }>(await cli(['show', 'latest', '--json', ...base])).changedFiles.nowTracked, ['ws/dist/out.js']);
  });

  test('a file ignored since a point that still holds what the point does is not "in the way": the preview and the restore leave it out, unnamed', async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { 'dist/out.js': 'built, the same since\n' });
    const point = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, { '.gitignore': 'dist/\n', 'a.txt': 'a2\n' });
    ok(await cli(['snapshot', ...base]));
    const dry = ok(await cli(['restore', point, '--dry-run', ...base]));
    assert.match(dry.stdout, /^Would restore 2 files from \S+:\n {2}~ a\.txt\n {2}\u2212 \.gitignore\n$/);
    const plan = json<{ add: string[]; leftAlone: Array<{ path: string }> }>(await cli(['restore', point, '--dry-run', '--json', ...base]));
    assert.deepEqual([plan.add, plan.leftAlone], [[], []]);
    const done = ok(await cli(['restore', point, ...base]));
    assert.doesNotMatch(done.stdout, /skipped/);
    assert.equal(await fs.readFile(path.join(sb.ws, 'dist/out.js'), 'utf8'), 'built, the same since\n');
  });

  test('restore refuses a point whose folders match none of the workspace\'s, naming both', async () => {
    const sb = await makeSandbox();
    const one = path.join(sb.root, 'one');
    const two = path.join(sb.root, 'two');
    await writeFiles(one, { 'a.txt': 'a\n' });
    await writeFiles(two, { 'b.txt': 'b\n' });
    const point = json<string>(await cli(['snapshot', '--json', '--workspace', one, '--workspace', two, '--store', sb.store]));
    const x = path.join(sb.root, 'x');
    const y = path.join(sb.root, 'y');
    // other folders (copies), not these renamed: a folder renamed on disk is still the point's (by its identity)
    await fs.cp(one, x, { recursive: true });
    await fs.cp(two, y, { recursive: true });
    await fs.rm(one, { recursive: true });
    await fs.rm(two, { recursive: true });
    const refused = await cli(['restore', point, '--workspace', x, '--workspace', y, '--store', sb.store]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /folders \("one", "two"\) match none of this workspace's folders \("x", "y"\)/);
    assert.deepEqual(await readFiles(x), { 'a.txt': 'file 644 a\n' });
  });

  test('verify: 0 when healthy, 1 when damaged, and --repair fixes it', async () => {
    const { sb, base } = await project();
    const first = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
    json<string>(await cli(['snapshot', '--json', ...base]));
    const healthy = json<{ ok: boolean; pointsChecked: number }>(await cli(['verify', '--json', ...base]));
    assert.deepEqual([healthy.ok, healthy.pointsChecked], [true, 2]);

    const manifest = await manifestOf(sb.store, first);
    await damageObject(sb.store, manifest.root);
    const damaged = await cli(['verify', '--json', ...base]);
    assert.equal(damaged.code, 1);
    const report = JSON.parse(damaged.stdout) as { ok: boolean; brokenPoints: Array<{ id: string }> };
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.brokenPoints.map((p) => p.id),
      [first],
    );
    const human = await cli(['verify', ...base]);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /verify --repair/);
    const repaired = ok(await cli(['verify', '--repair', ...base]));
    assert.match(repaired.stdout, /1 points moved to quarantine/);
    assert.equal(json<{ ok: boolean }>(await cli(['verify', '--json', ...base])).ok, true);
    assert.equal(json<PointJson[]>(await cli(['list', '--json', ...base])).length, 1);
  });

  test('restore --dry-run reads the content it would restore: a file whose stored content is damaged is named, and the restore leaves it as the preview said', async () => {
    const { sb, base } = await project();
    const point = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, { 'a.txt': 'a2\n', 'b.txt': 'b2\n' });
    ok(await cli(['snapshot', ...base]));
    const manifest = await manifestOf(sb.store, point);
    const store = await openStore(sb);
    const b = await lookupEntry(await store.persistence.objects(), manifest.root, 'ws/b.txt');
    await store.close();
    await damageObject(sb.store, b!.hash);
    const reason = 'its content in this point was lost to damage in the store (verify names the points that lost it)';
    const human = ok(await cli(['restore', point, '--dry-run', ...base])).stdout;
    assert.match(human, /^Would restore 1 file from .*:\n {2}~ a\.txt\nWould leave 1 file as it is:\n {2}b\.txt: its content in this point was lost to damage in the store/m);
    const plan = json<{ modify: string[]; leftAlone: Array<{ path: string; reason: string }> }>(await cli(['restore', point, '--dry-run', '--json', ...base]));
    assert.deepEqual([plan.modify, plan.leftAlone], [['ws/a.txt'], [{ path: 'ws/b.txt', reason }]]);
    const done = await cli(['restore', point, ...base]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /b\.txt: its content in this point was lost to damage/);
    assert.deepEqual(await Promise.all(['a.txt', 'b.txt'].map((name) => fs.readFile(path.join(sb.ws, name), 'utf8'))), ['a1\n', 'b2\n']);
  });
});
