// Adaptive AlpaServe and swap costs: group ready times in both simulator engines, the cost of a
// switch, online decisions that use only past traffic, hysteresis, Clockwork++ with priced swaps,
// and the planner actor's use of the same step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EDGE_DECAY } from '../../planner/placement/adaptive.js';
import {
  adaptiveSearch,
  adaptiveStep,
  carriedClocks,
  evaluatePlacement,
  onlineSchedule,
  type PlacementInput,
  type PlacementOptions,
  placeByName,
  simulateSchedule,
  swapLoadTimes,
  windowsOf,
} from '../../planner/placement/index.js';
import { profileMap } from '../../planner/profile.js';
import { Rng } from '../../planner/rng.js';
import { Simulator } from '../../planner/simulator.js';
import type { ModelProfile, Placement, Workload } from '../../planner/types.js';
import { arrivals } from '../../planner/workload/arrivals.js';
import { mergeStreams, multiModelWorkload, slosFromScale } from '../../planner/workload/multi-model.js';
import { timeWindow } from '../../planner/workload/slice.js';
import { trainingWorkload } from '../../planner/workload/training.js';
import { zooProfile } from '../../planner/zoo.js';
import { adaptiveCheck } from '../../serving/planner-actor/adaptive-check.js';
import { bindPlacement } from '../../serving/planner-actor/bind.js';
import { simPlacement } from '../../serving/protocol/placement.js';
import { rows, toyProfile } from './helpers.js';

const GiB = 2 ** 30;
const bert = (n: number): ModelProfile[] => Array.from({ length: n }, (_, i) => zooProfile('bert-1.3b', `bert-${i}`));

/** Model phases[k] is hot (30 req/s, more than one device serves) in phase k of `phases` 60-s phases, cold (0.5 req/s) otherwise. */
function phased(names: string[], phases: number[], seed = 4): Workload {
  const rng = new Rng(seed);
  const streams = names.map((_, m) => {
    const parts = phases.map((hot, p) =>
      arrivals(rng.fork(m * 100 + p), hot === m ? { rate: 30, cv: 2 } : { rate: 0.5, cv: 1 }, p * 60, p * 60 + 60),
    );
    const out = new Float64Array(parts.reduce((a, x) => a + x.length, 0));
    let at = 0;
    for (const x of parts) {
      out.set(x, at);
      at += x.length;
    }
    return out;
  });
  return mergeStreams(
    names,
    streams,
    names.map(() => 0.4),
    phases.length * 60,
  );
}

/** Three bert-1.3b models and 30 s of their Gamma (CV 3) traffic, SLOs a scale of their latency. */
function threeModels(totalRate: number, seed: number, sloScale: number) {
  const profiles = bert(3);
  const names = profiles.map((p) => p.name);
  const workload = multiModelWorkload({
    models: names,
    totalRate,
    cv: 3,
    duration: 30,
    seed,
    slo: slosFromScale(names, profileMap(profiles), sloScale),
  });
  return { profiles, names, workload };
}

test('group ready times: both engines agree to the request, and a loading group starts nothing before it is ready', () => {
  const { profiles, names, workload } = threeModels(30, 2, 8);
  const placement: Placement = {
    groups: [
      { devices: 2, config: { pp: 2, op: 1 }, models: names },
      { devices: 1, config: { pp: 1, op: 1 }, models: [names[0], names[1]] },
      { devices: 1, config: { pp: 1, op: 1 }, models: [names[2]] },
    ],
  };
  const ready = [4.5, 0, 12];
  const sim = new Simulator(profiles, workload);
  for (const policy of ['earliest-finish', 'last-stage-clock', 'fewest-inflight'] as const) {
    const js = sim.run(placement, { policy, engine: 'js', records: true, groupReady: ready });
    const wasm = sim.run(placement, { policy, engine: 'wasm', records: true, groupReady: ready });
    assert.deepEqual(wasm.records, js.records, policy);
    assert.equal(wasm.good, js.good, policy);
    const r = js.records!;
    let used = 0;
    for (let i = 0; i < r.group.length; i++) {
      const g = r.group[i];
      if (Number.isNaN(r.finish[i])) continue; // rejected
      assert.ok(
        r.start[i] >= ready[g],
        `${policy}: request ${i} starts at ${r.start[i]} on group ${g} ready at ${ready[g]}`,
      );
      if (g === 2) used++;
    }
    assert.ok(used > 0, `${policy}: the late group serves once ready`);
    const free = sim.run(placement, { policy, engine: 'js' });
    assert.ok(js.good < free.good, `${policy}: loading costs requests (${js.good} vs ${free.good})`);
  }
  assert.throws(() => sim.run(placement, { groupReady: [0, 1] }), /3 groups/);
  assert.throws(() => sim.run(placement, { groupReady: [0, -1, 0] }), /finite time/);
});

