// Access control as deployed: a nats-server running deploy/nats-server.conf (the generated
// file) and a redis-server with a password. The client credential may send requests and
// nothing else; the cluster users may do their own parts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { connectNats } from '../../bus/index.js';
import {
  CLUSTER_USERS,
  type ClusterUser,
  natsServerConfig,
  passwordVariable,
  permissionTable,
} from '../../ops/access.js';
import { startServers, type TestServers } from '../helpers/servers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const configFile = `${root}deploy/nats-server.conf`;
const password = (user: ClusterUser): string => `pw-${user}-test`;

let servers: TestServers;
const open: NatsConnection[] = [];

before(async () => {
  const natsEnv = Object.fromEntries(CLUSTER_USERS.map((u) => [passwordVariable(u), password(u)]));
  servers = await startServers({
    nats: true,
    redis: true,
    natsConfigFile: configFile,
    natsEnv,
    redisPassword: 'redis-test-pw',
  });
});
after(async () => {
  await Promise.all(open.map((nc) => nc.close()));
  await servers.close();
});

async function as(user: ClusterUser): Promise<{ nc: NatsConnection; violations: string[] }> {
  const nc = await connect({ servers: servers.natsUrl, user, pass: password(user) });
  open.push(nc);
  const violations: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') violations.push(String(s.error?.message ?? s.error));
  })();
  return { nc, violations };
}

const tick = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Publishes `subject` as `publisher`; returns whether admin saw it, and the violations reported. */
async function tryPublish(user: ClusterUser, subject: string): Promise<{ delivered: boolean; violations: string[] }> {
  const admin = await as('admin');
  let delivered = false;
  const sub = admin.nc.subscribe(subject, {
    callback: () => {
      delivered = true;
    },
  });
  await admin.nc.flush();
  const { nc, violations } = await as(user);
  nc.publish(subject, 'x');
  await nc.flush().catch(() => {});
  await tick();
  sub.unsubscribe();
  return { delivered, violations };
}

test('deploy/nats-server.conf is the output of natsServerConfig()', () => {
  assert.equal(
    readFileSync(configFile, 'utf8'),
    natsServerConfig(),
    'regenerate deploy/nats-server.conf (command in its header)',
  );
});

test('a wrong password is refused', async () => {
  await assert.rejects(connect({ servers: servers.natsUrl, user: 'client', pass: 'nope' }), /Authorization/i);
});

test('credentials in NATS_URL (the form the compose file hands every service) log in as that user', async () => {
  const withCredentials = (user: string, pass: string): string =>
    servers.natsUrl.replace('nats://', `nats://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@`);
  const nc = await connectNats({ url: withCredentials('client', password('client')), name: 'url-credentials' });
  open.push(nc);
  await nc.flush();
  // Logged in as client: a placement is refused, a request subject is allowed.
  const errors: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error?.message ?? s.error));
  })();
  nc.publish('ms.placement', 'x');
  await nc.flush().catch(() => {});
  await tick();
  assert.ok(
    errors.some((e) => /Permissions Violation.*ms\.placement/i.test(e)),
    `violations: ${errors.join('; ')}`,
  );
  await assert.rejects(
    connectNats({ url: withCredentials('client', 'nope'), name: 'url-bad', extra: { reconnect: false } }),
    /Authorization/i,
  );
});

test('client can request ms.infer.<model> and get the reply', async () => {
  const dispatcher = await as('dispatcher');
  dispatcher.nc.subscribe('ms.infer.>', {
    queue: 'dispatchers',
    callback: (_e, m) => void m.respond(`ok:${m.subject}`),
  });
  await dispatcher.nc.flush();
  const { nc } = await as('client');
  const reply = await nc.request('ms.infer.x', 'input', { timeout: 2_000 });
  assert.equal(reply.string(), 'ok:ms.infer.x');
  assert.deepEqual(dispatcher.violations, []);
});

for (const subject of [
  'ms.placement',
  'ms.actor.worker-0.load',
  'ms.actor.planner.replace',
  'ms.group.g0.stage.0',
  'ms.dispatch.done',
]) {
  test(`client cannot publish ${subject}`, async () => {
    const r = await tryPublish('client', subject);
    assert.equal(r.delivered, false, 'message reached a subscriber');
    assert.ok(
      r.violations.some((v) => /permissions violation for publish/i.test(v)),
      `violations: ${r.violations.join('; ')}`,
    );
  });
}

