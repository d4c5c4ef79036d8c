// Placement algorithms: layouts, memory fit, the paper's motivation claims, AlpaServe vs its
// baselines, determinism, beam vs greedy, Clockwork++ schedules.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceSplits } from '../../planner/placement/buckets.js';
import {
  describeLayout,
  enumerateLayouts,
  evaluatePlacement,
  modelBuckets,
  PLACEMENT_ALGORITHM_NAMES,
  type PlacementInput,
  type PlacementResult,
  placeByName,
  simulateSchedule,
} from '../../planner/placement/index.js';
import { groupFits, profileMap } from '../../planner/profile.js';
import { Rng } from '../../planner/rng.js';
import { Simulator } from '../../planner/simulator.js';
import type { ModelProfile, Workload } from '../../planner/types.js';
import { arrivals } from '../../planner/workload/arrivals.js';
import { mergeStreams, multiModelWorkload, slosFromScale } from '../../planner/workload/multi-model.js';
import { zooProfile } from '../../planner/zoo.js';

const GiB = 2 ** 30;

function models(zoo: string, n: number): ModelProfile[] {
  return Array.from({ length: n }, (_, i) => zooProfile(zoo, `${zoo}-${i}`));
}

function input(
  profiles: ModelProfile[],
  devices: number,
  memGiB: number,
  w: { rate: number; cv: number; duration: number; sloScale?: number; seed?: number; split?: number[] },
): PlacementInput {
  const names = profiles.map((p) => p.name);
  const slo = w.sloScale === undefined ? undefined : slosFromScale(names, profileMap(profiles), w.sloScale);
  const workload = multiModelWorkload({
    models: names,
    totalRate: w.rate,
    cv: w.cv,
    duration: w.duration,
    seed: w.seed ?? 1,
    slo,
    split: w.split,
  });
  return { cluster: { devices, memoryPerDevice: memGiB * GiB }, profiles, workload };
}

function assertFits(r: PlacementResult, inp: PlacementInput): void {
  const byName = profileMap(inp.profiles);
  const placements = r.schedule ? r.schedule.windows.map((w) => w.placement) : [r.placement];
  for (const p of placements) {
    let devices = 0;
    for (const g of p.groups) {
      devices += g.devices;
      assert.equal(g.devices, g.config.pp * g.config.op);
      assert.ok(groupFits(g, byName, inp.cluster), `${r.algorithm}: group ${JSON.stringify(g)} exceeds memory`);
      assert.equal(new Set(g.models).size, g.models.length, 'no model twice on a group');
    }
    assert.ok(devices <= inp.cluster.devices, `${r.algorithm} uses ${devices} devices of ${inp.cluster.devices}`);
  }
}

test('group layouts: the 12 candidates of 32 devices (docs/alpaserve.md, "Placement"), leftovers as pipelines', () => {
  const got = enumerateLayouts(32).map(describeLayout).sort();
  const want = [
    [32, 1, 1],
    [16, 1, 2],
    [16, 2, 1],
    [8, 1, 4],
    [8, 2, 2],
    [8, 4, 1],
    [4, 2, 4],
    [4, 4, 2],
    [4, 8, 1],
    [2, 4, 4],
    [2, 8, 2],
    [1, 8, 4],
  ]
    .map(([n, pp, op]) => `${n}×(pp${pp},op${op})`)
    .sort();
  assert.deepEqual(got, want);
  // 12 devices: groups of 8 leave 4, which become one 4-stage pipeline.
  assert.ok(enumerateLayouts(12).map(describeLayout).includes('1×(pp8,op1) + 1×(pp4,op1)'));
  assert.ok(enumerateLayouts(3).map(describeLayout).includes('1×(pp2,op1) + 1×(pp1,op1)'));
});

test('every algorithm returns placements that fit memory and the cluster', async () => {
  const mixed = [...models('bert-1.3b', 3), ...models('bert-6.7b', 2), ...models('moe-2.4b', 2)];
  const cases = [
    input(models('bert-2.6b', 6), 8, 6, { rate: 10, cv: 3, duration: 60, sloScale: 5 }), // tight: 1 model per device
    input(models('bert-6.7b', 4), 4, 13, { rate: 4, cv: 2, duration: 60, sloScale: 4 }),
    input(mixed, 8, 13, { rate: 12, cv: 3, duration: 60, sloScale: 5 }),
  ];
  for (const inp of cases) {
    for (const name of PLACEMENT_ALGORITHM_NAMES) {
      // 'static' places the operator's groups: give it one.
      const given =
        name === 'static'
          ? { ...inp, groups: [{ config: { pp: 1, op: 1 }, models: [inp.workload.modelNames[0]] }] }
          : inp;
      const r = await placeByName(name, given, { window: 20, beam: 2 });
      assertFits(r, given);
      assert.ok(r.attainment >= 0 && r.attainment <= 1);
    }
  }
});

