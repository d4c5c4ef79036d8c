// Prometheus exposition of a dispatcher stats snapshot, and the /metrics + /healthz server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyHistogram, metricsPortFrom, observe, renderMetrics, serveMetrics, METRIC_NAMES, type DispatcherStatsSnapshot } from '../../actors/metrics.js';

function snapshot(): DispatcherStatsSnapshot {
  const a = emptyHistogram([10, 100, 1000]);
  for (const ms of [3, 10, 11, 50, 500, 2000, 2500]) observe(a, ms);
  const b = emptyHistogram([10, 100, 1000]);
  return {
    placementVersion: 7,
    queueDepth: { g0: 2, g1: 0 },
    series: [
      { model: 'bert-1.3b', group: 'g0', requests: 9, rejections: 1, errors: 1, latency: a },
      { model: 'we"ird\\', group: 'none', requests: 3, rejections: 3, errors: 0, latency: b },
    ],
  };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: every sample line must belong to a declared metric. */
function parse(text: string): { help: Map<string, string>; type: Map<string, string>; samples: Sample[] } {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.trimEnd().split('\n')) {
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (m) {
      (m[1] === 'HELP' ? help : type).set(m[2], m[3]);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `malformed line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value), `bad value in ${line}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(type.has(m[1]) || type.get(family) === 'histogram', `sample ${m[1]} has no TYPE before it`);
    samples.push({ name: m[1], labels, value });
  }
  return { help, type, samples };
}

test('every metric has HELP and TYPE; counters and gauges carry the snapshot values', () => {
  const { help, type, samples } = parse(renderMetrics(snapshot()));
  for (const name of Object.values(METRIC_NAMES)) {
    assert.ok(help.has(name), `HELP ${name}`);
    assert.ok(type.has(name), `TYPE ${name}`);
  }
  assert.equal(type.get(METRIC_NAMES.requests), 'counter');
  assert.equal(type.get(METRIC_NAMES.latency), 'histogram');
  assert.equal(type.get(METRIC_NAMES.queueDepth), 'gauge');
  const value = (name: string, labels: Record<string, string>): number | undefined =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(value(METRIC_NAMES.requests, { model: 'bert-1.3b', group: 'g0' }), 9);
  assert.equal(value(METRIC_NAMES.rejections, { model: 'we"ird\\', group: 'none' }), 3, 'label values are escaped and read back');
  assert.equal(value(METRIC_NAMES.errors, { model: 'bert-1.3b' }), 1);
  assert.equal(value(METRIC_NAMES.queueDepth, { group: 'g0' }), 2);
  assert.equal(value(METRIC_NAMES.placementVersion, {}), 7);
});

test('histogram buckets are cumulative, in seconds, and +Inf equals the count', () => {
  const { samples } = parse(renderMetrics(snapshot()));
  const h = METRIC_NAMES.latency;
  const series = (group: string) => samples.filter((s) => s.labels.group === group);
  const buckets = series('g0').filter((s) => s.name === `${h}_bucket`);
  assert.deepEqual(buckets.map((b) => b.labels.le), ['0.01', '0.1', '1', '+Inf']);
  // observations 3, 10 | 11, 50 | 500 | 2000, 2500 (10 ms falls in le=0.01: bounds are inclusive)
  assert.deepEqual(buckets.map((b) => b.value), [2, 4, 5, 7]);
  const count = series('g0').find((s) => s.name === `${h}_count`)?.value;
  assert.equal(count, 7);
  assert.equal(buckets.at(-1)?.value, count);
  assert.ok(Math.abs((series('g0').find((s) => s.name === `${h}_sum`)?.value ?? 0) - 5.074) < 1e-9);
  const empty = series('none').filter((s) => s.name === `${h}_bucket`);
  assert.ok(empty.every((b) => b.value === 0));
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'monotone');
});

test('serveMetrics: /metrics serves the text format, /healthz follows the snapshot source', async () => {
  let healthy = true;
  const server = await serveMetrics(
    () => {
      if (!healthy) throw new Error('dispatcher not ready');
      return snapshot();
    },
    { host: '127.0.0.1' },
  );
  try {
    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
    assert.equal(await metrics.text(), renderMetrics(snapshot()));
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    healthy = false;
    const down = await fetch(`${server.url}/healthz`);
    assert.equal(down.status, 503);
    assert.match(await down.text(), /dispatcher not ready/);
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  } finally {
    await server.close();
  }
});

test('metricsPortFrom reads METRICS_PORT, off when unset, rejects garbage', () => {
  assert.equal(metricsPortFrom({ METRICS_PORT: '9464' }), 9464);
  assert.equal(metricsPortFrom({}), undefined);
  assert.throws(() => metricsPortFrom({ METRICS_PORT: 'ninety' }), /not a port/);
});
