// Cutting workloads: the first n requests, or the requests arriving in a time window.
import type { Workload } from '../types.js';

/** The first n requests (views on the same buffers, no copy). */
export function takeRequests(w: Workload, n: number): Workload {
  const k = Math.max(0, Math.min(n, w.arrival.length));
  const arrival = w.arrival.subarray(0, k);
  return {
    modelNames: w.modelNames,
    arrival,
    model: w.model.subarray(0, k),
    slo: w.slo.subarray(0, k),
    duration: k ? arrival[k - 1] : 0,
  };
}

/** Requests arriving in [start, end), with arrivals shifted so the window starts at 0 (copies). */
export function timeWindow(w: Workload, start: number, end: number): Workload {
  let lo = 0;
  while (lo < w.arrival.length && w.arrival[lo] < start) lo++;
  let hi = lo;
  while (hi < w.arrival.length && w.arrival[hi] < end) hi++;
  return {
    modelNames: w.modelNames,
    arrival: w.arrival.slice(lo, hi).map((t) => t - start),
    model: w.model.slice(lo, hi),
    slo: w.slo.slice(lo, hi),
    duration: Math.max(0, end - start),
  };
}

/** Only the requests of the given model indices (model names and indices unchanged; copies). */
export function keepModels(w: Workload, models: ReadonlySet<number>): Workload {
  const idx: number[] = [];
  for (let i = 0; i < w.model.length; i++) if (models.has(w.model[i])) idx.push(i);
  return {
    modelNames: w.modelNames,
    arrival: Float64Array.from(idx, (i) => w.arrival[i]),
    model: Int32Array.from(idx, (i) => w.model[i]),
    slo: Float64Array.from(idx, (i) => w.slo[i]),
    duration: w.duration,
  };
}

/** First index with arrival ≥ t (arrivals sorted). */
export function firstAtOrAfter(arrival: Float64Array, t: number): number {
  let lo = 0;
  let hi = arrival.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arrival[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with arrival > t (arrivals sorted). */
export function firstAfter(arrival: Float64Array, t: number): number {
  let lo = 0;
  let hi = arrival.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arrival[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