test('start and end clocks: both engines carry them alike, and a run split in two with its clocks carried is the run whole', () => {
  const { profiles, names, workload } = threeModels(40, 5, 5);
  const placement: Placement = {
    groups: [
      { devices: 2, config: { pp: 2, op: 1 }, models: names },
      { devices: 1, config: { pp: 1, op: 1 }, models: [names[0], names[1]] },
    ],
  };
  for (const engine of ['js', 'wasm'] as const) {
    const whole = new Simulator(profiles, workload).run(placement, { engine });
    let good = 0;
    let clocks = new Float64Array(3);
    for (const [start, end] of [
      [0, 12],
      [12, 30],
    ]) {
      const endClocks = new Float64Array(3);
      const part = timeWindow(workload, start, end);
      const startClocks = clocks.map((t) => Math.max(0, t - start));
      good += new Simulator(profiles, part).run(placement, { engine, startClocks, endClocks }).good;
      clocks = endClocks.map((t) => t + start);
    }
    assert.equal(good, whole.good, engine);
    assert.ok(clocks[0] > 12, `${engine}: the clocks moved (${clocks})`);
  }
  const sim = new Simulator(profiles, workload);
  assert.throws(() => sim.run(placement, { startClocks: new Float64Array(2) }), /2 slots but the placement has 3/);
  assert.throws(() => sim.run(placement, { startClocks: Float64Array.of(0, -1, 0) }), /finite time/);
  assert.throws(() => sim.run(placement, { startClocks: new Float64Array(3), groupReady: [0, 0] }), /not both/);
});

test('a schedule with carried queues: unchanged windows score as one run; empty queues score higher under load', () => {
  const { test: workload, profiles } = adaptiveInput([0, 1, 1]);
  const placement: Placement = {
    groups: [0, 1, 2, 3].map((d) => ({ devices: 1, config: { pp: 1, op: 1 }, models: [`bert-${d % 2}`] })),
  };
  const windows = windowsOf(workload.duration, 5).map((w) => ({ ...w, placement }));
  const whole = new Simulator(profiles, workload).run(placement);
  const carried = simulateSchedule({ windows, queues: 'carried' }, profiles, workload);
  assert.equal(carried.good, whole.good);
  const empty = simulateSchedule({ windows }, profiles, workload);
  assert.ok(empty.good > whole.good, `a backlog dropped at each boundary: ${empty.good} vs ${whole.good}`);
});

