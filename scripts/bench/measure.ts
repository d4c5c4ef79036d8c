// Measurement helpers shared by the benchmark suites.
import { performance } from 'node:perf_hooks';

export { median, quantileSorted } from '../../planner/stats.js';

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

/** Reads a positive `--name=value` number (bench.ts passes only dash-prefixed arguments through). */
export function positiveOption(args: readonly string[], name: string, fallback: number): number {
  const arg = args.find((a) => a.startsWith(`${name}=`));
  if (arg === undefined) return fallback;
  const v = Number(arg.slice(name.length + 1));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
  return v;
}
