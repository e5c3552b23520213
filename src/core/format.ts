/** Wording shared by the command-line tool and the extension. */

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatRelativeTime(time: number, now = Date.now()): string {
  const seconds = Math.round((now - time) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 30) return days === 1 ? 'yesterday' : `${days} days ago`;
  return new Date(time).toISOString().slice(0, 10);
}

/** "1 file", "2 files", "1,200 points": a count with its noun, singular for exactly one. */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${groupDigits(count)} ${count === 1 ? noun : pluralNoun}`;
}

/**
 * A whole number as `toLocaleString('en-US')` writes it ("12,345"), without starting the locale
 * machinery: its first use costs a fresh process (the command-line tool, an agent's hook) 10–30 ms.
 */
export function groupDigits(count: number): string {
  if (!Number.isSafeInteger(count)) return count.toLocaleString('en-US');
  const digits = String(Math.abs(count));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = grouped.length; i < digits.length; i += 3) grouped += `,${digits.slice(i, i + 3)}`;
  return count < 0 ? `-${grouped}` : grouped;
}

/** `+A ~M −D` */
export function formatChangeCounts(changes: { added: number; modified: number; deleted: number }): string {
  return `+${changes.added} ~${changes.modified} \u2212${changes.deleted}`;
}