test('carried clocks: a kept group keeps its stages, a new group waits for its devices to drain, then loads', () => {
  const a: Placement = {
    groups: [
      { devices: 2, config: { pp: 2, op: 1 }, models: ['x'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['y'] },
    ],
  };
  const b: Placement = {
    groups: [
      { devices: 2, config: { pp: 2, op: 1 }, models: ['x'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['z'] },
    ],
  };
  const clocks = Float64Array.of(11, 12.5, 10.2);
  // Window at 10: group 0 kept (its stages as they were); group 1 loads z for 2 s after y drains.
  assert.deepEqual([...carriedClocks(a, clocks, b, [0, 2], 10)], [11, 12.5, 12.2]);
  // Regrouped: one (pp 1, op 3) group on all three devices waits for the last of them.
  const c: Placement = { groups: [{ devices: 3, config: { pp: 1, op: 3 }, models: ['x'] }] };
  assert.deepEqual([...carriedClocks(a, clocks, c, [0.5], 10)], [13]);
  // Nothing is before the window's start.
  assert.deepEqual([...carriedClocks(a, clocks, a, undefined, 12)], [12, 12.5, 12]);
  assert.throws(() => carriedClocks(a, clocks, b, [0, -0.1], 10), /loading\[1\] must be a finite time ≥ 0/);
  assert.throws(() => carriedClocks(a, clocks, b, [0], 10), /loading has 1 times but the placement has 2 groups/);
});

test('swap cost: unchanged groups load nothing, a changed group loads its new weights at the load bandwidth', () => {
  const profiles = bert(3);
  const byName = profileMap(profiles);
  const [a, b, c] = profiles.map((p) => p.name);
  const w = profiles[0].weightBytes;
  const prev: Placement = {
    groups: [
      { devices: 1, config: { pp: 1, op: 1 }, models: [a] },
      { devices: 2, config: { pp: 1, op: 2 }, models: [b] },
    ],
  };
  const next: Placement = {
    groups: [
      { devices: 1, config: { pp: 1, op: 1 }, models: [a, c] }, // same devices and config: loads c only
      { devices: 2, config: { pp: 2, op: 1 }, models: [b] }, // new config: reloads b
    ],
  };
  assert.deepEqual(swapLoadTimes(prev, prev, byName), [0, 0]);
  assert.deepEqual(swapLoadTimes(undefined, next, byName), [0, 0]);
  assert.deepEqual(swapLoadTimes(prev, next, byName, 1e9), [w / 1e9, w / 1e9]);
  assert.deepEqual(swapLoadTimes(prev, next, byName), [w / 16e9, w / 16e9]);
  // A schedule window whose group loads for 5 s simulates as that window with the group ready at 5 s.
  const workload = phased([a, b, c], [0]);
  const placement: Placement = { groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: [a] }] };
  const windows = (loading?: number[]) => ({
    windows: [0, 30].map((start) => ({ start, end: start + 30, placement, loading })),
  });
  const free = simulateSchedule(windows(), profiles, workload);
  const paid = simulateSchedule(windows([5]), profiles, workload);
  const perWindow = [0, 30].reduce(
    (n, start) =>
      n + new Simulator(profiles, timeWindow(workload, start, start + 30)).run(placement, { groupReady: [5] }).good,
    0,
  );
  assert.equal(paid.good, perWindow);
  assert.ok(paid.good < free.good, `${paid.good} < ${free.good}`);
});

function adaptiveInput(phases: number[]): { input: PlacementInput; test: Workload; profiles: ModelProfile[] } {
  const profiles = bert(2);
  const names = profiles.map((p) => p.name);
  const test = phased(names, phases);
  // Trained on the first phase only; 4 devices of 3 GiB: one model per device, so the split matters.
  const input: PlacementInput = {
    cluster: { devices: 4, memoryPerDevice: 3 * GiB },
    profiles,
    workload: timeWindow(test, 0, 60),
  };
  return { input, test, profiles };
}

test('adaptive: follows a traffic shift online, after the fact, and beats its static start', async () => {
  const { input, test: workload, profiles } = adaptiveInput([0, 1, 1]);
  const r = await placeByName('adaptive', input, { window: 15, beam: 1 });
  const run = onlineSchedule(r, profiles, workload);
  const switched = run.decisions.findIndex((d) => d?.replace);
  assert.ok(switched > 4, `switched at window ${switched}: after the shift at 60 s has been seen`);
  const ours = evaluatePlacement(r, profiles, workload);
  const fixed = new Simulator(profiles, workload).run(r.placement);
  const heard: number[] = [];
  const again = onlineSchedule(r, profiles, workload, (done, total) => {
    assert.equal(total, run.schedule.windows.length);
    heard.push(done);
  });
  assert.deepEqual(
    heard,
    run.schedule.windows.map((_, k) => k + 1),
    'progress: each window, once, in order',
  );
  assert.deepEqual(again.schedule, run.schedule);
  assert.ok(ours.attainment > fixed.attainment, `adaptive ${ours.attainment} vs static ${fixed.attainment}`);
});

test('adaptive: a clear gain switches at its first judgement, a smaller one waits for a second', async () => {
  const { input, test: workload, profiles } = adaptiveInput([0, 1, 1]);
  const firstSwitch = async (options: { clearGain?: number }) => {
    const r = await placeByName('adaptive', input, { window: 15, beam: 1, ...options });
    const run = onlineSchedule(r, profiles, workload);
    const at = run.decisions.findIndex((d) => d?.replace);
    return { at, decision: run.decisions[at] };
  };
  // The shift is at 60 s, window 4's start. Window 5's decision judges window 3's fit (stale) on
  // window 4; window 6's judges window 4's fit on window 5: the first evidence that refitting pays.
  const clear = await firstSwitch({});
  assert.equal(clear.at, 6);
  const share = (clear.decision!.gain - clear.decision!.cost) / clear.decision!.requests;
  assert.ok(share > 0.02, `net gain ${share} of the window's requests is above the default clearGain`);
  assert.equal((await firstSwitch({ clearGain: 1 })).at, 7, 'a net gain can never exceed all requests: always wait');
});

