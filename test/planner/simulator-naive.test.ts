// The optimised simulator against a deliberately naive, object-based transcription of
// docs/alpaserve.md, "The reference simulator", on random multi-group workloads: every request's group
// and finish time must match exactly.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulate } from '../../planner/simulator.js';
import type { DispatchPolicy, ModelProfile, Placement, Workload } from '../../planner/types.js';
import { multiModelWorkload } from '../../planner/workload/multi-model.js';
import { zooProfile } from '../../planner/zoo.js';

function naive(
  placement: Placement,
  profiles: Map<string, ModelProfile>,
  w: Workload,
  policy: DispatchPolicy,
  penalty: number,
  overhead: number,
) {
  const clocks = placement.groups.map((g) => new Array<number>(g.config.pp).fill(0));
  const out: { group: number; finish: number }[] = [];
  for (let i = 0; i < w.arrival.length; i++) {
    const t = w.arrival[i];
    const name = w.modelNames[w.model[i]];
    const hosts = placement.groups.flatMap((g, gi) => (g.models.includes(name) ? [gi] : []));
    if (hosts.length === 0) {
      out.push({ group: -1, finish: NaN });
      continue;
    }
    const stagesOf = (gi: number) => {
      const c = placement.groups[gi].config;
      return profiles.get(name)!.configs[`pp${c.pp}-op${c.op}`].stageLatency.map((l) => l * (1 + penalty * c.pp));
    };
    const pass = (gi: number) => {
      let x = t;
      stagesOf(gi).forEach((s, k) => {
        x = Math.max(x, clocks[gi][k]) + s;
      });
      return x + overhead;
    };
    let chosen = hosts[0];
    if (policy === 'last-stage-clock') {
      for (const gi of hosts)
        if (clocks[gi][clocks[gi].length - 1] < clocks[chosen][clocks[chosen].length - 1]) chosen = gi;
    } else {
      for (const gi of hosts) if (pass(gi) < pass(chosen)) chosen = gi;
    }
    const finish = pass(chosen);
    if (finish - t <= w.slo[i]) {
      let x = t;
      stagesOf(chosen).forEach((s, k) => {
        x = Math.max(x, clocks[chosen][k]) + s;
        clocks[chosen][k] = x;
      });
      out.push({ group: chosen, finish });
    } else out.push({ group: chosen, finish: NaN });
  }
  return out;
}

test('matches a naive transcription of the reference semantics exactly', () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const profiles = new Map(names.map((n, i) => [n, zooProfile(i % 2 ? 'bert-1.3b' : 'bert-2.6b', n)]));
  const placement: Placement = {
    groups: [
      { devices: 4, config: { pp: 4, op: 1 }, models: ['a', 'b', 'c'] },
      { devices: 2, config: { pp: 2, op: 1 }, models: ['a', 'd'] },
      { devices: 2, config: { pp: 1, op: 2 }, models: ['b', 'c', 'd'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
    ],
  };
  // 'e' is hosted nowhere: always a miss.
  check(names, profiles, placement, [
    [1, 'last-stage-clock'],
    [2, 'earliest-finish'],
    [3, 'last-stage-clock'],
  ]);
});

test('matches the naive transcription on a layout of identical groups (every host of a model has the same stages)', () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const profiles = new Map(names.map((n, i) => [n, zooProfile(i % 2 ? 'bert-1.3b' : 'bert-2.6b', n)]));
  const pp2 = (models: string[]) => ({ devices: 2, config: { pp: 2, op: 1 }, models });
  // 'a' and 'b' on enough identical groups for the simulator's early stop (6 or more hosts).
  const placement: Placement = {
    groups: [
      pp2(['a', 'b', 'c']),
      pp2(['a', 'b', 'd']),
      pp2(['a', 'b', 'e']),
      pp2(['a', 'b', 'c']),
      pp2(['a', 'b', 'd']),
      pp2(['a', 'b', 'e']),
      pp2(['a', 'c']),
    ],
  };
  check(names, profiles, placement, [
    [4, 'earliest-finish'],
    [5, 'earliest-finish'],
    [6, 'last-stage-clock'],
  ]);
});

function check(
  names: string[],
  profiles: Map<string, ModelProfile>,
  placement: Placement,
  runs: ReadonlyArray<readonly [number, DispatchPolicy]>,
): void {
  for (const [seed, policy] of runs) {
    const slo = names.map((n) => 3 * profiles.get(n)!.singleDeviceLatency);
    const w = multiModelWorkload({ models: names, totalRate: 25, cv: 3, duration: 200, seed, slo });
    const r = simulate(placement, profiles, w, { policy, records: true });
    const expected = naive(placement, profiles, w, policy, 0.009, 0.011);
    assert.ok(r.rejected > 0 && r.good > 0);
    for (let i = 0; i < expected.length; i++) {
      assert.equal(r.records!.group[i], expected[i].group, `${policy} request ${i}: group`);
      assert.ok(
        Object.is(r.records!.finish[i], expected[i].finish),
        `${policy} request ${i}: finish ${r.records!.finish[i]} vs ${expected[i].finish}`,
      );
    }
    assert.equal(r.good, expected.filter((e) => !Number.isNaN(e.finish)).length);
  }
}
