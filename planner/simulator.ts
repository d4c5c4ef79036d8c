// The discrete-event simulator (docs/alpaserve.md, "The reference simulator"; docs/planner.md). One
// pass over the requests in arrival order; each group keeps a clock per stage; a request picks a
// hosting group by the dispatch policy, is rejected on arrival if it cannot finish within its SLO
// (costing nothing), and otherwise moves the chosen group's clocks forward.
//
// Performance notes (why the code looks like this):
// - - A placement is compiled into flat typed arrays (compiled-placement.ts).
// - - One loop per dispatch policy, so each loop is monomorphic; nothing is allocated per request
//   unless per-request records are asked for. Statistics use a fixed-size histogram.
// - - `Simulator` is built once per (profiles, workload) and re-run on many placements (placement
//   search), reusing its buffers.

import { type CompiledPlacement, compilePlacement } from './compiled-placement.js';
import { InflightQueues } from './inflight-queues.js';
import { commitExit, REFERENCE_OVERHEAD, REFERENCE_STAGE_PENALTY, tentativeExit } from './latency-model.js';
import { type Profiles, profileMap } from './profile.js';
import { simResult } from './result.js';
import { Tally } from './tally.js';
import type {
  DispatchPolicy,
  ModelProfile,
  Placement,
  RequestRecords,
  SimOptions,
  SimResult,
  Workload,
} from './types.js';
import { firstAfter, firstAtOrAfter } from './workload/slice.js';

export const DISPATCH_POLICIES: readonly DispatchPolicy[] = ['earliest-finish', 'last-stage-clock', 'fewest-inflight'];

/** The loop's inputs, unpacked once per run. */
interface LoopArgs {
  readonly workload: Workload;
  readonly p: CompiledPlacement;
  readonly clocks: Float64Array;
  readonly overhead: number;
  readonly margin: number;
  readonly tally: Tally;
}

function runLastStageClock({ workload, p, clocks, overhead, margin, tally }: LoopArgs): void {
  const { arrival, model, slo } = workload;
  const { hostStart, hostGroup, hostClockAt, hostPp, hostLastClock, hostStageAt, hostBusy, stages } = p;
  const n = arrival.length;
  for (let i = 0; i < n; i++) {
    const m = model[i];
    const t = arrival[i];
    const first = hostStart[m];
    const end = hostStart[m + 1];
    if (first === end) {
      tally.unhosted(i, m);
      continue;
    }
    let h = first;
    let best = clocks[hostLastClock[first]];
    for (let c = first + 1; c < end; c++) {
      const last = clocks[hostLastClock[c]];
      if (last < best) {
        best = last;
        h = c;
      }
    }
    const at = hostClockAt[h];
    const pp = hostPp[h];
    const so = hostStageAt[h];
    const finish = tentativeExit(clocks, at, stages, so, pp, t) + overhead;
    const deadline = slo[i];
    if (finish + margin - t <= deadline) {
      // biome-ignore lint/complexity/useMathMinMax: the hot loop; a ternary is cheaper than Math.max here
      const start = clocks[at] > t ? clocks[at] : t;
      commitExit(clocks, at, stages, so, pp, t);
      tally.accepted(i, m, hostGroup[h], hostBusy[h], finish - t, finish - t <= deadline, start, finish);
    } else {
      tally.rejected(i, m, hostGroup[h]);
    }
  }
}

/**
 * tentativeExit that also tells (waited[0] = 1) whether any stage made the request wait. Without
 * a wait the exit is the no-wait sum t + Σ stages, the least exit any host with the same stages
 * can give (float addition is monotone), so earliest-finish can stop scanning there.
 */
function exitNoting(
  clocks: Float64Array,
  clockAt: number,
  stages: Float64Array,
  stageAt: number,
  pp: number,
  t: number,
  waited: Uint8Array,
): number {
  let x = t;
  let w = 0;
  for (let k = 0; k < pp; k++) {
    const free = clocks[clockAt + k];
    if (free > x) {
      x = free;
      w = 1;
    }
    x += stages[stageAt + k];
  }
  waited[0] = w;
  return x;
}

