// The dispatcher's live counters per model, and the shape of `Dispatcher.stats()`, which
// `meshserve status` and the REPL's `watch()` read. Latency quantiles come from the planner's
// fixed-memory histogram; the Prometheus buckets from metrics.ts.
import { LatencyHistogram } from '../../planner/stats.js';
import type { LatencySeconds } from './metrics.js';

export interface ModelStats {
  requests: number;
  ok: number;
  withinSlo: number;
  rejected: number;
  errors: number;
  latencyMs: { count: number; mean: number; p50: number; p99: number };
  /** Served requests' latency as a Prometheus histogram: seconds, cumulative counts per upper bound (`le`). */
  latencySeconds: LatencySeconds;
}

export interface GroupStats {
  id: string;
  version: number;
  models: string[];
  routed: number;
  ok: number;
  errors: number;
  inflight: number;
  backlogMs: number;
  /** Out of routing (a device lost, or backing off after "no responders"). */
  dead: boolean;
  /** Its devices currently lost. */
  lostDevices: string[];
  /** Of the placement in force (an older one finishes what it holds). */
  current: boolean;
  /** Served requests' latency, as for a model. */
  latencySeconds: LatencySeconds;
}

export interface DispatcherStats {
  dispatcher: string;
  placementVersion: number;
  inflight: number;
  /**
   * `adopted`: requests of other dispatchers answered here (their owner was gone when they
   * completed; also counted under requests and ok or errors); `yielded`: requests of ours that
   * another dispatcher answered.
   */
  totals: {
    requests: number;
    ok: number;
    withinSlo: number;
    rejected: number;
    errors: number;
    adopted: number;
    yielded: number;
  };
  /** Other dispatchers of the queue group: heard within the last seconds; notes exchanged (peers.ts). */
  peers: { present: boolean; notesSent: number; notesReceived: number };
  models: Record<string, ModelStats>;
  groups: GroupStats[];
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
  return (
    !!v &&
    typeof v === 'object' &&
    typeof v.models === 'object' &&
    v.models !== null &&
    Array.isArray(v.groups) &&
    typeof v.totals === 'object'
  );
}

/** Seconds → milliseconds, rounded to µs. */
export const ms = (s: number): number => Math.round(s * 1e6) / 1e3;

/** An empty latency series (no bucket, nothing served). */
export const NO_LATENCY: LatencySeconds = { sum: 0, count: 0, buckets: [] };

export class ModelCounters {
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
  }

  snapshot(latencySeconds: LatencySeconds): ModelStats {
    const h = this.latency;
    return {
      requests: this.requests,
      ok: this.ok,
      withinSlo: this.withinSlo,
      rejected: this.rejected,
      errors: this.errors,
      latencyMs: {
        count: h.count,
        mean: h.count ? ms(h.mean) : 0,
        p50: h.count ? ms(h.quantile(0.5)) : 0,
        p99: h.count ? ms(h.quantile(0.99)) : 0,
      },
      latencySeconds,
    };
  }
}
