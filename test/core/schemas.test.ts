/**
 * The store's schemas are built the first time a document of their kind is checked, not when the core
 * is loaded (#14): a command that reads no tree builds no tree schema.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, test } from 'node:test';
import * as z from 'zod';
import { lazySchema, pointIdSchema } from '../../src/core/schemas';
import { cleanupTempDirs, tempDir } from './helpers/captureFixtures';

after(cleanupTempDirs);

const POINT_ID = '20261125T150842123Z-a1b2c3';

test('a lazy schema is built at its first use, once, and behaves as the schema it stands for', () => {
  let built = 0;
  const schema = lazySchema(() => {
    built++;
    return z.object({ id: pointIdSchema, count: z.number().int() });
  });
  assert.equal(built, 0, 'not built when defined');
  assert.deepEqual(schema.parse({ id: POINT_ID, count: 2, extra: true }), { id: POINT_ID, count: 2 });
  const refused = schema.safeParse({ id: 'not-an-id', count: 1.5 });
  assert.equal(refused.success, false);
  assert.deepEqual(
    refused.error?.issues.map((issue) => [issue.path.join('.'), issue.message]),
    [
      ['id', 'is not a recovery point id'],
      ['count', 'Invalid input: expected int, received number'],
    ],
  );
  assert.throws(() => schema.parse(null), z.ZodError);
  assert.ok(schema instanceof z.ZodObject);
  assert.deepEqual(Object.keys(schema.shape), ['id', 'count']);
  const extended = schema.extend({ label: z.string() });
  assert.equal(extended.safeParse({ id: POINT_ID, count: 1, label: 'x' }).success, true);
  assert.equal(extended.safeParse({ id: POINT_ID, count: 1 }).success, false);
  assert.equal(z.array(schema).safeParse([{ id: POINT_ID, count: 1 }]).success, true, 'inside another schema');
  assert.equal(schema.optional().safeParse(undefined).success, true);
  assert.deepEqual(Object.keys(z.toJSONSchema(schema).properties ?? {}), ['id', 'count']);
  assert.equal(built, 1, 'built once');
});

test("the core's schemas are built when first used, not when the core is loaded", async () => {
  // zod reads its settings when a schema is built: a setting made after loading the core reaches every
  // schema only if none was built then. Told not to, zod compiles no parser (a new Function per object schema).
  const script = path.join(await tempDir('rp-schemas-'), 'jitless.ts');
  const schemas = JSON.stringify(path.resolve(__dirname, '../../src/core/schemas.ts'));
  await fs.writeFile(
    script,
    `import * as z from ${JSON.stringify(require.resolve('zod'))};
    import { emptyContextState, pointSummarySchema, snapshotDocument, stateDocument, treeObjectSchema } from ${schemas};
    z.config({ jitless: true });
    let compiled = 0;
    globalThis.Function = new Proxy(Function, { construct: (target, args) => (compiled++, Reflect.construct(target, args)) });
    const state = emptyContextState('test');
    stateDocument.schema.parse(state);
    snapshotDocument.schema.safeParse({ state });
    pointSummarySchema.safeParse({});
    treeObjectSchema.parse({ v: 1, e: [] });
    process.stdout.write(String(compiled));\n`,
  );
  const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, '0', 'no parser compiled: each schema was built after the setting');
});