test('adaptive: decisions depend only on traffic before them (a different future changes no earlier window)', async () => {
  const a = adaptiveInput([0, 1, 1, 0]);
  const b = adaptiveInput([0, 1, 0, 1]);
  assert.deepEqual(timeWindow(a.test, 0, 120), timeWindow(b.test, 0, 120));
  const r = await placeByName('adaptive', a.input, { window: 15, beam: 1 });
  const ra = onlineSchedule(r, a.profiles, a.test).schedule.windows;
  const rb = onlineSchedule(r, b.profiles, b.test).schedule.windows;
  // Window k is decided from window k−1: every window starting at or before 120 s matches.
  const upTo = ra.filter((w) => w.start <= 120).length;
  assert.equal(upTo, 9);
  assert.deepEqual(rb.slice(0, upTo), ra.slice(0, upTo));
  assert.notDeepEqual(rb, ra, 'the futures differ, and so do later decisions');
});

test('adaptive: hysteresis keeps the placement when the gain does not beat the swap cost', async () => {
  const { input, test: workload, profiles } = adaptiveInput([0, 1, 1]);
  // At 10 kB/s a model takes days to load: every switch costs its whole window.
  for (const options of [{ loadBandwidth: 1e4 }, { minGain: 1 }]) {
    const r = await placeByName('adaptive', input, { window: 15, beam: 1, ...options });
    const run = onlineSchedule(r, profiles, workload);
    assert.ok(
      run.decisions.every((d) => !d?.replace),
      JSON.stringify(options),
    );
    assert.ok(
      run.decisions.some((d) => d && d.gain > 0),
      'a gain was predicted, and not taken',
    );
    // Never switching, it scores what its starting placement scores in one run: no window boundary
    // empties a queue.
    assert.equal(
      evaluatePlacement(r, profiles, workload).good,
      new Simulator(profiles, workload).run(r.placement).good,
    );
  }
});

test('Clockwork++ with swap costs attains no more than the zero-cost oracle, less when loading is slow', async () => {
  const { input: trained, test: workload, profiles } = adaptiveInput([0, 1, 0, 1]);
  const input = { ...trained, workload };
  const free = await placeByName('clockwork++', input, { window: 60 });
  const priced = await placeByName('clockwork++', input, { window: 60, swapCost: true });
  const slow = await placeByName('clockwork++', input, { window: 60, swapCost: true, loadBandwidth: 2e8 });
  assert.ok(priced.schedule!.windows.slice(1).some((w) => w.loading?.some((t) => t > 0)));
  const [f, p, s] = [free, priced, slow].map((r) => evaluatePlacement(r, profiles, workload).attainment);
  assert.ok(p <= f, `${p} ≤ ${f}`);
  assert.ok(s < f, `${s} < ${f}`);
});

test('the planner actor decides with the library’s adaptive step', () => {
  const profiles = bert(2);
  const names = profiles.map((p) => p.name);
  const cluster = { devices: 4, memoryPerDevice: 3 * GiB };
  const placement: Placement = {
    groups: [0, 0, 0, 1].map((m) => ({ devices: 1, config: { pp: 1, op: 1 }, models: [names[m]] })),
  };
  const bound = bindPlacement(placement, ['d0', 'd1', 'd2', 'd3'], {
    version: 1,
    strategy: 'adaptive',
    reason: 'test',
    params: { stagePenalty: 0, overhead: 0 },
    profiles,
  });
  assert.deepEqual(simPlacement(bound), placement);
  // Traffic moved to model 1: the actor's checks are the library's steps on the observed rates.
  const rates = { [names[0]]: 0.5, [names[1]]: 12 };
  const observed = trainingWorkload(profiles, rates);
  const ctx = { cluster, profiles: profileMap(profiles), options: {}, search: adaptiveSearch };
  let live: ReturnType<typeof adaptiveCheck> | undefined;
  let lib: ReturnType<typeof adaptiveStep> | undefined;
  // The placement it started from (its home) is a candidate, and what fits must have beaten.
  const home: Placement = { groups: [0, 1, 1, 1].map((m) => ({ ...placement.groups[0], models: [names[m]] })) };
  for (let check = 0; check < 3; check++) {
    live = adaptiveCheck(bound, profiles, rates, cluster, live?.state ?? {}, { home });
    lib = adaptiveStep(placement, observed, { ...ctx, home }, lib?.state ?? {});
    const { state: _a, ...l } = live;
    const { state: _b, ...m } = lib;
    assert.deepEqual(l, m, `check ${check}`);
  }
  assert.ok(live!.replace, 'the third check moves replicas to the hot model');
  assert.ok(live!.placement.groups.filter((g) => g.models.includes(names[1])).length > 1);
});

