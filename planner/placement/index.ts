// Public face of the placement library: pick an algorithm by name, evaluate what it returns.
import { type Profiles, profileMap } from '../profile.js';
import { Simulator } from '../simulator.js';
import type { SimOptions, SimResult, Workload } from '../types.js';
import { type AdaptiveRun, adaptiveSchedule } from './adaptive.js';
import { alpaserveSync } from './algorithms.js';
import { simulateSchedule } from './schedule.js';
import type { PlacementInput, PlacementOptions, PlacementResult } from './types.js';

export {
  type AdaptiveDecision,
  type AdaptiveRun,
  type AdaptiveState,
  adaptiveStep,
  DEFAULT_ADAPTIVE_WINDOW,
  DEFAULT_MIN_GAIN,
} from './adaptive.js';
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
export { alignGroups, DEFAULT_LOAD_BANDWIDTH, swapLoadTimes } from './swap-cost.js';
export type {
  GroupLayout,
  OnlinePolicy,
  PlacementAlgorithm,
  PlacementInput,
  PlacementOptions,
  PlacementResult,
  PlacementSchedule,
  ScheduledWindow,
  SearchProgress,
  SearchStats,
} from './types.js';

/** Adaptive AlpaServe's synchronous re-placement search: the fast greedy AlpaServe. */
export const adaptiveSearch = (input: PlacementInput, options: PlacementOptions) =>
  alpaserveSync('adaptive', input, options);

/**
 * The schedule an online policy follows on `workload`, each window decided from the traffic before
 * it; `onWindow` hears of each window decided (each runs a search: long runs show progress).
 */
export function onlineSchedule(
  result: PlacementResult,
  profiles: Profiles,
  workload: Workload,
  onWindow?: (done: number, total: number) => void,
): AdaptiveRun {
  if (!result.online) throw new Error(`${result.algorithm} does not re-place online`);
  return adaptiveSchedule(result.placement, result.online, profiles, workload, adaptiveSearch, onWindow);
}

/**
 * Simulates what an algorithm returned on a (test) workload: an online policy run on it (adaptive
 * AlpaServe), else its schedule if it has one, else its placement.
 */
export function evaluatePlacement(
  result: PlacementResult,
  profiles: Profiles,
  workload: Workload,
  options: SimOptions = {},
  onWindow?: (done: number, total: number) => void,
): SimResult {
  if (result.online) return evaluateOnline(result, profiles, workload, options, onWindow).sim;
  if (result.schedule) return simulateSchedule(result.schedule, profiles, workload, options);
  return new Simulator(profileMap(profiles), workload).run(result.placement, options);
}

/** An online policy's run on `workload` (see onlineSchedule) and its simulation. */
export function evaluateOnline(
  result: PlacementResult,
  profiles: Profiles,
  workload: Workload,
  options: SimOptions = {},
  onWindow?: (done: number, total: number) => void,
): { readonly sim: SimResult; readonly run: AdaptiveRun } {
  const run = onlineSchedule(result, profiles, workload, onWindow);
  return { sim: simulateSchedule(run.schedule, profiles, workload, options), run };
}
