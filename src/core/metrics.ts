import { nowMs } from './clock';

/** Timings of each operation, kept in memory (the spec's "monitor performance metrics"). */
export interface OperationTiming {
  readonly count: number;
  readonly failures: number;
  readonly totalMs: number;
  readonly lastMs: number;
  readonly maxMs: number;
}

export class Metrics {
  private readonly timings = new Map<string, { count: number; failures: number; totalMs: number; lastMs: number; maxMs: number }>();

  async time<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const started = nowMs();
    let failed = false;
    try {
      return await work();
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.record(operation, nowMs() - started, failed);
    }
  }

  record(operation: string, ms: number, failed = false): void {
    const t = this.timings.get(operation) ?? { count: 0, failures: 0, totalMs: 0, lastMs: 0, maxMs: 0 };
    t.count++;
    if (failed) t.failures++;
    t.totalMs += ms;
    t.lastMs = ms;
    t.maxMs = Math.max(t.maxMs, ms);
    this.timings.set(operation, t);
  }

  snapshot(): Record<string, OperationTiming> {
    return Object.fromEntries([...this.timings].map(([name, t]) => [name, { ...t }]));
  }
}
