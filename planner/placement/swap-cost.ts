// What a re-placement costs (docs/planner.md, "Adaptive AlpaServe"): a group whose models change
// is out of service while its new weights load over the host link. Groups sit on the cluster's
// devices in placement order (as the runtime binds them); a group on the same devices with the same
// config as before loads only the models it did not hold, any other group loads all of its models.
// Its load time is those weight bytes ÷ the load bandwidth.
import type { ModelProfile, ParallelConfig, Placement } from '../types.js';

/** Weight-load bandwidth when none is given, bytes/s (a PCIe-like host link). */
export const DEFAULT_LOAD_BANDWIDTH = 16e9;

const sameConfig = (a: ParallelConfig, b: ParallelConfig) => a.pp === b.pp && a.op === b.op;

/** Each group's first device index (groups take consecutive devices in order). */
export function groupOffsets(p: Placement): number[] {
  let at = 0;
  return p.groups.map((g) => {
    const o = at;
    at += g.devices;
    return o;
  });
}

/** Where a group sits: its first device and its config (the same slot = the same devices, the same way). */
export function slotKeys(p: Placement): string[] {
  const at = groupOffsets(p);
  return p.groups.map((g, i) => `${at[i]}:${g.config.pp}x${g.config.op}`);
}

/**
 * Seconds each group of `next` is out of service after a switch from `prev` (0 for a group that
 * keeps its devices, config and models, or with no `prev`: the first placement loads before serving).
 */
export function swapLoadTimes(
  prev: Placement | undefined,
  next: Placement,
  profiles: ReadonlyMap<string, ModelProfile>,
  bandwidth: number = DEFAULT_LOAD_BANDWIDTH,
): number[] {
  if (!(bandwidth > 0)) throw new Error(`load bandwidth must be > 0 bytes/s, got ${bandwidth}`);
  if (!prev) return next.groups.map(() => 0);
  const prevSlots = slotKeys(prev);
  const before = new Map(prev.groups.map((g, i) => [prevSlots[i], new Set(g.models)]));
  const nextSlots = slotKeys(next);
  return next.groups.map((g, i) => {
    const held = before.get(nextSlots[i]);
    let bytes = 0;
    for (const m of g.models) if (!held?.has(m)) bytes += profiles.get(m)?.weightBytes ?? 0;
    return bytes / bandwidth;
  });
}

/**
 * `next` with its groups reordered so that groups of the same config land where the previous
 * placement had one, each on the slot whose models overlap most: a search returns groups in an
 * arbitrary order, and moving an unchanged group to other devices would reload it for nothing.
 * Only when both placements use the same configs (the same layout up to order); else `next` as is.
 */
export function alignGroups(prev: Placement, next: Placement): Placement {
  const key = (c: ParallelConfig) => `${c.pp}x${c.op}`;
  const layout = (p: Placement) =>
    p.groups
      .map((g) => key(g.config))
      .sort()
      .join();
  if (prev.groups.length !== next.groups.length || layout(prev) !== layout(next)) return next;
  const free = next.groups.map((_, i) => i);
  const groups = prev.groups.map((old) => {
    const had = new Set(old.models);
    let pick = -1;
    let overlap = -1;
    for (const i of free) {
      const g = next.groups[i];
      if (!sameConfig(g.config, old.config)) continue;
      const o = g.models.filter((m) => had.has(m)).length;
      if (o > overlap) {
        overlap = o;
        pick = i;
      }
    }
    free.splice(free.indexOf(pick), 1);
    return next.groups[pick];
  });
  return { groups };
}
