// Adaptive AlpaServe (docs/planner.md, "Adaptive AlpaServe"): AlpaServe re-placed window by window
// from traffic already seen, paying each switch's swap cost, and only when that pays. One step
// decides the next window from the last one; the simulator's online evaluation (adaptiveSchedule)
// and the live planner actor both call the same step.
//
// A step proposes candidates and predicts each one's good requests on the window just past, taken
// as the forecast of the next one: the fast-greedy AlpaServe search on that traffic, a re-selection
// of models on the current groups (cheap to switch to: the groups stay), and the starting placement.
// A candidate's prediction is simulated with its groups out of service while their new weights
// load (swap-cost.ts), so its net gain over keeping the current placement is gain − cost. The step
// switches to the best candidate only when that net gain exceeds `minGain` × the window's requests
// (hysteresis: small predicted gains are noise from a short, bursty sample).
import { type Profiles, profileMap } from '../profile.js';
import { Simulator } from '../simulator.js';
import type { ClusterSpec, ModelProfile, Placement, SimOptions, Workload } from '../types.js';
import { timeWindow } from '../workload/slice.js';
import { solveLayout } from './layout-search.js';
import { windowsOf } from './schedule.js';
import { SearchContext } from './search-context.js';
import { alignGroups, DEFAULT_LOAD_BANDWIDTH, swapLoadTimes } from './swap-cost.js';
import type { OnlinePolicy, PlacementInput, PlacementOptions, PlacementResult, PlacementSchedule } from './types.js';

/** Adaptive AlpaServe's default window, seconds. */
export const DEFAULT_ADAPTIVE_WINDOW = 60;
/** Default hysteresis: the net predicted gain must exceed this fraction of the window's requests. */
export const DEFAULT_MIN_GAIN = 0.002;

/** Runs an AlpaServe search synchronously (injected: algorithms.ts owns the search and imports this file). */
export type SyncSearch = (input: PlacementInput, options: PlacementOptions) => PlacementResult;

export interface AdaptiveContext {
  readonly cluster: ClusterSpec;
  readonly profiles: ReadonlyMap<string, ModelProfile>;
  readonly options: PlacementOptions;
  readonly sim?: SimOptions;
  /** The starting placement, always a candidate to return to. */
  readonly home?: Placement;
  readonly search: SyncSearch;
}

export interface AdaptiveDecision {
  /** Whether to switch. */
  readonly replace: boolean;
  /** The placement for the next window: the chosen candidate, or the current one. */
  readonly placement: Placement;
  /** Seconds each group of `placement` is out of service loading weights (all 0 when kept). */
  readonly loading: readonly number[];
  /** Which candidate won the prediction: 'search', 'reselect' or 'home' (even when not taken). */
  readonly candidate: string;
  /** Predicted good requests the best candidate gains over the current placement, swap aside. */
  readonly gain: number;
  /** Predicted good requests its swap loses (groups out of service while loading). */
  readonly cost: number;
  /** Requests in the observed window. */
  readonly requests: number;
}

const sameGroups = (a: Placement, b: Placement) =>
  a.groups.length === b.groups.length &&
  a.groups.every((g, i) => {
    const h = b.groups[i];
    return (
      g.config.pp === h.config.pp &&
      g.config.op === h.config.op &&
      g.models.length === h.models.length &&
      g.models.every((m) => h.models.includes(m))
    );
  });

/**
 * One decision: keep `current` for the next window, or switch, judged on `observed` (the traffic
 * of the window just past; nothing later).
 */
export function adaptiveStep(current: Placement, observed: Workload, ctx: AdaptiveContext): AdaptiveDecision {
  const keep = (candidate = 'none', gain = 0, cost = 0): AdaptiveDecision => ({
    replace: false,
    placement: current,
    loading: current.groups.map(() => 0),
    candidate,
    gain,
    cost,
    requests: observed.arrival.length,
  });
  if (observed.arrival.length === 0) return keep();
  const bandwidth = ctx.options.loadBandwidth ?? DEFAULT_LOAD_BANDWIDTH;
  const minGain = ctx.options.minGain ?? DEFAULT_MIN_GAIN;
  const sim: SimOptions = { ...(ctx.sim ?? {}), trim: 0, records: false };
  const input: PlacementInput = { cluster: ctx.cluster, profiles: ctx.profiles, workload: observed, sim };
  const searched = ctx.search(input, { ...ctx.options, beam: 1 }).placement;
  const reselected = (() => {
    const sc = new SearchContext(input);
    const layout = current.groups.map((g) => g.config);
    return sc.toPlacement(solveLayout(sc, [layout], 0, { kind: 'greedy' }).groups);
  })();
  const candidates: [string, Placement][] = [
    ['search', searched],
    ['reselect', reselected],
    ...(ctx.home ? [['home', ctx.home] as [string, Placement]] : []),
  ];
  const simulator = new Simulator(ctx.profiles, observed);
  const base = simulator.run(current, sim).good;
  let best: { name: string; placement: Placement; loading: number[]; gross: number; net: number } | undefined;
  for (const [name, raw] of candidates) {
    const placement = alignGroups(current, raw);
    if (sameGroups(placement, current)) continue;
    const loading = swapLoadTimes(current, placement, ctx.profiles, bandwidth);
    const gross = simulator.run(placement, sim).good;
    const net = simulator.run(placement, { ...sim, groupReady: loading }).good;
    if (!best || net > best.net) best = { name, placement, loading, gross, net };
  }
  if (!best) return keep();
  const gain = best.gross - base;
  const cost = best.gross - best.net;
  if (!(best.net - base > minGain * observed.arrival.length)) return keep(best.name, gain, cost);
  return {
    replace: true,
    placement: best.placement,
    loading: best.loading,
    candidate: best.name,
    gain,
    cost,
    requests: observed.arrival.length,
  };
}

/** One window of an online run: its schedule entry and the decision that opened it (none for the first). */
export interface AdaptiveRun {
  readonly schedule: PlacementSchedule;
  readonly decisions: readonly (AdaptiveDecision | undefined)[];
}

/**
 * Replays adaptive AlpaServe online on `workload`: window 0 serves `start`; every later window is
 * decided by adaptiveStep from the window before it alone (never from its own or later traffic).
 */
export function adaptiveSchedule(
  start: Placement,
  policy: OnlinePolicy,
  profiles: Profiles,
  workload: Workload,
  search: SyncSearch,
): AdaptiveRun {
  const byName = profileMap(profiles);
  const ctx: AdaptiveContext = {
    cluster: policy.cluster,
    profiles: byName,
    options: policy.options,
    sim: policy.sim,
    home: start,
    search,
  };
  const windows = windowsOf(workload.duration, policy.options.window ?? DEFAULT_ADAPTIVE_WINDOW);
  const out: PlacementSchedule['windows'][number][] = [];
  const decisions: (AdaptiveDecision | undefined)[] = [];
  let current = start;
  windows.forEach((win, k) => {
    if (k === 0) {
      out.push({ ...win, placement: start });
      decisions.push(undefined);
      return;
    }
    const past = windows[k - 1];
    const d = adaptiveStep(current, timeWindow(workload, past.start, past.end), ctx);
    current = d.placement;
    out.push(d.replace ? { ...win, placement: current, loading: d.loading } : { ...win, placement: current });
    decisions.push(d);
  });
  return { schedule: { windows: out }, decisions };
}
