// Model profile helpers: lookups by config, the memory-fit rule (docs/alpaserve.md, "The problem and
// the core model"), and JSON load/save with validation, so profiles measured by our profiler load the
// same way as the zoo.
import { z } from 'zod';
import {
  type ClusterSpec,
  type ConfigProfile,
  configKey,
  type GroupSpec,
  type ImportedModelRef,
  type ModelProfile,
  type ParallelConfig,
} from './types.js';

/** Profiles as callers tend to hold them: a map by name, a record by name, or a list. */
export type Profiles =
  | ReadonlyMap<string, ModelProfile>
  | Readonly<Record<string, ModelProfile>>
  | readonly ModelProfile[];

/** Normalises any Profiles shape to a map by model name. */
export function profileMap(profiles: Profiles): ReadonlyMap<string, ModelProfile> {
  if (profiles instanceof Map) return profiles;
  if (Array.isArray(profiles)) return new Map(profiles.map((p: ModelProfile) => [p.name, p]));
  return new Map(Object.entries(profiles as Readonly<Record<string, ModelProfile>>));
}

/** The model's table for a config, or undefined when the model cannot run under it. */
export function configProfile(profile: ModelProfile, config: ParallelConfig): ConfigProfile | undefined {
  return profile.configs[configKey(config)];
}

/** Weight bytes the busiest device of a config holds (what the memory check uses). */
export function maxStageWeightBytes(config: ConfigProfile): number {
  let max = 0;
  for (const w of config.stageWeightBytes) if (w > max) max = w;
  return max;
}

/**
 * Per-device weight bytes a group needs: Σ over its models of max-stage weight. Infinity if a model
 * has no profile for the config.
 */
export function groupWeightBytes(
  group: Pick<GroupSpec, 'config' | 'models'>,
  profiles: ReadonlyMap<string, ModelProfile>,
): number {
  let total = 0;
  for (const name of group.models) {
    const p = profiles.get(name);
    const c = p && configProfile(p, group.config);
    if (!c) return Infinity;
    total += maxStageWeightBytes(c);
  }
  return total;
}

/** Whether a group's models fit the per-device budget (docs/alpaserve.md, "The problem and the core model"). */
export function groupFits(
  group: Pick<GroupSpec, 'config' | 'models'>,
  profiles: ReadonlyMap<string, ModelProfile>,
  cluster: Pick<ClusterSpec, 'memoryPerDevice'>,
): boolean {
  return groupWeightBytes(group, profiles) <= cluster.memoryPerDevice;
}

/** Every model-store object an imported model's stages name, once each. */
export function importedObjects(ref: ImportedModelRef): string[] {
  const out = new Set<string>();
  for (const stages of Object.values(ref.stages))
    for (const s of stages) {
      if (s.object) out.add(s.object);
      for (const g of s.segments ?? []) for (const o of g.objects) out.add(o);
    }
  return [...out];
}

/** Total latency of a config with no queueing (sum of its stages, no penalty, no overhead). */
export function configLatency(config: ConfigProfile): number {
  let s = 0;
  for (const l of config.stageLatency) s += l;
  return s;
}

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();

const configProfileSchema = z
  .object({
    pp: z.number().int().positive(),
    op: z.number().int().positive(),
    stageLatency: z.array(positive),
    stageWeightBytes: z.array(nonNegative),
  })
  .refine((c) => c.stageLatency.length === c.pp && c.stageWeightBytes.length === c.pp, {
    message: 'stageLatency and stageWeightBytes must each have pp entries',
  });

const stageTensorSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.union([z.number().int().nonnegative(), z.string().min(1)])),
});

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex');

const storedSegmentSchema = z.object({
  receives: z.array(stageTensorSchema).min(1),
  sends: z.array(stageTensorSchema).min(1),
  reduce: stageTensorSchema.optional(),
  objects: z.array(sha256).min(1),
});

const storedStageSchema = z
  .object({
    receives: z.array(stageTensorSchema).min(1),
    sends: z.array(stageTensorSchema).min(1),
    object: sha256.optional(),
    bytes: z.number().int().positive().optional(),
    segments: z.array(storedSegmentSchema).min(1).optional(),
  })
  .refine((s) => (s.object === undefined) !== (s.segments === undefined), {
    message: 'a stage has either one file (object) or segments',
  });

const importedModelSchema = z.object({
  sha256,
  inputShapes: z.record(z.string(), z.array(z.number().int().positive())),
  maxPp: z.number().int().positive(),
  maxOp: z.number().int().positive(),
  stages: z.record(z.string(), z.array(storedStageSchema).min(1)),
});

export const modelProfileSchema = z
  .object({
    name: z.string().min(1),
    singleDeviceLatency: positive,
    weightBytes: nonNegative,
    configs: z.record(z.string(), configProfileSchema),
    source: z.enum(['measured', 'synthesised', 'estimated']),
    notes: z.string().optional(),
    onnx: z.object({ size: z.string().min(1), seed: z.number().int().nonnegative() }).optional(),
    imported: importedModelSchema.optional(),
  })
  .superRefine((p, ctx) => {
    for (const [key, stages] of Object.entries(p.imported?.stages ?? {})) {
      const c = p.configs[key];
      if (!c || stages.length !== c.pp)
        ctx.addIssue({
          code: 'custom',
          path: ['imported', 'stages', key],
          message: c ? `${stages.length} stage files for pp ${c.pp}` : 'no config of this key',
        });
      else if (
        stages.some((s) =>
          c.op === 1 ? !s.object : !s.segments?.every((g) => g.objects.length === (g.reduce ? c.op : 1)),
        )
      )
        ctx.addIssue({
          code: 'custom',
          path: ['imported', 'stages', key],
          message:
            c.op === 1
              ? 'op 1 stages need one file each'
              : `op ${c.op} stages need a file per shard for every reduced segment`,
        });
    }
    if (p.imported)
      for (const key of Object.keys(p.configs))
        if (!p.imported.stages[key])
          ctx.addIssue({ code: 'custom', path: ['imported', 'stages'], message: `no stage files for ${key}` });
    for (const [key, c] of Object.entries(p.configs)) {
      if (key !== configKey(c))
        ctx.addIssue({
          code: 'custom',
          path: ['configs', key],
          message: `key must be "${configKey(c)}" for pp ${c.pp}, op ${c.op}`,
        });
    }
  });

export const profileFileSchema = z.union([
  z.array(modelProfileSchema),
  z.object({ profiles: z.array(modelProfileSchema) }),
]);

/** Formats a zod error as "path: message" lines. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('\n');
}

/** Validates profiles from parsed JSON (an array, or { profiles: [...] }); throws a readable error. */
export function parseProfiles(json: unknown, what = 'profiles'): ModelProfile[] {
  const r = profileFileSchema.safeParse(json);
  if (!r.success) throw new Error(`invalid ${what}:\n${formatIssues(r.error)}`);
  return Array.isArray(r.data) ? r.data : r.data.profiles;
}

/** Profiles from the text of a profiles JSON file (`source` names it in errors). */
export function profilesFromText(text: string, source: string): ModelProfile[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`cannot read profiles ${source}: ${(e as Error).message}`);
  }
  return parseProfiles(json, `profiles in ${source}`);
}

/** The text of a profiles JSON file: `{ "profiles": [...] }`, what profilesFromText reads. */
export function profilesToText(profiles: readonly ModelProfile[]): string {
  return `${JSON.stringify({ profiles }, null, 2)}\n`;
}
