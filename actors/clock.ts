// The runtime's clock: epoch seconds with sub-millisecond resolution (performance.now() offset
// by the process's time origin), the unit of the planner's latency model. Processes on one host
// agree to about a millisecond (the time origin comes from the wall clock at start-up).
import { performance } from 'node:perf_hooks';

const origin = performance.timeOrigin;

export function nowSeconds(): number {
  return (origin + performance.now()) / 1000;
}

/**
 * Below this many ms before a deadline, timers give way to setImmediate polling
 * (MESHSERVE_SIM_POLL_MS; 0 = timers only).
 */
const FINE_MS = Number(process.env.MESHSERVE_SIM_POLL_MS ?? 2);

/**
 * Resolves at epoch second `t` (at once when it has passed). Node's timers fire up to a
 * millisecond or two late (whole-ms loop clock); with `precise` the last stretch polls with
 * setImmediate (within about 0.1 ms, still letting I/O run in between), which costs that stretch
 * in CPU — so callers ask for it only where the lateness cannot be taken back later.
 */
export function sleepUntil(t: number, precise = true): Promise<void> {
  if (t <= nowSeconds()) return Promise.resolve();
  const fine = precise ? FINE_MS : 0;
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
