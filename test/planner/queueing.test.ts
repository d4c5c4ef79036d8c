// The simulator against closed-form queueing results and the SLO rule.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupClocks, penalisedStages } from '../../planner/latency-model.js';
import { simulate } from '../../planner/simulator.js';
import type { Placement } from '../../planner/types.js';
import { multiModelWorkload } from '../../planner/workload/multi-model.js';
import { rows, toyProfile } from './helpers.js';

const pure = { stagePenalty: 0, overhead: 0 };

test('M/D/1: mean waiting time matches λD²/(2(1−λD)) on a long Poisson run', () => {
  const D = 0.1;
  const a = toyProfile('a', { 'pp1-op1': [D] });
  const p: Placement = { groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['a'] }] };
  for (const rate of [3, 5, 8]) {
    const w = multiModelWorkload({ models: ['a'], totalRate: rate, cv: 1, duration: 300_000 / rate, seed: 7 });
    const r = simulate(p, [a], w, { ...pure, policy: 'last-stage-clock' });
    assert.equal(r.rejected, 0);
    const rho = rate * D;
    const expectedWait = (rate * D * D) / (2 * (1 - rho));
    const wait = r.latency.mean - D;
    const rel = Math.abs(wait - expectedWait) / expectedWait;
    assert.ok(
      rel < 0.04,
      `λ=${rate}: mean wait ${wait.toFixed(5)} vs M/D/1 ${expectedWait.toFixed(5)} (${(rel * 100).toFixed(1)}% off)`,
    );
  }
});

test('a two-stage pipeline’s throughput is bounded by its slowest stage', () => {
  const stages = [0.03, 0.05];
  const a = toyProfile('a', { 'pp2-op1': stages });
  const p: Placement = { groups: [{ devices: 2, config: { pp: 2, op: 1 }, models: ['a'] }] };
  // A burst of n requests at t = 0: the last leaves at 0.03 + n·0.05, exactly.
  const n = 1000;
  const burst = simulate(
    p,
    [a],
    rows(
      ['a'],
      Array.from({ length: n }, () => [0, 0, Infinity] as [number, number, number]),
    ),
    { ...pure, records: true },
  );
  const lastFinish = Math.max(...burst.records!.finish);
  assert.ok(Math.abs(lastFinish - (0.03 + n * 0.05)) < 1e-9, `last finish ${lastFinish}`);
  // Overloaded Poisson traffic (40 req/s offered, 20 req/s possible): completions per second stay ≤ 1/0.05.
  const w = multiModelWorkload({ models: ['a'], totalRate: 40, cv: 1, duration: 200, seed: 3 });
  const r = simulate(p, [a], w, { ...pure, records: true });
  const finishes = Float64Array.from(r.records!.finish).sort();
  const served = finishes.length;
  const throughput = (served - 1) / (finishes[served - 1] - finishes[0]);
  assert.ok(throughput <= 1 / 0.05 + 1e-9, `throughput ${throughput}`);
  assert.ok(throughput > 0.99 / 0.05, `a saturated pipeline should run at its bottleneck rate, got ${throughput}`);
});

test('rejections never exceed what the SLO forces', () => {
  const a = toyProfile('a', { 'pp1-op1': [0.1], 'pp2-op1': [0.06, 0.06] });
  const b = toyProfile('b', { 'pp1-op1': [0.05], 'pp2-op1': [0.03, 0.03] });
  const p: Placement = {
    groups: [
      { devices: 2, config: { pp: 2, op: 1 }, models: ['a', 'b'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['b'] },
    ],
  };
  const profiles = new Map([
    ['a', a],
    ['b', b],
  ]);
  const w = multiModelWorkload({ models: ['a', 'b'], totalRate: 40, cv: 3, duration: 300, seed: 11, slo: [0.3, 0.2] });
  const params = { stagePenalty: 0.009, overhead: 0.011 };
  const r = simulate(p, profiles, w, { ...params, policy: 'earliest-finish', records: true });
  assert.ok(r.rejected > 0 && r.good > 0, 'the scenario should both reject and serve');
  // Replay the run with the shared latency model: every accepted request's finish must match, and
  // every rejected one must have missed its deadline on every hosting group at its arrival.
  const clocks = p.groups.map((g) => new GroupClocks(g.config.pp, params));
  const hosts = (name: string) => p.groups.flatMap((g, gi) => (g.models.includes(name) ? [gi] : []));
  for (let i = 0; i < w.arrival.length; i++) {
    const t = w.arrival[i];
    const name = w.modelNames[w.model[i]];
    const stagesOn = (gi: number) =>
      penalisedStages(profiles.get(name)!.configs[`pp${p.groups[gi].config.pp}-op1`], params.stagePenalty);
    const g = r.records!.group[i];
    if (r.records!.good[i]) {
      const finish = clocks[g].commit(stagesOn(g), t);
      assert.equal(finish, r.records!.finish[i]);
    } else {
      for (const gi of hosts(name))
        assert.ok(
          clocks[gi].tentativeFinish(stagesOn(gi), t) - t > w.slo[i],
          `request ${i} rejected though group ${gi} could meet its SLO`,
        );
    }
  }
  // A huge SLO rejects nothing, and the no-SLO run serves every request.
  const loose = multiModelWorkload({ models: ['a', 'b'], totalRate: 40, cv: 3, duration: 300, seed: 11, slo: 1e9 });
  assert.equal(simulate(p, profiles, loose).rejected, 0);
  const none = multiModelWorkload({ models: ['a', 'b'], totalRate: 40, cv: 3, duration: 300, seed: 11 });
  const free = simulate(p, profiles, none);
  assert.equal(free.rejected, 0);
  assert.equal(free.good, free.requests);
});

test('trimming drops the ends from the statistics only', () => {
  const a = toyProfile('a', { 'pp1-op1': [0.1] });
  const p: Placement = { groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['a'] }] };
  const w = rows(
    ['a'],
    [
      [1, 0, 1],
      [5, 0, 1],
      [15, 0, 1],
      [25, 0, 1],
      [29, 0, 1],
    ],
    30,
  );
  const r = simulate(p, [a], w, { trim: 10 });
  assert.equal(r.requests, 1);
  assert.equal(r.goodput, 1 / 10);
  assert.deepEqual(r.groupServed, [5]);
});

