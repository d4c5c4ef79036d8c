// The model store under access control, as deployed: an admin imports (creates the bucket and
// uploads); a worker reads stage files but cannot write them; a client cannot read them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CLUSTER_USERS, type ClusterUser, passwordVariable } from '../../ops/access.js';
import { ModelStore } from '../../serving/model-store/model-store.js';
import { CachedStageFiles } from '../../serving/model-store/stage-files.js';
import { startServers, type TestServers } from '../helpers/servers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const password = (user: ClusterUser): string => `pw-${user}-test`;
let servers: TestServers;
let dir: string;
const open: NatsConnection[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'store-access-'));
  servers = await startServers({
    nats: true,
    jetstream: true,
    natsConfigFile: `${root}deploy/nats-server.conf`,
    natsEnv: Object.fromEntries(CLUSTER_USERS.map((u) => [passwordVariable(u), password(u)])),
  });
});
after(async () => {
  await Promise.all(open.map((nc) => nc.close()));
  await servers.close();
  rmSync(dir, { recursive: true, force: true });
});

async function as(user: ClusterUser): Promise<NatsConnection> {
  const nc = await connect({ servers: servers.natsUrl, user, pass: password(user), timeout: 2000 });
  open.push(nc);
  return nc;
}

test('an admin uploads, a worker downloads, neither a worker nor a client can change or read what it may not', async () => {
  const data = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff);
  const { object } = await (await ModelStore.open(await as('admin'))).put(data);

  const worker = await as('worker');
  const files = new CachedStageFiles(() => ModelStore.open(worker, 'ms', { create: false }), dir);
  assert.deepEqual(await files.get(object), data);

  const readOnly = await ModelStore.open(worker, 'ms', { create: false });
  await assert.rejects(
    Promise.race([
      readOnly.put(new Uint8Array(10)),
      new Promise((_, no) => setTimeout(() => no(new Error('timeout')), 3000)),
    ]),
    'a worker cannot upload',
  );
  await assert.rejects(
    Promise.race([
      (async () => (await ModelStore.open(await as('client'), 'ms', { create: false })).get(object))(),
      new Promise((_, no) => setTimeout(() => no(new Error('timeout')), 3000)),
    ]),
    'a client cannot read the model store',
  );
});
