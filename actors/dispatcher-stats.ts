// The dispatcher's live counters: per model (requests, outcomes, latency quantiles and a
// Prometheus-style histogram) and the shape of `Dispatcher.stats()`, which `meshserve status`,
// the REPL's `watch()` and the metrics endpoint (dispatcher-metrics.ts) read.
import { LatencyHistogram } from '../planner/stats.js';
import type { LatencyHistogram as BucketHistogram } from './metrics.js';

/** Upper bounds (seconds) of the cumulative latency buckets in `stats()` (Prometheus style). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface ModelStats {
  requests: number;
  ok: number;
  withinSlo: number;
  rejected: number;
  errors: number;
  latencyMs: { count: number; mean: number; p50: number; p99: number };
  /** Served requests' latency as a Prometheus histogram: seconds, cumulative counts per upper bound (`le`). */
  latencySeconds: { sum: number; count: number; buckets: Array<{ le: number; count: number }> };
}

export interface DispatcherStats {
  dispatcher: string;
  placementVersion: number;
  inflight: number;
  totals: { requests: number; ok: number; withinSlo: number; rejected: number; errors: number };
  /** Other dispatchers of the queue group: heard within the last seconds; notes exchanged (dispatcher-peers.ts). */
  peers: { present: boolean; notesSent: number; notesReceived: number };
  models: Record<string, ModelStats>;
  groups: Array<{ id: string; version: number; models: string[]; routed: number; ok: number; errors: number; inflight: number; backlogMs: number;
    /** Out of routing (a device lost, or backing off after "no responders"). */
    dead: boolean;
    /** Its devices currently lost. */
    lostDevices: string[];
    current: boolean;
    /** Served requests' latency, ms, non-cumulative counts per bound (+ overflow). */
    latencyMs: BucketHistogram }>;
}

/**
 * SLO attainment per model: requests served within their SLO ÷ all requests (rejections and
 * errors count as misses, as in the simulator; a request without an SLO counts once served).
 * Models with no request yet are left out.
 */
export function attainmentByModel(stats: Pick<DispatcherStats, 'models'>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [model, m] of Object.entries(stats.models)) if (m.requests > 0) out[model] = m.withinSlo / m.requests;
  return out;
}

/** Whether a stats() answer has the dispatcher's shape (status and the REPL call whatever actor is named). */
export function isDispatcherStats(value: unknown): value is DispatcherStats {
  const v = value as Partial<DispatcherStats> | null;
  return !!v && typeof v === 'object' && typeof v.models === 'object' && v.models !== null && Array.isArray(v.groups) && typeof v.totals === 'object';
}

/** Seconds → milliseconds, rounded to µs. */
export const ms = (s: number): number => Math.round(s * 1e6) / 1e3;

export class ModelCounters {
  /** buckets[b] = served requests with latency ≤ LATENCY_BUCKETS[b] (made cumulative in snapshot()). */
  private readonly buckets = new Float64Array(LATENCY_BUCKETS.length);
  private readonly latency = new LatencyHistogram();
  requests = 0;
  ok = 0;
  withinSlo = 0;
  rejected = 0;
  errors = 0;
  /** Requests since the observed rate was last written. */
  windowRequests = 0;

  /** A request served with `seconds` of latency, within its SLO or not. */
  served(seconds: number, withinSlo: boolean): void {
    this.ok++;
    if (withinSlo) this.withinSlo++;
    this.latency.add(seconds);
    const b = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
    if (b >= 0) this.buckets[b]++;
  }

  snapshot(): ModelStats {
    const h = this.latency;
    let total = 0;
    return {
      requests: this.requests, ok: this.ok, withinSlo: this.withinSlo, rejected: this.rejected, errors: this.errors,
      latencyMs: { count: h.count, mean: h.count ? ms(h.mean) : 0, p50: h.count ? ms(h.quantile(0.5)) : 0, p99: h.count ? ms(h.quantile(0.99)) : 0 },
      latencySeconds: { sum: h.sum, count: h.count, buckets: LATENCY_BUCKETS.map((le, b) => ({ le, count: (total += this.buckets[b]) })) },
    };
  }
}
