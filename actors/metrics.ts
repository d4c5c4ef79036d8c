// Prometheus metrics of the dispatcher: a stats snapshot rendered in the text exposition format
// (version 0.0.4), served with /healthz by a small node:http server.
//
// Written by hand rather than with prom-client: the dispatcher already counts everything in its
// own stats(), so all that is needed is rendering one snapshot — about a hundred lines, no
// registry of global metric objects to keep in sync, no dependency.
import { createServer, type Server } from 'node:http';

/** Latency distribution of one series. `counts[i]` counts observations ≤ `boundsMs[i]` and
 *  > `boundsMs[i-1]` (not cumulative); `counts[boundsMs.length]` counts those above the last bound. */
export interface LatencyHistogram {
  boundsMs: number[];
  counts: number[];
  sumMs: number;
}

/** Counters of one (model, group) pair. Requests rejected before a group was chosen use group "none". */
export interface SeriesStats {
  model: string;
  group: string;
  requests: number;
  rejections: number;
  errors: number;
  latency: LatencyHistogram;
}

/** What the metrics endpoint consumes; the dispatcher's stats() is adapted to it. */
export interface DispatcherStatsSnapshot {
  placementVersion: number;
  /** Requests waiting or running per group. */
  queueDepth: Record<string, number>;
  series: SeriesStats[];
}

/** Default latency buckets (ms): SLOs in the paper span tens of ms to seconds. */
export const DEFAULT_LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export function emptyHistogram(boundsMs: number[] = DEFAULT_LATENCY_BOUNDS_MS): LatencyHistogram {
  return { boundsMs, counts: new Array<number>(boundsMs.length + 1).fill(0), sumMs: 0 };
}

/** Records one latency: the first bucket whose bound is ≥ ms, else the overflow bucket. */
export function observe(histogram: LatencyHistogram, ms: number): void {
  let i = 0;
  while (i < histogram.boundsMs.length && ms > histogram.boundsMs[i]) i++;
  histogram.counts[i]++;
  histogram.sumMs += ms;
}

export const METRIC_NAMES = {
  requests: 'meshserve_requests_total',
  rejections: 'meshserve_rejections_total',
  errors: 'meshserve_errors_total',
  latency: 'meshserve_request_latency_seconds',
  queueDepth: 'meshserve_queue_depth',
  placementVersion: 'meshserve_placement_version',
} as const;

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (pairs: Record<string, string>): string =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;
const num = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

function header(lines: string[], name: string, type: string, help: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

/** The snapshot in Prometheus text format (ends with a newline). */
export function renderMetrics(snapshot: DispatcherStatsSnapshot): string {
  const lines: string[] = [];
  const counter = (name: string, help: string, pick: (s: SeriesStats) => number): void => {
    header(lines, name, 'counter', help);
    for (const s of snapshot.series) lines.push(`${name}${labels({ model: s.model, group: s.group })} ${num(pick(s))}`);
  };
  counter(METRIC_NAMES.requests, 'Requests received by the dispatcher, by model and group.', (s) => s.requests);
  counter(METRIC_NAMES.rejections, 'Requests rejected because no group could meet their SLO.', (s) => s.rejections);
  counter(METRIC_NAMES.errors, 'Requests answered with an error.', (s) => s.errors);

  const h = METRIC_NAMES.latency;
  header(lines, h, 'histogram', 'End-to-end latency of served requests, in seconds.');
  for (const s of snapshot.series) {
    const base = { model: s.model, group: s.group };
    let cumulative = 0;
    s.latency.boundsMs.forEach((bound, i) => {
      cumulative += s.latency.counts[i] ?? 0;
      lines.push(`${h}_bucket${labels({ ...base, le: num(bound / 1000) })} ${cumulative}`);
    });
    cumulative += s.latency.counts[s.latency.boundsMs.length] ?? 0;
    lines.push(`${h}_bucket${labels({ ...base, le: '+Inf' })} ${cumulative}`);
    lines.push(`${h}_sum${labels(base)} ${num(s.latency.sumMs / 1000)}`);
    lines.push(`${h}_count${labels(base)} ${cumulative}`);
  }

  header(lines, METRIC_NAMES.queueDepth, 'gauge', 'Requests queued or running per group.');
  for (const [group, depth] of Object.entries(snapshot.queueDepth)) lines.push(`${METRIC_NAMES.queueDepth}${labels({ group })} ${num(depth)}`);

  header(lines, METRIC_NAMES.placementVersion, 'gauge', 'Version of the placement the dispatcher routes by.');
  lines.push(`${METRIC_NAMES.placementVersion} ${num(snapshot.placementVersion)}`);
  return `${lines.join('\n')}\n`;
}

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics (the rendered snapshot) and GET /healthz (200 "ok" when a snapshot can be
 * taken, 503 with the reason otherwise). Port 0 picks a free port.
 */
export async function serveMetrics(
  snapshot: () => DispatcherStatsSnapshot | Promise<DispatcherStatsSnapshot>,
  options: { port?: number; host?: string } = {},
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/healthz')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics or /healthz\n');
      return;
    }
    Promise.resolve()
      .then(snapshot)
      .then((snap) => {
        if (path === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderMetrics(snap));
      })
      .catch((err: unknown) => {
        res.writeHead(503, { 'content-type': 'text/plain' }).end(`unavailable: ${(err as Error)?.message ?? String(err)}\n`);
      });
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The port the dispatcher serves metrics on: env METRICS_PORT (the compose file sets 9464); undefined = off. */
export function metricsPortFrom(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.METRICS_PORT;
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`METRICS_PORT "${raw}" is not a port number`);
  return port;
}
