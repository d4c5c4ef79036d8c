// A planner with auto-place that starts after the GPU workers registered (compose starts them
// together; their join events reach nobody) places on them by itself, and a planner restarted
// after a placed device left places around it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import { GpuWorker } from '../../serving/worker/gpu-worker.js';
import { until } from '../helpers/until.js';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

describe('planner: auto-place at start', () => {
  let c: TestCluster;
  const settle = { autoPlace: true, deviceSettleMs: 100, strategy: 'round-robin' } as const;
  before(async () => {
    // startCluster spawns the workers first, the planner last: every join happened before it listened.
    c = await startCluster({
      workers: 3,
      profiles: [testProfile('a', 0.01), testProfile('b', 0.01)],
      planner: { ...settle, models: ['a', 'b'] },
    });
  });
  after(() => c?.close());

  it('places on the devices registered before it started, with no call and no join event', async () => {
    await until('a placement', async () => (await c.planner.call('current')) !== null);
    const placed = (await c.planner.call('current'))!;
    assert.deepEqual([...new Set(placed.groups.flatMap((g) => g.devices.flat()))].sort(), ['gpu-0', 'gpu-1', 'gpu-2']);
    assert.match(placed.reason, /planner started with 3 devices registered/);
    const reply = await c.infer('a', { id: 'r1', slo: 5 });
    assert.equal(reply.status, 'ok', reply.reason);
  });

  it('a failed attempt is kept in Redis for status, and cleared by the next success', async () => {
    await c.planner.call('configure', { models: ['a', 'no-such-model'] });
    await assert.rejects(c.planner.call('replace', 'operator'), /no profile for model "no-such-model"/);
    const kept = JSON.parse((await c.system.redis!.get('ms:placement:error'))!) as {
      reason: string;
      error: string;
      at: string;
    };
    assert.equal(kept.reason, 'operator');
    assert.match(kept.error, /no profile for model "no-such-model"/);
    assert.ok(Date.now() - Date.parse(kept.at) < 10_000);
    await c.planner.call('configure', { models: ['a', 'b'] });
    await c.planner.call('replace', 'operator');
    assert.equal(await c.system.redis!.get('ms:placement:error'), null);
  });

  it('a planner restarted after a placed device left places without it', async () => {
    const before = (await c.planner.call('current'))!;
    await c.system.stop('planner');
    await c.system.stop('gpu-2');
    await c.system.spawn('planner', new PlannerActor({ ...settle, rateCheckSec: 0, models: ['a', 'b'] }));
    await until('a placement without gpu-2', async () => {
      const p = await c.planner.call('current');
      return p !== null && p.version > before.version && !p.groups.some((g) => g.devices.flat().includes('gpu-2'));
    });
    assert.match((await c.planner.call('current'))!.reason, /placed devices gone: gpu-2/);
    const reply = await c.infer('b', { id: 'r2', slo: 5 });
    assert.equal(reply.status, 'ok', reply.reason);
  });

  it('a planner restarted after a device joined (auto-place) takes it in', async () => {
    const before = (await c.planner.call('current'))!;
    await c.system.stop('planner');
    await c.system.spawn('gpu-9', new GpuWorker({ retireIdleMs: 300 }));
    await c.system.spawn('planner', new PlannerActor({ ...settle, rateCheckSec: 0, models: ['a', 'b'] }));
    await until('a placement using gpu-9', async () => {
      const p = await c.planner.call('current');
      return p !== null && p.version > before.version && p.groups.some((g) => g.devices.flat().includes('gpu-9'));
    });
    assert.match((await c.planner.call('current'))!.reason, /devices not placed yet: gpu-9/);
  });
});
