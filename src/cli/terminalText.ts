/**
 * Control characters (C0, DEL, C1) and the Unicode marks that reorder or hide text (bidirectional
 * overrides and isolates, zero-width marks, line and paragraph separators): printed raw, a file name
 * or label holding them could move the cursor, rewrite earlier lines or hide what follows.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

/** `text` with every control character written as an escape (`\n`, `\e`, `\x07`, `\u202e`), safe to print on a terminal. */
export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
