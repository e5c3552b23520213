import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as z from 'zod';
import { ensurePrivateDir, fsyncDir, readDocumentSync, writeDocumentSync } from '../documents';
import { describeCause, errorCode, ioError, StateError } from '../errors';
import { PACK_EXTENSION } from '../objects/packFile';
import type { ContextSnapshot, DocumentType, LastRestore } from '../schemas';
import { PersistenceManager } from '../state/persistenceManager';
import type { StateManager } from '../state/stateManager';
import { isStoreLockHeld } from '../lock/storeLock';
import { parseClaim, settledPackName } from '../state/pointPacks';
import { realPathOf } from '../realPath';

/** Left in a store whose points were moved to another store; such a store is never offered again. */
export const MOVED_MARKER = 'moved.json';

const movedMarkerSchema = z.object({
  schemaVersion: z.literal(1),
  movedTo: z.string(),
  at: z.string(),
  points: z.number().int().nonnegative(),
});
export type MovedMarker = z.infer<typeof movedMarkerSchema>;
export const movedMarkerDocument: DocumentType<MovedMarker> = { name: 'moved-store marker', schema: movedMarkerSchema, maxBytes: 64 * 1024 };

/** Where the history of the store in `storeDir` went, when an adoption moved it out. */
export function movedTo(storeDir: string): MovedMarker | undefined {
  try {
    return readDocumentSync(path.join(storeDir, MOVED_MARKER), movedMarkerDocument)?.value;
  } catch {
    return undefined;
  }
}

export interface AdoptResult {
  readonly from: string;
  /** Points now listed in this store, oldest first. */
  readonly adopted: string[];
  /** Points this store already had (an adoption interrupted and run again). */
  readonly alreadyHere: string[];
  /** Points of the old store that could not be read: left where they were. */
  readonly leftBehind: string[];
  readonly packs: number;
  /** The old store's last restore, now this store's (its safety point came along, and this store had none since): Undo Last Restore still undoes it. */
  readonly lastRestore?: LastRestore;
}

export interface AdoptOptions {
  readonly onProgress?: (message: string) => void;
  /** This store's state: given, the old store's last restore comes along with its safety point (unless this store has a later one). */
  readonly state?: StateManager;
}

/**
 * Moves the history of the store in `from` into the store of `into` (the folder that was moved or
 * renamed): its packs are hard-linked into this store (copied only where the file system cannot
 * link), its manifests listed here, and then its manifests and packs removed from `from`, which is
 * left holding no points and a `moved.json` marker naming where they went. Runs under both stores'
 * locks; refuses at once when another process holds `from`'s lock (a live window writing to it).
 * Every step leaves both stores consistent: a point is listed only where its packs are, so a crash
 * at any moment loses nothing, and running the adoption again completes it.
 */
export async function adoptStore(into: PersistenceManager, from: string, options: AdoptOptions = {}): Promise<AdoptResult> {
  const source = path.resolve(from);
  if (source === path.resolve(into.layout.root)) throw StateError.invalidState('A store cannot adopt itself.');
  const stat = await fs.stat(path.join(source, 'points')).catch(() => undefined);
  if (!stat?.isDirectory()) throw StateError.invalidState(`${source} is not a recovery point store (it has no points folder).`);
  if (await isStoreLockHeld(source)) {
    throw StateError.io(`The recovery point store ${source} is in use by another window or the command-line tool; close it and try again.`);
  }
  const old = new PersistenceManager(path.join(source, 'state.json'), path.join(source, 'points'), { storeDir: source, roots: [], actor: into.actor, lockWaitMs: 2000 });
  const objects = await into.objects();
  try {
    return await adoptLocked(into, old, objects, source, options);
  } finally {
    old.lock.dispose();
  }
}

