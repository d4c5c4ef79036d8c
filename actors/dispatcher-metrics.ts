// The dispatcher's stats() as the metrics endpoint's snapshot: one series per model (group
// "all": rejections happen before a group is chosen) and one per group (model "all": a group
// serves several models and its latency is counted over all of them).
import type { DispatcherStats } from './dispatcher-stats.js';
import type { DispatcherStatsSnapshot, LatencyHistogram, SeriesStats } from './metrics.js';

/** Cumulative second-bucket counts (Prometheus style) back to per-bucket ms counts. */
function fromCumulative(h: DispatcherStats['models'][string]['latencySeconds']): LatencyHistogram {
  const counts: number[] = [];
  let previous = 0;
  for (const b of h.buckets) {
    counts.push(b.count - previous);
    previous = b.count;
  }
  counts.push(h.count - previous);
  return { boundsMs: h.buckets.map((b) => b.le * 1000), counts, sumMs: h.sum * 1000 };
}

export function metricsSnapshot(stats: DispatcherStats): DispatcherStatsSnapshot {
  const series: SeriesStats[] = Object.entries(stats.models).map(([model, m]) => ({
    model, group: 'all', requests: m.requests, rejections: m.rejected, errors: m.errors, latency: fromCumulative(m.latencySeconds),
  }));
  const queueDepth: Record<string, number> = {};
  for (const g of stats.groups) {
    series.push({ model: 'all', group: g.id, requests: g.routed, rejections: 0, errors: g.errors, latency: g.latencyMs });
    queueDepth[g.id] = g.inflight;
  }
  return { placementVersion: stats.placementVersion, queueDepth, series };
}
