/**
 * `recovery-points mcp` (#13): the SDK's real client talks to the built command-line tool over a real
 * stdio pipe, as Claude Code, Cursor or VS Code would.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { auditFileEntries, cleanupAll, makeSandbox, readFiles, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';
import { CLI, cli, cliHome, ensureBuilt } from './helpers/runCli';

after(cleanupAll);
before(ensureBuilt);

const ID = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

async function toolEnv(): Promise<Record<string, string>> {
  const home = await cliHome();
  return { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share') };
}

/** A client connected to `recovery-points mcp` for the sandbox's workspace and store; `stderr` collects what the server logged. */
async function connect(sb: Sandbox): Promise<{ client: Client; stderr: () => string; close: () => Promise<void> }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--workspace', sb.ws, '--store', sb.store], env: await toolEnv(), stderr: 'pipe' });
  let logged = '';
  transport.stderr?.on('data', (chunk: Buffer) => (logged += chunk.toString('utf8')));
  const client = new Client({ name: 'recovery-points-test', version: '0.0.0' });
  await client.connect(transport);
  return { client, stderr: () => logged, close: () => client.close() };
}

interface ToolAnswer<T> {
  readonly isError: boolean;
  readonly sentence: string;
  readonly data: T;
}

async function call<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolAnswer<T>> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const texts = result.content.map((part) => (part.type === 'text' ? part.text : ''));
  return { isError: result.isError === true, sentence: texts[0] ?? '', data: (texts[1] ? JSON.parse(texts[1]) : undefined) as T };
}

async function ok<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const answer = await call<T>(client, name, args);
  assert.equal(answer.isError, false, `${name} failed: ${answer.sentence}`);
  return answer.data;
}

async function refused(client: Client, name: string, args: Record<string, unknown>, pattern: RegExp): Promise<string> {
  const answer = await call(client, name, args);
  assert.equal(answer.isError, true, `${name} ${JSON.stringify(args)} should be refused, got: ${answer.sentence}`);
  assert.match(answer.sentence, pattern);
  assert.doesNotMatch(answer.sentence, /\n\s+at /, 'no stack trace');
  return answer.sentence;
}

interface PointJson {
  id: string;
  trigger: string;
  label: string | null;
  actor: string;
  summary: string;
  agent?: string;
  changes: Record<string, number>;
}

interface VersionJson {
  pointId: string;
  label: string | null;
  actor: string;
  path: string;
  hash: string | null;
  added: number | null;
  removed: number | null;
  renamedFrom: string | null;
  current: boolean;
}

/** The workspace's files, its ignored file included (a restore must leave it alone). */
const workspaceBytes = (sb: Sandbox) => readFiles(sb.ws);

