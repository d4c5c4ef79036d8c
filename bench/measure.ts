// Measurement helpers shared by the benchmark suites.
import { performance } from 'node:perf_hooks';

import { quantileSorted } from '../planner/stats.js';

export { median, quantileSorted } from '../planner/stats.js';

export type AsyncCall = () => Promise<unknown>;

/** Closed loop: `window` calls in flight for `durationMs`; completed calls per second. */
export async function closedLoopThroughput(call: AsyncCall, window: number, durationMs: number): Promise<number> {
  let done = 0;
  const end = performance.now() + durationMs;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      await call();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: window }, lane));
  return done / ((performance.now() - started) / 1000);
}

/** One call at a time, `n` calls: p50 and p99 of the round trips (ms). */
export async function loneLatency(call: AsyncCall, n: number): Promise<{ p50: number; p99: number }> {
  const lat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    lat[i] = performance.now() - t;
  }
  lat.sort();
  return { p50: quantileSorted(lat, 0.5), p99: quantileSorted(lat, 0.99) };
}

/** Reads a positive `--name=value` number (bench.ts passes only dash-prefixed arguments through). */
export function positiveOption(args: readonly string[], name: string, fallback: number): number {
  const arg = args.find((a) => a.startsWith(`${name}=`));
  if (arg === undefined) return fallback;
  const v = Number(arg.slice(name.length + 1));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
  return v;
}
