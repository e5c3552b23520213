import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * The store's folder for this workspace, shared by every window on it. VS Code gives each extension
 * host a workspace-storage folder of its own: a second window on the same folder (VS Code Server and
 * code-server give every browser window its own extension host) finds `<id>/vscode.lock` held and
 * gets `<id>-1` (up to `-9`), so its `storageUri` is `<id>-1/<extension id>`. The store is made for
 * several writers (its own lock), so every window uses the first folder's: otherwise a second
 * window's points would go to a store that the other window and the command-line tool never see.
 */
export async function sharedStoreFolder(storageDir: string): Promise<string> {
  const workspaceDir = path.dirname(storageDir);
  const suffixed = /^(.+)-[1-9]$/.exec(path.basename(workspaceDir));
  if (!suffixed) return storageDir;
  const first = path.join(path.dirname(workspaceDir), suffixed[1]!);
  // synchronous: activation reaches the point list without giving up the host's busy thread
  const stat = fsSync.statSync(first, { throwIfNoEntry: false });
  return stat?.isDirectory() ? path.join(first, path.basename(storageDir)) : storageDir;
}

/**
 * The extension's stores of the other workspace-storage folders beside this window's
 * (`workspaceStorage/<other id>/<extension id>`), leaving out those a live window has open: VS Code's
 * extension host holds `vscode.lock` (`{"pid", "willReleaseAt"}`) in its folder and touches it every second.
 */
export async function siblingStores(storeDir: string): Promise<string[]> {
  const own = path.dirname(storeDir);
  const storage = path.dirname(own);
  const extensionFolder = path.basename(storeDir);
  const stores: string[] = [];
  for (const entry of await fs.readdir(storage).catch(() => [] as string[])) {
    const workspaceDir = path.join(storage, entry);
    if (workspaceDir === own) continue;
    const dir = path.join(workspaceDir, extensionFolder);
    if (!(await fs.stat(dir).catch(() => undefined))?.isDirectory()) continue;
    if (await inUseByWindow(workspaceDir)) continue;
    stores.push(dir);
  }
  return stores;
}

async function inUseByWindow(workspaceDir: string): Promise<boolean> {
  const file = path.join(workspaceDir, 'vscode.lock');
  try {
    const [text, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    const lock = JSON.parse(text) as { pid?: unknown; willReleaseAt?: unknown };
    if (typeof lock.pid !== 'number' || Date.now() - stat.mtimeMs > 10_000) return false;
    if (typeof lock.willReleaseAt === 'number' && lock.willReleaseAt > 0 && lock.willReleaseAt < Date.now()) return false;
    process.kill(lock.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
