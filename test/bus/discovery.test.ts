// $SRV discovery: standard NATS micro-services PING / INFO / STATS responses per actor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActorSystem, type InfoResponse, type PingResponse, type StatsResponse } from '../../bus/index.js';
import { Counter } from '../fixtures/actors.js';
import { startServers, type TestServers } from '../helpers/servers.js';

process.env.LOG_LEVEL ??= 'silent';

describe('$SRV discovery', () => {
  let servers: TestServers;
  let systems: ActorSystem[];

  before(async () => {
    servers = await startServers({ nats: true });
    // Two processes' worth of systems: discovery must gather answers from both.
    systems = [
      await ActorSystem.connect({ natsUrl: servers.natsUrl, registry: false }),
      await ActorSystem.connect({ natsUrl: servers.natsUrl, registry: false }),
    ];
    await systems[0].spawn('counter', new Counter());
    await systems[1].spawn('counter', new Counter());
    await systems[1].spawn('other', new Counter(), { kind: 'OtherKind', version: '1.2.3' });
  });
  after(async () => {
    await Promise.all(systems.map((s) => s.close()));
    await servers?.close();
  });

  async function gather<T>(subject: string): Promise<T[]> {
    const replies = await systems[0].nats.requestMany(subject, '', { maxWait: 300, strategy: 'timer' });
    const out: T[] = [];
    for await (const msg of replies) out.push(msg.json<T>());
    return out;
  }

  it('PING finds every actor instance', async () => {
    const pings = await gather<PingResponse>('$SRV.PING');
    assert.deepEqual(pings.map((p) => p.name).sort(), ['counter', 'counter', 'other']);
    for (const p of pings) assert.equal(p.type, 'io.nats.micro.v1.ping_response');
    const ids = [systems[0].local('counter')!.id, systems[1].local('counter')!.id].sort();
    assert.deepEqual(
      pings
        .filter((p) => p.name === 'counter')
        .map((p) => p.id)
        .sort(),
      ids,
    );
    assert.equal((await gather<PingResponse>('$SRV.PING.other')).length, 1);
    assert.equal((await gather<PingResponse>(`$SRV.PING.counter.${ids[0]}`)).length, 1);
  });

  it('INFO lists methods as endpoints', async () => {
    const [info] = await gather<InfoResponse>('$SRV.INFO.other');
    assert.equal(info.type, 'io.nats.micro.v1.info_response');
    assert.equal(info.version, '1.2.3');
    assert.equal(info.metadata.kind, 'OtherKind');
    const inc = info.endpoints.find((e) => e.name === 'inc');
    assert.deepEqual(inc, { name: 'inc', subject: 'ms.actor.other.inc', queue_group: 'other', metadata: null });
    assert.ok(!info.endpoints.some((e) => e.name === '_secret' || e.name === 'constructor'));
  });

  it('STATS counts requests, errors and processing time', async () => {
    const other = systems[0].actor<Counter>('other');
    await other.call('inc', 1);
    await other.call('inc', 1);
    await other.call('fail', 'x').catch(() => {});
    const [stats] = await gather<StatsResponse>('$SRV.STATS.other');
    assert.equal(stats.type, 'io.nats.micro.v1.stats_response');
    const inc = stats.endpoints.find((e) => e.name === 'inc')!;
    const fail = stats.endpoints.find((e) => e.name === 'fail')!;
    assert.equal(inc.num_requests, 2);
    assert.equal(inc.num_errors, 0);
    assert.ok(inc.processing_time > 0 && inc.average_processing_time > 0);
    assert.equal(fail.num_errors, 1);
    assert.equal(fail.last_error, 'RangeError: x');
    assert.ok(!Number.isNaN(Date.parse(stats.started)));
  });
});
