/**
 * `recovery-points hook` as each agent runs it (#13): the payload fixtures of Claude Code, VS Code's
 * agent hooks and Cline make the points they ask for; bad payloads, a missing store, a full disk, an
 * unwritable store and a lock held past the time budget never fail the agent (exit 0, one line).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { StoreLock } from '../../src/core';
import { auditFileEntries, cleanupAll, makeSandbox, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';
import { cli, cliHome, ensureBuilt, json, ok } from './helpers/runCli';
import { fixture, hook } from './helpers/runHook';

after(cleanupAll);
before(ensureBuilt);

interface PointJson {
  id: string;
  trigger: string;
  label: string | null;
  summary: string;
  agent?: string;
}

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

async function project(): Promise<{ sb: Sandbox; base: string[] }> {
  const sb = await makeSandbox('rp-hook-');
  await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1;\n', 'README.md': '# project\n' });
  const base = ['--workspace', sb.ws, '--store', sb.store];
  ok(await cli(['snapshot', ...base]));
  return { sb, base };
}

/** A store as the editor keeps it for `folder` (a workspace-storage folder of the tool's home naming it), copied from `from` when given. */
async function editorStore(name: string, folder: string, from?: string): Promise<{ storage: string; store: string }> {
  const storage = path.join(await cliHome(), '.config', 'Code', 'User', 'workspaceStorage', name);
  const store = path.join(storage, 'recovery-points.recovery-points');
  await fs.mkdir(storage, { recursive: true });
  if (from) await fs.cp(from, store, { recursive: true });
  await fs.writeFile(path.join(storage, 'workspace.json'), JSON.stringify({ folder: pathToFileURL(folder).href }));
  return { storage, store };
}

async function points(base: string[]): Promise<PointJson[]> {
  return json<PointJson[]>(await cli(['list', '--json', ...base]));
}

/** The points once `done` says so (a detached process makes them), within 30 s. */
async function pointsWhen(base: string[], done: (list: PointJson[]) => boolean): Promise<PointJson[]> {
  let list = await points(base);
  for (const until = Date.now() + 30_000; !done(list) && Date.now() < until; list = await points(base)) await new Promise((resolve) => setTimeout(resolve, 200));
  assert.ok(done(list), `points: ${list.map((p) => p.summary).join(' / ')}`);
  return list;
}

/** Holds `store`'s lock from this process (as the editor does while it makes a long point) until `release`; `holding` settles once let go. */
async function holdStore(store: string): Promise<{ release: () => void; holding: Promise<void> }> {
  const lock = new StoreLock(store, { staleMs: 60_000 });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let taken!: () => void;
  const isTaken = new Promise<void>((resolve) => (taken = resolve));
  const holding = lock.run(async () => {
    taken();
    await held;
  });
  await isTaken;
  return { release, holding };
}

/** The store's waiter for hooks (`src/hooks/waitingHooks.ts`) has ended, leaving no hook waiting. */
async function waiterGone(store: string): Promise<void> {
  const dir = path.join(store, 'waiting-hooks');
  let left = await fs.readdir(dir);
  for (const until = Date.now() + 10_000; left.length > 0 && Date.now() < until; left = await fs.readdir(dir)) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(left, []);
}

const AGENTS = [
  { dir: 'claude', name: 'Claude Code', stdout: '', edit: 'PreToolUse-Edit.json', tool: 'Edit', shell: 'PostToolUse-Bash.json', shellTool: 'Bash', read: 'PreToolUse-Read.json' },
  { dir: 'copilot', name: 'Copilot', stdout: '', edit: 'PreToolUse-replace_string_in_file.json', tool: 'replace_string_in_file', shell: 'PostToolUse-run_in_terminal.json', shellTool: 'run_in_terminal', read: 'PreToolUse-read_file.json' },
  { dir: 'cline', name: 'Cline', stdout: '{"cancel":false}\n', edit: 'PreToolUse-write_to_file.json', tool: 'write_to_file', shell: 'PostToolUse-execute_command.json', shellTool: 'execute_command', read: 'PreToolUse-read_file.json' },
];

