import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE, replaceLink } from '../documents';
import { ioError } from '../errors';
import { auditEntrySchema, type AuditEntry } from '../schemas';
import { isPointId } from './pointSummaryCheck';

/**
 * Append-only record of every state change, one JSON line each. Lines are appended with O_APPEND in a
 * single write, so concurrent writers never interleave within a line; a torn last line (a crash) is skipped on read.
 */
export class AuditLog {
  private folderReady = false;

  constructor(
    readonly file: string,
    private readonly actor: string,
  ) {}

  async append(entry: Omit<AuditEntry, 'at' | 'actor'> & { at?: string; actor?: string }): Promise<void> {
    const full: AuditEntry = { at: entry.at ?? new Date().toISOString(), actor: entry.actor ?? this.actor, action: entry.action };
    if (entry.pointId) full.pointId = entry.pointId;
    if (entry.details) full.details = entry.details;
    const line = auditLine(full);
    try {
      if (!this.folderReady) {
        await ensurePrivateDir(path.dirname(this.file));
        this.folderReady = true;
      }
      // One small synchronous append: on the save path a thread-pool round trip costs more than the write.
      appendLine(this.file, line);
    } catch (error) {
      this.folderReady = false;
      throw ioError(`write the audit log ${this.file}`, error);
    }
  }

  /** Every valid entry, oldest first. */
  async read(): Promise<AuditEntry[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(`read the audit log ${this.file}`, error);
    }
    const entries: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const parsed = auditEntrySchema.safeParse(JSON.parse(line));
        if (parsed.success) entries.push(parsed.data);
      } catch {
        // a torn line from a crash mid-append
      }
    }
    return entries;
  }
}

/**
 * An entry's line, checked as `auditEntrySchema` checks it. zod's pass cost 0.3–0.7 ms of a one-file
 * point (measured in the point: the `details` record's recursive JSON-value schema); the common entry
 * (its `details` flat strings, finite numbers, booleans and nulls) is checked by hand, stricter than or
 * equal to the schema, and anything else is left to zod, which refuses it in words or strips extras.
 */
export function auditLine(entry: AuditEntry): string {
  return `${JSON.stringify(isPlainAuditEntry(entry) ? entry : auditEntrySchema.parse(entry))}\n`;
}

let auditActions: ReadonlySet<string> | undefined;

function isPlainAuditEntry(entry: AuditEntry): boolean {
  if (Object.getPrototypeOf(entry) !== Object.prototype) return false;
  for (const key in entry) if (key !== 'at' && key !== 'actor' && key !== 'action' && key !== 'pointId' && key !== 'details') return false;
  auditActions ??= new Set(auditEntrySchema.shape.action.options);
  const { at, actor, action, pointId, details } = entry as Record<string, unknown>;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || typeof actor !== 'string' || typeof action !== 'string' || !auditActions.has(action)) return false;
  if (pointId !== undefined && !isPointId(pointId)) return false;
  if (details === undefined) return !('details' in entry);
  if (typeof details !== 'object' || details === null || Object.getPrototypeOf(details) !== Object.prototype) return false;
  for (const value of Object.values(details)) {
    if (!(typeof value === 'string' || typeof value === 'boolean' || value === null || (typeof value === 'number' && Number.isFinite(value)))) return false;
  }
  return true;
}

/**
 * Appends one line with O_APPEND. After a torn last line (a crash mid-append) it starts a new line, or
 * this entry would be torn too.
 */
function appendLine(file: string, line: string): void {
  replaceLink(file);
  const fd = fsSync.openSync(file, 'a+', PRIVATE_FILE_MODE);
  try {
    const { size } = fsSync.fstatSync(fd);
    let text = line;
    if (size > 0) {
      const last = Buffer.alloc(1);
      fsSync.readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) text = `
${line}`;
    }
    fsSync.writeSync(fd, text);
  } finally {
    fsSync.closeSync(fd);
  }
}
