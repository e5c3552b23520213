import * as fs from 'node:fs';
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
  /** One folder per window: the saves waiting for their point (`PendingSaves`). */
  readonly pendingSavesDir: string;
  /** The hooks that gave up waiting for the store, each waiting there for the point it asked for (`src/hooks/waitingHooks.ts`). */
  readonly waitingHooksDir: string;
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
    this.pendingSavesDir = path.join(root, 'pending-saves');
    this.waitingHooksDir = path.join(root, 'waiting-hooks');
    this.quarantineDir = path.join(root, 'quarantine');
    this.auditLogFile = path.join(root, 'audit.log.jsonl');
    this.lockTarget = root;
  }

  manifestFile(id: string): string {
    return path.join(this.pointsDir, `${id}.json`);
  }
}

/**
 * What the store's folder takes on disk besides its packs (`ObjectStore.stats().diskBytes`): its
 * manifests, caches, logs, quarantine and temporary files, by their sizes. Links are not followed.
 */
export async function storeBytesBesidePacks(layout: StoreLayout): Promise<number> {
  let bytes = 0;
  const folders = [layout.root];
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    const entries = await fs.promises.readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) folders.push(file);
      else if (entry.isFile() && !(folder === layout.objectsDir && entry.name.endsWith('.pack'))) bytes += (await fs.promises.lstat(file).catch(() => undefined))?.size ?? 0;
    }
  }
  return bytes;
}

/** Names only a store's folder holds: a folder with one of them is (or was being made) a store. */
const STORE_NAMES = ['points', 'state.json', 'objects', 'cache', 'store.lock', 'writer.lock', 'collection.lock', 'audit.log.jsonl', 'moved.json', 'capture-rules.json', 'retention.json', 'quarantine', 'pending-saves', 'waiting-hooks'];

/**
 * Why `root` must not be made a store: it is a folder (or a file) that holds something else, such as a
 * project mistyped as `--store`. A store is made only where nothing is, or in an empty folder, so its
 * making (folders created, access narrowed to the owner) never lands in someone's files.
 */
export function notAStoreFolder(root: string): string | undefined {
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (!stat.isDirectory()) return `${root} is a file, not a recovery point store: nothing was written to it.`;
  if (fs.existsSync(path.join(root, 'points')) || fs.existsSync(path.join(root, 'state.json'))) return undefined;
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return undefined; // unreadable: opening it says why
  }
  if (entries.length === 0 || entries.some((name) => STORE_NAMES.includes(name))) return undefined;
  return `${root} holds other files and is not a recovery point store (it has no points): nothing was written to it. A store is made only in a new or empty folder.`;
}
