// The discrete-event simulator (facts §2). One pass over the requests in arrival order; each
// group keeps a clock per stage; a request picks a hosting group by the dispatch policy, is
// rejected on arrival if it cannot finish within its SLO (costing nothing), and otherwise moves
// the chosen group's clocks forward.
//
// Performance notes (why the code looks like this):
// - A placement is compiled into flat typed arrays indexed by "host" h = one (model, group) pair:
//   the group, its clock offset, its depth and the offset of its penalised stage latencies.
//   Hosts of model m are hostStart[m] .. hostStart[m+1], in placement (group) order.
// - One loop per dispatch policy, so each loop is monomorphic; nothing is allocated per request
//   unless per-request records are asked for. Statistics use a fixed-size histogram.
// - `Simulator` is built once per (profiles, workload) and re-run on many placements (placement
//   search), reusing its buffers.
import { commitExit, REFERENCE_OVERHEAD, REFERENCE_STAGE_PENALTY, tentativeExit } from './latency-model.js';
import { configProfile, profileMap, type Profiles } from './profile.js';
import { LatencyHistogram } from './stats.js';
import type { DispatchPolicy, ModelProfile, ModelResult, Placement, RequestRecords, SimOptions, SimResult, Workload } from './types.js';

/** A placement compiled against one workload's model indices. */
interface CompiledPlacement {
  readonly groups: number;
  readonly groupPp: Int32Array;
  readonly clockCount: number;
  readonly hostStart: Int32Array;
  readonly hostGroup: Int32Array;
  readonly hostClockAt: Int32Array;
  readonly hostPp: Int32Array;
  /** Index of the host group's last-stage clock. */
  readonly hostLastClock: Int32Array;
  readonly hostStageAt: Int32Array;
  /** Σ penalised stage latencies of each host: the device-time one request occupies per stage row. */
  readonly hostBusy: Float64Array;
  readonly stages: Float64Array;
  /**
   * 1 when model m has at least UNIFORM_SCAN_MIN_HOSTS hosts, all with the same stage latencies
   * (one config, as in most layouts): no host can exit before a request's no-wait exit, and the
   * first host reaching it wins, so earliest-finish may stop scanning there.
   */
  readonly modelUniform: Uint8Array;
}

/**
 * The early stop pays off only with many hosts per model (placement search: ~13 here); with few,
 * tracking waits costs more than the scan it saves (measured: -8% on `bench simulator`, 4 hosts).
 * Either path picks the same host.
 */
const UNIFORM_SCAN_MIN_HOSTS = 6;

export const DISPATCH_POLICIES: readonly DispatchPolicy[] = ['earliest-finish', 'last-stage-clock', 'fewest-inflight'];

