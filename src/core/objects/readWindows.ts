/** Where a record's stored bytes are: its pack, and the span of the pack they take. */
export interface RecordSpan {
  readonly pack: string;
  readonly offset: number;
  readonly storedSize: number;
}

/** A span of a pack read at once, shared by the records in it. */
export interface ReadWindow {
  readonly pack: string;
  readonly start: number;
  length: number;
  /** Records not yet taken from it; its bytes are dropped at zero. */
  remaining: number;
  data?: Promise<Buffer>;
}

/**
 * The window each record is read from (the result is parallel to `records`): records taken in pack
 * and offset order share a window while it stays within `maxBytes` and the bytes skipped between two
 * of them stay within `maxGap`. A record larger than `maxBytes` has a window of its own.
 */
export function planReadWindows(records: readonly RecordSpan[], maxBytes: number, maxGap = Infinity): ReadWindow[] {
  const order = records.map((_, i) => i).sort((a, b) => {
    const x = records[a]!;
    const y = records[b]!;
    return x.pack < y.pack ? -1 : x.pack > y.pack ? 1 : x.offset - y.offset;
  });
  const windows: ReadWindow[] = new Array<ReadWindow>(records.length);
  let current: ReadWindow | undefined;
  for (const i of order) {
    const record = records[i]!;
    const end = record.offset + record.storedSize;
    if (!current || current.pack !== record.pack || end - current.start > maxBytes || record.offset - (current.start + current.length) > maxGap) {
      current = { pack: record.pack, start: record.offset, length: 0, remaining: 0 };
    }
    current.length = Math.max(current.length, end - current.start);
    current.remaining++;
    windows[i] = current;
  }
  return windows;
}
