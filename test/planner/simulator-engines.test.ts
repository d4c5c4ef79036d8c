// The WebAssembly kernel against the JS loops, its reference implementation: for every dispatch
// policy, on workloads that exercise each path of the loops (mixed pipeline depths, identical
// groups, unplaced models, rejections, admission margin, trims, fewest-inflight rings past their
// first capacity), the two engines must give the same result bit for bit, per-request records
// included.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WasmSimulator } from '../../planner/kernel/wasm-simulator.js';
import { DISPATCH_POLICIES, Simulator } from '../../planner/simulator.js';
import type { ModelProfile, Placement, SimOptions, SimResult, Workload } from '../../planner/types.js';
import { multiModelWorkload } from '../../planner/workload/multi-model.js';
import { zooProfile } from '../../planner/zoo.js';
import { rows, toyProfile } from './helpers.js';

/** Runs both engines on every policy and checks they agree; returns the kernel's results. */
function agree(profiles: ModelProfile[], placement: Placement, w: Workload, options: SimOptions = {}): SimResult[] {
  assert.ok(WasmSimulator.accepts(w), 'the kernel must take this workload, or the test compares JS with JS');
  const sim = new Simulator(profiles, w);
  return DISPATCH_POLICIES.map((policy) => {
    const wasm = sim.run(placement, { ...options, policy, engine: 'wasm', records: true });
    const js = sim.run(placement, { ...options, policy, engine: 'js', records: true });
    const r = wasm.records!;
    const e = js.records!;
    for (let i = 0; i < w.arrival.length; i++) {
      const where = `${policy}, request ${i}`;
      assert.equal(r.group[i], e.group[i], `${where}: group`);
      assert.ok(Object.is(r.finish[i], e.finish[i]), `${where}: finish ${r.finish[i]} vs ${e.finish[i]}`);
      assert.ok(Object.is(r.start[i], e.start[i]), `${where}: start ${r.start[i]} vs ${e.start[i]}`);
      assert.equal(r.good[i], e.good[i], `${where}: good`);
    }
    assert.deepStrictEqual(wasm, js, `${policy}: results differ`);
    // Without records the kernel takes other loops: the same figures.
    const { records: _, ...bare } = wasm;
    assert.deepStrictEqual(sim.run(placement, { ...options, policy, engine: 'wasm' }), bare, `${policy}: no records`);
    return wasm;
  });
}

const zoo = (names: string[]): ModelProfile[] =>
  names.map((n, i) => zooProfile(['bert-1.3b', 'bert-2.6b', 'bert-6.7b'][i % 3], n));

test('mixed pipeline depths, an unplaced model, rejections, a trim and an admission margin', () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  const profiles = zoo(names);
  const placement: Placement = {
    groups: [
      { devices: 4, config: { pp: 4, op: 1 }, models: ['a', 'b', 'c'] },
      { devices: 2, config: { pp: 2, op: 1 }, models: ['a', 'd'] },
      { devices: 2, config: { pp: 1, op: 2 }, models: ['b', 'c', 'd'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a', 'e'] },
      { devices: 2, config: { pp: 2, op: 1 }, models: ['a', 'b', 'e'] },
    ],
  }; // 'f' is hosted nowhere
  const slo = profiles.map((p) => 4 * p.singleDeviceLatency);
  for (const [seed, cv] of [
    [1, 1],
    [2, 4],
  ]) {
    const w = multiModelWorkload({ models: names, totalRate: 45, cv, duration: 300, seed, slo });
    for (const results of [agree(profiles, placement, w), agree(profiles, placement, w, { trim: 20 })])
      for (const r of results) assert.ok(r.good > 0 && r.rejected > r.unplaced && r.unplaced > 0);
    agree(profiles, placement, w, { admissionMargin: 0.005, stagePenalty: 0.02, overhead: 0.003 });
  }
});

test('identical groups: many hosts per model with the same stages', () => {
  const names = ['a', 'b', 'c', 'd'];
  const profiles = names.map((n) => zooProfile('bert-2.6b', n));
  const pp2 = (models: string[]) => ({ devices: 2, config: { pp: 2, op: 1 }, models });
  const placement: Placement = {
    groups: Array.from({ length: 8 }, (_, g) => pp2(g % 2 ? ['a', 'b', 'c'] : ['a', 'b', 'd'])),
  };
  const slo = profiles.map((p) => 3 * p.singleDeviceLatency);
  const w = multiModelWorkload({ models: names, totalRate: 60, cv: 3, duration: 200, seed: 7, slo });
  for (const r of agree(profiles, placement, w)) assert.ok(r.good > 0 && r.rejected > 0);
});

test('fewest-inflight rings past their first capacity, and ties everywhere', () => {
  const a = toyProfile('a', { 'pp1-op1': [1], 'pp2-op1': [0.5, 0.5] });
  const b = toyProfile('b', { 'pp1-op1': [0.25], 'pp2-op1': [0.125, 0.125] });
  const placement: Placement = {
    groups: [
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a', 'b'] },
      { devices: 2, config: { pp: 2, op: 1 }, models: ['a'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a', 'b'] },
    ],
  };
  // Bursts of simultaneous requests (hundreds in flight per group), then a trickle; SLOs loose
  // enough to admit most of a burst and tight enough to reject some.
  const list: [number, number, number][] = [];
  for (let burst = 0; burst < 3; burst++) {
    for (let k = 0; k < 400; k++) list.push([burst * 500, k % 3 === 0 ? 1 : 0, 200]);
    for (let k = 1; k <= 40; k++) list.push([burst * 500 + 3 * k, k % 2, 2 + (k % 5)]);
  }
  // Then, on idle groups, arrivals exactly at the previous finish (1400 + 0.25): it has left.
  list.push([1400, 1, 1], [1400.25, 1, 1], [1400.5, 1, 1]);
  list.sort((x, y) => x[0] - y[0]);
  const results = agree([a, b], placement, rows(['a', 'b'], list, 1600), { stagePenalty: 0, overhead: 0 });
  for (const r of results) assert.ok(r.good > 300 && r.rejected > 0);
  assert.deepEqual([...results[2].records!.group.slice(-3)], [0, 0, 0]); // fewest-inflight
});
