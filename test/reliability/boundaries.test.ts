/**
 * Reliability suite: attacks on the workspace's boundaries (#9). While a restore of thousands of files
 * runs, another process keeps swapping a workspace folder with a symbolic link to a folder outside
 * (rename the folder aside, link in, swap back): nothing outside may change, whatever the restore
 * manages to do. The outside folder holds every name the restore touches, so a write, deletion or
 * temporary file that went through the link would show in its digest.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { listFiles } from '../../src/core/capture';
import { cleanupAll, makeSandbox, openStore, type Sandbox } from '../core/helpers/storeFixtures';
import { killChildren, startChild } from './helpers/children';
import { byLevel } from './helpers/level';

after(async () => {
  killChildren();
  await cleanupAll();
});

const SWAPPER = path.join(__dirname, 'helpers', 'folderSwapper.mjs');

/** Every entry below `dir` (never following links) hashed with its kind, mode and content. */
async function digestTree(dir: string): Promise<{ digest: string; entries: number }> {
  const hash = createHash('sha256');
  let entries = 0;
  async function walk(current: string, prefix: string): Promise<void> {
    for (const name of (await fs.readdir(current)).sort()) {
      const full = path.join(current, name);
      const rel = `${prefix}/${name}`;
      const stat = await fs.lstat(full);
      entries++;
      if (stat.isSymbolicLink()) hash.update(`${rel} link ${await fs.readlink(full)}\n`);
      else if (stat.isDirectory()) {
        hash.update(`${rel} dir ${(stat.mode & 0o777).toString(8)}\n`);
        await walk(full, rel);
      } else hash.update(`${rel} file ${(stat.mode & 0o777).toString(8)} ${stat.size} `).update(await fs.readFile(full)).update('\n');
    }
  }
  await walk(dir, '');
  return { digest: hash.digest('hex'), entries };
}

/** `count` files in `folders` folders below `base`, named `dNN/<prefix>NNN.txt`. */
async function writeSpread(base: string, count: number, folders: number, prefix: string, content: (i: number) => string): Promise<void> {
  for (let d = 0; d < folders; d++) await fs.mkdir(path.join(base, `d${d}`), { recursive: true });
  for (let i = 0; i < count; i++) await fs.writeFile(path.join(base, `d${i % folders}`, `${prefix}${i}.txt`), content(i));
}

interface SwapRun {
  readonly outsideEntries: number;
  readonly rounds: number;
  readonly restoreFailed: boolean;
  readonly written: number;
  readonly removed: number;
  readonly skipped: number;
}

/**
 * One run: a point of `files` files in `ws/sub`, then every file changed, a third deleted and as many
 * added; then a restore of the point while `ws/sub` is swapped with a link to `outside` (which holds
 * every one of those names).
 */
async function swapRun(sb: Sandbox, files: number): Promise<SwapRun> {
  const folders = Math.max(1, Math.round(files / 100));
  const sub = path.join(sb.ws, 'sub');
  const outside = path.join(sb.root, 'outside');
  await writeSpread(outside, files, folders, 'f', (i) => `outside ${i}\n`);
  await writeSpread(outside, files, folders, 'g', (i) => `outside extra ${i}\n`);
  const before = await digestTree(outside);
  await writeSpread(sub, files, folders, 'f', (i) => `point ${i}\n`);
  const store = await openStore(sb);
  const point = (await store.recovery.createRecoveryPoint())!;
  await writeSpread(sub, files, folders, 'f', (i) => `changed ${i}\n`);
  for (let i = 0; i < files; i += 3) await fs.rm(path.join(sub, `d${i % folders}`, `f${i}.txt`));
  await writeSpread(sub, Math.ceil(files / 3), folders, 'g', (i) => `added ${i}\n`);
  await store.recovery.createRecoveryPoint();

  const swapper = startChild(process.execPath, [SWAPPER, sub, outside]);
  while (!swapper.lines.includes('swapping')) {
    const gone = await Promise.race([swapper.exited.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 5))]);
    if (gone) throw new Error(`the swapper stopped: ${(await swapper.exited).stderr}`);
  }
  let restoreFailed = false;
  let outcome = { written: 0, removed: 0, skipped: 0 };
  try {
    const result = await store.recovery.restore(point.id);
    outcome = { written: result.outcome.written.length, removed: result.outcome.removed.length, skipped: result.outcome.skipped.length };
  } catch {
    restoreFailed = true; // a clean refusal is allowed; what matters is the outside folder
  }
  swapper.child.kill('SIGTERM');
  await swapper.exited;
  const rounds = Number(swapper.lines.find((line) => line.startsWith('rounds '))?.slice(7) ?? 0);
  await store.close();
  const afterwards = await digestTree(outside);
  assert.equal(afterwards.entries, before.entries, 'no file appeared in or vanished from the outside folder');
  assert.equal(afterwards.digest, before.digest, 'every file outside is byte for byte as it was');
  return { outsideEntries: before.entries, rounds, restoreFailed, ...outcome };
}