function runEarliestFinish({ workload, p, clocks, overhead, margin, tally }: LoopArgs): void {
  const { arrival, model, slo } = workload;
  const { hostStart, hostGroup, hostClockAt, hostPp, hostLastClock, hostStageAt, hostBusy, stages, modelUniform } = p;
  const n = arrival.length;
  const waited = new Uint8Array(1);
  for (let i = 0; i < n; i++) {
    const m = model[i];
    const t = arrival[i];
    const first = hostStart[m];
    const end = hostStart[m + 1];
    if (first === end) {
      tally.unhosted(i, m);
      continue;
    }
    let h = first;
    let best: number;
    // Below, "skip" = the exit is at least the last stage's clock plus its latency: hosts that
    // cannot win are not evaluated.
    if (modelUniform[m] === 1) {
      // Same stages on every host: a host that made the request wait nowhere reached the least
      // exit any of them can give; later hosts can only tie, and ties go to the first.
      best = exitNoting(clocks, hostClockAt[first], stages, hostStageAt[first], hostPp[first], t, waited);
      if (waited[0] === 1) {
        for (let c = first + 1; c < end; c++) {
          if (clocks[hostLastClock[c]] + stages[hostStageAt[c] + hostPp[c] - 1] >= best) continue; // skip
          const exit = exitNoting(clocks, hostClockAt[c], stages, hostStageAt[c], hostPp[c], t, waited);
          if (exit < best) {
            best = exit;
            h = c;
            if ((waited[0] as number) === 0) break;
          }
        }
      }
    } else {
      best = tentativeExit(clocks, hostClockAt[first], stages, hostStageAt[first], hostPp[first], t);
      for (let c = first + 1; c < end; c++) {
        if (clocks[hostLastClock[c]] + stages[hostStageAt[c] + hostPp[c] - 1] >= best) continue; // skip
        const exit = tentativeExit(clocks, hostClockAt[c], stages, hostStageAt[c], hostPp[c], t);
        if (exit < best) {
          best = exit;
          h = c;
        }
      }
    }
    const finish = best + overhead;
    const deadline = slo[i];
    if (finish + margin - t <= deadline) {
      const at = hostClockAt[h];
      // biome-ignore lint/complexity/useMathMinMax: the hot loop; a ternary is cheaper than Math.max here
      const start = clocks[at] > t ? clocks[at] : t;
      commitExit(clocks, at, stages, hostStageAt[h], hostPp[h], t);
      tally.accepted(i, m, hostGroup[h], hostBusy[h], finish - t, finish - t <= deadline, start, finish);
    } else {
      tally.rejected(i, m, hostGroup[h]);
    }
  }
}

function runFewestInflight({ workload, p, clocks, overhead, margin, tally }: LoopArgs): void {
  const { arrival, model, slo } = workload;
  const { hostStart, hostGroup, hostClockAt, hostPp, hostStageAt, hostBusy, stages } = p;
  const queues = new InflightQueues(p.groups);
  const n = arrival.length;
  for (let i = 0; i < n; i++) {
    const m = model[i];
    const t = arrival[i];
    const first = hostStart[m];
    const end = hostStart[m + 1];
    if (first === end) {
      tally.unhosted(i, m);
      continue;
    }
    let h = first;
    let best = queues.inflight(hostGroup[first], t);
    for (let c = first + 1; c < end; c++) {
      const count = queues.inflight(hostGroup[c], t);
      if (count < best) {
        best = count;
        h = c;
      }
    }
    const at = hostClockAt[h];
    const pp = hostPp[h];
    const so = hostStageAt[h];
    const g = hostGroup[h];
    const finish = tentativeExit(clocks, at, stages, so, pp, t) + overhead;
    const deadline = slo[i];
    if (finish + margin - t <= deadline) {
      // biome-ignore lint/complexity/useMathMinMax: the hot loop; a ternary is cheaper than Math.max here
      const start = clocks[at] > t ? clocks[at] : t;
      commitExit(clocks, at, stages, so, pp, t);
      queues.push(g, finish);
      tally.accepted(i, m, g, hostBusy[h], finish - t, finish - t <= deadline, start, finish);
    } else {
      tally.rejected(i, m, g);
    }
  }
}

const LOOPS: Record<DispatchPolicy, (args: LoopArgs) => void> = {
  'earliest-finish': runEarliestFinish,
  'last-stage-clock': runLastStageClock,
  'fewest-inflight': runFewestInflight,
};

