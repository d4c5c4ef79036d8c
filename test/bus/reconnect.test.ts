// NATS server restart: actors reconnect (same port) and serve again without being respawned.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { ActorSystem, CallTimeoutError, NoRespondersError } from '../../bus/index.js';
import { Counter } from '../fixtures/actors.js';
import { startServers, type TestServers } from '../helpers/servers.js';

process.env.LOG_LEVEL ??= 'silent';

describe('NATS restart', () => {
  let servers: TestServers;
  let host: ActorSystem;
  let client: ActorSystem;

  before(async () => {
    servers = await startServers({ nats: true, redis: true });
    const opts = { natsUrl: servers.natsUrl, redisUrl: servers.redisUrl, reconnectTimeWaitMs: 100 };
    host = await ActorSystem.connect(opts);
    client = await ActorSystem.connect({ ...opts, registry: false });
  });
  after(async () => {
    await client?.close();
    await host?.close();
    await servers?.close();
  });

  for (const how of ['kill', 'stop'] as const) {
    it(`actors serve again after the server is ${how === 'kill' ? 'killed' : 'stopped'} and restarted`, async () => {
      const name = `survivor-${how}`;
      const actor = await host.spawn(name, new Counter());
      const counter = client.actor<Counter>(name, { timeoutMs: 500 });
      assert.equal(await counter.call('inc', 1), 1);

      const disconnected = once(host.events, 'disconnect');
      await servers.nats[how]();
      await disconnected;
      await assert.rejects(counter.call('inc', 1)); // server down: the call cannot succeed

      const reconnected = Promise.all([once(host.events, 'reconnect'), once(client.events, 'reconnect')]);
      await servers.nats.restart();
      await reconnected;
      // subscriptions are re-sent on reconnect; allow the server a moment to process them
      let value: number | undefined;
      const deadline = Date.now() + 3_000;
      while (value === undefined && Date.now() < deadline) {
        value = await counter.call('inc', 1).catch((e: unknown) => {
          if (e instanceof NoRespondersError || e instanceof CallTimeoutError) return undefined;
          throw e;
        });
      }
      // same actor instance (state kept), not a respawn
      assert.equal(value, 2);
      assert.equal(actor.state, 'ready');
      assert.deepEqual(
        (await host.list({ name })).map((e) => e.id),
        [actor.id],
      );
      await host.stop(name);
    });
  }
});
