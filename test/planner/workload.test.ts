import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../planner/rng.js';
import { arrivals } from '../../planner/workload/arrivals.js';
import { multiModelWorkload, splitRates, windowedWorkload } from '../../planner/workload/multi-model.js';

function gapStats(ts: Float64Array): { mean: number; cv: number } {
  let s = 0;
  let s2 = 0;
  let prev = 0;
  for (const t of ts) {
    const g = t - prev;
    s += g;
    s2 += g * g;
    prev = t;
  }
  const n = ts.length;
  const mean = s / n;
  return { mean, cv: Math.sqrt(s2 / n - mean * mean) / mean };
}

test('Gamma arrivals have the requested rate and CV', () => {
  for (const cv of [0.5, 1, 2, 4]) {
    const ts = arrivals(new Rng(42), { rate: 10, cv }, 0, 40_000);
    const { mean, cv: got } = gapStats(ts);
    assert.ok(Math.abs(mean - 0.1) / 0.1 < 0.03, `cv ${cv}: mean gap ${mean}`);
    assert.ok(Math.abs(got - cv) / cv < 0.06, `cv ${cv}: measured CV ${got}`);
  }
});

test('Gamma sampler: mean and variance of shape < 1 and > 1', () => {
  const rng = new Rng(9);
  for (const shape of [0.0625, 0.5, 3.7]) {
    let s = 0;
    let s2 = 0;
    const n = 400_000;
    for (let i = 0; i < n; i++) {
      const x = rng.gamma(shape);
      s += x;
      s2 += x * x;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    assert.ok(Math.abs(mean - shape) / shape < 0.03, `shape ${shape}: mean ${mean}`);
    assert.ok(Math.abs(variance - shape) / shape < 0.1, `shape ${shape}: variance ${variance}`);
  }
});

test('power-law split: 48 models → 8.0% down to 1.16%', () => {
  const r = splitRates(48, 1, 'power-law');
  assert.equal(r.length, 48);
  assert.equal(Math.round(r[0] * 1000) / 10, 8.0);
  assert.equal(Math.round(r[47] * 10000) / 100, 1.16);
  assert.ok(Math.abs(r.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.deepEqual(splitRates(4, 8, 'uniform'), [2, 2, 2, 2]);
  assert.deepEqual(splitRates(2, 10, [1, 4]), [2, 8]);
  assert.throws(() => splitRates(2, 10, [1]), /expected 2 entries/);
});

test('multi-model workloads: seeded, sorted, rates follow the split, knobs scale', () => {
  const spec = { models: ['a', 'b', 'c', 'd'], totalRate: 40, cv: 2, duration: 2000, seed: 123, slo: 0.5 };
  const w1 = multiModelWorkload(spec);
  const w2 = multiModelWorkload(spec);
  assert.deepEqual(w1.arrival, w2.arrival);
  assert.deepEqual(w1.model, w2.model);
  const w3 = multiModelWorkload({ ...spec, seed: 124 });
  assert.notDeepEqual(w3.arrival.subarray(0, 10), w1.arrival.subarray(0, 10));
  for (let i = 1; i < w1.arrival.length; i++) assert.ok(w1.arrival[i] >= w1.arrival[i - 1]);
  const counts = [0, 0, 0, 0];
  for (const m of w1.model) counts[m]++;
  const expected = splitRates(4, 40 * 2000);
  counts.forEach((c, i) => {
    assert.ok(Math.abs(c - expected[i]) / expected[i] < 0.08, `model ${i}: ${c} vs ${expected[i]}`);
  });
  assert.ok(w1.slo.every((s) => s === 0.5));
  const scaled = multiModelWorkload({ ...spec, rateScale: 0.5 });
  assert.ok(Math.abs(scaled.arrival.length / w1.arrival.length - 0.5) < 0.05);
  // the per-model stream does not depend on the other models
  const alone = multiModelWorkload({
    ...spec,
    models: ['a'],
    split: [expected[0] / 2000],
    totalRate: expected[0] / 2000,
  });
  const fromMulti = w1.arrival.filter((_, i) => w1.model[i] === 0);
  assert.deepEqual(alone.arrival, fromMulti);
});

test('workload slices: first n requests, and a time window shifted to 0', async () => {
  const { takeRequests, timeWindow } = await import('../../planner/workload/slice.js');
  const w = multiModelWorkload({ models: ['a', 'b'], totalRate: 10, cv: 1, duration: 100, seed: 2 });
  const head = takeRequests(w, 5);
  assert.equal(head.arrival.length, 5);
  assert.equal(head.duration, w.arrival[4]);
  const win = timeWindow(w, 20, 40);
  assert.equal(win.duration, 20);
  const inside = w.arrival.filter((t) => t >= 20 && t < 40);
  assert.deepEqual(
    Array.from(win.arrival),
    Array.from(inside, (t) => t - 20),
  );
});

test('windowed workloads continue one process across windows: bursty low rates are not inflated', () => {
  // 0.01 req/s at CV 4 over 100 windows of 60 s expects 60 arrivals per model. Restarting the
  // renewal process at every window start would add about (cv² − 1)/2 = 7.5 per window (≈ 810).
  const models = ['a', 'b', 'c', 'd'];
  const windows = Array.from({ length: 100 }, (_, k) => ({
    start: 60 * k,
    end: 60 * (k + 1),
    rates: models.map(() => 0.01),
    cvs: models.map(() => 4),
  }));
  const w = windowedWorkload(
    models,
    windows,
    7,
    models.map(() => Infinity),
    6000,
  );
  const perModel = w.arrival.length / models.length;
  assert.ok(perModel > 20 && perModel < 150, `expected about 60 arrivals per model, got ${perModel}`);
  // A rate change mid-way still changes the rate: 10 windows at 1 req/s then 10 at 5 req/s (CV 2).
  const steps = Array.from({ length: 20 }, (_, k) => ({
    start: 60 * k,
    end: 60 * (k + 1),
    rates: [k < 10 ? 1 : 5],
    cvs: [2],
  }));
  const s = windowedWorkload(['x'], steps, 3, [Infinity], 1200);
  const firstHalf = s.arrival.filter((t) => t < 600).length;
  const secondHalf = s.arrival.length - firstHalf;
  assert.ok(Math.abs(firstHalf / 600 - 1) < 0.3, `first half rate ${firstHalf / 600}`);
  assert.ok(Math.abs(secondHalf / 600 - 5) < 1, `second half rate ${secondHalf / 600}`);
});
