// Round trips through the live runtime: a 2-stage pipeline, a sharded stage, JSON clients.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

describe('serving runtime: pipelines', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 4,
      profiles: [testProfile('pipe', 0.04), testProfile('shard', 0.04)],
      planner: {
        strategy: 'static',
        groups: [
          { config: { pp: 2, op: 1 }, models: ['pipe'] },
          { config: { pp: 1, op: 2 }, models: ['shard'] },
        ],
      },
    });
    const summary = await c.planner.call('replace', 'test');
    assert.equal(summary.groups.length, 2);
  });
  after(() => c?.close());

  it('a request passes both stages of a 2-stage pipeline and comes back with its output and timings', async () => {
    const reply = await c.infer('pipe', { id: 'r1', input: { tokens: [1, 2, 3] }, slo: 1 });
    assert.equal(reply.status, 'ok', reply.reason);
    assert.equal(reply.id, 'r1');
    assert.deepEqual(reply.output, { tokens: [1, 2, 3] });
    assert.equal(reply.withinSlo, true);
    const t = reply.timings;
    // The two stages take the profiled time (pp2 synthesised from 40 ms, with the pipeline penalty).
    assert.ok(t.service! >= 40 && t.service! < 80, `service ${t.service} ms`);
    assert.ok(t.total >= t.service!, 'total covers service');
    assert.ok(t.start! >= t.arrival && t.finish! >= t.start!);
    const [s0, s1] = [c.workers[0].status(), c.workers[1].status()];
    assert.deepEqual([s0.processed, s1.processed], [1, 1], 'each stage ran once');
    assert.equal(s0.state, 'ready');
  });

  it('both shards of an intra-operator stage run the work and synchronise before it completes', async () => {
    const before = c.workers.slice(2).map((w) => w.status().processed);
    const reply = await c.infer('shard', { input: 7 });
    assert.equal(reply.status, 'ok', reply.reason);
    assert.equal(reply.output, 7);
    assert.ok(reply.id.length > 0, 'an id is made up when the client sends none');
    const afterCounts = c.workers.slice(2).map((w) => w.status().processed);
    assert.deepEqual(
      afterCounts.map((n, i) => n - before[i]),
      [1, 1],
    );
  });

  it('JSON clients get JSON replies', async () => {
    const reply = await c.infer('pipe', { id: 'j1', input: 'hello', slo: 2 }, { json: true });
    assert.equal(reply.status, 'ok');
    assert.equal(reply.output, 'hello');
  });

  it('only the actor methods are callable over the bus, not the internals', async () => {
    const err = await c.system
      .actor<{ request(): void }>('dispatcher')
      .call('request')
      .catch((e: unknown) => e);
    assert.match(String(err), /has no method "request"; it has: stats/);
    const status = await c.system.actor<{ status(): { state: string } }>('gpu-0').call('status');
    assert.equal(status.state, 'ready');
  });

  it('the dispatcher counts per model and per group', async () => {
    const s = await c.dispatcher.call('stats');
    assert.equal(s.placementVersion, 1);
    assert.ok(s.models.pipe.ok >= 2);
    const h = s.models.pipe.latencySeconds;
    assert.equal(h.count, s.models.pipe.ok);
    assert.ok(h.sum > 0.04 * h.count, 'each took at least the two stages');
    assert.deepEqual(h.buckets.find((b) => b.le === 0.025)!.count, 0);
    assert.equal(h.buckets.at(-1)!.count, h.count, 'cumulative: the last bucket holds all');
    assert.ok(s.groups.find((g) => g.id === 'v1-0')!.routed >= 2);
  });
});
