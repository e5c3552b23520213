import { CHANGE_INDEX_VERSION, type ChangeIndexBody } from '../schemas';

/**
 * A hand-written check of a change index document (`changeIndexSchema` in schemas.ts) for the common
 * case of a valid one: in a fresh process, zod's first pass over it cost more than reading it (the
 * schema's parts are built on first use). It is stricter than or equal to the schema, and whatever it
 * does not accept is checked by zod, which words the error or strips the extra keys: a document is
 * accepted or refused exactly as by zod alone. test/core/changeIndexCheck.test.ts holds the two to each other.
 */
export interface ChangeIndexDocument {
  readonly schemaVersion: typeof CHANGE_INDEX_VERSION;
  readonly checksum: string;
  readonly body: ChangeIndexBody;
}

const HASH = /^[0-9a-f]{64}$/;
const COLUMNS: ReadonlyArray<readonly [keyof ChangeIndexBody, RegExp | undefined]> = [
  ['tos', /^[0-9a-f]*$/],
  ['froms', /^[0-9a-f-]*$/],
  ['counts', /^(?:\d+(?:,\d+)*)?$/],
  ['ops', /^[amd]*$/],
  ['paths', undefined],
  ['kinds', /^[fl]*$/],
  ['hashes', /^[0-9a-f]*$/],
  ['sizes', /^(?:\d+(?:,\d+)*)?$/],
  ['modes', /^(?:\d{1,4}(?:,\d{1,4})*)?$/],
  ['folderRoots', /^[0-9a-f]*$/],
  ['folderNames', undefined],
  ['lineHashes', /^[0-9a-f-]*$/],
  ['lineCounts', /^(?:[01],\d+,\d+(?:,[01],\d+,\d+)*)?$/],
];
const NO_HASH = '-'.repeat(64);

/** Characters of a column tested against its pattern at once by the stepped check. */
const STEP_CHARACTERS = 64 * 1024;
/** Columns whose pattern is one character class (`^[…]*$`): any piece of one matches when the whole does. */
const CHARACTER_CLASS = /^\^\[[^\]]+\]\*\$$/;

/** A document zod would accept as it is (no key to strip). `false`: not sure, ask zod. */
export function isChangeIndexDocument(value: unknown): value is ChangeIndexDocument {
  const steps = checkSteps(value);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `isChangeIndexDocument` in steps, `pause` awaited between them (a column, or 64k characters of a long
 * one): a document of a first point of 10,000 files held the thread for 10 ms when checked in one go.
 */
export async function checkChangeIndexDocument(value: unknown, pause: () => Promise<void>): Promise<boolean> {
  const steps = checkSteps(value);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pause();
  }
}

/** The check, yielding where the stepped one may give the event loop a turn. */
function* checkSteps(value: unknown): Generator<void, boolean> {
  if (!isRecord(value) || !hasOnlyKeys(value, 3)) return false;
  const v = value as Record<string, unknown>;
  if (v.schemaVersion !== CHANGE_INDEX_VERSION || typeof v.checksum !== 'string' || !HASH.test(v.checksum)) return false;
  const body = v.body;
  if (!isRecord(body) || !hasOnlyKeys(body, COLUMNS.length)) return false;
  const b = body as Record<string, unknown>;
  for (const [key, pattern] of COLUMNS) {
    const column = b[key];
    if (typeof column !== 'string') return false;
    if (!pattern) continue;
    if (!CHARACTER_CLASS.test(pattern.source) || column.length <= STEP_CHARACTERS) {
      if (!pattern.test(column)) return false;
      yield;
      continue;
    }
    for (let at = 0; at < column.length; at += STEP_CHARACTERS) {
      if (!pattern.test(column.slice(at, at + STEP_CHARACTERS))) return false;
      yield;
    }
  }
  return columnsMatch(body as ChangeIndexBody);
}

/** The schema's `refine`: the columns' lengths agree with each other. */
function columnsMatch(b: ChangeIndexBody): boolean {
  if (!hashBlocks(b.tos) || !hashBlocks(b.froms) || !hashBlocks(b.hashes) || !hashBlocks(b.folderRoots) || !hashBlocks(b.lineHashes)) return false;
  const pairs = b.tos.length / 64;
  if (b.froms.length !== b.tos.length || count(b.counts, ',') !== pairs) return false;
  let changes = 0;
  if (b.counts !== '') for (const n of b.counts.split(',')) changes += Number(n);
  if (changes !== b.ops.length) return false;
  let entries = 0;
  for (let i = 0; i < b.ops.length; i++) entries += b.ops.charCodeAt(i) === 109 /* m */ ? 2 : 1;
  if (count(b.paths, '\0') !== b.ops.length || b.kinds.length !== entries || b.hashes.length !== entries * 64) return false;
  if (count(b.sizes, ',') !== entries || count(b.modes, ',') !== entries) return false;
  if (b.folderRoots.length / 64 !== (b.folderRoots === '' ? 0 : count(b.folderNames, '\0', 1))) return false;
  return b.lineHashes.length % 128 === 0 && count(b.lineCounts, ',') === (b.lineHashes.length / 128) * 3;
}

/** Pieces of `text` split at `separator` (`empty` for an empty text), counted without splitting. */
function count(text: string, separator: string, empty = 0): number {
  if (text === '') return empty;
  let n = 1;
  for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, at + 1)) n++;
  return n;
}

/** 64-character blocks, each a hash or all `-` (a `-` elsewhere is refused). */
function hashBlocks(text: string): boolean {
  if (text.length % 64 !== 0) return false;
  for (let at = text.indexOf('-'); at !== -1; at = text.indexOf('-', at - (at % 64) + 64)) {
    if (text.slice(at - (at % 64), at - (at % 64) + 64) !== NO_HASH) return false;
  }
  return true;
}

function isRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** The record has `n` keys, none but its schema's (the caller checks each by name). */
function hasOnlyKeys(value: object, n: number): boolean {
  let keys = 0;
  for (const _key in value) keys++;
  return keys === n;
}
