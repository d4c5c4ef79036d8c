// Registry in Redis: entries, heartbeats, list(), graceful deregistration and dead detection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { type ActorEvent, ActorSystem } from '../../bus/index.js';
import { Counter } from '../fixtures/actors.js';
import { startServers, type TestServers } from '../helpers/servers.js';
import { until } from '../helpers/until.js';

process.env.LOG_LEVEL ??= 'silent';

const heartbeat = { heartbeatIntervalMs: 50, heartbeatTtlMs: 200 };

function waitFor<T>(what: string, ms: number, register: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

describe('registry', () => {
  let servers: TestServers;
  let redis: Redis;
  let observer: ActorSystem;

  before(async () => {
    servers = await startServers({ nats: true, redis: true });
    redis = new Redis(servers.redisUrl);
    // The observer runs the dead watcher; actor hosts below do not (watchDead: false) unless said.
    observer = await ActorSystem.connect({ natsUrl: servers.natsUrl, redisUrl: servers.redisUrl, heartbeat });
  });
  // Every host a test made is closed here too, so that a failed assertion cannot leave a heartbeat
  // timer running and the file hanging (a host already closed, or with its connections cut,
  // is given a second).
  const hosts: ActorSystem[] = [];
  after(async () => {
    await Promise.allSettled(
      hosts.map((h) => Promise.race([h.close(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())])),
    );
    await observer?.close();
    redis?.disconnect();
    await servers?.close();
  });

  const host = async (): Promise<ActorSystem> => {
    const h = await ActorSystem.connect({
      natsUrl: servers.natsUrl,
      redisUrl: servers.redisUrl,
      heartbeat,
      watchDead: false,
    });
    hosts.push(h);
    return h;
  };

  /**
   * Spawns a Counter named `name` on `h` while the observer records its events (as `label` writes
   * them, given the spawned actor's id). The actor's own started event is published on the host's
   * connection and may arrive late: this returns once it has, with the record emptied for what
   * the test does next.
   */
  const spawnWatched = async (h: ActorSystem, name: string, label: (e: ActorEvent, id: string) => string) => {
    const events: string[] = [];
    let id = '';
    const off = observer.onEvent('actor.*', (e) => {
      if (e.actor.name === name) events.push(label(e, id));
    });
    await observer.nats.flush();
    const actor = await h.spawn(name, new Counter());
    id = actor.id;
    await until(`the started event of ${name}`, () => events.length >= 1, 2_000);
    events.length = 0;
    return { actor, events, off };
  };

  it('registers kind, id, host, pid and start time; list() shows live actors', async () => {
    const h = await host();
    const started = waitFor<ActorEvent>('started event', 2_000, (done) => {
      const off = observer.onEvent('actor.started', (e) => {
        if (e.actor.name === 'reg-a') {
          off();
          done(e);
        }
      });
    });
    await observer.nats.flush();
    const actor = await h.spawn('reg-a', new Counter());
    const event = await started;
    assert.equal(event.actor.id, actor.id);
    const listed = await observer.list({ name: 'reg-a' });
    assert.equal(listed.length, 1);
    const [entry] = listed;
    assert.equal(entry.id, actor.id);
    assert.match(entry.id, /^[0-9A-HJKMNP-TV-Z]{26}$/); // ULID
    assert.equal(entry.kind, 'Counter');
    assert.equal(entry.pid, process.pid);
    assert.equal(entry.state, 'ready');
    assert.ok(Date.parse(entry.startedAt) <= Date.now());
    const ttl = await redis.pttl(`ms:actor:${actor.id}:hb`);
    assert.ok(ttl > 0 && ttl <= heartbeat.heartbeatTtlMs, `ttl ${ttl}`);
    // heartbeats keep it alive well past one TTL
    await new Promise((r) => setTimeout(r, 3 * heartbeat.heartbeatTtlMs));
    assert.deepEqual(
      (await observer.list({ name: 'reg-a' })).map((e) => e.id),
      [actor.id],
    );
    await h.close();
  });

  it('a graceful stop announces draining, deregisters and publishes actor.stopped, not actor.dead', async () => {
    const h = await host();
    const kinds: string[] = [];
    // subscribed (and flushed) before the spawn: both events come from h's connection, in order
    const off = observer.onEvent('actor.*', (e) => {
      if (e.actor.name === 'reg-b') kinds.push(e.kind);
    });
    await observer.nats.flush();
    const actor = await h.spawn('reg-b', new Counter());
    await h.close();
    await new Promise((r) => setTimeout(r, 2 * heartbeat.heartbeatTtlMs));
    off();
    assert.deepEqual(kinds, ['actor.started', 'actor.draining', 'actor.stopped']);
    assert.deepEqual(await observer.list({ name: 'reg-b' }), []);
    assert.equal((await observer.registry!.get(actor.id))?.state, 'stopped');
  });

  it('an expired heartbeat marks the actor dead and publishes exactly one dead event', async () => {
    // Two extra watchers race the observer's: still one event.
    const watchers = [
      await ActorSystem.connect({ natsUrl: servers.natsUrl, redisUrl: servers.redisUrl, heartbeat }),
      await host(),
    ];
    const stopExtra = watchers[1].registry!.watchDead(20);
    const h = await host();
    const actor = await h.spawn('reg-c', new Counter());
    const deadEvents: ActorEvent[] = [];
    const off = observer.onEvent('actor.dead', (e) => {
      if (e.actor.id === actor.id) deadEvents.push(e);
    });
    await observer.nats.flush();
    // Simulate a hung/killed process: its connections vanish without a goodbye.
    const killedAt = Date.now();
    h.redis!.disconnect();
    await h.nats.close();
    const deadline = Date.now() + 3_000;
    while (deadEvents.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const detectedAfter = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up
    off();
    stopExtra();
    assert.equal(deadEvents.length, 1);
    assert.equal(deadEvents[0].actor.name, 'reg-c');
    assert.equal(deadEvents[0].actor.state, 'dead');
    assert.ok(
      detectedAfter >= heartbeat.heartbeatTtlMs - heartbeat.heartbeatIntervalMs,
      `detected after ${detectedAfter} ms`,
    );
    assert.deepEqual(await observer.list({ name: 'reg-c' }), []);
    assert.equal((await observer.registry!.get(actor.id))?.state, 'dead');
    await Promise.all(watchers.map((w) => w.close()));
  });

  it('a new incarnation declares the one it replaces dead at once, after it is listed itself', async () => {
    const h = await host();
    const {
      actor: first,
      events,
      off,
    } = await spawnWatched(h, 'reg-e', (e, firstId) => `${e.kind} ${e.actor.id === firstId ? 'old' : 'new'}`);
    // The old incarnation's process is gone without a goodbye; its heartbeat has not expired yet.
    h.redis!.disconnect();
    await h.nats.close();
    const h2 = await host();
    const second = await h2.spawn('reg-e', new Counter(), { replaces: first.id });
    await until('both events', () => events.length >= 2, 2_000);
    off();
    assert.deepEqual(events, ['actor.started new', 'actor.dead old']);
    assert.deepEqual(
      (await observer.list({ name: 'reg-e' })).map((e) => e.id),
      [second.id],
    );
    assert.equal((await observer.registry!.get(first.id))?.state, 'dead');
    await h2.close();
  });

  it('an actor declared dead that heartbeats again is announced as started again', async () => {
    const h = await host();
    const { actor, events, off } = await spawnWatched(h, 'reg-f', (e) => e.kind);
    // As if its host had been cut off for longer than the TTL: the heartbeat is gone, a sweep ran.
    // The observer's own periodic sweep may be the one that declares it (then ours finds nothing):
    // the test waits for the event, and cuts the heartbeat again only while none has come, so that
    // the actor is declared dead once. The flush brings in an event the observer has published.
    await until('it is declared dead', async () => {
      if (!events.includes('actor.dead')) {
        await redis.del(`ms:actor:${actor.id}:hb`);
        await observer.registry!.sweepDead();
        await observer.nats.flush();
      }
      return events.includes('actor.dead');
    });
    await until('it is listed again', async () => (await observer.list({ name: 'reg-f' })).length === 1, 2_000);
    await until('the started event', () => events.includes('actor.started'), 2_000);
    off();
    assert.deepEqual(events, ['actor.dead', 'actor.started']);
    assert.equal((await observer.registry!.get(actor.id))?.state, 'ready');
    await h.close();
  });

  it('re-registers itself after Redis restarts empty', async () => {
    const h = await host();
    const actor = await h.spawn('reg-d', new Counter());
    await servers.redis.restart();
    const deadline = Date.now() + 5_000;
    let listed: string[] = [];
    while (Date.now() < deadline) {
      listed = (await observer.list({ name: 'reg-d' }).catch(() => [])).map((e) => e.id);
      if (listed.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(listed, [actor.id]);
    await h.close();
  });
});
