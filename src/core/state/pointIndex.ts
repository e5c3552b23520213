import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJournalLines, PRIVATE_FILE_MODE, readDocumentSync, replaceLink, sameStamp, statStampSync, writeDocumentSync, type FileStamp } from '../documents';
import { describeCause, errorCode, ioError } from '../errors';
import type { Logger } from '../logger';
import { pointIndexDocument, pointIndexJournalLineSchema, SCHEMA_VERSION, type PointSummary } from '../schemas';
import { isPointIndex, isPointIndexJournalLine } from './pointSummaryCheck';

/** The journal is folded into the document once it is larger than this, or than an eighth of the document. */
const MIN_JOURNAL_BYTES = 16 * 1024;
/** Largest journal read; a bigger one is not used (the document alone is, and the next write replaces both). */
const MAX_JOURNAL_READ_BYTES = 4 * 1024 * 1024;
/** A journal line: checked by hand, by its schema when the hand-written check is not sure (pointSummaryCheck.ts). */
const journalLine = {
  safeParse: (value: unknown) => (isPointIndexJournalLine(value) ? { success: true as const, data: value } : pointIndexJournalLineSchema.safeParse(value)),
};

interface Loaded {
  readonly document: FileStamp | undefined;
  readonly journal: FileStamp | undefined;
  readonly generation: string | undefined;
  readonly documentPoints: readonly PointSummary[];
  readonly points: PointSummary[];
  readonly documentBytes: number;
  /** A journal line could not be used (torn by a crash, damaged): the next write replaces the journal. */
  readonly damaged: boolean;
  /** Made when first asked for (`manifestNames`), and kept up to date by `append`. */
  manifests?: ManifestNames;
}

/** The manifest file names of the indexed points (`<id>.json`), and whether the points are strictly newest first. */
export interface ManifestNames {
  readonly names: ReadonlySet<string>;
  readonly ordered: boolean;
}

/** `loaded`'s manifest names with `summary` added before its points (the set is taken over, not copied); `undefined`: made again when asked for. */
function withNewest(loaded: Loaded, summary: PointSummary): ManifestNames | undefined {
  const manifests = loaded.manifests;
  const name = `${summary.id}.json`;
  if (!manifests || manifests.names.has(name)) return undefined;
  (manifests.names as Set<string>).add(name);
  const newest = loaded.points[0];
  return { names: manifests.names, ordered: manifests.ordered && (newest === undefined || summary.id > newest.id) };
}

/**
 * The points index, a cache of every point's summary (its reader cross-checks it with the points
 * folder): `points/index.json`, written whole under a new generation, and `points/index.journal`, one
 * line appended per point listed since — so a new point writes one short line instead of every
 * summary again. A line applies only to the document of its generation: a document written whole
 * (a label, a deletion, an older version of the extension, which drops the generation) retires every
 * line before it, even when the journal could not be removed. Neither file is fsynced: a lost or
 * torn line only makes the reader read that point's manifest.
 */
