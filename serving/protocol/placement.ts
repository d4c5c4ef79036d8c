// The placement as the runtime uses it: the planner's groups bound to device ids, versioned;
// stored in Redis and published on `ms.placement`. Validated on receipt; the derivations every
// follower needs (the devices used, the stage times of a group) live here with the schema.
import { z } from 'zod';
import { penalisedStages } from '../../planner/latency-model.js';
import { configProfile, modelProfileSchema, profileMap } from '../../planner/profile.js';
import type { Placement } from '../../planner/types.js';

export const LatencyParamsSchema = z.object({
  stagePenalty: z.number().nonnegative(),
  overhead: z.number().nonnegative(),
});

export const RuntimeGroup = z.object({
  /** Subject-safe id, unique across versions (e.g. `v3-0`). */
  id: z.string(),
  config: z.object({ pp: z.number().int().positive(), op: z.number().int().positive() }),
  models: z.array(z.string().min(1)),
  /** devices[k][s] = device id of shard s of stage k. */
  devices: z.array(z.array(z.string().min(1))),
});
export type RuntimeGroup = z.infer<typeof RuntimeGroup>;

/** A placement as the runtime uses it: the planner's groups bound to device ids, versioned. */
export const RuntimePlacement = z.object({
  version: z.number().int().positive(),
  createdAt: z.string(),
  strategy: z.string(),
  reason: z.string(),
  params: LatencyParamsSchema,
  groups: z.array(RuntimeGroup),
  /** Profiles of every placed model (stage times come from here, for workers and dispatcher alike). */
  profiles: z.array(modelProfileSchema),
});
export type RuntimePlacement = z.infer<typeof RuntimePlacement>;

/** Penalised stage latencies (seconds) of every model of a group: what a request sees per stage. */
export function groupStageSeconds(placement: RuntimePlacement, group: RuntimeGroup): Map<string, Float64Array> {
  const profiles = profileMap(placement.profiles);
  const out = new Map<string, Float64Array>();
  for (const name of group.models) {
    const p = profiles.get(name);
    const c = p && configProfile(p, group.config);
    if (!c)
      throw new Error(
        `placement v${placement.version}: model "${name}" has no profile for pp ${group.config.pp}, op ${group.config.op}`,
      );
    out.set(name, penalisedStages(c, placement.params.stagePenalty));
  }
  return out;
}

/** The devices a placement uses. */
export function placedDevices(p: Pick<RuntimePlacement, 'groups'>): Set<string> {
  return new Set(p.groups.flatMap((g) => g.devices.flat()));
}

/** Checks a placement's internal consistency (device grid shape matches each config). */
export function checkPlacement(p: RuntimePlacement): void {
  const seen = new Set<string>();
  for (const g of p.groups) {
    if (g.devices.length !== g.config.pp || g.devices.some((s) => s.length !== g.config.op)) {
      throw new Error(`group ${g.id}: device grid is not pp ${g.config.pp} × op ${g.config.op}`);
    }
    for (const d of g.devices.flat()) {
      if (seen.has(d)) throw new Error(`device ${d} is in two groups`);
      seen.add(d);
    }
    groupStageSeconds(p, g);
  }
}

/** The groups of a runtime placement as the planner library takes them (in device order, as bound). */
export function simPlacement(p: RuntimePlacement): Placement {
  return {
    groups: p.groups.map((g) => ({ devices: g.config.pp * g.config.op, config: g.config, models: [...g.models] })),
  };
}
