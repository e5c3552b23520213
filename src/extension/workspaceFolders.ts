import * as path from 'node:path';
import * as vscode from 'vscode';
import { innermostFirst, type WorkspaceRoot } from '../core';

/** The workspace folders as the core's roots, named like VS Code names them (made unique), and the mapping between URIs and point paths. */
export class WorkspaceFolders {
  private roots: WorkspaceRoot[] = [];
  private folders: readonly vscode.WorkspaceFolder[] = [];

  constructor() {
    this.refresh();
  }

  /**
   * The folders again. Folders that VS Code names alike ("src" and "src") are told apart by a number
   * ("src-2") that would follow their order: each keeps the name `known` (the newest point's folders,
   * else the names given so far) gave its path, so a reorder does not pass one folder's history to the other.
   */
  refresh(known: readonly WorkspaceRoot[] = this.roots): readonly WorkspaceRoot[] {
    this.folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    const bases = this.folders.map((folder) => {
      const base = folder.name.replace(/[/\\\0]/g, '_') || 'folder';
      return base === '.' || base === '..' ? 'folder' : base;
    });
    const kept = this.folders.map((folder, i) => {
      if (bases.filter((b) => b === bases[i]).length < 2) return undefined;
      const name = known.find((r) => r.path === folder.uri.fsPath)?.name;
      return name !== undefined && (name === bases[i] || name.startsWith(`${bases[i]}-`)) ? name : undefined;
    });
    const used = new Set(kept.filter((name, i) => name !== undefined && kept.indexOf(name) === i));
    this.roots = this.folders.map((folder, i) => {
      let name = kept[i] !== undefined && kept.indexOf(kept[i]) === i ? kept[i]! : bases[i]!;
      if (name !== kept[i]) for (let n = 2; used.has(name); n++) name = `${bases[i]}-${n}`;
      used.add(name);
      return { name, path: folder.uri.fsPath };
    });
    return this.roots;
  }

  get all(): readonly WorkspaceRoot[] {
    return this.roots;
  }

  get hasFolder(): boolean {
    return this.roots.length > 0;
  }

  /** `root/rel/path` for a file in a workspace folder (the innermost, when one is inside another), else undefined. */
  toPointPath(uri: vscode.Uri): string | undefined {
    if (uri.scheme !== 'file') return undefined;
    const file = uri.fsPath;
    for (const root of innermostFirst(this.roots)) {
      const rel = path.relative(root.path, file);
      if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return `${root.name}/${rel.split(path.sep).join('/')}`;
    }
    return undefined;
  }

  toUri(pointPath: string): vscode.Uri | undefined {
    const [name, ...rest] = pointPath.split('/');
    const root = this.roots.find((r) => r.name === name);
    return root ? vscode.Uri.file(path.join(root.path, ...rest)) : undefined;
  }

  /** How a point path is shown: without the folder name in a single-folder workspace. */
  display(pointPath: string): string {
    return this.roots.length === 1 ? pointPath.slice(pointPath.indexOf('/') + 1) : pointPath;
  }
}
