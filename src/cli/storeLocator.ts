import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

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

/**
 * Finds the store the extension keeps for `workspace`: the workspace-storage folder whose
 * `workspace.json` names that folder, with the extension's storage folder inside it. Newest first.
 */
export async function findExtensionStore(workspace: string): Promise<string | undefined> {
  const wanted = pathToFileURL(path.resolve(workspace)).href.replace(/\/$/, '');
  const found: Array<{ dir: string; mtime: number }> = [];
  for (const userData of userDataDirs()) {
    const storage = path.join(userData, 'User', 'workspaceStorage');
    const entries = await fs.readdir(storage).catch(() => [] as string[]);
    for (const entry of entries) {
      try {
        const meta = JSON.parse(await fs.readFile(path.join(storage, entry, 'workspace.json'), 'utf8')) as { folder?: string };
        if (typeof meta.folder !== 'string' || decodeURIComponent(meta.folder).replace(/\/$/, '') !== decodeURIComponent(wanted)) continue;
        const dir = path.join(storage, entry, EXTENSION_ID);
        const stat = await fs.stat(dir);
        found.push({ dir, mtime: stat.mtimeMs });
      } catch {
        // not a match, or no store for this extension
      }
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime)[0]?.dir;
}
