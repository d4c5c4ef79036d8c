// Adaptive AlpaServe (docs/planner.md, "Adaptive AlpaServe"): AlpaServe re-placed window by window
// from traffic already seen, paying each switch's swap cost, and only when that pays. One step
// decides the next window from the last one; the simulator's online evaluation (adaptiveSchedule)
// and the live planner actor both call the same step.
//
// Candidates: the fast-greedy AlpaServe search on the last window's traffic, a re-selection of
// models on the current groups (cheap to switch to: the groups stay), and the starting placement.
// A fitted candidate cannot be judged on the traffic it was fitted to (it always looks good there),
// so each step fits both on its window and the next step judges those fits on the window that
// followed: how well "fit on the last window, serve the next" has just worked. The judged placement
// is simulated as the schedule will be scored: behind the backlog the current placement leaves,
// its changed groups out of service while the work already on their devices drains and their new
// weights load (schedule.ts, swap-cost.ts). Its net gain over keeping the current placement is
// gain − cost; going home's is homeHorizon × gain − cost (a stale fit's loss lasts beyond the
// window, the load is paid once); leaving home's may be gain − departureLoads × cost (the way back
// is paid too). The step takes the candidate with the highest net gain (the
// fresh fit of the winning kind, or home) only when it exceeds `minGain` × the window's requests,
// and, for a fitted kind, did at its previous judgement too: hysteresis against noise from a
// short, bursty sample. A gain above `clearGain` is trusted at once: after a clear change in
// traffic, waiting a window for the second judgement costs more than noise could.
// A fitted kind is a candidate at all only while its fits have lately served more than the
// starting placement would have (EDGE_DECAY): on a large cluster they mostly have not.

import { z } from 'zod';
import { type Profiles, profileMap } from '../profile.js';
import { Simulator } from '../simulator.js';
import type { ClusterSpec, ModelProfile, Placement, SimOptions, Workload } from '../types.js';
import { timeWindow } from '../workload/slice.js';
import { solveLayout } from './layout-search.js';
import { carriedClocks, stageCount, windowsOf } from './schedule.js';
import { SearchContext } from './search-context.js';
import { alignGroups, DEFAULT_LOAD_BANDWIDTH, swapLoadTimes } from './swap-cost.js';
import type { OnlinePolicy, PlacementInput, PlacementOptions, PlacementResult, PlacementSchedule } from './types.js';

/**
 * The policy options that apply wherever the policy runs: in a replay, and live in the planner
 * actor (which decides at its rate checks, on traffic synthesised from the observed rates).
 */
export const adaptivePolicySchema = z
  .object({
    loadBandwidth: z.number().finite().positive().optional(),
    minGain: z.number().finite().nonnegative().optional(),
    clearGain: z.number().finite().positive().optional(),
    homeHorizon: z.number().finite().min(1).optional(),
    departureLoads: z.number().finite().min(1).optional(),
  })
  .strict();
export type AdaptivePolicy = z.infer<typeof adaptivePolicySchema>;

/** Adaptive AlpaServe's default window, seconds. */
export const DEFAULT_ADAPTIVE_WINDOW = 60;
/** Default hysteresis: the net predicted gain must exceed this fraction of the window's requests. */
export const DEFAULT_MIN_GAIN = 0.002;

/** Default: a net gain above this fraction of the window's requests is trusted at its first judgement. */
export const DEFAULT_CLEAR_GAIN = 0.02;

/**
 * Windows over which going back to the starting placement is expected to keep its gain. A fit is
 * good only while the traffic stays in the phase it was fitted on; the starting placement, fitted
 * on all traffic, stays as good as it is across phases, so leaving a stale fit pays for longer.
 */
export const DEFAULT_HOME_HORIZON = 5;

/**
 * Weight loads a switch away from the starting placement is charged. A fit lasts only while the
 * traffic stays in its phase; when it moves on, going back costs a load too, so an excursion pays
 * for two (2). Default 1.5: the load out and half the load back (some excursions are left for
 * another fit, not for home).
 */
export const DEFAULT_DEPARTURE_LOADS = 1.5;

/** Windows of past traffic the candidates are fitted on (the last one is also what they are judged on). */
export const DEFAULT_HISTORY = 1;

/** Weight of all older traffic, at its mean rates, in what candidates are fitted on. */
export const DEFAULT_PAST_WEIGHT = 1;

/**
 * The requests of [start, end) (shifted to start at 0) plus every older request, thinned to
 * `weight` × its mean rate and spread over the same span: a forecast that keeps every model seen
 * before in view, so a fit does not drop a model only because the last window missed it.
 */
