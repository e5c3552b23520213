/**
 * What a command loads at its start (#14): the commands agents' hooks and scripts run most (`snapshot`,
 * `hook`, `list`, `diff`) load none of Node's modules that only other paths need, and the bundle
 * imports each of Node's modules once instead of once per file that imports it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { cleanupAll, makeSandbox, writeFiles } from '../core/helpers/storeFixtures';
import { CLI_BUNDLE, ensureBuilt, ok } from './helpers/runCli';
import { fixture, runWithInput } from './helpers/runHook';

after(cleanupAll);
before(ensureBuilt);

/**
 * Loaded only by the commands that use them: child_process (with net and dgram) for a background
 * clean-up that is due, perf_hooks by the global `performance`.
 */
const NOT_AT_START = ['child_process', 'dgram', 'perf_hooks'];

/** Writes Node's list of the modules it loaded to the file in RP_TEST_MODULES when the process ends. */
const RECORDER = `process.on('exit', () => require('node:fs').writeFileSync(process.env.RP_TEST_MODULES, process.moduleLoadList.join('\\n')));\n`;

test('snapshot --changed, hook, list and diff load no Node module that only other commands need', async () => {
  const sb = await makeSandbox('rp-start-modules-');
  await writeFiles(sb.ws, { 'src/app.ts': 'export const answer = 1;\n', 'README.md': '# project\n' });
  const recorder = path.join(sb.root, 'recorder.cjs');
  await fs.writeFile(recorder, RECORDER);
  const loads = async (args: string[], input = ''): Promise<string[]> => {
    const list = path.join(sb.root, `modules-${args[0]}.txt`);
    const run = ok(await runWithInput(args, input, { nodeArgs: ['--require', recorder], env: { RP_TEST_MODULES: list } }));
    assert.equal(run.stderr, '', `${args[0]} did its work`);
    return (await fs.readFile(list, 'utf8')).split('\n').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  };
  const where = ['--workspace', sb.ws, '--store', sb.store];
  ok(await runWithInput(['snapshot', ...where], ''));
  await fs.appendFile(path.join(sb.ws, 'src/app.ts'), 'export const more = 2;\n');
  const runs: Record<string, string[]> = {
    snapshot: await loads(['snapshot', ...where, '--changed', path.join(sb.ws, 'src/app.ts')]),
    hook: await loads(['hook', '--agent', 'claude', '--store', sb.store], fixture('claude/PostToolUse-Bash.json', sb.ws)),
    list: await loads(['list', ...where]),
    diff: await loads(['diff', 'latest', ...where]),
  };
  for (const [command, loaded] of Object.entries(runs)) {
    assert.ok(loaded.includes('fs') && loaded.includes('zlib'), `${command}: the recorder saw Node's modules (${loaded.length})`);
    assert.deepEqual(NOT_AT_START.filter((name) => loaded.includes(name)), [], `${command} loads none of ${NOT_AT_START.join(', ')}`);
  }
});

test("the tool's bundle copies each of Node's modules' names once, not once per file that imports it", async () => {
  const bundle = await fs.readFile(CLI_BUNDLE, 'latin1');
  for (const name of ['node:fs', 'node:path', 'node:fs/promises', 'node:crypto']) {
    // esbuild's helpers that copy a module's every name into an object of its own (the bundle is not minified)
    const copies = bundle.match(new RegExp(`(__toESM|__reExport)\\([\\w$]*,?require\\(${JSON.stringify(name).replaceAll('/', '\\/')}\\)`, 'g')) ?? [];
    assert.equal(copies.length, 1, `${name} is copied ${copies.length} times`);
  }
});

test('the bundles hold one copy of signal-exit, so the store\'s registration is the one write-file-atomic sees', async () => {
  for (const bundle of [CLI_BUNDLE, 'dist/extension.js', 'dist/captureProcess.js']) {
    const text = await fs.readFile(bundle, 'latin1');
    const copies = text.match(/Symbol\.for\("signal-exit emitter"\)/g) ?? [];
    assert.equal(copies.length, 1, `${bundle} holds ${copies.length} copies of signal-exit`);
  }
});
