// The discrete-event simulator (docs/alpaserve.md, "The reference simulator"; docs/planner.md). One
// pass over the requests in arrival order; each group keeps a clock per stage; a request picks a
// hosting group by the dispatch policy, is rejected on arrival if it cannot finish within its SLO
// (costing nothing), and otherwise moves the chosen group's clocks forward.
//
// Two engines run the same loops (docs/planner.md, "Simulator engines"): a WebAssembly kernel
// (kernel/), the default and the fast one, and the JS loops (simulator-loops.ts), the reference it
// is tested against. A placement is compiled into flat typed arrays first (compiled-placement.ts);
// `Simulator` is built once per (profiles, workload) and re-run on many placements (placement
// search), reusing its buffers; nothing is allocated per request.

import { type CompiledPlacement, checkLength, compilePlacement, startClocks } from './compiled-placement.js';
import { WasmSimulator } from './kernel/wasm-simulator.js';
import { REFERENCE_OVERHEAD, REFERENCE_STAGE_PENALTY } from './latency-model.js';
import { type Profiles, profileMap } from './profile.js';
import { simResult } from './result.js';
import { LOOPS } from './simulator-loops.js';
import { Tally } from './tally.js';
import type {
  DispatchPolicy,
  ModelProfile,
  Placement,
  RequestRecords,
  SimEngine,
  SimOptions,
  SimResult,
  Workload,
} from './types.js';
import { firstAfter, firstAtOrAfter } from './workload/slice.js';

export const DISPATCH_POLICIES: readonly DispatchPolicy[] = ['earliest-finish', 'last-stage-clock', 'fewest-inflight'];
export const SIM_ENGINES: readonly SimEngine[] = ['wasm', 'js'];

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
  /** The kernel's instance, holding a copy of the workload; made on the first run that uses it. */
  private kernel: WasmSimulator | undefined;
  private readonly windowRequests = new Map<string, Float64Array>();

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
    const engine = options.engine ?? 'wasm';
    if (!SIM_ENGINES.includes(engine))
      throw new Error(`unknown simulator engine "${engine}"; known: ${SIM_ENGINES.join(', ')}`);
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
    tally.reset(p.hostGroup.length, from, Math.max(from, to), records);
    if (options.endClocks) checkLength('endClocks', options.endClocks, p.clockCount, 'slots', 'stages');
    const clocks = new Float64Array(p.clockCount);
    startClocks(p, options.groupReady, clocks, options.startClocks);
    const ran = engine === 'wasm' && this.wasm()?.run(policy, p, overhead, margin, tally, clocks);
    if (!ran) loop({ workload: w, p, clocks, overhead, margin, tally });
    options.endClocks?.set(clocks);
    return this.summarise(p, tally, this.requestsPerModel(tally.from, tally.to), Math.max(0, w.duration - 2 * trim));
  }

  /** The kernel for this workload, or undefined where it cannot run it (then the JS loops do). */
  private wasm(): WasmSimulator | undefined {
    if (!this.kernel && WasmSimulator.accepts(this.workload)) this.kernel = new WasmSimulator(this.workload);
    return this.kernel;
  }

  /** Requests per model with index in [from, to): a property of the workload, kept per window. */
  private requestsPerModel(from: number, to: number): Float64Array {
    const key = `${from}:${to}`;
    let counts = this.windowRequests.get(key);
    if (!counts) {
      counts = new Float64Array(this.workload.modelNames.length);
      for (let i = from; i < to; i++) counts[this.workload.model[i]]++;
      this.windowRequests.set(key, counts);
    }
    return counts;
  }

  private summarise(p: CompiledPlacement, tally: Tally, requests: Float64Array, window: number): SimResult {
    const duration = this.workload.duration;
    const counts = {
      modelNames: this.workload.modelNames,
      requests,
      good: tally.modelGood,
      rejected: tally.modelRejected,
      unplaced: tally.unplaced,
    };
    // Per-group figures from the per-host counts: served, routed, and busy device time.
    const routed = new Array<number>(p.groups).fill(0);
    const served = new Array<number>(p.groups).fill(0);
    const busy = new Array<number>(p.groups).fill(0);
    for (let h = 0; h < p.hostGroup.length; h++) {
      const g = p.hostGroup[h];
      served[g] += tally.hostServed[h];
      routed[g] += tally.hostServed[h] + tally.hostRejected[h];
      busy[g] += tally.hostServed[h] * p.hostBusy[h];
    }
    const groups = {
      utilisation: busy.map((b, g) => (duration > 0 ? b / (p.groupPp[g] * duration) : NaN)),
      routed,
      served,
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
