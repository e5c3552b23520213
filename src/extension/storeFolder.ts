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
  const stat = await fs.stat(first).catch(() => undefined);
  return stat?.isDirectory() ? path.join(first, path.basename(storageDir)) : storageDir;
}
