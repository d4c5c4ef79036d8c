// The dispatcher's Prometheus metrics, in a prom-client Registry of its own (no process-wide
// state). Latency buckets live only in the histogram here, observed as requests are served;
// counters and gauges are read from the dispatcher's own counts at scrape time, so nothing is
// counted twice. Series: one per model with group "all" (rejections happen before a group is
// chosen) and one per mesh group with model "all" (a group serves several models).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRIC_NAMES = {
  requests: 'meshserve_requests_total',
  withinSlo: 'meshserve_within_slo_total',
  rejections: 'meshserve_rejections_total',
  errors: 'meshserve_errors_total',
  latency: 'meshserve_request_latency_seconds',
  queueDepth: 'meshserve_queue_depth',
  placementVersion: 'meshserve_placement_version',
} as const;

/** Upper bounds (seconds) of the latency buckets: SLOs in the paper span tens of ms to seconds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Label value of the side a series does not split by. */
export const ALL = 'all';

/** A model's counts, read at scrape time. */
export interface ModelCounts {
  readonly model: string;
  readonly requests: number;
  readonly withinSlo: number;
  readonly rejected: number;
  readonly errors: number;
}

/** A mesh group's counts, read at scrape time. */
export interface GroupCounts {
  readonly id: string;
  readonly routed: number;
  readonly errors: number;
  readonly inflight: number;
}

/** What the metrics are read from at scrape time. */
export interface MetricsSource {
  models(): Iterable<ModelCounts>;
  groups(): Iterable<GroupCounts>;
  placementVersion(): number;
}

/** A latency histogram series in the cumulative form Prometheus uses (seconds). */
export interface LatencySeconds {
  sum: number;
  count: number;
  /** Served requests with latency ≤ `le`, for each bucket bound (the +Inf bucket is `count`). */
  buckets: Array<{ le: number; count: number }>;
}

type Labels = { model: string; group: string };

export class DispatcherMetrics {
  readonly registry = new Registry();
  private readonly latency: Histogram<'model' | 'group'>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const labelNames = ['model', 'group'] as const;
    /** A counter's collect(): one series per model (group "all"), one per group (model "all"). */
    const perSeries = (ofModel: (m: ModelCounts) => number, ofGroup: (g: GroupCounts) => number) =>
      function (this: Counter<'model' | 'group'>): void {
        this.reset();
        for (const m of source.models()) this.inc({ model: m.model, group: ALL }, ofModel(m));
        for (const g of source.groups()) this.inc({ model: ALL, group: g.id }, ofGroup(g));
      };
    new Counter({
      name: METRIC_NAMES.requests,
      help: 'Requests received by the dispatcher, by model and group.',
      labelNames,
      registers,
      collect: perSeries(
        (m) => m.requests,
        (g) => g.routed,
      ),
    });
    new Counter({
      name: METRIC_NAMES.withinSlo,
      help: 'Requests served within their SLO (or served, without one), by model: SLO attainment = this ÷ requests.',
      labelNames,
      registers,
      // Only per model: whether a request made its SLO is known where its model's counts are kept.
      collect(this: Counter<'model' | 'group'>) {
        this.reset();
        for (const m of source.models()) this.inc({ model: m.model, group: ALL }, m.withinSlo);
      },
    });
    new Counter({
      name: METRIC_NAMES.rejections,
      help: 'Requests rejected because no group could meet their SLO.',
      labelNames,
      registers,
      // A rejection happens before a group is chosen: groups count none.
      collect: perSeries(
        (m) => m.rejected,
        () => 0,
      ),
    });
    new Counter({
      name: METRIC_NAMES.errors,
      help: 'Requests answered with an error.',
      labelNames,
      registers,
      collect: perSeries(
        (m) => m.errors,
        (g) => g.errors,
      ),
    });
    this.latency = new Histogram({
      name: METRIC_NAMES.latency,
      help: 'End-to-end latency of served requests, in seconds.',
      labelNames,
      buckets: [...LATENCY_BUCKETS],
      registers,
    });
    new Gauge({
      name: METRIC_NAMES.queueDepth,
      help: 'Requests queued or running per group.',
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        for (const g of source.groups()) this.set({ group: g.id }, g.inflight);
      },
    });
    new Gauge({
      name: METRIC_NAMES.placementVersion,
      help: 'Version of the placement the dispatcher routes by.',
      registers,
      collect() {
        this.set(source.placementVersion());
      },
    });
  }

  /** A model or group appears: its latency series exists (all zero) from now on. */
  addModel(model: string): void {
    this.latency.zero({ model, group: ALL });
  }

  addGroup(group: string): void {
    this.latency.zero({ model: ALL, group });
  }

  /** A group is forgotten: its series go with it. */
  removeGroup(group: string): void {
    this.latency.remove({ model: ALL, group });
  }

  /** A request of `model` served by `group` in `seconds`. */
  served(model: string, group: string, seconds: number): void {
    this.latency.observe({ model, group: ALL }, seconds);
    this.latency.observe({ model: ALL, group }, seconds);
  }

  /** The Prometheus text exposition (format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Every latency series, by `model` (group "all") and by `group` (model "all"). */
  async latencies(): Promise<{ models: Map<string, LatencySeconds>; groups: Map<string, LatencySeconds> }> {
    const series = new Map<string, LatencySeconds & { labels: Labels }>();
    const of = (labels: Labels): LatencySeconds & { labels: Labels } => {
      const key = `${labels.model}\u0000${labels.group}`;
      const known = series.get(key);
      if (known) return known;
      const s = { labels, sum: 0, count: 0, buckets: [] };
      series.set(key, s);
      return s;
    };
    for (const v of (await this.latency.get()).values) {
      const labels = v.labels as Labels & { le?: number | string };
      const s = of({ model: labels.model, group: labels.group });
      if (v.metricName === `${METRIC_NAMES.latency}_sum`) s.sum = v.value;
      else if (v.metricName === `${METRIC_NAMES.latency}_count`) s.count = v.value;
      else if (labels.le !== '+Inf') s.buckets.push({ le: Number(labels.le), count: v.value });
    }
    const models = new Map<string, LatencySeconds>();
    const groups = new Map<string, LatencySeconds>();
    for (const { labels, ...h } of series.values()) {
      if (labels.group === ALL) models.set(labels.model, h);
      else groups.set(labels.group, h);
    }
    return { models, groups };
  }
}
