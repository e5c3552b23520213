/**
 * Fixtures for the capture tests: temporary folders (removed by `cleanupTempDirs`), writing file
 * trees, a store with a capture helper that counts what each capture added, and a reader wrapper
 * that counts tree reads.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureWorkspace, CaptureCache, DEFAULT_CAPTURE_RULES, type CaptureInput, type CaptureResult, type CaptureRules } from '../../../src/core/capture';
import { ObjectStore, type ObjectReader } from '../../../src/core/objects/objectStore';
import type { TreeObject, WorkspaceRoot } from '../../../src/core/schemas';
import { writeFiles, type FileSpec } from './storeFixtures';

const dirs: string[] = [];
const stores: ObjectStore[] = [];

/** A new empty temporary folder (its real path), removed by `cleanupTempDirs`. */
export async function tempDir(prefix = 'rp-capture-'): Promise<string> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  dirs.push(dir);
  return dir;
}

export async function cleanupTempDirs(): Promise<void> {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) {
    await restorePermissions(dir);
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Gives the owner access to every folder again (tests remove permissions to make files unreadable). */
async function restorePermissions(dir: string): Promise<void> {
  await fs.chmod(dir, 0o700).catch(() => undefined);
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await restorePermissions(full);
    else if (entry.isFile()) await fs.chmod(full, 0o600).catch(() => undefined);
  }
}

export type Spec = FileSpec | null;

/** Writes files (creating folders) below `base`; `null` removes the path. */
export const writeTree = writeFiles;

/** Sets a file's mtime (and atime) to `secondsAgo` in the past, so the cache does not treat it as racy. */
export async function age(file: string, secondsAgo = 3600): Promise<void> {
  const when = new Date(Date.now() - secondsAgo * 1000);
  await fs.lutimes(file, when, when);
}

/** Ages every file and link below `dir`. */
export async function ageAll(dir: string, secondsAgo = 3600): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await ageAll(full, secondsAgo);
    else await age(full, secondsAgo);
  }
}

export interface Captured extends CaptureResult {
  /** Objects this capture added to the store (blobs and trees). */
  readonly added: number;
}

/** A store in a temporary folder and a capture helper that commits each capture in its own batch. */
export class CaptureHarness {
  cache: CaptureCache;
  rules: CaptureRules;

  private constructor(
    readonly objects: ObjectStore,
    readonly roots: WorkspaceRoot[],
    readonly storeDir: string,
  ) {
    this.cache = CaptureCache.empty(path.join(storeDir, 'cache', 'capture-cache.json'));
    this.rules = DEFAULT_CAPTURE_RULES;
  }

  static async create(roots: WorkspaceRoot[], rules: Partial<CaptureRules> = {}, storeDir?: string): Promise<CaptureHarness> {
    const dir = storeDir ?? (await tempDir('rp-capture-store-'));
    const harness = new CaptureHarness(await openStore(path.join(dir, 'objects')), roots, dir);
    harness.rules = { ...DEFAULT_CAPTURE_RULES, ...rules };
    return harness;
  }

  async capture(extra: Partial<CaptureInput> = {}): Promise<Captured> {
    const batch = this.objects.beginBatch();
    try {
      const result = await captureWorkspace({ roots: this.roots, rules: this.rules, objects: batch, cache: this.cache, ...extra });
      const added = batch.addedObjects;
      await batch.commit();
      return { ...result, added };
    } catch (error) {
      await batch.abort();
      throw error;
    }
  }
}

/** Opens an object store that `cleanupTempDirs` closes. */
export async function openStore(dir: string): Promise<ObjectStore> {
  const store = await ObjectStore.open(dir);
  stores.push(store);
  return store;
}

/** Wraps a reader and counts its calls. */
export class CountingReader implements ObjectReader {
  treeReads = 0;
  blobReads = 0;
  readonly treesRead: string[] = [];

  constructor(private readonly inner: ObjectReader) {}

  has(hash: string): boolean {
    return this.inner.has(hash);
  }

  readBlob(hash: string): Promise<Buffer> {
    this.blobReads++;
    return this.inner.readBlob(hash);
  }

  readTree(hash: string): Promise<TreeObject> {
    this.treeReads++;
    this.treesRead.push(hash);
    return this.inner.readTree(hash);
  }
}
