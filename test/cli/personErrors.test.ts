/**
 * What a person meets at the command line: a request that names nothing usable is one sentence and
 * exit 2 (exit 1 is left to real failures), and paths are printed as they are typed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanupAll, makeSandbox, readFiles, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';
import { execFileSync, spawn } from 'node:child_process';
import { CLI, cli, cliHome, ensureBuilt, json, ok } from './helpers/runCli';

after(cleanupAll);
before(ensureBuilt);

/** A workspace with two points: `src/a.ts` changed and `src/old.ts` renamed to `src/new.ts` between them. */
async function twoPoints(): Promise<{ sb: Sandbox; base: string[]; first: string; second: string }> {
  const sb = await makeSandbox();
  const base = ['--workspace', sb.ws, '--store', sb.store];
  await writeFiles(sb.ws, { 'src/a.ts': 'const a = 1;\n', 'src/old.ts': 'export const moved = "a file long enough to be followed";\n', 'README.md': 'readme\n' });
  const first = json<string>(await cli(['snapshot', '--json', ...base]));
  await writeFiles(sb.ws, { 'src/a.ts': 'const a = 2;\n', 'src/new.ts': 'export const moved = "a file long enough to be followed";\n' });
  await fs.rm(path.join(sb.ws, 'src', 'old.ts'));
  const second = json<string>(await cli(['snapshot', '--json', ...base]));
  return { sb, base, first, second };
}

