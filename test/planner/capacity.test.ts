// The capacity search: device ranges, bisection against a sweep of every count, the held-out
// split, and the headroom it reports holding at the target.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPlan, deviceCandidates, type PlanFiles } from '../../planner/capacity/plan-file.js';
import { headroom, runPlan, splitTraffic } from '../../planner/capacity/search.js';
import { evaluatePlacement } from '../../planner/placement/index.js';

const NO_FILES: PlanFiles = {
  baseDir: '.',
  read: () => {
    throw new Error('no files here');
  },
  repository: () => {
    throw new Error('no repositories here');
  },
};

const planJson = (search: 'bisect' | 'sweep') => ({
  models: [{ zoo: 'bert-1.3b', count: 4 }],
  traffic: { process: 'gamma', totalRate: 24, cv: 3, duration: 120, seed: 2 },
  slo: { scale: 5 },
  devices: { memoryGiB: 13, min: 1, max: 10, search },
  systems: ['alpaserve-greedy', 'selective-replication'],
});

test('device ranges: steps, powers of two, empty ones', () => {
  assert.deepEqual(deviceCandidates({ min: 2, max: 9, step: 3 }), [2, 5, 8]);
  assert.deepEqual(deviceCandidates({ min: 3, max: 40, powersOfTwo: true }), [4, 8, 16, 32]);
  assert.throws(() => deviceCandidates({ min: 9, max: 3 }), /the range 9\.\.3 is empty/);
});

test('bisection finds the fewest devices a sweep of every count finds', async () => {
  const bisect = await runPlan(buildPlan(planJson('bisect'), NO_FILES));
  const sweep = await runPlan(buildPlan(planJson('sweep'), NO_FILES));
  for (const [i, s] of sweep.systems.entries()) {
    const rising = s.curve.every((p, k) => k === 0 || p.attainment >= s.curve[k - 1].attainment);
    assert.ok(rising, `${s.name}: attainment rises with devices in this plan`);
    assert.equal(s.curve.length, 10);
    assert.equal(typeof s.devices, 'number');
    assert.ok(s.devices! > 1, `${s.name}: one device is not enough`);
    assert.equal(bisect.systems[i].devices, s.devices, s.name);
    assert.ok(bisect.systems[i].curve.length < 10, 'bisection evaluates fewer counts');
    const below = s.curve.find((p) => p.devices === s.devices! - 1)!;
    assert.ok(below.attainment < 0.99);
  }
});

test('placements are scored on the held-out part of the traffic only', async () => {
  const plan = buildPlan({ ...planJson('bisect'), holdOut: 0.25 }, NO_FILES);
  const { train, test: held } = splitTraffic(plan.trafficAt(), 0.25);
  assert.equal(train.duration, 90);
  assert.equal(held.duration, 30);
  assert.equal(train.arrival.length + held.arrival.length, plan.trafficAt().arrival.length);
  const out = await runPlan(plan, {}, 8);
  const at = out.at![0];
  assert.equal(at.point.scored.requests, held.arrival.length);
  // The headroom found still meets the target; well beyond it, the placement does not.
  const h = headroom(plan, at.point);
  assert.ok(h.rate > 1 && h.rate < h.limit, `rate headroom ${h.rate}`);
  const scoredAt = (rate: number) =>
    evaluatePlacement(
      at.point.result,
      plan.profiles,
      splitTraffic(plan.trafficAt({ rate, cv: 1 }), 0.25).test,
      plan.sim,
    ).attainment;
  assert.ok(scoredAt(h.rate) >= 0.99);
  assert.ok(scoredAt(h.rate * 2) < 0.99);
  assert.ok(h.cv !== undefined && h.cv >= 1, 'generated traffic has a CV headroom');
});

test('traffic rates by model name: models not named get none; an unknown name is an error', () => {
  const json = {
    ...planJson('bisect'),
    traffic: { process: 'gamma', rates: { 'bert-1.3b-0': 5, 'bert-1.3b-2': 3 }, cv: 2, duration: 60 },
  };
  const w = buildPlan(json, NO_FILES).trafficAt();
  const counts = w.modelNames.map((_, m) => w.model.filter((x) => x === m).length);
  assert.ok(counts[0] > 200 && counts[2] > 100, `counts ${counts}`);
  assert.equal(counts[1] + counts[3], 0);
  assert.throws(
    () => buildPlan({ ...json, traffic: { ...json.traffic, rates: { 'bert-1.3b-9': 1 } } }, NO_FILES),
    /workload\.rates: unknown model "bert-1\.3b-9"; did you mean/,
  );
});

test("a plan's online options reach the systems that re-place per window", async () => {
  const json = {
    ...planJson('bisect'),
    devices: { memoryGiB: 13, min: 4, max: 4 },
    systems: ['clockwork++', 'adaptive'],
    greedy: true,
  };
  const windowsOf = async (plan: ReturnType<typeof buildPlan>) => {
    const replayed: string[] = [];
    const outcome = await runPlan(plan, {
      replay: (system, devices, done, total) => replayed.push(`${system} ${devices}: ${done}/${total}`),
    });
    const [cw, adaptive] = outcome.systems.map((s) => s.chosen.result);
    return { cw: cw.schedule!.windows.length, adaptive: adaptive.online!.options, replayed };
  };
  // The held-out half, 60 s, is what Clockwork++ (an oracle) is placed on.
  const given = await windowsOf(
    buildPlan({ ...json, online: { window: 15, pastWeight: 0, homeHorizon: 3, departureLoads: 2 } }, NO_FILES),
  );
  assert.equal(given.cw, 4);
  assert.equal(given.adaptive.window, 15);
  assert.equal(given.adaptive.pastWeight, 0);
  assert.equal(given.adaptive.homeHorizon, 3);
  assert.equal(given.adaptive.departureLoads, 2);
  // Progress of adaptive's online replay on the held-out 60 s, one event per window decided.
  assert.deepEqual(given.replayed, ['adaptive 4: 1/4', 'adaptive 4: 2/4', 'adaptive 4: 3/4', 'adaptive 4: 4/4']);
  const defaults = await windowsOf(buildPlan(json, NO_FILES));
  assert.equal(defaults.cw, 1);
  assert.equal(defaults.adaptive.window, 60);
  assert.equal(defaults.adaptive.pastWeight, undefined);
  assert.throws(() => buildPlan({ ...json, online: { windw: 15 } }, NO_FILES), /invalid plan: .*online.*windw/);
  assert.throws(() => buildPlan({ ...json, online: { homeHorizon: 0.5 } }, NO_FILES), /invalid plan: .*homeHorizon/);
  assert.throws(
    () => buildPlan({ ...json, online: { departureLoads: 0 } }, NO_FILES),
    /invalid plan: .*departureLoads/,
  );
  assert.throws(
    () => buildPlan({ ...json, systems: ['clockwork++'], online: { pastWeight: 0 } }, NO_FILES),
    /online\.pastWeight applies to adaptive, which the plan's systems do not include/,
  );
});