test('client cannot subscribe to stage subjects or placements', async () => {
  const { nc, violations } = await as('client');
  nc.subscribe('ms.group.>');
  nc.subscribe('ms.placement');
  await nc.flush();
  await tick();
  assert.ok(
    violations.filter((v) => /permissions violation for subscription/i.test(v)).length >= 1,
    violations.join('; '),
  );
});

test('planner publishes placements; worker cannot, but hears them', async () => {
  const worker = await as('worker');
  let got = '';
  worker.nc.subscribe('ms.placement', {
    callback: (_e, m) => {
      got = m.string();
    },
  });
  await worker.nc.flush();
  const planner = await as('planner');
  planner.nc.publish('ms.placement', 'v1');
  await planner.nc.flush();
  await tick();
  assert.equal(got, 'v1');
  assert.deepEqual(planner.violations, []);
  const r = await tryPublish('worker', 'ms.placement');
  assert.equal(r.delivered, false);
  assert.ok(r.violations.some((v) => /publish/i.test(v)));
});

test('worker serves its stage subject and reports completions; dispatcher hears them', async () => {
  const dispatcher = await as('dispatcher');
  let completion = '';
  dispatcher.nc.subscribe('ms.dispatch.>', {
    callback: (_e, m) => {
      completion = m.string();
    },
  });
  await dispatcher.nc.flush();
  const worker = await as('worker');
  worker.nc.subscribe('ms.group.g0.stage.0', { callback: (_e, m) => void m.respond('stage-done') });
  await worker.nc.flush();
  worker.nc.publish('ms.dispatch.D1.r1', 'done'); // ms.dispatch.<dispatcher>.<rid>
  await worker.nc.flush();
  const reply = await dispatcher.nc.request('ms.group.g0.stage.0', 'act', { timeout: 2_000 });
  assert.equal(reply.string(), 'stage-done');
  await tick();
  assert.equal(completion, 'done');
  assert.deepEqual(worker.violations, []);
  assert.deepEqual(dispatcher.violations, []);
});

test("a worker cannot forge the dispatchers' peer notes; a dispatcher can send them", async () => {
  const forged = await tryPublish('worker', 'ms.dispatch.peers');
  assert.equal(forged.delivered, false);
  assert.ok(
    forged.violations.some((v) => /Permissions Violation/i.test(v)),
    `violations: ${forged.violations.join('; ')}`,
  );
  const real = await tryPublish('dispatcher', 'ms.dispatch.peers');
  assert.equal(real.delivered, true);
  assert.deepEqual(real.violations, []);
});

test('redis: the password works, no password is refused', async () => {
  assert.match(servers.redisUrl, /^redis:\/\/:redis-test-pw@/);
  const good = new Redis(servers.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await good.connect();
  assert.equal(await good.ping(), 'PONG');
  good.disconnect();
  const bare = new Redis(servers.redisUrl.replace(/:[^:@/]*@/, ''), { lazyConnect: true, maxRetriesPerRequest: 0 });
  bare.on('error', () => {});
  await bare.connect().catch(() => {});
  await assert.rejects(bare.ping(), /NOAUTH/);
  bare.disconnect();
});

test('the ACL table of docs/operations.md says what permissionTable() grants', () => {
  const doc = readFileSync(`${root}docs/operations.md`, 'utf8');
  const section = doc.split('\n## Access control\n')[1]?.split('\n## ')[0] ?? '';
  const table = permissionTable();
  const subjects = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort();
  const rows = new Map<string, { publish: string[]; subscribe: string[] }>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length === 5 && (CLUSTER_USERS as readonly string[]).includes(cells[1])) {
      rows.set(cells[1], { publish: subjects(cells[2]), subscribe: subjects(cells[3]) });
    }
  }
  for (const user of CLUSTER_USERS) {
    assert.deepEqual(
      rows.get(user),
      { publish: [...table[user].publish].sort(), subscribe: [...table[user].subscribe].sort() },
      `docs/operations.md row for ${user}`,
    );
  }
});
