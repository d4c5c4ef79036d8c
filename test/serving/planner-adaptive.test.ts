// The live planner with the adaptive strategy re-places through the library's adaptive step when
// observed traffic makes a switch pay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { until } from '../helpers/until.js';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

// 1 GiB models on 1.5 GiB devices: one model per device, so which model gets the devices matters.
const profiles = [testProfile('a', 0.05), testProfile('b', 0.05)];

/** Makes a's observed rate rise and b's fall. */
async function aTakesTheTraffic(c: TestCluster) {
  const keys = new RuntimeKeys();
  await c.system.redis!.set(keys.rate('a'), '60');
  await c.system.redis!.set(keys.rate('b'), '0.5');
}

/** Makes a take the traffic; the adaptive placement published after `version`. */
async function replacedWhenATakesTheTraffic(c: TestCluster, version: number) {
  await aTakesTheTraffic(c);
  const end = Date.now() + 8_000;
  while ((await c.planner.call('current'))!.version === version && Date.now() < end)
    await new Promise((r) => setTimeout(r, 50));
  const p = (await c.planner.call('current'))!;
  assert.ok(p.version > version, 'a new placement was published');
  assert.match(p.reason, /^adaptive \((search|reselect)\): predicted gain \d+ requests beats swap cost \d+/);
  return p;
}

describe('planner: adaptive strategy', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 4,
      profiles,
      planner: { strategy: 'adaptive', rateCheckSec: 0.2, memoryPerDeviceGiB: 1.5 },
    });
    await c.planner.call('replace', 'initial');
  });
  after(() => c?.close());

  it('moves devices to the model whose observed rate rose, with the reason it decided on', async () => {
    const first = (await c.planner.call('current'))!;
    const hosts = (p: typeof first, m: string) => p.groups.filter((g) => g.models.includes(m)).length;
    assert.equal(first.strategy, 'adaptive');
    assert.equal(hosts(first, 'a'), 2);
    const p = await replacedWhenATakesTheTraffic(c, first.version);
    assert.ok(hosts(p, 'a') > 2, `a on ${hosts(p, 'a')} groups`);
  });
});

describe('planner: adaptive strategy with its policy configured', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 4,
      profiles,
      // Weights that load at 1 MB/s: a switch would leave a group out of service for 1,000 s.
      planner: { strategy: 'adaptive', rateCheckSec: 0.2, memoryPerDeviceGiB: 1.5, adaptive: { loadBandwidth: 1e6 } },
    });
    await c.planner.call('replace', 'initial');
  });
  after(() => c?.close());

  it('decides with the configured swap costs, and with the defaults once they are unset', async () => {
    const first = (await c.planner.call('current'))!;
    await aTakesTheTraffic(c);
    await new Promise((r) => setTimeout(r, 3_000)); // 15 rate checks
    assert.equal((await c.planner.call('current'))!.version, first.version, 'no switch worth 1,000 s of loading');
    await c.planner.call('configure', { adaptive: {} });
    await replacedWhenATakesTheTraffic(c, first.version);
  });
});

describe('planner: adaptive strategy from the operator’s groups (a placement file)', () => {
  let c: TestCluster;
  // The groups a search on the expected (equal) rates would not choose: b on three devices.
  const groups = [
    { config: { pp: 1, op: 1 }, models: ['a'] },
    ...[0, 1, 2].map(() => ({ config: { pp: 1, op: 1 }, models: ['b'] })),
  ];
  before(async () => {
    c = await startCluster({
      workers: 4,
      profiles,
      planner: { strategy: 'adaptive', groups, models: ['a', 'b'], rateCheckSec: 0.2, memoryPerDeviceGiB: 1.5 },
    });
  });
  after(() => c?.close());

  it('starts from the groups as given, then re-places from them as traffic moves', async () => {
    await c.planner.call('replace', 'placement file');
    const first = (await c.planner.call('current'))!;
    assert.equal(first.strategy, 'adaptive');
    assert.deepEqual(
      first.groups.map((g) => g.models),
      groups.map((g) => g.models),
    );
    const p = await replacedWhenATakesTheTraffic(c, first.version);
    assert.ok(p.groups.filter((g) => g.models.includes('a')).length > 1, 'a got more devices');
  });
});

describe('planner: adaptive strategy across a planner restart', () => {
  let c: TestCluster;
  const planner = { strategy: 'adaptive', rateCheckSec: 0.2, memoryPerDeviceGiB: 1.5 };
  before(async () => {
    c = await startCluster({ workers: 4, profiles, planner });
    await c.planner.call('replace', 'initial');
  });
  after(() => c?.close());

  it('a restarted planner goes on deciding for the placement in force, and knows where it started', async () => {
    const home = (await c.planner.call('current'))!;
    const keys = new RuntimeKeys();
    assert.equal(JSON.parse((await c.system.redis!.get(keys.homePlacement()))!).version, home.version);
    const away = await replacedWhenATakesTheTraffic(c, home.version);
    assert.equal(JSON.parse((await c.system.redis!.get(keys.homePlacement()))!).version, home.version);
    await c.system.stop('planner');
    await c.system.spawn('planner', new PlannerActor({ deviceSettleMs: 0, ...planner }));
    // The traffic is back to what the starting placement was made for: b needs its two devices.
    await c.system.redis!.set(keys.rate('b'), '60');
    await until('a re-placement', async () => (await c.planner.call('current'))!.version > away.version, 8_000);
    const back = (await c.planner.call('current'))!;
    assert.match(back.reason, /^adaptive \(home\): /);
    const models = (p: typeof home) => p.groups.map((g) => g.models.join());
    assert.deepEqual(models(back).sort(), models(home).sort());
  });
});
