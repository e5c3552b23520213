import picomatch from 'picomatch';
import { StateError } from '../errors';

/**
 * One test for path globs (picomatch): true when a path matches one of them. A malformed glob (an
 * unclosed `[`, `{` or `(`) is refused with a sentence naming it; picomatch alone would match nothing
 * with it and a search would say "No matches" instead.
 */
export function pathGlobMatcher(globs: readonly string[]): (path: string) => boolean {
  checkPathGlobs(globs);
  return picomatch(globs.flatMap(asIncluded), { dot: true });
}

/**
 * A glob as VS Code's "files to include" reads it: one without a slash matches at any depth (`*.js`,
 * `README.md`), and a folder stands for the files below it (`src`, `src/`, `docs/*`).
 */
function asIncluded(glob: string): string[] {
  const trimmed = glob.replace(/\/+$/, '');
  if (trimmed === '') return [glob];
  const anywhere = trimmed.includes('/') || trimmed.startsWith('**') ? [trimmed] : [trimmed, `**/${trimmed}`];
  return anywhere.flatMap((g) => [g, `${g}/**`]);
}

/** Throws InvalidState for the first malformed glob of `globs`. */
export function checkPathGlobs(globs: readonly string[]): void {
  for (const glob of globs) {
    try {
      picomatch.makeRe(glob, { dot: true, strictBrackets: true });
    } catch (error) {
      const message = error instanceof Error ? error.message.replace(/ - use .*$/, '') : String(error);
      const why = message.charAt(0).toLowerCase() + message.slice(1);
      throw StateError.invalidState(`The path pattern ${JSON.stringify(glob)} is not a valid glob (${why}); put a backslash before a bracket, brace or parenthesis meant literally.`);
    }
  }
}