test("paper's two-model example: a 2-stage pipeline beats replication under bursty, skewed load", async () => {
  for (const [split, cv] of [
    [[0.5, 0.5], 3],
    [[0.2, 0.8], 3],
    [[0.2, 0.8], 1],
  ] as const) {
    const inp = input(models('bert-6.7b', 2), 2, 13, { rate: 3, cv, duration: 1000, seed: 3, split: [...split] });
    const rep = await placeByName('replication', inp);
    const mp = await placeByName('pipeline', inp, { stages: 2 });
    assert.deepEqual(
      rep.placement.groups.map((g) => g.models.length),
      [1, 1],
      'bert-6.7b: one per 13 GiB device',
    );
    assert.deepEqual(
      mp.placement.groups.map((g) => g.models.length),
      [2],
    );
    const a = evaluatePlacement(rep, inp.profiles, inp.workload);
    const b = evaluatePlacement(mp, inp.profiles, inp.workload);
    assert.ok(
      b.latency.mean < 0.9 * a.latency.mean,
      `split ${split} cv ${cv}: MP mean ${b.latency.mean} vs replication ${a.latency.mean}`,
    );
  }
});

test('memory budget: model parallelism wins when memory is short, the two converge when it is ample', async () => {
  const profiles = models('bert-2.6b', 8);
  const mean = async (mem: number, name: string, stages?: number) => {
    const inp = input(profiles, 8, mem, { rate: 20, cv: 3, duration: 400, seed: 3 });
    return evaluatePlacement(await placeByName(name, inp, { stages }), profiles, inp.workload).latency.mean;
  };
  const [repShort, mpShort] = [await mean(8, 'replication'), await mean(8, 'pipeline', 2)];
  assert.ok(mpShort < 0.5 * repShort, `8 GiB: MP ${mpShort} vs replication ${repShort}`);
  const [repAmple, mpAmple] = [await mean(48, 'replication'), await mean(48, 'pipeline', 2)];
  assert.ok(Math.abs(mpAmple - repAmple) / repAmple < 0.3, `48 GiB: MP ${mpAmple} vs replication ${repAmple}`);
  assert.ok(Math.abs(mpAmple - repAmple) < Math.abs(mpShort - repShort) / 10);
});

test("AlpaServe's search scores at least Selective Replication's (it searches a superset)", async () => {
  for (const [sloScale, cv] of [
    [2, 4],
    [5, 4],
    [1, 2],
  ]) {
    const inp = input(models('bert-1.3b', 8), 8, 13, { rate: 30, cv, duration: 120, sloScale, seed: 5 });
    const sr = await placeByName('selective-replication', inp);
    const greedy = await placeByName('alpaserve-greedy', inp);
    const beam = await placeByName('alpaserve', inp, { beam: 2 });
    for (const r of [greedy, beam]) {
      assert.ok(r.score >= sr.score, `slo ${sloScale}: ${r.algorithm} ${r.score} < SR ${sr.score}`);
      // The score's latency term is < 1e-4 here, so attainment cannot fall more than that below.
      assert.ok(
        r.attainment >= sr.attainment - 1e-4,
        `slo ${sloScale}: ${r.algorithm} ${r.attainment} < SR ${sr.attainment}`,
      );
    }
    if (sloScale === 1) {
      assert.equal(sr.attainment, 0, 'at SLO scale 1 a single device never meets the SLO');
      assert.ok(greedy.attainment > 0.5, `intra-op configs still serve: ${greedy.attainment}`);
    }
  }
});

test('fast greedy and beam search are deterministic, also across worker threads', async () => {
  const inp = input(models('bert-1.3b', 6), 8, 13, { rate: 25, cv: 4, duration: 60, sloScale: 3, seed: 9 });
  const a = await placeByName('alpaserve-greedy', inp);
  const b = await placeByName('alpaserve-greedy', inp);
  const c = await placeByName('alpaserve-greedy', inp, { workers: 2 });
  assert.deepEqual(b.placement, a.placement);
  assert.deepEqual(c.placement, a.placement);
  assert.equal(c.score, a.score);
  assert.equal(c.stats.simulations, a.stats.simulations);
  const beam = await placeByName('alpaserve', inp, { beam: 2 });
  const beamWorkers = await placeByName('alpaserve', inp, { beam: 2, workers: 2 });
  assert.deepEqual(beamWorkers.placement, beam.placement);
  assert.equal(beamWorkers.score, beam.score);
});

test('beam search beats the fast greedy on a small crowded case, and says so', async () => {
  const inp = input(models('bert-1.3b', 6), 6, 6, { rate: 30, cv: 4, duration: 60, sloScale: 2, seed: 2 });
  const greedy = await placeByName('alpaserve-greedy', inp);
  const beam = await placeByName('alpaserve', inp, { beam: 3, beamLayouts: 12 });
  // Measured: greedy 0.608, beam 0.617 attainment; beam never returns less than the greedy.
  assert.ok(beam.score > greedy.score, `beam ${beam.score} vs greedy ${greedy.score}`);
  assert.ok(beam.attainment > greedy.attainment);
  assert.equal(beam.stats.beamBeatGreedy, true);
  assert.ok(beam.stats.simulations > greedy.stats.simulations);
});