// The toy tests below: one device that holds one toy model at a time, and a search that always
// finds the same placement.
const ONE_DEVICE = { devices: 1, memoryPerDevice: 1.5e9 };
const hosting = (model: string): Placement => ({
  groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: [model] }],
});
const searchFinds = (placement: Placement) => () => ({ placement, stats: { simulations: 0, seconds: 0 } }) as never;
/**
 * One step from `current`, with `home` as the starting placement and a search that fits `fit`,
 * after a step whose fit was `fit` too and had paid off and beaten the starting placement.
 */
const stepAfterFit = (
  current: string,
  home: string,
  fit: string,
  profiles: ModelProfile[],
  observed: Workload,
  options: PlacementOptions,
) =>
  adaptiveStep(
    hosting(current),
    observed,
    {
      cluster: ONE_DEVICE,
      profiles: profileMap(profiles),
      options: { loadBandwidth: 1.25e8, ...options },
      home: hosting(home),
      search: searchFinds(hosting(fit)),
    },
    { fits: new Map([['search', hosting(fit)]]), record: new Map([['search', 1]]), edge: new Map([['search', 100]]) },
  );

test('adaptive: a fitting procedure whose fits have lately lost to the starting placement is not a candidate', () => {
  // One device holds one of two toy models. Every request of the 10 s window is B's: the fit
  // (hosting B) serves all of them, the current and starting placement (hosting A) none. What the
  // fit's past edge over the starting placement is decides alone.
  const profiles = ['A', 'B'].map((n) => toyProfile(n, { 'pp1-op1': [0.01] }));
  const observed = rows(
    ['A', 'B'],
    Array.from({ length: 100 }, (_, i) => [i * 0.1, 1, 0.1]),
    10,
  );
  const ctx = {
    cluster: ONE_DEVICE,
    profiles: profileMap(profiles),
    options: {},
    home: hosting('A'),
    search: searchFinds(hosting('B')),
  };
  const state = (edge: number) => ({
    fits: new Map([['search', hosting('B')]]),
    record: new Map([['search', 1]]),
    edge: new Map([['search', edge]]),
  });
  const ahead = adaptiveStep(hosting('A'), observed, ctx, state(0));
  assert.ok(ahead.replace && ahead.candidate === 'search', JSON.stringify(ahead.candidate));
  assert.equal(ahead.state.edge?.get('search'), 100, 'this window: 100 served by the fit, 0 by the start');
  // Behind by more than this window's 100, after the decay: no switch, though the fit serves all.
  const behind = adaptiveStep(hosting('A'), observed, ctx, state(-(100 / EDGE_DECAY) - 10));
  assert.ok(!behind.replace, `kept (candidate ${behind.candidate})`);
  assert.ok(behind.state.edge!.get('search')! < 0);
});

test('adaptive: homeHorizon counts the gain of going home over that many windows, its weight load once', () => {
  // One device holds one of two toy models; the current placement hosts B, the starting one A. The
  // window has 30 requests of B (0-3 s) and 70 of A (3-10 s), and A's weights take 8 s to load:
  // going home serves 20 of A's requests this window against B's 30, so it loses this window and
  // gains 40 in every later one while the traffic holds.
  const profiles = ['A', 'B'].map((n) => toyProfile(n, { 'pp1-op1': [0.01] }));
  const observed = rows(
    ['A', 'B'],
    Array.from({ length: 100 }, (_, i) => [i * 0.1, i < 30 ? 1 : 0, 0.1]),
    10,
  );
  const decide = (homeHorizon?: number) =>
    adaptiveStep(hosting('B'), observed, {
      cluster: ONE_DEVICE,
      profiles: profileMap(profiles),
      options: { loadBandwidth: 1.25e8, ...(homeHorizon === undefined ? {} : { homeHorizon }) },
      home: hosting('A'),
      search: searchFinds(hosting('B')),
    });
  const once = decide(1);
  assert.equal(once.candidate, 'home');
  assert.deepEqual([once.gain, once.cost], [40, 50], 'gross 70 against 30 kept; 50 of A lost while it loads');
  assert.ok(!once.replace, 'judged on one window, the load costs more than it gains');
  assert.ok(!decide(1.2).replace, '1.2 × 40 − 50 < 0');
  for (const back of [decide(3), decide()]) {
    assert.ok(back.replace && back.placement.groups[0].models[0] === 'A', '3 × 40 − 50 > 0 (and 5 × 40): back home');
    assert.deepEqual(back.loading, [8]);
  }
});

