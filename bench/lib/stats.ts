/** Summaries of timing and size samples. */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly samples: number[];
}

export function summarize(samples: readonly number[]): Summary | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    n: sorted.length,
    median,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    samples: samples.map((x) => round(x, 3)),
  };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** 1234.5 → "1,235", 12.34 → "12.3", 0.123 → "0.12". */
export function num(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 100) return Math.round(x).toLocaleString('en-US');
  if (abs >= 10) return x.toFixed(1);
  if (abs >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

export function fmtSummary(s: Summary | null, unit: string): string {
  if (!s) return '—';
  if (s.n === 1) return `${num(s.median)} ${unit}`;
  return `${num(s.median)} ${unit} (${num(s.min)}–${num(s.max)})`;
}

export function ratio(ours: Summary | null, git: Summary | null): number | null {
  if (!ours || !git || git.median === 0) return null;
  return ours.median / git.median;
}

export function fmtRatio(r: number | null): string {
  if (r === null) return '—';
  if (r >= 1) return `${r.toFixed(2)}×`;
  return `${r.toFixed(r < 0.1 ? 3 : 2)}× (git/ours ${(1 / r).toFixed(1)}×)`;
}

export const MB = 1024 * 1024;
