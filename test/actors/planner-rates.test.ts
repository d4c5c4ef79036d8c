// The planner re-places on a schedule when observed rates moved, for strategies that use rates.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerStrategy, roundRobinPlacement } from '../../actors/placement-strategies.js';
import { RuntimeKeys } from '../../actors/protocol.js';
import { startCluster, testProfile, type TestCluster } from './helpers.js';

const seenRates: Array<Record<string, number>> = [];
registerStrategy({
  name: 'test-rates',
  usesRates: true,
  place: (input) => {
    seenRates.push({ ...input.rates });
    return roundRobinPlacement(input);
  },
});

describe('planner: re-placement from observed rates', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ workers: 2, profiles: [testProfile('a', 0.01), testProfile('b', 0.01)], planner: { strategy: 'test-rates', rateCheckSec: 0.2 } });
    await c.planner.call('replace', 'initial');
  });
  after(() => c?.close());

  it('places again with the new rates once they moved by half or more, not before', async () => {
    const keys = new RuntimeKeys();
    const redis = c.system.redis!;
    await redis.set(keys.rate('a'), '0.2'); // a small change from nothing: ignored
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await c.planner.call('current'))!.version, 1);
    await redis.set(keys.rate('a'), '12');
    const end = Date.now() + 5_000;
    while ((await c.planner.call('current'))!.version === 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const p = (await c.planner.call('current'))!;
    assert.equal(p.version, 2);
    assert.equal(p.reason, 'observed rates changed');
    assert.equal(seenRates.at(-1)!.a, 12, 'the strategy saw the observed rate');
  });
});