/** Checks a workload's shape once, so the hot loops can trust it. */
export function validateWorkload(w: Workload): void {
  const n = w.arrival.length;
  if (w.model.length !== n || w.slo.length !== n)
    throw new Error(`workload columns differ in length: arrival ${n}, model ${w.model.length}, slo ${w.slo.length}`);
  const models = w.modelNames.length;
  let prev = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = w.arrival[i];
    if (!(t >= prev))
      throw new Error(`workload arrivals must be finite and non-decreasing (request ${i}: ${t} after ${prev})`);
    prev = t;
    const m = w.model[i];
    if (m < 0 || m >= models) throw new Error(`workload request ${i}: model index ${m} outside 0..${models - 1}`);
    if (!(w.slo[i] > 0)) throw new Error(`workload request ${i}: SLO must be positive, got ${w.slo[i]}`);
  }
  if (n && !(w.duration >= prev)) throw new Error(`workload duration ${w.duration} is before its last arrival ${prev}`);
}

/**
 * A simulator prepared for one (profiles, workload) pair; `run` simulates any placement on it.
 * Placement search builds one and calls `run` many times: the workload is validated once and the
 * statistics buffers are reused.
 */
export class Simulator {
  readonly profiles: ReadonlyMap<string, ModelProfile>;
  private readonly modelIndex: ReadonlyMap<string, number>;
  private readonly tally: Tally;

  constructor(
    profiles: Profiles,
    readonly workload: Workload,
  ) {
    validateWorkload(workload);
    this.profiles = profileMap(profiles);
    this.modelIndex = new Map(workload.modelNames.map((name, i) => [name, i]));
    this.tally = new Tally(workload.modelNames.length);
  }

  run(placement: Placement, options: SimOptions = {}): SimResult {
    const policy = options.policy ?? 'earliest-finish';
    const loop = LOOPS[policy];
    if (!loop) throw new Error(`unknown dispatch policy "${policy}"; known: ${DISPATCH_POLICIES.join(', ')}`);
    const stagePenalty = options.stagePenalty ?? REFERENCE_STAGE_PENALTY;
    const overhead = options.overhead ?? REFERENCE_OVERHEAD;
    const margin = options.admissionMargin ?? 0;
    const trim = options.trim ?? 0;
    const w = this.workload;
    const n = w.arrival.length;
    const p = compilePlacement(placement, this.profiles, this.modelIndex, w.modelNames.length, stagePenalty);
    const from = trim > 0 ? firstAtOrAfter(w.arrival, trim) : 0;
    const to = trim > 0 ? firstAfter(w.arrival, w.duration - trim) : n;
    const records: RequestRecords | undefined = options.records
      ? { group: new Int32Array(n), start: new Float64Array(n), finish: new Float64Array(n), good: new Uint8Array(n) }
      : undefined;
    const tally = this.tally;
    tally.reset(p.groups, from, Math.max(from, to), records);
    loop({ workload: w, p, clocks: new Float64Array(p.clockCount), overhead, margin, tally });
    return this.summarise(p, tally, Math.max(0, w.duration - 2 * trim));
  }

  private summarise(p: CompiledPlacement, tally: Tally, window: number): SimResult {
    const duration = this.workload.duration;
    const counts = {
      modelNames: this.workload.modelNames,
      requests: tally.modelRequests,
      good: tally.modelGood,
      rejected: tally.modelRejected,
      unplaced: tally.unplaced,
    };
    const groups = {
      utilisation: Array.from({ length: p.groups }, (_, g) =>
        duration > 0 ? tally.groupBusy[g] / (p.groupPp[g] * duration) : NaN,
      ),
      routed: Array.from(tally.groupRouted),
      served: Array.from(tally.groupServed),
    };
    const result = simResult(counts, tally.hist, groups, window);
    return tally.records ? { ...result, records: tally.records } : result;
  }
}

/** Simulates one placement (convenience over `new Simulator(profiles, workload).run(placement, options)`). */
export function simulate(
  placement: Placement,
  profiles: Profiles,
  workload: Workload,
  options: SimOptions = {},
): SimResult {
  return new Simulator(profiles, workload).run(placement, options);
}
