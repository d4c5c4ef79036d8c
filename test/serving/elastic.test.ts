// Devices leaving and joining: the dispatcher stops routing to a group whose device left, the
// planner re-places on the devices left, and again when a new worker joins.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ActorEvent, encode } from '../../bus/index.js';
import { GpuWorker } from '../../serving/worker/gpu-worker.js';
import { until } from '../helpers/until.js';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

describe('serving runtime: devices leaving and joining', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 3,
      profiles: [testProfile('a', 0.01), testProfile('b', 0.01), testProfile('slow', 0.3)],
      planner: { strategy: 'round-robin', deviceSettleMs: 200 },
    });
    await c.planner.call('replace', 'initial');
  });
  after(() => c?.close());

  it('requests in flight on a group whose device died are retried on another group', async () => {
    const pending = c.infer('slow', { id: 'victim', slo: 2 });
    await new Promise((r) => setTimeout(r, 50));
    const busy = (await c.dispatcher.call('stats')).groups.find((g) => g.inflight > 0);
    assert.ok(busy, 'the request is in flight');
    const placement = (await c.planner.call('current'))!;
    const device = placement.groups.find((g) => g.id === busy.id)!.devices[0][0];
    // What the registry's dead watcher publishes when a heartbeat expires (the device itself keeps
    // running here, so its late completion must not answer the retried request). Its own id: a dead
    // event for another incarnation of a live device would be ignored.
    const event: ActorEvent = {
      kind: 'actor.dead',
      at: new Date().toISOString(),
      actor: {
        id: c.system.local(device)!.id,
        name: device,
        kind: 'GpuWorker',
        host: 'h',
        pid: 1,
        startedAt: new Date().toISOString(),
        state: 'dead',
      },
    };
    c.client.publish('ms.events.actor.dead', encode(event));
    const reply = await pending;
    assert.equal(reply.status, 'ok', reply.reason);
    assert.notEqual(reply.group, busy.id, 'served by another group');
    assert.ok(reply.timings.total > 300, 'it ran again from the start');
    await new Promise((r) => setTimeout(r, 500)); // the planner re-places after the (fake) death
  });

  it('a leaving device takes only its group out; the planner re-places without it, then with a newcomer', async () => {
    const first = (await c.planner.call('current'))!;
    assert.equal(first.groups.length, 3);
    const goneGroup = first.groups.find((g) => g.devices.flat().includes('gpu-2'))!.id;
    await c.system.stop('gpu-2');
    // Requests keep being served at once, by the groups left.
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => c.infer(i % 2 ? 'a' : 'b', { id: `r${i}` })),
    );
    assert.deepEqual(
      replies.filter((r) => r.status !== 'ok'),
      [],
    );
    assert.ok(
      replies.every((r) => r.group !== goneGroup),
      'nothing routed to the group of the device that left',
    );
    await until('a placement without gpu-2', async () => {
      const p = await c.planner.call('current');
      return p !== null && p.version > first.version && !p.groups.some((g) => g.devices.flat().includes('gpu-2'));
    });
    await c.system.spawn('gpu-3', new GpuWorker());
    await until(
      'a placement using gpu-3',
      async () => (await c.planner.call('current'))?.groups.some((g) => g.devices.flat().includes('gpu-3')) ?? false,
    );
    await new Promise((r) => setTimeout(r, 100));
    const later = await Promise.all(Array.from({ length: 20 }, (_, i) => c.infer(i % 2 ? 'a' : 'b', { id: `s${i}` })));
    assert.deepEqual(
      later.filter((r) => r.status !== 'ok'),
      [],
    );
    const stats = await c.dispatcher.call('stats');
    assert.equal(stats.placementVersion, (await c.planner.call('current'))!.version);
  });
});
