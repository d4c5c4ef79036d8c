// The live side of adaptive AlpaServe: the planner actor's rate check asks the planner library's
// own step (planner/placement/adaptive.ts, the one the simulator replays) whether to re-place,
// judging on traffic synthesised from the observed rates.
import {
  type AdaptiveDecision,
  type AdaptiveState,
  adaptiveSearch,
  adaptiveStep,
  type PlacementOptions,
} from '../../planner/placement/index.js';
import { profileMap } from '../../planner/profile.js';
import type { ClusterSpec, ModelProfile, Placement } from '../../planner/types.js';
import { trainingWorkload } from '../../planner/workload/training.js';
import { type RuntimePlacement, simPlacement } from '../protocol/placement.js';

export interface AdaptiveCheckOptions {
  readonly options?: PlacementOptions;
  /** SLO seconds by model, for the synthesised traffic. */
  readonly slos?: Readonly<Record<string, number>>;
  readonly home?: Placement;
}

/**
 * One adaptive decision for the placement in force, at the observed rates (req/s by model).
 * `home` is the placement the strategy started from, as in the simulator's replay: always a
 * candidate to return to, and what its fits must have beaten lately to be candidates.
 */
export function adaptiveCheck(
  placed: RuntimePlacement,
  profiles: readonly ModelProfile[],
  rates: Readonly<Record<string, number>>,
  cluster: ClusterSpec,
  state: AdaptiveState,
  { options = {}, slos = {}, home }: AdaptiveCheckOptions = {},
): AdaptiveDecision & { readonly state: AdaptiveState } {
  const observed = trainingWorkload(profiles, rates, undefined, slos);
  const ctx = { cluster, profiles: profileMap(profiles), options, home, search: adaptiveSearch };
  return adaptiveStep(simPlacement(placed), observed, ctx, state);
}
