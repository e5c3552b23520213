/**
 * Test fixtures for the storage core: temporary sandboxes (a workspace, a store and a canary folder
 * beside them), writing and reading whole file maps, and crafting points and objects by hand.
 * Real files in temporary folders; every sandbox is removed by `cleanup`.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ObjectStore } from '../../../src/core/objects/objectStore';
import { readPackIndex, type PackEntry } from '../../../src/core/objects/packFile';
import { RecoveryStore, type OpenStoreOptions } from '../../../src/core/recoveryStore';
import type { AuditEntry } from '../../../src/core/schemas';

export interface Sandbox {
  /** The temporary folder holding everything below. */
  readonly root: string;
  /** The workspace folder (root name `ws`). */
  readonly ws: string;
  /** The store folder. */
  readonly store: string;
  /** A folder next to the workspace that no restore may ever write into. */
  readonly canary: string;
  cleanup(): Promise<void>;
}

const sandboxes: Sandbox[] = [];

export async function makeSandbox(prefix = 'rp-test-'): Promise<Sandbox> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  const ws = path.join(root, 'ws');
  const store = path.join(root, 'store');
  const canary = path.join(root, 'canary');
  await fs.mkdir(ws);
  await fs.mkdir(canary);
  await fs.writeFile(path.join(canary, 'canary.txt'), 'do not touch\n');
  const sandbox: Sandbox = {
    root,
    ws,
    store,
    canary,
    cleanup: async () => {
      await fs.chmod(root, 0o700).catch(() => undefined);
      await fs.rm(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
  sandboxes.push(sandbox);
  return sandbox;
}

/** Removes every sandbox made so far (call from `after`). */
/** Object stores opened by `openObjectStore`, closed by `cleanupSandboxes` before their folders go. */
const objectStores: ObjectStore[] = [];

/** `ObjectStore.open`, the store closed by `cleanupSandboxes` (else Node closes its packs' files on garbage collection, with a warning). */
export async function openObjectStore(dir: string): Promise<ObjectStore> {
  const store = await ObjectStore.open(dir);
  objectStores.push(store);
  return store;
}

export async function cleanupSandboxes(): Promise<void> {
  for (const store of objectStores.splice(0)) await store.close();
  for (const sandbox of sandboxes.splice(0)) await sandbox.cleanup();
}

export type FileSpec =
  | string
  | Buffer
  | { readonly content: string | Buffer; readonly mode?: number }
  | { readonly symlink: string }
  | { readonly dir: true };

/** Writes files (creating folders) relative to `base`; `null` deletes a path. */
export async function writeFiles(base: string, files: Record<string, FileSpec | null>): Promise<void> {
  for (const [rel, spec] of Object.entries(files)) {
    const file = path.join(base, rel);
    if (spec === null) {
      await fs.rm(file, { recursive: true, force: true });
      continue;
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    if (typeof spec === 'string' || Buffer.isBuffer(spec)) {
      await fs.rm(file, { recursive: true, force: true });
      await fs.writeFile(file, spec);
    } else if ('symlink' in spec) {
      await fs.rm(file, { recursive: true, force: true });
      await fs.symlink(spec.symlink, file);
    } else if ('dir' in spec) {
      await fs.mkdir(file, { recursive: true });
    } else {
      await fs.rm(file, { recursive: true, force: true });
      await fs.writeFile(file, spec.content);
      if (spec.mode !== undefined) await fs.chmod(file, spec.mode);
    }
  }
}

/**
 * Everything below `base` as a flat map: `file <mode> <content as latin1>` (lossless, readable in a
 * failed assertion), `link -> <target>`, `dir` for folders (so empty folders show). Never follows links.
 */
export async function readFiles(base: string, options: { skip?: (rel: string) => boolean } = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string, prefix: string): Promise<void> {
    const names = (await fs.readdir(dir)).sort();
    for (const name of names) {
      const rel = prefix ? `${prefix}/${name}` : name;
      if (options.skip?.(rel)) continue;
      const full = path.join(dir, name);
      const stat = await fs.lstat(full);
      if (stat.isSymbolicLink()) out[rel] = `link -> ${await fs.readlink(full)}`;
      else if (stat.isDirectory()) {
        out[rel] = 'dir';
        await walk(full, rel);
      } else out[rel] = `file ${(stat.mode & 0o777).toString(8)} ${(await fs.readFile(full)).toString('latin1')}`;
    }
  }
  await walk(base, '');
  return out;
}

/** Every regular file and folder below `dir` with its permission bits (for the owner-only checks). */
export async function listModes(dir: string): Promise<Array<{ rel: string; kind: 'file' | 'dir'; mode: number }>> {
  const out: Array<{ rel: string; kind: 'file' | 'dir'; mode: number }> = [];
  async function walk(current: string, prefix: string): Promise<void> {
    for (const name of await fs.readdir(current)) {
      const full = path.join(current, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const stat = await fs.lstat(full).catch(() => undefined);
      if (!stat) continue;
      if (stat.isDirectory()) {
        out.push({ rel, kind: 'dir', mode: stat.mode & 0o777 });
        await walk(full, rel);
      } else if (stat.isFile()) out.push({ rel, kind: 'file', mode: stat.mode & 0o777 });
    }
  }
  await walk(dir, '');
  return out;
}

export async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}

/** Flips one bit of a file at `offset` (negative: from the end). */
export async function flipByte(file: string, offset: number): Promise<void> {
  const bytes = await fs.readFile(file);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = bytes[at]! ^ 0x55;
  await fs.writeFile(file, bytes);
}

/** The pack files of a store's objects folder, oldest first. */
export async function packFiles(storeDir: string): Promise<string[]> {
  const dir = path.join(storeDir, 'objects');
  return (await fs.readdir(dir).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.pack'))
    .sort()
    .map((name) => path.join(dir, name));
}

export async function readJson<T = unknown>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `condition` holds, polling; fails after `timeoutMs` (a bound, not a timing assertion). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// ── opening stores ───────────────────────────────────────────────────────


const openStores: RecoveryStore[] = [];

/** Opens the sandbox's store over its workspace (root name `ws`); closed by `closeStores`. */
export async function openStore(sandbox: Sandbox, options: Partial<OpenStoreOptions> = {}): Promise<RecoveryStore> {
  const store = await RecoveryStore.open({ storeDir: sandbox.store, roots: [{ name: 'ws', path: sandbox.ws }], actor: 'test:main', ...options });
  openStores.push(store);
  return store;
}

export async function closeStores(): Promise<void> {
  for (const store of openStores.splice(0)) await store.close().catch(() => undefined);
}

/** Closes stores, then removes sandboxes (for `after`). */
export async function cleanupAll(): Promise<void> {
  await closeStores();
  await cleanupSandboxes();
}

export async function auditEntries(store: RecoveryStore): Promise<AuditEntry[]> {
  return store.persistence.audit.read();
}

/** The audit log's entries as another process (the command-line tool, the MCP server) wrote them; none when there is no log. */
export async function auditFileEntries(storeDir: string): Promise<AuditEntry[]> {
  const text = await fs.readFile(path.join(storeDir, 'audit.log.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEntry);
}


/** The pack file and index entry holding object `hash`. */
export async function locateObject(storeDir: string, hash: string): Promise<{ file: string; entry: PackEntry }> {
  for (const file of await packFiles(storeDir)) {
    const entry = (await readPackIndex(file)).find((e) => e.hash === hash);
    if (entry) return { file, entry };
  }
  throw new Error(`object ${hash} is in no pack`);
}

/** Damages one stored object in place (a bit flip in the middle of its data). */
export async function damageObject(storeDir: string, hash: string): Promise<string> {
  const { file, entry } = await locateObject(storeDir, hash);
  await flipByte(file, entry.offset + Math.floor(entry.storedSize / 2));
  return file;
}

/** The store lock of a store in format 2 (the file `writer.lock`; DESIGN.md, "The store lock and the store's format"). */
export function writerLock(storeDir: string): string {
  return path.join(storeDir, 'writer.lock');
}

/** A store lock another process left: `writer.lock` holding `owner` (a lock owner's name, or any bytes), its time set to `ageMs` ago. */
export async function craftWriterLock(storeDir: string, owner: string, ageMs = 0): Promise<void> {
  await fs.writeFile(writerLock(storeDir), owner);
  const when = new Date(Date.now() - ageMs);
  await fs.utimes(writerLock(storeDir), when, when);
}

/** Makes the store one of format 1 again (as an earlier build left it): its format marker removed. */
export async function toFormat1(storeDir: string): Promise<void> {
  await fs.rm(path.join(storeDir, 'store.lock'));
}
