import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The extension's id (`publisher.name`): VS Code gives it `workspaceStorage/<hash>/<id>` as its storage folder. */
export const EXTENSION_ID = 'recovery-points.recovery-points';

/** User-data folders of VS Code and its relatives, where `User/workspaceStorage` lives. */
function userDataDirs(): string[] {
  const home = os.homedir();
  const config = process.env.XDG_CONFIG_HOME ?? path.join(home, '.config');
  const dirs = [
    ...['Code', 'Code - Insiders', 'VSCodium', 'Cursor'].map((name) => path.join(config, name)),
    path.join(home, 'Library', 'Application Support', 'Code'),
    path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Code'),
    path.join(home, '.vscode-server', 'data'),
    path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'code-server'),
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
  const workspaceJson = await readJson(path.join(workspaceDir, 'workspace.json'));
  if (workspaceJson && typeof workspaceJson.folder === 'string') return [fileUrlPath(workspaceJson.folder)];
  const meta = await readJson(path.join(workspaceDir, 'meta.json'));
  if (!meta) return [];
  if (typeof meta.configuration === 'string') return []; // a .code-workspace file, not a folder
  const index = await readJson(path.join(workspaceDir, EXTENSION_ID, 'points', 'index.json'));
  const points = Array.isArray(index?.points) ? (index.points as Array<{ id?: unknown; roots?: Array<{ path?: unknown }> }>) : [];
  const newest = [...points].sort((a, b) => String(b.id).localeCompare(String(a.id)))[0];
  return (newest?.roots ?? []).map((r) => r.path).filter((p): p is string => typeof p === 'string');
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
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
  const lock = await readJson(file);
  const stat = await fs.stat(file).catch(() => undefined);
  if (!lock || !stat || typeof lock.pid !== 'number') return false;
  if (typeof lock.willReleaseAt === 'number' && lock.willReleaseAt > 0 && lock.willReleaseAt < Date.now()) return false;
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
  const wanted = path.resolve(workspace);
  const found: Array<{ dir: string; mtime: number }> = [];
  for (const store of await listExtensionStores()) {
    if (!(await workspaceFolders(store.workspaceDir)).some((folder) => path.resolve(folder) === wanted)) continue;
    const stat = await fs.stat(store.dir).catch(() => undefined);
    if (stat) found.push({ dir: store.dir, mtime: stat.mtimeMs });
  }
  return found.sort((a, b) => b.mtime - a.mtime)[0]?.dir;
}