/** Compiles a placement into the flat arrays the hot loops use; throws on an invalid placement. */
function compilePlacement(
  placement: Placement,
  profiles: ReadonlyMap<string, ModelProfile>,
  modelIndex: ReadonlyMap<string, number>,
  models: number,
  stagePenalty: number,
): CompiledPlacement {
  const groups = placement.groups.length;
  const groupPp = new Int32Array(groups);
  const groupClockAt = new Int32Array(groups);
  let clockCount = 0;
  const hostsOf: { group: number; stages: Float64Array }[][] = Array.from({ length: models }, () => []);
  placement.groups.forEach((g, gi) => {
    const { pp, op } = g.config;
    if (!Number.isInteger(pp) || !Number.isInteger(op) || pp < 1 || op < 1) throw new Error(`group ${gi}: invalid config pp ${pp}, op ${op}`);
    if (g.devices !== pp * op) throw new Error(`group ${gi}: ${g.devices} devices but config pp ${pp} × op ${op} needs ${pp * op}`);
    groupPp[gi] = pp;
    groupClockAt[gi] = clockCount;
    clockCount += pp;
    const seen = new Set<string>();
    for (const name of g.models) {
      if (seen.has(name)) throw new Error(`group ${gi}: model "${name}" listed twice`);
      seen.add(name);
      const profile = profiles.get(name);
      if (!profile) throw new Error(`group ${gi}: no profile for model "${name}"`);
      const cp = configProfile(profile, g.config);
      if (!cp) throw new Error(`group ${gi}: model "${name}" has no profile for pp ${pp}, op ${op}`);
      if (cp.stageLatency.length !== pp) throw new Error(`model "${name}": config pp${pp}-op${op} has ${cp.stageLatency.length} stage latencies`);
      const m = modelIndex.get(name);
      if (m === undefined) continue; // no requests for it in this workload
      const factor = 1 + stagePenalty * pp;
      hostsOf[m].push({ group: gi, stages: Float64Array.from(cp.stageLatency, (l) => l * factor) });
    }
  });
  let hosts = 0;
  let stageCount = 0;
  for (const list of hostsOf) for (const h of list) { hosts++; stageCount += h.stages.length; }
  const hostStart = new Int32Array(models + 1);
  const hostGroup = new Int32Array(hosts);
  const hostClockAt = new Int32Array(hosts);
  const hostPp = new Int32Array(hosts);
  const hostLastClock = new Int32Array(hosts);
  const hostStageAt = new Int32Array(hosts);
  const hostBusy = new Float64Array(hosts);
  const stages = new Float64Array(stageCount);
  let h = 0;
  let s = 0;
  for (let m = 0; m < models; m++) {
    hostStart[m] = h;
    for (const host of hostsOf[m]) {
      hostGroup[h] = host.group;
      hostClockAt[h] = groupClockAt[host.group];
      hostPp[h] = host.stages.length;
      hostLastClock[h] = hostClockAt[h] + host.stages.length - 1;
      hostStageAt[h] = s;
      stages.set(host.stages, s);
      let busy = 0;
      for (const l of host.stages) busy += l;
      hostBusy[h] = busy;
      s += host.stages.length;
      h++;
    }
  }
  hostStart[models] = h;
  const modelUniform = new Uint8Array(models);
  for (let m = 0; m < models; m++) {
    const list = hostsOf[m];
    modelUniform[m] = list.length >= UNIFORM_SCAN_MIN_HOSTS && list.every((x) => x.stages.length === list[0].stages.length && x.stages.every((l, k) => l === list[0].stages[k])) ? 1 : 0;
  }
  return { groups, groupPp, clockCount, hostStart, hostGroup, hostClockAt, hostPp, hostLastClock, hostStageAt, hostBusy, stages, modelUniform };
}

/** Per-run counters; the hot loops call its small methods (inlined by V8). */
class Tally {
  readonly hist = new LatencyHistogram();
  readonly modelRequests: Float64Array;
  readonly modelGood: Float64Array;
  readonly modelRejected: Float64Array;
  unplaced = 0;
  groupRouted = new Float64Array(0);
  groupServed = new Float64Array(0);
  groupBusy = new Float64Array(0);
  /** Requests with index in [from, to) count in the statistics (warm-up trimming). */
  from = 0;
  to = 0;
  records: RequestRecords | undefined;

  constructor(models: number) {
    this.modelRequests = new Float64Array(models);
    this.modelGood = new Float64Array(models);
    this.modelRejected = new Float64Array(models);
  }

  reset(groups: number, from: number, to: number, records: RequestRecords | undefined): void {
    this.hist.reset();
    this.modelRequests.fill(0);
    this.modelGood.fill(0);
    this.modelRejected.fill(0);
    this.unplaced = 0;
    if (this.groupRouted.length !== groups) {
      this.groupRouted = new Float64Array(groups);
      this.groupServed = new Float64Array(groups);
      this.groupBusy = new Float64Array(groups);
    } else {
      this.groupRouted.fill(0);
      this.groupServed.fill(0);
      this.groupBusy.fill(0);
    }
    this.from = from;
    this.to = to;
    this.records = records;
  }

  /** No group hosts the request's model. */
  unhosted(i: number, m: number): void {
    if (i >= this.from && i < this.to) {
      this.modelRequests[m]++;
      this.modelRejected[m]++;
      this.unplaced++;
    }
    if (this.records) this.markRejected(i, -1);
  }

