/** A counting semaphore: at most `capacity` units held at once; waiters are served in order. */
export class Semaphore {
  private available: number;
  /** Waiters in order; `head` is the first one still waiting (a queue without O(n) shifts). */
  private waiters: { units: number; resume: () => void }[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    this.available = capacity;
  }

  /** Takes `units` (capped at the capacity, so one big request can always be served). */
  async acquire(units = 1): Promise<number> {
    const want = Math.min(Math.max(units, 0), this.capacity);
    if (this.head === this.waiters.length && this.available >= want) {
      this.available -= want;
      return want;
    }
    await new Promise<void>((resume) => this.waiters.push({ units: want, resume }));
    return want;
  }

  release(units: number): void {
    this.available += units;
    while (this.head < this.waiters.length && this.available >= this.waiters[this.head]!.units) {
      const next = this.waiters[this.head++]!;
      this.available -= next.units;
      next.resume();
    }
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
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

/**
 * Runs queued tasks, at most `limit` at once, the most recently queued first: a tree walk that queues
 * a folder's entries then goes depth-first, so the queue and the folders held open stay small
 * however large the tree. A task that throws is reported to `onError` (which must not throw).
 */
export class TaskPool {
  private readonly stack: (() => Promise<void>)[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly limit: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  push(task: () => Promise<void>): void {
    this.stack.push(task);
    this.pump();
  }

  /** Drops the tasks not started yet. */
  clear(): void {
    this.stack.length = 0;
    this.notifyIdle();
  }

  /** Resolves when no task is running or queued. */
  idle(): Promise<void> {
    if (this.running === 0 && this.stack.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.limit && this.stack.length > 0) {
      const task = this.stack.pop()!;
      this.running++;
      task()
        .catch((error: unknown) => this.onError(error))
        .finally(() => {
          this.running--;
          this.pump();
          this.notifyIdle();
        });
    }
  }

  private notifyIdle(): void {
    if (this.running > 0 || this.stack.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
