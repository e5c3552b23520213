import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { readDocument, writeDocument } from '../core/documents';
import { toolCacheDir } from './codeCache';
import { lazySchema, SCHEMA_VERSION, type DocumentType, type PointSummary } from '../core/schemas';
import { silentLogger } from '../core/logger';
import { PointIndexFile } from '../core/state/pointIndex';

/** The extension's id (`publisher.name`): VS Code gives it `workspaceStorage/<hash>/<id>` as its storage folder. */
export const EXTENSION_ID = 'recovery-points.recovery-points';

/** Desktop VS Code's `workspaceStorage/<hash>/workspace.json`: the folder (or workspace file) as a URI. */
const desktopWorkspaceSchema = lazySchema(() => z.object({ folder: z.string().optional(), workspace: z.string().optional() }));
/** VS Code Server's and code-server's `meta.json`: the workspace's id and name, no folder for a folder workspace. */
const serverWorkspaceSchema = lazySchema(() => z.object({ id: z.string(), configuration: z.unknown().optional() }));
/** The `vscode.lock` VS Code's extension host keeps in a workspace-storage folder while a window has it open. */
const workspaceLockSchema = lazySchema(() => z.object({ pid: z.number(), willReleaseAt: z.number().optional() }));

/**
 * The checkout this tool runs from (the folder of the `recovery-points` package.json above it), whose
 * `.cache/editor/user-data` is where `npm start` keeps its editor's data; undefined for an installed tool.
 */
