// What the network between this host and the GPU workers adds to a request: the round trip of
// an actor ping to each worker over NATS (out to the worker and back, as a request's first stage
// work goes out and its completion comes back), median of many, less the round trip to an actor
// next to this host (the baseline: what a cluster on one host pays too). Run it from the
// dispatcher's host, with the dispatcher as the baseline. The dispatcher's estimates and the
// simulator absorb the hop through the per-request overhead: the default allowance (which covers
// a cluster on one host) plus the slowest worker's extra round trip.
import type { ActorServices } from '../../bus/index.js';
import { REFERENCE_OVERHEAD } from '../../planner/latency-model.js';
import { median } from '../../planner/stats.js';

export interface HopOptions {
  /** Measured pings per worker (median). Default 50. */
  runs?: number;
  /** Unmeasured pings first. Default 5. */
  warmup?: number;
  timeoutMs?: number;
}

export interface WorkerHop {
  readonly worker: string;
  /** Median round trip (ms). */
  readonly roundTripMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Pings each worker in turn; the median round trip of each (ms). */
export async function measureHops(
  system: Pick<ActorServices, 'actor'>,
  workers: readonly string[],
  o: HopOptions = {},
): Promise<WorkerHop[]> {
  const runs = o.runs ?? 50;
  const warmup = o.warmup ?? 5;
  const out: WorkerHop[] = [];
  for (const worker of workers) {
    const handle = system.actor(worker, { timeoutMs: o.timeoutMs ?? 2_000 });
    const times: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const start = performance.now();
      await handle.ping();
      if (i >= warmup) times.push(performance.now() - start);
    }
    out.push({ worker, roundTripMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times) });
  }
  return out;
}

/**
 * The per-request overhead (s) that absorbs the network: the default allowance plus the slowest
 * worker's round trip beyond `baselineMs` (the round trip to an actor on the measuring host).
 */
export function overheadWithHops(hops: readonly WorkerHop[], baselineMs = 0, base = REFERENCE_OVERHEAD): number {
  return base + Math.max(0, ...hops.map((h) => h.roundTripMs - baselineMs)) / 1000;
}