  rejected(i: number, m: number, g: number): void {
    this.groupRouted[g]++;
    if (i >= this.from && i < this.to) {
      this.modelRequests[m]++;
      this.modelRejected[m]++;
    }
    if (this.records) this.markRejected(i, g);
  }

  accepted(i: number, m: number, g: number, busy: number, latency: number, good: boolean, start: number, finish: number): void {
    this.groupRouted[g]++;
    this.groupServed[g]++;
    this.groupBusy[g] += busy;
    if (i >= this.from && i < this.to) {
      this.modelRequests[m]++;
      if (good) this.modelGood[m]++;
      this.hist.add(latency);
    }
    const r = this.records;
    if (r) {
      r.group[i] = g;
      r.start[i] = start;
      r.finish[i] = finish;
      r.good[i] = good ? 1 : 0;
    }
  }

  private markRejected(i: number, g: number): void {
    const r = this.records!;
    r.group[i] = g;
    r.start[i] = NaN;
    r.finish[i] = NaN;
    r.good[i] = 0;
  }
}

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
    if (first === end) { tally.unhosted(i, m); continue; }
    let h = first;
    let best = clocks[hostLastClock[first]];
    for (let c = first + 1; c < end; c++) {
      const last = clocks[hostLastClock[c]];
      if (last < best) { best = last; h = c; }
    }
    const at = hostClockAt[h];
    const pp = hostPp[h];
    const so = hostStageAt[h];
    const finish = tentativeExit(clocks, at, stages, so, pp, t) + overhead;
    const deadline = slo[i];
    if (finish + margin - t <= deadline) {
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
function exitNoting(clocks: Float64Array, clockAt: number, stages: Float64Array, stageAt: number, pp: number, t: number, waited: Uint8Array): number {
  let x = t;
  let w = 0;
  for (let k = 0; k < pp; k++) {
    const free = clocks[clockAt + k];
    if (free > x) { x = free; w = 1; }
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
    if (first === end) { tally.unhosted(i, m); continue; }
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
        if (exit < best) { best = exit; h = c; }
      }
    }
    const finish = best + overhead;
    const deadline = slo[i];
    if (finish + margin - t <= deadline) {
      const at = hostClockAt[h];
      const start = clocks[at] > t ? clocks[at] : t;
      commitExit(clocks, at, stages, hostStageAt[h], hostPp[h], t);
      tally.accepted(i, m, hostGroup[h], hostBusy[h], finish - t, finish - t <= deadline, start, finish);
    } else {
      tally.rejected(i, m, hostGroup[h]);
    }
  }
}

/**
 * Per-group FIFO of accepted requests' finish times, to count in-flight requests. Finishes on one
 * group are non-decreasing in acceptance order (each passes the same last stage after the one
 * before), so retiring from the head is exact. Grows only with the peak in-flight count.
 */
class InflightQueues {
  /** Group g's ring occupies ring[g·capacity .. (g+1)·capacity); capacity is a power of two. */
  private ring: Float64Array;
  private capacity = 64;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;

  constructor(private readonly groups: number) {
    this.ring = new Float64Array(groups * this.capacity);
    this.head = new Int32Array(groups);
    this.tail = new Int32Array(groups);
  }

  /** Requests on group g still unfinished at time t (retiring those finished by t). */
  inflight(g: number, t: number): number {
    const ring = this.ring;
    const mask = this.capacity - 1;
    const base = g * this.capacity;
    let head = this.head[g];
    const tail = this.tail[g];
    while (head !== tail && ring[base + (head & mask)] <= t) head++;
    this.head[g] = head;
    return tail - head;
  }

  push(g: number, finish: number): void {
    if (this.tail[g] - this.head[g] === this.capacity) this.grow();
    const tail = this.tail[g];
    this.ring[g * this.capacity + (tail & (this.capacity - 1))] = finish;
    this.tail[g] = tail + 1;
  }

