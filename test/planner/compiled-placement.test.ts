// The compiled placement the simulator's loops read: hosts grouped by model in group order, stage
// rows scaled by the stage penalty, and every invalid placement refused with its reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlacement } from '../../planner/compiled-placement.js';
import { profileMap } from '../../planner/profile.js';
import type { Placement } from '../../planner/types.js';
import { toyProfile } from './helpers.js';

const profiles = profileMap([
  toyProfile('a', { 'pp1-op1': [0.1], 'pp2-op1': [0.06, 0.05] }),
  toyProfile('b', { 'pp1-op1': [0.2], 'pp2-op1': [0.12, 0.1] }),
  toyProfile('c', { 'pp1-op1': [0.3] }),
]);
// Workload order differs from the placement's, and 'c' has no requests.
const modelIndex = new Map([
  ['b', 0],
  ['a', 1],
]);

describe('compiled placement', () => {
  test('lists each model’s hosts in group order, with their clocks, depths and penalised stages', () => {
    const placement: Placement = {
      groups: [
        { devices: 2, config: { pp: 2, op: 1 }, models: ['a', 'b'] },
        { devices: 1, config: { pp: 1, op: 1 }, models: ['c', 'a'] },
        { devices: 1, config: { pp: 1, op: 1 }, models: ['b', 'a'] },
      ],
    };
    const p = compilePlacement(placement, profiles, modelIndex, 2, 0.5);
    assert.equal(p.groups, 3);
    assert.deepEqual([...p.groupPp], [2, 1, 1]);
    assert.equal(p.clockCount, 4);
    // Model 0 ('b') on groups 0 and 2; model 1 ('a') on groups 0, 1 and 2.
    assert.deepEqual([...p.hostStart], [0, 2, 5]);
    assert.deepEqual([...p.hostGroup], [0, 2, 0, 1, 2]);
    assert.deepEqual([...p.hostClockAt], [0, 3, 0, 2, 3]);
    assert.deepEqual([...p.hostPp], [2, 1, 2, 1, 1]);
    assert.deepEqual([...p.hostLastClock], [1, 3, 1, 2, 3]);
    assert.deepEqual([...p.hostStageAt], [0, 2, 3, 5, 6]);
    // Stage latency × (1 + penalty × pp): ×2 at pp 2, ×1.5 at pp 1.
    const expected = [0.12 * 2, 0.1 * 2, 0.2 * 1.5, 0.06 * 2, 0.05 * 2, 0.1 * 1.5, 0.1 * 1.5];
    assert.deepEqual([...p.stages], expected);
    assert.deepEqual(
      [...p.hostBusy],
      [expected[0] + expected[1], expected[2], expected[3] + expected[4], expected[5], expected[6]],
    );
    assert.deepEqual([...p.modelUniform], [0, 0]);
  });

  test('marks a model uniform when it has six or more hosts with the same stages', () => {
    const one = { devices: 1, config: { pp: 1, op: 1 }, models: ['a', 'b'] };
    const six = compilePlacement({ groups: Array(6).fill(one) }, profiles, modelIndex, 2, 0);
    assert.deepEqual([...six.modelUniform], [1, 1]);
    const five = compilePlacement({ groups: Array(5).fill(one) }, profiles, modelIndex, 2, 0);
    assert.deepEqual([...five.modelUniform], [0, 0]);
    const mixed = compilePlacement(
      { groups: [...Array(6).fill(one), { devices: 2, config: { pp: 2, op: 1 }, models: ['a'] }] },
      profiles,
      modelIndex,
      2,
      0,
    );
    assert.deepEqual([...mixed.modelUniform], [1, 0]);
  });

  test('refuses an invalid placement with its reason', () => {
    const cases: Array<[Placement, RegExp]> = [
      [{ groups: [{ devices: 1, config: { pp: 0, op: 1 }, models: ['a'] }] }, /group 0: invalid config pp 0, op 1/],
      [{ groups: [{ devices: 1, config: { pp: 2, op: 1 }, models: ['a'] }] }, /group 0: 1 devices but config pp 2/],
      [{ groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['a', 'b', 'a'] }] }, /model "a" listed twice/],
      [{ groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['x'] }] }, /no profile for model "x"/],
      [{ groups: [{ devices: 2, config: { pp: 2, op: 1 }, models: ['c'] }] }, /"c" has no profile for pp 2, op 1/],
    ];
    for (const [placement, reason] of cases)
      assert.throws(() => compilePlacement(placement, profiles, modelIndex, 2, 0), reason);
  });
});