test('utilisation is busy stage time over the duration', () => {
  const a = toyProfile('a', { 'pp2-op1': [0.1, 0.3] });
  const p: Placement = { groups: [{ devices: 2, config: { pp: 2, op: 1 }, models: ['a'] }] };
  const r = simulate(
    p,
    [a],
    rows(
      ['a'],
      [
        [0, 0, Infinity],
        [1, 0, Infinity],
      ],
      4,
    ),
    pure,
  );
  // 2 requests × 0.4 s of stage time over 2 stages × 4 s
  assert.ok(Math.abs(r.groupUtilisation[0] - 0.1) < 1e-12);
});

test('a prepared Simulator gives the same result as simulate() and can be re-run', async () => {
  const { Simulator } = await import('../../planner/simulator.js');
  const a = toyProfile('a', { 'pp1-op1': [0.1], 'pp2-op1': [0.06, 0.06] });
  const w = multiModelWorkload({ models: ['a'], totalRate: 12, cv: 2, duration: 100, seed: 5, slo: 0.4 });
  const p1: Placement = { groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['a'] }] };
  const p2: Placement = { groups: [{ devices: 2, config: { pp: 2, op: 1 }, models: ['a'] }] };
  const sim = new Simulator([a], w);
  const x1 = sim.run(p1);
  const x2 = sim.run(p2);
  assert.deepEqual(sim.run(p1), x1);
  assert.deepEqual(simulate(p2, [a], w), x2);
  assert.notEqual(x1.good, x2.good);
});

test('M/D/1 (docs/alpaserve.md): a shared 2-stage pipeline halves the queueing delay of two dedicated devices', () => {
  const D = 0.1;
  const a = toyProfile('a', { 'pp1-op1': [D], 'pp2-op1': [D / 2, D / 2] });
  const b = toyProfile('b', { 'pp1-op1': [D], 'pp2-op1': [D / 2, D / 2] });
  const dedicated: Placement = {
    groups: [
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['b'] },
    ],
  };
  const pipeline: Placement = { groups: [{ devices: 2, config: { pp: 2, op: 1 }, models: ['a', 'b'] }] };
  const rate = 10; // r = λD = 1.0 in the paper's table
  const w = multiModelWorkload({
    models: ['a', 'b'],
    totalRate: rate,
    cv: 1,
    duration: 200_000 / rate,
    seed: 21,
    split: 'uniform',
  });
  const waitDedicated = simulate(dedicated, [a, b], w, pure).latency.mean - D;
  const waitPipeline = simulate(pipeline, [a, b], w, pure).latency.mean - D;
  const ratio = waitPipeline / waitDedicated;
  assert.ok(Math.abs(ratio - 0.5) < 0.03, `pipeline/dedicated queueing delay ratio ${ratio.toFixed(3)}`);
  // and each matches its M/D/1 value: dedicated λ/2 with D; pipeline λ with D/2
  const md1 = (l: number, d: number) => (l * d * d) / (2 * (1 - l * d));
  assert.ok(Math.abs(waitDedicated / md1(rate / 2, D) - 1) < 0.05);
  assert.ok(Math.abs(waitPipeline / md1(rate, D / 2) - 1) < 0.05);
});
