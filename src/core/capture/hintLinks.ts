import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { realPathOf } from '../realPath';
import type { WorkspaceRoot } from '../schemas';

/**
 * Changed paths plus, for each one reached through a linked folder inside a workspace folder
 * (`ws/link/f.txt` where `link → src`), the path where the capture finds that file (`ws/src/f.txt`),
 * and for each one that is itself a link to a file inside a workspace folder (`CLAUDE.md → AGENTS.md`,
 * written through by an editor or an agent), that file: a capture stores the link as a link and the
 * file at its real place, so a hint naming only the linked path would miss the change. Targets
 * outside every workspace folder are not captured and add nothing. `lstat` answers `null` when a path
 * cannot be looked at.
 */
export async function withLinkedPaths(roots: readonly WorkspaceRoot[], changed: readonly string[], lstat: (file: string) => Promise<Stats | null>): Promise<string[]> {
  // a restore's hint names each file twice (changed since the newest point, and planned)
  const out = [...new Set(changed)];
  const stats = new Map<string, Promise<Stats | null>>();
  const lstatOnce = (file: string) => {
    let stat = stats.get(file);
    if (!stat) {
      stat = lstat(file);
      stats.set(file, stat);
    }
    return stat;
  };
  const realRoots = new Map<string, Promise<string | undefined>>();
  const realRoot = (root: WorkspaceRoot) => {
    let real = realRoots.get(root.path);
    if (!real) {
      real = realpath(root.path).catch(() => undefined);
      realRoots.set(root.path, real);
    }
    return real;
  };
  for (const file of out.slice()) {
    const root = roots.find((r) => isInside(r.path, file));
    if (!root) continue;
    const reals: Array<string | undefined> = [];
    if (await throughLink(root.path, file, lstatOnce)) reals.push(realPathOf(file));
    if ((await lstatOnce(file))?.isSymbolicLink()) reals.push(await linkedFile(file));
    for (const real of reals) {
      if (real === undefined) continue;
      for (const other of roots) {
        const otherReal = await realRoot(other);
        if (otherReal === undefined || !isInside(otherReal, real)) continue;
        const mapped = path.join(other.path, path.relative(otherReal, real));
        if (mapped !== file && !out.includes(mapped)) out.push(mapped);
        break;
      }
    }
  }
  return out;
}

function isInside(folder: string, file: string): boolean {
  return pathBelow(folder, file) !== undefined;
}

/** Parts of a path below a folder that `path.relative` would drop or resolve: `.`, `..`, empty (a leading, doubled or trailing `/`). */
const UNCLEAN = /(?:^|\/)\.{1,2}(?:\/|$)|\/\/|^\/|\/$/;

/**
 * `file`'s path below `folder`, its parts joined by `/`, or `undefined` when it is not strictly inside.
 * A clean path that starts with the folder's (a save's or a watcher's path) is sliced: `path.relative`
 * normalizes both paths on every call, and a restore hints hundreds.
 */
export function pathBelow(folder: string, file: string): string | undefined {
  if (path.sep === '/' && file.length > folder.length + 1 && file.charCodeAt(folder.length) === 47 && file.startsWith(folder) && !folder.endsWith('/')) {
    const rest = file.slice(folder.length + 1);
    if (!UNCLEAN.test(rest)) return rest;
  }
  const rel = path.relative(folder, file);
  if (rel === '' || path.isAbsolute(rel) || rel === '..' || rel.startsWith(`..${path.sep}`)) return undefined;
  return rel
    .split(path.sep)
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

/** Whether a folder between `rootPath` and `file` (both excluded) is a symbolic link. */
async function throughLink(rootPath: string, file: string, lstat: (file: string) => Promise<Stats | null>): Promise<boolean> {
  const parts = pathBelow(rootPath, file)?.split('/') ?? [];
  let at = rootPath;
  for (const part of parts.slice(0, -1)) {
    at = path.join(at, part);
    const stat = await lstat(at);
    if (stat === null || stat.isSymbolicLink()) return stat !== null;
    if (!stat.isDirectory()) return false;
  }
  return false;
}

/** The real path of the file a link leads to (through any chain of links); `undefined` when it leads nowhere or to a folder. */
async function linkedFile(link: string): Promise<string | undefined> {
  try {
    const real = await realpath(link);
    return (await stat(real)).isDirectory() ? undefined : real;
  } catch {
    return undefined;
  }
}
