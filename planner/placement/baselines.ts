// The motivation section's fixed placements (facts §3): "Replication" puts ⌊budget / model size⌋
// models on every device round robin; "Model parallelism" makes fixed groups of K devices, each
// one K-stage pipeline, filled the same way. Round robin: slots are filled round by round (one
// slot per group per round) with the next model in cyclic order that fits there, so every model is
// spread over the groups and slots fill evenly.
import type { SearchContext, SearchGroup } from './search-context.js';
import type { GroupLayout } from './types.js';

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
