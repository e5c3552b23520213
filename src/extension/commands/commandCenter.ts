import * as vscode from 'vscode';
import { describeCause, StateError } from '../../core';
import type { Log } from '../log';
import type { Prompts } from '../prompts';

export type CommandHandler = (...args: unknown[]) => unknown;

/** Errors a person caused or can fix, shown as a plain sentence (no "Show Log" needed). */
export class UserFacingError extends Error {}

/**
 * Registers every command with one error handler: a failure is logged with its stack and shown as a
 * sentence a person understands, with a button that opens the log. No command shows a raw stack.
 */
export class CommandCenter implements vscode.Disposable {
  private readonly registrations: vscode.Disposable[] = [];

  constructor(
    private readonly log: Log,
    private readonly prompts: Prompts,
  ) {}

  register(commands: Record<string, CommandHandler>): void {
    for (const [id, handler] of Object.entries(commands)) {
      this.registrations.push(vscode.commands.registerCommand(id, (...args: unknown[]) => this.run(id, handler, args)));
    }
  }

  private async run(id: string, handler: CommandHandler, args: unknown[]): Promise<unknown> {
    try {
      return await handler(...args);
    } catch (error) {
      if (isCancellation(error)) return undefined;
      if (error instanceof UserFacingError) {
        void this.prompts.notify('warning', error.message);
        return undefined;
      }
      this.log.error('command', `${id} failed: ${describeCause(error)}`, error);
      const message = error instanceof StateError ? error.message : `Something went wrong: ${describeCause(error)}`;
      void vscode.window.showErrorMessage(`Recovery Points: ${message}`, 'Show Log').then((choice) => {
        if (choice) this.log.show();
      });
      return undefined;
    }
  }

  dispose(): void {
    for (const r of this.registrations) r.dispose();
  }
}

function isCancellation(error: unknown): boolean {
  return error instanceof vscode.CancellationError || (error instanceof Error && error.name === 'AbortError');
}