describe('a restore cannot leave the workspace while its folders are swapped for links', () => {
  const runs = byLevel(2, 20);
  const files = byLevel(1_000, 3_000);
  test(`${runs} restores of ${files.toLocaleString('en-US')} files while a folder is swapped with a link to outside: nothing outside changes`, { timeout: byLevel(120_000, 1_800_000) }, async (t) => {
    let checked = 0;
    let rounds = 0;
    let failed = 0;
    let written = 0;
    let removed = 0;
    let skipped = 0;
    for (let run = 0; run < runs; run++) {
      const sb = await makeSandbox('rp-swap-');
      const result = await swapRun(sb, files);
      checked += result.outsideEntries;
      rounds += result.rounds;
      if (result.restoreFailed) failed++;
      written += result.written;
      removed += result.removed;
      skipped += result.skipped;
      await sb.cleanup();
    }
    t.diagnostic(`${runs} runs: ${checked.toLocaleString('en-US')} outside entries checked, ${rounds.toLocaleString('en-US')} swaps; restores: ${failed} refused, ${written} files written, ${removed} removed, ${skipped} skipped`);
  });
});

describe('a capture records a folder swapped for a link as it really is', () => {
  const captures = byLevel(6, 60);
  const files = byLevel(500, 2_000);
  test(`${captures} captures of ${files.toLocaleString('en-US')} files while a folder is swapped with a link to outside: no point holds a byte from outside`, { timeout: byLevel(120_000, 1_800_000) }, async (t) => {
    const sb = await makeSandbox('rp-swap-');
    const folders = Math.max(1, Math.round(files / 100));
    const sub = path.join(sb.ws, 'sub');
    const outside = path.join(sb.root, 'outside');
    const marker = `OUTSIDE-${Date.now().toString(36)}`;
    await writeSpread(outside, files, folders, 'f', (i) => `${marker} ${i}\n`);
    await writeSpread(sub, files, folders, 'f', (i) => `inside ${i}\n`);
    const store = await openStore(sb);
    await store.recovery.createRecoveryPoint();
    const swapper = startChild(process.execPath, [SWAPPER, sub, outside]);
    let leaked = 0;
    let entries = 0;
    try {
      while (!swapper.lines.includes('swapping')) await new Promise((resolve) => setTimeout(resolve, 5));
      const objects = await store.persistence.objects();
      for (let i = 0; i < captures; i++) {
        // a changed file in every folder, so each capture reads files and lists folders again
        for (let d = 0; d < folders; d++) await fs.writeFile(path.join(sb.ws, 'sub.touch'), `${i} ${d}\n`);
        const point = await store.recovery.createRecoveryPoint(undefined, { label: `capture ${i}` });
        if (!point) continue;
        for (const [, info] of await listFiles(objects, point.root)) {
          entries++;
          if ((await objects.readBlob(info.hash)).toString('utf8').includes(marker)) leaked++;
        }
      }
    } finally {
      swapper.child.kill('SIGTERM');
      await swapper.exited;
    }
    await store.close();
    assert.equal(leaked, 0, 'no captured file holds content from the outside folder');
    t.diagnostic(`${captures} captures during ${Number(swapper.lines.find((l) => l.startsWith('rounds '))?.slice(7) ?? 0).toLocaleString('en-US')} swaps: ${entries.toLocaleString('en-US')} captured entries read, none from outside`);
  });
});
