// Infrastructure faults while serving: the NATS server killed and restarted (same port), then the
// Redis server killed and restarted (empty: it keeps nothing on disk). Every component reconnects;
// a request that reached the cluster is answered (served after the outage, or an error) or refused
// at once by the server ("no responders"); the cluster state in Redis is rebuilt from the live
// actors.
//
// What no server can answer: nats.js drops whatever a client publishes while it is disconnected,
// and a message inside the server when it dies is gone. Only the client's own timeout covers
// those (docs/reliability.md, "Client-side timeouts"); the test checks that they are exactly the requests
// sent from just before the kill until the client had reconnected.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { testProfile } from '../serving/helpers.js';
import {
  fmtMs,
  LoadClient,
  longestAnswerBefore,
  outage,
  type ProcessCluster,
  sleep,
  startProcessCluster,
  statusCounts,
  until,
} from './helpers.js';

const SLO = 1;
const GRACE_MS = 2_000; // the dispatcher's default
const ACTORS = ['planner', 'dispatcher', 'gpu-0', 'gpu-1', 'gpu-2'];

describe('reliability: NATS and Redis restarts while serving', () => {
  let c: ProcessCluster;
  const keys = new RuntimeKeys();
  before(async () => {
    c = await startProcessCluster({
      workers: 3,
      profiles: [testProfile('a', 0.03, 8)],
      planner: { strategy: 'round-robin' },
      dispatcher: { rateIntervalMs: 1_000, graceMs: GRACE_MS },
    });
  });
  after(() => c?.close());

  /** Actors that do not answer their ping as ready, with why. */
  async function silentActors(): Promise<string[]> {
    const pings = await Promise.allSettled(ACTORS.map((name) => c.system.actor(name, { timeoutMs: 500 }).ping()));
    return pings.flatMap((p, i) =>
      p.status === 'fulfilled'
        ? p.value.state === 'ready'
          ? []
          : [`${ACTORS[i]}: ${p.value.state}`]
        : [`${ACTORS[i]}: ${(p.reason as Error).message}`],
    );
  }
  const everyoneAnswers = async (): Promise<boolean> => (await silentActors()).length === 0;
  const withSilent = async (err: Error): Promise<never> => {
    throw new Error(`${err.message}; not answering: ${(await silentActors()).join('; ')}`);
  };

  it('NATS killed and restarted: everyone reconnects, nothing hangs, serving resumes', {
    timeout: 60_000,
  }, async (t) => {
    let clientReconnectedAt = Infinity;
    void (async () => {
      for await (const status of c.client.status())
        if (status.type === 'reconnect') clientReconnectedAt = Math.min(clientReconnectedAt, Date.now());
    })();
    const load = new LoadClient(c.client, c.subjects, 'nats');
    t.after(() => load.close());
    const stopLoad = load.steady(30, () => ({ model: 'a', slo: SLO }));
    await sleep(2_000);
    const { killedAt, restartedAt } = await outage(c.servers.nats, 1_000);
    await until('every actor to answer its ping again', everyoneAnswers, 10_000, 50).catch(withSilent);
    const reconnectedAt = Date.now();
    await sleep(4_000);
    await stopLoad();
    // Every request is answered by its deadline + grace at the latest (the dispatcher's own timer).
    await load.settle(SLO * 1000 + GRACE_MS + 1_000);

    const all = [...load.records.values()];
    const during = all.filter((r) => r.sentAt >= killedAt && r.sentAt < restartedAt);
    // In flight through the dying server (sent no longer before the kill than requests took to be
    // answered just then, +50 ms), or dropped by the disconnected client: the client's timeout answers these.
    const inFlightMs = longestAnswerBefore(all, killedAt) + 50;
    const unreachable = (r: { sentAt: number }): boolean =>
      r.sentAt >= killedAt - inFlightMs && r.sentAt <= clientReconnectedAt;
    const clientTimeouts = load.unanswered();
    const late = all.filter((r) => r.sentAt >= reconnectedAt + 1_000);
    const firstOk = Math.min(
      ...all.filter((r) => r.sentAt >= killedAt && r.replies[0]?.status === 'ok').map((r) => r.repliedAt!),
    );
    const lastBad = Math.max(killedAt, ...all.filter((r) => r.replies[0]?.status !== 'ok').map((r) => r.sentAt));
    const answerTimes = all.filter((r) => r.repliedAt !== undefined).map((r) => r.repliedAt! - r.sentAt);
    console.log(
      `# nats restart: ${all.length} requests ${JSON.stringify(statusCounts(all))}; outage ${fmtMs(restartedAt - killedAt)}, client reconnected ${fmtMs(clientReconnectedAt - restartedAt)} after the restart; ` +
        `sent during the outage ${during.length} ${JSON.stringify(statusCounts(during))}; left to the client's timeout ${clientTimeouts.length} (all sent between ${fmtMs(Math.min(...clientTimeouts.map((r) => r.sentAt)) - killedAt)} and ${fmtMs(Math.max(...clientTimeouts.map((r) => r.sentAt)) - killedAt)} after the kill); ` +
        `every actor answers ${fmtMs(reconnectedAt - restartedAt)} after the restart; first ok reply ${fmtMs(firstOk - restartedAt)} after it; last request not served ok sent ${fmtMs(lastBad - restartedAt)} after it; ` +
        `longest wait for an answer ${fmtMs(Math.max(...answerTimes))}; reasons: ${[...new Set(all.filter((r) => r.replies[0]?.status === 'error').map((r) => r.replies[0].reason))].slice(0, 3).join(' | ')}`,
    );
    assert.deepEqual(
      clientTimeouts.filter((r) => !unreachable(r)).map((r) => `${r.id} sent ${r.sentAt - killedAt} ms after the kill`),
      [],
      'every request that could reach the cluster is answered (a reply, or "no responders" from the server)',
    );
    assert.deepEqual(
      load.duplicates().map((r) => r.id),
      [],
      'no request answered twice',
    );
    assert.ok(during.length > 10, 'requests were sent during the outage');
    assert.ok(
      Math.max(...answerTimes) <= SLO * 1000 + GRACE_MS + (restartedAt - killedAt) + 1_000,
      'no answer later than deadline + grace + the outage',
    );
    assert.ok(late.length > 50 && late.every((r) => r.replies[0]?.status === 'ok'), 'served again after the restart');
    for (const name of ACTORS) assert.equal(c.child(name).state, 'running', `${name} did not crash`);
  });

  it('Redis killed and restarted (empty): serving goes on, the state is rebuilt from the live actors', {
    timeout: 60_000,
  }, async (t) => {
    const redis = c.system.redis!;
    const placed = (await c.planner.call('current'))!;
    const registered = (await redis.smembers('ms:actors')).sort();
    assert.equal(registered.length, ACTORS.length);
    await redis.set('test:sentinel', '1');
    const load = new LoadClient(c.client, c.subjects, 'redis');
    t.after(() => load.close());
    const stopLoad = load.steady(30, () => ({ model: 'a', slo: SLO }));
    await sleep(1_500);
    const { killedAt, restartedAt } = await outage(c.servers.redis, 1_000);
    assert.equal(await redis.exists('test:sentinel'), 0, 'the restarted Redis is empty');
    const rebuilt = async (): Promise<boolean> => {
      const [actors, current, version, profile, rate, ...devices] = await Promise.all([
        redis.smembers('ms:actors'),
        redis.get(keys.currentPlacement()),
        redis.get(keys.placementVersion()),
        redis.get(keys.profile('a')),
        redis.get(keys.rate('a')),
        ...['gpu-0', 'gpu-1', 'gpu-2'].map((d) => redis.exists(keys.device(d))),
      ]);
      return (
        actors.sort().join() === registered.join() &&
        current !== null &&
        JSON.parse(current).version === placed.version &&
        Number(version) >= placed.version &&
        profile !== null &&
        rate !== null &&
        devices.every((d) => d === 1)
      );
    };
    await until('the cluster state to be rebuilt in Redis', () => rebuilt().catch(() => false), 15_000, 50);
    const rebuiltAt = Date.now();
    // The planner can place again, with a version above the one in force (workers and dispatcher take it).
    const next = await c.planner.call('replace', 'after the Redis restart');
    await until(
      'the dispatcher on the new placement',
      async () => (await c.dispatcher.call('stats')).placementVersion === next.version,
      5_000,
    );
    await sleep(1_000);
    await stopLoad();
    await load.settle(5_000);
    const all = [...load.records.values()];
    console.log(
      `# redis restart: ${all.length} requests ${JSON.stringify(statusCounts(all))}; outage ${fmtMs(restartedAt - killedAt)}; ` +
        `state rebuilt (registry, devices, placement v${placed.version}, version counter, profiles, rates) ${fmtMs(rebuiltAt - restartedAt)} after the restart; next placement v${next.version}`,
    );
    assert.equal(next.version, placed.version + 1);
    assert.deepEqual(
      statusCounts(all),
      { ok: all.length, rejected: 0, error: 0, noResponders: 0, none: 0 },
      'serving never needed Redis',
    );
    assert.deepEqual(
      load.duplicates().map((r) => r.id),
      [],
    );
    for (const name of ACTORS) assert.equal(c.child(name).state, 'running', `${name} did not crash`);
  });
});
