// Placement strategies of the planner actor, chosen by name. Each turns the cluster (device
// count, memory), the model profiles and the observed rates into a planner Placement; the
// planner actor binds it to device ids. Built in: 'static' (the operator's groups, e.g. from a
// scenario file) and 'round-robin' (the paper's "Replication" baseline). The AlpaServe search
// (planner/placement/) registers itself here with one `registerStrategy` call.
import { groupFits, profileMap } from '../planner/profile.js';
import type { GroupSpec, ModelProfile, ParallelConfig, Placement } from '../planner/types.js';

/** A group as an operator writes it: a config, its models, optionally repeated `count` times. */
export interface GroupInput {
  readonly config: ParallelConfig;
  readonly models: readonly string[];
  readonly count?: number;
}

export interface PlacementInput {
  readonly devices: number;
  readonly memoryPerDevice: number;
  readonly profiles: readonly ModelProfile[];
  /** Observed (or expected) requests/s per model; models without a rate are absent. */
  readonly rates: Readonly<Record<string, number>>;
  /** The operator's groups, for strategies that take them. */
  readonly groups?: readonly GroupInput[];
  /** SLO as a scale of each model's single-device latency, for strategies that simulate. */
  readonly sloScale?: number;
}

export interface PlacementStrategy {
  readonly name: string;
  /** Whether the result depends on the rates (only then do rate changes trigger a re-placement). */
  readonly usesRates: boolean;
  place(input: PlacementInput): Placement | Promise<Placement>;
}

const strategies = new Map<string, PlacementStrategy>();

export function registerStrategy(strategy: PlacementStrategy): void {
  strategies.set(strategy.name, strategy);
}

export function strategyNamed(name: string): PlacementStrategy {
  const s = strategies.get(name);
  if (!s) throw new Error(`unknown placement strategy "${name}"; known: ${strategyNames().join(', ')}`);
  return s;
}

export function strategyNames(): string[] {
  return [...strategies.keys()];
}

/** Expands `count`, checks memory and device budget. */
export function staticPlacement(input: PlacementInput): Placement {
  if (!input.groups?.length) throw new Error('the static strategy needs groups (configure the planner with "groups")');
  const byName = profileMap(input.profiles);
  const groups: GroupSpec[] = [];
  input.groups.forEach((g, i) => {
    for (const m of g.models) if (!byName.has(m)) throw new Error(`group ${i}: no profile for model "${m}"`);
    if (!groupFits(g, byName, input)) throw new Error(`group ${i}: its models do not fit ${(input.memoryPerDevice / 2 ** 30).toFixed(1)} GiB per device`);
    for (let k = 0; k < (g.count ?? 1); k++) groups.push({ devices: g.config.pp * g.config.op, config: g.config, models: [...g.models] });
  });
  const used = groups.reduce((n, g) => n + g.devices, 0);
  if (used > input.devices) throw new Error(`the groups need ${used} devices but ${input.devices} are registered`);
  return { groups };
}

/**
 * Every device its own (1,1) group holding k = ⌊budget / model size⌋ models, dealt round robin
 * (facts §3, "Replication"). Models without a pp1-op1 profile are skipped.
 */
export function roundRobinPlacement(input: PlacementInput): Placement {
  const single = input.profiles.filter((p) => p.configs['pp1-op1']);
  if (!single.length || input.devices < 1) return { groups: [] };
  const maxWeight = Math.max(...single.map((p) => p.configs['pp1-op1'].stageWeightBytes[0]));
  const k = Math.max(1, Math.min(single.length, Math.floor(input.memoryPerDevice / Math.max(1, maxWeight))));
  const byName = profileMap(single);
  const groups: GroupSpec[] = [];
  let next = 0;
  for (let d = 0; d < input.devices; d++) {
    const models: string[] = [];
    for (let j = 0; j < k; j++) {
      const name = single[next++ % single.length].name;
      if (!models.includes(name)) models.push(name);
    }
    const config = { pp: 1, op: 1 };
    while (models.length && !groupFits({ config, models }, byName, input)) models.pop();
    if (models.length) groups.push({ devices: 1, config, models });
  }
  return { groups };
}

registerStrategy({ name: 'static', usesRates: false, place: staticPlacement });
registerStrategy({ name: 'round-robin', usesRates: false, place: roundRobinPlacement });

/** Strategy the planner uses when none is configured. */
export const DEFAULT_STRATEGY = 'alpaserve';
