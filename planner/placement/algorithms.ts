// Every placement algorithm behind one interface, selectable by name (experiments, CLI, the
// planner actor): AlpaServe (beam search or fast greedy), Selective Replication, Clockwork++, the
// motivation section's fixed placements, `static` (the groups a caller names, as given) and
// `round-robin` (an alias of the replication baseline).

import { profileMap } from '../profile.js';
import { Simulator } from '../simulator.js';
import type { Placement } from '../types.js';
import { timeWindow } from '../workload/slice.js';
import { DEFAULT_ADAPTIVE_WINDOW } from './adaptive.js';
import { modelBuckets, searchWithBuckets } from './buckets.js';
import { pipelineLayout, roundRobinGroups, staticPlacement } from './fixed.js';
import { enumerateLayouts } from './group-layouts.js';
import {
  BEAM_DEFAULTS,
  type LayoutSearchOptions,
  type LayoutSearchOutcome,
  searchLayouts,
  searchLayoutsSync,
} from './layout-search.js';
import { simulateSchedule, windowsOf } from './schedule.js';
import { placementScore, replicaCount } from './score.js';
import { type Scored, SearchContext } from './search-context.js';
import { alignGroups, swapLoadTimes } from './swap-cost.js';
import type {
  GroupLayout,
  PlacementAlgorithm,
  PlacementInput,
  PlacementOptions,
  PlacementResult,
  PlacementSchedule,
  ScheduledWindow,
  SearchStats,
} from './types.js';
import { LayoutWorkerPool } from './worker-pool.js';

/** AlpaServe's default beam width (the paper's 3; the placement bench shows it is affordable). */
export const DEFAULT_BEAM = 3;
/** Clockwork++'s default window, seconds (the paper's MAF1 setting). */
export const DEFAULT_CLOCKWORK_WINDOW = 60;

function resultOf(algorithm: string, ctx: SearchContext, best: Scored, stats: SearchStats): PlacementResult {
  return { algorithm, placement: ctx.toPlacement(best.groups), score: best.score, attainment: best.attainment, stats };
}

function layoutOptions(options: PlacementOptions, beam: number): LayoutSearchOptions {
  return {
    beam,
    expandModels: options.expandModels ?? BEAM_DEFAULTS.expandModels,
    expandGroups: options.expandGroups ?? BEAM_DEFAULTS.expandGroups,
    beamLayouts: options.beamLayouts ?? BEAM_DEFAULTS.beamLayouts,
    onProgress: options.onProgress,
  };
}

/** The result of a layout search (the empty placement when no layout can host anything). */
function outcomeResult(algorithm: string, ctx: SearchContext, out: LayoutSearchOutcome): PlacementResult {
  const best = out.best
    ? { groups: out.best.groups, score: out.best.score, attainment: out.best.attainment }
    : ctx.evaluate([]);
  return {
    algorithm,
    placement: ctx.toPlacement(best.groups),
    score: best.score,
    attainment: best.attainment,
    stats: { ...out.stats, simulations: out.stats.simulations + (out.best ? 0 : 1) },
  };
}

/** Searches `layouts` (every layout AlpaServe considers, or SR's single one) with model selection. */
async function searchOn(
  algorithm: string,
  ctx: SearchContext,
  input: PlacementInput,
  layouts: GroupLayout[],
  options: PlacementOptions,
  beam: number,
): Promise<PlacementResult> {
  const workers = options.workers ?? 0;
  const pool =
    workers > 1 && layouts.length > 1
      ? new LayoutWorkerPool(input, layouts, Math.min(workers, layouts.length))
      : undefined;
  try {
    return outcomeResult(algorithm, ctx, await searchLayouts(ctx, layouts, layoutOptions(options, beam), pool?.run));
  } finally {
    await pool?.close();
  }
}

/** AlpaServe's answer given its search over whole-cluster layouts: that, or the bucketed search's if better. */
function withBuckets(
  algorithm: string,
  ctx: SearchContext,
  input: PlacementInput,
  whole: PlacementResult,
  options: PlacementOptions,
  beam: number,
): PlacementResult {
  const buckets = options.buckets === false ? [ctx.models.map((_, i) => i)] : modelBuckets(ctx.models, ctx.profiles);
  if (buckets.length === 1) return whole;
  // Buckets confine each model to its bucket's devices, which Selective Replication does not;
  // keeping the unbucketed search too makes AlpaServe's space a superset of SR's.
  const out = searchWithBuckets(ctx, input, buckets, layoutOptions(options, beam));
  const stats: SearchStats = {
    ...whole.stats,
    simulations: whole.stats.simulations + out.stats.simulations,
    layouts: whole.stats.layouts + out.stats.layouts,
    layoutsPruned: whole.stats.layoutsPruned + out.stats.layoutsPruned,
  };
  if (out.stats.beamBeatGreedy !== undefined)
    stats.beamBeatGreedy = Boolean(whole.stats.beamBeatGreedy || out.stats.beamBeatGreedy);
  return out.best.score > whole.score ? resultOf(algorithm, ctx, out.best, stats) : { ...whole, stats };
}

