// The simulator's hot loops in JavaScript, one per dispatch policy: the reference implementation.
// The WebAssembly kernel (planner/kernel/) must agree with these bit for bit; the simulator runs
// these where the kernel cannot (docs/planner.md, "Simulator engines"), and tests compare the two.
//
// Performance notes: each loop is monomorphic and allocates nothing per request; a placement is
// compiled into flat typed arrays first (compiled-placement.ts).

import type { CompiledPlacement } from './compiled-placement.js';
import { InflightQueues } from './inflight-queues.js';
import { commitExit, tentativeExit } from './latency-model.js';
import type { Tally } from './tally.js';
import type { DispatchPolicy, Workload } from './types.js';

/** The loop's inputs, unpacked once per run. */
export interface LoopArgs {
  readonly workload: Workload;
  readonly p: CompiledPlacement;
  readonly clocks: Float64Array;
  readonly overhead: number;
  readonly margin: number;
  readonly tally: Tally;
}

function runLastStageClock({ workload, p, clocks, overhead, margin, tally }: LoopArgs): void {
  const { arrival, model, slo } = workload;
  const { hostStart, hostGroup, hostClockAt, hostPp, hostLastClock, hostStageAt, stages } = p;
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
      tally.accepted(i, m, h, hostGroup[h], finish - t, finish - t <= deadline, start, finish);
    } else {
      tally.rejected(i, m, h, hostGroup[h]);
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
  const { hostStart, hostGroup, hostClockAt, hostPp, hostLastClock, hostStageAt, stages, modelUniform } = p;
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
      tally.accepted(i, m, h, hostGroup[h], finish - t, finish - t <= deadline, start, finish);
    } else {
      tally.rejected(i, m, h, hostGroup[h]);
    }
  }
}

function runFewestInflight({ workload, p, clocks, overhead, margin, tally }: LoopArgs): void {
  const { arrival, model, slo } = workload;
  const { hostStart, hostGroup, hostClockAt, hostPp, hostStageAt, stages } = p;
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
      tally.accepted(i, m, h, g, finish - t, finish - t <= deadline, start, finish);
    } else {
      tally.rejected(i, m, h, g);
    }
  }
}

export const LOOPS: Record<DispatchPolicy, (args: LoopArgs) => void> = {
  'earliest-finish': runEarliestFinish,
  'last-stage-clock': runLastStageClock,
  'fewest-inflight': runFewestInflight,
};
