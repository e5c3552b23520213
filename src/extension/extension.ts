import * as vscode from 'vscode';
import { Container, type RecoveryPointsApi } from './container';

let container: Container | undefined;

export function activate(context: vscode.ExtensionContext): RecoveryPointsApi {
  container = new Container(context);
  context.subscriptions.push(container);
  return container;
}

/** Waits for pending points and the session to be written. */
export async function deactivate(): Promise<void> {
  await container?.shutdown();
  container = undefined;
}
