import * as vscode from 'vscode';

/**
 * A view's tree before its provider exists: empty (the view shows its welcome, not VS Code's "no data
 * provider registered"), then the provider's, once `attach`ed. A tree view takes one provider for its
 * lifetime, and one registered again after another was disposed is not shown (measured on 1.100).
 */
export class DeferredTreeProvider<T> implements vscode.TreeDataProvider<T>, vscode.Disposable {
  private provider: vscode.TreeDataProvider<T> | undefined;
  private readonly changed = new vscode.EventEmitter<T | T[] | undefined | null | void>();
  private forwarding: vscode.Disposable | undefined;
  readonly onDidChangeTreeData = this.changed.event;

  attach(provider: vscode.TreeDataProvider<T>): void {
    this.provider = provider;
    this.forwarding = provider.onDidChangeTreeData?.((change) => this.changed.fire(change));
    this.changed.fire();
  }

  getChildren(element?: T): vscode.ProviderResult<T[]> {
    return this.provider ? this.provider.getChildren(element) : [];
  }

  getTreeItem(element: T): vscode.TreeItem | Thenable<vscode.TreeItem> {
    return this.provider!.getTreeItem(element);
  }

  getParent(element: T): vscode.ProviderResult<T> {
    return this.provider?.getParent?.(element);
  }

  resolveTreeItem(item: vscode.TreeItem, element: T, token: vscode.CancellationToken): vscode.ProviderResult<vscode.TreeItem> {
    return this.provider?.resolveTreeItem ? this.provider.resolveTreeItem(item, element, token) : item;
  }

  dispose(): void {
    this.forwarding?.dispose();
    this.changed.dispose();
  }
}
