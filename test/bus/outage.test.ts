// What a NATS outage and bad input do to a connection: nats.js drops what is published while it
// is disconnected, the Outbox holds it and sends it after the reconnect; a subscription handler
// that throws (safeSubscribe) does not leave the connection deaf.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { ActorSystem, createLogger, Outbox, safeSubscribe } from '../../bus/index.js';
import { startServers, type TestServers } from '../helpers/servers.js';

process.env.LOG_LEVEL ??= 'silent';

describe('NATS outages and throwing handlers', () => {
  let servers: TestServers;
  let sender: ActorSystem;
  let receiver: ActorSystem;

  before(async () => {
    servers = await startServers({ nats: true });
    const opts = { natsUrl: servers.natsUrl, registry: false, reconnectTimeWaitMs: 50 };
    sender = await ActorSystem.connect(opts);
    receiver = await ActorSystem.connect(opts);
  });
  after(async () => {
    await sender?.close();
    await receiver?.close();
    await servers?.close();
  });

  it('messages published during an outage: dropped by nats.js, delivered after the reconnect through an Outbox', async () => {
    const got: string[] = [];
    receiver.nats.subscribe('outage.>', { callback: (_err, msg) => void got.push(msg.subject) });
    await receiver.nats.flush();
    const outbox = new Outbox(sender, { log: createLogger(), maxMessages: 4, settleMs: 300 });
    try {
      const down = once(sender.events, 'disconnect');
      await servers.nats.kill();
      await down;
      assert.equal(sender.connected, false);
      sender.nats.publish('outage.plain', new Uint8Array(0)); // nats.js drops it on the next reconnect attempt
      for (let i = 0; i < 6; i++) outbox.publish(`outage.held.${i}`, new Uint8Array([i]));
      assert.equal(outbox.pending, 4, 'bounded: the oldest are dropped first');
      const back = Promise.all([once(sender.events, 'reconnect'), once(receiver.events, 'reconnect')]);
      await servers.nats.restart();
      await back;
      assert.equal(sender.connected, true);
      outbox.publish('outage.after', new Uint8Array(0)); // queued behind the held ones until they leave (the bound still holds)
      assert.equal(outbox.pending, 4);
      await new Promise((r) => setTimeout(r, 500)); // the settle delay
      assert.equal(outbox.pending, 0);
      outbox.publish('outage.later', new Uint8Array(0)); // nothing held: sent at once
      assert.equal(outbox.pending, 0);
      await sender.nats.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(!got.includes('outage.plain'), 'a plain publish during the outage is lost');
      assert.deepEqual(
        got,
        ['outage.held.3', 'outage.held.4', 'outage.held.5', 'outage.after', 'outage.later'],
        'held ones in order, after the reconnect',
      );
    } finally {
      outbox.close();
    }
  });

  it('a throwing handler is logged; the connection keeps delivering (a raw nats.js callback that throws ends its reader)', async () => {
    let seen = 0;
    safeSubscribe(
      receiver.nats,
      'throwing',
      () => {
        seen++;
        throw new Error('boom');
      },
      { log: createLogger(), what: 'test' },
    );
    await receiver.nats.flush();
    for (let i = 0; i < 3; i++) sender.nats.publish('throwing');
    await sender.nats.flush();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen, 3);
    await receiver.nats.flush(); // would hang on a deaf connection
  });
});
