// The workload a live planner scores placements on: it has traffic rates, not a trace, so it
// synthesises one from them — Gamma arrivals with the paper's default burstiness, SLOs as a scale
// of each model's single-device latency.
import { profileMap } from '../profile.js';
import { Rng } from '../rng.js';
import type { ModelProfile, Workload } from '../types.js';
import { arrivals } from './arrivals.js';
import { mergeStreams, slosFromScale } from './multi-model.js';

/** Seconds of synthetic traffic a search scores on. */
export const TRAINING_SECONDS = 60;
/** Gap CV of the synthetic training traffic (the paper's synthetic default). */
export const TRAINING_CV = 4;
/** SLO scale of the training traffic when none is given (the paper's default). */
export const TRAINING_SLO_SCALE = 5;
/** Rate assumed for a model nobody has asked for yet, so it still gets a place. */
export const UNOBSERVED_RATE = 0.1;

/**
 * A seeded Gamma workload at `rates` (req/s by model; absent or zero = UNOBSERVED_RATE) over every
 * profile's model, with `sloScale` × single-device latency as SLO unless `slos` gives a model its
 * own (seconds); deterministic for the same input. Every model has at least one request in it:
 * at a low rate the bursty sample is often empty, and a model without requests weighs nothing in
 * the search, so it could be left without a place.
 */
export function trainingWorkload(
  profiles: readonly ModelProfile[],
  rates: Readonly<Record<string, number>>,
  sloScale: number = TRAINING_SLO_SCALE,
  ownSlos: Readonly<Record<string, number>> = {},
): Workload {
  const models = profiles.map((p) => p.name);
  const perModel = models.map((m) => (rates[m] > 0 ? rates[m] : UNOBSERVED_RATE));
  const slos = slosFromScale(models, profileMap(profiles), sloScale).map((s, m) => ownSlos[models[m]] ?? s);
  const root = new Rng(1);
  const streams = models.map((_, m) => {
    const sample = arrivals(root.fork(m), { rate: perModel[m], cv: TRAINING_CV }, 0, TRAINING_SECONDS);
    return sample.length ? sample : Float64Array.of((TRAINING_SECONDS * (m + 1)) / (models.length + 1));
  });
  return mergeStreams(models, streams, slos, TRAINING_SECONDS);
}
