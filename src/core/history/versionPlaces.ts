import type { ObjectReader } from '../objects/objectStore';
import type { PointSummary } from '../schemas';
import { pathGlobMatcher } from './pathGlobs';

/** The first and the last point (oldest first) in which one file version was at one path. */
export interface VersionSpan {
  readonly path: string;
  readonly firstPointId: string;
  readonly lastPointId: string;
  readonly firstTime: string;
  readonly lastTime: string;
}

/** A distinct stored version of a file, and every place it was kept. */
export interface StoredVersion {
  readonly hash: string;
  readonly size: number;
  /** Newest first (by the last point holding it). */
  readonly spans: readonly VersionSpan[];
}

export interface VersionPlacesResult {
  /** Newest first: the versions the newest points hold come first. */
  readonly versions: StoredVersion[];
  /** Points whose folders could not be read (missing or damaged objects); their versions are left out. */
  readonly unreadablePoints: string[];
}

/**
 * A folder as it appeared at one path: the points that listed it directly (while walking a parent
 * that was new), and the parents it appeared in, whose points it shares.
 */
interface FolderUse {
  first: number;
  last: number;
  readonly parents: FolderUse[];
  resolved?: readonly [number, number];
}

/**
 * Every distinct file version of the given points (`points` in any order), with the paths and the
 * time span each was kept at. A folder kept unchanged at the same path by many points is read once:
 * its later points are known from the parent folders that hold it. Only file contents (not links).
 * `paths` (picomatch globs; a malformed one is refused, InvalidState) keeps the versions at matching paths: a glob is tried against the point
 * path (`folder/src/a.ts`) and against the path inside its workspace folder (`src/a.ts`).
 */
export async function collectVersionPlaces(
  objects: ObjectReader,
  points: readonly PointSummary[],
  options: { paths?: readonly string[]; signal?: AbortSignal; pause?: () => Promise<void> } = {},
): Promise<VersionPlacesResult> {
  const ordered = [...points].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const wanted = options.paths && options.paths.length > 0 ? pathGlobMatcher(options.paths) : undefined;
  const keep = (pointPath: string) => !wanted || wanted(pointPath) || wanted(pointPath.slice(pointPath.indexOf('/') + 1));
  const folders = new Map<string, FolderUse>();
  const places = new Map<string, { size: number; at: Array<{ folder: FolderUse; path: string }> }>();
  const unreadablePoints: string[] = [];

  const visit = async (index: number, hash: string, folderPath: string, parent: FolderUse | undefined): Promise<void> => {
    const key = `${folderPath}\0${hash}`;
    const known = folders.get(key);
    if (known) {
      known.first = Math.min(known.first, index);
      known.last = Math.max(known.last, index);
      if (parent && !known.parents.includes(parent)) known.parents.push(parent);
      return;
    }
    const use: FolderUse = { first: index, last: index, parents: parent ? [parent] : [] };
    await options.pause?.();
    const tree = await objects.readTree(hash);
    folders.set(key, use);
    for (const [name, kind, child, size] of tree.e) {
      const childPath = folderPath === '' ? name : `${folderPath}/${name}`;
      if (kind === 'd') await visit(index, child, childPath, use);
      else if (kind === 'f' && folderPath !== '' && keep(childPath)) {
        let place = places.get(child);
        if (!place) places.set(child, (place = { size, at: [] }));
        place.at.push({ folder: use, path: childPath });
      }
    }
  };

  for (const [index, point] of ordered.entries()) {
    if (options.signal?.aborted) break;
    try {
      await visit(index, point.root, '', undefined);
    } catch {
      unreadablePoints.push(point.id);
    }
  }

  const resolve = (use: FolderUse): readonly [number, number] => {
    if (use.resolved) return use.resolved;
    let first = use.first;
    let last = use.last;
    for (const parent of use.parents) {
      const [f, l] = resolve(parent);
      first = Math.min(first, f);
      last = Math.max(last, l);
    }
    use.resolved = [first, last];
    return use.resolved;
  };

  const versions: Array<StoredVersion & { newest: number }> = [];
  let placed = 0;
  for (const [hash, place] of places) {
    if ((++placed & 255) === 0) await options.pause?.();
    const byPath = new Map<string, [number, number]>();
    for (const { folder, path } of place.at) {
      const [f, l] = resolve(folder);
      const span = byPath.get(path);
      byPath.set(path, span ? [Math.min(span[0], f), Math.max(span[1], l)] : [f, l]);
    }
    const spans = [...byPath]
      .sort((a, b) => b[1][1] - a[1][1] || (a[0] < b[0] ? -1 : 1))
      .map(([path, [f, l]]) => ({ path, firstPointId: ordered[f]!.id, lastPointId: ordered[l]!.id, firstTime: ordered[f]!.createdAt, lastTime: ordered[l]!.createdAt }));
    let newest = -Infinity;
    for (const span of byPath.values()) newest = Math.max(newest, span[1]); // an empty file can be at more paths than arguments fit
    versions.push({ hash, size: place.size, spans, newest });
  }
  versions.sort((a, b) => b.newest - a.newest || (a.spans[0]!.path < b.spans[0]!.path ? -1 : 1));
  return { versions: versions.map(({ newest: _newest, ...version }) => version), unreadablePoints };
}
