// Liveness: pings answered by the runtime (also while draining), "no responders" at once for a
// name nobody serves, PresenceWatch noticing a killed actor process and its restart, and a
// supervised process's memory over IPC.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ActorSystem, createLogger, NoRespondersError, PresenceWatch, Supervisor } from '../../bus/index.js';
import { Counter } from '../fixtures/actors.js';
import { startServers, type TestServers } from '../helpers/servers.js';
import { until } from '../helpers/until.js';

process.env.LOG_LEVEL ??= 'silent';

const fixture = fileURLToPath(new URL('../fixtures/actors.js', import.meta.url));

describe('liveness pings and presence', () => {
  let servers: TestServers;
  let system: ActorSystem;
  let supervisor: Supervisor;

  before(async () => {
    servers = await startServers({ nats: true, redis: true });
    system = await ActorSystem.connect({
      natsUrl: servers.natsUrl,
      redisUrl: servers.redisUrl,
      heartbeat: { heartbeatIntervalMs: 100 },
    });
    supervisor = new Supervisor();
  });
  after(async () => {
    await supervisor?.stopAll();
    await system?.close();
    await servers?.close();
  });

  it('a ping is answered outside the mailbox, also while draining; nobody serving is "no responders" at once', async () => {
    const actor = await system.spawn('pinged', new Counter());
    const handle = system.actor<Counter>('pinged', { timeoutMs: 1_000 });
    assert.deepEqual(await handle.ping(), { id: actor.id, name: 'pinged', state: 'ready' });
    const slow = handle.call('slowInc', 1, 300); // holds the mailbox: the ping does not wait for it
    await system.nats.flush();
    const started = Date.now();
    assert.equal((await handle.ping()).state, 'ready');
    assert.ok(Date.now() - started < 200, 'answered while the mailbox is busy');
    const stopping = system.stop('pinged');
    assert.equal((await handle.ping()).state, 'draining', 'still there while it drains');
    assert.equal(await slow, 1);
    await stopping;
    const t = Date.now();
    await assert.rejects(handle.ping(), NoRespondersError);
    assert.ok(Date.now() - t < 200, 'no responders comes at once, not after the timeout');
  });

  it('PresenceWatch reports a killed actor process absent within the interval, and present after its restart', async () => {
    const child = supervisor.start({
      name: 'watched',
      module: fixture,
      exportName: 'Crashy',
      maxRestarts: 1,
      backoffMs: 300,
      env: { NATS_URL: servers.natsUrl, REDIS_URL: servers.redisUrl, LOG_LEVEL: 'silent' },
      execArgv: ['--expose-gc'],
    });
    await child.ready();
    const memory = await child.memoryUsage();
    assert.ok(memory.gc && memory.heapUsed > 0 && memory.rss >= memory.heapUsed, JSON.stringify(memory));
    const changes: Array<{ present: boolean; at: number }> = [];
    const watch = new PresenceWatch(system, {
      intervalMs: 50,
      log: createLogger(),
      onChange: (_name, present) => changes.push({ present, at: Date.now() }),
    });
    watch.watch(['watched']);
    try {
      await until('1 presence changes', () => changes.length === 1, 5_000, 10);
      assert.equal(changes[0].present, true, 'seen first');
      const killedAt = Date.now();
      process.kill(child.pid!, 'SIGKILL');
      await until('2 presence changes', () => changes.length === 2, 5_000, 10);
      assert.equal(changes[1].present, false);
      assert.ok(
        changes[1].at - killedAt < 200,
        `absent ${changes[1].at - killedAt} ms after the kill (interval 50 ms)`,
      );
      await once(supervisor, 'ready');
      await until('3 presence changes', () => changes.length === 3, 5_000, 10);
      assert.equal(changes[2].present, true, 'back after the restart');
    } finally {
      watch.stop();
    }
  });
});
