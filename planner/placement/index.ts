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
  type AdaptivePolicy,
  type AdaptiveRun,
  type AdaptiveState,
  adaptivePolicySchema,
  adaptiveStep,
  DEFAULT_ADAPTIVE_WINDOW,
  DEFAULT_DEPARTURE_LOADS,
  DEFAULT_MIN_GAIN,
} from './adaptive.js';
export {
  algorithmsTaking,
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
export { carriedClocks, simulateSchedule, windowsOf } from './schedule.js';
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

/** How often an online policy switched on the workload it was replayed on. */
export interface OnlineSummary {
  readonly windows: number;
  readonly switches: number;
}

/**
 * Simulates what an algorithm returned on a (test) workload: an online policy run on it (adaptive
 * AlpaServe; `onWindow` hears of each window decided, and `online` says how often it switched),
 * else its schedule if it has one, else its placement.
 */
export function evaluateResult(
  result: PlacementResult,
  profiles: Profiles,
  workload: Workload,
  options: SimOptions = {},
  onWindow?: (done: number, total: number) => void,
): { readonly sim: SimResult; readonly online?: OnlineSummary } {
  if (result.online) {
    const run = onlineSchedule(result, profiles, workload, onWindow);
    return {
      sim: simulateSchedule(run.schedule, profiles, workload, options),
      online: { windows: run.schedule.windows.length, switches: run.decisions.filter((d) => d?.replace).length },
    };
  }
  if (result.schedule) return { sim: simulateSchedule(result.schedule, profiles, workload, options) };
  return { sim: new Simulator(profileMap(profiles), workload).run(result.placement, options) };
}

/** evaluateResult's simulation alone. */
export function evaluatePlacement(
  result: PlacementResult,
  profiles: Profiles,
  workload: Workload,
  options: SimOptions = {},
): SimResult {
  return evaluateResult(result, profiles, workload, options).sim;
}
