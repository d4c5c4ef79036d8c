// The model store on a 3-server NATS cluster: the bucket is replicated on three servers, so stage
// files uploaded through one server are read through another, also after the server that led
// the bucket's stream was killed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../bus/index.js';
import { ModelStore } from '../../serving/model-store/model-store.js';
import { startServers, type TestServers } from '../helpers/servers.js';
import { until } from '../helpers/until.js';

describe('model store on a NATS cluster', () => {
  let servers: TestServers;
  const open: NatsConnection[] = [];
  before(async () => {
    servers = await startServers({ natsCluster: 3 });
    await servers.natsCluster!.waitForJetStream();
  });
  after(async () => {
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await servers?.close();
  });

  it('stage files survive the server that led their stream', { timeout: 60_000 }, async () => {
    const connect = async (i: number) => {
      const nc = await connectNats({ url: servers.natsServers[i].url, extra: { reconnect: false } });
      open.push(nc);
      return nc;
    };
    const writer = await ModelStore.open(await connect(0));
    const data = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff);
    const { object } = await writer.put(data);
    // The server that leads the bucket's stream: killed.
    const leader = async (): Promise<number> => {
      for (const [i, s] of servers.natsServers.entries()) {
        const jsz = (await (await fetch(`${s.monitorUrl}/jsz?streams=true`)).json()) as {
          account_details?: Array<{ stream_detail?: Array<{ cluster?: { leader?: string } }> }>;
        };
        const name = jsz.account_details?.[0]?.stream_detail?.[0]?.cluster?.leader;
        if (name) return servers.natsCluster!.serverNames.indexOf(name);
        if (i === servers.natsServers.length - 1) break;
      }
      return -1;
    };
    const victim = await leader();
    assert.ok(victim >= 0, 'a stream leader');
    await servers.natsServers[victim].kill();
    const survivor = (victim + 1) % 3;
    const nc = await connect(survivor);
    let got: Uint8Array | undefined;
    let lastError = '';
    // A new leader is elected among the two servers left: until then, opening or reading fails.
    // Each try gives up after 1 s (not nats.js's 5 s), so the test sees the new leader when it comes.
    await until(
      'the file read through a surviving server',
      async () => {
        try {
          got = await (await ModelStore.open(nc, 'ms', { create: false, timeout: 1_000 })).get(object);
        } catch (err) {
          lastError = (err as Error).message;
        }
        return got !== undefined;
      },
      30_000,
      250,
    ).catch((err: Error) => assert.fail(`${err.message}: ${lastError}`));
    assert.deepEqual(got, data);
  });
});
