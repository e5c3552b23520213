import { randomHex } from './randomHex';

let lastMillis = 0;

/** A new point id that sorts by creation time: `20261125T150842123Z-a1b2c3`; strictly increasing within a process. */
export function newPointId(now = Date.now()): string {
  const millis = Math.max(now, lastMillis + 1);
  lastMillis = millis;
  const stamp = new Date(millis).toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomHex(3)}`;
}

/** The creation time encoded in a point id. */
export function pointIdTime(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!) : Number.NaN;
}

/**
 * The listed points (newest first) a reference names: `latest`, the newest; otherwise every point whose
 * id, or the id's last part (after the "-", as people copy it), starts with it; when no id does, the
 * points labelled with exactly it. One match names a point.
 */
export function pointsNamedBy<P extends { readonly id: string; readonly label?: string | null }>(points: readonly P[], ref: string): P[] {
  if (ref === 'latest') return points.slice(0, 1);
  // "" (an unset variable in a script) would be a prefix of every id
  if (ref === '') return [];
  const byId = points.filter((p) => p.id.startsWith(ref) || p.id.slice(p.id.lastIndexOf('-') + 1).startsWith(ref));
  return byId.length > 0 ? byId : points.filter((p) => p.label === ref);
}

/** Why `ref` names no single point, when it names `matches` (two or more). */
export function ambiguousRef(ref: string, matches: readonly { readonly id: string; readonly label?: string | null }[]): string {
  const ids = matches.slice(0, 3).map((p) => p.id.slice(p.id.lastIndexOf('-') + 1));
  const more = matches.length > 3 ? ', …' : '';
  return matches.every((p) => p.label === ref) && !matches.some((p) => p.id.startsWith(ref))
    ? `${matches.length} points are labelled "${ref}" (${ids.join(', ')}${more}); give the id of one.`
    : `"${ref}" matches ${matches.length} points (${ids.join(', ')}${more}); give more of the id.`;
}
