import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { cleanupAll, makeSandbox, writeFiles } from '../core/helpers/storeFixtures';
import { formatSummary } from '../../src/cli/searchCommand';
import { CLI, cli, ensureBuilt, ok } from './helpers/runCli';

after(cleanupAll);
before(ensureBuilt);

interface HitJson {
  hash: string;
  spans: Array<{ path: string; firstPointId: string; lastPointId: string }>;
  lines: Array<{ line: number; preview: string }>;
}

/** Two points through the tool: a version of app.ts and a whole file (notes.md) that the second point no longer holds. */
async function history() {
  const sb = await makeSandbox();
  const base = ['--workspace', sb.ws, '--store', sb.store];
  await writeFiles(sb.ws, {
    'src/app.ts': 'const a = 1;\nconst lostLine = "gone";\n',
    'notes.md': 'a deleted lostLine\n',
    'image.bin': Buffer.concat([Buffer.from('lostLine'), Buffer.from([0, 0, 0])]),
    'src/same.ts': 'export const lostLine = 0;\n',
  });
  ok(await cli(['snapshot', ...base]));
  await writeFiles(sb.ws, { 'src/app.ts': 'const a = 2;\n', 'notes.md': null });
  ok(await cli(['snapshot', ...base]));
  const ids = (JSON.parse(ok(await cli(['list', '--json', ...base])).stdout) as Array<{ id: string }>).map((p) => p.id);
  return { sb, base, newest: ids[0]!, oldest: ids[1]! };
}

function jsonLines(stdout: string): { hits: HitJson[]; summary: { matches: number; binary: number; total: number; done: boolean } } {
  const objects = stdout.trim().split('\n').map((line) => JSON.parse(line) as HitJson & { summary?: never });
  const last = objects.pop() as unknown as { summary: { matches: number; binary: number; total: number; done: boolean } };
  return { hits: objects, summary: last.summary };
}

/** Waits until process `pid` catches SIGINT (Linux: its SigCgt mask); elsewhere, a fixed 2.5 s. */
async function catchesSigint(pid: number): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
    if (status === undefined) return new Promise((resolve) => setTimeout(resolve, 2_500));
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    if (mask !== undefined && (BigInt(`0x${mask}`) & 2n) !== 0n) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('recovery-points search', () => {
  test('finds old versions and deleted files, each distinct content once with the points that held it; binary skipped', async () => {
    const { base, newest, oldest } = await history();
    const { hits, summary } = jsonLines(ok(await cli(['search', 'lostline', '--json', ...base])).stdout);
    const byPath = Object.fromEntries(hits.flatMap((h) => h.spans.map((s) => [s.path, [s.firstPointId, s.lastPointId, h.lines.map((l) => `${l.line}:${l.preview}`)]])));
    assert.deepEqual(byPath, {
      'ws/src/same.ts': [oldest, newest, ['1:export const lostLine = 0;']],
      'ws/src/app.ts': [oldest, oldest, ['2:const lostLine = "gone";']],
      'ws/notes.md': [oldest, oldest, ['1:a deleted lostLine']],
    });
    assert.equal(hits.length, 3, 'same.ts, kept by both points, is reported once');
    assert.deepEqual([summary.matches, summary.binary, summary.done], [3, 1, true]);
  });

  test('human output: path, the points, then numbered lines, streamed; --case-sensitive, --regex and --paths', async () => {
    const { base, oldest } = await history();
    const run = ok(await cli(['search', 'lostLine = "', ...base]));
    assert.equal(run.stdout, `src/app.ts  in point ${oldest} (${/\((.*?)\)/.exec(run.stdout)![1]})\n  2: const lostLine = "gone";\n\n1 matching version (5 versions searched; 1 binary skipped).\n`);
    assert.match(ok(await cli(['search', 'LOSTLINE', '--case-sensitive', ...base])).stdout, /^No matches \(5 versions searched; 1 binary skipped\)\.\n$/);
    const regex = jsonLines(ok(await cli(['search', '^const a = \\d;$', '--regex', '--json', ...base])).stdout).hits;
    assert.deepEqual(regex.map((h) => h.lines[0]!.preview), ['const a = 2;', 'const a = 1;']);
    const glob = jsonLines(ok(await cli(['search', 'lostLine', '--json', ...base, '--paths', '*.md'])).stdout).hits;
    assert.deepEqual(glob.map((h) => h.spans[0]!.path), ['ws/notes.md']);
  });

  test('a malformed regular expression: one line on stderr, exit code 2', async () => {
    const { base } = await history();
    const run = await cli(['search', '(unclosed', '--regex', ...base]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^recovery-points: "\(unclosed" is not a valid regular expression \(.+\)\.\n$/);
    const sb = await makeSandbox();
    assert.equal((await cli(['search', 'x', '--workspace', sb.ws, '--store', sb.store])).code, 2, 'a --store that does not exist: refused, not an empty result');
  });

  test('Ctrl+C stops a search whose match runs on without end ((a+)+$ on a long line): exit 130 at once, saying it stopped', async () => {
    const sb = await makeSandbox();
    const base = ['--workspace', sb.ws, '--store', sb.store];
    await writeFiles(sb.ws, { 'long.txt': `${'a'.repeat(50_000)}!\nmatch-me aaa\n` });
    ok(await cli(['snapshot', ...base]));
    const child = spawn(process.execPath, [CLI, 'search', '(a+)+$', '--regex', ...base], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // Ctrl+C once the tool catches it (on a busy machine its start can take longer than any fixed wait), and the search has begun
    await catchesSigint(child.pid!);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const interrupted = Date.now();
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    assert.equal(code, 130, `exit code (${Date.now() - interrupted} ms after Ctrl+C)`);
    // the worker said what it would search before the match took its thread
    assert.match(stdout, /^No matches \(stopped after 0 of 1 version\)\.$/m);
  });

  test('with no terminal to press Ctrl+C in, a regular expression stuck on one version is stopped after a while, saying why (exit 1)', async () => {
    const sb = await makeSandbox();
    const base = ['--workspace', sb.ws, '--store', sb.store];
    await writeFiles(sb.ws, { 'long.txt': `${'a'.repeat(50_000)}!\n` });
    ok(await cli(['snapshot', ...base]));
    const started = Date.now();
    const run = await cli(['search', '(a+)+$', '--regex', ...base], { env: { RECOVERY_POINTS_SEARCH_STALL_MS: '2000' } });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^recovery-points: the search was stopped: one version took more than 2 s to search with this regular expression/);
    assert.match(run.stdout, /^No matches \(stopped after 0 of 1 version\)\.$/m);
    assert.ok(Date.now() - started < 60_000);
    const plain = ok(await cli(['search', 'aaaa!', ...base], { env: { RECOVERY_POINTS_SEARCH_STALL_MS: '2000' } }));
    assert.match(plain.stdout, /1 matching version/);
  });

  test('a search stopped before its worker counted the versions says so, not "stopped after 0 of 0 versions"', () => {
    const progress = { total: 0, searched: 0, totalBytes: 0, searchedBytes: 0, matches: 0, binary: 0, unreadable: 0, done: false };
    assert.equal(formatSummary(progress), 'No matches (stopped before any version was searched).');
    assert.equal(formatSummary({ ...progress, total: 40, searched: 12 }), 'No matches (stopped after 12 of 40 versions).');
  });
});
