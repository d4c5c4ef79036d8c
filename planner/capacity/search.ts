// The capacity search of `meshserve plan`: for each system, the fewest devices whose placement,
// fitted on the first part of the traffic, reaches the target attainment on the held-out rest;
// the attainment curve around that count; and the inverse question at a given count: how much
// more rate or burstiness the placement takes before it falls under the target.
//
// Device counts are searched by galloping from the smallest then bisection (attainment is taken
// to rise with devices; the curve around the answer is evaluated to show where it does not), or
// by a sweep of every count.
// An oracle (Clockwork++) is placed on the held-out traffic itself: it sees the future by design.
import {
  evaluatePlacement,
  evaluateResult,
  type OnlineSummary,
  type PlacementResult,
  type SearchProgress,
} from '../placement/index.js';
import type { TrafficScale } from '../scenario.js';
import type { SimResult, Workload } from '../types.js';
import { timeWindow } from '../workload/slice.js';
import type { Plan, PlanSystem } from './plan-file.js';

/** One device count tried: the placement fitted there and its attainment on the held-out traffic. */
export interface PlanPoint {
  readonly devices: number;
  readonly attainment: number;
  readonly result: PlacementResult;
  readonly scored: SimResult;
  /** An online policy (adaptive): how often it switched on the held-out traffic. */
  readonly online?: OnlineSummary;
}

export interface SystemPlan {
  readonly name: string;
  readonly oracle: boolean;
  /** The fewest devices reaching the target, or null when no count in the range does. */
  readonly devices: number | null;
  /** The point chosen: at `devices`, else the best attainment reached. */
  readonly chosen: PlanPoint;
  /** Every count evaluated, ascending. */
  readonly curve: readonly PlanPoint[];
}

/** How far the traffic can grow before a placement falls under the target (multipliers; 1 = not at all). */
export interface Headroom {
  /** The largest rate multiplier still at or above the target (≥ `limit` means at least that). */
  readonly rate: number;
  /** The same for the CV of the gaps; undefined for a recorded trace (no CV to scale). */
  readonly cv?: number;
  /** The largest multiplier tried. */
  readonly limit: number;
}

export interface AtDevices {
  readonly name: string;
  readonly point: PlanPoint;
  /** Undefined for an oracle: it is placed on the traffic itself, so more traffic is another placement. */
  readonly headroom?: Headroom;
}

export interface PlanOutcome {
  /** Requests and seconds of the fitting and the held-out parts. */
  readonly split: { readonly train: Workload; readonly test: Workload };
  readonly systems: readonly SystemPlan[];
  readonly at?: readonly AtDevices[];
}

export interface PlanEvents {
  /** A count was evaluated. */
  point?(system: string, point: PlanPoint, evaluated: number): void;
  /** Progress inside one placement search. */
  search?(system: string, devices: number, p: SearchProgress): void;
  /** Progress of an online policy's replay on the held-out traffic (a search per window). */
  replay?(system: string, devices: number, done: number, total: number): void;
}

/** The traffic cut in time: fitted on the first (1 − holdOut), scored on the rest. */
export function splitTraffic(w: Workload, holdOut: number): { train: Workload; test: Workload } {
  const cut = w.duration * (1 - holdOut);
  const train = timeWindow(w, 0, cut);
  const test = timeWindow(w, cut, w.duration);
  if (!train.arrival.length || !test.arrival.length)
    throw new Error(
      `traffic: ${train.arrival.length} requests to fit on and ${test.arrival.length} held out; both parts need requests (change "holdOut" or the traffic)`,
    );
  return { train, test };
}

const attainmentOf = (r: SimResult) => (Number.isFinite(r.attainment) ? r.attainment : 0);

/** Evaluates device counts for one system, each once. */
class SystemEvaluator {
  private readonly points = new Map<number, PlanPoint>();

  constructor(
    private readonly plan: Plan,
    private readonly system: PlanSystem,
    private readonly split: { train: Workload; test: Workload },
    private readonly events: PlanEvents,
  ) {}

  async at(devices: number): Promise<PlanPoint> {
    const known = this.points.get(devices);
    if (known) return known;
    const { plan, system, split } = this;
    const result = await system.algorithm.place(
      {
        cluster: { devices, memoryPerDevice: plan.memoryPerDevice },
        profiles: plan.profiles,
        workload: system.algorithm.oracle ? split.test : split.train,
        sim: plan.sim,
      },
      {
        ...plan.online,
        ...(plan.workers ? { workers: plan.workers } : {}),
        // The fast greedy for every system that searches (adaptive's starting placement too).
        ...(plan.greedy ? { beam: 1 } : {}),
        onProgress: (p) => this.events.search?.(system.name, devices, p),
      },
    );
    const { sim: scored, online } = evaluateResult(result, plan.profiles, split.test, plan.sim, (done, total) =>
      this.events.replay?.(system.name, devices, done, total),
    );
    const point = { devices, attainment: attainmentOf(scored), result, scored, ...(online ? { online } : {}) };
    this.points.set(devices, point);
    this.events.point?.(system.name, point, this.points.size);
    return point;
  }

