// Scenario files for `meshserve simulate`: a cluster, the models (zoo names or inline / file
// profiles), the groups of a placement, the workload (synthetic, our trace format, or an Azure
// trace replay, real or synthetic) and the SLO. Validated with zod; errors name the field.
// The format is documented in docs/planner.md ("Scenario files"). The planner does
// no I/O: the files a scenario names are read through the ScenarioFiles it is given
// (dev/planner-files.ts reads them from disk).
import { resolve } from 'node:path';
import { z } from 'zod';
import { formatIssues, groupWeightBytes, modelProfileSchema, profileMap, profilesFromText } from './profile.js';
import { DISPATCH_POLICIES } from './simulator.js';
import { didYouMean } from './suggest.js';
import type { ClusterSpec, DispatchPolicy, GroupSpec, ModelProfile, Placement, SimOptions, Workload } from './types.js';
import { parseMaf1Csv, parseMaf2Csv, replayMaf1, replayMaf2, syntheticMaf1, syntheticMaf2 } from './workload/azure.js';
import { multiModelWorkload, slosFromScale } from './workload/multi-model.js';
import { traceFromText } from './workload/trace.js';
import { ZOO_NAMES, zooProfile } from './zoo.js';

const GIB = 2 ** 30;
const pos = z.number().finite().positive();
const config = z.object({ pp: z.number().int().positive(), op: z.number().int().positive() });

export const modelEntry = z.union([
  z
    .object({ zoo: z.string(), name: z.string().min(1).optional(), count: z.number().int().positive().optional() })
    .strict(),
  z.object({ profile: modelProfileSchema }).strict(),
  z.object({ profilesFile: z.string().min(1) }).strict(),
]);

const synthetic = z
  .object({
    process: z.enum(['gamma', 'poisson']).default('gamma'),
    totalRate: z.number().finite().nonnegative().optional(),
    /** Explicit per-model rates (req/s, in model order, or by model name: others get 0) instead of totalRate + split. */
    rates: z
      .union([z.array(z.number().finite().nonnegative()), z.record(z.string(), z.number().finite().nonnegative())])
      .optional(),
    cv: pos.optional(),
    duration: pos,
    seed: z.number().int().default(0),
    split: z.union([z.enum(['power-law', 'uniform']), z.array(z.number().nonnegative())]).optional(),
    rateScale: pos.default(1),
    cvScale: pos.default(1),
  })
  .strict()
  .refine((w) => (w.totalRate === undefined) !== (w.rates === undefined), {
    message: 'give exactly one of "totalRate" (with an optional "split") or "rates" (one per model)',
  })
  .refine((w) => w.rates === undefined || w.split === undefined, {
    message: '"split" applies to "totalRate", not to explicit "rates"',
  })
  .refine((w) => w.process === 'poisson' || w.cv !== undefined, {
    message: 'a gamma process needs "cv" (use process "poisson" for CV 1)',
  });

const trace = z.object({ trace: z.string().min(1) }).strict();

const azure = z
  .object({
    azure: z.enum(['maf1', 'maf2']),
    file: z.string().min(1).optional(),
    synthetic: z
      .object({
        functions: z.number().int().positive().optional(),
        minutes: z.number().int().positive().optional(),
        duration: pos.optional(),
        totalRate: pos.optional(),
        phase: pos.optional(),
        zipf: pos.optional(),
        seed: z.number().int().default(0),
      })
      .strict()
      .optional(),
    rateScale: pos,
    cvScale: pos,
    window: pos.optional(),
    start: z.number().nonnegative().optional(),
    duration: pos.optional(),
    seed: z.number().int().default(0),
  })
  .strict()
  .refine((a) => (a.file === undefined) !== (a.synthetic === undefined), {
    message: 'give exactly one of "file" (a real trace) or "synthetic" (generator options)',
  });

/** A workload: synthetic (rates and CV), our trace format, or an Azure Functions replay. */
export const workloadSchema = z.union([synthetic, trace, azure]);
export type WorkloadSpec = z.infer<typeof workloadSchema>;

