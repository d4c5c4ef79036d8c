// A live dispatcher's metrics: the Prometheus exposition it serves (the `metrics` actor method,
// what `meshserve start` scrapes over the bus) agrees with its stats(), series per model (group
// "all") and per group (model "all").
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

describe('dispatcher metrics', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ workers: 1, profiles: [testProfile('a', 0.01)], planner: { strategy: 'round-robin' } });
    await c.planner.call('replace', 'test');
    for (let i = 0; i < 3; i++) assert.equal((await c.infer('a', { slo: 5 })).status, 'ok');
    assert.equal((await c.infer('a', { slo: 0.001 })).status, 'rejected');
  });
  after(() => c?.close());

  it('counts per model and per group, with the histogram stats() reads', async () => {
    const text = await c.dispatcher.call('metrics');
    const stats = await c.dispatcher.call('stats');
    const group = stats.groups.find((g) => g.current)!.id;
    assert.match(text, /^meshserve_requests_total\{model="a",group="all"\} 4$/m);
    assert.match(text, /^meshserve_rejections_total\{model="a",group="all"\} 1$/m);
    assert.match(
      text,
      new RegExp(`^meshserve_requests_total\\{model="all",group="${group}"\\} 4$`, 'm'),
      'routed, rejections included',
    );
    assert.match(text, /^meshserve_request_latency_seconds_bucket\{le="\+Inf",model="a",group="all"\} 3$/m);
    assert.match(
      text,
      new RegExp(`^meshserve_request_latency_seconds_count\\{model="all",group="${group}"\\} 3$`, 'm'),
    );
    assert.match(text, new RegExp(`^meshserve_queue_depth\\{group="${group}"\\} 0$`, 'm'));
    assert.match(text, /^meshserve_placement_version 1$/m);
    const a = stats.models.a.latencySeconds;
    assert.equal(a.count, 3);
    assert.equal(a.buckets.at(-1)?.count, 3, 'every request well under 10 s');
    const sum = Number(/^meshserve_request_latency_seconds_sum\{model="a",group="all"\} (\S+)$/m.exec(text)?.[1]);
    assert.ok(Math.abs(sum - a.sum) < 1e-9, `sum ${sum} vs stats ${a.sum}`);
    assert.equal(stats.groups.find((g) => g.id === group)?.latencySeconds.count, 3);
  });
});
