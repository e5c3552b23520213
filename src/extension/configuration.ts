import * as vscode from 'vscode';
import { checkPathGlobs, type CaptureRules, type RetentionPolicy } from '../core';

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
  /** How often every file is checked for changes the file watcher did not report; 0: only when a point is made. */
  get fullCheckMs(): number {
    const minutes = this.config.get<unknown>('fullCheckMinutes', 10);
    return (typeof minutes === 'number' && Number.isFinite(minutes) ? clamp(minutes, 0, 1440) : 10) * 60_000;
  }
  get restoreEditorLayout(): boolean {
    return this.config.get<boolean>('restoreEditorLayout', false);
  }

  get captureRules(): CaptureRules {
    return {
      respectGitignore: this.config.get<boolean>('respectGitignore', true),
      excludes: this.excludes().filter((g) => isValidGlob(g)),
      excludeSecrets: this.config.get<boolean>('excludeSecrets', true),
      maxFileSize: Math.round(Math.min(MAX_FILE_SIZE_MB, this.limit('maxFileSizeMB', 10, MAX_FILE_SIZE_MB)) * 1024 * 1024),
    };
  }

  get retention(): RetentionPolicy {
    return {
      maxRecoveryPoints: this.limit('maxPoints', 500, Number.MAX_SAFE_INTEGER),
      maxAgeDays: this.limit('maxAgeDays', 30, 0),
      maxTotalBytes: this.limit('maxStoreSizeMB', 2048, 0) * 1024 * 1024,
    };
  }

  /**
   * A limit setting: 0 sets no limit (`none`: the value that stands for it), and a value that is not a
   * number of 0 or more (an empty string, null, a negative number) is the default, so a mistyped
   * setting never makes clean-up remove history or captures leave out files (`invalidSettings` says so).
   */
  private limit(key: LimitSetting, fallback: number, none: number): number {
    const value = this.config.get<unknown>(key, fallback);
    if (!usableLimit(key, value)) return fallback;
    return value === 0 ? none : value;
  }

  /** The settings whose value cannot be used as it is, each with what is done instead: limits that are not a number of 0 or more, malformed exclude globs. */
  invalidSettings(): string[] {
    const limits = LIMIT_SETTINGS.flatMap(([key, fallback]) => {
      const value = this.config.get<unknown>(key, fallback);
      return usableLimit(key, value) ? [] : [`${SECTION}.${key} is ${JSON.stringify(value) ?? String(value)}, not a ${key === 'maxPoints' ? 'whole number' : 'number'} of 0 or more: ${fallback} is used`];
    });
    const globs = this.excludes()
      .filter((g) => !isValidGlob(g))
      .map((g) => `the ${SECTION}.exclude pattern ${JSON.stringify(g)} is not a valid glob (an unclosed bracket, brace or parenthesis; a backslash before one meant literally): it is left out`);
    return [...limits, ...globs];
  }

  private excludes(): string[] {
    const value = this.config.get<unknown>('exclude', []);
    return Array.isArray(value) ? value.filter((g): g is string => typeof g === 'string' && g.trim() !== '') : [];
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

type LimitSetting = 'maxPoints' | 'maxAgeDays' | 'maxStoreSizeMB' | 'maxFileSizeMB';

/** A number of 0 or more; a count of points is whole (0.5 would keep none but the newest). */
function usableLimit(key: LimitSetting, value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && (key !== 'maxPoints' || Number.isInteger(value));
}
const LIMIT_SETTINGS: ReadonlyArray<readonly [LimitSetting, number]> = [
  ['maxPoints', 500],
  ['maxAgeDays', 30],
  ['maxStoreSizeMB', 2048],
  ['maxFileSizeMB', 10],
];
/** The largest file a point captures when `maxFileSizeMB` is 0 (no limit). */
const MAX_FILE_SIZE_MB = 4096;

function isValidGlob(glob: string): boolean {
  try {
    checkPathGlobs([glob]);
    return true;
  } catch {
    return false;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}
