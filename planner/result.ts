// The one builder of a SimResult from per-model counts, a latency distribution and per-group
// counters: the simulator, a Clockwork++ schedule and a live replay all report through it, so the
// three agree on every derived figure (totals, attainment, goodput, latency summary).
import { quantileSorted } from './stats.js';
import type { ModelResult, SimResult } from './types.js';

/** A latency distribution of the served requests (seconds): the fixed-memory histogram, or sorted values. */
export interface LatencyDistribution {
  readonly mean: number;
  quantile(q: number): number;
}

/** Exact quantiles of a sorted list of latencies. */
export function sortedLatencies(sorted: Float64Array): LatencyDistribution {
  let sum = 0;
  for (const x of sorted) sum += x;
  return { mean: sorted.length ? sum / sorted.length : NaN, quantile: (q) => quantileSorted(sorted, q) };
}

export interface ResultCounts {
  readonly modelNames: readonly string[];
  /** Per model: requests counted, good ones, rejected ones (unplaced included). */
  readonly requests: ArrayLike<number>;
  readonly good: ArrayLike<number>;
  readonly rejected: ArrayLike<number>;
  /** Requests whose model no group hosts. */
  readonly unplaced: number;
}

export interface GroupCounters {
  readonly utilisation: readonly number[];
  readonly routed: readonly number[];
  readonly served: readonly number[];
}

/** No per-group counters (a schedule's groups change from window to window). */
export const NO_GROUPS: GroupCounters = { utilisation: [], routed: [], served: [] };

/** `window`: the seconds the counted requests arrived in (duration − 2 · trim), for goodput. */
export function simResult(
  counts: ResultCounts,
  latency: LatencyDistribution,
  groups: GroupCounters,
  window: number,
): SimResult {
  const perModel: ModelResult[] = counts.modelNames.map((name, m) => {
    const requests = counts.requests[m];
    return {
      name,
      requests,
      good: counts.good[m],
      rejected: counts.rejected[m],
      attainment: requests ? counts.good[m] / requests : NaN,
    };
  });
  let requests = 0;
  let good = 0;
  let rejected = 0;
  for (const m of perModel) {
    requests += m.requests;
    good += m.good;
    rejected += m.rejected;
  }
  return {
    requests,
    good,
    rejected,
    unplaced: counts.unplaced,
    served: requests - rejected,
    attainment: requests ? good / requests : NaN,
    goodput: window > 0 ? good / window : NaN,
    latency: {
      mean: latency.mean,
      p50: latency.quantile(0.5),
      p90: latency.quantile(0.9),
      p99: latency.quantile(0.99),
    },
    perModel,
    groupUtilisation: groups.utilisation,
    groupRouted: groups.routed,
    groupServed: groups.served,
  };
}
