import * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Wired to the storage core in the extension issue.
}

export function deactivate(): void {}
