// The placement algorithms a live planner picks by name (one registry, planner/placement/), and
// binding a placement to devices.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { livePlacementAlgorithmNames, placeByName, placementAlgorithm } from '../../planner/placement/index.js';
import { trainingWorkload } from '../../planner/workload/training.js';
import { zooProfile } from '../../planner/zoo.js';
import { bindPlacement } from '../../serving/planner-actor/bind.js';
import { assignmentsFor } from '../../serving/worker/assignments.js';

const GIB = 2 ** 30;
const profiles = [zooProfile('bert-1.3b', 'a'), zooProfile('bert-1.3b', 'b'), zooProfile('bert-2.6b', 'c')];
const input = (devices: number, memoryPerDevice = 13 * GIB) => ({
  cluster: { devices, memoryPerDevice },
  profiles,
  workload: trainingWorkload(profiles, {}),
});

describe('placement algorithms by name', () => {
  it('are chosen by name or alias; an unknown name lists the known ones', () => {
    assert.equal(placementAlgorithm('round-robin').name, 'replication');
    assert.throws(
      () => placementAlgorithm('nope'),
      /unknown placement algorithm "nope"; known: alpaserve, .*, static$/,
    );
    assert.ok(!livePlacementAlgorithmNames().includes('clockwork++'), 'an oracle is no live strategy');
    assert.ok(livePlacementAlgorithmNames().includes('round-robin'));
  });

  it('round-robin deals models round by round over single-device groups until memory is full', async () => {
    const { placement: p } = await placeByName('round-robin', input(3));
    assert.equal(p.groups.length, 3);
    // 2.4 + 2.4 + 5.4 GB fit 13 GiB: every device ends up with all three, each starting elsewhere.
    assert.deepEqual(
      p.groups.map((g) => g.models),
      [
        ['a', 'b', 'c'],
        ['b', 'c', 'a'],
        ['c', 'a', 'b'],
      ],
    );
    for (const g of p.groups) assert.deepEqual(g.config, { pp: 1, op: 1 });
    const { placement: tight } = await placeByName('round-robin', input(3, 6 * GIB));
    assert.deepEqual(
      tight.groups.map((g) => g.models),
      [['a', 'b'], ['b', 'a'], ['c']],
      '6 GiB: two small models or the large one',
    );
  });

  it('static expands counts and checks memory and devices', async () => {
    const groups = [{ config: { pp: 2, op: 1 }, models: ['a', 'c'], count: 2 }];
    const { placement: p } = await placeByName('static', { ...input(4), groups });
    assert.equal(p.groups.length, 2);
    const three = [{ config: { pp: 2, op: 1 }, models: ['a'], count: 3 }];
    await assert.rejects(placeByName('static', { ...input(4), groups: three }), /need 6 devices but 4/);
    const big = [{ config: { pp: 1, op: 1 }, models: ['c'] }];
    await assert.rejects(placeByName('static', { ...input(4, 1 * GIB), groups: big }), /do not fit/);
    await assert.rejects(placeByName('static', input(4)), /needs groups/);
  });

  it('binding gives devices stage-major, shard-minor, and each device its stage shard', () => {
    const placement = bindPlacement(
      { groups: [{ devices: 4, config: { pp: 2, op: 2 }, models: ['a'] }] },
      ['d0', 'd1', 'd2', 'd3'],
      {
        version: 7,
        strategy: 'static',
        reason: 'test',
        params: { stagePenalty: 0.009, overhead: 0.011 },
        profiles,
      },
    );
    assert.deepEqual(placement.groups[0].devices, [
      ['d0', 'd1'],
      ['d2', 'd3'],
    ]);
    assert.equal(placement.groups[0].id, 'v7-0');
    assert.deepEqual(
      placement.profiles.map((p) => p.name),
      ['a'],
      'only placed models travel with it',
    );
    const [a] = assignmentsFor(placement, 'd3');
    assert.deepEqual([a.group, a.stage, a.shard, a.pp, a.op], ['v7-0', 1, 1, 2, 2]);
    const stage1 = profiles[0].configs['pp2-op2'].stageLatency[1] * (1 + 0.009 * 2);
    assert.ok(Math.abs(a.models[0].seconds - stage1) < 1e-12, 'stage time carries the pipeline penalty');
    const params = { stagePenalty: 0, overhead: 0 };
    const four = { groups: [{ devices: 4, config: { pp: 4, op: 1 }, models: ['a'] }] };
    assert.throws(
      () => bindPlacement(four, ['d0'], { version: 1, strategy: 's', reason: 'r', params, profiles }),
      /needs 4 devices but 1/,
    );
  });

  it('the searches place every model, also one whose bursty training sample came out empty', async () => {
    // npm start's default set with no observed rates: at the 0.1 req/s prior and CV 4, 60 s of
    // traffic gave bert-2.6b-1 no request, and every search left it without a place.
    const six = [0, 1, 2, 3]
      .map((i) => zooProfile('bert-1.3b', `bert-1.3b-${i}`))
      .concat([0, 1].map((i) => zooProfile('bert-2.6b', `bert-2.6b-${i}`)));
    const w = trainingWorkload(six, {});
    const perModel = six.map((_, m) => w.model.filter((x) => x === m).length);
    assert.ok(
      perModel.every((n) => n >= 1),
      `requests per model in the training sample: ${perModel.join(', ')}`,
    );
    for (const name of ['alpaserve', 'alpaserve-greedy', 'selective-replication']) {
      for (const devices of [4, 8, 16]) {
        const { placement: p } = await placeByName(name, {
          cluster: { devices, memoryPerDevice: 13 * GIB },
          profiles: six,
          workload: w,
        });
        const placed = new Set(p.groups.flatMap((g) => g.models));
        assert.deepEqual(
          six.map((m) => m.name).filter((m) => !placed.has(m)),
          [],
          `${name} on ${devices} devices`,
        );
      }
    }
  });
});
