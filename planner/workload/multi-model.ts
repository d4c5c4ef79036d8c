// Multi-model workloads (docs/alpaserve.md, "Workloads"): a total rate split over the models evenly or by a power law,
// one independent Gamma process per model (its own seeded stream), merged into one columnar
// Workload sorted by arrival. The paper's knobs: rate scale and CV scale multiply the base rate
// and CV; the SLO is absolute or a scale of each model's single-device latency.
import { Rng } from '../rng.js';
import type { ModelProfile, Workload } from '../types.js';
import { appendArrivals, arrivals, Float64Builder, newArrivalCarry } from './arrivals.js';

/** How the total rate is split: evenly, by λ_i ∝ (i+1)^−exponent, or by explicit weights. */
export type RateSplit = 'uniform' | 'power-law' | readonly number[];

/** The paper's power-law exponent (λ_i ∝ (i+1)^−0.5). */
export const POWER_LAW_EXPONENT = 0.5;

/** Per-model rates summing to `total`. */
export function splitRates(
  models: number,
  total: number,
  split: RateSplit = 'power-law',
  exponent = POWER_LAW_EXPONENT,
): number[] {
  if (!Number.isInteger(models) || models < 0)
    throw new Error(`model count must be a non-negative integer, got ${models}`);
  let weights: number[];
  if (split === 'uniform') weights = Array.from({ length: models }, () => 1);
  else if (split === 'power-law') weights = Array.from({ length: models }, (_, i) => (i + 1) ** -exponent);
  else {
    if (split.length !== models) throw new Error(`rate weights: expected ${models} entries, got ${split.length}`);
    if (split.some((w) => !(w >= 0) || !Number.isFinite(w))) throw new Error('rate weights must be finite and ≥ 0');
    weights = [...split];
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  if (models > 0 && !(sum > 0)) throw new Error('rate weights must not all be 0');
  return weights.map((w) => (total * w) / sum);
}

/** SLO of each model = scale × its single-device latency. */
export function slosFromScale(
  models: readonly string[],
  profiles: ReadonlyMap<string, ModelProfile>,
  scale: number,
): number[] {
  return models.map((name) => {
    const p = profiles.get(name);
    if (!p) throw new Error(`SLO scale needs a profile for model "${name}"`);
    return scale * p.singleDeviceLatency;
  });
}

/**
 * Merges per-model sorted arrival streams into one Workload sorted by arrival (ties: lower model
 * index first), by a k-way merge on a binary heap.
 */
export function mergeStreams(
  modelNames: readonly string[],
  streams: readonly Float64Array[],
  slos: readonly number[],
  duration: number,
): Workload {
  const k = streams.length;
  if (modelNames.length !== k || slos.length !== k)
    throw new Error('mergeStreams: modelNames, streams and slos differ in length');
  let n = 0;
  for (const s of streams) n += s.length;
  const arrival = new Float64Array(n);
  const model = new Int32Array(n);
  const slo = new Float64Array(n);
  const pos = new Int32Array(k);
  // heap of model indices ordered by (next arrival, model index)
  const heap = new Int32Array(k);
  let size = 0;
  const key = (m: number) => streams[m][pos[m]];
  const less = (a: number, b: number) => key(a) < key(b) || (key(a) === key(b) && a < b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && less(heap[r], heap[l]) ? r : l;
      if (!less(heap[c], heap[i])) return;
      const tmp = heap[i];
      heap[i] = heap[c];
      heap[c] = tmp;
      i = c;
    }
  };
  for (let m = 0; m < k; m++) if (streams[m].length) heap[size++] = m;
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i);
  for (let i = 0; i < n; i++) {
    const m = heap[0];
    arrival[i] = streams[m][pos[m]];
    model[i] = m;
    slo[i] = slos[m];
    pos[m]++;
    if (pos[m] === streams[m].length) heap[0] = heap[--size];
    siftDown(0);
  }
  const last = n ? arrival[n - 1] : 0;
  return { modelNames: [...modelNames], arrival, model, slo, duration: Math.max(duration, last) };
}

export interface MultiModelSpec {
  readonly models: readonly string[];
  /** Total rate over all models before rateScale, requests per second. */
  readonly totalRate: number;
  /** Gap CV of every model's process before cvScale (1 = Poisson). */
  readonly cv: number;
  /** Seconds. */
  readonly duration: number;
  readonly seed: number;
  /** Default power-law. */
  readonly split?: RateSplit;
  readonly powerLawExponent?: number;
  /** Multiplies every rate; default 1. */
  readonly rateScale?: number;
  /** Multiplies the CV; default 1. */
  readonly cvScale?: number;
  /** SLO seconds: one for all models or one per model; default Infinity (no SLO). */
  readonly slo?: number | readonly number[];
}

/** A synthetic multi-model workload: one seeded Gamma process per model, merged. */
export function multiModelWorkload(spec: MultiModelSpec): Workload {
  const n = spec.models.length;
  if (!(spec.duration >= 0) || !Number.isFinite(spec.duration))
    throw new Error(`duration must be a finite number ≥ 0, got ${spec.duration}`);
  const rates = splitRates(
    n,
    spec.totalRate * (spec.rateScale ?? 1),
    spec.split ?? 'power-law',
    spec.powerLawExponent ?? POWER_LAW_EXPONENT,
  );
  const cv = spec.cv * (spec.cvScale ?? 1);
  const slos =
    typeof spec.slo === 'number' || spec.slo === undefined
      ? Array.from({ length: n }, () => (spec.slo as number | undefined) ?? Infinity)
      : [...spec.slo];
  if (slos.length !== n) throw new Error(`slo: expected ${n} entries, got ${slos.length}`);
  const root = new Rng(spec.seed);
  const streams = rates.map((rate, m) => arrivals(root.fork(m), { rate, cv }, 0, spec.duration));
  return mergeStreams(spec.models, streams, slos, spec.duration);
}

/** One time window of a piecewise-stationary workload: each model's rate and CV inside [start, end). */
export interface RateWindow {
  readonly start: number;
  readonly end: number;
  readonly rates: readonly number[];
  readonly cvs: readonly number[];
}

/**
 * A workload whose per-model Gamma processes change rate and CV at window boundaries (trace
 * replay). Each model draws from its own seeded stream across all windows.
 */
export function windowedWorkload(
  models: readonly string[],
  windows: readonly RateWindow[],
  seed: number,
  slos: readonly number[],
  duration: number,
): Workload {
  const root = new Rng(seed);
  const rngs = models.map((_, m) => root.fork(m));
  const builders = models.map(() => new Float64Builder());
  const carries = models.map(() => newArrivalCarry());
  for (const w of windows) {
    if (w.rates.length !== models.length || w.cvs.length !== models.length)
      throw new Error('windowedWorkload: a window needs one rate and one CV per model');
    for (let m = 0; m < models.length; m++) {
      appendArrivals(rngs[m], { rate: w.rates[m], cv: w.cvs[m] }, w.start, w.end, builders[m], carries[m]);
    }
  }
  return mergeStreams(
    models,
    builders.map((b) => b.toArray()),
    slos,
    duration,
  );
}
