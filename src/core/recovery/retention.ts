import { pointTime } from '../ids';
import type { PointSummary } from '../schemas';

export interface RetentionPolicy {
  /** The spec's maxRecoveryPoints: unlabelled points beyond this count are removed, oldest first. */
  readonly maxRecoveryPoints: number;
  /** Unlabelled points older than this are removed (0: no age limit). */
  readonly maxAgeDays: number;
  /** The store is kept under this size by removing the oldest unlabelled points (0: no size limit). */
  readonly maxTotalBytes: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { maxRecoveryPoints: 500, maxAgeDays: 30, maxTotalBytes: 2 * 1024 ** 3 };

/**
 * Thinning: every point of the last hour is kept; older ones are thinned to the newest in each bucket —
 * 10 minutes up to a day old, 1 hour up to a week, 1 day beyond.
 */
const HOUR = 3_600_000;
const THINNING: ReadonlyArray<{ readonly olderThan: number; readonly bucket: number }> = [
  { olderThan: 7 * 24 * HOUR, bucket: 24 * HOUR },
  { olderThan: 24 * HOUR, bucket: HOUR },
  { olderThan: HOUR, bucket: 10 * 60_000 },
];

/**
 * A point clean-up never removes: one a person labelled. An agent's hook labels each turn's point
 * ("Claude Code turn: …") so a turn can be found and undone, but an agent starts dozens of turns a
 * day: those points are thinned like every automatic point unless a person labels them otherwise.
 */
export function isPinned(point: Pick<PointSummary, 'label' | 'trigger' | 'agent'>): boolean {
  if (point.label === null) return false;
  return !(point.trigger === 'agent' && point.agent !== undefined && point.label.startsWith(`${point.agent} turn`));
}

export interface RetentionDecision {
  readonly remove: ReadonlyArray<{ readonly id: string; readonly reason: 'thinned' | 'age' | 'count' | 'size' }>;
  readonly keep: readonly string[];
}

/**
 * Which points clean-up removes by thinning, age and count. Pinned points (`isPinned`), the newest point and
 * `protectedIds` (the safety point of the last restore) are never removed. The size limit is applied
 * afterwards to what this keeps (`applySizeLimit`), since sizes depend on which points remain.
 */
export function decideRetention(
  points: readonly PointSummary[],
  policy: RetentionPolicy,
  now: number,
  protectedIds: ReadonlySet<string> = new Set(),
): RetentionDecision {
  const newestFirst = [...points].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const isExempt = (p: PointSummary, index: number) => index === 0 || isPinned(p) || protectedIds.has(p.id);
  const remove = new Map<string, 'thinned' | 'age' | 'count' | 'size'>();
  const seenBuckets = new Set<string>();
  newestFirst.forEach((point, index) => {
    const age = now - pointTime(point);
    const rule = THINNING.find((r) => age > r.olderThan);
    if (!rule) return;
    const bucket = `${rule.bucket}:${Math.floor(pointTime(point) / rule.bucket)}`;
    if (seenBuckets.has(bucket) && !isExempt(point, index)) remove.set(point.id, 'thinned');
    seenBuckets.add(bucket);
  });
  if (policy.maxAgeDays > 0) {
    newestFirst.forEach((point, index) => {
      if (!remove.has(point.id) && !isExempt(point, index) && now - pointTime(point) > policy.maxAgeDays * 24 * HOUR) remove.set(point.id, 'age');
    });
  }
  let kept = 0;
  newestFirst.forEach((point, index) => {
    if (remove.has(point.id)) return;
    if (isExempt(point, index)) return;
    if (++kept > Math.max(0, policy.maxRecoveryPoints - countExempt(newestFirst, isExempt))) remove.set(point.id, 'count');
  });
  return {
    remove: [...remove].map(([id, reason]) => ({ id, reason })),
    keep: newestFirst.filter((p) => !remove.has(p.id)).map((p) => p.id),
  };
}

function countExempt(points: readonly PointSummary[], isExempt: (p: PointSummary, index: number) => boolean): number {
  return points.filter((p, i) => isExempt(p, i)).length;
}

/**
 * The size limit: `cumulativeBytes[i]` is the store size needed to keep `kept[0..i]` (newest first).
 * Unpinned, unprotected points from the first one past the limit onwards are removed; the newest is always kept.
 */
export function applySizeLimit(
  kept: readonly PointSummary[],
  cumulativeBytes: readonly number[],
  maxTotalBytes: number,
  protectedIds: ReadonlySet<string> = new Set(),
): string[] {
  if (maxTotalBytes <= 0) return [];
  const index = cumulativeBytes.findIndex((bytes) => bytes > maxTotalBytes);
  if (index < 0) return [];
  return kept.slice(Math.max(1, index)).filter((p) => !isPinned(p) && !protectedIds.has(p.id)).map((p) => p.id);
}