export class PointIndexFile {
  readonly journalFile: string;
  private loaded: Loaded | undefined;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    this.journalFile = path.join(path.dirname(file), 'index.journal');
  }

  /** Every indexed summary, newest first (unordered when equal ids would tie: they cannot). Throws on a damaged document. */
  read(): PointSummary[] {
    return this.load().points;
  }

  /**
   * The manifest names of `points` as `read` returned them (`undefined` when the index was read again
   * since): the points folder is checked against them name by name, without a set of its ids.
   */
  manifestNames(points: readonly PointSummary[]): ManifestNames | undefined {
    const loaded = this.loaded;
    if (!loaded || loaded.points !== points) return undefined;
    if (!loaded.manifests) {
      const names = new Set<string>();
      let ordered = true;
      points.forEach((p, i) => {
        names.add(`${p.id}.json`);
        if (i > 0 && !(points[i - 1]!.id > p.id)) ordered = false;
      });
      loaded.manifests = { names, ordered };
    }
    return loaded.manifests;
  }

  /** Whether a journal line could not be used: the index should be written whole. */
  get damaged(): boolean {
    return this.loaded?.damaged ?? false;
  }

  /** Lists one new point: a line appended to the journal, or the whole document when the journal is long, damaged or of no document. */
  append(summary: PointSummary): void {
    let current: Loaded;
    try {
      current = this.load();
    } catch (error) {
      // a damaged document: written anew with this point; the next listing adds the others from their manifests
      this.logger.warn(`The point index could not be read and is written anew (${describeCause(error)}).`);
      this.write([summary]);
      return;
    }
    // a new point's id is not indexed yet: one copy of the summaries, not a filtered one (~0.1 ms at 2,000 points)
    const points = current.points.some((p) => p.id === summary.id) ? [summary, ...current.points.filter((p) => p.id !== summary.id)] : [summary].concat(current.points);
    const line = `${JSON.stringify({ g: current.generation, add: summary })}\n`;
    const journalBytes = current.journal?.size ?? 0;
    if (current.generation === undefined || current.damaged || journalBytes + Buffer.byteLength(line) > Math.max(MIN_JOURNAL_BYTES, current.documentBytes / 8)) {
      this.write(points);
      return;
    }
    this.loaded = undefined;
    try {
      replaceLink(this.journalFile);
      fs.appendFileSync(this.journalFile, line, { mode: PRIVATE_FILE_MODE });
    } catch (error) {
      throw ioError(`write the point index journal ${this.journalFile}`, error);
    }
    this.loaded = { ...current, journal: statStampSync(this.journalFile), points, manifests: withNewest(current, summary) };
  }

  /** Writes every summary as a new document (a new generation, which retires the journal's lines), then removes the journal. */
  write(points: PointSummary[]): void {
    this.loaded = undefined;
    const generation = randomBytes(8).toString('hex');
    // Summaries come from validated manifests or from points built here: not checked again on every write.
    writeDocumentSync(this.file, pointIndexDocument, { schemaVersion: SCHEMA_VERSION, points, generation }, { durable: false, trusted: true });
    try {
      fs.rmSync(this.journalFile, { force: true });
    } catch (error) {
      this.logger.debug(`The old point index journal was not removed (its lines no longer apply): ${describeCause(error)}`);
    }
    const document = statStampSync(this.file);
    if (document) this.loaded = { document, journal: statStampSync(this.journalFile), generation, documentPoints: points, points, documentBytes: document.size, damaged: false };
  }

  private load(): Loaded {
    const document = statStampSync(this.file);
    const journal = statStampSync(this.journalFile);
    const loaded = this.loaded;
    if (loaded && sameStamp(loaded.document, document) && (journal === undefined ? loaded.journal === undefined : sameStamp(loaded.journal, journal))) return loaded;
    let base: Pick<Loaded, 'document' | 'generation' | 'documentPoints' | 'documentBytes'>;
    if (loaded && document && sameStamp(loaded.document, document)) {
      base = loaded;
    } else {
      const read = document && readDocumentSync(this.file, pointIndexDocument, isPointIndex);
      base = read
        ? { document: read.stamp, generation: read.value.generation, documentPoints: read.value.points, documentBytes: read.stamp.size }
        : { document: undefined, generation: undefined, documentPoints: [], documentBytes: 0 };
    }
    const { added, damaged } = this.readJournal(journal, base.generation);
    const byId = new Map(base.documentPoints.map((p) => [p.id, p]));
    for (const summary of added) byId.set(summary.id, summary);
    const points = [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    // `base` may be the loaded index itself: its manifest names are of its own points
    this.loaded = { ...base, journal, points, damaged, manifests: undefined };
    return this.loaded;
  }

  /** The journal's lines of `generation`, in order; lines of other generations are passed over. */
  private readJournal(journal: FileStamp | undefined, generation: string | undefined): { added: PointSummary[]; damaged: boolean } {
    if (journal === undefined || generation === undefined) return { added: [], damaged: false };
    let text: string;
    try {
      if (journal.size > MAX_JOURNAL_READ_BYTES) throw new Error(`it is ${journal.size} bytes`);
      text = fs.readFileSync(this.journalFile, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { added: [], damaged: false };
      this.logger.warn(`The point index journal ${this.journalFile} is not used (${describeCause(error)}); the points it lists are read from their manifests.`);
      return { added: [], damaged: true };
    }
    // a torn line (a crash while appending): that point's manifest is read instead
    const { lines, unreadable } = parseJournalLines(text, journalLine);
    const added = lines.filter((line) => line.g === generation).map((line) => line.add);
    const damaged = unreadable > 0;
    return { added, damaged };
  }
}