export function withOlderTraffic(workload: Workload, start: number, end: number, weight: number): Workload {
  const recent = timeWindow(workload, start, end);
  if (!(weight > 0) || start <= 0) return recent;
  const older = timeWindow(workload, 0, start);
  const span = end - start;
  const keep = (weight * span) / start; // fraction of older requests to keep
  const picked: number[] = [];
  let credit = 0;
  for (let i = 0; i < older.arrival.length; i++) {
    credit += keep;
    if (credit >= 1) {
      credit -= 1;
      picked.push(i);
    }
  }
  const n = recent.arrival.length + picked.length;
  const rows = Array.from({ length: n }, (_, j) =>
    j < recent.arrival.length
      ? { t: recent.arrival[j], m: recent.model[j], s: recent.slo[j] }
      : (() => {
          const i = picked[j - recent.arrival.length];
          return { t: (older.arrival[i] / start) * span, m: older.model[i], s: older.slo[i] };
        })(),
  ).sort((a, b) => a.t - b.t);
  return {
    modelNames: workload.modelNames,
    arrival: Float64Array.from(rows, (r) => r.t),
    model: Int32Array.from(rows, (r) => r.m),
    slo: Float64Array.from(rows, (r) => r.s),
    duration: span,
  };
}

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
  /**
   * Predicted good requests the best candidate gains over the current placement, weight loads
   * aside, as the rule counts them: over `homeHorizon` windows for going home, else over one.
   */
  readonly gain: number;
  /**
   * Predicted good requests its weight loads lose (changed groups out of service while loading), as
   * the rule charges them: × `departureLoads` for leaving home. The rule switches on gain − cost.
   */
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
 * What a step carries to the next: the candidates it fitted on its window. The next step judges
 * each fitting procedure by how its fit did on the traffic that came after it (out of sample: a
 * placement fitted on a window always looks good on that same window).
 */
export interface AdaptiveState {
  readonly fits?: ReadonlyMap<string, Placement>;
  /** Each fitting procedure's last judged net gain, as a fraction of its window's requests. */
  readonly record?: ReadonlyMap<string, number>;
  /**
   * Each fitting procedure's edge over the starting placement: good requests its fits served (out
   * of sample, each on the window after the one it was fitted on) minus what the starting
   * placement served on the same windows, recent windows weighing most (EDGE_DECAY).
   */
  readonly edge?: ReadonlyMap<string, number>;
}

/**
 * Per window, how much of a procedure's past edge over the starting placement still counts. Its
 * edge is a sum of its wins within a traffic phase and its losses when the traffic changes under a
 * fit; which side weighs more depends on the load, so the edge must follow the recent past.
 */
export const EDGE_DECAY = 0.9;

/**
 * One decision: keep `current` for the next window, or switch, judged on `observed` (the traffic
 * of the window just past; nothing later) and `state` (from the step before).
 */
