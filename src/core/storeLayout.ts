import * as path from 'node:path';

/** Where each part of a store lives. The store is one folder, normally VS Code's workspace storage. */
export class StoreLayout {
  readonly stateFile: string;
  readonly pointsDir: string;
  readonly pointIndexFile: string;
  readonly objectsDir: string;
  readonly cacheDir: string;
  readonly captureCacheFile: string;
  /** The extension's capture rules, for the tools that open the store without settings (`captureRulesDocument`). */
  readonly captureRulesFile: string;
  /** The extension's retention limits, for clean-ups the tools start (`retentionDocument`). */
  readonly retentionFile: string;
  /** The changes between points by root tree hashes (`ChangeIndex`): a cache, rebuilt from the trees. */
  readonly changeIndexFile: string;
  /** One document per window: the files it saved lately (`OtherWindowSaves`). */
  readonly savesDir: string;
  readonly quarantineDir: string;
  readonly auditLogFile: string;
  readonly lockTarget: string;

  /** `root` is the store folder; the spec's state file and snapshots folder default to `state.json` and `points/` inside it. */
  constructor(
    readonly root: string,
    paths: { stateFile?: string; pointsDir?: string } = {},
  ) {
    this.stateFile = paths.stateFile ?? path.join(root, 'state.json');
    this.pointsDir = paths.pointsDir ?? path.join(root, 'points');
    this.pointIndexFile = path.join(this.pointsDir, 'index.json');
    this.objectsDir = path.join(root, 'objects');
    this.cacheDir = path.join(root, 'cache');
    this.captureCacheFile = path.join(root, 'cache', 'capture-cache.json');
    this.captureRulesFile = path.join(root, 'capture-rules.json');
    this.retentionFile = path.join(root, 'retention.json');
    this.changeIndexFile = path.join(root, 'cache', 'change-index.json');
    this.savesDir = path.join(root, 'cache', 'saves');
    this.quarantineDir = path.join(root, 'quarantine');
    this.auditLogFile = path.join(root, 'audit.log.jsonl');
    this.lockTarget = root;
  }

  manifestFile(id: string): string {
    return path.join(this.pointsDir, `${id}.json`);
  }
}