/** Two models whose popularity swaps halfway: model 0 hot in [0, 60), model 1 hot in [60, 120). */
function shiftingWorkload(names: string[], slo: number): Workload {
  const rng = new Rng(4);
  const hot = (m: number, s: number, e: number) => arrivals(rng.fork(m * 10 + s), { rate: 12, cv: 2 }, s, e);
  const cold = (m: number, s: number, e: number) => arrivals(rng.fork(m * 10 + s + 1), { rate: 0.5, cv: 1 }, s, e);
  const cat = (a: Float64Array, b: Float64Array) => {
    const o = new Float64Array(a.length + b.length);
    o.set(a);
    o.set(b, a.length);
    return o;
  };
  return mergeStreams(
    names,
    [cat(hot(0, 0, 60), cold(0, 60, 120)), cat(cold(1, 0, 60), hot(1, 60, 120))],
    [slo, slo],
    120,
  );
}

test('Clockwork++ re-places per window on the window’s own traffic and beats a static SR on shifting load', async () => {
  const profiles = models('bert-1.3b', 2);
  const names = profiles.map((p) => p.name);
  const workload = shiftingWorkload(names, 0.4);
  // 4 devices of 3 GiB: one bert-1.3b per device, so the split of devices between the models matters.
  const inp: PlacementInput = { cluster: { devices: 4, memoryPerDevice: 3 * GiB }, profiles, workload };
  const cw = await placeByName('clockwork++', inp, { window: 60 });
  assert.deepEqual(
    cw.schedule!.windows.map((w) => [w.start, w.end]),
    [
      [0, 60],
      [60, 120],
    ],
  );
  assertFits(cw, inp);
  const replicas = (i: number, m: string) =>
    cw.schedule!.windows[i].placement.groups.filter((g) => g.models.includes(m)).length;
  assert.ok(replicas(0, names[0]) > replicas(0, names[1]), 'window 1 favours model 0');
  assert.ok(replicas(1, names[1]) > replicas(1, names[0]), 'window 2 favours model 1');
  const sr = await placeByName('selective-replication', inp);
  const cwRes = evaluatePlacement(cw, profiles, workload);
  const srRes = evaluatePlacement(sr, profiles, workload);
  assert.ok(cwRes.attainment > srRes.attainment, `CW++ ${cwRes.attainment} vs SR ${srRes.attainment}`);
  assert.equal(cwRes.attainment, cw.attainment);
});

test('a one-window schedule simulates exactly like the plain simulator (trim included)', async () => {
  const inp = input(models('bert-1.3b', 4), 4, 13, { rate: 20, cv: 3, duration: 100, sloScale: 3 });
  const sr = await placeByName('selective-replication', inp);
  const plain = new Simulator(inp.profiles, inp.workload).run(sr.placement, { trim: 10 });
  const sched = simulateSchedule(
    { windows: [{ start: 0, end: 100, placement: sr.placement }] },
    inp.profiles,
    inp.workload,
    { trim: 10 },
  );
  assert.equal(sched.requests, plain.requests);
  assert.equal(sched.good, plain.good);
  assert.equal(sched.rejected, plain.rejected);
  assert.ok(Math.abs(sched.latency.mean - plain.latency.mean) < 1e-9);
});

test('model buckets: latencies within 38% of the bucket’s fastest member share a bucket', () => {
  const profiles = [
    ...models('bert-6.7b', 1),
    ...models('bert-1.3b', 2),
    ...models('moe-1.3b', 1),
    ...models('bert-2.6b', 1),
    ...models('moe-2.4b', 1),
  ];
  const names = profiles.map((p) => p.name);
  const buckets = modelBuckets(names, profileMap(profiles)).map((b) => b.map((m) => names[m]).sort());
  assert.deepEqual(buckets, [
    ['bert-1.3b-0', 'bert-1.3b-1', 'moe-1.3b-0'],
    ['bert-2.6b-0', 'moe-2.4b-0'],
    ['bert-6.7b-0'],
  ]);
});

test('unknown algorithm names fail clearly', async () => {
  const inp = input(models('bert-1.3b', 1), 1, 13, { rate: 1, cv: 1, duration: 10 });
  await assert.rejects(placeByName('nope', inp), /unknown placement algorithm "nope"; known: alpaserve, /);
});

test('bucket device splits: whole nodes when possible, exact sums, best traffic match first', () => {
  // two buckets: the fast one gets 3× the traffic at half the latency → 3:2 devices
  const splits = deviceSplits(40, [75, 25], [0.15, 0.4]);
  assert.equal(splits.length, 6, '0..5 nodes of 8 to the first bucket');
  for (const s of splits) {
    assert.equal(s[0] + s[1], 40);
    assert.ok(s.every((d) => d % 8 === 0));
  }
  assert.deepEqual(splits[0], [24, 16]);
  // fewer devices than one node per bucket: single devices
  assert.ok(deviceSplits(6, [1, 1, 1], [1, 1, 1]).some((s) => s.join() === '2,2,2'));
  assert.equal(deviceSplits(64, [1, 1, 1, 1], [1, 1, 1, 1], 10).length, 10);
});
