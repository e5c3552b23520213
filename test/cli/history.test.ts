import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanupAll, makeSandbox, writeFiles, type FileSpec, type Sandbox } from '../core/helpers/storeFixtures';
import { cli, CLI, cliHome, ensureBuilt, json, ok } from './helpers/runCli';

after(cleanupAll);
before(ensureBuilt);

interface VersionJson {
  kind: 'version' | 'deleted';
  pointId: string;
  summary: string;
  path: string;
  added: number | null;
  removed: number | null;
  binary: boolean;
  renamedFrom: string | null;
  current: boolean;
}

async function project(): Promise<{ sb: Sandbox; base: string[]; snapshot(files: Record<string, FileSpec | null>, label: string): Promise<string> }> {
  const sb = await makeSandbox();
  const base = ['--workspace', sb.ws, '--store', sb.store];
  return {
    sb,
    base,
    snapshot: async (files, label) => {
      await writeFiles(sb.ws, files);
      return json<string>(await cli(['snapshot', '--label', label, '--json', ...base]));
    },
  };
}

/** Runs the tool and keeps standard output as bytes (for `cat` of a binary file). */
async function cliBytes(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const home = await cliHome();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home }, encoding: 'buffer' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: stderr.toString() });
    });
  });
}

describe('command-line tool: a file\'s history', () => {
  test('log lists each distinct version once, newest first, with +/− lines and the current one marked; renames followed', async () => {
    const { sb, base, snapshot } = await project();
    await snapshot({ 'src/old.ts': 'a\n', 'other.txt': '1' }, 'one');
    await snapshot({ 'other.txt': '2' }, 'other only');
    await snapshot({ 'src/old.ts': 'a\nb\n' }, 'two');
    await snapshot({ 'src/old.ts': null, 'src/new.ts': 'a\nb\n' }, 'renamed');
    await snapshot({ 'src/new.ts': 'b\n' }, 'three');

    const versions = json<VersionJson[]>(await cli(['log', 'src/new.ts', '--json', ...base]));
    assert.deepEqual(
      versions.map((v) => [v.kind, v.summary.length > 0, v.path, v.added, v.removed, v.renamedFrom, v.current]),
      [
        ['version', true, 'ws/src/new.ts', 0, 1, null, true],
        ['version', true, 'ws/src/new.ts', 0, 0, 'ws/src/old.ts', false],
        ['version', true, 'ws/src/old.ts', 1, 0, null, false],
        ['version', true, 'ws/src/old.ts', 1, 0, null, false],
      ],
    );
    const human = ok(await cli(['log', path.join(sb.ws, 'src', 'new.ts'), ...base])).stdout.trim().split('\n');
    assert.equal(human.length, 4);
    assert.match(human[0]!, /\[three\].*\(current\)$/);
    assert.match(human[1]!, /\+0 \u22120 .*renamed from src\/old\.ts/);
    // spelled as a shell allows, from outside the folder
    for (const spelling of ['./src/new.ts', 'src/./new.ts', 'src/../src/new.ts']) {
      assert.deepEqual(json<VersionJson[]>(await cli(['log', spelling, '--json', ...base])), versions, spelling);
    }
    // a folder opened through a link: its files are named by the link's path or the real folder's
    const link = path.join(sb.root, 'through-link');
    await fs.symlink(sb.ws, link);
    const linked = ['--workspace', link, '--store', sb.store];
    assert.deepEqual(json<VersionJson[]>(await cli(['log', path.join(sb.ws, 'src', 'new.ts'), '--json', ...linked])).length, versions.length);
    assert.deepEqual(json<VersionJson[]>(await cli(['log', path.join(link, 'src', 'new.ts'), '--json', ...base])).length, versions.length);
    const empty = await cli(['log', '', ...base]);
    assert.equal(empty.code, 2);
    const outside = await cli(['log', '../elsewhere.ts', ...base]);
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /is not inside a folder of this workspace/);
  });

  test('log of a deleted file, and of a file that exists only in old points', async () => {
    const { base, snapshot } = await project();
    await snapshot({ 'gone.txt': 'x\ny\n', 'keep.txt': 'k' }, 'one');
    await snapshot({ 'gone.txt': null }, 'deleted');
    await snapshot({ 'keep.txt': 'k2' }, 'later');
    const versions = json<VersionJson[]>(await cli(['log', 'gone.txt', '--json', ...base]));
    assert.deepEqual(versions.map((v) => [v.kind, v.added, v.removed, v.current]), [['deleted', 0, 2, true], ['version', 2, 0, false]]);
    assert.match(ok(await cli(['log', 'gone.txt', ...base])).stdout, /deleted/);
  });

  test('cat writes a point\'s version to standard output byte for byte, binary too', async () => {
    const { base, snapshot } = await project();
    const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0, 128]);
    const first = await snapshot({ 'img.bin': binary, 'a.txt': 'no newline at the end' }, 'one');
    await snapshot({ 'img.bin': Buffer.from([9, 0]), 'a.txt': 'changed\n' }, 'two');
    const cat = await cliBytes(['cat', first, 'img.bin', ...base]);
    assert.equal(cat.code, 0, cat.stderr);
    assert.deepEqual(cat.stdout, binary);
    assert.deepEqual((await cliBytes(['cat', first.slice(0, 20), 'a.txt', ...base])).stdout, Buffer.from('no newline at the end'));
    assert.equal((await cliBytes(['cat', 'latest', 'a.txt', ...base])).stdout.toString(), 'changed\n');
    const asJson = json<{ encoding: string; content: string }>(await cli(['cat', first, 'img.bin', '--json', ...base]));
    assert.deepEqual([asJson.encoding, Buffer.from(asJson.content, 'base64')], ['base64', binary]);
    const versions = json<VersionJson[]>(await cli(['log', 'img.bin', '--json', ...base]));
    assert.deepEqual(versions.map((v) => [v.binary, v.added]), [[true, null], [true, null]]);
  });

  test('bad input: an unknown path or point is one clear line and exit 2', async () => {
    const { sb, base, snapshot } = await project();
    const id = await snapshot({ 'a.txt': 'a' }, 'one');
    const cases = [
      { args: ['log', 'nothing.txt'], says: /No recovery point holds nothing\.txt/ },
      { args: ['log', path.join(sb.root, 'canary', 'canary.txt')], says: /not inside a folder of this workspace/ },
      { args: ['cat', '20990101T000000000Z-abcdef', 'a.txt'], says: /No recovery point "20990101T000000000Z-abcdef"/ },
      { args: ['cat', id, 'nothing.txt'], says: /does not hold nothing\.txt/ },
      { args: ['cat', id], says: /takes 2 arguments/ },
    ];
    for (const c of cases) {
      const run = await cli([...c.args, ...base]);
      assert.equal(run.code, 2, `${c.args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, c.says);
      assert.equal(run.stdout, '');
      if (c.args.length === 2 && c.args[0] !== 'cat') assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    }
  });
});

describe('command-line tool: comparing points', () => {
  test('diff of two points across a folder renamed between them lists its files as renamed (those edited since marked), not deleted and added', async () => {
    const { sb, base, snapshot } = await project();
    const before = await snapshot({ 'src/old/a.ts': 'a\n', 'src/old/b.ts': 'b\n', 'keep.txt': 'k\n' }, 'before');
    await fs.rename(path.join(sb.ws, 'src/old'), path.join(sb.ws, 'src/new'));
    const after = await snapshot({ 'src/new/b.ts': 'b edited\n' }, 'after');
    const text = ok(await cli(['diff', before, after, ...base])).stdout;
    assert.deepEqual(text.trimEnd().split('\n'), ['  R src/old/a.ts \u2192 src/new/a.ts', '  R src/old/b.ts \u2192 src/new/b.ts  (and changed)']);
    assert.deepEqual(json(await cli(['diff', before, after, '--json', ...base])), {
      added: [],
      modified: [],
      deleted: [],
      renamed: [
        { from: 'ws/src/old/a.ts', to: 'ws/src/new/a.ts', changed: false },
        { from: 'ws/src/old/b.ts', to: 'ws/src/new/b.ts', changed: true },
      ],
    });
  });
});

describe('command-line tool: comparing a point with the current files', () => {
  test('diff of a point against the files on disk, after its folder was renamed (one file edited since), lists its files as renamed, not deleted and added; --patch keeps delete + add', async () => {
    const { sb, base, snapshot } = await project();
    const before = await snapshot({ 'src/old/a.ts': 'a\n', 'src/old/b.ts': 'b\n', 'keep.txt': 'k\n' }, 'before');
    await fs.rename(path.join(sb.ws, 'src/old'), path.join(sb.ws, 'src/new'));
    await writeFiles(sb.ws, { 'src/new/b.ts': 'b edited\n', 'fresh.txt': 'f\n' });
    const text = ok(await cli(['diff', before, ...base])).stdout;
    assert.deepEqual(text.trimEnd().split('\n'), ['  + fresh.txt', '  R src/old/a.ts \u2192 src/new/a.ts', '  R src/old/b.ts \u2192 src/new/b.ts  (and changed)']);
    assert.deepEqual(json(await cli(['diff', before, '--json', ...base])), {
      added: ['ws/fresh.txt'],
      modified: [],
      deleted: [],
      renamed: [
        { from: 'ws/src/old/a.ts', to: 'ws/src/new/a.ts', changed: false },
        { from: 'ws/src/old/b.ts', to: 'ws/src/new/b.ts', changed: true },
      ],
    });
    const patch = ok(await cli(['diff', before, '--patch', ...base])).stdout;
    assert.ok(patch.includes('deleted file mode') && patch.includes('+++ b/src/new/a.ts') && patch.includes('--- a/src/old/a.ts'), 'the patch keeps a rename as a deletion and an addition');
  });
});
