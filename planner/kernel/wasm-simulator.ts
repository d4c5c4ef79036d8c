// The host side of the simulator's WebAssembly kernel (assembly/simulate.ts): one instance per
// Simulator, its memory holding the workload (copied once) and, per run, the compiled placement,
// the clocks and the counters, which are copied back into the run's Tally afterwards.
//
// Memory: [static data | header | arrival f64 | slo f64 | model i32 | per-run region]. The per-run
// region is laid out afresh each run and memory only grows, so a search that re-runs many
// placements allocates nothing after its first runs.
import type { CompiledPlacement } from '../compiled-placement.js';
import { HISTOGRAM_LAYOUT } from '../stats.js';
import type { Tally } from '../tally.js';
import type { DispatchPolicy, Workload } from '../types.js';
import { KERNEL_WASM_BASE64 } from './kernel-bytes.js';

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  simulate(policy: number, header: number): number;
  dataStart(): number;
  readonly [constant: string]: unknown;
}

let compiled: WebAssembly.Module | undefined;

/** The kernel, compiled once per thread on first use. */
function kernelModule(): WebAssembly.Module {
  if (!compiled) compiled = new WebAssembly.Module(Uint8Array.from(atob(KERNEL_WASM_BASE64), (c) => c.charCodeAt(0)));
  return compiled;
}

const PAGE = 65536;
const align = (x: number, to = 16): number => Math.ceil(x / to) * to;

/** A layout cursor: hands out aligned byte ranges one after another. */
class Cursor {
  constructor(public at: number) {}
  take(bytes: number): number {
    const at = this.at;
    this.at = align(at + bytes);
    return at;
  }
}

/** The kernel's exported layout constants (assembly/simulate.ts defines their values). */
const LAYOUT_NAMES = [
  'N',
  'FROM',
  'TO',
  'ARRIVAL',
  'MODEL',
  'SLO',
  'MODELS',
  'HIST_COUNTS',
  'STATS',
  'HIST_SHIFT',
  'HIST_BASE',
  'HIST_BUCKETS',
  'REC_GROUP',
  'REC_START',
  'REC_FINISH',
  'REC_GOOD',
  'FI_RING_BITS',
  'SAVED',
  'OVERHEAD_AT',
  'HEADER_BYTES',
  'MODEL_FIRST_HOST',
  'MODEL_END_HOST',
  'MODEL_GOOD',
  'MODEL_REJECTED',
  'MODEL_RECORD_BYTES',
  'HOST_CLOCKS',
  'HOST_LAST_CLOCK',
  'HOST_STAGES',
  'HOST_LAST_STAGE',
  'HOST_PP',
  'HOST_GROUP',
  'HOST_SERVED',
  'HOST_REJECTED',
  'HOST_RECORD_BYTES',
  'FI_RING',
  'HOST_FI',
  'DONE',
  'POLICY_EARLIEST_FINISH',
  'POLICY_LAST_STAGE_CLOCK',
  'POLICY_FEWEST_INFLIGHT',
] as const;
type Layout = Record<(typeof LAYOUT_NAMES)[number], number>;

function layoutOf(kernel: KernelExports): Layout {
  const layout = {} as Layout;
  for (const name of LAYOUT_NAMES) {
    const g = kernel[name];
    if (!(g instanceof WebAssembly.Global)) throw new Error(`simulator kernel: no constant ${name}`);
    layout[name] = Number(g.value);
  }
  return layout;
}

export class WasmSimulator {
  private readonly kernel: KernelExports;
  private readonly layout: Layout;
  private readonly policies: Record<DispatchPolicy, number>;
  private readonly header: number;
  private readonly runBase: number;
  private readonly n: number;
  /** log2 of each fewest-inflight ring's capacity; grows when a run overflows one, and stays. */
  private ringBits = 6;

  /**
   * Whether the kernel may run this workload: it compares times as integer bit patterns, which
   * orders them correctly only when none is negative (arrivals are non-decreasing: the first says).
   */
  static accepts(workload: Workload): boolean {
    const first = workload.arrival.length ? workload.arrival[0] : 0;
    return first >= 0 && !Object.is(first, -0);
  }

