// Plan files for `meshserve plan` (docs/planner.md, "Planning a cluster"): the models (zoo names
// with counts, profiles files, a model repository), the traffic (the scenario's workload forms:
// rates with a CV, our trace, an Azure Functions replay), the SLO, the target attainment and the
// device memory and range. Validated with zod and checked before any search: names, the range,
// and that every model fits the devices. The files a plan names come through its PlanFiles.
import { z } from 'zod';
import {
  adaptivePolicySchema,
  algorithmsTaking,
  PLACEMENT_ALGORITHMS,
  type PlacementAlgorithm,
  placementAlgorithm,
} from '../placement/index.js';
import { plural } from '../plural.js';
import { formatIssues, maxStageWeightBytes } from '../profile.js';
import {
  checkUniqueNames,
  expandModels,
  modelEntry,
  type ScenarioFiles,
  simSchema,
  sloSchema,
  slosOf,
  type TrafficScale,
  type WorkloadSpec,
  workloadBuilder,
  workloadSchema,
} from '../scenario.js';
import { didYouMean } from '../suggest.js';
import type { ModelProfile, SimOptions, Workload } from '../types.js';
import { TRAINING_SLO_SCALE } from '../workload/training.js';

const GIB = 2 ** 30;
const positiveInt = z.number().int().positive();

/** How the systems that re-place per window do it: Clockwork++ (window, swap bandwidth) and adaptive AlpaServe (all). */
const onlineSchema = adaptivePolicySchema
  .extend({
    window: z.number().finite().positive().optional(),
    swapCost: z.boolean().optional(),
    history: positiveInt.optional(),
    pastWeight: z.number().finite().nonnegative().optional(),
  })
  .strict();

export type OnlineOptions = z.infer<typeof onlineSchema>;

const planModelEntry = z.union([modelEntry, z.object({ repository: z.string().min(1) }).strict()]);

export const planSchema = z
  .object({
    models: z.array(planModelEntry).min(1),
    traffic: workloadSchema,
    /** Default: a trace keeps its own SLOs, other traffic gets 5 × single-device latency. */
    slo: sloSchema.optional(),
    target: z.number().gt(0).lte(1).default(0.99),
    devices: z
      .object({
        memoryGiB: z.number().finite().positive(),
        min: positiveInt.default(1),
        max: positiveInt,
        step: positiveInt.optional(),
        powersOfTwo: z.boolean().optional(),
        search: z.enum(['bisect', 'sweep']).default('bisect'),
      })
      .strict()
      .refine((d) => !(d.step !== undefined && d.powersOfTwo), {
        message: 'give "step" or "powersOfTwo", not both',
      }),
    /** The fraction of the traffic, at its end, held out to score placements fitted on the rest. */
    holdOut: z.number().gt(0).lt(1).default(0.5),
    /** Default: every algorithm of the registry that places by traffic. */
    systems: z.array(z.string().min(1)).min(1).optional(),
    /** AlpaServe (and the systems built on its search) with its fast greedy instead of beam search. */
    greedy: z.boolean().default(false),
    online: onlineSchema.default({}),
    /** Worker threads for the layout searches. */
    workers: z.number().int().nonnegative().optional(),
    sim: simSchema.optional(),
  })
  .strict();

export type PlanFile = z.input<typeof planSchema>;

/** What a model repository holds for planning: each model's profile and own SLO (`meshserve.json`). */
export interface RepositoryModels {
  readonly profiles: readonly ModelProfile[];
  readonly slos: Readonly<Record<string, number>>;
}

/** The files a plan names: those of a scenario, and model repositories (folders). */
export interface PlanFiles extends ScenarioFiles {
  repository(path: string): RepositoryModels;
}

export interface PlanSystem {
  readonly name: string;
  readonly algorithm: PlacementAlgorithm;
}

export interface Plan {
  readonly profiles: readonly ModelProfile[];
  readonly memoryPerDevice: number;
  /** Device counts to search, ascending. */
  readonly candidates: readonly number[];
  readonly search: 'bisect' | 'sweep';
  readonly target: number;
  readonly holdOut: number;
  readonly systems: readonly PlanSystem[];
  readonly greedy: boolean;
  /** Options of the systems that re-place per window. */
  readonly online: OnlineOptions;
  readonly workers?: number;
  readonly sim: SimOptions;
  /** The traffic as given (its file paths as the plan wrote them: relative to the plan's folder). */
  readonly traffic: WorkloadSpec;
  /** Per-model SLOs in model order (seconds); undefined: a trace's own. */
  readonly slos: readonly number[] | undefined;
  /** Whether the traffic's burstiness can be scaled (not for a recorded trace). */
  readonly cvScalable: boolean;
  /** The whole traffic at a rate / CV scale (1, 1 = as given). */
  trafficAt(scale?: TrafficScale): Workload;
}

/** The device counts of a range: min, min + step, … ≤ max, or the powers of two in [min, max]. */
export function deviceCandidates(d: { min: number; max: number; step?: number; powersOfTwo?: boolean }): number[] {
  const out: number[] = [];
  if (d.powersOfTwo) {
    for (let n = 1; n <= d.max; n *= 2) if (n >= d.min) out.push(n);
  } else for (let n = d.min; n <= d.max; n += d.step ?? 1) out.push(n);
  if (!out.length)
    throw new Error(`devices: the range ${d.min}..${d.max}${d.powersOfTwo ? ' (powers of two)' : ''} is empty`);
  return out;
}

