// The runtime's clock: epoch seconds with sub-millisecond resolution (performance.now() offset
// by the process's time origin), the unit of the planner's latency model. Processes on one host
// agree to about a millisecond (the time origin comes from the wall clock at start-up).
import { performance } from 'node:perf_hooks';

const origin = performance.timeOrigin;

export function nowSeconds(): number {
  return (origin + performance.now()) / 1000;
}

/** The stretch before a deadline (ms) that precise waits poll instead of trusting a timer. */
export const DEFAULT_POLL_MS = 2;

/**
 * Resolves at epoch second `t` (at once when it has passed). Node's timers fire up to a
 * millisecond or two late (whole-ms loop clock); the last `pollMs` are polled with setImmediate
 * (within about 0.1 ms, still letting I/O run in between), which costs that stretch in CPU — so
 * callers ask for it (pollMs > 0) only where the lateness cannot be taken back later.
 */
export function sleepUntil(t: number, pollMs: number = DEFAULT_POLL_MS): Promise<void> {
  if (t <= nowSeconds()) return Promise.resolve();
  const fine = pollMs;
  return new Promise((resolve) => {
    const step = (): void => {
      const ms = (t - nowSeconds()) * 1000;
      if (ms <= 0) resolve();
      else if (ms > fine) setTimeout(step, ms - fine);
      else setImmediate(step);
    };
    step();
  });
}
