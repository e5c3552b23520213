import * as path from 'node:path';
import type { CaptureRules } from './capture';
import { holdExitHandlers } from './documents';
import type { CaptureProcessOptions } from './capture/captureProcess';
import type { Logger } from './logger';
import { RecoveryManager } from './recovery/recoveryManager';
import { DEFAULT_RETENTION, type RetentionPolicy } from './recovery/retention';
import type { WorkspaceRoot } from './schemas';
import { PersistenceManager } from './state/persistenceManager';
import { StateManager } from './state/stateManager';
import { StateError } from './errors';
import { notAStoreFolder } from './storeLayout';

export interface OpenStoreOptions {
  /** The store folder: VS Code's workspace storage for the extension, `--store` for the command-line tool. */
  readonly storeDir: string;
  readonly roots: readonly WorkspaceRoot[];
  readonly rules?: Partial<CaptureRules>;
  /** Absent: the limits the extension keeps in the store (`PersistenceManager.saveRetention`), or else the defaults. */
  readonly retention?: Partial<RetentionPolicy>;
  /** `extension:<pid>`, `cli:<pid>`: recorded in the audit log and the state. */
  readonly actor?: string;
  readonly logger?: Logger;
  readonly lockStaleMs?: number;
  readonly lockWaitMs?: number;
  /** Capture the store's first point in a process of its own, so its memory goes back to the system when it is done. */
  readonly captureProcess?: CaptureProcessOptions;
}

/** The core's composition root: one PersistenceManager shared by the StateManager and the RecoveryManager. */
export class RecoveryStore {
  private constructor(
    readonly persistence: PersistenceManager,
    readonly state: StateManager,
    readonly recovery: RecoveryManager,
    private readonly releaseExitHandlers: () => void,
  ) {}

  static async open(options: OpenStoreOptions): Promise<RecoveryStore> {
    const storeDir = path.resolve(options.storeDir);
    const persistence = new PersistenceManager(path.join(storeDir, 'state.json'), path.join(storeDir, 'points'), {
      storeDir,
      roots: options.roots,
      rules: options.rules,
      actor: options.actor,
      logger: options.logger,
      lockStaleMs: options.lockStaleMs,
      lockWaitMs: options.lockWaitMs,
      captureProcess: options.captureProcess,
    });
    // after the placement checks of the constructor, whose words are more precise
    const foreign = notAStoreFolder(storeDir);
    if (foreign) throw StateError.invalidState(foreign);
    await persistence.ensureFolders();
    const state = new StateManager(persistence);
    // absent (the tool, the hooks, the MCP server): the limits the editor keeps in the store, so their clean-ups remove no point its settings keep
    const retention = { ...DEFAULT_RETENTION, ...(options.retention ?? persistence.savedRetention()) };
    const recovery = new RecoveryManager(persistence, retention.maxRecoveryPoints, { retention, stateManager: state });
    // taken last, so an open that fails holds nothing
    return new RecoveryStore(persistence, state, recovery, holdExitHandlers());
  }

  /** Saves what is only in memory (the capture cache) and closes files; pending writes finish first. */
  async close(): Promise<void> {
    // a clean-up holds the lock only in slices: it is waited for as a whole
    try {
      await this.recovery.collectionsDone();
      await this.persistence.lock.run(() => this.persistence.close(), { mayWrite: false });
      this.state.dispose();
    } finally {
      this.persistence.lock.dispose();
      this.releaseExitHandlers();
    }
  }
}
