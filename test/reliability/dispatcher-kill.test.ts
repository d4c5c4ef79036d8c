// A dispatcher process killed (SIGKILL) while it holds requests. What it had accepted keeps
// running on the devices; each completion, finding nobody on its owner's subject, is offered to
// the other dispatchers (`ms.dispatch.orphan.<owner>`), and one of them answers the client.
// Checked with two dispatchers at 50 req/s (the survivor answers the dead one's requests), and
// with the single supervised dispatcher of `meshserve start` (restarted in about 0.1 s; the
// supervisor holds the public subject while no dispatcher is subscribed, so no client gets "no
// responders"): every request a dispatcher accepted gets exactly one reply.
//
// What no server can answer: until the kernel has closed the killed process's connection (a few
// to a hundred milliseconds for a process of this size on a busy host) the NATS server still
// delivers into it, and a request it delivers there is gone before anyone accepted it. Only the
// client's timeout covers those; the test checks that they are exactly such requests: never
// booked on a group, and sent from just before the kill until the process was gone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testProfile } from '../serving/helpers.js';
import {
  fmtMs,
  LoadClient,
  type ProcessCluster,
  type RequestRecord,
  recordAccepted,
  sleep,
  startProcessCluster,
  statusCounts,
  until,
} from './helpers.js';

const SLO = 2;

/** The requests a dead dispatcher (`owner`) had accepted, answered by another one. */
function adoptedFrom(records: Iterable<RequestRecord>, owner: string): RequestRecord[] {
  return [...records].filter((r) => r.replies[0]?.adoptedFrom === owner);
}

/** Kills `name` with SIGKILL; resolves when, and once its process is gone (epoch ms). */
async function killDispatcher(c: ProcessCluster, name: string): Promise<{ killedAt: number; goneAt: number }> {
  const child = c.child(name);
  const gone = new Promise<number>((resolve) => {
    const onExit = (exited: string): void => {
      if (exited !== name) return;
      c.cluster.supervisor.off('exit', onExit);
      resolve(Date.now());
    };
    c.cluster.supervisor.on('exit', onExit);
  });
  const killedAt = Date.now();
  process.kill(child.pid!, 'SIGKILL');
  return { killedAt, goneAt: await gone };
}

/**
 * Every request a dispatcher accepted got exactly one reply; what got none was never accepted and
 * was sent while the killed process could still be delivered to (from `marginMs` before the kill
 * until its process was gone).
 */
function checkNoneLost(
  load: LoadClient,
  accepted: Map<string, string>,
  { killedAt, goneAt }: { killedAt: number; goneAt: number },
  marginMs = 250,
): void {
  const unanswered = load.unanswered();
  assert.deepEqual(
    unanswered.filter((r) => accepted.has(r.id)).map((r) => `${r.id} (accepted by ${accepted.get(r.id)})`),
    [],
    'every accepted request answered',
  );
  assert.deepEqual(
    unanswered
      .filter((r) => r.sentAt < killedAt - marginMs || r.sentAt > goneAt + marginMs)
      .map(
        (r) => `${r.id} sent ${r.sentAt - killedAt} ms after the kill (process gone ${goneAt - killedAt} ms after it)`,
      ),
    [],
    'requests without an answer were all delivered to the dying process',
  );
  assert.deepEqual(
    load.duplicates().map((r) => r.id),
    [],
    'no request answered twice',
  );
}