async function adoptLocked(into: PersistenceManager, old: PersistenceManager, objects: Awaited<ReturnType<PersistenceManager['objects']>>, source: string, options: AdoptOptions): Promise<AdoptResult> {
  return into.lock.run((intoHold) =>
    old.lock.run(async (oldHold) => {
      // the old store's packs are linked here by name: none may still claim a point of the old store
      await old.settleManifests();
      const points = await old.listSnapshots({ hold: oldHold });
      const gone = points.length === 0 ? movedTo(source) : undefined;
      if (gone) throw StateError.invalidState(`The history of ${source} was already moved to ${gone.movedTo} (${new Date(gone.at).toLocaleString()}): adopt from there.`);
      // a folder that still exists keeps its history: moved here, it would be gone from there
      const living = (points[0]?.roots ?? []).filter((r) => fsSync.statSync(r.path, { throwIfNoEntry: false })?.isDirectory() && !into.workspaceRoots.some((own) => realPathOf(own.path) === realPathOf(r.path)));
      if (living.length > 0) {
        const folder = living[0]!.path;
        throw StateError.invalidState(
          `The folder ${folder}, whose history ${source} holds, still exists: adopting would take that history away from it. To have it here as well, export it (recovery-points export --store ${source} --workspace ${folder} --out FILE) and import the bundle here.`,
        );
      }
      const manifests: ContextSnapshot[] = [];
      const leftBehind: string[] = [];
      for (const point of [...points].reverse()) {
        try {
          manifests.push(await old.requireSnapshot(point.id));
        } catch (error) {
          into.logger.warn(`Point ${point.id} of ${source} cannot be read and stays there (${describeCause(error)}).`);
          leftBehind.push(point.id);
        }
      }
      options.onProgress?.(`Moving ${manifests.length} points`);
      const packs = (await fs.readdir(old.layout.objectsDir).catch(() => [] as string[])).filter((name) => name.endsWith(PACK_EXTENSION));
      await ensurePrivateDir(objects.dir);
      // a pack that still claims a point (one that could not be read, left behind) is linked under its
      // settled name: here, it would list that damaged point a second time
      const linkedName = (pack: string) => {
        const claim = parseClaim(pack);
        return claim ? settledPackName(claim) : pack;
      };
      for (const pack of packs) await linkOrCopy(path.join(old.layout.objectsDir, pack), path.join(objects.dir, linkedName(pack)));
      await fsyncDir(objects.dir);
      await objects.refresh();
      const here = new Set((await into.listSnapshots({ hold: intoHold })).map((p) => p.id));
      const adopted = manifests.filter((m) => !here.has(m.id));
      await into.addSnapshots(adopted, 'adopt', { from: source });
      const lastRestore = await carryLastRestore(old, options.state, new Set(manifests.map((m) => m.id)), intoHold);
      // Only now, with every point listed here, does the old store let go of them.
      try {
        writeDocumentSync(path.join(source, MOVED_MARKER), movedMarkerDocument, { schemaVersion: 1, movedTo: into.layout.root, at: new Date().toISOString(), points: manifests.length });
      } catch (error) {
        throw ioError(`mark ${source} as moved`, error);
      }
      await old.deleteSnapshots(manifests.map((m) => m.id), 'cleanup', oldHold);
      if (leftBehind.length === 0) for (const pack of packs) await fs.rm(path.join(old.layout.objectsDir, pack), { force: true });
      await old.audit.append({ action: 'adopt', details: { movedTo: into.layout.root, points: manifests.length } });
      return { from: source, adopted: adopted.map((m) => m.id), alreadyHere: manifests.filter((m) => here.has(m.id)).map((m) => m.id), leftBehind, packs: packs.length, ...(lastRestore ? { lastRestore } : {}) };
    }),
  );
}

/**
 * The old store's last restore, made this store's when its safety point is among the points moved
 * and this store has no restore of its own made later (the folder was restored after it opened here).
 * Its undo follows the moved folder by the folder identities it recorded. A state file that cannot be
 * read carries nothing: the points came along, the undo is then one restore of the safety point away.
 */
async function carryLastRestore(old: PersistenceManager, state: StateManager | undefined, moved: ReadonlySet<string>, hold: Parameters<StateManager['getState']>[0]): Promise<LastRestore | undefined> {
  if (!state) return undefined;
  const last = (await old.loadState().catch(() => undefined))?.lastRestore;
  if (!last || !moved.has(last.safetyPointId)) return undefined;
  const own = (await state.getState(hold)).lastRestore;
  // a store with no state of its own yet reads it from its newest point, which may be the restore's
  if (own && own.safetyPointId === last.safetyPointId) return last;
  if (own && own.at >= last.at) return undefined;
  await state.updateState({ lastRestore: last }, hold);
  return last;
}

/** A hard link (no bytes copied); a copy where the file system cannot link. An existing file of the same name is the same pack (an earlier, interrupted adoption). */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fs.link(from, to);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw ioError(`move the pack ${path.basename(from)}`, error);
    const temp = `${to}.partial`;
    try {
      await fs.copyFile(from, temp);
      const handle = await fs.open(temp, 'r+');
      await handle.sync();
      await handle.close();
      await fs.rename(temp, to);
    } catch (copyError) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw ioError(`copy the pack ${path.basename(from)}`, copyError);
    }
  }
}
