import { nowMs } from './clock';

/**
 * Milliseconds of work on the thread between two turns of the event loop: an extension host shares
 * its thread with every extension and the editor's requests, so no step of a listing holds it longer.
 */
export const SLICE_MS = 5;

/** Lets the event loop run (timers, I/O, other extensions) before going on. */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** A budget of thread time: `pause()` gives the event loop a turn once `ms` have passed since the last one it gave. */
export class TimeSlices {
  private start = nowMs();

  constructor(private readonly ms = SLICE_MS) {}

  get due(): boolean {
    return nowMs() - this.start >= this.ms;
  }

  async pause(): Promise<void> {
    if (!this.due) return;
    await nextTurn();
    this.start = nowMs();
  }
}