const perModelSlo = z.record(z.string(), pos).optional();
/** SLOs: a scale of each model's single-device latency or seconds, `perModel` overriding by name. */
export const sloSchema = z.union([
  z.object({ scale: pos, perModel: perModelSlo }).strict(),
  z.object({ seconds: pos, perModel: perModelSlo }).strict(),
  z.object({ none: z.literal(true) }).strict(),
]);
export type SloSpec = z.infer<typeof sloSchema>;

export const simSchema = z
  .object({
    policy: z.enum(DISPATCH_POLICIES as [DispatchPolicy, ...DispatchPolicy[]]).optional(),
    stagePenalty: z.number().nonnegative().optional(),
    overhead: z.number().nonnegative().optional(),
    admissionMargin: z.number().nonnegative().optional(),
    trim: z.number().nonnegative().optional(),
  })
  .strict();

export const scenarioSchema = z
  .object({
    cluster: z
      .object({
        devices: z.number().int().positive(),
        memoryPerDeviceGiB: pos.optional(),
        memoryPerDevice: pos.optional(),
      })
      .strict()
      .refine((c) => (c.memoryPerDeviceGiB === undefined) !== (c.memoryPerDevice === undefined), {
        message: 'give exactly one of "memoryPerDeviceGiB" or "memoryPerDevice" (bytes)',
      }),
    models: z.array(modelEntry).min(1),
    groups: z
      .array(
        z
          .object({
            config,
            models: z.array(z.string().min(1)),
            devices: z.number().int().positive().optional(),
            count: z.number().int().positive().optional(),
          })
          .strict(),
      )
      .min(1),
    workload: workloadSchema,
    slo: sloSchema.optional(),
    sim: simSchema.optional(),
  })
  .strict();

export type ScenarioFile = z.input<typeof scenarioSchema>;

export interface Scenario {
  readonly cluster: ClusterSpec;
  readonly profiles: readonly ModelProfile[];
  readonly placement: Placement;
  readonly workload: Workload;
  readonly options: SimOptions;
}

/**
 * How a scenario reaches the files it names (profiles, traces). `read` gets a path resolved
 * against `baseDir` (the scenario file's folder) and returns its text, or throws.
 */
export interface ScenarioFiles {
  readonly baseDir: string;
  read(path: string): string;
}

/** For scenarios built in memory: naming a file is an error. */
const NO_FILES: ScenarioFiles = {
  baseDir: '.',
  read: (path) => {
    throw new Error(`no file reader was given to read ${path} (load the scenario from a file)`);
  },
};

/** Reads a file the scenario names; errors start with `what` and the path. */
export function readNamed(files: ScenarioFiles, file: string, what: string): { path: string; text: string } {
  const path = resolve(files.baseDir, file);
  try {
    return { path, text: files.read(path) };
  } catch (e) {
    throw new Error(`${what} ${path}: ${(e as Error).message}`);
  }
}

/** The profiles a list of model entries names (zoo copies expanded, files read); names must be unique. */
export function expandModels(entries: readonly z.infer<typeof modelEntry>[], files: ScenarioFiles): ModelProfile[] {
  const out: ModelProfile[] = [];
  for (const e of entries) {
    if ('zoo' in e) {
      if (!ZOO_NAMES.includes(e.zoo))
        throw new Error(
          `models: unknown zoo model "${e.zoo}"${didYouMean(e.zoo, ZOO_NAMES)} (known: ${ZOO_NAMES.join(', ')})`,
        );
      if (e.count === undefined) out.push(zooProfile(e.zoo, e.name ?? e.zoo));
      else for (let k = 0; k < e.count; k++) out.push(zooProfile(e.zoo, `${e.name ?? e.zoo}-${k}`));
    } else if ('profile' in e) out.push(e.profile);
    else {
      const { path, text } = readNamed(files, e.profilesFile, 'cannot read profiles');
      out.push(...profilesFromText(text, path));
    }
  }
  checkUniqueNames(out);
  return out;
}

