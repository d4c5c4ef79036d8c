// `meshserve replay` and the `meshserve start` demo: put a scenario's models and groups on a
// running cluster (through the planner actor), replay its workload in real time, and compare
// with the simulation of the same workload on the placement actually published.
import type { ActorSystem } from '../bus/index.js';
import { type Fidelity, fidelity, liveResult, realizedWorkload } from '../planner/fidelity.js';
import { REFERENCE_OVERHEAD, REFERENCE_STAGE_PENALTY } from '../planner/latency-model.js';
import type { Scenario } from '../planner/scenario.js';
import { simulate } from '../planner/simulator.js';
import type { SimResult, Workload } from '../planner/types.js';
import { storeProfiles } from '../serving/planner-actor/cluster-state.js';
import type { PlannerActor } from '../serving/planner-actor/planner-actor.js';
import { type RuntimePlacement, simPlacement } from '../serving/protocol/placement.js';
import { RuntimeSubjects } from '../serving/protocol/subjects.js';
import { plannerConfigOf } from './placement-file.js';
import { type LiveRecords, outcomesOn, type ReplayProgress, replayWorkload } from './replay-client.js';

export interface ScenarioReplayOptions {
  /** Planner actor name. Default 'planner'. */
  planner?: string;
  /**
   * Place the scenario's own groups (static strategy) before replaying; false = keep the placement in
   * force. Default true.
   */
  place?: boolean;
  /** Place these groups (a placement file, as `meshserve place` writes it) instead of the scenario's. */
  placement?: RuntimePlacement;
  onProgress?: (p: ReplayProgress) => void;
  signal?: AbortSignal;
}

export interface ScenarioReplayResult {
  placement: RuntimePlacement;
  live: LiveRecords;
  liveSummary: SimResult;
  simulated: SimResult;
  fidelity: Fidelity;
  notes: string[];
}

export async function replayScenario(
  system: ActorSystem,
  scenario: Scenario,
  options: ScenarioReplayOptions = {},
): Promise<ScenarioReplayResult> {
  const planner = system.actor<PlannerActor>(options.planner ?? 'planner', { timeoutMs: 60_000 });
  const notes: string[] = [];
  const o = scenario.options;
  if (o.policy && o.policy !== 'earliest-finish')
    notes.push(
      `the scenario's policy is ${o.policy}; the dispatcher routes by earliest finish, so both runs use earliest-finish`,
    );
  if (o.admissionMargin) notes.push('the dispatcher has no admission margin; the simulation here uses none either');
  if (options.place !== false) {
    if (!system.redis) throw new Error('replay needs Redis to hand the profiles to the planner');
    const file = options.placement;
    await storeProfiles(system.redis, file ? file.profiles : scenario.profiles, system.subjects.prefix);
    await planner.call(
      'configure',
      file
        ? plannerConfigOf(file)
        : {
            strategy: 'static',
            models: scenario.profiles.map((p) => p.name),
            groups: scenario.placement.groups.map((g) => ({ config: g.config, models: [...g.models] })),
            stagePenalty: o.stagePenalty ?? REFERENCE_STAGE_PENALTY,
            overhead: o.overhead ?? REFERENCE_OVERHEAD,
          },
    );
    await planner.call('replace', 'replay');
  }
  const placement = await planner.call('current');
  if (!placement) throw new Error('the cluster has no placement');
  // The planner publishes before answering; give the dispatchers a moment to switch.
  await new Promise((r) => setTimeout(r, 100));
  const live = await replayWorkload(system.nats, scenario.workload, {
    subjects: new RuntimeSubjects(system.subjects),
    onProgress: options.onProgress,
    signal: options.signal,
  });
  const trim = o.trim ?? 0;
  const outcomes = outcomesOn(live, placement);
  const placed = {
    placement: simPlacement(placement),
    profiles: placement.profiles,
    stagePenalty: placement.params.stagePenalty,
  };
  const liveSummary = liveResult(scenario.workload, outcomes, placed, trim);
  const simOptions = {
    ...o,
    policy: 'earliest-finish' as const,
    admissionMargin: 0,
    stagePenalty: placement.params.stagePenalty,
    overhead: placement.params.overhead,
    records: true,
  };
  const simulateOn = (w: Workload): SimResult => simulate(placed.placement, placement.profiles, w, simOptions);
  const simulated = simulateOn(scenario.workload);
  const realized = (clock: 'sent' | 'dispatcher') => {
    const workload = realizedWorkload(scenario.workload, outcomes, clock);
    return workload && { workload, result: simulateOn(workload) };
  };
  const sims = { scheduled: simulated, sent: realized('sent'), dispatcher: realized('dispatcher') };
  return {
    placement,
    live,
    liveSummary,
    simulated,
    fidelity: fidelity(scenario.workload, outcomes, liveSummary, sims, placement.params.overhead),
    notes,
  };
}