describe('recovery-points hook: the payloads of each agent', () => {
  for (const agent of AGENTS) {
    test(`${agent.name}: a turn point at the prompt, a point before an edit, one after a shell command, none for a read`, async () => {
      const { sb, base } = await project();
      const run = async (name: string) => {
        const r = await hook(['--store', sb.store], fixture(`${agent.dir}/${name}`, sb.ws));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, '', 'nothing on stderr when all went well');
        assert.equal(r.stdout, agent.stdout, "stdout holds only the agent's answer");
      };
      await run('UserPromptSubmit.json');
      let list = await points(base);
      assert.equal(list.length, 2);
      assert.equal(list[0]!.trigger, 'agent');
      assert.equal(list[0]!.agent, agent.name);
      assert.equal(list[0]!.label, `${agent.name} turn: Format the code and fix the failing test in src/app.ts`);

      // the file changed since the newest point (the user saved it): the point before the edit keeps that version
      await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1; // by hand\n' });
      await run(agent.edit);
      list = await points(base);
      assert.equal(list.length, 3);
      assert.equal(list[0]!.summary, `Before ${agent.name}: ${agent.tool} src/app.ts`);
      assert.equal(list[0]!.agent, agent.name);
      const shown = ok(await cli(['show', list[0]!.id, ...base])).stdout;
      assert.match(shown, /~ src\/app\.ts/);

      // nothing changed since: no point
      await run(agent.edit);
      assert.equal((await points(base)).length, 3, 'no point when the file is as the newest point holds it');

      // a shell command changed files nobody named: the full check finds them
      await writeFiles(sb.ws, { 'README.md': '# formatted\n', 'dist/out.js': 'built\n' });
      await run(agent.shell);
      list = await points(base);
      assert.equal(list.length, 4);
      assert.equal(list[0]!.summary, `After ${agent.name}: ${agent.shellTool} \`npm run fmt\``);
      const changed = json<{ changedFiles: { added: string[]; modified: string[] } }>(await cli(['show', list[0]!.id, '--json', ...base])).changedFiles;
      assert.deepEqual(changed, { added: ['ws/dist/out.js'], modified: ['ws/README.md'], deleted: [] });

      await run(agent.shell);
      await run(agent.read);
      assert.equal((await points(base)).length, 4, 'a command that changed nothing, and a read, make no point');
    });
  }

  test('a file whose name starts with two dots (..notes) is inside the workspace: the edit of it gets its point', async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { '..notes': 'typed by hand\n' });
    const payload = { hook_event_name: 'PreToolUse', session_id: 's', cwd: sb.ws, tool_name: 'Edit', tool_input: { file_path: path.join(sb.ws, '..notes'), old_string: 'a', new_string: 'b' } };
    const r = await hook(['--store', sb.store], JSON.stringify(payload));
    assert.deepEqual([r.code, r.stderr], [0, '']);
    assert.equal((await points(base))[0]!.summary, 'Before Claude Code: Edit ..notes');
  });

  test('finds the store the editor keeps for the hook’s cwd, or for the nearest folder above it', async () => {
    const { sb, base } = await project();
    const { storage, store } = await editorStore('hooks-nearest', sb.ws, sb.store);
    try {
      const payload = fixture('claude/PostToolUse-Bash.json', sb.ws).replace(`"cwd": "${sb.ws}"`, `"cwd": "${path.join(sb.ws, 'src')}"`);
      await writeFiles(sb.ws, { 'src/generated.ts': 'x\n' });
      const r = await hook([], payload);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
      const list = await points(['--workspace', sb.ws, '--store', store]);
      assert.equal(list[0]!.summary, 'After Claude Code: Bash `npm run fmt`');
      assert.equal((await points(base)).length, 1, 'the sandbox store was not the one written');
    } finally {
      await fs.rm(storage, { recursive: true, force: true });
    }
  });
  test('an agent started above the opened folder (a monorepo\'s root): its edit of a file inside it finds that folder\'s store', async () => {
    const { sb, base } = await project();
    const { storage, store } = await editorStore('hooks-above', sb.ws, sb.store);
    try {
      await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1; // by hand\n' });
      const payload = { hook_event_name: 'PreToolUse', session_id: 's', cwd: sb.root, tool_name: 'Edit', tool_input: { file_path: path.join(path.basename(sb.ws), 'src', 'app.ts'), old_string: '1', new_string: '2' } };
      const r = await hook([], JSON.stringify(payload), { cwd: sb.root });
      assert.deepEqual([r.code, r.stderr], [0, '']);
      assert.equal((await points(['--workspace', sb.ws, '--store', store]))[0]!.summary, 'Before Claude Code: Edit src/app.ts');
      assert.equal((await points(base)).length, 1, 'the sandbox store was not the one written');
    } finally {
      await fs.rm(storage, { recursive: true, force: true });
    }
  });

  test('an edit of another project that has its own store (Claude Code\'s --add-dir) gets its point in that project\'s store', async () => {
    const { sb } = await project();
    const other = await makeSandbox('rp-hook-other-');
    await writeFiles(other.ws, { 'lib/util.ts': 'export const util = 1;\n' });
    const here = await editorStore('hooks-here', sb.ws, sb.store);
    const there = await editorStore('hooks-there', other.ws);
    const otherBase = ['--workspace', other.ws, '--store', there.store];
    try {
      ok(await cli(['snapshot', ...otherBase]));
      await writeFiles(other.ws, { 'lib/util.ts': 'export const util = 1; // by hand\n' });
      const payload = { hook_event_name: 'PreToolUse', session_id: 's', cwd: sb.ws, tool_name: 'Edit', tool_input: { file_path: path.join(other.ws, 'lib', 'util.ts'), old_string: '1', new_string: '2' } };
      const r = await hook([], JSON.stringify(payload), { cwd: sb.ws });
      assert.deepEqual([r.code, r.stderr], [0, '']);
      const list = await points(otherBase);
      assert.deepEqual(list.map((p) => p.summary), ['Before Claude Code: Edit lib/util.ts', 'First recovery point']);
      assert.equal((await points(['--workspace', sb.ws, '--store', here.store])).length, 1, 'the agent\'s own folder\'s store was not written');
      // an edit in the agent's own folder still goes to its store
      await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1; // by hand\n' });
      const own = { ...payload, tool_input: { ...payload.tool_input, file_path: path.join(sb.ws, 'src', 'app.ts') } };
      assert.deepEqual(await hook([], JSON.stringify(own), { cwd: sb.ws }).then((run) => [run.code, run.stderr]), [0, '']);
      assert.equal((await points(['--workspace', sb.ws, '--store', here.store]))[0]!.summary, 'Before Claude Code: Edit src/app.ts');
      assert.equal((await points(otherBase)).length, 2);
    } finally {
      await fs.rm(here.storage, { recursive: true, force: true });
      await fs.rm(there.storage, { recursive: true, force: true });
    }
  });

  test('a folder the editor opened through a link, the agent working in its real folder: the hook finds the store and names the file as the editor does', async () => {
    const sb = await makeSandbox('rp-hook-link-');
    await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1;\n' });
    const link = path.join(sb.root, 'project-link');
    await fs.symlink(sb.ws, link);
    const { storage, store } = await editorStore('hooks-link', link);
    const base = ['--workspace', link, '--store', store];
    try {
      ok(await cli(['snapshot', ...base]));
      await fs.rm(path.join(await cliHome(), '.cache'), { recursive: true, force: true }); // no search kept from before
      await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1; // by hand\n' });
      const payload = { hook_event_name: 'PreToolUse', session_id: 's', cwd: sb.ws, tool_name: 'Edit', tool_input: { file_path: path.join(sb.ws, 'src', 'app.ts'), old_string: '1', new_string: '2' } };
      const r = await hook([], JSON.stringify(payload), { cwd: sb.ws });
      assert.deepEqual([r.code, r.stderr], [0, '']);
      const list = await points(base);
      assert.equal(list[0]!.summary, 'Before Claude Code: Edit src/app.ts');
      const roots = json<{ roots: Array<{ name: string; path: string }> }>(await cli(['show', 'latest', '--json', ...base])).roots;
      assert.deepEqual(roots.map((root) => [root.name, root.path]), [['project-link', link]], 'the folder as the editor opened it');
    } finally {
      await fs.rm(storage, { recursive: true, force: true });
    }
  });

  test('the agent working through a link to the folder the editor opened: the edit gets its point, named by the file', async () => {
    const sb = await makeSandbox('rp-hook-linked-cwd-');
    await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1;\n' });
    const link = path.join(sb.root, 'project-link');
    await fs.symlink(sb.ws, link);
    const { storage, store } = await editorStore('hooks-linked-cwd', sb.ws);
    const base = ['--workspace', sb.ws, '--store', store];
    try {
      ok(await cli(['snapshot', ...base]));
      await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
      const payload = { hook_event_name: 'PostToolUse', session_id: 's', cwd: link, tool_name: 'Edit', tool_input: { file_path: path.join(link, 'src', 'app.ts'), old_string: '1', new_string: '2' }, tool_response: {} };
      const r = await hook([], JSON.stringify(payload), { cwd: link });
      assert.deepEqual([r.code, r.stderr], [0, '']);
      assert.equal((await points(base))[0]!.summary, 'After Claude Code: Edit src/app.ts');
    } finally {
      await fs.rm(storage, { recursive: true, force: true });
    }
  });

  test('an edit through a file that is a link (CLAUDE.md \u2192 AGENTS.md): the point before it holds what a person wrote, the point after it the agent\'s change', async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { 'AGENTS.md': 'v1\n', 'CLAUDE.md': { symlink: 'AGENTS.md' } });
    ok(await cli(['snapshot', ...base]));
    await writeFiles(sb.ws, { 'AGENTS.md': 'v1\nwritten by a person\n' });
    const edit = (event: string) => ({ hook_event_name: event, session_id: 's', cwd: sb.ws, tool_name: 'Edit', tool_input: { file_path: path.join(sb.ws, 'CLAUDE.md'), old_string: 'v1', new_string: 'v2' }, ...(event === 'PostToolUse' ? { tool_response: {} } : {}) });
    assert.equal((await hook(['--store', sb.store], JSON.stringify(edit('PreToolUse')), { cwd: sb.ws })).code, 0);
    const before = (await points(base))[0]!;
    assert.equal(before.summary, 'Before Claude Code: Edit CLAUDE.md');
    await fs.writeFile(path.join(sb.ws, 'CLAUDE.md'), 'v2\n');
    assert.equal((await hook(['--store', sb.store], JSON.stringify(edit('PostToolUse')), { cwd: sb.ws })).code, 0);
    const after = (await points(base))[0]!;
    assert.equal(after.summary, 'After Claude Code: Edit CLAUDE.md');
    assert.equal(ok(await cli(['cat', before.id, 'AGENTS.md', ...base])).stdout, 'v1\nwritten by a person\n');
    assert.equal(ok(await cli(['cat', after.id, 'AGENTS.md', ...base])).stdout, 'v2\n');
  });

  test('finds the store again without reading every other store: what a search found is kept until a workspace-storage folder changes', async () => {
    const storageRoot = path.join(await cliHome(), '.config', 'Code', 'User', 'workspaceStorage');
    const editorStore = async (sb: Sandbox, id: string): Promise<string> => {
      const storage = path.join(storageRoot, id);
      await fs.mkdir(storage, { recursive: true });
      await fs.cp(sb.store, path.join(storage, 'recovery-points.recovery-points'), { recursive: true });
      await fs.writeFile(path.join(storage, 'workspace.json'), JSON.stringify({ folder: pathToFileURL(sb.ws).href }));
      return path.join(storage, 'recovery-points.recovery-points');
    };
    const edit = (sb: Sandbox) => fixture('claude/PostToolUse-Bash.json', sb.ws);
    const first = await project();
    const decoy = await project();
    const firstStore = await editorStore(first.sb, 'cache-first');
    const decoyDir = path.dirname(await editorStore(decoy.sb, 'cache-decoy'));
    try {
      await writeFiles(first.sb.ws, { 'src/first.ts': 'x\n' });
      assert.equal((await hook([], edit(first.sb))).stderr, '', 'the first call searches every store');
      // Another store's workspace.json becomes a pipe nobody writes to: reading it would never end.
      // Its workspace-storage folder changes, the folder holding every one of them does not.
      await fs.rm(path.join(decoyDir, 'workspace.json'));
      execFileSync('mkfifo', [path.join(decoyDir, 'workspace.json')]);
      await writeFiles(first.sb.ws, { 'src/second.ts': 'x\n' });
      const again = await hook(['--budget', '5000'], edit(first.sb));
      assert.equal(again.stderr, '', 'the second call reads only the store it found before');
      assert.equal((await points(['--workspace', first.sb.ws, '--store', firstStore])).length, 3);

      // a newly opened folder adds a workspace-storage folder: searched again, its store is found
      await fs.rm(path.join(decoyDir, 'workspace.json'));
      await fs.writeFile(path.join(decoyDir, 'workspace.json'), JSON.stringify({ folder: pathToFileURL(decoy.sb.ws).href }));
      const third = await project();
      const thirdStore = await editorStore(third.sb, 'cache-third');
      await writeFiles(third.sb.ws, { 'src/third.ts': 'x\n' });
      assert.equal((await hook([], edit(third.sb))).stderr, '');
      assert.equal((await points(['--workspace', third.sb.ws, '--store', thirdStore])).length, 2);
    } finally {
      for (const id of ['cache-first', 'cache-decoy', 'cache-third']) await fs.rm(path.join(storageRoot, id), { recursive: true, force: true });
    }
  });
});

