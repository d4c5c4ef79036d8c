// Real hosts (network namespaces on one machine): a GPU worker's host is cut off from the network
// without any of its TCP connections closing (its switch port goes down: packets are dropped), so
// NATS keeps its subscriptions and nothing says "no responders". Only the registry notices, when
// the worker's heartbeat expires (the heartbeat TTL). Checked: every admitted request is answered
// (served, retried on another group, or an error naming the failure), none twice; the planner
// re-places without the host; once the link is back, the worker is registered again and placed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type NetnsCluster, startNetnsCluster } from '../../dev/faults/netns-cluster.js';
import { netnsUnavailable } from '../../dev/netns.js';
import { testProfile } from '../serving/helpers.js';
import { fmtMs, LoadClient, recordGroupEvents, sleep, statusCounts, until } from './helpers.js';

const unavailable = netnsUnavailable();
const VICTIM = 'gpu-1';

const devicesOf = (p: { groups: Array<{ devices: string[][] }> } | null): string[] =>
  (p?.groups.flatMap((g) => g.devices.flat()) ?? []).sort();

describe('reliability: a worker host cut off the network (namespaces)', { skip: unavailable ?? false }, () => {
  let c: NetnsCluster;
  before(async () => {
    c = await startNetnsCluster({
      workers: 3,
      natsServers: 3,
      profiles: [testProfile('a', 0.03, 8)],
      planner: { strategy: 'round-robin' },
    });
  });
  after(() => c?.close());

  it('detected by the heartbeat TTL, requests retried or answered, re-placed; healed, placed again', {
    timeout: 90_000,
  }, async (t) => {
    const ttl = 3 * c.heartbeatIntervalMs;
    const first = (await c.planner.call('current'))!;
    const victimGroup = first.groups.find((g) => g.devices.flat().includes(VICTIM))!;
    const groupEvents = recordGroupEvents(c.client, c.subjects);
    t.after(() => groupEvents.stop());
    const placedAt: Array<{ at: number }> = [];
    const placementSub = c.client.subscribe(c.subjects.event('placement'), {
      callback: () => void placedAt.push({ at: Date.now() }),
    });
    t.after(() => placementSub.unsubscribe());
    const load = new LoadClient(c.client, c.subjects, 'p');
    t.after(() => load.close());
    // 60 req/s of 30 ms on three single-device groups: about 60% busy, every group serves.
    const stopLoad = load.steady(60, () => ({ model: 'a', slo: 1 }));
    await sleep(2_000);
    const cutAt = Date.now();
    c.netns.cut(c.workerHost(VICTIM));
    await until(
      'the victim group out of routing',
      () => groupEvents.events.some((e) => e.kind === 'group.out' && e.group === victimGroup.id),
      ttl + 10_000,
      10,
    );
    const out = groupEvents.events.find((e) => e.kind === 'group.out' && e.group === victimGroup.id)!;
    await until(
      'a placement without the victim',
      async () => {
        const p = await c.planner.call('current');
        return !!p && !devicesOf(p).includes(VICTIM) && devicesOf(p).length > 0;
      },
      15_000,
      50,
    );
    const replacedAt = placedAt.at(-1)?.at ?? Date.now();
    await sleep(1_500);
    const healedAt = Date.now();
    c.netns.heal(c.workerHost(VICTIM));
    await until(
      'the healed worker placed again',
      async () => devicesOf(await c.planner.call('current')).includes(VICTIM),
      30_000,
      100,
    );
    const placedAgainAt = Date.now();
    await sleep(1_500);
    await stopLoad();
    await load.settle(6_000);

    const all = [...load.records.values()];
    const retried = all.filter((r) => r.replies[0]?.retriedFrom === victimGroup.id);
    const errors = all.filter((r) => r.replies[0]?.status === 'error');
    const afterPlacedAgain = all.filter((r) => r.sentAt > placedAgainAt + 500);
    console.log(
      `# partition (${c.nats.length} NATS servers, heartbeat TTL ${fmtMs(ttl)}): ${all.length} requests ${JSON.stringify(statusCounts(all))}; ` +
        `the cut group out of routing ${fmtMs(out.at - cutAt)} after the cut ("${out.reason}"); re-placed ${fmtMs(replacedAt - cutAt)} after it; ` +
        `routed again elsewhere ${retried.filter((r) => r.replies[0].status === 'ok').length} ok of ${retried.length}; errors ${errors.length}: ${[...new Set(errors.map((r) => r.replies[0].reason?.replace(/\d+(\.\d+)? ms/g, 'N ms')))].slice(0, 3).join(' | ')}; ` +
        `healed: placed again ${fmtMs(placedAgainAt - healedAt)} after the link came back; lost ${load.unanswered().length}, answered twice ${load.duplicates().length}`,
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
    assert.match(out.reason ?? '', /heartbeat expired/, 'noticed through the registry');
    assert.ok(out.at - cutAt >= ttl - c.heartbeatIntervalMs, `out after ${out.at - cutAt} ms: not before the TTL`);
    assert.ok(out.at - cutAt <= ttl + 2 * c.heartbeatIntervalMs + 1_000, `out after ${out.at - cutAt} ms`);
    for (const r of errors)
      assert.match(r.replies[0].reason ?? '', new RegExp(`${VICTIM}|${victimGroup.id}`), 'an error names the failure');
    assert.ok(
      afterPlacedAgain.length > 20 && afterPlacedAgain.every((r) => r.replies[0]?.status === 'ok'),
      'served once the worker is placed again',
    );
    const healedGroup = (await c.planner.call('current'))!.groups.find((g) => g.devices.flat().includes(VICTIM))!;
    assert.ok(
      afterPlacedAgain.some((r) => r.replies[0]?.group === healedGroup.id),
      'the healed worker serves again',
    );
  });
});

if (unavailable) console.log(`# skipped the network-namespace tests: ${unavailable}`);
