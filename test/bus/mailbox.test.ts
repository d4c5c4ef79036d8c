// Mailbox semantics: one message at a time in arrival order by default, opt-in concurrency.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActorSystem, Mailbox } from '../../bus/index.js';
import { Recorder } from '../fixtures/actors.js';
import { startServers, type TestServers } from '../helpers/servers.js';

process.env.LOG_LEVEL ??= 'silent';

describe('Mailbox', () => {
  it('runs items one at a time in order and reports idle', async () => {
    const order: number[] = [];
    let active = 0;
    let maxActive = 0;
    const box = new Mailbox<number>(async (n) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, n % 3));
      order.push(n);
      active--;
    });
    for (let i = 0; i < 50; i++) box.push(i);
    await box.idle();
    assert.deepEqual(order, [...Array(50).keys()]);
    assert.equal(maxActive, 1);
    assert.equal(box.pending, 0);
  });

  it('keeps going after a handler throws', async () => {
    const done: number[] = [];
    const box = new Mailbox<number>((n) => {
      if (n === 1) throw new Error('bad');
      done.push(n);
    });
    for (const n of [0, 1, 2]) box.push(n);
    await box.idle();
    assert.deepEqual(done, [0, 2]);
  });

  it('honours a concurrency limit', async () => {
    let active = 0;
    let maxActive = 0;
    const box = new Mailbox<number>(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
    }, 3);
    for (let i = 0; i < 20; i++) box.push(i);
    await box.idle();
    assert.equal(maxActive, 3);
    assert.throws(() => new Mailbox(() => {}, 0), RangeError);
  });
});

describe('actor mailbox over NATS', () => {
  let servers: TestServers;
  let system: ActorSystem;
  const senders: ActorSystem[] = [];

  before(async () => {
    servers = await startServers({ nats: true });
    system = await ActorSystem.connect({ natsUrl: servers.natsUrl, registry: false });
    // Each sender has its own connection, like separate processes.
    for (let i = 0; i < 4; i++) senders.push(await ActorSystem.connect({ natsUrl: servers.natsUrl, registry: false }));
  });
  after(async () => {
    await Promise.all([system, ...senders].map((s) => s?.close()));
    await servers?.close();
  });

  it('concurrent senders: per-sender order kept, never two messages at once', async () => {
    await system.spawn('recorder', new Recorder());
    const perSender = 25;
    await Promise.all(
      senders.map(async (sender, s) => {
        const rec = sender.actor<Recorder>('recorder');
        // tells then calls, interleaved: NATS keeps one connection's order, the mailbox keeps it too
        const calls: Promise<void>[] = [];
        for (let i = 0; i < perSender; i++) {
          if (i % 2) calls.push(rec.call('record', `s${s}`, i, 1));
          else rec.tell('record', `s${s}`, i, 1);
        }
        await Promise.all(calls);
      }),
    );
    const { seen, maxActive } = await system.actor<Recorder>('recorder').call('log');
    assert.equal(maxActive, 1);
    assert.equal(seen.length, senders.length * perSender);
    for (let s = 0; s < senders.length; s++) {
      const mine = seen.filter((x) => x.startsWith(`s${s}:`)).map((x) => Number(x.split(':')[1]));
      assert.deepEqual(mine, [...Array(perSender).keys()]);
    }
    await system.stop('recorder');
  });

  it('opt-in concurrency lets an actor handle several messages at once', async () => {
    await system.spawn('parallel', new Recorder(), { concurrency: 4 });
    const rec = senders[0].actor<Recorder>('parallel');
    await Promise.all(Array.from({ length: 16 }, (_, i) => rec.call('record', 'p', i, 20)));
    const { seen, maxActive } = await rec.call('log');
    assert.equal(seen.length, 16);
    assert.equal(maxActive, 4);
    await system.stop('parallel');
  });
});
