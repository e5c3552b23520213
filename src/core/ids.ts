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
 * id, or the id's last part (after the "-", as people copy it), starts with it. One match names a point.
 */
export function pointsNamedBy<P extends { readonly id: string }>(points: readonly P[], ref: string): P[] {
  if (ref === 'latest') return points.slice(0, 1);
  // "" (an unset variable in a script) would be a prefix of every id
  if (ref === '') return [];
  return points.filter((p) => p.id.startsWith(ref) || p.id.slice(p.id.lastIndexOf('-') + 1).startsWith(ref));
}
