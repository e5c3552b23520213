import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as z from 'zod';
import type { GitHead } from '../../core';

const headSchema = z.union([
  z.string().regex(/^ref: refs\/heads\/\S+$/).transform((text): GitHead => ({ branch: text.slice('ref: refs/heads/'.length) })),
  z.string().regex(/^[0-9a-f]{40,64}$/).transform((text): GitHead => ({ commit: text })),
]);
const gitFileSchema = z.string().regex(/^gitdir: .+$/).transform((text) => text.slice('gitdir: '.length).trim());

/**
 * The branch (or detached commit) checked out in the repository holding `folder`: `.git/HEAD`, or the
 * HEAD of the folder a `.git` file points to (a worktree, a submodule). Read only: git is never run
 * and nothing is written. `undefined` when there is no repository or its HEAD cannot be read.
 */
export async function readGitHead(folder: string): Promise<GitHead | undefined> {
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, '.git');
    const stat = await fs.stat(dotGit).catch(() => undefined);
    if (stat?.isDirectory()) return readHead(path.join(dotGit, 'HEAD'));
    if (stat?.isFile()) {
      const gitDir = gitFileSchema.safeParse((await fs.readFile(dotGit, 'utf8').catch(() => '')).trim());
      return gitDir.success ? readHead(path.join(path.resolve(dir, gitDir.data), 'HEAD')) : undefined;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

async function readHead(file: string): Promise<GitHead | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  const parsed = text === undefined ? undefined : headSchema.safeParse(text.trim());
  return parsed?.success ? parsed.data : undefined;
}

export function sameHead(a: GitHead | undefined, b: GitHead | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
