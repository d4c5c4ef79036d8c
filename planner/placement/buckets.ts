// Model buckets for mixed model sets (docs/alpaserve.md, "Placement"): models of very different latency make poor
// neighbours on one group (a slow model's requests queue in front of a fast one's), so AlpaServe
// buckets models whose single-device latencies are within 38% of the bucket's first (fastest)
// member, splits the devices between buckets, solves each bucket on its own share, and keeps the
// best combined placement.
//
// Splits are in whole 8-device nodes when the cluster has at least one node per bucket, otherwise
// in single devices. Of all splits, the `maxSplits` whose device shares best match the buckets'
// traffic (Σ |traffic share − throughput share|, throughput = devices / mean latency) are tried;
// every (bucket, device count) pair is solved once and shared between splits.
import type { ModelProfile, Workload } from '../types.js';
import { keepModels } from '../workload/slice.js';
import { enumerateLayouts } from './group-layouts.js';
import { type LayoutSearchOptions, type LayoutSolution, searchLayoutsSync } from './layout-search.js';
import { type Scored, SearchContext, type SearchGroup } from './search-context.js';
import type { PlacementInput, SearchStats } from './types.js';

/** Latency ratio within which models share a bucket. */
export const BUCKET_LATENCY_RATIO = 1.38;
export const DEFAULT_MAX_SPLITS = 100;

/** Buckets of model indices, fastest bucket first; each bucket's members sorted by latency. */
export function modelBuckets(models: readonly string[], profiles: ReadonlyMap<string, ModelProfile>): number[][] {
  const latency = models.map((m) => profiles.get(m)!.singleDeviceLatency);
  const order = models.map((_, i) => i).sort((a, b) => latency[a] - latency[b] || a - b);
  const buckets: number[][] = [];
  for (const m of order) {
    const last = buckets[buckets.length - 1];
    if (last && latency[m] <= latency[last[0]] * BUCKET_LATENCY_RATIO) last.push(m);
    else buckets.push([m]);
  }
  return buckets;
}

/** Every way to split `total` units between `parts` buckets (a bucket may get none). */
function compositions(total: number, parts: number): number[][] {
  if (parts === 1) return [[total]];
  const out: number[][] = [];
  for (let first = 0; first <= total; first++)
    for (const rest of compositions(total - first, parts - 1)) out.push([first, ...rest]);
  return out;
}

export function deviceSplits(
  devices: number,
  traffic: readonly number[],
  latency: readonly number[],
  maxSplits = DEFAULT_MAX_SPLITS,
): number[][] {
  const parts = traffic.length;
  const unit = devices % 8 === 0 && devices / 8 >= parts ? 8 : 1;
  const totalTraffic = traffic.reduce((a, b) => a + b, 0) || 1;
  const imbalance = (split: number[]) => {
    const tput = split.map((d, b) => d / latency[b]);
    const sum = tput.reduce((a, b) => a + b, 0) || 1;
    return split.reduce((acc, _, b) => acc + Math.abs(traffic[b] / totalTraffic - tput[b] / sum), 0);
  };
  const all = compositions(Math.floor(devices / unit), parts)
    .map((c) => c.map((u) => u * unit))
    .map((split) => ({ split, cost: imbalance(split) }));
  all.sort((a, b) => a.cost - b.cost);
  return all.slice(0, maxSplits).map((s) => s.split);
}

export interface BucketSearchOutcome {
  readonly best: Scored;
  readonly stats: SearchStats;
  readonly buckets: number;
}

/**
 * Solves a mixed model set bucket by bucket; `ctx` scores the combined placements on the full
 * workload. Synchronous: the bucket searches run in this thread.
 */
export function searchWithBuckets(
  ctx: SearchContext,
  input: PlacementInput,
  buckets: number[][],
  options: LayoutSearchOptions & { maxSplits?: number },
): BucketSearchOutcome {
  const w: Workload = input.workload;
  const traffic = buckets.map((b) => {
    const s = new Set(b);
    let n = 0;
    for (const m of w.model) if (s.has(m)) n++;
    return n;
  });
  const latency = buckets.map(
    (b) => b.reduce((acc, m) => acc + ctx.profiles.get(ctx.models[m])!.singleDeviceLatency, 0) / b.length,
  );
  const splits = deviceSplits(ctx.cluster.devices, traffic, latency, options.maxSplits);
  const stats: SearchStats = { simulations: 0, layouts: 0, layoutsPruned: 0 };
  const bucketCtx = buckets.map((b) => new SearchContext({ ...input, workload: keepModels(w, new Set(b)) }, b));
  const solved = new Map<string, LayoutSolution | undefined>();
  const solve = (b: number, devices: number): readonly SearchGroup[] => {
    if (devices === 0) return [];
    const key = `${b}:${devices}`;
    if (!solved.has(key)) {
      const c = bucketCtx[b];
      const before = c.simulations;
      const out = searchLayoutsSync(c, enumerateLayouts(devices), options);
      stats.layouts += out.stats.layouts;
      stats.layoutsPruned += out.stats.layoutsPruned;
      if (out.stats.beamBeatGreedy) stats.beamBeatGreedy = true;
      else if (out.stats.beamBeatGreedy === false && stats.beamBeatGreedy === undefined) stats.beamBeatGreedy = false;
      stats.simulations += c.simulations - before;
      solved.set(key, out.best);
    }
    return solved.get(key)?.groups ?? [];
  };
  let best: Scored | undefined;
  for (const split of splits) {
    const groups: SearchGroup[] = [];
    for (let b = 0; b < buckets.length; b++) groups.push(...solve(b, split[b]));
    const scored = ctx.evaluate(groups);
    stats.simulations++;
    if (!best || scored.score > best.score) best = scored;
  }
  return { best: best ?? ctx.evaluate([]), stats, buckets: buckets.length };
}
