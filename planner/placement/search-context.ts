// What one placement search shares across all its candidate placements: the prepared simulator
// (the workload is validated once), the models in workload order, and each model's per-device
// memory need under each config (memoised), so fit checks never look at profiles again.
import { maxStageWeightBytes, profileMap } from '../profile.js';
import { Simulator } from '../simulator.js';
import {
  type ClusterSpec,
  configKey,
  type ModelProfile,
  type ParallelConfig,
  type Placement,
  type SimOptions,
  type SimResult,
} from '../types.js';
import { placementScore } from './score.js';
import type { GroupLayout, PlacementInput } from './types.js';

/** A candidate during search: each group's config and hosted models (indices into `models`). */
export interface SearchGroup {
  readonly config: ParallelConfig;
  readonly models: readonly number[];
  /** Per-device weight bytes in use. */
  readonly used: number;
}

export interface Scored {
  readonly groups: readonly SearchGroup[];
  readonly score: number;
  readonly attainment: number;
  readonly result: SimResult;
}

export class SearchContext {
  readonly models: readonly string[];
  readonly profiles: ReadonlyMap<string, ModelProfile>;
  readonly cluster: ClusterSpec;
  readonly simulator: Simulator;
  readonly sim: SimOptions;
  simulations = 0;
  private readonly needs = new Map<string, Float64Array>();
  private readonly allowed: ReadonlySet<number> | undefined;

  /** `onlyModels`: model indices the search may place (default all); others never fit. */
  constructor(input: PlacementInput, onlyModels?: Iterable<number>) {
    this.allowed = onlyModels && new Set(onlyModels);
    this.profiles = profileMap(input.profiles);
    this.cluster = input.cluster;
    this.models = input.workload.modelNames;
    for (const m of this.models) if (!this.profiles.has(m)) throw new Error(`workload model "${m}" has no profile`);
    if (!(input.cluster.memoryPerDevice > 0))
      throw new Error(`memoryPerDevice must be > 0, got ${input.cluster.memoryPerDevice}`);
    this.simulator = new Simulator(this.profiles, input.workload);
    // Scoring uses every request (docs/alpaserve.md, "The problem and the core model"); records are never needed here.
    this.sim = { ...(input.sim ?? {}), trim: 0, records: false };
  }

  /** Per-device bytes model m needs under config c (Infinity when it has no profile for c). */
  need(m: number, c: ParallelConfig): number {
    return this.needsFor(c)[m];
  }

  needsFor(c: ParallelConfig): Float64Array {
    const key = configKey(c);
    let t = this.needs.get(key);
    if (!t) {
      t = Float64Array.from(this.models, (name, m) => {
        if (this.allowed && !this.allowed.has(m)) return Infinity;
        const cp = this.profiles.get(name)!.configs[key];
        return cp ? maxStageWeightBytes(cp) : Infinity;
      });
      this.needs.set(key, t);
    }
    return t;
  }

  /** Whether model m can be added to group g (not there yet, and it fits the budget). */
  fits(g: SearchGroup, m: number): boolean {
    return g.used + this.need(m, g.config) <= this.cluster.memoryPerDevice && !g.models.includes(m);
  }

  /** Whether any model fits an empty group of config c. */
  anyFits(c: ParallelConfig): boolean {
    const t = this.needsFor(c);
    for (let m = 0; m < t.length; m++) if (t[m] <= this.cluster.memoryPerDevice) return true;
    return false;
  }

  emptyGroups(layout: GroupLayout): SearchGroup[] {
    return layout.map((config) => ({ config, models: [], used: 0 }));
  }

  withModel(groups: readonly SearchGroup[], g: number, m: number): SearchGroup[] {
    const out = groups.slice();
    const old = groups[g];
    out[g] = { config: old.config, models: [...old.models, m], used: old.used + this.need(m, old.config) };
    return out;
  }

  toPlacement(groups: readonly SearchGroup[]): Placement {
    return {
      groups: groups.map((g) => ({
        devices: g.config.pp * g.config.op,
        config: g.config,
        models: g.models.map((m) => this.models[m]),
      })),
    };
  }

  evaluate(groups: readonly SearchGroup[]): Scored {
    this.simulations++;
    const result = this.simulator.run(this.toPlacement(groups), this.sim);
    let replicas = 0;
    for (const g of groups) replicas += g.models.length;
    return {
      groups,
      score: placementScore(result, replicas),
      attainment: Number.isFinite(result.attainment) ? result.attainment : 0,
      result,
    };
  }
}

/** A canonical key of a candidate: groups of equal config and models are interchangeable. */
export function candidateKey(groups: readonly SearchGroup[]): string {
  return groups
    .map((g) => `${g.config.pp}.${g.config.op}:${[...g.models].sort((a, b) => a - b).join(',')}`)
    .sort()
    .join('|');
}
