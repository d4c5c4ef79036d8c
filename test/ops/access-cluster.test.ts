// Access control on a 3-server NATS cluster: every server loads the same deploy/nats-server.conf,
// so a user has the same rights whichever server it reaches, and the request path works with each
// process logged in as its own user on a different server (messages cross the routes).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ActorSystem, decode, encode } from '../../bus/index.js';
import { CLUSTER_USERS, type ClusterUser, passwordVariable } from '../../ops/access.js';
import { Dispatcher } from '../../serving/dispatcher/dispatcher.js';
import { storeProfiles } from '../../serving/planner-actor/cluster-state.js';
import { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import { InferReply } from '../../serving/protocol/messages.js';
import { GpuWorker } from '../../serving/worker/gpu-worker.js';
import { startServers, type TestServers } from '../helpers/servers.js';
import { testProfile } from '../serving/helpers.js';

process.env.LOG_LEVEL ??= 'silent';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const password = (user: ClusterUser): string => `pw-${user}-cluster`;

let servers: TestServers;
const open: NatsConnection[] = [];
const systems: ActorSystem[] = [];

before(async () => {
  servers = await startServers({
    natsCluster: 3,
    redis: true,
    natsConfigFile: `${root}deploy/nats-server.conf`,
    natsEnv: Object.fromEntries(CLUSTER_USERS.map((u) => [passwordVariable(u), password(u)])),
  });
});
after(async () => {
  for (const s of systems.reverse()) await s.close().catch(() => undefined);
  await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
  await servers.close();
});

/** `nats://user:pass@host:port` of server `i`. */
const urlOf = (user: ClusterUser, i: number): string =>
  servers.natsServers[i].url.replace('nats://', `nats://${user}:${password(user)}@`);

async function as(user: ClusterUser, i: number): Promise<{ nc: NatsConnection; violations: string[] }> {
  const nc = await connect({ servers: servers.natsServers[i].url, user, pass: password(user) });
  open.push(nc);
  const violations: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') violations.push(String(s.error?.message ?? s.error));
  })();
  return { nc, violations };
}

const tick = (ms = 200): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('every server refuses the same publications and subscriptions', async () => {
  for (let i = 0; i < 3; i++) {
    const { nc, violations } = await as('client', i);
    nc.publish('ms.placement', 'x');
    nc.publish('ms.group.g0.stage.0', 'x');
    nc.subscribe('ms.group.>');
    await nc.flush().catch(() => undefined);
    await tick();
    assert.ok(
      violations.some((v) => /publish.*ms\.placement/i.test(v)) &&
        violations.some((v) => /publish.*ms\.group/i.test(v)) &&
        violations.some((v) => /subscription.*ms\.group/i.test(v)),
      `server ${i + 1}: ${violations.join('; ')}`,
    );
    const worker = await as('worker', i);
    worker.nc.publish('ms.dispatch.peers', 'x');
    worker.nc.publish('ms.dispatch.orphan.D1', 'x'); // a completion whose owner is gone: allowed
    await worker.nc.flush().catch(() => undefined);
    await tick();
    // Only the dispatchers' peer subject is refused: the orphan subject is a worker's to use.
    assert.equal(worker.violations.length, 1, `server ${i + 1}: ${worker.violations.join('; ')}`);
    assert.match(worker.violations[0], /publish.*ms\.dispatch\.peers/i);
  }
});

test('a request crosses the cluster with every process logged in as its own user', { timeout: 60_000 }, async () => {
  const heartbeat = { heartbeatIntervalMs: 200 };
  const system = async (user: ClusterUser, i: number): Promise<ActorSystem> => {
    const s = await ActorSystem.connect({ natsUrl: urlOf(user, i), redisUrl: servers.redisUrl, heartbeat });
    systems.push(s);
    return s;
  };
  const workers = await system('worker', 2);
  await workers.spawn('gpu-0', new GpuWorker({ retireIdleMs: 300 }));
  await workers.spawn('gpu-1', new GpuWorker({ retireIdleMs: 300 }));
  const dispatchers = await system('dispatcher', 1);
  await dispatchers.spawn('dispatcher', new Dispatcher());
  const planners = await system('planner', 0);
  await storeProfiles(planners.redis!, [testProfile('m', 0.01)]);
  await planners.spawn('planner', new PlannerActor({ deviceSettleMs: 0, rateCheckSec: 0, strategy: 'round-robin' }));
  const admin = await system('admin', 0);
  await admin.actor<PlannerActor>('planner', { timeoutMs: 20_000 }).call('replace', 'test');
  for (let i = 0; i < 3; i++) {
    const { nc, violations } = await as('client', i);
    const msg = await nc.request('ms.infer.m', encode({ id: `c${i}`, input: i, slo: 5 }), { timeout: 5_000 });
    const reply = InferReply.parse(decode(msg.data));
    assert.equal(reply.status, 'ok', `client on server ${i + 1}: ${reply.reason}`);
    assert.equal(reply.output, i);
    assert.deepEqual(violations, []);
  }
});