  constructor(workload: Workload) {
    const instance = new WebAssembly.Instance(kernelModule(), { env: { abort: kernelAbort } });
    this.kernel = instance.exports as unknown as KernelExports;
    const k = layoutOf(this.kernel);
    this.layout = k;
    this.policies = {
      'earliest-finish': k.POLICY_EARLIEST_FINISH,
      'last-stage-clock': k.POLICY_LAST_STAGE_CLOCK,
      'fewest-inflight': k.POLICY_FEWEST_INFLIGHT,
    };
    const n = workload.arrival.length;
    this.n = n;
    const cursor = new Cursor(align(this.kernel.dataStart()));
    this.header = cursor.take(k.HEADER_BYTES);
    const arrival = cursor.take(8 * n);
    const slo = cursor.take(8 * n);
    const model = cursor.take(4 * n);
    this.runBase = cursor.at;
    this.reserve(this.runBase);
    new Float64Array(this.buffer, arrival, n).set(workload.arrival);
    new Float64Array(this.buffer, slo, n).set(workload.slo);
    new Int32Array(this.buffer, model, n).set(workload.model);
    const header = new Int32Array(this.buffer, this.header, k.HEADER_BYTES >> 2);
    header[k.N] = n;
    header[k.ARRIVAL] = arrival;
    header[k.SLO] = slo;
    header[k.MODEL] = model;
  }

  /**
   * Runs `policy` on placement `p` and leaves the outcome in `tally` (reset by the caller), as the
   * JS loops would. Returns false, having done nothing, when the kernel cannot run this placement
   * (a stage latency that is negative or not finite; for fewest-inflight, a negative overhead).
   * `clocks`: the stage clocks to start from.
   */
  run(
    policy: DispatchPolicy,
    p: CompiledPlacement,
    overhead: number,
    margin: number,
    tally: Tally,
    clocks: Float64Array,
  ): boolean {
    for (const s of p.stages) if (!(s >= 0 && s < Infinity)) return false;
    // fewest-inflight compares finish times as integers too, so they must not be negative.
    if (policy === 'fewest-inflight' && !(overhead >= 0)) return false;
    for (;;) {
      const at = this.prepare(policy, p, overhead, margin, tally, clocks);
      if (this.kernel.simulate(this.policies[policy], this.header) === this.layout.DONE) {
        this.collect(at, p, tally);
        clocks.set(new Float64Array(this.buffer, at.CLOCKS, p.clockCount)); // where the run left them
        return true;
      }
      this.ringBits++; // a fewest-inflight ring overflowed: run again with larger ones
    }
  }

  /** Lays out the run's region and fills the header; returns where each array is. */
  private prepare(
    policy: DispatchPolicy,
    p: CompiledPlacement,
    overhead: number,
    margin: number,
    tally: Tally,
    clocks: Float64Array,
  ) {
    const n = this.n;
    const models = tally.modelGood.length;
    const hosts = p.hostGroup.length;
    const { shift, base, buckets } = HISTOGRAM_LAYOUT;
    const records = tally.records;
    const fewest = policy === 'fewest-inflight';
    const k = this.layout;
    const fiBytes = k.FI_RING + 8 * 2 ** this.ringBits; // one group's record, its ring included
    const c = new Cursor(this.runBase);
    const at = {
      MODELS: c.take(k.MODEL_RECORD_BYTES * models),
      HOSTS: c.take(k.HOST_RECORD_BYTES * hosts),
      STAGES: c.take(8 * p.stages.length),
      // From here to STATS the kernel reads before it writes: zeroed.
      CLOCKS: c.take(8 * p.clockCount),
      HIST_COUNTS: c.take(4 * buckets),
      STATS: c.take(8 * 5),
      SAVED: c.take(8 * Math.max(1, ...p.groupPp)),
      REC_GROUP: records ? c.take(4 * n) : 0,
      REC_START: records ? c.take(8 * n) : 0,
      REC_FINISH: records ? c.take(8 * n) : 0,
      REC_GOOD: records ? c.take(n) : 0,
      FI_GROUPS: fewest ? c.take(fiBytes * p.groups) : 0,
    };
    this.reserve(c.at);
    const buffer = this.buffer;
    // Model and host records: addresses precomputed, counters zero.
    const modelWords = k.MODEL_RECORD_BYTES >> 2;
    const modelRecords = new Int32Array(buffer, at.MODELS, modelWords * models).fill(0);
    for (let m = 0; m < models; m++) {
      modelRecords[m * modelWords + (k.MODEL_FIRST_HOST >> 2)] = at.HOSTS + k.HOST_RECORD_BYTES * p.hostStart[m];
      modelRecords[m * modelWords + (k.MODEL_END_HOST >> 2)] = at.HOSTS + k.HOST_RECORD_BYTES * p.hostStart[m + 1];
    }
    const hostWords = k.HOST_RECORD_BYTES >> 2;
    const hostRecords = new Int32Array(buffer, at.HOSTS, hostWords * hosts).fill(0);
    for (let h = 0; h < hosts; h++) {
      const r = h * hostWords;
      const pp = p.hostPp[h];
      hostRecords[r + (k.HOST_CLOCKS >> 2)] = at.CLOCKS + 8 * p.hostClockAt[h];
      hostRecords[r + (k.HOST_LAST_CLOCK >> 2)] = at.CLOCKS + 8 * p.hostLastClock[h];
      hostRecords[r + (k.HOST_STAGES >> 2)] = at.STAGES + 8 * p.hostStageAt[h];
      hostRecords[r + (k.HOST_LAST_STAGE >> 2)] = at.STAGES + 8 * (p.hostStageAt[h] + pp - 1);
      hostRecords[r + (k.HOST_PP >> 2)] = pp;
      hostRecords[r + (k.HOST_GROUP >> 2)] = p.hostGroup[h];
      hostRecords[r + (k.HOST_FI >> 2)] = fewest ? at.FI_GROUPS + fiBytes * p.hostGroup[h] : 0;
    }
    new Float64Array(buffer, at.STAGES, p.stages.length).set(p.stages);
    new Uint8Array(buffer, at.CLOCKS, at.STATS - at.CLOCKS).fill(0);
    new Float64Array(buffer, at.CLOCKS, p.clockCount).set(clocks);
    if (fewest) {
      // Group records: every ring slot NaN, the kernel's mark of a free slot; then head and tail 0
      // (no unfinished request).
      new Float64Array(buffer, at.FI_GROUPS, (fiBytes / 8) * p.groups).fill(Number.NaN);
      const ends = new Int32Array(buffer, at.FI_GROUPS, (fiBytes / 4) * p.groups);
      for (let g = 0; g < p.groups; g++) ends.fill(0, (g * fiBytes) / 4, (g * fiBytes) / 4 + 2);
    }
    const header = new Int32Array(buffer, this.header, k.HEADER_BYTES >> 2);
    header[k.FROM] = tally.from;
    header[k.TO] = tally.to;
    header[k.HIST_SHIFT] = shift;
    header[k.HIST_BASE] = base;
    header[k.HIST_BUCKETS] = buckets;
    header[k.FI_RING_BITS] = this.ringBits;
    const addresses = [
      'MODELS',
      'HIST_COUNTS',
      'STATS',
      'SAVED',
      'REC_GROUP',
      'REC_START',
      'REC_FINISH',
      'REC_GOOD',
    ] as const;
    for (const name of addresses) header[k[name]] = at[name];
    const scalars = new Float64Array(buffer, this.header + k.OVERHEAD_AT, 2);
    scalars[0] = overhead;
    scalars[1] = margin;
    return at;
  }

