// `meshserve place`: a scenario's cluster, models and workload placed by an algorithm of the
// registry, and the attainment predicted on that workload (the simulator, or the algorithm's
// schedule when it re-places over time).
import {
  evaluateResult,
  type OnlineSummary,
  type PlacementOptions,
  type PlacementResult,
  placeByName,
} from '../placement/index.js';
import type { Scenario } from '../scenario.js';
import type { SimResult } from '../types.js';

export interface ScenarioPlacement {
  readonly result: PlacementResult;
  /** The placement simulated on the scenario's workload, with the scenario's options. */
  readonly predicted: SimResult;
  /** An online policy (adaptive): the windows it decided and how many times it switched. */
  readonly online?: OnlineSummary;
}

export async function placeScenario(
  scenario: Scenario,
  algorithm: string,
  options: PlacementOptions = {},
  onWindow?: (done: number, total: number) => void,
): Promise<ScenarioPlacement> {
  const result = await placeByName(
    algorithm,
    {
      cluster: scenario.cluster,
      profiles: scenario.profiles,
      workload: scenario.workload,
      sim: scenario.options,
      groups: scenario.placement.groups.map((g) => ({ config: g.config, models: g.models })),
    },
    options,
  );
  const { sim, online } = evaluateResult(result, scenario.profiles, scenario.workload, scenario.options, onWindow);
  return { result, predicted: sim, ...(online ? { online } : {}) };
}
