import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errorCode, ioError, StateError } from '../errors';
import { isSafeName } from '../objects/tree';
import type { WorkspaceRoot } from '../schemas';

/**
 * Maps a point path (`rootName/rel/path`) to a file in the workspace, refusing anything that could
 * land outside it: unknown roots, empty, `.` or `..` components, separators or NUL inside a name,
 * absolute paths, and any existing ancestor folder that is a symbolic link (or not a folder).
 */
export async function resolveInsideWorkspace(roots: readonly WorkspaceRoot[], pointPath: string): Promise<string> {
  const parts = splitPointPath(pointPath);
  const root = roots.find((r) => r.name === parts[0]);
  if (!root) throw StateError.invalidState(`Refusing to restore ${JSON.stringify(pointPath)}: "${parts[0]}" is not a folder of this workspace.`);
  const rootPath = path.resolve(root.path);
  const target = path.join(rootPath, ...parts.slice(1));
  if (!target.startsWith(rootPath + path.sep)) throw StateError.invalidState(`Refusing to restore ${JSON.stringify(pointPath)}: it is outside the workspace.`);
  let dir = rootPath;
  for (const part of parts.slice(1, -1)) {
    dir = path.join(dir, part);
    let stat;
    try {
      stat = await fs.lstat(dir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') break;
      throw ioError(`check the folder ${dir}`, error);
    }
    if (stat.isSymbolicLink()) throw StateError.invalidState(`Refusing to restore ${JSON.stringify(pointPath)}: ${dir} is a symbolic link, and writing through it could leave the workspace.`);
    if (!stat.isDirectory()) throw StateError.invalidState(`Cannot restore ${JSON.stringify(pointPath)}: ${dir} is a file, not a folder.`);
  }
  return target;
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
  const root = roots.find((r) => r.name === parts[0]);
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
  const absolute = path.resolve(cwd, input);
  for (const root of roots) {
    const rootPath = path.resolve(root.path);
    if (absolute === rootPath) return root.name;
    if (absolute.startsWith(rootPath + path.sep)) return `${root.name}/${path.relative(rootPath, absolute).split(path.sep).join('/')}`;
  }
  if (path.isAbsolute(input)) throw StateError.invalidState(`${input} is not inside a folder of this workspace.`);
  const normalised = input.replace(/\\/g, '/').replace(/\/+$/, '');
  if (normalised.split('/').some((part) => part === '..')) throw StateError.invalidState(`${input} is not inside a folder of this workspace.`);
  const first = normalised.split('/')[0];
  if (roots.some((r) => r.name === first)) return normalised;
  if (roots.length === 1) return `${roots[0]!.name}/${normalised}`;
  throw StateError.invalidState(`Name the workspace folder in ${JSON.stringify(input)} (one of: ${roots.map((r) => r.name).join(', ')}).`);
}
