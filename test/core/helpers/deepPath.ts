/** A workspace path longer than the system allows (PATH_MAX), made and removed one short step at a time. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** Makes `base/deep/N/N/…/f.txt` (names of 200 bytes) whose full path is longer than `bytes`; returns the folder `deep`. */
export function makeDeepPath(base: string, bytes = 4_200): string {
  const name = 'n'.repeat(200);
  const deep = path.join(base, 'deep');
  const cwd = process.cwd();
  // each step is relative to the current folder: the whole path is too long for the system calls
  mkdirSync(deep);
  process.chdir(deep);
  try {
    for (let length = deep.length; length < bytes; length += name.length + 1) {
      mkdirSync(name);
      process.chdir(name);
    }
    writeFileSync('f.txt', 'deep');
  } finally {
    process.chdir(cwd);
  }
  return deep;
}

/** Removes a tree too deep for Node's `fs.rm` (which uses whole paths). */
export function removeDeep(dir: string): void {
  execFileSync('rm', ['-rf', dir]);
}
