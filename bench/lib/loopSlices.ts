/**
 * The longest time the event loop was held by one piece of work while `work` ran: a callback
 * re-queued with setImmediate runs between every two pieces of work (it keeps the loop turning while
 * it waits for I/O, so the process's CPU time is not meaningful meanwhile). Each gap is measured in
 * wall time and in the process's CPU time (which a loaded machine does not inflate by descheduling;
 * it includes the thread pool's work in that gap).
 */
export interface LoopSlices {
  /** The longest gap between two turns, wall clock. */
  readonly longestWallMs: number;
  /** The most process CPU time spent within one gap. */
  readonly longestCpuMs: number;
  /** Turns the loop made meanwhile. */
  readonly turns: number;
}

export async function measureSlices<T>(work: () => Promise<T>): Promise<{ result: T; slices: LoopSlices }> {
  const cpuNow = () => {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  };
  let running = true;
  let lastWall = performance.now();
  let lastCpu = cpuNow();
  let longestWallMs = 0;
  let longestCpuMs = 0;
  let turns = 0;
  const ping = () => {
    const wall = performance.now();
    const cpu = cpuNow();
    longestWallMs = Math.max(longestWallMs, wall - lastWall);
    longestCpuMs = Math.max(longestCpuMs, cpu - lastCpu);
    lastWall = wall;
    lastCpu = cpu;
    turns++;
    if (running) setImmediate(ping);
  };
  setImmediate(ping);
  try {
    const result = await work();
    running = false;
    // the stretch from the last turn to the end of the work
    longestWallMs = Math.max(longestWallMs, performance.now() - lastWall);
    longestCpuMs = Math.max(longestCpuMs, cpuNow() - lastCpu);
    return { result, slices: { longestWallMs, longestCpuMs, turns } };
  } finally {
    running = false;
  }
}
