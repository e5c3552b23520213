import picomatch from 'picomatch';
import { StateError } from '../errors';

/**
 * One test for path globs (picomatch): true when a path matches one of them. A malformed glob (an
 * unclosed `[`, `{` or `(`) is refused with a sentence naming it; picomatch alone would match nothing
 * with it and a search would say "No matches" instead.
 */
export function pathGlobMatcher(globs: readonly string[]): (path: string) => boolean {
  checkPathGlobs(globs);
  return picomatch([...globs], { dot: true });
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