async function alpaserve(
  algorithm: string,
  input: PlacementInput,
  options: PlacementOptions,
  beam: number,
): Promise<PlacementResult> {
  const ctx = new SearchContext(input);
  const whole = await searchOn(algorithm, ctx, input, enumerateLayouts(input.cluster.devices), options, beam);
  return withBuckets(algorithm, ctx, input, whole, options, beam);
}

/** AlpaServe in this thread, synchronously (no worker threads): for online re-placement. */
export function alpaserveSync(algorithm: string, input: PlacementInput, options: PlacementOptions): PlacementResult {
  const ctx = new SearchContext(input);
  const beam = options.beam ?? 1;
  const out = searchLayoutsSync(ctx, enumerateLayouts(input.cluster.devices), layoutOptions(options, beam));
  return withBuckets(algorithm, ctx, input, outcomeResult(algorithm, ctx, out), options, beam);
}

function singleDevices(devices: number): GroupLayout {
  return Array.from({ length: devices }, () => ({ pp: 1, op: 1 }));
}

async function selectiveReplication(input: PlacementInput): Promise<PlacementResult> {
  const ctx = new SearchContext(input);
  return searchOn('selective-replication', ctx, input, [singleDevices(input.cluster.devices)], {}, 1);
}

async function clockworkPlusPlus(input: PlacementInput, options: PlacementOptions): Promise<PlacementResult> {
  const w = input.workload;
  const windows: ScheduledWindow[] = [];
  const profiles = profileMap(input.profiles);
  const stats: SearchStats = { simulations: 0, layouts: 0, layoutsPruned: 0 };
  for (const { start, end } of windowsOf(w.duration, options.window ?? DEFAULT_CLOCKWORK_WINDOW)) {
    // The oracle: SR placed on the window's own requests.
    const sr = await selectiveReplication({ ...input, workload: timeWindow(w, start, end) });
    stats.simulations += sr.stats.simulations;
    stats.layouts += sr.stats.layouts;
    const prev = windows.at(-1)?.placement;
    if (!options.swapCost || !prev) windows.push({ start, end, placement: sr.placement });
    else {
      // Priced like adaptive AlpaServe's switches: groups whose models change load first.
      const placement = alignGroups(prev, sr.placement);
      windows.push({ start, end, placement, loading: swapLoadTimes(prev, placement, profiles, options.loadBandwidth) });
    }
  }
  // Priced swaps are judged like adaptive AlpaServe's: on a cluster whose queues cross windows.
  const schedule: PlacementSchedule = { windows, ...(options.swapCost ? { queues: 'carried' as const } : {}) };
  const r = simulateSchedule(schedule, input.profiles, w, { ...(input.sim ?? {}), trim: 0 });
  const replicas = windows.reduce((a, win) => a + replicaCount(win.placement), 0) / windows.length;
  return {
    algorithm: 'clockwork++',
    placement: windows[0].placement,
    schedule,
    score: placementScore(r, replicas),
    attainment: Number.isFinite(r.attainment) ? r.attainment : 0,
    stats,
  };
}

/** The options of adaptive AlpaServe's online policy a user sets, besides its window. */
const POLICY_OPTIONS = [
  'loadBandwidth',
  'minGain',
  'clearGain',
  'homeHorizon',
  'departureLoads',
  'history',
  'pastWeight',
] as const satisfies readonly (keyof PlacementOptions)[];
/** What the online policy reads besides its window: those, and buckets (its fits search with them too). */
const ONLINE_OPTIONS = [...POLICY_OPTIONS, 'buckets'] as const;

/**
 * Adaptive AlpaServe: starts from AlpaServe's placement on the training workload (its score and
 * attainment are that placement's), and carries the policy that re-places it online.
 */
async function adaptive(input: PlacementInput, options: PlacementOptions): Promise<PlacementResult> {
  const start = await alpaserve('adaptive', input, options, options.beam ?? DEFAULT_BEAM);
  const set = ONLINE_OPTIONS.filter((key) => options[key] !== undefined);
  const policy: PlacementOptions = {
    window: options.window ?? DEFAULT_ADAPTIVE_WINDOW,
    ...Object.fromEntries(set.map((key) => [key, options[key]])),
  };
  return { ...start, online: { kind: 'adaptive', cluster: input.cluster, options: policy, sim: input.sim } };
}