function checkoutRoot(): string | undefined {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(fsSync.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (manifest.name === 'recovery-points') return dir;
    } catch {
      // no package.json here
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * User-data folders of VS Code and its relatives, where `User/workspaceStorage` lives: the desktop
 * editors, VS Code Server, code-server, the editor `npm start` runs (`.cache/editor/user-data` of this
 * checkout), and any listed in RECOVERY_POINTS_USER_DATA_DIRS (first).
 */
export function userDataDirs(): string[] {
  const home = os.homedir();
  const config = process.env.XDG_CONFIG_HOME ?? path.join(home, '.config');
  const root = checkoutRoot();
  const dirs = [
    ...['Code', 'Code - Insiders', 'VSCodium', 'Cursor'].map((name) => path.join(config, name)),
    path.join(home, 'Library', 'Application Support', 'Code'),
    path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Code'),
    path.join(home, '.vscode-server', 'data'),
    path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'code-server'),
    ...(root ? [path.join(root, '.cache', 'editor', 'user-data')] : []),
  ];
  const extra = process.env.RECOVERY_POINTS_USER_DATA_DIRS;
  return extra ? [...extra.split(path.delimiter).filter(Boolean), ...dirs] : dirs;
}

/** Every store the extension keeps: `workspaceStorage/<id>/<extension id>` in each user-data folder. */
export async function listExtensionStores(): Promise<Array<{ dir: string; workspaceDir: string }>> {
  const stores: Array<{ dir: string; workspaceDir: string }> = [];
  for (const userData of userDataDirs()) {
    const storage = path.join(userData, 'User', 'workspaceStorage');
    for (const entry of await fs.readdir(storage).catch(() => [] as string[])) {
      const dir = path.join(storage, entry, EXTENSION_ID);
      if ((await fs.stat(dir).catch(() => undefined))?.isDirectory()) stores.push({ dir, workspaceDir: path.join(storage, entry) });
    }
  }
  return stores;
}

/**
 * The folder a workspace-storage folder belongs to. Desktop VS Code writes `workspace.json`
 * (`{"folder": "file:///…"}`); the VS Code Server and code-server write `meta.json` (`{"id", "name",
 * "configuration"}`), which names no folder for a single-folder workspace: there the folders the
 * store's newest point recorded tell it.
 */
async function workspaceFolders(workspaceDir: string): Promise<string[]> {
  const desktop = await readJson(path.join(workspaceDir, 'workspace.json'), desktopWorkspaceSchema);
  if (desktop) return desktop.folder === undefined ? [] : [fileUrlPath(desktop.folder)];
  const meta = await readJson(path.join(workspaceDir, 'meta.json'), serverWorkspaceSchema);
  if (!meta) return [];
  if (typeof meta.configuration === 'string') return []; // a .code-workspace file, not a folder
  const newest = newestIndexed(path.join(workspaceDir, EXTENSION_ID, 'points', 'index.json'));
  return (newest?.roots ?? []).map((root) => root.path);
}

/** The newest point the store's index lists (its document and journal), if it can be read. */
function newestIndexed(indexFile: string): PointSummary | undefined {
  try {
    return new PointIndexFile(indexFile, silentLogger).read()[0];
  } catch {
    return undefined;
  }
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const parsed = schema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function fileUrlPath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return decodeURIComponent(url.replace(/^file:\/\//, '')).replace(/\/$/, '');
  }
}

/**
 * Whether a window has this workspace-storage folder open: VS Code's extension host holds
 * `vscode.lock` (`{"pid", "willReleaseAt"}`) there and touches it every second while it runs.
 */
export async function workspaceStorageInUse(workspaceDir: string): Promise<boolean> {
  const file = path.join(workspaceDir, 'vscode.lock');
  const lock = await readJson(file, workspaceLockSchema);
  const stat = await fs.stat(file).catch(() => undefined);
  if (!lock || !stat) return false;
  if (lock.willReleaseAt !== undefined && lock.willReleaseAt > 0 && lock.willReleaseAt < Date.now()) return false;
  if (Date.now() - stat.mtimeMs > 10_000) return false;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finds the store the extension keeps for `workspace`: the workspace-storage folder that names that
 * folder (see `workspaceFolders`), with the extension's storage folder inside it. Newest first.
 */
export async function findExtensionStore(workspace: string): Promise<string | undefined> {
  const wanted = new Set(namesOf(workspace));
  const found: Array<{ dir: string; mtime: number }> = [];
  for (const store of await listExtensionStores()) {
    if (!(await workspaceFolders(store.workspaceDir)).some((folder) => namesOf(folder).some((name) => wanted.has(name)))) continue;
    const stat = await fs.stat(store.dir).catch(() => undefined);
    if (stat) found.push({ dir: store.dir, mtime: stat.mtimeMs });
  }
  return found.sort((a, b) => b.mtime - a.mtime)[0]?.dir;
}

/**
 * The store the extension keeps for `dir` or for the nearest folder above it (an agent's `cwd` may be
 * a subfolder of the opened folder), with that folder.
 */
export async function findNearestExtensionStore(dir: string): Promise<{ store: string; folder: string } | undefined> {
  const kept = await storesByFolder(false);
  const found = nearestIn(kept.stores, dir);
  // searched again: a store gone since, or none found in a search older than a minute (the extension
  // may since have made one in a workspace-storage folder that already existed)
  const gone = found !== undefined && !(await fs.stat(found.store).catch(() => undefined))?.isDirectory();
  if (kept.fresh || !(gone || (found === undefined && Date.now() - kept.searchedAt > RESEARCH_MISS_AFTER_MS))) return gone ? undefined : found;
  return nearestIn((await storesByFolder(true)).stores, dir);
}

/** How long a search that found no store for a folder is trusted before a miss searches again. */
const RESEARCH_MISS_AFTER_MS = 60_000;

/**
 * The store of `dir` or of the nearest folder above it: by the path as given, then by its real path
 * (an agent's `cwd` is the real path of a folder the editor opened through a link, or the other way).
 */
function nearestIn(stores: Readonly<Record<string, string>>, dir: string): { store: string; folder: string } | undefined {
  for (const start of namesOf(dir)) {
    for (let folder = start; ; folder = path.dirname(folder)) {
      const store = Object.hasOwn(stores, folder) ? stores[folder] : undefined;
      if (store) return { store, folder };
      if (path.dirname(folder) === folder) break;
    }
  }
  return undefined;
}

/** A folder's absolute path, and its real path (links resolved) when that is another. */
function namesOf(folder: string): string[] {
  const resolved = path.resolve(folder);
  const real = realpathOr(resolved);
  return real === resolved ? [resolved] : [resolved, real];
}

function realpathOr(folder: string): string {
  try {
    return fsSync.realpathSync(folder);
  } catch {
    return folder;
  }
}

/**
 * What a search of every store found (folder → the newest store naming it), kept for the next call:
 * an agent's hook runs at every tool call, and reading every workspace-storage folder of every editor
 * on the machine each time grows with every folder ever opened. The search is done again when a
 * `workspaceStorage` folder changed (VS Code adds a folder there for each newly opened workspace).
 */
const storeSearchSchema = lazySchema(() =>
  z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    /** Each `workspaceStorage` folder's modification time when searched (0: it did not exist). */
    storages: z.record(z.string(), z.number()),
    searchedAt: z.number(),
    stores: z.record(z.string(), z.string()),
  }),
);
type StoreSearch = z.infer<typeof storeSearchSchema>;
const storeSearchDocument: DocumentType<StoreSearch> = { name: 'store search cache', schema: storeSearchSchema, maxBytes: 4 * 1024 * 1024 };

/** Where the tool keeps what it found: the user's cache folder (`$XDG_CACHE_HOME`, else `~/.cache`). */
export function storeSearchFile(): string {
  return path.join(toolCacheDir(), 'extension-stores.json');
}

/** The stores by folder: as the last search found them while no `workspaceStorage` folder changed since (unless `search`), else searched now (`fresh`). */
async function storesByFolder(search: boolean): Promise<{ stores: Record<string, string>; searchedAt: number; fresh: boolean }> {
  const storages: Record<string, number> = {};
  for (const userData of userDataDirs()) {
    const storage = path.join(userData, 'User', 'workspaceStorage');
    storages[storage] = (await fs.stat(storage).catch(() => undefined))?.mtimeMs ?? 0;
  }
  const file = storeSearchFile();
  const kept = search ? undefined : await readDocument(file, storeSearchDocument).catch(() => undefined);
  if (kept && sameRecord(kept.storages, storages)) return { stores: kept.stores, searchedAt: kept.searchedAt, fresh: false };
  const searchedAt = Date.now();
  const found = new Map<string, { dir: string; mtime: number }>();
  for (const store of await listExtensionStores()) {
    const stat = await fs.stat(store.dir).catch(() => undefined);
    if (!stat) continue;
    for (const folder of await workspaceFolders(store.workspaceDir)) {
      // by its real path too: a folder opened through a link is worked in by its real path as well
      for (const key of namesOf(folder)) {
        const known = found.get(key);
        if (!known || known.mtime < stat.mtimeMs) found.set(key, { dir: store.dir, mtime: stat.mtimeMs });
      }
    }
  }
  const stores = Object.fromEntries([...found].map(([folder, { dir }]) => [folder, dir]));
  // a cache: a folder that cannot be written only means searching again next time
  await fs
    .mkdir(path.dirname(file), { recursive: true })
    .then(() => writeDocument(file, storeSearchDocument, { schemaVersion: SCHEMA_VERSION, storages, searchedAt, stores }, { durable: false }))
    .catch(() => undefined);
  return { stores, searchedAt, fresh: true };
}

function sameRecord(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(b);
  return Object.keys(a).length === keys.length && keys.every((key) => a[key] === b[key]);
}
