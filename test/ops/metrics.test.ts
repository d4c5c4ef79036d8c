// The dispatcher's Prometheus exposition (prom-client, its own registry), and the /metrics +
// /healthz server.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readEnvironment } from '../../config/environment.js';
import { serveMetrics } from '../../ops/metrics-server.js';
import { DispatcherMetrics, METRIC_NAMES, type MetricsSource } from '../../serving/dispatcher/metrics.js';

/** Two models (one with a name that needs escaping), two groups, seven served requests. */
function metrics(): DispatcherMetrics {
  const source: MetricsSource = {
    models: () => [
      { model: 'bert-1.3b', requests: 9, withinSlo: 6, rejected: 1, errors: 1 },
      { model: 'we"ird\\', requests: 3, withinSlo: 0, rejected: 3, errors: 0 },
    ],
    groups: () => [
      { id: 'g0', routed: 8, errors: 1, inflight: 2 },
      { id: 'g1', routed: 0, errors: 0, inflight: 0 },
    ],
    placementVersion: () => 7,
  };
  const m = new DispatcherMetrics(source);
  m.addModel('bert-1.3b');
  m.addModel('we"ird\\');
  m.addGroup('g0');
  m.addGroup('g1');
  for (const ms of [3, 10, 11, 50, 500, 2000, 2500]) m.served('bert-1.3b', 'g0', ms / 1000);
  return m;
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
    if (line === '') continue; // the format allows blank lines between families
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (m) {
      (m[1] === 'HELP' ? help : type).set(m[2], m[3]);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `malformed line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value), `bad value in ${line}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(type.has(m[1]) || type.get(family) === 'histogram', `sample ${m[1]} has no TYPE before it`);
    samples.push({ name: m[1], labels, value });
  }
  return { help, type, samples };
}

test('every metric has HELP and TYPE; counters and gauges carry the source values', async () => {
  const { help, type, samples } = parse(await metrics().text());
  for (const name of Object.values(METRIC_NAMES)) {
    assert.ok(help.has(name), `HELP ${name}`);
    assert.ok(type.has(name), `TYPE ${name}`);
  }
  assert.equal(type.get(METRIC_NAMES.requests), 'counter');
  assert.equal(type.get(METRIC_NAMES.latency), 'histogram');
  assert.equal(type.get(METRIC_NAMES.queueDepth), 'gauge');
  const value = (name: string, labels: Record<string, string>): number | undefined =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(value(METRIC_NAMES.requests, { model: 'bert-1.3b', group: 'all' }), 9);
  assert.equal(value(METRIC_NAMES.withinSlo, { model: 'bert-1.3b', group: 'all' }), 6);
  assert.equal(value(METRIC_NAMES.withinSlo, { model: 'all' }), undefined, 'within-SLO is counted per model only');
  assert.equal(value(METRIC_NAMES.requests, { model: 'all', group: 'g0' }), 8, 'a group counts what was routed to it');
  assert.equal(
    value(METRIC_NAMES.rejections, { model: 'we"ird\\', group: 'all' }),
    3,
    'label values are escaped and read back',
  );
  assert.equal(
    value(METRIC_NAMES.rejections, { model: 'all', group: 'g0' }),
    0,
    'rejections happen before a group is chosen',
  );
  assert.equal(value(METRIC_NAMES.errors, { model: 'bert-1.3b' }), 1);
  assert.equal(value(METRIC_NAMES.queueDepth, { group: 'g0' }), 2);
  assert.equal(value(METRIC_NAMES.placementVersion, {}), 7);
});

test('histogram buckets are cumulative, in seconds, and +Inf equals the count', async () => {
  const m = metrics();
  const { samples } = parse(await m.text());
  const h = METRIC_NAMES.latency;
  for (const [model, group] of [
    ['bert-1.3b', 'all'],
    ['all', 'g0'],
  ]) {
    const series = samples.filter((s) => s.labels.model === model && s.labels.group === group);
    const buckets = series.filter((s) => s.name === `${h}_bucket`);
    assert.deepEqual(
      buckets.map((b) => b.labels.le),
      ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'],
    );
    // observations 3 | 10 | 11 | 50 | 500 | 2000, 2500 ms (10 ms falls in le=0.01: bounds are inclusive)
    assert.deepEqual(
      buckets.map((b) => b.value),
      [1, 2, 3, 4, 4, 4, 5, 5, 7, 7, 7, 7],
    );
    const count = series.find((s) => s.name === `${h}_count`)?.value;
    assert.equal(count, 7);
    assert.equal(buckets.at(-1)?.value, count);
    assert.ok(Math.abs((series.find((s) => s.name === `${h}_sum`)?.value ?? 0) - 5.074) < 1e-9);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'monotone');
  }
  const empty = samples.filter((s) => s.labels.group === 'g1' && s.name === `${h}_bucket`);
  assert.equal(empty.length, 12, 'a group with nothing served has its series, all zero');
  assert.ok(empty.every((b) => b.value === 0));
  // stats() reads the same histogram: the same counts, in the same cumulative form.
  const { models, groups } = await m.latencies();
  assert.deepEqual(
    models.get('bert-1.3b')?.buckets.map((b) => b.count),
    [1, 2, 3, 4, 4, 4, 5, 5, 7, 7, 7],
  );
  assert.equal(groups.get('g0')?.count, 7);
  assert.equal(groups.get('g1')?.count, 0);
  m.removeGroup('g1');
  assert.doesNotMatch(
    await m.text(),
    /_latency_seconds_bucket\{[^}]*group="g1"/,
    'a forgotten group leaves the histogram',
  );
});

test('serveMetrics: /metrics serves the text format, /healthz follows the source', async () => {
  let healthy = true;
  const m = metrics();
  const server = await serveMetrics(
    async () => {
      if (!healthy) throw new Error('dispatcher not ready');
      return await m.text();
    },
    { host: '127.0.0.1' },
  );
  try {
    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
    assert.equal(await metrics.text(), await m.text());
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

test('METRICS_PORT: a port, off when unset, garbage rejected', () => {
  assert.equal(readEnvironment({ METRICS_PORT: '9464' }).metricsPort, 9464);
  assert.equal(readEnvironment({}).metricsPort, undefined);
  assert.throws(() => readEnvironment({ METRICS_PORT: 'ninety' }), /not a port/);
});
