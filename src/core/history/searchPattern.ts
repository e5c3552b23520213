import { isUtf8 } from 'node:buffer';
import { StateError } from '../errors';

export interface PatternOptions {
  /** A JavaScript regular expression instead of plain text. */
  readonly regex?: boolean;
  /** Tell upper from lower case (off by default, as in VS Code's search). */
  readonly caseSensitive?: boolean;
}

/** One line of a file version that matches, numbered from 1; `ranges` are the matches in `preview`. */
export interface LineMatch {
  readonly line: number;
  /** Where the first match starts in the whole line (UTF-16 code units, from 0), and its length. */
  readonly column: number;
  readonly length: number;
  /** The line, shortened around the first match when it is long; without its line break. */
  readonly preview: string;
  readonly ranges: ReadonlyArray<readonly [number, number]>;
}

/** Characters JavaScript's `m` flag ends a line at that end no line here, and the private-use characters that stand for them while matching. */
const STAND_INS = new Map([
  ['\r', '\uE00D'],
  ['\u2028', '\uE028'],
  ['\u2029', '\uE029'],
]);
const ORIGINALS = new Map([...STAND_INS].map(([original, standIn]) => [standIn, original]));
const NOT_LINE_ENDS = /[\r\u2028\u2029]/;
const NOT_LINE_ENDS_ALL = /[\r\u2028\u2029]/g;
const STAND_IN_TEST = /[\uE00D\uE028\uE029]/;
const STAND_INS_ALL = /[\uE00D\uE028\uE029]/g;

/** The longest pattern searched for (the agents' tools refuse longer ones too). */
export const MAX_PATTERN_LENGTH = 1000;

/** How many bytes are looked at for a NUL to call content binary (git's `buffer_is_binary`). */
const BINARY_PROBE = 8000;
const PREVIEW_BEFORE = 60;
const PREVIEW_LENGTH = 300;

/** A compiled search: finds the matching lines of one file version. */
export class SearchPattern {
  private readonly regex: RegExp;
  /** For plain case-sensitive text: the bytes to look for before decoding anything. */
  private readonly needle: Buffer | undefined;
  /**
   * For plain text of ASCII characters only, any case: the same search over the bytes read as
   * Latin-1 (one character per byte, no UTF-8 decoding) tells whether a version can match. Without
   * the `u` flag a character outside ASCII never matches an ASCII one in any case, and in UTF-8 a
   * byte below 128 is always that ASCII character, so both find matches at the same places.
   */
  private readonly asciiProbe: RegExp | undefined;
  /** For plain case-sensitive text outside ASCII that Latin-1 can write: its bytes in a file that is not UTF-8. */
  private readonly latin1Needle: Buffer | undefined;

  constructor(
    readonly source: string,
    options: PatternOptions = {},
  ) {
    if (source.length === 0) throw StateError.invalidState('Give the text to search for.');
    if (source.length > MAX_PATTERN_LENGTH && [...source].length > MAX_PATTERN_LENGTH) throw StateError.invalidState(`A search pattern is at most ${MAX_PATTERN_LENGTH} characters.`);
    const flags = `gm${options.caseSensitive ? '' : 'i'}`;
    try {
      // Unicode mode first, for `\p{L}` and `.` over any character; a pattern only the older mode takes (`\-`, `\a`) is read in it
      this.regex = options.regex ? unicodeOrNot(source, flags) : new RegExp(escapeRegExp(source), flags);
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
      throw StateError.invalidState(`"${source}" is not a valid regular expression (${reason}).`, error);
    }
    this.needle = !options.regex && options.caseSensitive ? Buffer.from(source, 'utf8') : undefined;
    this.latin1Needle = this.needle && this.needle.length !== source.length && [...source].every((c) => c.charCodeAt(0) <= 0xff) ? Buffer.from(source, 'latin1') : undefined;
    this.asciiProbe = !options.regex && !options.caseSensitive && Buffer.byteLength(source) === source.length /* ASCII only */ ? new RegExp(escapeRegExp(source), 'i') : undefined;
  }

  /**
   * Whether `content` (without a UTF-16 byte order mark) may match: false only when it cannot, judged
   * on its bytes. The ASCII probe holds for UTF-8 and Latin-1 alike (an ASCII character is one byte of
   * its value in both).
   */
  private mayMatch(content: Buffer): boolean {
    if (this.needle) return content.indexOf(this.needle) >= 0 || (this.latin1Needle !== undefined && content.indexOf(this.latin1Needle) >= 0 && !isUtf8(content));
    if (this.asciiProbe) return this.asciiProbe.test(content.toString('latin1'));
    return true;
  }

