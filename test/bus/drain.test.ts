// Graceful stop: every accepted message is answered before the actor stops.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActorSystem, NoRespondersError } from '../../bus/index.js';
import { Counter } from '../fixtures/actors.js';
import { startServers, type TestServers } from '../helpers/servers.js';

process.env.LOG_LEVEL ??= 'silent';

describe('graceful drain', () => {
  let servers: TestServers;
  let client: ActorSystem;

  before(async () => {
    servers = await startServers({ nats: true });
    client = await ActorSystem.connect({ natsUrl: servers.natsUrl, registry: false });
  });
  after(async () => {
    await client?.close();
    await servers?.close();
  });

  it('answers all N in-flight calls, then stops serving', async () => {
    const host = await ActorSystem.connect({ natsUrl: servers.natsUrl, registry: false });
    const actor = await host.spawn('slow', new Counter());
    const handle = client.actor<Counter>('slow', { timeoutMs: 5_000 });
    const n = 30;
    const calls = Array.from({ length: n }, () => handle.call('slowInc', 1, 5));
    // wait until the server delivered them all (one is running, the rest queued)
    await client.nats.flush();
    while (actor.load.pending + actor.load.active < n) await new Promise((r) => setImmediate(r));
    const stopped = host.stop('slow');
    assert.equal(actor.state, 'draining');
    const results = await Promise.all(calls);
    await stopped;
    assert.equal(actor.state, 'stopped');
    // sequential mailbox: each call saw the counter one higher, none lost
    assert.deepEqual(
      results,
      Array.from({ length: n }, (_, i) => i + 1),
    );
    await assert.rejects(handle.call('get'), NoRespondersError);
    await host.close();
  });

  it('system.close() drains every actor and runs onStop after the last message', async () => {
    const host = await ActorSystem.connect({ natsUrl: servers.natsUrl, registry: false });
    const events: string[] = [];
    class Tracked extends Counter {
      override async slowInc(by: number, ms: number): Promise<number> {
        const v = await super.slowInc(by, ms);
        events.push(`msg${v}`);
        return v;
      }
      onStop(): void {
        events.push('onStop');
      }
    }
    await host.spawn('a', new Tracked());
    await host.spawn('b', new Tracked());
    const calls = [client.actor<Counter>('a'), client.actor<Counter>('b')].flatMap((h) => [
      h.call('slowInc', 1, 10),
      h.call('slowInc', 1, 10),
    ]);
    await client.nats.flush();
    while ((host.local('a')?.load.active ?? 0) + (host.local('b')?.load.active ?? 0) === 0)
      await new Promise((r) => setImmediate(r));
    await host.close();
    assert.deepEqual((await Promise.all(calls)).sort(), [1, 1, 2, 2]);
    assert.equal(events.filter((e) => e === 'onStop').length, 2);
    assert.equal(events.at(-1), 'onStop');
    assert.ok(host.nats.isClosed());
  });
});

describe('calls after close', () => {
  it('fail with a clear error instead of hanging', async () => {
    const servers = await startServers({ nats: true });
    try {
      const system = await ActorSystem.connect({ natsUrl: servers.natsUrl, registry: false });
      await system.spawn('c', new Counter());
      const handle = system.actor<Counter>('c', { timeoutMs: 5_000 });
      assert.equal(await handle.call('inc', 1), 1);
      await system.close();
      const started = Date.now();
      await assert.rejects(handle.call('inc', 1), /closed/);
      assert.ok(Date.now() - started < 1_000);
    } finally {
      await servers.close();
    }
  });
});

describe('close with the servers gone', () => {
  it('completes instead of hanging or rejecting', async () => {
    const servers = await startServers({ nats: true, redis: true });
    try {
      const system = await ActorSystem.connect({ natsUrl: servers.natsUrl, redisUrl: servers.redisUrl });
      await system.spawn('c', new Counter());
      await Promise.all([servers.nats.kill(), servers.redis.kill()]);
      const started = Date.now();
      await system.close();
      assert.ok(Date.now() - started < 5_000);
      assert.ok(system.nats.isClosed());
    } finally {
      await servers.close();
    }
  });
});