function refused(run: { code: number; stdout: string; stderr: string }, says: RegExp, what: string): void {
  assert.equal(run.code, 2, `${what}: exit ${run.code}: ${run.stderr}`);
  assert.match(run.stderr, says, what);
  assert.equal(run.stderr.split('\n')[0]!.startsWith('recovery-points: '), true, `${what}: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\n\s+at /, `${what}: no stack trace`);
  assert.equal(run.stdout, '', what);
}

describe('help', () => {
  test('help COMMAND and COMMAND --help give that command\'s lines and the common options; an unknown one is exit 2', async () => {
    for (const args of [['help', 'restore'], ['restore', '--help']]) {
      const run = ok(await cli(args));
      assert.match(run.stdout, /^Usage: recovery-points restore \[options\]\n\n {2}restore ID \[--paths PATH…\] \[--dry-run\]/, args.join(' '));
      assert.doesNotMatch(run.stdout, /undo the last restore/, 'only that command');
      assert.match(run.stdout, /--workspace DIR/);
    }
    assert.match(ok(await cli(['help', 'diff'])).stdout, /diff ID \[ID2\].*\n +\[--patch \[--binary\]\]/, 'with its continued lines');
    const unknown = await cli(['help', 'nope']);
    assert.deepEqual([unknown.code, unknown.stderr.split('\n')[0]], [2, 'recovery-points: unknown command "nope"']);
  });
});

describe('Ctrl+C', () => {
  test('stops a restore between files and says so, and how to put the files back; undo does', async () => {
    const sb = await makeSandbox();
    const base = ['--workspace', sb.ws, '--store', sb.store];
    const files = (v: string) => Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`d${i % 30}/f${i}.txt`, `${v} ${i}\n`]));
    await writeFiles(sb.ws, files('v1'));
    const first = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, files('v2'));
    const before = await readFiles(sb.ws);
    const child = spawn(process.execPath, [CLI, 'restore', first, ...base], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: await cliHome() } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // once the restore is about to write (it records itself for the undo first), a person presses Ctrl+C
    const recorded = () => fs.readFile(path.join(sb.store, 'state.json'), 'utf8').then((text) => (JSON.parse(text) as { lastRestore: unknown }).lastRestore !== null, () => false);
    while (!(await recorded())) await new Promise((resolve) => setTimeout(resolve, 2));
    child.kill('SIGINT');
    assert.equal(await exited, 1, stderr);
    assert.match(stderr, /^recovery-points: (The restore was stopped( after writing [\d,]+ files?)?: Undo Last Restore \(recovery-points undo\) puts back every file it changed \(safety point \S+\)\.|Stopped \(Ctrl\+C\) before any file was changed\.)\n$/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    if (stderr.includes('The restore was stopped')) ok(await cli(['undo', ...base]));
    assert.deepEqual(await readFiles(sb.ws), before, 'the files as before the restore');
  });
});

describe('a reader that goes away', () => {
  test('restore --dry-run | head -2: exit 0 and nothing on stderr, not an EPIPE stack trace', async () => {
    const sb = await makeSandbox();
    const base = ['--workspace', sb.ws, '--store', sb.store];
    await writeFiles(sb.ws, { 'keep.txt': 'k\n' });
    const first = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`a-file-with-a-longish-name-${i}.txt`, `${i}\n`])));
    ok(await cli(['snapshot', ...base]));
    // the reader takes two lines and goes: `head -2` in a shell, as a person types it
    const errors = path.join(sb.root, 'stderr.txt');
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const line = `${[process.execPath, CLI, 'restore', first, '--dry-run', ...base].map(quote).join(' ')} 2>${quote(errors)} | head -2 >/dev/null; exit \${PIPESTATUS[0]}`;
    const code = await new Promise<number | null>((resolve) => spawn('/bin/bash', ['-c', line], { stdio: 'ignore' }).on('exit', resolve));
    const run = { code, stderr: await fs.readFile(errors, 'utf8') };
    assert.deepEqual([run.code, run.stderr], [0, '']);
  });

  test('undo 2>&1 | true, with a warning on stderr: the undo is carried out whole, not stopped after its safety point', async () => {
    const sb = await makeSandbox();
    const base = ['--workspace', sb.ws, '--store', sb.store];
    await fs.mkdir(sb.store, { recursive: true });
    await fs.writeFile(path.join(sb.store, 'capture-rules.json'), JSON.stringify({ schemaVersion: 1, rules: { respectGitignore: true, excludes: [], excludeSecrets: true, maxFileSize: 1000 } }));
    // over the size limit: every point's capture warns on stderr
    await writeFiles(sb.ws, { 'big.txt': 'x'.repeat(2000), 'a.ts': 'v1\n' });
    const one = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, { 'a.ts': 'v2\n' });
    ok(await cli(['snapshot', ...base]));
    ok(await cli(['restore', one, ...base]));
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const line = `${[process.execPath, CLI, 'undo', ...base].map(quote).join(' ')} 2>&1 | true; exit \${PIPESTATUS[0]}`;
    const code = await new Promise<number | null>((resolve) => spawn('/bin/bash', ['-c', line], { stdio: 'ignore' }).on('exit', resolve));
    assert.equal(code, 0);
    assert.equal(await fs.readFile(path.join(sb.ws, 'a.ts'), 'utf8'), 'v2\n', 'the undo put the file back');
  });
});

describe('a request that names nothing usable', () => {
  test('a folder where a file is needed (cat, log), a path outside the workspace or in neither the point nor the workspace, a missing file or folder named by an option: exit 2 and one sentence', async () => {
    const { sb, base, first } = await twoPoints();
    const tiny = path.join(sb.root, 'tiny.rpbundle');
    await fs.writeFile(tiny, 'RPB'); // shorter than a bundle's marker
    const pipe = path.join(sb.root, 'pipe.rpbundle');
    execFileSync('mkfifo', [pipe]);
    const cases: Array<{ args: string[]; says: RegExp }> = [
      { args: ['cat', first, 'src'], says: /^recovery-points: src is a folder in recovery point \S+; "cat" writes a file\.\n$/ },
      { args: ['log', 'src'], says: /^recovery-points: src is a folder; "log" lists the versions of a file\.\n$/ },
      { args: ['log', 'src/typo.ts'], says: /^recovery-points: No recovery point holds src\/typo\.ts\.\n$/ },
      { args: ['restore', first, '--paths', path.join(sb.root, 'elsewhere.txt'), '--dry-run'], says: /not inside a folder of this workspace/ },
      { args: ['restore', first, '--paths', 'src/typo.ts', '--dry-run'], says: /^recovery-points: Neither recovery point \S+ nor the workspace has anything at src\/typo\.ts\.\n$/ },
      { args: ['restore', first, '--paths', 'src/typo.ts'], says: /nor the workspace has anything at src\/typo\.ts/ },
      { args: ['snapshot', '--changed', path.join(sb.root, 'elsewhere.txt')], says: /not inside a folder of this workspace/ },
      { args: ['export', '--out', path.join(sb.root, 'no-such-folder', 'x.rpbundle')], says: /The folder \S+no-such-folder for --out does not exist\./ },
      { args: ['import', path.join(sb.root, 'no-such.rpbundle')], says: /The bundle \S+no-such\.rpbundle does not exist\./ },
      { args: ['import', sb.ws], says: /is a folder, not a bundle file\./ },
      { args: ['import', pipe], says: /^recovery-points: The bundle \S+pipe\.rpbundle cannot be imported: it is not a file \(a pipe, a socket or a device\)\. Nothing was changed\.\n$/ },
      { args: ['import', tiny], says: /^recovery-points: The bundle \S+tiny\.rpbundle cannot be imported: it is not a recovery points bundle \(3 bytes\)\. Nothing was changed\.\n$/ },
      { args: ['import', path.join(sb.ws, 'src', 'a.ts')], says: /^recovery-points: The bundle \S+a\.ts cannot be imported: it is not a recovery points bundle \(no RPBUNDLE marker at its start\)\. Nothing was changed\.\n$/ },
      { args: ['adopt', '--from', path.join(sb.root, 'no-such-store')], says: /is not a recovery point store \(it has no points folder\); check --from\./ },
    ];
    for (const c of cases) refused(await cli([...c.args, ...base]), c.says, c.args.join(' '));
    refused(await cli(['list', '--workspace', path.join(sb.root, 'no-such-folder'), '--store', sb.store]), /The workspace folder \S+ does not exist\./, 'a mistyped --workspace');
    refused(await cli(['hooks', 'status', '--agent', 'claude', '--workspace', path.join(sb.root, 'no-such-folder')]), /The project folder \S+ does not exist\./, 'hooks with a mistyped --workspace');
    refused(await cli(['list', '--workspace', sb.ws, '--store', path.join(sb.root, 'stroe')]), /does not exist\. Check --store/, 'a mistyped --store');
    assert.equal((await fs.readdir(sb.root)).includes('stroe'), false, 'the mistyped store was not made');
    refused(await cli(['export', '--out', path.join(sb.root, 'x.rpbundle'), '--workspace', sb.ws, '--store', path.join(sb.root, 'stroe')]), /does not exist\. Check --store/, 'export from a mistyped --store');
    assert.equal((await fs.readdir(sb.root)).includes('stroe'), false, 'export made no store either');
    const written = ok(await cli(['restore', first, '--paths', 'src/old.ts', '--dry-run', ...base]));
    assert.match(written.stdout, /\+ src\/old\.ts/, 'a path only the point holds is restored');
    assert.match(ok(await cli(['restore', first, '--paths', 'src/new.ts', '--dry-run', ...base])).stdout, /\u2212 src\/new\.ts/, 'a path only the workspace has is deleted');
    // a path through a link inside the workspace is on disk, but no point holds it (a point holds the link)
    await fs.symlink('src', path.join(sb.ws, 'linked'));
    refused(await cli(['restore', first, '--paths', 'linked/a.ts', '--dry-run', ...base]), /^recovery-points: linked\/a\.ts is inside linked, a symbolic link: give the path in the folder it leads to\.\n$/, 'a path through a link');
    refused(await cli(['log', 'linked/a.ts', ...base]), /^recovery-points: linked\/a\.ts is inside linked, a symbolic link: give the path in the folder it leads to\.\n$/, 'log of a path through a link');
    refused(await cli(['cat', first, 'linked/a.ts', ...base]), /^recovery-points: linked\/a\.ts is inside linked, a symbolic link: give the path in the folder it leads to\.\n$/, 'cat of a path through a link');
  });

  test('an option the command does not take is refused (exit 2), not ignored', async () => {
    const { base, first } = await twoPoints();
    for (const args of [['list', '--label', 'x'], ['snapshot', '--paths', 'src'], ['log', 'src/a.ts', '--regex'], ['cat', first, 'src/a.ts', '--dry-run'], ['restore', first, '--since', '1d']]) {
      const run = await cli([...args, ...base]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`^recovery-points: "${args[0]}" does not take ${args.find((a) => a.startsWith('--'))}\\n`), args.join(' '));
    }
    const hooks = await cli(['hooks', 'status', '--agent', 'claude', '--label', 'x', '--workspace', base[1]!]);
    assert.equal(hooks.code, 2, hooks.stderr);
    assert.match(hooks.stderr, /^recovery-points: "hooks" does not take --label\n/);
    ok(await cli(['list', '--json', ...base]));
    ok(await cli(['hooks', 'status', '--agent', 'claude', '--json', '--workspace', base[1]!]));
  });

  test('a malformed path glob: search refuses it with exit 2, naming it; the MCP tools answer with the same sentence', async () => {
    const { base } = await twoPoints();
    for (const glob of ['[', 'src/*.{ts', 'src/(a']) {
      refused(await cli(['search', 'const', '--paths', glob, ...base]), new RegExp(`^recovery-points: The path pattern ${JSON.stringify(glob).replace(/[[{(*.]/g, '\\$&')} is not a valid glob \\(missing closing: `), glob);
    }
    assert.match(ok(await cli(['search', 'const', '--paths', 'src/[ab].ts', ...base])).stdout, /^src\/a\.ts {2}in point/m, 'a well-formed bracket still matches');
  });
});

describe('paths as a person types them', () => {
  test('show, diff, restore --dry-run, log and search print paths relative to a single workspace folder, with the folder\'s name in front when there are several; --json keeps the name in front', async () => {
    const { sb, base, first, second } = await twoPoints();
    const name = path.basename(sb.ws);
    const show = ok(await cli(['show', second, ...base])).stdout;
    assert.match(show, /^ {2}~ src\/a\.ts$/m, show);
    assert.match(show, /^ {2}\+ src\/new\.ts$/m, show);
    assert.doesNotMatch(show, new RegExp(`^ {2}. ${name}/`, 'm'), show);
    assert.match(ok(await cli(['diff', first, ...base])).stdout, /^ {2}~ src\/a\.ts$/m);
    assert.match(ok(await cli(['restore', first, '--dry-run', ...base])).stdout, /^ {2}\+ src\/old\.ts$/m);
    assert.match(ok(await cli(['log', 'src/new.ts', ...base])).stdout, /renamed from src\/old\.ts/);
    const search = ok(await cli(['search', 'const a', ...base])).stdout;
    assert.match(search, /^src\/a\.ts {2}in point/m, search);
    assert.doesNotMatch(search, new RegExp(`^${name}/`, 'm'), search);
    assert.deepEqual(json<{ changedFiles: { modified: string[] } }>(await cli(['show', second, '--json', ...base])).changedFiles.modified, [`${name}/src/a.ts`], 'machine-readable paths are as before');
    const hit = JSON.parse(ok(await cli(['search', 'const a = 2', '--json', ...base])).stdout.split('\n')[0]!) as { spans: Array<{ path: string }> };
    assert.equal(hit.spans[0]!.path, `${name}/src/a.ts`);

    const lib = path.join(sb.root, 'lib');
    await writeFiles(lib, { 'b.ts': 'const b = 1;\n' });
    const both = ['--workspace', sb.ws, '--workspace', lib, '--store', path.join(sb.root, 'both-store')];
    ok(await cli(['snapshot', ...both]));
    const shown = ok(await cli(['show', 'latest', ...both])).stdout;
    assert.match(shown, new RegExp(`^ {2}\\+ ${name}/src/a\\.ts$`, 'm'), `several folders: the folder's name in front\n${shown}`);
    assert.match(shown, /^ {2}\+ lib\/b\.ts$/m, shown);
    assert.match(ok(await cli(['search', 'const b', ...both])).stdout, /^lib\/b\.ts {2}in point/m);
  });
});

describe('a command that cannot finish', () => {
  test('waiting for something that never comes (a promise nothing settles), it ends with exit 1 and a sentence, not exit 0 as if it had succeeded', async () => {
    const sb = await makeSandbox();
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const hang = path.join(__dirname, 'fixtures', 'hangUnder.mjs');
    const run = await cli(['snapshot', '--workspace', sb.ws, '--store', sb.store], { env: { NODE_OPTIONS: `--import ${hang}`, RP_TEST_HANG_UNDER: sb.store } });
    assert.equal(run.code, 1, `exit ${run.code}: ${run.stderr}`);
    assert.match(run.stderr, /^recovery-points: internal error: the command stopped before it finished, waiting for something that never came\. Run "recovery-points verify"/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(run.stdout, '');
  });
});
