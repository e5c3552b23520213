import * as path from 'node:path';
import { StateError } from '../errors';
import { realPathOf } from '../realPath';
import { isSafeName } from '../objects/tree';
import type { WorkspaceRoot } from '../schemas';

/** The workspace folder a point path's first name stands for (the one place roots are looked up by name). */
export function rootNamed(roots: readonly WorkspaceRoot[], name: string): WorkspaceRoot | undefined {
  return roots.find((r) => r.name === name);
}

/**
 * The folders with any folder inside another before it: a file in a workspace folder that is inside
 * another belongs to the inner one (the outer one's captures leave it out), so look-ups take the first
 * folder of this order that holds the file.
 */
export function innermostFirst<T extends { readonly path: string }>(roots: readonly T[]): T[] {
  return [...roots].sort((a, b) => path.resolve(b.path).length - path.resolve(a.path).length);
}

/** A point path's place in the workspace: its workspace folder and the path below it (`a/b.txt`). */
export interface WorkspaceTarget {
  readonly root: WorkspaceRoot;
  readonly rel: string;
}

/**
 * Maps a point path (`rootName/rel/path`) to a path inside a workspace folder, refusing anything that
 * could land outside it: unknown roots, empty, `.` or `..` components, separators or NUL inside a
 * name, absolute paths. Folders on the way are checked when the restore reaches them (`ConfinedRoot`
 * opens each without following links).
 */
export function resolveInsideWorkspace(roots: readonly WorkspaceRoot[], pointPath: string): WorkspaceTarget {
  const parts = splitPointPath(pointPath);
  const root = rootNamed(roots, parts[0]!);
  if (!root) throw StateError.invalidState(`Refusing to restore ${JSON.stringify(pointPath)}: "${parts[0]}" is not a folder of this workspace.`);
  return { root, rel: parts.slice(1).join('/') };
}

/** Splits and checks a point path; throws InvalidState for anything that is not `root/name/…` with safe names. */
export function splitPointPath(pointPath: string): string[] {
  if (typeof pointPath !== 'string' || pointPath.length === 0 || pointPath.length > 4096 || path.isAbsolute(pointPath) || pointPath.includes('\\')) {
    throw StateError.invalidState(`Refusing the path ${JSON.stringify(pointPath)}: a point path is "folder/relative/path".`);
  }
  const parts = pointPath.split('/');
  if (parts.length < 2 || !parts.every(isSafeName)) throw StateError.invalidState(`Refusing the path ${JSON.stringify(pointPath)}: it has an empty, ".", ".." or otherwise unsafe part.`);
  return parts;
}

/** The absolute path a point path names in the workspace, without looking at the disk; `undefined` for an unsafe path or an unknown root. */
export function absolutePath(roots: readonly WorkspaceRoot[], pointPath: string): string | undefined {
  let parts: string[];
  try {
    parts = splitPointPath(pointPath);
  } catch {
    return undefined;
  }
  const root = rootNamed(roots, parts[0]!);
  return root ? path.join(root.path, ...parts.slice(1)) : undefined;
}

/** True when `pointPath` equals `filter` or lies below it (a folder filter). */
export function isUnder(pointPath: string, filter: string): boolean {
  const f = filter.replace(/\/+$/, '');
  return pointPath === f || pointPath.startsWith(`${f}/`);
}

/**
 * Turns a path a person typed into a point path: an absolute path, or a relative one resolved against
 * `cwd` when that lands in a workspace folder; otherwise `root/rel` naming a folder, or, with a single
 * workspace folder, a path relative to it.
 */
export function toPointPath(roots: readonly WorkspaceRoot[], input: string, cwd = process.cwd()): string {
  if (input.trim() === '') throw StateError.invalidState('The path is empty: give a file or folder of the workspace.');
  const absolute = path.resolve(cwd, input);
  const inRoot = (at: string, rootOf: (root: WorkspaceRoot) => string | undefined): string | undefined => {
    for (const root of innermostFirst(roots)) {
      const rootPath = rootOf(root);
      if (rootPath === undefined) continue;
      if (at === rootPath) return root.name;
      if (at.startsWith(rootPath + path.sep)) return `${root.name}/${path.relative(rootPath, at).split(path.sep).join('/')}`;
    }
    return undefined;
  };
  // a folder opened through a link is also reached through its real folder, and the other way round
  const found = inRoot(absolute, (root) => path.resolve(root.path)) ?? inRoot(realPathOf(absolute), (root) => realPathOf(path.resolve(root.path)));
  if (found !== undefined) return found;
  if (path.isAbsolute(input)) throw StateError.invalidState(`${input} is not inside a folder of this workspace.`);
  // `./src/a.ts` and `src/../src/a.ts` name `src/a.ts`, as a shell would
  const normalised = path.posix.normalize(input.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (normalised === '..' || normalised.startsWith('../')) throw StateError.invalidState(`${input} is not inside a folder of this workspace.`);
  if (normalised === '.') {
    if (roots.length === 1) return roots[0]!.name;
    throw StateError.invalidState(`Name the workspace folder in ${JSON.stringify(input)} (one of: ${roots.map((r) => r.name).join(', ')}).`);
  }
  const first = normalised.split('/')[0];
  if (roots.some((r) => r.name === first)) return normalised;
  if (roots.length === 1) return `${roots[0]!.name}/${normalised}`;
  throw StateError.invalidState(`Name the workspace folder in ${JSON.stringify(input)} (one of: ${roots.map((r) => r.name).join(', ')}).`);
}

/** `at` with links resolved as far as it exists (the rest, not there yet, as given). */
/**
 * A point path as a person types it (what `toPointPath` takes back): relative to the folder when the
 * workspace has a single folder (`.` for the folder itself), else with the folder's name in front.
 */
export function typedPath(roots: readonly WorkspaceRoot[], pointPath: string): string {
  if (roots.length !== 1) return pointPath;
  const name = roots[0]!.name;
  if (pointPath === name) return '.';
  return pointPath.startsWith(`${name}/`) ? pointPath.slice(name.length + 1) : pointPath;
}
