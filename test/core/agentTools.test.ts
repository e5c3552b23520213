/** The agent tools' shared core (#13): paths confined to the workspace, times, filters, and package.json kept in step with the catalog. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { agentChanges, agentPointPaths, agentPreview, createdPointSentence, describeAgentChanges, describePreview, findPoint, listAgentPoints, parseAgentTime } from '../../src/core/agentTools/agentQueries';
import { AGENT_TOOLS, toolDescription } from '../../src/core/agentTools/toolCatalog';
import { languageModelToolContributions } from '../../src/core/agentTools/toolContributions';
import { listPointsInput, restoreInput } from '../../src/core/agentTools/toolInputs';
import { StateError } from '../../src/core/errors';
import { cleanupAll, makeSandbox, openStore, writeFiles } from './helpers/storeFixtures';

after(cleanupAll);

describe('agent tools core', () => {
  test("package.json's languageModelTools are the catalog's tools (run scripts/writeToolContributions.ts after changing one)", async () => {
    const manifest = JSON.parse(await fs.readFile(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { contributes: { languageModelTools?: unknown } };
    assert.deepEqual(manifest.contributes.languageModelTools, languageModelToolContributions());
  });

  test('descriptions name the other tools as each client names them', () => {
    assert.match(toolDescription(AGENT_TOOLS.restorePoint, 'mcp'), /undone with undo_restore\./);
    assert.match(toolDescription(AGENT_TOOLS.restorePoint, 'lm'), /undone with recoveryPoints_undoRestore\./);
    for (const spec of Object.values(AGENT_TOOLS)) assert.doesNotMatch(toolDescription(spec, 'lm'), /\{\w+\}/, spec.mcpName);
  });

  test('paths: relative or absolute inside the workspace are accepted; ../, absolute outside and NUL are refused', async () => {
    const sb = await makeSandbox('rp-agent-');
    const store = await openStore(sb);
    assert.deepEqual(agentPointPaths(store, ['src/a.ts', path.join(sb.ws, 'b.txt'), 'src/../c.txt', 'src/']), ['ws/src/a.ts', 'ws/b.txt', 'ws/c.txt', 'ws/src']);
    for (const bad of ['../canary/canary.txt', 'src/../../x', path.join(sb.canary, 'canary.txt'), '/etc/passwd', sb.root, 'a\0b']) {
      assert.throws(() => agentPointPaths(store, [bad]), (error: unknown) => error instanceof StateError && /not inside a folder of this workspace|NUL/.test(error.message), bad);
    }
  });

  test('times: ISO date-times and durations back from now; anything else is refused', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    assert.equal(parseAgentTime('2026-11-29T11:00:00Z', 'since', now), Date.parse('2026-11-29T11:00:00Z'));
    assert.equal(parseAgentTime('30m', 'since', now), now - 30 * 60_000);
    assert.equal(parseAgentTime('2h', 'since', now), now - 2 * 3_600_000);
    assert.equal(parseAgentTime('1.5d', 'since', now), now - 1.5 * 86_400_000);
    assert.throws(() => parseAgentTime('soon', 'until', now), /until "soon" is neither a date-time/);
  });

  test('list filters by trigger, maker and changed path; ids resolve by prefix and "latest"', async () => {
    const sb = await makeSandbox('rp-agent-');
    await writeFiles(sb.ws, { 'a.txt': '1\n', 'src/b.ts': '1\n' });
    const store = await openStore(sb, { actor: 'mcp:1' });
    const first = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'one' }))!;
    await writeFiles(sb.ws, { 'src/b.ts': '2\n' });
    const second = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'save' }))!;
    const ids = async (input: object) => (await listAgentPoints(store, listPointsInput.parse(input))).map((p) => p.id);
    assert.deepEqual(await ids({}), [second.id, first.id]);
    assert.deepEqual(await ids({ trigger: 'save' }), [second.id]);
    assert.deepEqual(await ids({ path: 'src' }), [second.id, first.id]);
    assert.deepEqual(await ids({ path: 'a.txt' }), [first.id]);
    assert.deepEqual(await ids({ actor: 'MCP' }), [second.id, first.id]);
    assert.deepEqual(await ids({ actor: 'cli' }), []);
    assert.equal((await findPoint(store, 'latest')).id, second.id);
    assert.equal((await findPoint(store, first.id.slice(0, -1))).id, first.id, 'a unique prefix');
    assert.equal((await findPoint(store, first.id.slice(-6))).id, first.id, 'the id\'s last part, as the command-line tool takes it');
    await assert.rejects(findPoint(store, '2'), /matches 2 points/);
    // a label names its point when no id starts with it; a label two points share names neither
    assert.equal((await findPoint(store, 'one')).id, first.id, 'its label');
    await writeFiles(sb.ws, { 'a.txt': '3\n' });
    const third = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label: 'one' }))!;
    await assert.rejects(findPoint(store, 'one'), new RegExp(`^StateError: 2 points are labelled "one" \\(${third.id.slice(-6)}, ${first.id.slice(-6)}\\); give the id of one\\.$`));
    await assert.rejects(findPoint(store, 'on'), /No recovery point "on" exists/, 'a label is matched whole');
    const accented = await labelledPoint('src\u00e9');
    assert.equal((await findPoint(store, ' src\u0065\u0301 ')).id, accented.id, 'spaces around it and Unicode\'s forms aside');
    // a label that is also the start of another point's id names neither, and the agent is told when it gives it
    const prefix = second.id.slice(second.id.lastIndexOf('-') + 1).slice(0, 2);
    const shadowed = await labelledPoint(prefix);
    assert.match(await createdPointSentence(store, shadowed), new RegExp(`Note: "${prefix}" also starts the id of (another point|\\d+ other points), so it names none of them: name this point by its id \\(${shadowed.id.slice(-6)}\\)\\.$`));
    await assert.rejects(findPoint(store, prefix), new RegExp(`names \\d+ points, by their ids and by a label \\(.*${shadowed.id.slice(-6)} \\(labelled "${prefix}"\\).*\\); give the whole id`));
    const unique = await labelledPoint('unique words');
    const one = { point: unique.id, against: 'current' as const, added: [], modified: ['a.txt'], deleted: [] };
    assert.equal(describeAgentChanges(one), `1 file differs between point ${unique.id} and the current files.`);
    assert.equal(describeAgentChanges({ ...one, against: null, added: ['b.txt'] }), `2 files differ between point ${unique.id} and nothing (it is the first point).`);
    assert.equal(await createdPointSentence(store, unique), `Created recovery point ${unique.id} "unique words" (2 files).`);

    async function labelledPoint(label: string) {
      await writeFiles(sb.ws, { 'a.txt': `${label}\n` });
      return (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual', label }))!;
    }
  });

  test('show_changes against another point lists a folder renamed between them as renamed files (edited ones marked), not deleted and added', async () => {
    const sb = await makeSandbox('rp-agent-');
    await writeFiles(sb.ws, { 'src/old/a.ts': 'a\n', 'src/old/b.ts': 'b\n' });
    const store = await openStore(sb);
    const before = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await fs.rename(path.join(sb.ws, 'src/old'), path.join(sb.ws, 'src/new'));
    await writeFiles(sb.ws, { 'src/new/b.ts': 'b edited\n', 'c.txt': 'c\n' });
    const after = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    const changes = await agentChanges(store, { point: after.id, against: before.id });
    assert.deepEqual(changes, {
      point: after.id,
      against: before.id,
      added: ['c.txt'],
      modified: [],
      deleted: [],
      renamed: [
        { from: 'src/old/a.ts', to: 'src/new/a.ts', changed: false },
        { from: 'src/old/b.ts', to: 'src/new/b.ts', changed: true },
      ],
    });
    assert.equal(describeAgentChanges(changes), `3 files differ between point ${after.id} and point ${before.id}.`);
  });

  test('show_changes against the current files lists a folder renamed since as renamed files (an edited one marked), not deleted and added', async () => {
    const sb = await makeSandbox('rp-agent-');
    await writeFiles(sb.ws, { 'src/old/a.ts': 'a\n', 'src/old/b.ts': 'b\n' });
    const store = await openStore(sb);
    const point = (await store.recovery.createRecoveryPoint(undefined, { trigger: 'manual' }))!;
    await fs.rename(path.join(sb.ws, 'src/old'), path.join(sb.ws, 'src/new'));
    await writeFiles(sb.ws, { 'src/new/b.ts': 'b edited\n', 'c.txt': 'c\n' });
    const changes = await agentChanges(store, { point: point.id, against: 'current' });
    assert.deepEqual(changes, {
      point: point.id,
      against: 'current',
      added: ['c.txt'],
      modified: [],
      deleted: [],
      renamed: [
        { from: 'src/old/a.ts', to: 'src/new/a.ts', changed: false },
        { from: 'src/old/b.ts', to: 'src/new/b.ts', changed: true },
      ],
    });
    assert.equal(describeAgentChanges(changes), `3 files differ between point ${point.id} and the current files.`);
  });

  test('a point lists the branch its folder was on, when it has a repository', async () => {
    const sb = await makeSandbox('rp-agent-');
    await writeFiles(sb.ws, { 'a.txt': '1\n' });
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/fix/login\n', 'a.txt': '2\n' });
    await store.recovery.createRecoveryPoint();
    const [onBranch, before] = await listAgentPoints(store, listPointsInput.parse({}));
    assert.deepEqual(onBranch!.heads, { ws: { branch: 'fix/login' } });
    assert.equal('heads' in before!, false, 'no repository then: no heads');
    // a restore of it on another branch: the preview says the branch stays
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/main\n', 'a.txt': '3\n' });
    const preview = await agentPreview(store, restoreInput.parse({ point: onBranch!.id }));
    assert.deepEqual(preview.headsMoved, [{ folder: 'ws', then: { branch: 'fix/login' }, now: { branch: 'main' } }]);
    assert.match(describePreview(preview), / Note: ws was on branch fix\/login when the point was made and is on branch main now: the restore changes files, not the branch \(headsMoved\)\. A safety point/);
    await writeFiles(sb.ws, { '.git/HEAD': 'ref: refs/heads/fix/login\n' });
    assert.equal('headsMoved' in (await agentPreview(store, restoreInput.parse({ point: onBranch!.id }))), false, 'on the same branch: nothing to say');
  });
});
