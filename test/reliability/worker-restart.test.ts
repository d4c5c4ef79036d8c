// A GPU worker process killed under load, with the supervisor's crash restarts on (as under
// `meshserve start`): the new incarnation of the device is back within about a second, and
// nothing the dead incarnation leaves in the registry may take the device out again. Checked:
// the registry lists one gpu-2 once the new one is up; the planner never fails (no "device gpu-2
// is in two groups"); when the dead incarnation's heartbeat expires the group stays in routing;
// every request gets exactly one reply, and none sent after the group is back fails.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { testProfile } from '../serving/helpers.js';
import {
  fmtMs,
  LoadClient,
  type ProcessCluster,
  recordGroupEvents,
  sleep,
  startProcessCluster,
  statusCounts,
  until,
} from './helpers.js';

const VICTIM = 'gpu-2';

describe('reliability: a GPU worker process killed and restarted by its supervisor', () => {
  let c: ProcessCluster;
  before(async () => {
    c = await startProcessCluster({
      workers: 4,
      profiles: [testProfile('a', 0.05, 8), testProfile('b', 0.02, 8)],
      planner: { strategy: 'round-robin' },
      maxRestarts: 3,
      // The default heartbeat (TTL 3 s): a restart on a busy host still comes back well inside it.
      heartbeatIntervalMs: 1_000,
    });
  });
  after(() => c?.close());

  it('the restarted device serves on; its dead incarnation never takes it out again', {
    timeout: 60_000,
  }, async (t) => {
    const keys = new RuntimeKeys();
    const placement = (await c.planner.call('current'))!;
    const victimGroup = placement.groups.find((g) => g.devices.flat().includes(VICTIM))!;
    assert.deepEqual(victimGroup.models, ['a']);
    const groupEvents = recordGroupEvents(c.client, c.subjects);
    t.after(() => groupEvents.stop());
    // A failed attempt is kept in Redis until the next success deletes it: poll, so none goes unseen.
    const plannerErrors = new Set<string>();
    const errorPoll = setInterval(() => {
      c.system.redis
        ?.get(keys.placementError())
        .then((e) => e && plannerErrors.add(JSON.parse(e).error))
        .catch(() => undefined);
    }, 50);
    t.after(() => clearInterval(errorPoll));
    const load = new LoadClient(c.client, c.subjects);
    t.after(() => load.close());
    // "a": 33 ms apart, 50 ms each, so both of its groups serve.
    const stopLoad = [load.steady(30, () => ({ model: 'a', slo: 2 })), load.steady(20, () => ({ model: 'b', slo: 1 }))];
    await sleep(1_500);
    const victim = c.child(VICTIM);
    const oldId = victim.actorId;
    const killedAt = Date.now();
    process.kill(victim.pid!, 'SIGKILL');
    await until('the supervisor to restart gpu-2', () => victim.restarts === 1 && victim.state === 'running', 15_000);
    const readyAt = Date.now();
    const incarnations = (await c.system.list({ name: VICTIM })).map((e) => e.id);
    await until(
      'gpu-2 back in routing',
      () => groupEvents.events.some((e) => e.kind === 'group.in' && e.group === victimGroup.id && e.at >= killedAt),
      10_000,
    );
    const backAt = groupEvents.events.find((e) => e.kind === 'group.in' && e.group === victimGroup.id)!.at;
    // Past the dead incarnation's heartbeat TTL (3 intervals), with room for the dead sweep and a re-placement.
    await sleep(Math.max(0, killedAt + 3 * c.heartbeatIntervalMs + 2_500 - Date.now()));
    await Promise.all(stopLoad.map((stop) => stop()));
    await load.settle(6_000);

    const all = [...load.records.values()];
    const failedAfterBack = all.filter((r) => r.sentAt > backAt && r.replies[0]?.status !== 'ok');
    const outAfterBack = groupEvents.events.filter(
      (e) => e.kind === 'group.out' && e.group === victimGroup.id && e.at > backAt,
    );
    clearInterval(errorPoll);
    const now = (await c.planner.call('current'))!;
    // Served by a group of the restarted device (of the placement in force, whichever it is).
    const victimGroups = new Set(
      [placement, now].flatMap((p) => p.groups.filter((g) => g.devices.flat().includes(VICTIM)).map((g) => g.id)),
    );
    const servedByVictim = all.filter((r) => r.sentAt > backAt && victimGroups.has(r.replies[0]?.group ?? ''));
    console.log(
      `# worker restart: ${all.length} requests ${JSON.stringify(statusCounts(all))}; restarted and ready ${fmtMs(readyAt - killedAt)} after SIGKILL, ` +
        `back in routing ${fmtMs(backAt - killedAt)} after it; registry entries for gpu-2 once ready: ${incarnations.length}; ` +
        `group.out after it was back: ${outAfterBack.length}${outAfterBack[0] ? ` ("${outAfterBack[0].reason}")` : ''}; ` +
        `failed after it was back: ${failedAfterBack.length}; placement v${placement.version} → v${now.version}; planner errors: ${[...plannerErrors].join(' | ') || 'none'}`,
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
    assert.deepEqual(incarnations.length, 1, `the registry lists the dead incarnation ${oldId} beside the new one`);
    assert.deepEqual([...plannerErrors], [], 'the planner never failed');
    assert.deepEqual(
      outAfterBack.map((e) => e.reason),
      [],
      'the group never left routing again',
    );
    assert.deepEqual(
      failedAfterBack.map((r) => `${r.id}: ${r.replies[0]?.reason ?? 'no reply'}`),
      [],
      'nothing fails once the device is back',
    );
    assert.ok(servedByVictim.length > 0, 'the restarted device serves');
    assert.ok(
      now.groups.some((g) => g.devices.flat().includes(VICTIM)),
      'the restarted device is still placed',
    );
    for (const name of ['planner', 'dispatcher', 'gpu-0', 'gpu-1', 'gpu-3'])
      assert.equal(c.child(name).restarts, 0, `$namedid not crash`);
  });
});