/** Model names must be unique. */
export function checkUniqueNames(profiles: readonly ModelProfile[]): void {
  const seen = new Set<string>();
  for (const p of profiles) {
    if (seen.has(p.name)) throw new Error(`models: "${p.name}" is defined twice`);
    seen.add(p.name);
  }
}

/** How much more traffic to generate: rate and CV multipliers on top of the spec's own scales. */
export interface TrafficScale {
  readonly rate: number;
  readonly cv: number;
}

/**
 * Builds the workload a spec names, reading its files once: the returned function makes it at any
 * extra rate and CV scale. Generated traffic (synthetic, Azure replays) is regenerated at the
 * scaled rates and CVs; a recorded trace is kept as recorded, its clock compressed by the rate
 * scale, and it has no CV to scale (`cvScalable` false).
 */
export function workloadBuilder(
  spec: WorkloadSpec,
  models: readonly string[],
  slos: readonly number[] | undefined,
  files: ScenarioFiles,
): { readonly cvScalable: boolean; at(scale?: TrafficScale): Workload } {
  const names = [...models];
  if ('trace' in spec) {
    const { path, text } = readNamed(files, spec.trace, 'cannot read trace');
    let w = traceFromText(text, path);
    if (slos) {
      // The scenario's SLO overrides the trace's, per model.
      const byName = new Map(names.map((m, i) => [m, slos[i]]));
      const perTraceModel = w.modelNames.map((m) => byName.get(m) ?? Infinity);
      w = { ...w, slo: Float64Array.from(w.model, (m) => perTraceModel[m]) };
    }
    const recorded = w;
    return {
      cvScalable: false,
      at: (scale) => {
        if (!scale || scale.rate === 1) return recorded;
        if (scale.cv !== 1) throw new Error('a recorded trace has no CV to scale');
        return {
          ...recorded,
          arrival: recorded.arrival.map((t) => t / scale.rate),
          duration: recorded.duration / scale.rate,
        };
      },
    };
  }
  const slo = slos ? [...slos] : Infinity;
  if ('azure' in spec) {
    const opts = {
      models: names,
      window: spec.window,
      start: spec.start,
      duration: spec.duration,
      seed: spec.seed,
      slo,
    };
    const read = (file: string) => readNamed(files, file, 'workload.file: cannot read').text;
    const scaled = (scale: TrafficScale | undefined) => ({
      ...opts,
      rateScale: spec.rateScale * (scale?.rate ?? 1),
      cvScale: spec.cvScale * (scale?.cv ?? 1),
    });
    if (spec.azure === 'maf1') {
      const counts = spec.file
        ? parseMaf1Csv(read(spec.file), spec.file)
        : syntheticMaf1({ ...spec.synthetic!, seed: spec.synthetic!.seed });
      return { cvScalable: true, at: (scale) => replayMaf1(counts, scaled(scale)) };
    }
    const inv = spec.file
      ? parseMaf2Csv(read(spec.file), spec.file)
      : syntheticMaf2({ ...spec.synthetic!, seed: spec.synthetic!.seed });
    return { cvScalable: true, at: (scale) => replayMaf2(inv, scaled(scale)) };
  }
  const rates = spec.rates && ratesInOrder(spec.rates, names);
  return {
    cvScalable: true,
    at: (scale) =>
      multiModelWorkload({
        models: names,
        totalRate: rates ? rates.reduce((a, b) => a + b, 0) : spec.totalRate!,
        cv: spec.process === 'poisson' ? 1 : spec.cv!,
        duration: spec.duration,
        seed: spec.seed,
        split: rates ?? spec.split ?? 'power-law',
        rateScale: spec.rateScale * (scale?.rate ?? 1),
        cvScale: spec.cvScale * (scale?.cv ?? 1),
        slo,
      }),
  };
}