  /** Copies the kernel's counters (and records) into the run's Tally. */
  private collect(at: ReturnType<WasmSimulator['prepare']>, p: CompiledPlacement, tally: Tally): void {
    const k = this.layout;
    const buffer = this.buffer;
    const models = tally.modelGood.length;
    const modelWords = k.MODEL_RECORD_BYTES >> 2;
    const modelRecords = new Int32Array(buffer, at.MODELS, modelWords * models);
    for (let m = 0; m < models; m++) {
      tally.modelGood[m] = modelRecords[m * modelWords + (k.MODEL_GOOD >> 2)];
      tally.modelRejected[m] = modelRecords[m * modelWords + (k.MODEL_REJECTED >> 2)];
    }
    const hosts = p.hostGroup.length;
    const hostWords = k.HOST_RECORD_BYTES >> 2;
    const hostRecords = new Int32Array(buffer, at.HOSTS, hostWords * hosts);
    for (let h = 0; h < hosts; h++) {
      tally.hostServed[h] = hostRecords[h * hostWords + (k.HOST_SERVED >> 2)];
      tally.hostRejected[h] = hostRecords[h * hostWords + (k.HOST_REJECTED >> 2)];
    }
    const [count, sum, min, max, unplaced] = new Float64Array(buffer, at.STATS, 5);
    tally.hist.restore(new Int32Array(buffer, at.HIST_COUNTS, HISTOGRAM_LAYOUT.buckets), count, sum, min, max);
    tally.unplaced = unplaced;
    const records = tally.records;
    if (records) {
      const n = this.n;
      records.group.set(new Int32Array(buffer, at.REC_GROUP, n));
      records.start.set(new Float64Array(buffer, at.REC_START, n));
      records.finish.set(new Float64Array(buffer, at.REC_FINISH, n));
      records.good.set(new Uint8Array(buffer, at.REC_GOOD, n));
    }
  }

  private get buffer(): ArrayBuffer {
    return this.kernel.memory.buffer;
  }

  private reserve(bytes: number): void {
    const have = this.kernel.memory.buffer.byteLength;
    if (bytes > have) this.kernel.memory.grow(Math.ceil((bytes - have) / PAGE));
  }
}

function kernelAbort(): never {
  throw new Error('simulator kernel aborted');
}
