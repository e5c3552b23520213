import * as vscode from 'vscode';
import { toWorkspacePath, type EditorSession, type FolderMapping } from '../../core';
import type { Log } from '../log';
import type { WorkspaceFolders } from '../workspaceFolders';

/**
 * Reopens the editors of a point's session (its tabs per group, the active tab, selections). Its tab
 * paths name the folders as the point does; `mapping` (the restore's) leads each to the workspace
 * folder that stands for it now, so a renamed or moved folder's editors reopen. Tabs of files outside
 * the workspace folders were recorded as URIs.
 */
export async function reopenEditors(session: EditorSession, mapping: FolderMapping, folders: WorkspaceFolders, log: Log): Promise<void> {
  for (const group of session.groups) {
    for (const tab of group.tabs) {
      const inWorkspace = toWorkspacePath(mapping, tab.path);
      const uri = (inWorkspace === undefined ? undefined : folders.toUri(inWorkspace)) ?? folders.toUri(tab.path) ?? (tab.path.includes(':') ? vscode.Uri.parse(tab.path) : undefined);
      if (!uri) continue;
      try {
        const editor = await vscode.window.showTextDocument(uri, { viewColumn: group.viewColumn, preview: tab.isPreview, preserveFocus: !tab.isActive });
        if (tab.selections.length > 0) editor.selections = tab.selections.map((s) => new vscode.Selection(s.anchor[0], s.anchor[1], s.active[0], s.active[1]));
      } catch (error) {
        log.debug('restore', `Could not reopen ${tab.path}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