export function adaptiveStep(
  current: Placement,
  observed: Workload,
  ctx: AdaptiveContext,
  state: AdaptiveState = {},
  history: Workload = observed,
): AdaptiveDecision & { readonly state: AdaptiveState } {
  const requests = observed.arrival.length;
  const keep = (candidate = 'none', gain = 0, cost = 0, next: AdaptiveState = state) => ({
    replace: false,
    placement: current,
    loading: current.groups.map(() => 0),
    candidate,
    gain,
    cost,
    requests,
    state: next,
  });
  if (requests === 0) return keep();
  const bandwidth = ctx.options.loadBandwidth ?? DEFAULT_LOAD_BANDWIDTH;
  const minGain = ctx.options.minGain ?? DEFAULT_MIN_GAIN;
  const clearGain = ctx.options.clearGain ?? DEFAULT_CLEAR_GAIN;
  const homeHorizon = ctx.options.homeHorizon ?? DEFAULT_HOME_HORIZON;
  const departureLoads = ctx.options.departureLoads ?? DEFAULT_DEPARTURE_LOADS;
  const sim: SimOptions = {
    ...(ctx.sim ?? {}),
    trim: 0,
    records: false,
    groupReady: undefined,
    startClocks: undefined,
    endClocks: undefined,
  };
  const input: PlacementInput = { cluster: ctx.cluster, profiles: ctx.profiles, workload: history, sim };
  // This window's fits, for the next step to judge (and to switch to, if their procedure wins).
  const fits = new Map<string, Placement>([
    ['search', ctx.search(input, { ...ctx.options, beam: 1 }).placement],
    [
      'reselect',
      (() => {
        const sc = new SearchContext(input);
        return sc.toPlacement(solveLayout(sc, [current.groups.map((g) => g.config)], 0, { kind: 'greedy' }).groups);
      })(),
    ],
  ]);
  const record = new Map<string, number>();
  const edge = new Map<string, number>();
  const next: AdaptiveState = { fits, record, edge };
  // Each candidate: what is judged on `observed` (fitted before it), and what is switched to.
  const candidates: { name: string; judged: Placement; target: Placement }[] = [];
  for (const [name, fit] of state.fits ?? []) candidates.push({ name, judged: fit, target: fits.get(name)! });
  if (ctx.home) candidates.push({ name: 'home', judged: ctx.home, target: ctx.home });
  const simulator = new Simulator(ctx.profiles, observed);
  // Both sides are judged as simulateSchedule scores them: the observed window is taken as the next
  // one, and the backlog the current placement left at its end carries into it (a kept group
  // behind its own work, a changed group behind its devices' drain and then its weight load).
  const backlog = new Float64Array(stageCount(current));
  simulator.run(current, { ...sim, endClocks: backlog });
  const end = observed.duration;
  const after = (next: Placement, loading?: readonly number[]) =>
    carriedClocks(current, backlog, next, loading, end).map((t) => t - end);
  const base = simulator.run(current, { ...sim, startClocks: after(current) }).good;
  const homeAlone = ctx.home ? simulator.run(ctx.home, sim).good : 0;
  const atHome = ctx.home !== undefined && sameGroups(alignGroups(current, ctx.home), current);
  let best:
    | { name: string; target: Placement; gain: number; cost: number; value: number; trusted: boolean }
    | undefined;
  for (const c of candidates) {
    // A fitting procedure must also have beaten the starting placement lately (EDGE_DECAY): on
    // large clusters a fit gains little within a phase and loses much when the traffic changes.
    if (c.name !== 'home' && ctx.home) {
      const e = (state.edge?.get(c.name) ?? 0) * EDGE_DECAY + simulator.run(c.judged, sim).good - homeAlone;
      edge.set(c.name, e);
      if (!(e > 0)) continue;
    }
    const judged = alignGroups(current, c.judged);
    if (sameGroups(judged, current)) continue;
    const gross = simulator.run(judged, { ...sim, startClocks: after(judged) }).good;
    const loading = swapLoadTimes(current, judged, ctx.profiles, bandwidth);
    const net = simulator.run(judged, { ...sim, startClocks: after(judged, loading) }).good;
    const home = c.name === 'home';
    // Going home leaves a fit that the traffic has left behind: that gain recurs every window the
    // fit would have been kept, and the weight load is paid once (homeHorizon). Leaving home for a
    // fit may be charged the load back as well (departureLoads).
    const windows = home ? homeHorizon : 1;
    const loads = !home && atHome ? departureLoads : 1;
    const counted = { gain: windows * (gross - base), cost: loads * (gross - net) };
    const now = (counted.gain - counted.cost) / requests;
    // A fitting procedure must have paid off on its last judgement too: one good window can be
    // luck (or a window whose traffic happened to match the one before). Unless its gain is clear.
    if (!home) record.set(c.name, now);
    const before = home ? now : (state.record?.get(c.name) ?? 0);
    const trusted = now > minGain && (before > minGain || now > clearGain);
    if (!best || now > best.value) best = { name: c.name, target: c.target, ...counted, value: now, trusted };
  }
  if (!best) return keep('none', 0, 0, next);
  const { gain, cost } = best;
  const target = alignGroups(current, best.target);
  if (!best.trusted || sameGroups(target, current)) return keep(best.name, gain, cost, next);
  return {
    replace: true,
    placement: target,
    loading: swapLoadTimes(current, target, ctx.profiles, bandwidth),
    candidate: best.name,
    gain,
    cost,
    requests,
    state: next,
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
  onWindow?: (done: number, total: number) => void,
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
  const historyWindows = policy.options.history ?? DEFAULT_HISTORY;
  const pastWeight = policy.options.pastWeight ?? DEFAULT_PAST_WEIGHT;
  let current = start;
  let state: AdaptiveState = {};
  windows.forEach((win, k) => {
    if (k === 0) {
      out.push({ ...win, placement: start });
      decisions.push(undefined);
      onWindow?.(1, windows.length);
      return;
    }
    const past = windows[k - 1];
    const from = Math.max(0, past.end - historyWindows * (past.end - past.start));
    const { state: after, ...d } = adaptiveStep(
      current,
      timeWindow(workload, past.start, past.end),
      ctx,
      state,
      withOlderTraffic(workload, from, past.end, pastWeight),
    );
    state = after;
    current = d.placement;
    out.push(d.replace ? { ...win, placement: current, loading: d.loading } : { ...win, placement: current });
    decisions.push(d);
    onWindow?.(k + 1, windows.length);
  });
  return { schedule: { windows: out, queues: 'carried' }, decisions };
}
