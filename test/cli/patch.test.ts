import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { cleanupAll, makeSandbox, writeFiles, type FileSpec } from '../core/helpers/storeFixtures';
import { cli, ensureBuilt, json, ok } from './helpers/runCli';

after(cleanupAll);
before(ensureBuilt);

const run = promisify(execFile);

const BEFORE: Record<string, FileSpec> = {
  'src/app.ts': 'const a = 1;\nconst b = 2;\nconst c = 3;\n',
  'src/old-name.ts': 'export const moved = 1;\n',
  'gone.txt': 'deleted later\n',
  'image.bin': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2, 3]),
};
const CHANGES: Record<string, FileSpec | null> = {
  'src/app.ts': 'const a = 1;\nconst b = 20;\nconst c = 3;\n',
  'src/old-name.ts': null,
  'src/new-name.ts': 'export const moved = 1;\n',
  'gone.txt': null,
  'added.txt': 'new\n',
  'image.bin': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 9, 9, 9, 9]),
};

/** Applies `patch` with git apply in a new repository holding BEFORE; returns the files it then holds. */
async function applyToBefore(root: string, patch: string): Promise<Map<string, Buffer>> {
  const repo = await fs.mkdtemp(path.join(root, 'repo-'));
  await writeFiles(repo, BEFORE);
  await run('git', ['init', '-q'], { cwd: repo });
  await fs.writeFile(path.join(root, 'change.patch'), patch);
  await run('git', ['apply', path.join(root, 'change.patch')], { cwd: repo });
  return filesBelow(repo);
}

async function filesBelow(dir: string, prefix = ''): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) for (const [k, v] of await filesBelow(path.join(dir, entry.name), rel)) files.set(k, v);
    else files.set(rel, await fs.readFile(path.join(dir, entry.name)));
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('recovery-points diff --patch', () => {
  test('diff ID ID2 --patch --binary, diff ID --patch and show ID --patch print patches that git apply turns into the later files, byte for byte', async () => {
    const sb = await makeSandbox();
    const base = ['--workspace', sb.ws, '--store', sb.store];
    await writeFiles(sb.ws, BEFORE);
    const first = json<string>(await cli(['snapshot', '--json', ...base]));
    await writeFiles(sb.ws, CHANGES);
    const second = json<string>(await cli(['snapshot', '--json', ...base]));
    const expected = await filesBelow(sb.ws);

    const between = ok(await cli(['diff', first, second, '--patch', '--binary', ...base])).stdout;
    assert.match(between, /^diff --git a\/src\/old-name\.ts b\/src\/old-name\.ts\ndeleted file mode 100644$/m, 'a rename is a delete');
    assert.match(between, /^diff --git a\/src\/new-name\.ts b\/src\/new-name\.ts\nnew file mode 100644$/m, 'and an add');
    assert.deepEqual(await applyToBefore(sb.root, between), expected);

    const againstNow = ok(await cli(['diff', first, '--patch', '--binary', ...base])).stdout;
    assert.equal(againstNow, between, 'the current files are the second point\'s');
    const shown = ok(await cli(['show', second, '--patch', '--binary', ...base])).stdout;
    assert.equal(shown, between, 'show --patch: the point\'s own change');

    const noted = ok(await cli(['diff', first, second, '--patch', ...base])).stdout;
    assert.match(noted, /^Binary files a\/image\.bin and b\/image\.bin differ$/m, 'without --binary, noted as git does');
    assert.deepEqual(json<{ patch: string }>(await cli(['diff', first, second, '--patch', '--binary', '--json', ...base])), { patch: between });
  });

  test('bad input: --patch with another command, --binary without --patch, an unknown point: exit 2 and a sentence', async () => {
    const sb = await makeSandbox();
    const base = ['--workspace', sb.ws, '--store', sb.store];
    await writeFiles(sb.ws, BEFORE);
    ok(await cli(['snapshot', ...base]));
    const wrongCommand = await cli(['list', '--patch', ...base]);
    assert.equal(wrongCommand.code, 2);
    assert.match(wrongCommand.stderr, /--patch goes with "diff" or "show"/);
    const lonelyBinary = await cli(['diff', 'latest', '--binary', ...base]);
    assert.equal(lonelyBinary.code, 2);
    assert.match(lonelyBinary.stderr, /--binary goes with --patch/);
    const unknown = await cli(['diff', 'nope', '--patch', ...base]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No recovery point "nope" exists/);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /, 'no stack trace');
  });
});
