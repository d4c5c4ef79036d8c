// From the planner library's Placement (groups of a size) to the runtime's: groups bound to
// device ids, versioned, with the profiles every device and dispatcher needs.
import { configKey, type ModelProfile, type Placement } from '../../planner/types.js';
import type { RuntimeGroup, RuntimePlacement } from '../protocol/placement.js';

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
  if (needed > devices.length)
    throw new Error(`the placement needs ${needed} devices but ${devices.length} are registered`);
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
  for (const g of placement.groups)
    for (const m of g.models) (used.get(m) ?? used.set(m, new Set()).get(m)!).add(configKey(g.config));
  const profiles = o.profiles
    .filter((p) => used.has(p.name))
    .map(({ notes: _notes, ...p }) => {
      const keep = ([key]: [string, unknown]) => used.get(p.name)!.has(key);
      return {
        ...p,
        configs: Object.fromEntries(Object.entries(p.configs).filter(keep)),
        ...(p.imported
          ? { imported: { ...p.imported, stages: Object.fromEntries(Object.entries(p.imported.stages).filter(keep)) } }
          : {}),
      };
    });
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
