/**
 * The tool loads only the code of the command it runs (#14): from a copy of the build without the
 * chunks of the MCP server, search, file history, bundles, patches and the hook installer, a point,
 * the list, a comparison of two points and an agent's hook still work, and a command that needs a
 * missing chunk says so in one line.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { cleanupAll, makeSandbox, writeFiles } from '../core/helpers/storeFixtures';
import { CLI, cli as runCli, ensureBuilt, json, ok } from './helpers/runCli';
import { hook } from './helpers/runHook';

after(cleanupAll);
before(ensureBuilt);

/** Chunks (by the name of the module esbuild splits them at) that a point, the list, a diff or a hook must not need. */
const NOT_ON_THE_HOT_PATH = ['serveStdio', 'mcpCommand', 'searchCommand', 'historyCommands', 'transferCommands', 'pointChanges', 'hookInstaller', 'agentSettings'];

/** dist/cli.js and its modules copied to `dir`, without the chunks of `NOT_ON_THE_HOT_PATH`; the tool's path in the copy. */
async function copyWithout(dir: string): Promise<string> {
  const modules = path.join(path.dirname(CLI), 'cli');
  await fs.mkdir(path.join(dir, 'cli'), { recursive: true });
  await fs.copyFile(CLI, path.join(dir, 'cli.js'));
  const removed = new Set<string>();
  for (const name of await fs.readdir(modules)) {
    const chunk = NOT_ON_THE_HOT_PATH.find((prefix) => name.startsWith(`${prefix}-`));
    if (chunk) removed.add(chunk);
    else if (name.endsWith('.mjs')) await fs.copyFile(path.join(modules, name), path.join(dir, 'cli', name));
  }
  assert.deepEqual([...removed].sort(), [...NOT_ON_THE_HOT_PATH].sort(), 'each of these modules is a chunk of its own');
  return path.join(dir, 'cli.js');
}

test('a point, the list, a diff and a hook load none of the chunks of the other commands', async () => {
  const sb = await makeSandbox('rp-loading-');
  const tool = await copyWithout(path.join(sb.root, 'dist'));
  await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1;\n', 'README.md': '# project\n' });
  const base = ['--workspace', sb.ws, '--store', sb.store];
  const cli = (args: string[]) => runCli(args, { cli: tool });

  ok(await cli(['snapshot', ...base]));
  await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 2;\n' });
  ok(await cli(['snapshot', '--changed', path.join(sb.ws, 'src', 'app.ts'), ...base]));
  await writeFiles(sb.ws, { 'README.md': '# project, edited by an agent\n' });
  const payload = JSON.stringify({ session_id: 's', transcript_path: '/dev/null', cwd: sb.ws, hook_event_name: 'PostToolUse', tool_name: 'Edit', tool_input: { file_path: path.join(sb.ws, 'README.md') }, tool_use_id: 't' });
  const hooked = await hook(['--agent', 'claude', ...base], payload, { cli: tool });
  assert.equal(hooked.code, 0);
  assert.equal(hooked.stderr, '', 'the hook made its point');

  const points = json<Array<{ id: string; trigger: string }>>(await cli(['list', '--json', ...base]));
  assert.deepEqual(points.map((p) => p.trigger), ['agent', 'manual', 'manual']);
  const changes = json<{ modified: string[] }>(await cli(['diff', points[2]!.id, points[0]!.id, '--json', ...base]));
  assert.deepEqual(changes.modified.sort(), ['ws/README.md', 'ws/src/app.ts']);

  // the copy really lacks them: a command that needs one fails, in one line
  const search = await cli(['search', 'answer', ...base]);
  assert.equal(search.code, 1);
  assert.match(search.stderr, /^recovery-points: .*searchCommand-/);
  assert.equal(search.stderr.trim().split('\n').length, 1, search.stderr);
});
