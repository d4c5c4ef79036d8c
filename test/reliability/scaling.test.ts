// Online scaling with worker processes: scale-out while overloaded (the planner includes the new
// workers and attainment recovers), then scale-in by draining one worker with SIGTERM (the planner
// re-places without it, it finishes what it holds and exits 0, no request is lost).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { testProfile } from '../serving/helpers.js';
import {
  attainment,
  fmtMs,
  LoadClient,
  type ProcessCluster,
  sleep,
  startProcessCluster,
  statusCounts,
  until,
} from './helpers.js';

const devicesOf = (p: { groups: Array<{ devices: string[][] }> } | null): string[] =>
  (p?.groups.flatMap((g) => g.devices.flat()) ?? []).sort();

describe('reliability: online scaling with worker processes', () => {
  let c: ProcessCluster;
  before(async () => {
    // "a" takes 50 ms on one device: each worker serves ~19 req/s.
    c = await startProcessCluster({
      workers: 2,
      profiles: [testProfile('a', 0.05, 8)],
      planner: { strategy: 'round-robin' },
    });
  });
  after(() => c?.close());

  it('scale-out: new workers are placed while serving and attainment recovers', { timeout: 60_000 }, async (t) => {
    const load = new LoadClient(c.client, c.subjects, 'out');
    t.after(() => load.close());
    // 60 req/s with a 0.3 s SLO: two workers (~38 req/s) are overloaded, four (~76 req/s) are not.
    const stopLoad = load.steady(60, () => ({ model: 'a', slo: 0.3 }));
    const started = Date.now();
    await sleep(4_000);
    const addedAt = Date.now();
    await Promise.all([c.cluster.addWorker('gpu-2'), c.cluster.addWorker('gpu-3')]);
    await until(
      'a placement on four workers',
      async () => devicesOf(await c.planner.call('current')).length === 4,
      15_000,
      50,
    );
    const placedAt = Date.now();
    await sleep(5_000);
    await stopLoad();
    await load.settle(5_000);
    const windows: string[] = [];
    for (let t = started; t + 1_000 <= placedAt + 5_000; t += 1_000)
      windows.push((attainment(load.records.values(), t, t + 1_000).attainment * 100).toFixed(0));
    const beforeAdd = attainment(load.records.values(), started + 1_000, addedAt);
    const afterPlace = attainment(load.records.values(), placedAt + 1_000, placedAt + 5_000);
    console.log(
      `# scale-out: ${load.records.size} requests ${JSON.stringify(statusCounts(load.records.values()))}; attainment per 1 s window (%): ${windows.join(' ')}; ` +
        `before ${(beforeAdd.attainment * 100).toFixed(1)}% (2 workers) → after ${(afterPlace.attainment * 100).toFixed(1)}% (4 workers); ` +
        `workers started → placed on them ${fmtMs(placedAt - addedAt)}`,
    );
    assert.deepEqual(
      load.unanswered().map((r) => r.id),
      [],
      'every request answered',
    );
    assert.deepEqual(
      load.duplicates().map((r) => r.id),
      [],
      'no request answered twice',
    );
    assert.equal(statusCounts(load.records.values()).error, 0, 'overload is shed by rejection, nothing fails');
    assert.deepEqual(devicesOf(await c.planner.call('current')), ['gpu-0', 'gpu-1', 'gpu-2', 'gpu-3']);
    assert.ok(beforeAdd.attainment < 0.8, `overloaded before: ${beforeAdd.attainment}`);
    assert.ok(afterPlace.attainment >= 0.95, `recovered after: ${afterPlace.attainment}`);
  });

  it('scale-in: a drained worker hands its work over and exits; nothing is lost', { timeout: 60_000 }, async (t) => {
    const load = new LoadClient(c.client, c.subjects, 'in');
    t.after(() => load.close());
    // 30 req/s: three workers serve it comfortably. Ties between idle groups go to the first one,
    // so gpu-0's group is the busiest: it must keep serving until the planner has re-placed.
    const stopLoad = load.steady(30, () => ({ model: 'a', slo: 1 }));
    await sleep(1_500);
    const drained = 'gpu-0';
    const drainedGroup = (await c.planner.call('current'))!.groups.find((g) => g.devices.flat().includes(drained))!.id;
    const child = c.child(drained);
    const exited = once(c.cluster.supervisor, 'exit');
    const drainedAt = Date.now();
    const stopped = child.stop(); // SIGTERM: the worker drains
    await until(
      `a placement without ${drained}`,
      async () => !devicesOf(await c.planner.call('current')).includes(drained),
      15_000,
      50,
    );
    const replacedAt = Date.now();
    await stopped;
    const exitedAt = Date.now();
    const [name, code] = (await exited) as [string, number | null];
    await sleep(1_500);
    await stopLoad();
    await load.settle(5_000);
    const counts = statusCounts(load.records.values());
    const servedWhileDraining = [...load.records.values()].filter(
      (r) => r.replies[0]?.group === drainedGroup && r.replies[0].timings.dispatched! > drainedAt,
    ).length;
    const retried = [...load.records.values()].filter((r) => r.replies[0]?.retriedFrom !== undefined).length;
    console.log(
      `# scale-in: ${load.records.size} requests ${JSON.stringify(counts)}; ${drained} served ${servedWhileDraining} requests routed to it after its SIGTERM, ${retried} retried; ` +
        `SIGTERM → placement without it ${fmtMs(replacedAt - drainedAt)}, → process exit ${fmtMs(exitedAt - drainedAt)} (code ${code})`,
    );
    assert.deepEqual([name, code], [drained, 0], 'the drained worker exited by itself');
    assert.equal(child.state, 'stopped');
    assert.deepEqual(devicesOf(await c.planner.call('current')), ['gpu-1', 'gpu-2', 'gpu-3']);
    assert.ok(servedWhileDraining > 0, 'it kept serving while the planner re-placed');
    assert.ok(exitedAt >= replacedAt - 100, 'it stopped only after the placement without it');
    assert.equal(retried, 0, 'nothing had to be run again');
    assert.deepEqual(
      load.unanswered().map((r) => r.id),
      [],
      'every request answered',
    );
    assert.deepEqual(
      load.duplicates().map((r) => r.id),
      [],
      'no request answered twice',
    );
    assert.deepEqual(
      counts,
      { ok: load.records.size, rejected: 0, error: 0, noResponders: 0, none: 0 },
      'every request served',
    );
  });
});
