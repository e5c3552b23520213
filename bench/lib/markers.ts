/** A failed stat of these paths marks the start/end of the measured window in an strace log. */
export const MARK_START = '/__bench_window_start__';
export const MARK_END = '/__bench_window_end__';