/** The operator's groups, scored on the workload like any other placement. */
async function operatorGroups(input: PlacementInput): Promise<PlacementResult> {
  const placement: Placement = staticPlacement(input);
  const r = new Simulator(input.profiles, input.workload).run(placement, { ...(input.sim ?? {}), trim: 0 });
  const attainment = Number.isFinite(r.attainment) ? r.attainment : 0;
  return {
    algorithm: 'static',
    placement,
    score: placementScore(r, replicaCount(placement)),
    attainment,
    stats: { simulations: 1, layouts: 1, layoutsPruned: 0 },
  };
}

async function fixed(algorithm: string, input: PlacementInput, layout: GroupLayout): Promise<PlacementResult> {
  const ctx = new SearchContext(input);
  const best = ctx.evaluate(roundRobinGroups(ctx, layout));
  return resultOf(algorithm, ctx, best, { simulations: ctx.simulations, layouts: 1, layoutsPruned: 0 });
}

export const PLACEMENT_ALGORITHMS: readonly PlacementAlgorithm[] = [
  {
    name: 'alpaserve',
    description: `AlpaServe: every group layout × beam-search model selection (beam ${DEFAULT_BEAM} unless --beam), model buckets for mixed sets`,
    usesWorkload: true,
    takes: ['beam', 'workers'],
    place: (input, options = {}) => alpaserve('alpaserve', input, options, options.beam ?? DEFAULT_BEAM),
  },
  {
    name: 'alpaserve-greedy',
    description: "AlpaServe with the reference's fast greedy model selection",
    usesWorkload: true,
    takes: ['workers'],
    place: (input, options = {}) => alpaserve('alpaserve-greedy', input, options, 1),
  },
  {
    name: 'selective-replication',
    description: 'Selective Replication: every device its own (1,1) group, fast greedy selection',
    usesWorkload: true,
    place: (input) => selectiveReplication(input),
  },
  {
    name: 'clockwork++',
    description: `Clockwork++: Selective Replication re-run on each window's own requests (window ${DEFAULT_CLOCKWORK_WINDOW} s unless set), zero swap cost unless swapCost`,
    usesWorkload: true,
    oracle: true,
    takes: ['window', 'swapCost', 'loadBandwidth'],
    place: (input, options = {}) => clockworkPlusPlus(input, options),
  },
  {
    name: 'adaptive',
    description: `adaptive AlpaServe: starts from AlpaServe's placement, re-placed every window (${DEFAULT_ADAPTIVE_WINDOW} s unless set) from the traffic of the window before when the predicted gain beats the swap cost`,
    usesWorkload: true,
    takes: ['beam', 'workers', 'window', ...POLICY_OPTIONS],
    place: (input, options = {}) => adaptive(input, options),
  },
  {
    name: 'replication',
    aliases: ['round-robin'],
    description: 'motivation baseline: round-robin replicas, as many models per device as fit',
    usesWorkload: false,
    place: (input) => fixed('replication', input, singleDevices(input.cluster.devices)),
  },
  {
    name: 'pipeline',
    description: 'motivation baseline: fixed K-device pipelines (K = stages, default 2), models round robin',
    usesWorkload: false,
    place: (input, options = {}) =>
      fixed('pipeline', input, pipelineLayout(input.cluster.devices, options.stages ?? 2)),
  },
  {
    name: 'static',
    description: "the operator's groups (a scenario's, or the planner's configured groups), as given",
    usesWorkload: false,
    place: (input) => operatorGroups(input),
  },
];

export const PLACEMENT_ALGORITHM_NAMES: readonly string[] = PLACEMENT_ALGORITHMS.map((a) => a.name);

/** The algorithm named `name` (or one of its aliases) in `registry` (default: every built-in one). */
export function placementAlgorithm(
  name: string,
  registry: readonly PlacementAlgorithm[] = PLACEMENT_ALGORITHMS,
): PlacementAlgorithm {
  const a = registry.find((x) => x.name === name || x.aliases?.includes(name));
  if (!a) throw new Error(`unknown placement algorithm "${name}"; known: ${registry.map((x) => x.name).join(', ')}`);
  return a;
}

/** The names of the algorithms that take this option. */
export function algorithmsTaking(
  option: keyof PlacementOptions,
  registry: readonly PlacementAlgorithm[] = PLACEMENT_ALGORITHMS,
): string[] {
  return registry.filter((a) => a.takes?.includes(option)).map((a) => a.name);
}

/** Runs the named algorithm. */
export async function placeByName(
  name: string,
  input: PlacementInput,
  options: PlacementOptions = {},
): Promise<PlacementResult> {
  return placementAlgorithm(name).place(input, options);
}

/** Names a live planner accepts: every algorithm but the oracles (aliases included). */
export function livePlacementAlgorithmNames(registry: readonly PlacementAlgorithm[] = PLACEMENT_ALGORITHMS): string[] {
  return registry.filter((a) => !a.oracle).flatMap((a) => [a.name, ...(a.aliases ?? [])]);
}
