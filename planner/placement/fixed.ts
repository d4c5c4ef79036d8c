// Placements given rather than searched: the operator's own groups ('static'), and the motivation
// section's baselines (docs/alpaserve.md, "Placement"). "Replication" puts models on every device
// round robin until memory is full; "model parallelism" makes fixed groups of K devices, each one
// K-stage pipeline, filled the same way. Round robin: slots are filled round by round (one slot per
// group per round) with the next model in cyclic order that fits there, so every model is spread
// over the groups and slots fill evenly.
import { groupFits, profileMap } from '../profile.js';
import type { GroupSpec, Placement } from '../types.js';
import type { SearchContext, SearchGroup } from './search-context.js';
import type { GroupLayout, PlacementInput } from './types.js';

/** The operator's groups with `count` expanded; checks profiles, memory and the device budget. */
export function staticPlacement(input: PlacementInput): Placement {
  if (!input.groups?.length) throw new Error('the static strategy needs groups (configure the planner with "groups")');
  const byName = profileMap(input.profiles);
  const groups: GroupSpec[] = [];
  input.groups.forEach((g, i) => {
    for (const m of g.models) if (!byName.has(m)) throw new Error(`group ${i}: no profile for model "${m}"`);
    if (!groupFits(g, byName, input.cluster)) {
      throw new Error(
        `group ${i}: its models do not fit ${(input.cluster.memoryPerDevice / 2 ** 30).toFixed(1)} GiB per device`,
      );
    }
    for (let k = 0; k < (g.count ?? 1); k++)
      groups.push({ devices: g.config.pp * g.config.op, config: g.config, models: [...g.models] });
  });
  const used = groups.reduce((n, g) => n + g.devices, 0);
  if (used > input.cluster.devices)
    throw new Error(`the groups need ${used} devices but ${input.cluster.devices} are registered`);
  return { groups };
}

export function roundRobinGroups(ctx: SearchContext, layout: GroupLayout): SearchGroup[] {
  let groups = ctx.emptyGroups(layout);
  const models = ctx.models.length;
  let next = 0;
  for (let added = true; added && models > 0; ) {
    added = false;
    for (let g = 0; g < groups.length; g++) {
      for (let t = 0; t < models; t++) {
        const m = (next + t) % models;
        if (!ctx.fits(groups[g], m)) continue;
        groups = ctx.withModel(groups, g, m);
        next = m + 1;
        added = true;
        break;
      }
    }
  }
  return groups;
}

/** ⌊devices / stages⌋ pipeline groups of `stages` devices (op 1); leftover devices stay idle. */
export function pipelineLayout(devices: number, stages: number): GroupLayout {
  if (!Number.isInteger(stages) || stages < 1) throw new Error(`stages must be a positive integer, got ${stages}`);
  if (stages > devices) throw new Error(`${stages} stages need more than the cluster's ${devices} devices`);
  return Array.from({ length: Math.floor(devices / stages) }, () => ({ pp: stages, op: 1 }));
}
