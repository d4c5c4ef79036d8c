// A short NATS outage is not a slow device. Requests in flight across a 2 s outage come back late
// (the activation between the two stages of a pipeline waited in the worker's outbox); the
// dispatcher must not read that as the group running late and push its clocks seconds ahead,
// which would reject new requests on an idle group once everyone is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testProfile } from '../serving/helpers.js';
import {
  fmtMs,
  LoadClient,
  outage,
  type ProcessCluster,
  sleep,
  startProcessCluster,
  statusCounts,
  until,
} from './helpers.js';

const ACTORS = ['planner', 'dispatcher', 'gpu-0', 'gpu-1'];

describe('reliability: a 2 s NATS outage', () => {
  let c: ProcessCluster;
  before(async () => {
    c = await startProcessCluster({
      workers: 2,
      profiles: [testProfile('a', 0.2, 8)],
      planner: { strategy: 'static', groups: [{ config: { pp: 2, op: 1 }, models: ['a'] }] },
    });
  });
  after(() => c?.close());

  it('leaves no rejections behind once everyone has reconnected', { timeout: 60_000 }, async (t) => {
    const load = new LoadClient(c.client, c.subjects, 'o');
    t.after(() => load.close());
    // 4 req/s on a two-stage pipeline of about 0.1 s per stage: each stage about 40% busy.
    const stopLoad = load.steady(4, () => ({ model: 'a', slo: 0.6 }));
    await sleep(1_500);
    // Two requests at stage 0 when the server dies: their activations wait in the worker's outbox
    // and reach stage 1 about 2.5 s late; they must still be served (a loose SLO lets them).
    const group = (await c.planner.call('current'))!.groups[0].id;
    let atStage0 = 0;
    const tap = c.client.subscribe(c.subjects.stage(group, 0), { callback: () => void atStage0++ });
    await c.client.flush();
    const before = atStage0;
    const held = [load.send({ model: 'a', slo: 10 }), load.send({ model: 'a', slo: 10 })];
    await until('both at stage 0', () => atStage0 >= before + 2, 2_000, 2);
    tap.unsubscribe();
    await sleep(10);
    const { killedAt, restartedAt } = await outage(c.servers.nats, 2_000);
    const answers = async (): Promise<boolean> => {
      const pings = await Promise.allSettled(ACTORS.map((n) => c.system.actor(n, { timeoutMs: 300 }).ping()));
      return pings.every((p) => p.status === 'fulfilled');
    };
    await until('every actor to answer its ping again', answers, 10_000, 50);
    const backAt = Date.now();
    await sleep(2_500);
    await stopLoad();
    await load.settle(4_000);
    const all = [...load.records.values()];
    const after = all.filter((r) => r.sentAt >= backAt);
    const rejectedAfter = after.filter((r) => r.replies[0]?.status === 'rejected');
    console.log(
      `# nats outage: ${all.length} requests ${JSON.stringify(statusCounts(all))}; outage ${fmtMs(restartedAt - killedAt)}; everyone back ${fmtMs(backAt - restartedAt)} after the restart; ` +
        `sent after that ${after.length} ${JSON.stringify(statusCounts(after))}; rejected: ${[...new Set(rejectedAfter.map((r) => r.replies[0].reason))].slice(0, 2).join(' | ') || 'none'}; ` +
        `the two held across it: ${held.map((r) => `${r.replies[0]?.status} in ${fmtMs((r.repliedAt ?? Number.NaN) - r.sentAt)}`).join(', ')}`,
    );
    assert.ok(after.length >= 8, 'requests were sent after the outage');
    assert.deepEqual(
      held.map((r) => r.replies[0]?.status),
      ['ok', 'ok'],
      'the requests held across the outage are served',
    );
    assert.deepEqual(
      rejectedAfter.map((r) => `${r.id}: ${r.replies[0].reason}`),
      [],
      'an idle group rejects nothing after the outage',
    );
    assert.deepEqual(statusCounts(after), { ok: after.length, rejected: 0, error: 0, noResponders: 0, none: 0 });
    assert.deepEqual(
      load.duplicates().map((r) => r.id),
      [],
    );
  });
});