  /** The matching lines of `content` (at most `maxLines`; `more` says some were left), or `undefined` when nothing matches. */
  matchLines(content: Buffer, maxLines: number): { lines: LineMatch[]; more: boolean } | undefined {
    const utf16 = utf16Of(content);
    if (!utf16 && !this.mayMatch(content)) return undefined;
    const decoded = utf16 ? decodeUtf16(content, utf16) : decodeText(content);
    // a CRLF ends one line: `m`'s `^` and `$` would also match between its two characters; a lone CR,
    // U+2028 and U+2029 end none (as lines are counted), though `m` takes them for line ends
    const crlf = decoded.includes('\r\n') ? decoded.replace(/\r\n/g, '\n') : decoded;
    const text = NOT_LINE_ENDS.test(crlf) ? crlf.replace(NOT_LINE_ENDS_ALL, (c) => STAND_INS.get(c)!) : crlf;
    const regex = this.regex;
    regex.lastIndex = 0;
    let match = regex.exec(text);
    if (!match) return undefined;
    const lines: LineMatch[] = [];
    let lineNumber = 1;
    let counted = 0; // newlines before this offset are counted in lineNumber
    let current: { line: number; start: number; end: number; ranges: Array<[number, number]> } | undefined;
    const finish = () => {
      if (current) lines.push(toLineMatch(text, current.start, current.end, current.line, current.ranges));
    };
    while (match) {
      const at = match.index;
      // the end of a text that ends with a line break (or of an empty one) starts no line: `^$` matches none there
      if (at === text.length && match[0].length === 0 && (at === 0 || text.charCodeAt(at - 1) === 10)) break;
      if (!current || at >= current.end) {
        finish();
        if (lines.length >= maxLines) return { lines, more: true };
        for (let nl = text.indexOf('\n', counted); nl >= 0 && nl < at; nl = text.indexOf('\n', nl + 1)) {
          lineNumber++;
          counted = nl + 1;
        }
        const start = text.lastIndexOf('\n', at - 1) + 1;
        const newline = text.indexOf('\n', at);
        current = { line: lineNumber, start, end: newline < 0 ? text.length : newline, ranges: [] };
      }
      current.ranges.push([at - current.start, Math.min(at + match[0].length, current.end) - current.start]);
      if (match[0].length === 0) regex.lastIndex++;
      match = regex.exec(text);
    }
    finish();
    return lines.length === 0 ? undefined : { lines, more: false };
  }
}

/**
 * Content with a NUL byte in its first 8,000 bytes is binary and not searched, as git decides; text
 * that starts with a UTF-16 byte order mark (as Windows tools write it) is text, as editors read it.
 */
export function isBinaryContent(content: Buffer): boolean {
  if (utf16Of(content)) return false;
  const probe = content.subarray(0, BINARY_PROBE);
  return probe.indexOf(0) >= 0;
}

/** The UTF-16 byte order its byte order mark names, if it starts with one. */
function utf16Of(content: Buffer): 'le' | 'be' | undefined {
  if (content.length < 2) return undefined;
  if (content[0] === 0xff && content[1] === 0xfe) return 'le';
  if (content[0] === 0xfe && content[1] === 0xff) return 'be';
  return undefined;
}

function decodeUtf16(content: Buffer, order: 'le' | 'be'): string {
  const body = content.subarray(2, content.length - (content.length % 2));
  return (order === 'le' ? body : Buffer.from(body).swap16()).toString('utf16le');
}

/**
 * UTF-8 text without its byte order mark; bytes that are not UTF-8 are read as Latin-1 (a file
 * written in an older one-byte encoding: "café" is found in it, where UTF-8 decoding would make
 * each such byte a replacement character).
 */
function decodeText(content: Buffer): string {
  if (content.length >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf) return content.toString('utf8', 3);
  return isUtf8(content) ? content.toString('utf8') : content.toString('latin1');
}

function toLineMatch(text: string, start: number, end: number, line: number, ranges: Array<[number, number]>): LineMatch {
  const lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end; // CRLF
  const sliced = text.slice(start, lineEnd);
  const whole = STAND_IN_TEST.test(sliced) ? sliced.replace(STAND_INS_ALL, (c) => ORIGINALS.get(c)!) : sliced;
  const [column, firstEnd] = ranges[0]!;
  const cut = whole.length > PREVIEW_LENGTH && column > PREVIEW_BEFORE ? column - PREVIEW_BEFORE : 0;
  const preview = (cut > 0 ? '…' : '') + whole.slice(cut, cut + PREVIEW_LENGTH) + (whole.length > cut + PREVIEW_LENGTH ? '…' : '');
  const shift = cut > 0 ? 1 - cut : 0;
  const shown = ranges
    .map(([s, e]) => [Math.max(0, s + shift), Math.min(e, lineEnd - start) + shift] as [number, number])
    .filter(([s, e]) => s >= 0 && e <= preview.length && s <= e);
  return { line, column, length: Math.min(firstEnd, lineEnd - start) - column, preview, ranges: shown };
}

function unicodeOrNot(source: string, flags: string): RegExp {
  try {
    return new RegExp(source, `${flags}u`);
  } catch {
    return new RegExp(source, flags);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