/** Per-model rates in model order, from a list in that order or a record by name (absent = 0). */
function ratesInOrder(rates: readonly number[] | Readonly<Record<string, number>>, names: readonly string[]): number[] {
  if (Array.isArray(rates)) {
    if (rates.length !== names.length)
      throw new Error(`workload.rates: ${rates.length} rates for ${names.length} models`);
    return [...rates];
  }
  const byName = rates as Readonly<Record<string, number>>;
  for (const m of Object.keys(byName))
    if (!names.includes(m)) throw new Error(`workload.rates: unknown model "${m}"${didYouMean(m, names)}`);
  return names.map((m) => byName[m] ?? 0);
}

/**
 * Per-model SLOs (seconds, in model order) from a spec, `own` giving some models theirs unless the
 * spec's `perModel` does; undefined = none (a trace then keeps its own).
 */
export function slosOf(
  spec: SloSpec | undefined,
  profiles: readonly ModelProfile[],
  own: Readonly<Record<string, number>> = {},
): number[] | undefined {
  const names = profiles.map((p) => p.name);
  if (spec === undefined || 'none' in spec) return undefined;
  const perModel = spec.perModel ?? {};
  for (const m of Object.keys(perModel))
    if (!names.includes(m))
      throw new Error(`slo.perModel: unknown model "${m}"${didYouMean(m, names)} (define it under "models")`);
  const base =
    'seconds' in spec ? names.map(() => spec.seconds) : slosFromScale(names, profileMap(profiles), spec.scale);
  return names.map((m, i) => perModel[m] ?? own[m] ?? base[i]);
}

/** Validates a parsed scenario and builds everything `simulate` needs; named files come from `files`. */
export function buildScenario(json: unknown, files: ScenarioFiles = NO_FILES, source = 'scenario'): Scenario {
  const r = scenarioSchema.safeParse(json);
  if (!r.success) throw new Error(`invalid ${source}:\n${formatIssues(r.error)}`);
  const s = r.data;
  const cluster: ClusterSpec = {
    devices: s.cluster.devices,
    memoryPerDevice:
      s.cluster.memoryPerDeviceGiB !== undefined ? s.cluster.memoryPerDeviceGiB * GIB : s.cluster.memoryPerDevice!,
  };
  const profiles = expandModels(s.models, files);
  const byName = profileMap(profiles);
  const groups: GroupSpec[] = [];
  s.groups.forEach((g, gi) => {
    const devices = g.config.pp * g.config.op;
    if (g.devices !== undefined && g.devices !== devices)
      throw new Error(
        `groups.${gi}: devices ${g.devices} but config pp ${g.config.pp} × op ${g.config.op} = ${devices}`,
      );
    for (const m of g.models) {
      const p = byName.get(m);
      if (!p) throw new Error(`groups.${gi}: unknown model "${m}" (define it under "models")`);
      if (!p.configs[`pp${g.config.pp}-op${g.config.op}`])
        throw new Error(`groups.${gi}: model "${m}" has no profile for pp ${g.config.pp}, op ${g.config.op}`);
    }
    const need = groupWeightBytes(g, byName);
    if (need > cluster.memoryPerDevice) {
      throw new Error(
        `groups.${gi}: models need ${(need / GIB).toFixed(2)} GiB per device, over the ${(cluster.memoryPerDevice / GIB).toFixed(2)} GiB budget`,
      );
    }
    for (let k = 0; k < (g.count ?? 1); k++) groups.push({ devices, config: g.config, models: g.models });
  });
  const used = groups.reduce((n, g) => n + g.devices, 0);
  if (used > cluster.devices) throw new Error(`groups use ${used} devices but the cluster has ${cluster.devices}`);
  const names = profiles.map((p) => p.name);
  const workload = workloadBuilder(s.workload, names, slosOf(s.slo, profiles), files).at();
  return { cluster, profiles, placement: { groups }, workload, options: { ...(s.sim ?? {}) } };
}

/** Builds a scenario from the text of a scenario file at `path` (its named files through `files`). */
export function scenarioFromText(text: string, path: string, files: ScenarioFiles): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`cannot read scenario ${path}: ${(e as Error).message}`);
  }
  return buildScenario(json, files, `scenario ${path}`);
}
