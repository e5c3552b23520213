import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../documents';
import { ioError } from '../errors';
import { auditEntrySchema, type AuditEntry } from '../schemas';

/**
 * Append-only record of every state change, one JSON line each. Lines are appended with O_APPEND in a
 * single write, so concurrent writers never interleave within a line; a torn last line (a crash) is skipped on read.
 */
export class AuditLog {
  constructor(
    readonly file: string,
    private readonly actor: string,
  ) {}

  async append(entry: Omit<AuditEntry, 'at' | 'actor'> & { at?: string; actor?: string }): Promise<void> {
    const full: AuditEntry = { at: entry.at ?? new Date().toISOString(), actor: entry.actor ?? this.actor, action: entry.action };
    if (entry.pointId) full.pointId = entry.pointId;
    if (entry.details) full.details = entry.details;
    try {
      await ensurePrivateDir(path.dirname(this.file));
      const line = `${JSON.stringify(auditEntrySchema.parse(full))}\n`;
      // After a torn last line (a crash mid-append) start a new line, or this entry would be torn too.
      await fs.appendFile(this.file, (await endsMidLine(this.file)) ? `\n${line}` : line, { mode: PRIVATE_FILE_MODE });
    } catch (error) {
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

async function endsMidLine(file: string): Promise<boolean> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}
