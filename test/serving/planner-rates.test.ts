// The planner re-places on a schedule when observed rates moved, for strategies that use rates.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PLACEMENT_ALGORITHMS, type PlacementAlgorithm, placeByName } from '../../planner/placement/index.js';
import type { Workload } from '../../planner/types.js';
import { trainingWorkload } from '../../planner/workload/training.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

const seen: Workload[] = [];
const watching: PlacementAlgorithm = {
  name: 'test-rates',
  description: 'round robin, noting the training workload it was given',
  usesWorkload: true,
  place: (input, options) => {
    seen.push(input.workload);
    return placeByName('round-robin', input, options);
  },
};
const profiles = [testProfile('a', 0.01), testProfile('b', 0.01)];

describe('planner: re-placement from observed rates', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 2,
      profiles,
      planner: { strategy: 'test-rates', rateCheckSec: 0.2 },
      plannerAlgorithms: [...PLACEMENT_ALGORITHMS, watching],
    });
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
    while ((await c.planner.call('current'))!.version === 1 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50));
    const p = (await c.planner.call('current'))!;
    assert.equal(p.version, 2);
    assert.equal(p.reason, 'observed rates changed');
    assert.deepEqual(
      seen.at(-1),
      trainingWorkload(profiles, { a: 12 }),
      'the strategy scored on traffic at the observed rate',
    );
  });
});
