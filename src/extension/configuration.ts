import * as vscode from 'vscode';
import type { CaptureRules, RetentionPolicy } from '../core';

export const SECTION = 'recoveryPoints';
/** The settings that choose which files a point captures. */
export const CAPTURE_RULE_SETTINGS = ['exclude', 'respectGitignore', 'excludeSecrets', 'maxFileSizeMB'].map((key) => `${SECTION}.${key}`);

/** Typed reads of the `recoveryPoints.*` settings. */
export class Configuration {
  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  get automatic(): boolean {
    return this.config.get<boolean>('automatic.enabled', true);
  }
  get onSave(): boolean {
    return this.automatic && this.config.get<boolean>('automatic.onSave', true);
  }
  get onExternalChange(): boolean {
    return this.automatic && this.config.get<boolean>('automatic.onExternalChange', true);
  }
  get onStartup(): boolean {
    return this.automatic && this.config.get<boolean>('automatic.onStartup', true);
  }
  get mergeWindowMs(): number {
    return clamp(this.config.get<number>('mergeWindowSeconds', 5), 0, 600) * 1000;
  }
  /** While saves keep coming, a point is made at least this often (each save restarts the merge window). */
  get mergeWindowMaxMs(): number {
    return clamp(this.config.get<number>('mergeWindowMaxSeconds', 60), 1, 3600) * 1000;
  }
  get restoreEditorLayout(): boolean {
    return this.config.get<boolean>('restoreEditorLayout', false);
  }

  get captureRules(): CaptureRules {
    return {
      respectGitignore: this.config.get<boolean>('respectGitignore', true),
      excludes: this.config.get<string[]>('exclude', []).filter((g) => typeof g === 'string' && g.trim() !== ''),
      excludeSecrets: this.config.get<boolean>('excludeSecrets', true),
      maxFileSize: Math.round(clamp(this.config.get<number>('maxFileSizeMB', 10), 0, 4096) * 1024 * 1024),
    };
  }

  get retention(): RetentionPolicy {
    return {
      maxRecoveryPoints: Math.max(1, Math.floor(this.config.get<number>('maxPoints', 500))),
      maxAgeDays: Math.max(0, this.config.get<number>('maxAgeDays', 30)),
      maxTotalBytes: Math.max(0, this.config.get<number>('maxStoreSizeMB', 2048)) * 1024 * 1024,
    };
  }

  /** Turns automatic points on or off for this workspace (its settings, never the user's for every workspace). */
  async setAutomatic(enabled: boolean): Promise<void> {
    await this.config.update('automatic.enabled', enabled, vscode.ConfigurationTarget.Workspace);
  }

  /** Fires when a `recoveryPoints.*` setting changes. */
  onDidChange(listener: () => void): vscode.Disposable {
    return vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SECTION)) listener();
    });
  }
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}
