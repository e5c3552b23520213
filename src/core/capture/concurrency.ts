/** A counting semaphore: at most `capacity` units held at once; waiters are served in order. */
export class Semaphore {
  private available: number;
  private readonly waiters: { units: number; resume: () => void }[] = [];

  constructor(readonly capacity: number) {
    this.available = capacity;
  }

  /** Takes `units` (capped at the capacity, so one big request can always be served). */
  async acquire(units = 1): Promise<number> {
    const want = Math.min(Math.max(units, 0), this.capacity);
    if (this.waiters.length === 0 && this.available >= want) {
      this.available -= want;
      return want;
    }
    await new Promise<void>((resume) => this.waiters.push({ units: want, resume }));
    return want;
  }

  release(units: number): void {
    this.available += units;
    while (this.waiters.length > 0 && this.available >= this.waiters[0]!.units) {
      const next = this.waiters.shift()!;
      this.available -= next.units;
      next.resume();
    }
  }

  async run<T>(task: () => Promise<T>, units = 1): Promise<T> {
    const held = await this.acquire(units);
    try {
      return await task();
    } finally {
      this.release(held);
    }
  }
}

/**
 * Like `Promise.all`, but waits for every task to settle before rejecting with the first error, so
 * no work is left running behind the caller's back.
 */
export async function settleAll<T>(tasks: Iterable<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const values: T[] = [];
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
    values.push(result.value);
  }
  return values;
}
