/**
 * How hard the reliability suites push. `npm test` runs the quick level (a few seconds to a minute per
 * suite, part of CI); `npm run test:reliability` runs the full level (hundreds of kills, longer
 * concurrency windows). Every suite bounds itself in time at both levels.
 */
export type ReliabilityLevel = 'quick' | 'full';

export const level: ReliabilityLevel = process.env.RP_RELIABILITY === 'full' ? 'full' : 'quick';

/** Picks the quick or the full figure for the running level. */
export function byLevel<T>(quick: T, full: T): T {
  return level === 'full' ? full : quick;
}