  curve(): PlanPoint[] {
    return [...this.points.values()].sort((a, b) => a.devices - b.devices);
  }
}

/** Counts either side of the answer also evaluated, so the curve shows the neighbourhood. */
const AROUND = 2;

async function planSystem(plan: Plan, system: PlanSystem, ev: SystemEvaluator): Promise<SystemPlan> {
  const c = plan.candidates;
  const reaches = async (i: number) => (await ev.at(c[i])).attainment >= plan.target;
  let around = c.length - 1;
  if (plan.search === 'sweep') for (const n of c) await ev.at(n);
  else {
    // Galloping from the smallest count (the cheap ones first: a search's cost grows with the
    // devices), the index doubling until one reaches the target; then bisection below it.
    let lo = -1;
    let hi = 0;
    let reached = true;
    while (!(await reaches(hi))) {
      if (hi === c.length - 1) {
        reached = false;
        break;
      }
      lo = hi;
      hi = Math.min(c.length - 1, 2 * hi + 1);
    }
    if (reached) {
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (await reaches(mid)) hi = mid;
        else lo = mid;
      }
      around = hi;
    }
  }
  for (let i = Math.max(0, around - AROUND); i <= Math.min(c.length - 1, around + AROUND); i++) await ev.at(c[i]);
  const curve = ev.curve();
  const reached = curve.find((p) => p.attainment >= plan.target);
  const best = curve.reduce((a, b) => (b.attainment > a.attainment ? b : a));
  return {
    name: system.name,
    oracle: Boolean(system.algorithm.oracle),
    devices: reached ? reached.devices : null,
    chosen: reached ?? best,
    curve,
  };
}

/** The largest multiplier in [1, limit] at which `ok` holds (taken to fail beyond its first failure). */
function largestScale(ok: (k: number) => boolean, limit: number): number {
  if (!ok(1)) return 1;
  let good = 1;
  let bad = Number.NaN;
  for (let k = 1.25; k <= limit; k *= 1.25) {
    if (ok(k)) good = k;
    else {
      bad = k;
      break;
    }
  }
  if (Number.isNaN(bad)) return good;
  for (let step = 0; step < 6; step++) {
    const mid = (good + bad) / 2;
    if (ok(mid)) good = mid;
    else bad = mid;
  }
  return good;
}

/** Largest rate (and CV) multiplier of the held-out traffic a fitted placement still serves at the target. */
export function headroom(plan: Plan, point: PlanPoint, limit = 16): Headroom {
  const scoredAt = (scale: TrafficScale) => {
    const { test } = splitTraffic(plan.trafficAt(scale), plan.holdOut);
    return attainmentOf(evaluatePlacement(point.result, plan.profiles, test, plan.sim)) >= plan.target;
  };
  if (point.attainment < plan.target) return { rate: 1, ...(plan.cvScalable ? { cv: 1 } : {}), limit };
  const rate = largestScale((k) => k === 1 || scoredAt({ rate: k, cv: 1 }), limit);
  const cv = plan.cvScalable ? largestScale((k) => k === 1 || scoredAt({ rate: 1, cv: k }), limit) : undefined;
  return { rate, ...(cv === undefined ? {} : { cv }), limit };
}

/** Runs the plan: every system's device search, and the inverse question at `atDevices` if given. */
export async function runPlan(plan: Plan, events: PlanEvents = {}, atDevices?: number): Promise<PlanOutcome> {
  const split = splitTraffic(plan.trafficAt(), plan.holdOut);
  const evaluators = plan.systems.map((s) => new SystemEvaluator(plan, s, split, events));
  const systems: SystemPlan[] = [];
  for (const [i, s] of plan.systems.entries()) systems.push(await planSystem(plan, s, evaluators[i]));
  if (atDevices === undefined) return { split, systems };
  const at: AtDevices[] = [];
  for (const [i, s] of plan.systems.entries()) {
    const point = await evaluators[i].at(atDevices);
    at.push({ name: s.name, point, ...(s.algorithm.oracle ? {} : { headroom: headroom(plan, point) }) });
  }
  return { split, systems, at };
}
