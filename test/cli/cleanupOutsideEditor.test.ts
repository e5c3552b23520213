/**
 * A store that only the command-line tool, an agent's hooks or the MCP server write (no editor open):
 * its points and packs are cleaned up as the editor's are, by the retention limits the editor keeps in
 * the store, in the background.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { pointIdTime } from '../../src/core/ids';
import { CLEANUP_DUE_PACKS } from '../../src/core/recovery/cleanupDue';
import { cleanupAll, makeSandbox, openStore, writeFiles, type Sandbox } from '../core/helpers/storeFixtures';
import { recordedPointIds } from '../core/helpers/storePoints';
import { CLI, cli, cliHome, ensureBuilt, json, ok } from './helpers/runCli';
import { fixture, hook } from './helpers/runHook';

after(cleanupAll);
before(ensureBuilt);

const packs = (sb: Sandbox) => fs.readdirSync(path.join(sb.store, 'objects')).filter((name) => name.endsWith('.pack')).length;
const points = (sb: Sandbox) => recordedPointIds(sb.store).length;

/** Waits until `done` holds (the clean-up the tool starts runs detached). */
async function waitFor(what: string, done: () => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function idle(sb: Sandbox): Promise<void> {
  await waitFor('the background clean-up to end', () => !fs.existsSync(path.join(sb.store, 'collection.lock')));
}

/** A workspace with `count` points made as the editor makes them, one pack each; the editor's limits kept in the store when given. */
async function pointsFromTheEditor(count: number, retention?: { maxRecoveryPoints: number; maxAgeDays: number; maxTotalBytes: number }): Promise<Sandbox> {
  const sb = await makeSandbox('rp-cleanup-');
  await writeFiles(sb.ws, { 'a.txt': 'a0\n', 'src/b.ts': 'b0\n' });
  const editor = await openStore(sb, retention ? { retention } : {});
  if (retention) editor.persistence.saveRetention(editor.recovery.retentionPolicy);
  for (let i = 0; i < count; i++) {
    await writeFiles(sb.ws, { 'a.txt': `a${i + 1}\n` });
    await editor.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [path.join(sb.ws, 'a.txt')] });
  }
  await editor.close();
  return sb;
}

const LIMITS = { maxRecoveryPoints: 5, maxAgeDays: 0, maxTotalBytes: 0 };

describe('clean-ups of a store the editor does not write', () => {
  test('"cleanup" removes the points the editor\'s kept limits let go; without kept limits the defaults apply; damaged limits are the defaults, with a warning', async () => {
    const sb = await pointsFromTheEditor(8, LIMITS);
    const base = ['--workspace', sb.ws, '--store', sb.store];
    const report = json<{ removedPoints: number; reasons: Record<string, number> }>(await cli(['cleanup', '--json', ...base]));
    assert.deepEqual({ removed: report.removedPoints, reasons: report.reasons }, { removed: 3, reasons: { count: 3 } });
    assert.equal(points(sb), 5);
    const human = ok(await cli(['cleanup', ...base]));
    assert.match(human.stdout, /^Removed 0 recovery points and 0 unreferenced objects, freed 0 B/);

    fs.writeFileSync(path.join(sb.store, 'retention.json'), '{"schemaVersion":1,"retention":{"maxRecoveryPoints":0');
    const damaged = ok(await cli(['cleanup', '--json', ...base]));
    assert.match(damaged.stderr, /retention limits the editor saved in the store cannot be read/);
    assert.equal((JSON.parse(damaged.stdout) as { removedPoints: number }).removedPoints, 0, 'the defaults keep 500 points');
  });

  test('after a point the tool makes, a store with more packs than a clean-up leaves is cleaned up in the background by the editor\'s limits', async () => {
    const sb = await pointsFromTheEditor(CLEANUP_DUE_PACKS, LIMITS);
    const base = ['--workspace', sb.ws, '--store', sb.store];
    assert.equal(json<{ due: boolean }>(await cli(['cleanup', '--if-due', '--json', ...base])).due, false, 'not due yet: nothing done');
    assert.equal(points(sb), CLEANUP_DUE_PACKS);
    await writeFiles(sb.ws, { 'a.txt': 'from the tool\n' });
    const made = Date.now();
    ok(await cli(['snapshot', '--changed', path.join(sb.ws, 'a.txt'), ...base]));
    await waitFor('the packs to be merged', () => packs(sb) <= CLEANUP_DUE_PACKS / 2);
    await idle(sb);
    assert.equal(points(sb), LIMITS.maxRecoveryPoints, 'the points beyond the editor\'s limit are removed');
    const list = json<Array<{ id: string }>>(await cli(['list', '--json', ...base]));
    assert.ok(pointIdTime(list[0]!.id) >= made - 1000, 'the newest point is the tool\'s');
    assert.match(fs.readFileSync(path.join(sb.store, 'audit.log.jsonl'), 'utf8'), /"action":"cleanup"/);
  });

  test('an agent\'s hook starts the clean-up too, and a store without the editor\'s limits keeps every point (the defaults) but merges its packs', async () => {
    const sb = await pointsFromTheEditor(CLEANUP_DUE_PACKS);
    await writeFiles(sb.ws, { 'src/b.ts': 'changed by a shell command\n' });
    const r = await hook(['--store', sb.store], fixture('claude/PostToolUse-Bash.json', sb.ws));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(points(sb), CLEANUP_DUE_PACKS + 1, 'the hook made its point');
    await waitFor('the packs to be merged', () => packs(sb) <= CLEANUP_DUE_PACKS / 2);
    await idle(sb);
    assert.equal(points(sb), CLEANUP_DUE_PACKS + 1, 'no point removed');
  });

  test('the MCP server cleans up in its own process after a point it makes', async () => {
    const sb = await pointsFromTheEditor(CLEANUP_DUE_PACKS, LIMITS);
    const home = await cliHome();
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--workspace', sb.ws, '--store', sb.store], env: { PATH: process.env.PATH ?? '', HOME: home }, stderr: 'pipe' });
    const client = new Client({ name: 'recovery-points-test', version: '0.0.0' });
    await client.connect(transport);
    try {
      await writeFiles(sb.ws, { 'a.txt': 'from an agent\n' });
      await client.callTool({ name: 'create_point', arguments: { label: 'Before the refactor' } });
      await waitFor('the packs to be merged', () => packs(sb) <= CLEANUP_DUE_PACKS / 2);
    } finally {
      await client.close();
    }
    await idle(sb);
    assert.equal(points(sb), LIMITS.maxRecoveryPoints);
    const list = json<Array<{ label: string | null }>>(await cli(['list', '--json', '--workspace', sb.ws, '--store', sb.store]));
    assert.equal(list[0]!.label, 'Before the refactor', 'the agent\'s labelled point is kept');
  });
});
