// Public face of the placement library: pick an algorithm by name, evaluate what it returns.
import { type Profiles, profileMap } from '../profile.js';
import { Simulator } from '../simulator.js';
import type { SimOptions, SimResult, Workload } from '../types.js';
import { simulateSchedule } from './schedule.js';
import type { PlacementResult } from './types.js';

export {
  DEFAULT_BEAM,
  DEFAULT_CLOCKWORK_WINDOW,
  livePlacementAlgorithmNames,
  PLACEMENT_ALGORITHM_NAMES,
  PLACEMENT_ALGORITHMS,
  placeByName,
  placementAlgorithm,
} from './algorithms.js';
export { modelBuckets } from './buckets.js';
export { describeLayout, enumerateLayouts } from './group-layouts.js';
export { simulateSchedule } from './schedule.js';
export { placementScore, replicaCount } from './score.js';
export type {
  GroupLayout,
  PlacementAlgorithm,
  PlacementInput,
  PlacementOptions,
  PlacementResult,
  PlacementSchedule,
  SearchProgress,
  SearchStats,
} from './types.js';

/** Simulates what an algorithm returned on a (test) workload: its schedule if it has one, else its placement. */
export function evaluatePlacement(
  result: PlacementResult,
  profiles: Profiles,
  workload: Workload,
  options: SimOptions = {},
): SimResult {
  if (result.schedule) return simulateSchedule(result.schedule, profiles, workload, options);
  return new Simulator(profileMap(profiles), workload).run(result.placement, options);
}