describe('recovery-points hook never fails the agent', () => {
  test('bad payloads: exit 0, one line on stderr, an audit-log entry, no point', async () => {
    const { sb, base } = await project();
    const bad = ['', 'not json', '[1,2]', '{"hello":"world"}', '{"hook_event_name": 42}'];
    for (const payload of bad) {
      const r = await hook(['--store', sb.store, '--agent', 'cline'], payload);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^recovery-points hook: .*no point was made, the agent goes on\.$/m);
      assert.equal(r.stdout, '{"cancel":false}\n', 'Cline still gets its answer');
    }
    assert.equal((await points(base)).length, 1);
    const entries = (await auditFileEntries(sb.store)).filter((e) => e.action === 'hook');
    assert.equal(entries.length, bad.length);
    assert.match(String(entries[1]!.details!.problem), /not JSON/);
  });

  test('bad options: exit 0 (exit 2 would block the agent), one line', async () => {
    const { sb } = await project();
    for (const args of [['--bogus'], ['--agent', 'nobody']]) {
      const r = await hook(['--store', sb.store, ...args], fixture('claude/PostToolUse-Bash.json', sb.ws));
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('a budget that cannot be used does not turn the checkpoints off: a mistyped one is the default, said in one line; a huge one is capped', async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { 'README.md': '# changed by the command\n' });
    const mistyped = await hook(['--store', sb.store, '--budget', 'soon'], fixture('claude/PostToolUse-Bash.json', sb.ws));
    assert.equal(mistyped.code, 0);
    assert.equal(mistyped.stderr, 'recovery-points hook: the hook\'s budget (--budget "soon") is not a whole number of milliseconds above 0; the default 2000 ms is used.\n');
    assert.equal((await points(base))[0]!.summary, 'After Claude Code: Bash `npm run fmt`', 'the point is made');
    await writeFiles(sb.ws, { 'README.md': '# changed again\n' });
    const huge = await hook(['--store', sb.store], fixture('claude/PostToolUse-Bash.json', sb.ws), { env: { RECOVERY_POINTS_HOOK_BUDGET_MS: '99999999999' } });
    assert.deepEqual([huge.code, huge.stderr], [0, ''], 'no "gave up", no timer overflow warning');
    assert.equal((await points(base)).length, 3);
  });

  test('no store for the folder: exit 0 and one line saying so', async () => {
    const sb = await makeSandbox('rp-hook-nostore-');
    await writeFiles(sb.ws, { 'a.txt': 'a\n' });
    const r = await hook([], fixture('claude/PostToolUse-Bash.json', sb.ws));
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /no recovery point store for/);
  });

  test('a full disk: exit 0, one line, and the store still lists and restores its points', async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { 'README.md': '# changed\n' });
    const inject = path.join(__dirname, '..', 'reliability', 'helpers', 'failingFs.mjs');
    const r = await hook(['--store', sb.store], fixture('claude/PostToolUse-Bash.json', sb.ws), {
      nodeArgs: ['--import', pathToFileURL(inject).href],
      env: { RP_FAIL_AT: '1', RP_FAIL_CODE: 'ENOSPC', RP_FAIL_STICKY: '1', RP_FAIL_UNDER: sb.store },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /ENOSPC|no space/i);
    const list = await points(base);
    assert.equal(list.length, 1, 'no half-made point is listed');
    ok(await cli(['verify', ...base]));
  });

  test('a store that cannot be written: exit 0, one line, nothing changed', { skip: process.platform === 'win32' ? 'no POSIX permissions' : false }, async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { 'README.md': '# changed\n' });
    if (isRoot) {
      await fs.chmod(sb.root, 0o755);
      await fs.chmod(await cliHome(), 0o755);
      execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, sb.root]);
    }
    execFileSync('chmod', ['-R', 'a-w', sb.store]);
    try {
      const r = await hook(['--store', sb.store], fixture('claude/PostToolUse-Bash.json', sb.ws), isRoot ? { uid: NOBODY, gid: NOBODY } : {});
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /cannot be written|permission|EACCES/i);
    } finally {
      execFileSync('chmod', ['-R', 'u+w', sb.store]);
    }
    assert.equal((await points(base)).length, 1);
  });

  test('the time budget: a lock held longer than the budget makes the hook give up cleanly, and say so', async () => {
    const { sb, base } = await project();
    await writeFiles(sb.ws, { 'README.md': '# changed\n' });
    const { release, holding } = await holdStore(sb.store);
    try {
      const r = await hook(['--store', sb.store, '--budget', '400'], fixture('claude/PostToolUse-Bash.json', sb.ws));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /gave up after 400 ms|busy/);
      assert.match(r.stderr, /the point is made once the store is free, the agent goes on\.\n$/);
      // the same through the environment
      const e = await hook(['--store', sb.store], fixture('claude/PostToolUse-Bash.json', sb.ws), { env: { RECOVERY_POINTS_HOOK_BUDGET_MS: '300' } });
      assert.equal(e.code, 0);
      assert.match(e.stderr, /gave up after 300 ms|busy/);
    } finally {
      release();
      await holding;
    }
    assert.equal((await auditFileEntries(sb.store)).filter((entry) => entry.action === 'hook').length, 2, 'each gave-up hook is in the audit log');
    // with the lock free, the waiter makes the point they asked for (the second finds nothing changed since)
    const list = await pointsWhen(base, (l) => l.length === 2);
    assert.equal(list[0]!.summary, 'After Claude Code: Bash `npm run fmt`');
    await waiterGone(sb.store);
    assert.equal((await points(base)).length, 2);
  });

  test('hooks that give up waiting for the store leave their points to one waiter, which makes them once the store is free, with the edited files as each hook found them', async () => {
    const { sb, base } = await project();
    const { release, holding } = await holdStore(sb.store);
    const afterEdit = fixture('claude/PreToolUse-Edit.json', sb.ws).replace('"PreToolUse"', '"PostToolUse"');
    try {
      // the agent's first edit, then its hook, while the editor makes a long point
      await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
      const first = await hook(['--store', sb.store, '--budget', '300'], afterEdit);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /the point is made once the store is free, the agent goes on\.\n$/);
      // its second edit of the file: the first must still be in a point
      await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 3;\n' });
      const second = await hook(['--store', sb.store, '--budget', '300'], afterEdit);
      assert.match(second.stderr, /the point is made once the store is free/);
      // an edit of a file the secret rules leave out of points: its bytes are not written to the store to wait
      await writeFiles(sb.ws, { '.env': 'API_KEY=very-secret-value\n' });
      const secret = await hook(['--store', sb.store, '--budget', '300'], afterEdit.replace('src/app.ts', '.env'));
      assert.match(secret.stderr, /the point is made once the store is free/);
      const waitingDir = path.join(sb.store, 'waiting-hooks');
      const waiting = await Promise.all((await fs.readdir(waitingDir)).filter((n) => n.endsWith('.hook')).map((n) => fs.readFile(path.join(waitingDir, n), 'utf8')));
      assert.ok(waiting.some((text) => text.includes('.env')), 'the hook waits with its event');
      assert.ok(waiting.every((text) => !text.includes('very-secret-value')), 'but not with the secret file\'s bytes');
      await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 4;\n' });
      const waiters = execFileSync('ps', ['-A', '-o', 'args='], { encoding: 'utf8' }).split('\n').filter((line) => line.includes('--waiting') && line.includes(sb.store));
      assert.equal(waiters.length, 1, `one waiter for the store, whatever the number of hooks:\n${waiters.join('\n')}`);
    } finally {
      release();
      await holding;
    }
    const list = await pointsWhen(base, (l) => l.length === 3);
    assert.deepEqual(list.map((p) => p.summary), ['After Claude Code: Edit src/app.ts', 'After Claude Code: Edit src/app.ts', list[2]!.summary]);
    assert.equal(ok(await cli(['cat', list[1]!.id, 'src/app.ts', ...base])).stdout, 'export const answer = 2;\n');
    assert.equal(ok(await cli(['cat', list[0]!.id, 'src/app.ts', ...base])).stdout, 'export const answer = 3;\n');
    await waiterGone(sb.store);
  });

  test('hooks left waiting with no waiter (it gave up or was killed) get their points from the next user of the store: a hook, the tool\'s snapshot', async () => {
    const { sb, base } = await project();
    const afterEdit = fixture('claude/PreToolUse-Edit.json', sb.ws).replace('"PreToolUse"', '"PostToolUse"');
    const waiterFile = path.join(sb.store, 'waiting-hooks', 'waiter');
    /** A hook that gives up while the store is held, leaving its event; its waiter is then killed, as one that gave up leaves it. */
    const leaveStranded = async (content: string) => {
      const { release, holding } = await holdStore(sb.store);
      try {
        await writeFiles(sb.ws, { 'src/app.ts': content });
        const left = await hook(['--store', sb.store, '--budget', '300'], afterEdit);
        assert.match(left.stderr, /the point is made once the store is free/);
        let pid = 0;
        for (const until = Date.now() + 15_000; pid <= 0 && Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 50))) pid = Number(await fs.readFile(waiterFile, 'utf8').catch(() => '0'));
        assert.ok(pid > 0, 'the waiter started');
        process.kill(pid, 'SIGKILL');
        for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 50))) {
          try {
            process.kill(pid, 0);
          } catch {
            break;
          }
        }
      } finally {
        release();
        await holding;
      }
      assert.equal((await fs.readdir(path.join(sb.store, 'waiting-hooks'))).filter((n) => n.endsWith('.hook')).length, 1, 'the hook waits, with no waiter');
    };

    await leaveStranded('export const answer = 2;\n');
    // the agent's next hook finds the store free: its point, then the one left waiting
    await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 3;\n' });
    ok(await hook(['--store', sb.store], fixture('claude/PostToolUse-Bash.json', sb.ws)));
    let list = await pointsWhen(base, (l) => l.length === 3);
    assert.deepEqual(list.map((p) => p.summary).slice(0, 2), ['After Claude Code: Edit src/app.ts', 'After Claude Code: Bash `npm run fmt`']);
    assert.equal(ok(await cli(['cat', list[0]!.id, 'src/app.ts', ...base])).stdout, 'export const answer = 2;\n', 'the point holds the file as the hook found it');
    await waiterGone(sb.store);

    await leaveStranded('export const answer = 4;\n');
    // a point made with the tool, of the file changed again since
    await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 5;\n' });
    ok(await cli(['snapshot', ...base]));
    list = await pointsWhen(base, (l) => l.length === 5);
    assert.equal(list[0]!.summary, 'After Claude Code: Edit src/app.ts');
    assert.equal(ok(await cli(['cat', list[0]!.id, 'src/app.ts', ...base])).stdout, 'export const answer = 4;\n');
    await waiterGone(sb.store);
  });

  test('a point that takes longer than the budget (a slow disk, thousands of changed files) is finished in the background, named for when it was captured', async () => {
    const { sb, base } = await project();
    // a file over the size read synchronously: its read goes through the slowed fs.open
    await writeFiles(sb.ws, { 'README.md': '# changed by a checkout\n', 'assets/model.bin': 'x'.repeat(400_000) });
    const slow = { nodeArgs: ['--import', pathToFileURL(path.join(__dirname, 'fixtures', 'slowOpenUnder.mjs')).href], env: { RP_TEST_SLOW_UNDER: sb.ws, RP_TEST_SLOW_MS: '2500' } };
    const before = fixture('claude/PostToolUse-Bash.json', sb.ws).replace('"PostToolUse"', '"PreToolUse"').replace('npm run fmt', 'npm test');
    const r = await hook(['--store', sb.store, '--budget', '1000'], before, slow);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /gave up after 1000 ms while making the point; the point is finished in the background, the agent goes on\.\n$/);
    let list = await points(base);
    for (const until = Date.now() + 30_000; list.length === 1 && Date.now() < until; list = await points(base)) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(list.length, 2, 'the point is made after the hook answered');
    // captured while the agent's command may have run: not "Before"
    assert.deepEqual([list[0]!.summary, list[0]!.trigger, list[0]!.agent], ['During Claude Code: Bash `npm test`', 'agent', 'Claude Code']);
    assert.match(ok(await cli(['show', list[0]!.id, ...base])).stdout, /README\.md[^]*assets\/model\.bin|assets\/model\.bin[^]*README\.md/);
    const logged = (await auditFileEntries(sb.store)).filter((entry) => entry.action === 'hook');
    assert.match(String(logged.at(-1)?.details?.problem), /finished in the background/);
  });
});
