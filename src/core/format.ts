import type { ChangeCounts } from './schemas';

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

/** A point's counts with files that stopped or began being tracked told apart (`ChangeCounts`' `untracked` and `nowTracked`). */
export interface TrackingCounts {
  readonly added: number;
  readonly modified: number;
  readonly deleted: number;
  /** Files still on disk that the point stopped tracking (a `.gitignore` line added). */
  readonly noLongerTracked?: number;
  /** Files already on disk that the point began tracking (a `.gitignore` line taken out). */
  readonly nowTracked?: number;
}

/** The counts as JSON gives them (`list --json`, the agents' points), like the lists of a point's files: `noLongerTracked` and `nowTracked` are how many of `deleted` and `added` only stopped or began being tracked. */
export function countsAsJson(changes: ChangeCounts): TrackingCounts {
  return {
    added: changes.added,
    modified: changes.modified,
    deleted: changes.deleted,
    ...(changes.untracked ? { noLongerTracked: changes.untracked } : {}),
    ...(changes.nowTracked ? { nowTracked: changes.nowTracked } : {}),
  };
}

/** The counts as people read them: "added" and "deleted" only for files created and deleted, the others apart. */
export function shownCounts(changes: ChangeCounts): TrackingCounts {
  const stopped = Math.min(changes.untracked ?? 0, changes.deleted);
  const started = Math.min(changes.nowTracked ?? 0, changes.added);
  return {
    added: changes.added - started,
    modified: changes.modified,
    deleted: changes.deleted - stopped,
    ...(stopped > 0 ? { noLongerTracked: stopped } : {}),
    ...(started > 0 ? { nowTracked: started } : {}),
  };
}

/** `+A ~M −D`, then how many files stopped or began being tracked, when some did: `+1 ~0 −0, 3 no longer tracked` */
export function formatChangeCounts(changes: ChangeCounts): string {
  const shown = shownCounts(changes);
  const tracking = [...(shown.noLongerTracked ? [`${shown.noLongerTracked} no longer tracked`] : []), ...(shown.nowTracked ? [`${shown.nowTracked} now tracked`] : [])];
  return `+${shown.added} ~${shown.modified} \u2212${shown.deleted}${tracking.map((t) => `, ${t}`).join('')}`;
}
