// From the planner's Placement (groups of a size) to the runtime's (groups bound to device ids,
// versioned), and from there to what each device and the dispatcher need.
import { GroupLatencyModel, penalisedStages } from '../planner/latency-model.js';
import { configProfile, profileMap } from '../planner/profile.js';
import { configKey, type ModelProfile, type Placement } from '../planner/types.js';
import { assignmentKey, type StageAssignment } from './executor.js';
import type { RuntimeGroup, RuntimePlacement } from './protocol.js';

export interface BindOptions {
  version: number;
  strategy: string;
  reason: string;
  params: { stagePenalty: number; overhead: number };
  profiles: readonly ModelProfile[];
  createdAt?: string;
}

/** Gives each group devices in order (stage-major, shard-minor); throws when there are too few. */
export function bindPlacement(placement: Placement, devices: readonly string[], o: BindOptions): RuntimePlacement {
  const needed = placement.groups.reduce((n, g) => n + g.config.pp * g.config.op, 0);
  if (needed > devices.length) throw new Error(`the placement needs ${needed} devices but ${devices.length} are registered`);
  let next = 0;
  const groups: RuntimeGroup[] = placement.groups.map((g, i) => ({
    id: `v${o.version}-${i}`,
    config: { pp: g.config.pp, op: g.config.op },
    models: [...g.models],
    devices: Array.from({ length: g.config.pp }, () => Array.from({ length: g.config.op }, () => devices[next++])),
  }));
  // Each placed profile travels with only the configs its groups use (and without its notes):
  // the placement goes to every device and dispatcher and must stay well under NATS's max payload.
  const used = new Map<string, Set<string>>();
  for (const g of placement.groups) for (const m of g.models) (used.get(m) ?? used.set(m, new Set()).get(m)!).add(configKey(g.config));
  const profiles = o.profiles
    .filter((p) => used.has(p.name))
    .map(({ notes: _notes, ...p }) => ({ ...p, configs: Object.fromEntries(Object.entries(p.configs).filter(([key]) => used.get(p.name)!.has(key))) }));
  return {
    version: o.version,
    createdAt: o.createdAt ?? new Date().toISOString(),
    strategy: o.strategy,
    reason: o.reason,
    params: o.params,
    groups,
    profiles: profiles as RuntimePlacement['profiles'],
  };
}

/** Penalised stage latencies (seconds) of every model of a group: what a request sees per stage. */
export function groupStageSeconds(placement: RuntimePlacement, group: RuntimeGroup): Map<string, Float64Array> {
  const profiles = profileMap(placement.profiles);
  const out = new Map<string, Float64Array>();
  for (const name of group.models) {
    const p = profiles.get(name);
    const c = p && configProfile(p, group.config);
    if (!c) throw new Error(`placement v${placement.version}: model "${name}" has no profile for pp ${group.config.pp}, op ${group.config.op}`);
    out.set(name, penalisedStages(c, placement.params.stagePenalty));
  }
  return out;
}

/** The stage shards `device` runs under a placement. */
export function assignmentsFor(placement: RuntimePlacement, device: string): StageAssignment[] {
  const out: StageAssignment[] = [];
  for (const group of placement.groups) {
    group.devices.forEach((shards, stage) => {
      shards.forEach((d, shard) => {
        if (d !== device) return;
        const seconds = groupStageSeconds(placement, group);
        const profiles = profileMap(placement.profiles);
        out.push({
          key: assignmentKey(group.id, stage, shard),
          version: placement.version,
          group: group.id,
          stage,
          shard,
          pp: group.config.pp,
          op: group.config.op,
          models: group.models.map((name) => {
            const onnx = profiles.get(name)?.onnx;
            return { name, seconds: seconds.get(name)![stage], ...(onnx ? { onnx } : {}) };
          }),
        });
      });
    });
  }
  return out;
}

/** The dispatcher's latency model of a group (the simulator's, from planner/latency-model.ts). */
export function groupLatencyModel(placement: RuntimePlacement, group: RuntimeGroup): GroupLatencyModel {
  return new GroupLatencyModel(group, placement.profiles, placement.params);
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
