/**
 * Child process of the disk-full suite, started with the failing file-system layer preloaded:
 *   node --import ./failingFs.mjs --import tsx diskFullWorker.ts '<json>'
 * json: { op, template, trialsDir, code, sticky, maxTrials, from?, to? }. For k = 1, 2, … it copies the
 * template to `trialsDir/<k>`, runs the operation with the k-th write-side call failing, and prints one
 * JSON line: { k, call, calls, bytes, tripped, ok, kind, message, stack }. It stops at the first k the operation
 * never reaches (it ran to the end without the failure) or at `maxTrials`.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { StateError } from '../../../src/core/errors';
import { DISK_FULL_OPS, openTrial, type TemplateMeta } from './diskFullOps';

interface FailingFs {
  arm(options: { failAt?: number; afterBytes?: number; code?: string; sticky?: boolean; under?: string }): void;
  disarm(): void;
  readonly calls: string[];
  readonly tripped: boolean;
  readonly bytes: number;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2]!) as { op: string; template: string; trialsDir: string; code: string; sticky: boolean; maxTrials: number; afterBytes?: number[] };
  const control = (globalThis as { __rpFailingFs?: FailingFs }).__rpFailingFs;
  if (!control) throw new Error('failingFs.mjs is not preloaded');
  const op = DISK_FULL_OPS.find((o) => o.name === input.op)!;
  const templateMeta = JSON.parse(await fs.readFile(path.join(input.template, 'meta.json'), 'utf8')) as TemplateMeta;
  const positions: Array<{ failAt?: number; afterBytes?: number }> = input.afterBytes
    ? input.afterBytes.map((n) => ({ afterBytes: n }))
    : Array.from({ length: input.maxTrials }, (_, i) => ({ failAt: i + 1 }));
  for (const [i, position] of positions.entries()) {
    const k = i + 1;
    const dir = path.join(input.trialsDir, String(k));
    await fs.cp(input.template, dir, { recursive: true, verbatimSymlinks: true });
    const store = await openTrial({ dir }, op);
    const meta = op.prepare ? await op.prepare(store, templateMeta, { dir }) : templateMeta;
    let error: unknown;
    control.arm({ ...position, code: input.code, sticky: input.sticky, under: dir });
    try {
      await op.run(store, meta);
    } catch (caught) {
      error = caught;
    }
    const calls = control.calls;
    const tripped = control.tripped;
    const bytes = control.bytes;
    control.disarm();
    await store.close().catch(() => undefined);
    const call = position.failAt ? calls[position.failAt - 1] : calls[calls.length - 1];
    process.stdout.write(
      `${JSON.stringify({
        k,
        call: tripped ? call : undefined,
        calls: calls.length,
        bytes,
        tripped,
        ok: error === undefined,
        kind: error instanceof StateError ? error.kind : error === undefined ? undefined : 'not a StateError',
        message: error instanceof Error ? error.message : error === undefined ? undefined : String(error),
        stack: error instanceof StateError || error === undefined ? undefined : (error as Error).stack,
        ...(op.prepare ? { meta } : {}),
      })}\n`,
    );
    if (!tripped) {
      await fs.rm(dir, { recursive: true, force: true });
      if (!input.afterBytes) break;
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
