// The dispatcher's stats() rendered for Prometheus: per-model and per-group series.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { metricsSnapshot } from '../../actors/dispatcher-metrics.js';
import { renderMetrics } from '../../actors/metrics.js';
import type { DispatcherStats } from '../../actors/dispatcher-stats.js';

const stats: DispatcherStats = {
  dispatcher: 'd1', placementVersion: 3, inflight: 1,
  totals: { requests: 5, ok: 3, withinSlo: 3, rejected: 1, errors: 1 },
  peers: { present: false, notesSent: 0, notesReceived: 0 },
  models: {
    a: { requests: 5, ok: 3, withinSlo: 3, rejected: 1, errors: 1, latencyMs: { count: 3, mean: 20, p50: 20, p99: 40 },
      latencySeconds: { sum: 0.06, count: 3, buckets: [{ le: 0.005, count: 0 }, { le: 0.025, count: 2 }, { le: 0.05, count: 2 }] } },
  },
  groups: [{ id: 'v3-0', version: 3, models: ['a'], routed: 4, ok: 3, errors: 1, inflight: 1, backlogMs: 0, dead: false, lostDevices: [], current: true,
    latencyMs: { boundsMs: [5, 25, 50], counts: [0, 2, 0, 1], sumMs: 60 } }],
};

describe('dispatcher metrics snapshot', () => {
  let text = '';
  before(() => { text = renderMetrics(metricsSnapshot(stats)); });

  it('has a series per model (group "all") with rejections and its histogram', () => {
    assert.match(text, /meshserve_requests_total\{model="a",group="all"\} 5/);
    assert.match(text, /meshserve_rejections_total\{model="a",group="all"\} 1/);
    assert.match(text, /meshserve_request_latency_seconds_bucket\{model="a",group="all",le="0.025"\} 2/);
    // one request above the last bound: +Inf = count = 3
    assert.match(text, /meshserve_request_latency_seconds_bucket\{model="a",group="all",le="\+Inf"\} 3/);
    assert.match(text, /meshserve_request_latency_seconds_sum\{model="a",group="all"\} 0.06/);
  });

  it('has a series per group (model "all"), queue depth and placement version', () => {
    assert.match(text, /meshserve_requests_total\{model="all",group="v3-0"\} 4/);
    assert.match(text, /meshserve_errors_total\{model="all",group="v3-0"\} 1/);
    assert.match(text, /meshserve_request_latency_seconds_count\{model="all",group="v3-0"\} 3/);
    assert.match(text, /meshserve_queue_depth\{group="v3-0"\} 1/);
    assert.match(text, /meshserve_placement_version 3/);
  });
});
