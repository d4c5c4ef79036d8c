// The planner library's searches (planner/placement/) as planner-actor strategies. They score
// placements by simulation, so they need a training workload: we synthesise one from the
// observed per-model rates (Gamma arrivals, the paper's default burstiness) with SLOs as a scale
// of each model's single-device latency.
import { placeByName } from '../planner/placement/index.js';
import { profileMap } from '../planner/profile.js';
import { mergeStreams, slosFromScale } from '../planner/workload/multi-model.js';
import { arrivals } from '../planner/workload/arrivals.js';
import { Rng } from '../planner/rng.js';
import type { Placement, Workload } from '../planner/types.js';
import { registerStrategy, type PlacementInput } from './placement-strategies.js';

/** Seconds of synthetic traffic a search scores on. */
export const TRAINING_SECONDS = 60;
/** Gap CV of the synthetic training traffic (the paper's synthetic default). */
export const TRAINING_CV = 4;
/** SLO scale of the training traffic when the operator gives none (the paper's default). */
export const TRAINING_SLO_SCALE = 5;
/** Rate assumed for a model nobody has asked for yet, so it still gets a place. */
export const UNOBSERVED_RATE = 0.1;

/**
 * A seeded Gamma workload at the observed rates; deterministic for the same input. Every model
 * has at least one request in it: at a low rate the bursty sample is often empty, and a model
 * without requests weighs nothing in the search, so it could be left without a place.
 */
export function trainingWorkload(input: PlacementInput): Workload {
  const models = input.profiles.map((p) => p.name);
  const rates = models.map((m) => (input.rates[m] > 0 ? input.rates[m] : UNOBSERVED_RATE));
  const slos = slosFromScale(models, profileMap(input.profiles), input.sloScale ?? TRAINING_SLO_SCALE);
  const root = new Rng(1);
  const streams = models.map((_, m) => {
    const sample = arrivals(root.fork(m), { rate: rates[m], cv: TRAINING_CV }, 0, TRAINING_SECONDS);
    return sample.length ? sample : Float64Array.of((TRAINING_SECONDS * (m + 1)) / (models.length + 1));
  });
  return mergeStreams(models, streams, slos, TRAINING_SECONDS);
}

async function search(algorithm: string, input: PlacementInput): Promise<Placement> {
  const cluster = { devices: input.devices, memoryPerDevice: input.memoryPerDevice };
  const result = await placeByName(algorithm, { cluster, profiles: input.profiles, workload: trainingWorkload(input) });
  return result.placement;
}

for (const name of ['alpaserve', 'alpaserve-greedy', 'selective-replication']) {
  registerStrategy({ name, usesRates: true, place: (input) => search(name, input) });
}