/** The server over standard input and output as a raw client meets it: what it wrote so far, and its exit code. */
async function rawServer(sb: Sandbox): Promise<{ child: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'mcp', '--workspace', sb.ws, '--store', sb.store], { env: await toolEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function project(): Promise<Sandbox> {
  const sb = await makeSandbox('rp-mcp-');
  await writeFiles(sb.ws, { '.gitignore': 'build/\n', 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'src/c.ts': 'c1\n', 'build/out.js': 'ignored 1\n' });
  return sb;
}

describe('recovery-points mcp', () => {
  test('lists its tools with descriptions that say a restore is undoable and what it touches', async () => {
    const sb = await project();
    const { client, close } = await connect(sb);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['create_point', 'file_history', 'list_points', 'preview_restore', 'read_file_version', 'restore_point', 'search_history', 'show_changes', 'undo_restore']);
      for (const name of ['file_history', 'read_file_version', 'search_history']) assert.equal(tools.find((t) => t.name === name)!.annotations?.readOnlyHint, true, name);
      const restore = tools.find((t) => t.name === 'restore_point')!;
      assert.match(restore.description!, /safety point/);
      assert.match(restore.description!, /undo/);
      assert.match(restore.description!, /deletes tracked files/);
      assert.equal(restore.annotations?.destructiveHint, true);
      assert.equal(tools.find((t) => t.name === 'list_points')!.annotations?.readOnlyHint, true);
      assert.deepEqual(restore.inputSchema.required, ['point']);
      assert.equal(client.getServerVersion()?.name, 'recovery-points');
    } finally {
      await close();
    }
  });

  test('captures a store\'s first point in a process of its own, as the editor does: the server, up for the agent\'s session, keeps none of its memory', async () => {
    const sb = await project();
    const { client, close } = await connect(sb);
    try {
      const first = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'First' })).point;
      await writeFiles(sb.ws, { 'a.txt': 'a2\n' });
      const second = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'Second' })).point;
      const created = (await auditFileEntries(sb.store)).filter((entry) => entry.action === 'create');
      assert.deepEqual(
        created.map((entry) => [entry.pointId, entry.details?.captureProcess === true]),
        [
          [first.id, true],
          [second.id, false],
        ],
      );
    } finally {
      await close();
    }
  });

  test('create, list (filters), show changes, preview, restore and undo, with the workspace compared byte for byte', async () => {
    const sb = await project();
    const { client, stderr, close } = await connect(sb);
    try {
      const first = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'Before the agent' })).point;
      assert.match(first.id, ID);
      assert.equal(first.label, 'Before the agent');
      assert.match(first.actor, /^mcp:/);
      assert.deepEqual([first.trigger, first.summary, first.agent], ['agent', 'Created by recovery-points-test', 'recovery-points-test'], 'the point is the agent\'s, named after the client');
      const before = await workspaceBytes(sb);

      await writeFiles(sb.ws, { 'a.txt': 'a2 by the agent\n', 'b.txt': null, 'new.txt': 'new\n', 'build/out.js': 'ignored 2\n' });
      const second = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'After the agent' })).point;
      await writeFiles(sb.ws, { 'src/c.ts': 'c2 after the last point\n' });
      const edited = await workspaceBytes(sb);

      const all = (await ok<{ points: PointJson[] }>(client, 'list_points')).points;
      assert.deepEqual(all.map((p) => p.id), [second.id, first.id], 'newest first');
      assert.deepEqual((await ok<{ points: PointJson[] }>(client, 'list_points', { path: 'a.txt' })).points.map((p) => p.id), [second.id, first.id]);
      assert.deepEqual((await ok<{ points: PointJson[] }>(client, 'list_points', { path: 'new.txt' })).points.map((p) => p.id), [second.id], 'only the point that changed new.txt');
      assert.deepEqual((await ok<{ points: PointJson[] }>(client, 'list_points', { path: path.join(sb.ws, 'b.txt') })).points.map((p) => p.id), [second.id, first.id], 'an absolute path inside the workspace');
      assert.deepEqual((await ok<{ points: PointJson[] }>(client, 'list_points', { limit: 1 })).points.map((p) => p.id), [second.id]);
      assert.equal((await ok<{ points: PointJson[] }>(client, 'list_points', { trigger: 'agent', actor: 'MCP', since: '1h' })).points.length, 2);
      assert.equal((await ok<{ points: PointJson[] }>(client, 'list_points', { trigger: 'save' })).points.length, 0);
      assert.equal((await ok<{ points: PointJson[] }>(client, 'list_points', { until: '2000-01-01T00:00:00Z' })).points.length, 0);
      assert.equal((await ok<{ points: PointJson[] }>(client, 'list_points', { actor: 'claude' })).points.length, 0);

      const changes = await ok(client, 'show_changes', { point: second.id });
      assert.deepEqual(changes, { point: second.id, against: first.id, added: ['new.txt'], modified: ['a.txt'], deleted: ['b.txt'] });
      const passedBack = await ok<{ paths: string[]; overwrite: string[]; create: string[] }>(client, 'preview_restore', { point: first.id, paths: [...(changes.modified as string[]), ...(changes.deleted as string[])] });
      assert.deepEqual([passedBack.paths, passedBack.overwrite, passedBack.create], [['a.txt', 'b.txt'], ['a.txt'], ['b.txt']], 'the paths a tool returns are taken back as they are');
      assert.equal((await ok<{ path: string }>(client, 'file_history', { path: (changes.modified as string[])[0]! })).path, 'a.txt');
      // a path through a linked folder: the point holds the link, the file under the folder it leads to
      await fs.symlink('src', path.join(sb.ws, 'linked'));
      await refused(client, 'file_history', { path: 'linked/c.ts' }, /^linked\/c\.ts is inside linked, a symbolic link: give the path in the folder it leads to\.$/);
      await refused(client, 'read_file_version', { path: 'linked/c.ts', point: first.id }, /^linked\/c\.ts is inside linked, a symbolic link: give the path in the folder it leads to\.$/);
      await fs.rm(path.join(sb.ws, 'linked'));
      const between = await ok(client, 'show_changes', { point: first.id, against: 'latest' });
      assert.deepEqual(between, { point: first.id, against: second.id, added: ['b.txt'], modified: ['a.txt'], deleted: ['new.txt'] });
      const vsNow = await ok(client, 'show_changes', { point: second.id.slice(0, 22), against: 'current' });
      assert.deepEqual(vsNow, { point: second.id, against: 'current', added: [], modified: ['src/c.ts'], deleted: [] });

      const preview = await call(client, 'preview_restore', { point: first.id });
      assert.deepEqual(preview.data, { point: first.id, paths: null, create: ['b.txt'], overwrite: ['a.txt', 'src/c.ts'], delete: ['new.txt'], leftAlone: [] });
      assert.match(preview.sentence, /create 1, overwrite 2 and delete 1 files.*undone/);
      assert.deepEqual((await ok(client, 'preview_restore', { point: first.id, paths: ['src'] })).overwrite, ['src/c.ts'], 'a folder');
      assert.deepEqual(await ok(client, 'preview_restore', { point: first.id, paths: ['a.txt', 'b.txt'] }), { point: first.id, paths: ['a.txt', 'b.txt'], create: ['b.txt'], overwrite: ['a.txt'], delete: [], leftAlone: [] });
      assert.deepEqual(await workspaceBytes(sb), edited, 'previews change nothing');

      const restored = await call<{ safetyPointId: string; written: string[]; removed: string[] }>(client, 'restore_point', { point: first.id });
      assert.equal(restored.isError, false, restored.sentence);
      assert.match(restored.data.safetyPointId, ID);
      assert.match(restored.sentence, /undo_restore/);
      assert.deepEqual([...restored.data.written].sort(), ['a.txt', 'b.txt', 'src/c.ts']);
      assert.deepEqual(restored.data.removed, ['new.txt']);
      const afterRestore = await workspaceBytes(sb);
      assert.deepEqual({ ...afterRestore, 'build/out.js': before['build/out.js'] }, before, 'the workspace is as the point captured it');
      assert.equal(afterRestore['build/out.js'], edited['build/out.js'], 'the ignored file was not touched');
      const safety = (await ok<{ points: PointJson[] }>(client, 'list_points', { trigger: 'before-restore' })).points;
      assert.deepEqual(safety.map((p) => p.id), [restored.data.safetyPointId]);

      const undone = await call<{ written: string[]; removed: string[] }>(client, 'undo_restore');
      assert.equal(undone.isError, false, undone.sentence);
      assert.match(undone.sentence, /^Undid the restore of "Before the agent" \(restored just now\): /, 'names the restore it undid');
      assert.deepEqual(await workspaceBytes(sb), edited, 'the undo brings back every byte the restore replaced');

      // one file, by its absolute path
      await ok(client, 'restore_point', { point: first.id, paths: [path.join(sb.ws, 'a.txt')] });
      assert.deepEqual(await workspaceBytes(sb), { ...edited, 'a.txt': before['a.txt'] }, 'only that file changed');
      await ok(client, 'undo_restore');
      assert.deepEqual(await workspaceBytes(sb), edited);
      // a restore of what is already there changes nothing, and does not say the undo puts its files back
      const again = await call<{ written: string[] }>(client, 'restore_point', { point: first.id, paths: ['.gitignore'] });
      assert.match(again.sentence, /: 0 written, 0 deleted, so nothing changed\. Safety point \S+ holds the files as they are; undo_restore still undoes the restore before this one, if any\.$/);

      // a folder of ignored files where the point has b.txt: the preview says the restore leaves it
      await writeFiles(sb.ws, { 'b.txt/build/x.js': 'ignored\n' });
      const blocked = await call<{ create: string[]; leftAlone: Array<{ path: string; reason: string }> }>(client, 'preview_restore', { point: first.id, paths: ['b.txt'] });
      assert.deepEqual(blocked.data, { point: first.id, paths: ['b.txt'], create: [], overwrite: [], delete: [], leftAlone: [{ path: 'b.txt', reason: 'a folder with untracked files is in the way' }] });
      assert.match(blocked.sentence, /^Nothing to restore: .*cannot be restored\. It would leave 1 file of the point as it is/);

      // a .gitignore line for src/: the next point's changes say src/c.ts is no longer tracked, not deleted
      await writeFiles(sb.ws, { '.gitignore': 'build/\nsrc/\n' });
      const ignoring = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'src ignored' })).point;
      const stopped = await ok<{ deleted: string[]; noLongerTracked: string[] }>(client, 'show_changes', { point: ignoring.id });
      assert.deepEqual([stopped.deleted, stopped.noLongerTracked], [['src/c.ts'], ['src/c.ts']]);
      // the point before it against the files on disk: src/c.ts is there, ignored
      const againstDisk = await ok<{ deleted: string[]; noLongerTracked?: string[] }>(client, 'show_changes', { point: first.id, against: 'current' });
      assert.ok(againstDisk.deleted.includes('src/c.ts'));
      assert.deepEqual(againstDisk.noLongerTracked, ['src/c.ts']);
      const cHistory = await ok<{ versions: Array<{ kind: string; noLongerTracked: boolean }> }>(client, 'file_history', { path: 'src/c.ts' });
      assert.deepEqual(cHistory.versions.map((v) => [v.kind, v.noLongerTracked]).slice(0, 2), [['deleted', true], ['version', false]], 'its history says it was not deleted');
      // and against the point that stopped tracking it: not deleted either
      const againstPoint = await ok<{ deleted: string[]; noLongerTracked?: string[] }>(client, 'show_changes', { point: ignoring.id, against: first.id });
      assert.ok(againstPoint.deleted.includes('src/c.ts'));
      assert.deepEqual(againstPoint.noLongerTracked, ['src/c.ts']);
      const listed = await ok<{ points: PointJson[] }>(client, 'list_points', {});
      assert.deepEqual(listed.points.find((p) => p.id === ignoring.id)?.changes, { added: 0, modified: 1, deleted: 1, noLongerTracked: 1 });
      await writeFiles(sb.ws, { '.gitignore': 'build/\n' });
      const unignoring = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'src tracked again' })).point;
      const started = await ok<{ added: string[]; nowTracked: string[]; noLongerTracked?: string[] }>(client, 'show_changes', { point: unignoring.id });
      assert.deepEqual([started.added, started.nowTracked, started.noLongerTracked], [['src/c.ts'], ['src/c.ts'], undefined]);
      assert.doesNotMatch(stderr(), /error/i, stderr());
    } finally {
      await close();
    }
  });

  test('paths outside the workspace are refused as tool errors, nothing is written, and the server keeps serving', async () => {
    const sb = await project();
    const { client, close } = await connect(sb);
    try {
      const point = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'base' })).point;
      await writeFiles(sb.ws, { 'a.txt': 'changed\n' });
      const files = await workspaceBytes(sb);
      const outside = await readFiles(sb.root, { skip: (rel) => rel === 'ws' || rel === 'store' });
      const escapes = ['../canary/canary.txt', '../../etc/passwd', 'src/../../canary', path.join(sb.canary, 'canary.txt'), '/etc/passwd', sb.root, 'a.txt\0../x'];
      for (const escape of escapes) {
        for (const tool of ['preview_restore', 'restore_point']) await refused(client, tool, { point: point.id, paths: [escape] }, /not inside a folder of this workspace|Refusing the path/);
        await refused(client, 'list_points', { path: escape }, /not inside a folder of this workspace|Refusing the path/);
      }
      await refused(client, 'restore_point', { point: point.id, paths: ['a.txt', '../canary/canary.txt'] }, /not inside a folder of this workspace/);
      // a typo names nothing: refused, not "nothing to restore" (and no safety point made for it)
      for (const tool of ['preview_restore', 'restore_point']) await refused(client, tool, { point: point.id, paths: ['a.txt', 'a.tx'] }, /nor the workspace has anything at a\.tx/);
      assert.deepEqual(await workspaceBytes(sb), files, 'no workspace file was written');
      assert.deepEqual(await readFiles(sb.root, { skip: (rel) => rel === 'ws' || rel === 'store' }), outside, 'nothing outside the workspace was written');
      assert.equal((await ok<{ points: PointJson[] }>(client, 'list_points')).points.length, 1, 'no restore happened, so no safety point either');
    } finally {
      await close();
    }
  });

  test('bad input comes back as tool errors with a sentence, never a crash', async () => {
    const sb = await project();
    const { client, close } = await connect(sb);
    try {
      await refused(client, 'undo_restore', {}, /There is no restore to undo/);
      await refused(client, 'show_changes', { point: 'latest' }, /No recovery point "latest"/);
      await refused(client, 'create_point', { label: '   ' }, /label that says why/);
      await refused(client, 'create_point', {}, /label/);
      await refused(client, 'create_point', { label: 'x'.repeat(201) }, /at most 200 characters/);
      const point = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'base' })).point;
      await refused(client, 'preview_restore', { point: '20991231T000000000Z-abcdef' }, /No recovery point "20991231T000000000Z-abcdef" exists/);
      await refused(client, 'preview_restore', { point: point.id, paths: [] }, /^preview_restore: Give at least one path, or leave paths out to restore the whole point\.$/);
      // a bad argument: one sentence naming it and what it takes, never the schema's issues as JSON
      await refused(client, 'restore_point', { point: 42 }, /^restore_point: `point` must be a point id, a unique prefix of one, "latest" or a point's label\.$/);
      await refused(client, 'restore_point', { point: point.id, paths: 'a.txt' }, /^restore_point: `paths` must be a list of workspace paths\.$/);
      await refused(client, 'preview_restore', { point: point.id, paths: ['a.txt', 7] }, /^preview_restore: each item of `paths` must be a workspace path\.$/);
      await refused(client, 'restore_point', {}, /^restore_point: `point` is missing: give a point id, a unique prefix of one, "latest" or a point's label\.$/);
      await refused(client, 'list_points', { limit: 0 }, /^list_points: `limit` must be at least 1\.$/);
      await refused(client, 'list_points', { limit: 2.5 }, /^list_points: `limit` must be a whole number\.$/);
      await refused(client, 'search_history', { pattern: 'x', regex: 'yes' }, /^search_history: `regex` must be true or false\.$/);
      await refused(client, 'list_points', { trigger: 'bogus' }, /^list_points: `trigger` must be one of "manual", "save", .*"agent"\.$/);
      await refused(client, 'list_points', { since: 'last tuesday' }, /neither a date-time .* nor a duration/);
      await refused(client, 'show_changes', { point: point.id, against: 'nope' }, /No recovery point "nope"/);
      assert.equal((await ok<{ points: PointJson[] }>(client, 'list_points')).points.length, 1, 'still serving');
    } finally {
      await close();
    }
  });

  test('file_history, read_file_version and search_history: versions newest first, renames followed, text read back, old code found', async () => {
    const sb = await project();
    const { client, stderr, close } = await connect(sb);
    try {
      const one = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'one' })).point;
      await writeFiles(sb.ws, { 'a.txt': 'a1\nsecret = 42\n' });
      const two = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'two' })).point;
      await writeFiles(sb.ws, { 'a.txt': 'a3\n' });
      const three = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'three' })).point;
      const files = await workspaceBytes(sb);

      const history = await call<{ path: string; total: number; versions: VersionJson[] }>(client, 'file_history', { path: 'a.txt' });
      assert.equal(history.isError, false, history.sentence);
      assert.equal(history.data.path, 'a.txt');
      assert.deepEqual(history.data.versions.map((v) => [v.pointId, v.label, v.added, v.removed, v.current]), [
        [three.id, 'three', 1, 2, true],
        [two.id, 'two', 1, 0, false],
        [one.id, 'one', 1, 0, false],
      ]);
      assert.match(history.data.versions[0]!.actor, /^mcp:/);
      assert.match(history.sentence, /3 history entries for a\.txt.*version of point/);
      const limited = await ok<{ total: number; versions: VersionJson[] }>(client, 'file_history', { path: 'a.txt', limit: 2 });
      assert.deepEqual([limited.total, limited.versions.map((v) => v.pointId)], [3, [three.id, two.id]]);

      const atTwo = await ok<{ text: string; truncated: boolean; hash: string }>(client, 'read_file_version', { path: 'a.txt', point: two.id });
      assert.deepEqual([atTwo.text, atTwo.truncated, atTwo.hash], ['a1\nsecret = 42\n', false, history.data.versions[1]!.hash]);
      const byHash = await ok<{ text: string; pointId: string }>(client, 'read_file_version', { path: path.join(sb.ws, 'a.txt'), version: history.data.versions[2]!.hash!.slice(0, 10) });
      assert.deepEqual([byHash.text, byHash.pointId], ['a1\n', one.id]);

      const found = await call<{ hits: Array<{ places: Array<{ path: string; firstPointId: string; lastPointId: string }>; lines: Array<{ line: number; text: string }> }>; stopped: string | null }>(client, 'search_history', { pattern: 'secret = \\d+', regex: true });
      assert.equal(found.isError, false, found.sentence);
      assert.deepEqual(found.data.hits.map((h) => [h.places.map((p) => [p.path, p.firstPointId, p.lastPointId]), h.lines]), [[[['a.txt', two.id, two.id]], [{ line: 2, text: 'secret = 42' }]]]);
      assert.equal(found.data.stopped, null);
      assert.match(found.sentence, /^1 version match/);
      assert.equal((await ok<{ hits: unknown[] }>(client, 'search_history', { pattern: 'SECRET' })).hits.length, 1, 'case ignored by default');
      assert.equal((await ok<{ hits: unknown[] }>(client, 'search_history', { pattern: 'SECRET', caseSensitive: true })).hits.length, 0);
      assert.equal((await ok<{ hits: unknown[] }>(client, 'search_history', { pattern: 'secret', paths: ['src/**'] })).hits.length, 0, 'only paths matching the glob');
      assert.equal((await ok<{ hits: unknown[] }>(client, 'search_history', { pattern: 'secret', paths: ['*.txt'] })).hits.length, 1);
      const capped = await call<{ hits: unknown[]; stopped: string | null }>(client, 'search_history', { pattern: '1', limit: 2 });
      assert.deepEqual([capped.data.hits.length, capped.data.stopped], [2, 'limit']);
      assert.match(capped.sentence, /stopped at the limit/);
      assert.deepEqual(await workspaceBytes(sb), files, 'reading and searching change no file');

      // a rename: the history goes on under the old name, and a version is read by its hash from there
      await writeFiles(sb.ws, { 'a.txt': null, 'docs/renamed.txt': 'a3\n' });
      const four = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'four' })).point;
      const renamedFiles = await workspaceBytes(sb);
      const renamed = await ok<{ versions: VersionJson[] }>(client, 'file_history', { path: 'docs/renamed.txt' });
      assert.deepEqual(renamed.versions.map((v) => [v.pointId, v.path, v.renamedFrom]), [
        [four.id, 'docs/renamed.txt', 'a.txt'],
        [three.id, 'a.txt', null],
        [two.id, 'a.txt', null],
        [one.id, 'a.txt', null],
      ]);
      const old = await ok<{ text: string; path: string; pointId: string }>(client, 'read_file_version', { path: 'docs/renamed.txt', version: history.data.versions[1]!.hash });
      assert.deepEqual([old.text, old.path, old.pointId], ['a1\nsecret = 42\n', 'a.txt', two.id]);
      assert.deepEqual(await workspaceBytes(sb), renamedFiles, 'reading and searching change no file');
      assert.doesNotMatch(stderr(), /error/i, stderr());
    } finally {
      await close();
    }
  });

  test('history tools: unknown files, bad versions, binary files and malformed patterns are tool errors; long text is truncated with a note', async () => {
    const sb = await project();
    const big = Array.from({ length: 3000 }, (_, i) => `line ${i + 1} of a long file\n`).join('');
    await writeFiles(sb.ws, { 'big.txt': big, 'img.bin': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0xff]) });
    const { client, close } = await connect(sb);
    try {
      const point = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'base' })).point;
      const cut = await call<{ text: string; truncated: boolean; size: number; lines: number; shownLines: number; shownBytes: number }>(client, 'read_file_version', { path: 'big.txt', point: point.id, maxBytes: 1000 });
      assert.equal(cut.isError, false, cut.sentence);
      assert.equal(cut.data.truncated, true);
      assert.deepEqual([cut.data.size, cut.data.lines], [Buffer.byteLength(big), 3000]);
      assert.ok(cut.data.shownBytes <= 1000 && cut.data.shownBytes > 900, String(cut.data.shownBytes));
      assert.equal(cut.data.text, big.split('\n').slice(0, cut.data.shownLines).map((l) => `${l}\n`).join(''), 'whole lines from the start');
      assert.match(cut.sentence, new RegExp(`TRUNCATED: only the first ${cut.data.shownLines} lines .*larger maxBytes`));
      // one long line, and a file over what the tool returns at most
      await writeFiles(sb.ws, { 'oneline.txt': `${'y'.repeat(5000)}\n`, 'huge.txt': big.repeat(30) });
      const long = (await ok<{ point: PointJson }>(client, 'create_point', { label: 'long lines' })).point;
      const inLine = await call<{ shownBytes: number }>(client, 'read_file_version', { path: 'oneline.txt', point: long.id, maxBytes: 1000 });
      assert.match(inLine.sentence, /TRUNCATED: only the first 1,000 bytes, which end inside line 1 are returned; ask again with a larger maxBytes \(at most 1,000,000\) for more\.$/);
      const atMost = await call<{ shownBytes: number }>(client, 'read_file_version', { path: 'huge.txt', point: long.id, maxBytes: 1_000_000 });
      assert.match(atMost.sentence, new RegExp(`this tool returns at most 1,000,000 bytes; the whole version is \`recovery-points cat ${long.id} huge\\.txt\` in a terminal\\.$`));
      const whole = await ok<{ text: string; truncated: boolean }>(client, 'read_file_version', { path: 'big.txt', point: 'latest' });
      assert.deepEqual([whole.text === big, whole.truncated], [true, false], 'the default cap holds this file');

      await refused(client, 'read_file_version', { path: 'img.bin', point: point.id }, /img\.bin in point .* is binary \(9 bytes\), so it is not returned as text/);
      await refused(client, 'file_history', { path: 'nope.txt' }, /No recovery point holds nope\.txt/);
      await refused(client, 'file_history', { path: 'src' }, /src is a folder: file_history takes a file/);
      await refused(client, 'file_history', { path: '../canary/canary.txt' }, /not inside a folder of this workspace/);
      await refused(client, 'file_history', { path: 'a.txt', limit: 0 }, /limit/);
      await refused(client, 'read_file_version', { path: 'nope.txt', point: point.id }, /does not hold nope\.txt/);
      await refused(client, 'read_file_version', { path: 'a.txt', point: 'nope' }, /No recovery point "nope"/);
      await refused(client, 'read_file_version', { path: 'a.txt' }, /either point or version/);
      await refused(client, 'read_file_version', { path: 'a.txt', point: point.id, version: 'abcdef' }, /either point or version/);
      await refused(client, 'read_file_version', { path: 'a.txt', version: 'ffffff0' }, /No version ffffff0 in the history of a\.txt/);
      await refused(client, 'read_file_version', { path: 'a.txt', version: 'not-a-hash' }, /hexadecimal/);
      await refused(client, 'read_file_version', { path: '/etc/passwd', point: point.id }, /not inside a folder of this workspace/);
      await refused(client, 'search_history', { pattern: 'a(b', regex: true }, /"a\(b" is not a valid regular expression/);
      await refused(client, 'search_history', { pattern: 'a', paths: ['src/[ab'] }, /The path pattern "src\/\[ab" is not a valid glob \(missing closing: "\]"\)/);
      await refused(client, 'search_history', { pattern: '' }, /Give the text to search for/);
      await refused(client, 'search_history', { pattern: 'x', limit: 1000 }, /limit/);
      assert.equal((await ok<{ hits: unknown[] }>(client, 'search_history', { pattern: 'a(b' })).hits.length, 0, 'as plain text it is fine');
      assert.equal((await ok<{ points: PointJson[] }>(client, 'list_points')).points.length, 2, 'still serving');
    } finally {
      await close();
    }
  });

  test('standard output carries only protocol messages, and the server exits when its input closes', async () => {
    const sb = await project();
    const { child, stdout, stderr, exited } = await rawServer(sb);
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'create_point', arguments: { label: 'raw' } } });
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'restore_point', arguments: { point: '../x' } } });
    send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'list_points', arguments: {} } });
    const deadline = Date.now() + 30_000;
    while (stdout().split('\n').filter(Boolean).length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    child.stdin.end();
    assert.equal(await exited, 0, stderr());
    const lines = stdout().split('\n').filter(Boolean);
    const messages = lines.map((line) => JSON.parse(line) as { jsonrpc: string; id: number; result?: { isError?: boolean } });
    // tool calls are answered as they finish, not in order
    assert.deepEqual(messages.map((m) => [m.jsonrpc, m.id]).sort((a, b) => Number(a[1]) - Number(b[1])), [['2.0', 1], ['2.0', 2], ['2.0', 3], ['2.0', 4]]);
    assert.equal(messages.find((m) => m.id === 3)!.result?.isError, true, 'an unknown point is a tool error');
    assert.equal(messages.find((m) => m.id === 2)!.result?.isError, undefined);
    assert.match(stderr(), /MCP server ready/, 'logs go to standard error');
  });

  test('a malformed line gets a JSON-RPC error, not silence, and a request sent just before the input closes is still answered', async () => {
    const sb = await project();
    const { child, stdout, stderr, exited } = await rawServer(sb);
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      'not json at all',
      { jsonrpc: '2.0', id: 'p', method: 'tools/list', params: null },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_points', arguments: null } },
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'list_points', arguments: [] } },
      { jsonrpc: '2.0', id: 6, method: 'tools/call' },
      // over the transport's 10 MiB: answered, and the server reads on
      `{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{"pad":"${'x'.repeat(11 * 1024 * 1024)}"}}`,
    ];
    child.stdin.write(`${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
    // a character cut in two between writes is read whole; then the input is closed at once, as a script's one call through a pipe
    const last = Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'create_point', arguments: { label: 'last w\u00f6rds' } } })}\n`);
    const cut = last.indexOf(Buffer.from('\u00f6')) + 1;
    child.stdin.write(last.subarray(0, cut));
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.stdin.end(last.subarray(cut));
    assert.equal(await exited, 0, stderr());
    const answers = stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: unknown; error?: { code: number; message: string }; result?: { isError?: boolean } });
    const error = (id: unknown) => answers.find((a) => a.id === id)?.error;
    const unnamed = answers.filter((a) => a.id === null).map((a) => [a.error?.code, a.error?.message]);
    assert.deepEqual(unnamed, [[-32700, 'Parse error: the line is not JSON (one JSON-RPC message a line).']], 'the line that is not JSON');
    assert.equal(error(9)?.message, 'Invalid Request: a message over 10 MiB was left unread.', 'the line too long to read, answered by its id (read from its start)');
    assert.equal(error('p')?.code, -32600, 'params: null is no JSON-RPC request');
    assert.equal(error(3)?.code, -32602, 'arguments: null');
    assert.match(error(3)!.message, /^Invalid params: "arguments" must be an object/, 'a sentence, not a schema dump');
    assert.equal(error(4)?.code, -32602, 'arguments: []');
    assert.deepEqual(error(6), { code: -32602, message: 'Invalid params: tools/call takes "params": { "name": the tool\'s name (tools/list lists them), "arguments": its inputs }.' }, 'no params: a sentence');
    const made = answers.find((a) => a.id === 5);
    assert.ok(made?.result && !made.result.isError, `the point asked for before the input closed is made and answered: ${stdout()}`);
    assert.deepEqual(answers.map((a) => a.id).sort(), [1, 3, 4, 5, 6, 9, null, 'p'].sort(), 'one answer each, nothing else on standard output');
    const env = await toolEnv();
    const list = await new Promise<string>((resolve) => {
      let out = '';
      const lister = spawn(process.execPath, [CLI, 'list', '--json', '--workspace', sb.ws, '--store', sb.store], { env });
      lister.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      lister.on('exit', () => resolve(out));
    });
    assert.equal((JSON.parse(list) as Array<{ label: string | null }>)[0]!.label, 'last w\u00f6rds');
  });

  test('calls sent without waiting for answers run in the order sent where they write: a restore, then its undo, then a read', async () => {
    const sb = await project();
    assert.equal((await cli(['snapshot', '--label', 'init', '--workspace', sb.ws, '--store', sb.store])).code, 0);
    await writeFiles(sb.ws, { 'a.txt': 'a2, in no point\n', 'new.txt': 'new\n' });
    const before = await workspaceBytes(sb);
    const { child, stdout, stderr, exited } = await rawServer(sb);
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'restore_point', arguments: { point: 'init' } } },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'undo_restore', arguments: {} } },
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'read_file_version', arguments: { path: 'a.txt', point: 'init' } } },
      { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'list_points', arguments: { limit: 1 } } },
    ];
    child.stdin.end(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    assert.equal(await exited, 0, stderr());
    const answers = stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: number; result?: { isError?: boolean; content: Array<{ text: string }> } });
    const text = (id: number) => answers.find((a) => a.id === id)?.result?.content[0]?.text ?? '';
    assert.ok(answers.every((a) => a.result && !a.result.isError), stdout());
    assert.match(text(2), /^Restored point \S+: 1 written, 1 deleted\./);
    assert.match(text(3), /^Undid the restore of "init" \(restored just now\): /, text(3));
    assert.match(text(5), /^1 recovery point/);
    assert.match(JSON.parse(answers.find((a) => a.id === 5)!.result!.content[1]!.text).points[0].summary, /^Undid restore of/, 'the read sent after the undo sees its point');
    assert.deepEqual(await workspaceBytes(sb), before, 'restored, then undone: the files as they were');
  });

  test('a call the client cancels is not waited for when the input closes, and a cancelled search stops', async () => {
    const sb = await project();
    await writeFiles(sb.ws, { 'long.txt': `${'a'.repeat(50_000)}!\n` });
    assert.equal((await cli(['snapshot', '--workspace', sb.ws, '--store', sb.store])).code, 0);
    const { child, stdout, stderr, exited } = await rawServer(sb);
    const started = Date.now();
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      // a match that runs on for minutes; the tool's own limit is 10 s
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'search_history', arguments: { pattern: '(a+)+$', regex: true } } },
    ];
    child.stdin.write(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    child.stdin.end(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'the user stopped it' } })}\n`);
    assert.equal(await exited, 0, stderr());
    assert.doesNotMatch(stderr(), /internal error|never came/);
    assert.ok(Date.now() - started < 9_000, `ended ${Date.now() - started} ms after it started: the cancel stopped the search before its 10 s limit`);
    assert.deepEqual(stdout().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: unknown }).id), [1], 'the cancelled call is not answered');
  });
});