  /** Doubles every group's ring, unwrapping each queue to the start of its new region. */
  private grow(): void {
    const old = this.ring;
    const oldCap = this.capacity;
    const cap = oldCap * 2;
    const ring = new Float64Array(this.groups * cap);
    for (let g = 0; g < this.groups; g++) {
      const head = this.head[g];
      const tail = this.tail[g];
      for (let k = head; k !== tail; k++) ring[g * cap + (k - head)] = old[g * oldCap + (k & (oldCap - 1))];
      this.head[g] = 0;
      this.tail[g] = tail - head;
    }
    this.ring = ring;
    this.capacity = cap;
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
    if (first === end) { tally.unhosted(i, m); continue; }
    let h = first;
    let best = queues.inflight(hostGroup[first], t);
    for (let c = first + 1; c < end; c++) {
      const count = queues.inflight(hostGroup[c], t);
      if (count < best) { best = count; h = c; }
    }
    const at = hostClockAt[h];
    const pp = hostPp[h];
    const so = hostStageAt[h];
    const g = hostGroup[h];
    const finish = tentativeExit(clocks, at, stages, so, pp, t) + overhead;
    const deadline = slo[i];
    if (finish + margin - t <= deadline) {
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

/** First index with arrival ≥ t (arrivals are sorted). */
function lowerBound(a: Float64Array, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with arrival > t. */
function upperBound(a: Float64Array, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Checks a workload's shape once, so the hot loops can trust it. */
export function validateWorkload(w: Workload): void {
  const n = w.arrival.length;
  if (w.model.length !== n || w.slo.length !== n) throw new Error(`workload columns differ in length: arrival ${n}, model ${w.model.length}, slo ${w.slo.length}`);
  const models = w.modelNames.length;
  let prev = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = w.arrival[i];
    if (!(t >= prev)) throw new Error(`workload arrivals must be finite and non-decreasing (request ${i}: ${t} after ${prev})`);
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

  constructor(profiles: Profiles, readonly workload: Workload) {
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
    const from = trim > 0 ? lowerBound(w.arrival, trim) : 0;
    const to = trim > 0 ? upperBound(w.arrival, w.duration - trim) : n;
    const records: RequestRecords | undefined = options.records
      ? { group: new Int32Array(n), start: new Float64Array(n), finish: new Float64Array(n), good: new Uint8Array(n) }
      : undefined;
    const tally = this.tally;
    tally.reset(p.groups, from, Math.max(from, to), records);
    loop({ workload: w, p, clocks: new Float64Array(p.clockCount), overhead, margin, tally });
    return this.summarise(p, tally, Math.max(0, w.duration - 2 * trim));
  }

  private summarise(p: CompiledPlacement, tally: Tally, window: number): SimResult {
    const perModel: ModelResult[] = [];
    let requests = 0;
    let good = 0;
    let rejected = 0;
    this.workload.modelNames.forEach((name, m) => {
      const r = tally.modelRequests[m];
      requests += r;
      good += tally.modelGood[m];
      rejected += tally.modelRejected[m];
      perModel.push({ name, requests: r, good: tally.modelGood[m], rejected: tally.modelRejected[m], attainment: r ? tally.modelGood[m] / r : NaN });
    });
    const h = tally.hist;
    const duration = this.workload.duration;
    return {
      requests,
      good,
      rejected,
      unplaced: tally.unplaced,
      served: requests - rejected,
      attainment: requests ? good / requests : NaN,
      goodput: window > 0 ? good / window : NaN,
      latency: { mean: h.mean, p50: h.quantile(0.5), p90: h.quantile(0.9), p99: h.quantile(0.99) },
      perModel,
      groupUtilisation: Array.from({ length: p.groups }, (_, g) => (duration > 0 ? tally.groupBusy[g] / (p.groupPp[g] * duration) : NaN)),
      groupRouted: Array.from(tally.groupRouted),
      groupServed: Array.from(tally.groupServed),
      ...(tally.records ? { records: tally.records } : {}),
    };
  }
}

/** Simulates one placement (convenience over `new Simulator(profiles, workload).run(placement, options)`). */
export function simulate(placement: Placement, profiles: Profiles, workload: Workload, options: SimOptions = {}): SimResult {
  return new Simulator(profiles, workload).run(placement, options);
}
