/**
 * What a workspace or a point holds, as `ws/<path>` → `<mode> <blob hash>`: the workspace read from
 * disk, a point read from the store (every object read, so every hash is checked on the way).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { listFiles } from '../../../src/core/capture';
import { hashObject } from '../../../src/core/objects/hash';
import type { ObjectReader } from '../../../src/core/objects/objectStore';

export type FileDigest = Record<string, string>;

/** Every regular file below `ws` (leftover temporary files of a killed restore included). */
export async function digestWorkspace(ws: string): Promise<FileDigest> {
  const out: FileDigest = {};
  async function walk(dir: string, prefix: string): Promise<void> {
    for (const name of (await fs.readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const rel = `${prefix}/${name}`;
      const stat = await fs.lstat(full);
      if (stat.isDirectory()) await walk(full, rel);
      else if (stat.isFile()) out[rel] = `${(stat.mode & 0o777).toString(8)} ${hashObject('blob', await fs.readFile(full))}`;
    }
  }
  await walk(ws, 'ws');
  return out;
}

/** Every file of a point's tree, reading (and so hash-checking) every tree and blob it references. */
export async function digestPoint(objects: ObjectReader, root: string): Promise<FileDigest> {
  const out: FileDigest = {};
  for (const [rel, info] of await listFiles(objects, root)) {
    const content = await objects.readBlob(info.hash);
    out[rel] = `${(info.mode & 0o777).toString(8)} ${hashObject('blob', content)}`;
  }
  return out;
}

/** Files written by a restore that was killed before renaming them into place. */
export function isRestoreTemporary(rel: string): boolean {
  return /\/\.[^/]*\.rp-[0-9a-f]{8}\.tmp$/.test(rel);
}
