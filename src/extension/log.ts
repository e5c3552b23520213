import * as vscode from 'vscode';
import type { Logger } from '../core';

export type LogArea = 'store' | 'capture' | 'restore' | 'view' | 'session' | 'command' | 'activation' | 'transfer' | 'agent';

/** The one output channel, "Recovery Points", with messages tagged by area. */
export class Log implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('Recovery Points', { log: true });

  info(area: LogArea, message: string): void {
    this.channel.info(`[${area}] ${message}`);
  }

  warn(area: LogArea, message: string): void {
    this.channel.warn(`[${area}] ${message}`);
  }

  error(area: LogArea, message: string, error?: unknown): void {
    this.channel.error(`[${area}] ${message}`);
    if (error instanceof Error && error.stack) this.channel.debug(`[${area}] ${error.stack}`);
  }

  debug(area: LogArea, message: string): void {
    this.channel.debug(`[${area}] ${message}`);
  }

  /** The core's logger, writing under `area`. */
  forCore(area: LogArea): Logger {
    return {
      debug: (m) => this.debug(area, m),
      info: (m) => this.info(area, m),
      warn: (m) => this.warn(area, m),
      error: (m, e) => this.error(area, m, e),
    };
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
