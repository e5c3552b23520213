import * as fs from 'node:fs';
import { errorCode, ioError } from '../errors';
import type { PointSummary } from '../schemas';

/** A file or folder as stat(2) gives it, times to the nanosecond; `undefined`: it does not exist. */
interface Stamp {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

/** The stamps of the watched paths: the index's document, its journal, the points folder, the objects folder. */
export type ListingStamps = readonly (Stamp | undefined)[];

/** What this process knows the store's listing to be, and the state of the files it was known from. */
export interface Known {
  readonly points: readonly PointSummary[];
  /** The listed points' ids. */
  readonly ids: ReadonlySet<string>;
  readonly stamps: ListingStamps;
  /** The lock's takeover count then (`StoreLock.takeovers`). */
  readonly takeovers: number;
}

/** How many of the watched paths are the index's files, which only a listing or a point writes under the lock. */
const INDEX_FILES = 2;
/** How many of the watched paths the listing is known by: the index's files and the points folder. */
const LISTING_PATHS = 3;
/** Where the objects folder's stamp is among the watched paths. */
const OBJECTS_FOLDER = 3;

/**
 * The one place that owns what this process knows the store's listing to be, so that a point (and a
 * listing that nothing is deleted by) may skip reading the points folder: the listing is known only
 * while the index's document and journal and the points folder are provably unchanged since this
 * process last listed the folder, or appended its own point's line under the lock (their device,
 * inode, size, mtime and ctime compared: an append always changes the size, a rewrite goes through a
 * rename and changes the inode, a manifest added or removed changes the folder's times). It is
 * forgotten, so the next listing reads the folder again:
 * - until a first full listing (a new object knows nothing);
 * - when any watched file changed in a way this process did not make itself (`recall`);
 * - after this process took over a stale lock (a killed writer may have left a manifest without its
 *   index line), or lost its own (`takeovers`);
 * - on every other write of this process to the points folder or the index (`forget`, called by
 *   `PersistenceManager.forgetListing`), and after any error inside a point's write;
 * - when a pack claims a point the listing does not hold (`recall`'s `claimed`).
 * The objects folder is watched the same way, for the packs' claims: while its stamp is the one this
 * process took before it last read the folder's names, or after it wrote its own point's pack under
 * the lock, no pack claims a point the listing lacks, and the folder is not read for the claims.
 * Callers that delete or collect anything never consult it: `listSnapshots()` lists in full unless asked.
 */
export class KnownListing {
  private known: Known | undefined;

  constructor(
    /** The index's document, its journal, the points folder, then the objects folder. */
    private readonly paths: readonly [string, string, string, string],
    private readonly takeovers: () => number,
  ) {}

  /** The watched paths' stamps now (the first `count`). */
  stamps(count: number = this.paths.length): ListingStamps {
    return this.paths.slice(0, count).map(stampOf);
  }

  /** After a full listing: `points` are the folder's, read after `before` was taken (a change since then shows as another stamp). */
  remember(points: readonly PointSummary[], before: ListingStamps, takeovers: number): void {
    this.known = { points: points.slice(), ids: new Set(points.map((p) => p.id)), stamps: before, takeovers };
  }

  /**
   * The known listing, when nothing changed since it was made and every point a pack claims is in it;
   * otherwise `undefined` (and forgotten). `claimed`: reads the objects folder for the points its packs
   * claim, called only when the folder changed since this process last read it or wrote its own pack
   * there (the folder's stamp then taken before that read is kept). Only under the store lock: no
   * other writer is then halfway.
   */
  recall(claimed: () => Iterable<string>): Known | undefined {
    const known = this.known;
    if (!known) return undefined;
    const now = this.stamps();
    if (known.takeovers !== this.takeovers() || !sameStamps(known.stamps, now, LISTING_PATHS)) return this.forgetting();
    if (sameStamps(known.stamps.slice(OBJECTS_FOLDER), now.slice(OBJECTS_FOLDER), 1)) return known;
    for (const id of claimed()) if (!known.ids.has(id)) return this.forgetting();
    this.known = { ...known, stamps: now };
    return this.known;
  }

  /** What is known now, without looking at the files (for a point that just listed under the same hold of the lock). */
  get current(): Known | undefined {
    return this.known;
  }

  /**
   * Appends this process's new point to the index (`append`) and knows the listing as `base` with it,
   * when the index's files are as `base` found them just before the append (only this process wrote
   * since, under the lock); otherwise the next listing reads the folder.
   */
  appendOwn(base: Known | undefined, summary: PointSummary, append: () => void): void {
    this.known = undefined;
    const trusted = base !== undefined && base.takeovers === this.takeovers() && sameStamps(base.stamps, this.stamps(INDEX_FILES), INDEX_FILES);
    append();
    if (!trusted) return;
    const ids = base.ids as Set<string>;
    const points = ids.has(summary.id) ? [summary, ...base.points.filter((p) => p.id !== summary.id)] : [summary].concat(base.points);
    ids.add(summary.id);
    this.known = { points, ids, stamps: this.stamps(), takeovers: base.takeovers };
  }

  forget(): void {
    this.known = undefined;
  }

  private forgetting(): undefined {
    this.known = undefined;
    return undefined;
  }
}

function stampOf(file: string): Stamp | undefined {
  try {
    const s = fs.statSync(file, { bigint: true });
    return { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw ioError(`read ${file}`, error);
  }
}

/** Whether the first `count` stamps of `a` and `b` are equal (a missing file equals a missing file). */
function sameStamps(a: ListingStamps, b: ListingStamps, count: number): boolean {
  for (let i = 0; i < count; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) {
      if (x !== y) return false;
      continue;
    }
    if (x.dev !== y.dev || x.ino !== y.ino || x.size !== y.size || x.mtimeNs !== y.mtimeNs || x.ctimeNs !== y.ctimeNs) return false;
  }
  return true;
}
