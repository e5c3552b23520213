import type { PointSummary } from '../schemas';

/**
 * The point a point's change is shown against (`points`: listed, newest first): its parent while that is
 * listed; otherwise the listed point before it, as the change index and a file's history read them, so
 * a point whose parent clean-up removed does not show every file it holds as added, and a first point
 * below which a moved folder's or a bundle's history was added shows what changed since that history.
 * `undefined` for the oldest listed point without its parent: its change is against nothing.
 */
export function pointBase(points: readonly PointSummary[], point: PointSummary): PointSummary | undefined {
  if (point.parentId !== null) {
    const parent = points.find((p) => p.id === point.parentId);
    if (parent) return parent;
  }
  const at = points.findIndex((p) => p.id === point.id);
  return at < 0 ? undefined : points[at + 1];
}

/** `pointBase` of every listed point, by id (one pass, for callers that go through them all). */
export function pointBases(points: readonly PointSummary[]): Map<string, PointSummary | undefined> {
  const byId = new Map(points.map((p) => [p.id, p]));
  return new Map(points.map((point, i) => [point.id, (point.parentId !== null ? byId.get(point.parentId) : undefined) ?? points[i + 1]]));
}

/** Whether `base` (the point's `pointBase`) is another point than the one the point was made after (its recorded counts then describe a change no longer shown). */
export function isShownAgainstAnother(point: PointSummary, base: PointSummary | undefined): boolean {
  return base?.id !== (point.parentId ?? undefined);
}