test('adaptive: candidates are ranked by what they are judged on, home over its horizon', () => {
  // The current placement hosts B (30 requests, 0-3 s). Going home to A serves 20 of A's 70 (3-10
  // s) while its weights load for 8 s; the fit hosts C (35 requests, 3-10 s), which loads in 1 s.
  // On this window alone the fit nets more (35 against 20), over the home horizon going home does.
  const profiles = [
    toyProfile('A', { 'pp1-op1': [0.01] }),
    toyProfile('B', { 'pp1-op1': [0.01] }),
    toyProfile('C', { 'pp1-op1': [0.01] }, 1.25e8),
  ];
  const list: [number, number, number][] = [];
  for (let i = 0; i < 30; i++) list.push([i * 0.1, 1, 0.1]);
  for (let i = 30; i < 100; i++)
    list.push([i * 0.1, 0, 0.1], ...(i % 2 ? [] : [[i * 0.1 + 0.05, 2, 0.1] as [number, number, number]]));
  const observed = rows(['A', 'B', 'C'], list, 10);
  const decide = (homeHorizon?: number) =>
    stepAfterFit('B', 'A', 'C', profiles, observed, homeHorizon === undefined ? {} : { homeHorizon });
  const one = decide(1);
  assert.ok(one.replace && one.candidate === 'search', `one window: the fit (${one.candidate})`);
  assert.deepEqual([one.gain, one.cost], [5, 0]);
  const home = decide();
  assert.ok(home.replace && home.candidate === 'home', `default horizon: home (${home.candidate})`);
  assert.deepEqual([home.gain, home.cost], [200, 50], 'the gain as counted: over the 5-window horizon');
});

test('adaptive: departureLoads charges leaving the starting placement its load back too', () => {
  // The current and starting placement hosts B; the fit hosts C, whose weights take 4.5 s to load.
  // The window has `bs` requests of B (0.08 s apart), then 40 of C (2.05-9.85 s): switching serves
  // 40 − bs more requests, less the C requests that arrive while C loads.
  const profiles = [toyProfile('B', { 'pp1-op1': [0.01] }), toyProfile('C', { 'pp1-op1': [0.01] }, 5.625e8)];
  const decide = (bs: number, departureLoads?: number) => {
    const list: [number, number, number][] = [];
    for (let i = 0; i < bs; i++) list.push([i * 0.08, 0, 0.1]);
    for (let i = 0; i < 40; i++) list.push([2.05 + i * 0.2, 1, 0.1]);
    const observed = rows(['B', 'C'], list, 10);
    return stepAfterFit('B', 'B', 'C', profiles, observed, departureLoads === undefined ? {} : { departureLoads });
  };
  const once = decide(20, 1);
  assert.ok(once.replace && once.candidate === 'search', `the load out only: switch (${once.candidate})`);
  assert.deepEqual([once.gain, once.cost], [20, 12], 'the C requests of 2.05-4.25 s miss their SLO');
  assert.ok(!decide(20, 2).replace, '20 − 2 × 12 < 0: stays home');
  assert.ok(decide(20, 1.5).replace, '20 − 1.5 × 12 > 0');
  // The default is 1.5: with 23 requests of B the gain is 17, above one load and below one and a half.
  const closer = decide(23, 1);
  assert.ok(closer.replace, `17 − 12 > 0 (${closer.candidate})`);
  assert.deepEqual([closer.gain, closer.cost], [17, 12]);
  const byDefault = decide(23);
  assert.ok(!byDefault.replace, 'the default: 17 − 1.5 × 12 < 0, stays home');
  assert.deepEqual([byDefault.gain, byDefault.cost], [17, 18], 'the cost as charged: one and a half loads');
});