/** The registry's algorithms a plan compares by default: those that place by traffic, AlpaServe once. */
export function defaultPlanSystems(greedy: boolean): string[] {
  const skip = greedy ? 'alpaserve' : 'alpaserve-greedy';
  return PLACEMENT_ALGORITHMS.filter((a) => a.usesWorkload && a.name !== skip).map((a) => a.name);
}

function planSystems(names: readonly string[] | undefined, greedy: boolean): PlanSystem[] {
  const known = PLACEMENT_ALGORITHMS.filter((a) => a.name !== 'static').flatMap((a) => [a.name, ...(a.aliases ?? [])]);
  return (names ?? defaultPlanSystems(greedy)).map((name) => {
    if (!known.includes(name))
      throw new Error(`systems: unknown system "${name}"${didYouMean(name, known)} (known: ${known.join(', ')})`);
    const algorithm = placementAlgorithm(greedy && name === 'alpaserve' ? 'alpaserve-greedy' : name);
    return { name: algorithm.name, algorithm };
  });
}

const gib = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;
const devicesText = (n: number) => plural(n, 'device');

/**
 * Every model needs a config that fits a device's memory on at most `maxDevices` devices; the
 * error names the model and its smallest need (or says that no model fits at all).
 */
export function checkModelsFit(profiles: readonly ModelProfile[], memoryPerDevice: number, maxDevices: number): void {
  const need = profiles.map((p) => {
    let best: { bytes: number; key: string } | undefined;
    for (const [key, c] of Object.entries(p.configs)) {
      if (c.pp * c.op > maxDevices) continue;
      const bytes = maxStageWeightBytes(c);
      if (!best || bytes < best.bytes) best = { bytes, key };
    }
    return { name: p.name, best };
  });
  const unfit = need.filter((n) => !n.best || n.best.bytes > memoryPerDevice);
  if (!unfit.length) return;
  const smallest = (n: (typeof need)[number]) =>
    n.best
      ? `needs at least ${gib(n.best.bytes)} per device (${n.best.key})`
      : `has no config on ${devicesText(maxDevices)} or fewer`;
  if (unfit.length === profiles.length)
    throw new Error(
      `no model fits on any device of ${gib(memoryPerDevice)} within ${devicesText(maxDevices)}: "${unfit[0].name}" ${smallest(unfit[0])}${unfit.length > 1 ? `, and ${unfit.length - 1} more do not fit either` : ''}`,
    );
  throw new Error(
    `model "${unfit[0].name}": no config fits ${gib(memoryPerDevice)} per device within ${devicesText(maxDevices)}; it ${smallest(unfit[0])}${unfit.length > 1 ? ` (${unfit.length - 1} more models do not fit either)` : ''}`,
  );
}

/** Validates a parsed plan, reads the files it names and checks it can be searched. */
export function buildPlan(json: unknown, files: PlanFiles, source = 'plan'): Plan {
  const r = planSchema.safeParse(json);
  if (!r.success) throw new Error(`invalid ${source}: ${formatIssues(r.error).trim().replace(/\n\s*/g, '; ')}`);
  const p = r.data;
  const profiles: ModelProfile[] = [];
  const ownSlos: Record<string, number> = {};
  for (const entry of p.models) {
    if ('repository' in entry) {
      const repo = files.repository(entry.repository);
      profiles.push(...repo.profiles);
      Object.assign(ownSlos, repo.slos);
    } else profiles.push(...expandModels([entry], files));
  }
  checkUniqueNames(profiles);
  const candidates = deviceCandidates(p.devices);
  const memoryPerDevice = p.devices.memoryGiB * GIB;
  checkModelsFit(profiles, memoryPerDevice, candidates[candidates.length - 1]);
  const systems = planSystems(p.systems, p.greedy);
  for (const [option, value] of Object.entries(p.online) as [keyof OnlineOptions, unknown][]) {
    const takers = algorithmsTaking(option);
    if (value !== false && !systems.some((s) => takers.includes(s.name)))
      throw new Error(`online.${option} applies to ${takers.join(' and ')}, which the plan's systems do not include`);
  }
  const isTrace = 'trace' in p.traffic;
  const sloSpec =
    p.slo ?? (isTrace && !Object.keys(ownSlos).length ? undefined : { scale: TRAINING_SLO_SCALE, perModel: undefined });
  const slos = slosOf(sloSpec, profiles, ownSlos);
  const builder = workloadBuilder(
    p.traffic,
    profiles.map((m) => m.name),
    slos,
    files,
  );
  const known = new Set(profiles.map((m) => m.name));
  const whole = builder.at();
  const stray = whole.modelNames.find((m) => !known.has(m));
  if (stray)
    throw new Error(
      `traffic: the trace names model "${stray}"${didYouMean(stray, [...known])}, which is not among the plan's models`,
    );
  if (!whole.arrival.length) throw new Error('traffic: no request in it');
  return {
    profiles,
    memoryPerDevice,
    candidates,
    search: p.devices.search,
    target: p.target,
    holdOut: p.holdOut,
    systems,
    greedy: p.greedy,
    online: p.online,
    workers: p.workers,
    sim: p.sim ?? {},
    traffic: p.traffic,
    slos,
    cvScalable: builder.cvScalable,
    trafficAt: (scale) => (scale ? builder.at(scale) : whole),
  };
}

/** Builds a plan from the text of a plan file at `path`. */
export function planFromText(text: string, path: string, files: PlanFiles): Plan {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`cannot read plan ${path}: ${(e as Error).message}`);
  }
  return buildPlan(json, files, `plan ${path}`);
}