describe('reliability: a dispatcher process killed under load', () => {
  describe('two dispatchers', () => {
    let c: ProcessCluster;
    before(async () => {
      c = await startProcessCluster({
        workers: 4,
        dispatchers: 2,
        profiles: [testProfile('a', 0.06, 8)],
        planner: { strategy: 'round-robin' },
      });
    });
    after(() => c?.close());

    it('the survivor answers what the dead one held: none lost, none twice', { timeout: 60_000 }, async (t) => {
      const load = new LoadClient(c.client, c.subjects, 'two');
      t.after(() => load.close());
      const tap = recordAccepted(c.client, c.subjects);
      t.after(() => tap.stop());
      const stopLoad = load.steady(50, () => ({ model: 'a', slo: SLO }));
      await sleep(2_000);
      const victimId = c.child('dispatcher-2').actorId!;
      // A burst queues work on every device, half of it accepted by the victim.
      for (let i = 0; i < 12; i++) load.send({ model: 'a', slo: SLO });
      await sleep(20);
      const kill = await killDispatcher(c, 'dispatcher-2');
      await sleep(3_000);
      await stopLoad();
      await load.settle(SLO * 1000 + 3_000);
      const all = [...load.records.values()];
      // Accepted by the victim and not answered before it died: what it held.
      const held = all.filter(
        (r) => tap.accepted.get(r.id) === victimId && !(r.repliedAt !== undefined && r.repliedAt < kill.killedAt),
      );
      const adopted = adoptedFrom(all, victimId);
      const answeredAfter = adopted.map((r) => r.repliedAt! - kill.killedAt);
      const survivor = await c.dispatcher.call('stats');
      console.log(
        `# dispatcher kill (2 dispatchers, 50 req/s, SLO ${SLO} s): ${all.length} requests ${JSON.stringify(statusCounts(all))}; ` +
          `process gone ${fmtMs(kill.goneAt - kill.killedAt)} after SIGKILL; the dead one held ${held.length}, answered by the survivor: ${adopted.length} ${JSON.stringify(statusCounts(adopted))}, ` +
          `${fmtMs(Math.min(...answeredAfter))} to ${fmtMs(Math.max(...answeredAfter))} after the kill; ` +
          `without an answer ${load.unanswered().length} (never accepted, delivered to the dying process), answered twice ${load.duplicates().length}`,
      );
      checkNoneLost(load, tap.accepted, kill);
      assert.equal(statusCounts(all).noResponders, 0, 'the survivor took every new request');
      assert.ok(adopted.length > 0, 'the dead dispatcher held requests, answered by the survivor');
      assert.ok(
        held.every((r) => r.replies.length === 1),
        'everything it had accepted is answered',
      );
      assert.equal(survivor.totals.adopted, adopted.length);
      assert.ok(
        adopted.every((r) => r.replies[0].status === 'ok'),
        'what it held was served',
      );
    });
  });

  describe('the single supervised dispatcher of `meshserve start`', () => {
    let c: ProcessCluster;
    before(async () => {
      c = await startProcessCluster({
        workers: 3,
        profiles: [testProfile('a', 0.06, 8)],
        planner: { strategy: 'round-robin' },
        maxRestarts: 3,
      });
    });
    after(() => c?.close());

    it('is restarted; what it held is answered; requests wait for it instead of "no responders"', {
      timeout: 60_000,
    }, async (t) => {
      const load = new LoadClient(c.client, c.subjects, 'one');
      t.after(() => load.close());
      const tap = recordAccepted(c.client, c.subjects);
      t.after(() => tap.stop());
      const stopLoad = load.steady(30, () => ({ model: 'a', slo: SLO }));
      await sleep(2_000);
      const victim = c.child('dispatcher');
      const victimId = victim.actorId!;
      for (let i = 0; i < 8; i++) load.send({ model: 'a', slo: SLO });
      await sleep(20);
      const kill = await killDispatcher(c, 'dispatcher');
      const { killedAt } = kill;
      await until('the dispatcher restarted', () => victim.restarts === 1 && victim.state === 'running', 15_000);
      const readyAt = Date.now();
      await sleep(2_000);
      await stopLoad();
      await load.settle(SLO * 1000 + 3_000);
      const all = [...load.records.values()];
      const adopted = adoptedFrom(all, victimId);
      const during = all.filter((r) => r.sentAt >= killedAt && r.sentAt < readyAt);
      const answeredAfter = adopted.map((r) => r.repliedAt! - killedAt);
      const held = all.filter(
        (r) => tap.accepted.get(r.id) === victimId && !(r.repliedAt !== undefined && r.repliedAt < killedAt),
      );
      console.log(
        `# dispatcher kill (1 supervised dispatcher, 30 req/s): ${all.length} requests ${JSON.stringify(statusCounts(all))}; ` +
          `process gone ${fmtMs(kill.goneAt - killedAt)} after SIGKILL, restarted and ready ${fmtMs(readyAt - killedAt)} after it; sent meanwhile ${during.length} ${JSON.stringify(statusCounts(during))}; ` +
          `the dead one held ${held.length}, answered by its successor: ${adopted.length} ${JSON.stringify(statusCounts(adopted))}` +
          `${adopted.length ? `, ${fmtMs(Math.min(...answeredAfter))} to ${fmtMs(Math.max(...answeredAfter))} after the kill` : ''}; ` +
          `without an answer ${load.unanswered().length} (never accepted, delivered to the dying process), answered twice ${load.duplicates().length}`,
      );
      checkNoneLost(load, tap.accepted, kill);
      assert.ok(adopted.length > 0, 'the dead dispatcher held requests, answered by its successor');
      assert.ok(
        held.every((r) => r.replies.length === 1),
        'everything it had accepted is answered',
      );
      // Between the kernel closing the dead process's connection and the supervisor hearing of its
      // exit (a few ms), nobody holds the subject: "no responders" is possible only then.
      assert.deepEqual(
        all
          .filter((r) => r.noResponders && r.sentAt > kill.goneAt)
          .map((r) => `${r.id} sent ${r.sentAt - killedAt} ms after the kill`),
        [],
        'no client sending after the process was gone got "no responders"',
      );
      assert.ok(during.length > 5, 'requests were sent while no dispatcher ran');
      assert.ok(
        during.filter((r) => r.sentAt > kill.goneAt).every((r) => r.replies[0]?.status === 'ok'),
        'those sent while it restarted are served',
      );
    });
  });
});
