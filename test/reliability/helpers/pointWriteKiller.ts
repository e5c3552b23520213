/**
 * Runs one operation and kills its own process (SIGKILL) at a chosen step of its write order, for
 * `pointWriteKills.test.ts`. Run with tsx. One argument, a JSON request `{ storeDir, ws, file, killAt }`;
 * prints `done` when the operation finished (its kill point never reached).
 * A point with the save hint (over `file`):
 *   pack-rename      just before the pack is renamed into place (the pack is complete and fsynced)
 *   objects-fsync    after that rename, before the objects folder is fsynced
 *   manifest-write   before the manifest file is opened (pack durable, no manifest file)
 *   manifest-rename  before the manifest file is renamed into place (its temporary file written)
 *   journal-append   before the points index's journal line is appended (the manifest in place)
 * A garbage collection:
 *   settle-rename    before the first pack gives up its claim (its manifest file fsynced)
 * A deletion of the newest point:
 *   delete-unclaim   before the point's pack gives up its claim (its manifest file removed)
 * The first lock of a store of format 1, which marks it as format 2 (then a point with the save hint):
 *   format-mark      before the format marker is renamed into place (`writer.lock` held)
 *   format-fsync     after that rename, before the store folder is fsynced
 */
import fs from 'node:fs';
import * as path from 'node:path';
import { RecoveryStore } from '../../../src/core/recoveryStore';
import { withoutLinks } from './noLinks';

export type KillAt = 'pack-rename' | 'objects-fsync' | 'manifest-write' | 'manifest-rename' | 'journal-append' | 'settle-rename' | 'delete-unclaim' | 'format-mark' | 'format-fsync';

export interface KillRequest {
  readonly storeDir: string;
  readonly ws: string;
  /** The file (absolute) edited before the point, given as the hint. */
  readonly file: string;
  readonly killAt: KillAt;
  /** Hard links fail (EPERM), as on a file system without them: the store stays in format 1. */
  readonly noLinks?: boolean;
}

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2]!) as KillRequest;
  if (request.noLinks) withoutLinks();
  const marker = path.join(request.storeDir, 'store.lock');
  let marked = false;
  // the store's first lock may be taken as it opens
  const early = { renameSync: fs.renameSync, openSync: fs.openSync };
  if (request.killAt === 'format-mark' || request.killAt === 'format-fsync') {
    fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
      if (String(to) === marker) {
        if (request.killAt === 'format-mark') die();
        early.renameSync(from, to);
        marked = true;
        return;
      }
      return early.renameSync(from, to);
    }) as typeof fs.renameSync;
    fs.openSync = ((file: fs.PathLike, ...rest: unknown[]) => {
      if (marked && String(file) === request.storeDir) die();
      return (early.openSync as (...args: unknown[]) => number)(file, ...rest);
    }) as typeof fs.openSync;
  }
  const store = await RecoveryStore.open({ storeDir: request.storeDir, roots: [{ name: 'ws', path: request.ws }], actor: 'test:killed' });
  // the store opened and listed as a running extension has it
  await store.recovery.listRecoveryPoints();
  const objectsDir = path.join(request.storeDir, 'objects');
  const pointsDir = path.join(request.storeDir, 'points');
  let packRenamed = false;
  const isManifest = (file: string) => path.dirname(file) === pointsDir && /^\d{8}T\d{9}Z-[0-9a-f]{6}\.json/.test(path.basename(file));
  const { renameSync, openSync, appendFileSync, rename } = fs;
  const onRename = (from: string, to: string) => {
    if ((request.killAt === 'settle-rename' || request.killAt === 'delete-unclaim') && path.basename(from).startsWith('point-')) die();
    if (path.dirname(to) === objectsDir && to.endsWith('.pack')) {
      if (request.killAt === 'pack-rename') die();
      packRenamed = true;
    }
    if (request.killAt === 'manifest-rename' && isManifest(to)) die();
  };
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    onRename(String(from), String(to));
    return renameSync(from, to);
  }) as typeof fs.renameSync;
  fs.rename = ((from: fs.PathLike, to: fs.PathLike, callback: fs.NoParamCallback) => {
    onRename(String(from), String(to));
    return rename(from, to, callback);
  }) as typeof fs.rename;
  fs.openSync = ((file: fs.PathLike, ...rest: unknown[]) => {
    const name = String(file);
    if (request.killAt === 'objects-fsync' && packRenamed && name === objectsDir) die();
    if (request.killAt === 'manifest-write' && isManifest(name)) die();
    return (openSync as (...args: unknown[]) => number)(file, ...rest);
  }) as typeof fs.openSync;
  fs.appendFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (request.killAt === 'journal-append' && String(file) === path.join(pointsDir, 'index.journal')) die();
    return (appendFileSync as (...args: unknown[]) => void)(file, ...rest);
  }) as typeof fs.appendFileSync;
  if (request.killAt === 'settle-rename') {
    await store.recovery.collectGarbage();
    process.stdout.write(`${JSON.stringify({ ev: 'done' })}\n`);
  } else if (request.killAt === 'delete-unclaim') {
    const newest = (await store.recovery.listRecoveryPoints())[0]!;
    await store.recovery.deletePoints([newest.id]);
    process.stdout.write(`${JSON.stringify({ ev: 'done', id: newest.id })}\n`);
  } else {
    const point = await store.recovery.createRecoveryPoint(undefined, { trigger: 'save', changedPaths: [request.file] });
    process.stdout.write(`${JSON.stringify({ ev: 'done', id: point?.id })}\n`);
  }
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
