import { randomHex } from './randomHex';

let lastMillis = 0;

/** A new point id that sorts by creation time: `20261125T150842123Z-a1b2c3`; strictly increasing within a process. */
export function newPointId(now = Date.now()): string {
  const millis = Math.max(now, lastMillis + 1);
  lastMillis = millis;
  const stamp = new Date(millis).toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomHex(3)}`;
}

/** The time encoded in a point id: its order among the points, and its creation time while the clock never went back. */
export function pointIdTime(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!) : Number.NaN;
}

/**
 * When a point was made, by the clock of the process that made it. A point's id is later than its
 * parent's even when the clock went back: after a point made while the clock ran ahead (a machine
 * that booted hours ahead until its time was set), the points that follow carry ids of that time,
 * milliseconds apart, for as long as it was ahead. Ages, buckets and times shown come from here.
 */
export function pointTime(point: { readonly id: string; readonly createdAt: string }): number {
  const made = Date.parse(point.createdAt);
  return Number.isNaN(made) ? pointIdTime(point.id) : made;
}

type Named = { readonly id: string; readonly label?: string | null };

/**
 * The listed points (newest first) a reference names: `latest`, the newest; otherwise every point whose
 * id, or the id's last part (after the "-", as people copy it), starts with it, and every point
 * labelled with it (spaces around it and Unicode's forms aside). One match names a point: a label that
 * is also the start of another point's id names both, and so neither.
 */
export function pointsNamedBy<P extends Named>(points: readonly P[], ref: string): P[] {
  if (ref === 'latest') return points.slice(0, 1);
  // "" (an unset variable in a script) would be a prefix of every id
  if (ref === '') return [];
  const label = comparableLabel(ref);
  return points.filter((p) => p.id.startsWith(ref) || idSuffix(p).startsWith(ref) || isLabelled(p, label));
}

/** Why `ref` names no single point, when it names `matches` (two or more). */
export function ambiguousRef(ref: string, matches: readonly Named[]): string {
  const label = comparableLabel(ref);
  const labelled = matches.filter((p) => isLabelled(p, label));
  const byId = matches.filter((p) => p.id.startsWith(ref) || idSuffix(p).startsWith(ref));
  const shown = (p: Named) => `${idSuffix(p)}${labelled.includes(p) && byId.length > 0 ? ` (labelled "${p.label}")` : ''}`;
  const list = `${matches.slice(0, 3).map(shown).join(', ')}${matches.length > 3 ? ', …' : ''}`;
  if (byId.length === 0) return `${matches.length} points are labelled "${ref.trim()}" (${list}); give the id of one.`;
  if (labelled.length > 0) return `"${ref}" names ${matches.length} points, by their ids and by a label (${list}); give the whole id.`;
  return `"${ref}" matches ${matches.length} points (${list}); give more of the id.`;
}

/** A note for a point just labelled whose label names other points too (another point's label, or the start of their ids); `undefined` when it names only this one. */
export function labelNote(points: readonly Named[], point: Named): string | undefined {
  if (!point.label) return undefined;
  const label = point.label;
  const others = pointsNamedBy(points, label).filter((p) => p.id !== point.id);
  if (others.length === 0) return undefined;
  const count = others.length === 1 ? 'another point' : `${others.length} other points`;
  const how = others.some((p) => p.id.startsWith(label) || idSuffix(p).startsWith(label)) ? `also starts the id of ${count}` : `is the label of ${count} too`;
  return `"${label}" ${how}, so it names none of them: name this point by its id (${idSuffix(point)}).`;
}

function idSuffix(p: Named): string {
  return p.id.slice(p.id.lastIndexOf('-') + 1);
}

function comparableLabel(label: string): string {
  return label.trim().normalize('NFC');
}

function isLabelled(p: Named, label: string): boolean {
  return typeof p.label === 'string' && p.label !== '' && comparableLabel(p.label) === label;
}
