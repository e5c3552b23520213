import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { readDocument } from '../core/documents';
import { pointIndexDocument } from '../core/schemas';

/** The extension's id (`publisher.name`): VS Code gives it `workspaceStorage/<hash>/<id>` as its storage folder. */
export const EXTENSION_ID = 'recovery-points.recovery-points';

/** Desktop VS Code's `workspaceStorage/<hash>/workspace.json`: the folder (or workspace file) as a URI. */
const desktopWorkspaceSchema = z.object({ folder: z.string().optional(), workspace: z.string().optional() });
/** VS Code Server's and code-server's `meta.json`: the workspace's id and name, no folder for a folder workspace. */
const serverWorkspaceSchema = z.object({ id: z.string() });

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

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const parsed = schema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the store's points were taken of `workspace` (their roots name it). */
async function storeCaptures(storeDir: string, workspace: string): Promise<boolean> {
  const index = await readDocument(path.join(storeDir, 'points', 'index.json'), pointIndexDocument).catch(() => undefined);
  return index?.points.some((point) => point.roots.some((root) => path.resolve(root.path) === workspace)) ?? false;
}

/**
 * Finds the store the extension keeps for `workspace`, newest first, in two layouts of
 * `User/workspaceStorage/<hash>/`: desktop VS Code's, whose `workspace.json` names the folder; and
 * VS Code Server's and code-server's (`npm start` too), whose `meta.json` does not (the hash is of the
 * folder's address in the browser), so there the store's own points tell which folder they hold.
 */
export async function findExtensionStore(workspace: string): Promise<string | undefined> {
  const resolved = path.resolve(workspace);
  const wanted = decodeURIComponent(pathToFileURL(resolved).href.replace(/\/$/, ''));
  const found: Array<{ dir: string; mtime: number }> = [];
  for (const userData of userDataDirs()) {
    const storage = path.join(userData, 'User', 'workspaceStorage');
    const entries = await fs.readdir(storage).catch(() => [] as string[]);
    for (const entry of entries) {
      const dir = path.join(storage, entry, EXTENSION_ID);
      const stat = await fs.stat(dir).catch(() => undefined);
      if (!stat?.isDirectory()) continue;
      const desktop = await readJson(path.join(storage, entry, 'workspace.json'), desktopWorkspaceSchema);
      let matches: boolean;
      if (desktop) matches = desktop.folder !== undefined && decodeURIComponent(desktop.folder).replace(/\/$/, '') === wanted;
      else if (await readJson(path.join(storage, entry, 'meta.json'), serverWorkspaceSchema)) matches = await storeCaptures(dir, resolved);
      else matches = false;
      if (matches) found.push({ dir, mtime: stat.mtimeMs });
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime)[0]?.dir;
}
