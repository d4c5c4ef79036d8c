// Supervisor: actor processes (bus/actor-host) restarted after a crash, up to a limit.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ActorEvent, ActorSystem, Supervisor } from '../../bus/index.js';
import type { Crashy } from '../fixtures/actors.js';
import { startServers, type TestServers } from '../helpers/servers.js';

process.env.LOG_LEVEL ??= 'silent';

const fixture = fileURLToPath(new URL('../fixtures/actors.js', import.meta.url));

describe('supervisor', () => {
  let servers: TestServers;
  let system: ActorSystem;
  let supervisor: Supervisor;

  before(async () => {
    servers = await startServers({ nats: true, redis: true });
    system = await ActorSystem.connect({
      natsUrl: servers.natsUrl,
      redisUrl: servers.redisUrl,
      heartbeat: { heartbeatIntervalMs: 50, heartbeatTtlMs: 200 },
    });
    supervisor = new Supervisor();
  });
  after(async () => {
    await supervisor?.stopAll();
    await system?.close();
    await servers?.close();
  });

  const start = (name: string, maxRestarts: number) =>
    supervisor.start({
      name,
      module: fixture,
      exportName: 'Crashy',
      maxRestarts,
      backoffMs: 20,
      heartbeatIntervalMs: 50,
      heartbeatTtlMs: 200,
      env: { NATS_URL: servers.natsUrl, REDIS_URL: servers.redisUrl, LOG_LEVEL: 'silent' },
    });

  it('restarts a crashed actor process, which serves again under the same name', async () => {
    const child = start('crashy', 3);
    await child.ready();
    const handle = system.actor<Crashy>('crashy', { timeoutMs: 2_000 });
    const first = await handle.call('whoami');
    assert.equal(first.id, child.actorId);
    assert.equal(first.pid, child.pid);

    const dead = new Promise<ActorEvent>((resolve) => {
      const off = system.onEvent('actor.dead', (e) => {
        if (e.actor.id === first.id) {
          off();
          resolve(e);
        }
      });
    });
    const restarted = once(supervisor, 'restart');
    handle.tell('crash');
    assert.deepEqual(await restarted, ['crashy', 1]);
    await child.ready();
    const second = await handle.call('whoami');
    assert.notEqual(second.pid, first.pid);
    assert.notEqual(second.id, first.id);
    assert.equal(child.restarts, 1);
    assert.equal(child.state, 'running');
    // the crashed incarnation is declared dead by its expired heartbeat
    assert.equal((await dead).actor.name, 'crashy');
    assert.deepEqual(
      (await system.list({ name: 'crashy' })).map((e) => e.id),
      [second.id],
    );
  });

  it('gives up after maxRestarts crashes within the window', async () => {
    const child = start('fragile', 1);
    await child.ready();
    const handle = system.actor<Crashy>('fragile', { timeoutMs: 2_000 });
    handle.tell('crash');
    await once(supervisor, 'restart');
    await child.ready();
    const gaveUp = once(supervisor, 'giveup');
    handle.tell('crash');
    assert.deepEqual(await gaveUp, ['fragile', 1]);
    assert.equal(child.state, 'failed');
    await assert.rejects(child.ready(), /gave up/);
  });

  it('stop() drains the process (SIGTERM): in-flight calls answered, no restart', async () => {
    const child = start('calm', 3);
    await child.ready();
    const handle = system.actor<Crashy>('calm', { timeoutMs: 5_000 });
    const calls = Array.from({ length: 10 }, (_, i) => handle.call('nap', 10, i));
    // once the server has the requests it has routed them to the child, ahead of the child's UNSUB
    await system.nats.flush();
    const exit = once(supervisor, 'exit');
    await child.stop();
    assert.deepEqual(await Promise.all(calls), [...Array(10).keys()]);
    const [, code] = await exit;
    assert.equal(code, 0);
    assert.equal(child.state, 'stopped');
    assert.equal(child.restarts, 0);
    assert.deepEqual(await system.list({ name: 'calm' }), []);
  });
});
