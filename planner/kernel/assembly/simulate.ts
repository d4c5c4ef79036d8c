// The simulator's hot loops in AssemblyScript, compiled to WebAssembly at build time
// (scripts/build-kernel.mjs). They mirror planner/simulator-loops.ts, the reference implementation,
// and must give bit-identical results: the same float operations in the same order, and the same
// host chosen on ties (the first). The host (planner/kernel/wasm-simulator.ts) lays out every array
// in this module's memory and passes their addresses in a header of i32 slots.
//
// Why it is faster than the JS loops:
// - Times are compared as integers: for non-negative doubles the order of the bit patterns, read
//   as i64, is the order of the values, and the host runs this kernel only when no time is
//   negative. The best host is kept with selects. (V8 in Node 20 emits cmov for the i32 selects,
//   but a compare-and-branch for `later`'s f64 result; measured, that branch is well predicted and
//   beats a branchless SIMD maximum.)
// - Each host (one model on one group) is one record of precomputed addresses and its counters, so
//   the loop keeps few pointers live; the loop is specialised per policy and per records on/off.
// - The chosen host's clocks are moved forward while its exit is computed, and put back on the
//   rare rejection, so the stages are walked once per request.

/** Header slots (i32 each). The host reads these exported constants; the order is defined here only. */
export const N: i32 = 0;
export const FROM: i32 = 1;
export const TO: i32 = 2;
export const ARRIVAL: i32 = 3;
export const MODEL: i32 = 4;
export const SLO: i32 = 5;
/** Model records: MODEL_RECORD_BYTES each, fields MODEL_*. */
export const MODELS: i32 = 6;
/** i32 per bucket. */
export const HIST_COUNTS: i32 = 7;
/** f64 × 5: count, sum, min and max of the counted latencies, then the unplaced count. */
export const STATS: i32 = 8;
export const HIST_SHIFT: i32 = 9;
export const HIST_BASE: i32 = 10;
export const HIST_BUCKETS: i32 = 11;
/** Per-request records, or 0 for none. */
export const REC_GROUP: i32 = 12;
export const REC_START: i32 = 13;
export const REC_FINISH: i32 = 14;
export const REC_GOOD: i32 = 15;
/**
 * fewest-inflight: log2 of the slots in each group's ring of unfinished requests (see FI_HEAD); a
 * ring holds one request fewer than its slots, as one slot stays free. A run that would overflow a
 * ring stops and returns OVERFLOW; the host then runs it again with rings twice as large.
 */
export const FI_RING_BITS: i32 = 16;
/** f64 × the deepest pipeline: the chosen host's clocks before the request moved them. */
export const SAVED: i32 = 17;
/** f64 scalars at these byte offsets from the header: the per-request overhead and admission margin. */
export const OVERHEAD_AT: i32 = 18 * 4;
export const MARGIN_AT: i32 = 18 * 4 + 8;
export const HEADER_BYTES: i32 = 18 * 4 + 16;

/** A model record: the byte range of its host records, then its counters (counted requests only). */
export const MODEL_FIRST_HOST: i32 = 0;
export const MODEL_END_HOST: i32 = 4;
export const MODEL_GOOD: i32 = 8;
export const MODEL_REJECTED: i32 = 12;
export const MODEL_RECORD_BYTES: i32 = 16;

/**
 * A host record: addresses of its first and last stage clocks and latencies, its depth and group,
 * its counters (every request), then (fewest-inflight only) the address of its group's record.
 */
export const HOST_CLOCKS: i32 = 0;
export const HOST_LAST_CLOCK: i32 = 4;
export const HOST_STAGES: i32 = 8;
export const HOST_LAST_STAGE: i32 = 12;
export const HOST_PP: i32 = 16;
export const HOST_GROUP: i32 = 20;
export const HOST_SERVED: i32 = 24;
export const HOST_REJECTED: i32 = 28;
export const HOST_FI: i32 = 32;
export const HOST_RECORD_BYTES: i32 = 40;

/**
 * A fewest-inflight group record: the ring positions of its oldest unfinished request and of the
 * next free slot (both counting up; the slot is the position & mask), then the ring of finish
 * times itself (f64 × 2^FI_RING_BITS, from FI_RING). The free slot always holds NaN, which, as an
 * integer, is above every time, so a lookup never retires past it.
 */
const FI_HEAD: i32 = 0;
const FI_TAIL: i32 = 4;
export const FI_RING: i32 = 8;

export const DONE: i32 = 0;
export const OVERFLOW: i32 = 1;

export const POLICY_EARLIEST_FINISH: i32 = 0;
export const POLICY_LAST_STAGE_CLOCK: i32 = 1;
export const POLICY_FEWEST_INFLIGHT: i32 = 2;

/** Where the host may lay out its arrays: the end of this module's static data. */
export function dataStart(): usize {
  return __heap_base;
}

@inline function slot(header: usize, s: i32): usize {
  return <usize>load<i32>(header + (<usize>s << 2));
}
@inline function field(record: usize, offset: i32): usize {
  return <usize>load<i32>(record + <usize>offset);
}
@inline function f64At(base: usize, i: i32): f64 {
  return load<f64>(base + (<usize>i << 3));
}
@inline function f64Addr(base: usize, i: i32): usize {
  return base + (<usize>i << 3);
}
@inline function increment(at: usize): void {
  store<i32>(at, load<i32>(at) + 1);
}
@inline function bits(x: f64): i64 {
  return reinterpret<i64>(x);
}
/** max(a, b) of non-negative doubles, as an integer select. */
@inline function later(a: f64, b: f64): f64 {
  return reinterpret<f64>(select<i64>(bits(b), bits(a), bits(b) > bits(a)));
}

/** When the last stage lets a request arriving at t out: x = max(x, clock[k]) + stage[k], in order. */
@inline function exitOf(host: usize, t: f64): f64 {
  const clocks = field(host, HOST_CLOCKS);
  const stages = field(host, HOST_STAGES);
  const pp = <i32>field(host, HOST_PP);
  let x = t;
  for (let k: i32 = 0; k < pp; k++) x = later(x, f64At(clocks, k)) + f64At(stages, k);
  return x;
}

/** No exit from this host is earlier than its last clock plus its last stage. */
@inline function lowerBound(host: usize): f64 {
  return load<f64>(field(host, HOST_LAST_CLOCK)) + load<f64>(field(host, HOST_LAST_STAGE));
}

/**
 * exitOf that also moves the host's clocks forward, as if the request were accepted, keeping their
 * old values in `saved` so that a rejection can put them back (restore).
 */
@inline function advance(host: usize, t: f64, saved: usize): f64 {
  const clocks = field(host, HOST_CLOCKS);
  const stages = field(host, HOST_STAGES);
  const pp = <i32>field(host, HOST_PP);
  let x = t;
  for (let k: i32 = 0; k < pp; k++) {
    const old = f64At(clocks, k);
    store<f64>(f64Addr(saved, k), old);
    x = later(x, old) + f64At(stages, k);
    store<f64>(f64Addr(clocks, k), x);
  }
  return x;
}

@inline function restore(host: usize, saved: usize): void {
  const clocks = field(host, HOST_CLOCKS);
  const pp = <i32>field(host, HOST_PP);
  for (let k: i32 = 0; k < pp; k++) store<f64>(f64Addr(clocks, k), f64At(saved, k));
}

/** Simulates every request of the workload under `policy`; the header says where everything is. */
export function simulate(policy: i32, header: usize): i32 {
  // `run` is inlined with constant arguments: one loop per (policy, records) without their tests.
  const records = slot(header, REC_GROUP) != 0;
  if (policy == POLICY_LAST_STAGE_CLOCK) {
    return records ? run(POLICY_LAST_STAGE_CLOCK, true, header) : run(POLICY_LAST_STAGE_CLOCK, false, header);
  }
  if (policy == POLICY_EARLIEST_FINISH) {
    return records ? run(POLICY_EARLIEST_FINISH, true, header) : run(POLICY_EARLIEST_FINISH, false, header);
  }
  return records ? run(POLICY_FEWEST_INFLIGHT, true, header) : run(POLICY_FEWEST_INFLIGHT, false, header);
}

@inline function run(policy: i32, records: bool, header: usize): i32 {
  const n = <i32>slot(header, N);
  const from = <i32>slot(header, FROM);
  const to = <i32>slot(header, TO);
  const arrival = slot(header, ARRIVAL);
  const model = slot(header, MODEL);
  const slo = slot(header, SLO);
  const models = slot(header, MODELS);
  const histCounts = slot(header, HIST_COUNTS);
  const shift = <u32>slot(header, HIST_SHIFT);
  const base = <i32>slot(header, HIST_BASE);
  const lastBucket = <i32>slot(header, HIST_BUCKETS) - 1;
  const saved = slot(header, SAVED);
  const overhead = load<f64>(header + <usize>OVERHEAD_AT);
  const margin = load<f64>(header + <usize>MARGIN_AT);
  const ringBits = <u32>slot(header, FI_RING_BITS);
  const ringMask: i32 = (1 << ringBits) - 1;
  let count: f64 = 0;
  let sum: f64 = 0;
  let min: f64 = Infinity;
  let max: f64 = -Infinity;
  let unplaced: f64 = 0;

  for (let i: i32 = 0; i < n; i++) {
    const modelRecord = models + (<usize>load<i32>(model + (<usize>i << 2)) << 4);
    const t = f64At(arrival, i);
    const first = field(modelRecord, MODEL_FIRST_HOST);
    const end = field(modelRecord, MODEL_END_HOST);
    const counted = i >= from && i < to;
    if (first == end) {
      if (counted) {
        increment(modelRecord + MODEL_REJECTED);
        unplaced++;
      }
      if (records) markRejected(header, i, -1);
      continue;
    }
    // The chosen host; `advanced` when its clocks were already moved forward (see advance).
    let h = first;
    let exit: f64;
    let start: f64;
    let advanced = true;
    if (policy == POLICY_LAST_STAGE_CLOCK) {
      let best = load<i64>(field(first, HOST_LAST_CLOCK));
      for (let c = first + HOST_RECORD_BYTES; c < end; c += HOST_RECORD_BYTES) {
        const last = load<i64>(field(c, HOST_LAST_CLOCK));
        const earlier = last < best;
        h = select<usize>(c, h, earlier);
        best = select<i64>(last, best, earlier);
      }
      start = later(load<f64>(field(h, HOST_CLOCKS)), t);
      exit = advance(h, t, saved);
    } else if (policy == POLICY_EARLIEST_FINISH) {
      // Take the first host of least lower bound. If its exit meets the bound, no host exits
      // earlier and no earlier host ties: it is the first of least exit. Otherwise compare exits.
      let bound = bits(lowerBound(first));
      for (let c = first + HOST_RECORD_BYTES; c < end; c += HOST_RECORD_BYTES) {
        const b = bits(lowerBound(c));
        const lower = b < bound;
        h = select<usize>(c, h, lower);
        bound = select<i64>(b, bound, lower);
      }
      start = later(load<f64>(field(h, HOST_CLOCKS)), t);
      exit = advance(h, t, saved);
      if (bits(exit) != bound) {
        restore(h, saved);
        advanced = false;
        h = first;
        let best = bits(exitOf(first, t));
        for (let c = first + HOST_RECORD_BYTES; c < end; c += HOST_RECORD_BYTES) {
          const x = bits(exitOf(c, t));
          const earlier = x < best;
          h = select<usize>(c, h, earlier);
          best = select<i64>(x, best, earlier);
        }
        exit = reinterpret<f64>(best);
        start = later(load<f64>(field(h, HOST_CLOCKS)), t);
      }
    } else {
      // fewest-inflight: retire each hosting group's finished requests, then take the least loaded.
      // The oldest is retired without a branch: whether it finished is close to a coin toss on a
      // busy group, and the branch that tested it mispredicted (measured with the side-by-side
      // harness's arrays). A second finished request, rarer, is retired in a loop. Finish times
      // are compared as integers, like the clocks. The loop keeps one value, the least (in-flight
      // count, host address) as one i64: the first host of fewest. With the count and the host
      // apart, V8 ran out of registers and kept the count in memory (measured: 17% slower).
      let best: i64 = 0x7fffffffffffffff;
      const tBits = bits(t);
      for (let c = first; c < end; c += HOST_RECORD_BYTES) {
        const fi = field(c, HOST_FI);
        let head = load<i32>(fi + FI_HEAD);
        const ring = fi + FI_RING;
        const oldest = <i32>(load<i64>(f64Addr(ring, head & ringMask)) <= tBits);
        const second = <i32>(load<i64>(f64Addr(ring, (head + 1) & ringMask)) <= tBits);
        head += oldest;
        if (oldest & second) head = retireMore(ring, ringMask, head + 1, tBits);
        store<i32>(fi + FI_HEAD, head);
        const key = (<i64>(load<i32>(fi + FI_TAIL) - head) << 32) | <i64>c;
        best = select<i64>(key, best, key < best);
      }
      h = <usize>(<u32>best);
      start = later(load<f64>(field(h, HOST_CLOCKS)), t);
      exit = advance(h, t, saved);
    }
    const g = load<i32>(h + HOST_GROUP);
    const finish = exit + overhead;
    const deadline = f64At(slo, i);
    if (finish + margin - t <= deadline) {
      if (!advanced) advance(h, t, saved);
      if (policy == POLICY_FEWEST_INFLIGHT) {
        // Append the finish to group g's ring (finishes on one group never decrease), keeping a
        // NaN in the free slot after it.
        const fi = field(h, HOST_FI);
        const tail = load<i32>(fi + FI_TAIL);
        if (tail - load<i32>(fi + FI_HEAD) >= ringMask) return OVERFLOW;
        const ring = fi + FI_RING;
        store<f64>(f64Addr(ring, tail & ringMask), finish);
        store<f64>(f64Addr(ring, (tail + 1) & ringMask), NaN);
        store<i32>(fi + FI_TAIL, tail + 1);
      }
      increment(h + HOST_SERVED);
      const latency = finish - t;
      const good = latency <= deadline;
      if (counted) {
        if (good) increment(modelRecord + MODEL_GOOD);
        // The latency histogram's add (planner/stats.ts): the bucket from the high word.
        let b = <i32>(<u32>(bits(latency) >>> 32) >> shift) - base;
        b = b < 0 ? 0 : b > lastBucket ? lastBucket : b;
        increment(histCounts + (<usize>b << 2));
        count++;
        sum += latency;
        if (latency < min) min = latency;
        if (latency > max) max = latency;
      }
      if (records) {
        store<i32>(slot(header, REC_GROUP) + (<usize>i << 2), g);
        store<f64>(f64Addr(slot(header, REC_START), i), start);
        store<f64>(f64Addr(slot(header, REC_FINISH), i), finish);
        store<u8>(slot(header, REC_GOOD) + <usize>i, good ? 1 : 0);
      }
    } else {
      if (advanced) restore(h, saved);
      increment(h + HOST_REJECTED);
      if (counted) increment(modelRecord + MODEL_REJECTED);
      if (records) markRejected(header, i, g);
    }
  }
  const stats = slot(header, STATS);
  store<f64>(stats, count);
  store<f64>(stats + 8, sum);
  store<f64>(stats + 16, min);
  store<f64>(stats + 24, max);
  store<f64>(stats + 32, unplaced);
  return DONE;
}

/** From ring position `head` on, the position of the first request unfinished at t (the free slot's NaN stops it). */
function retireMore(ring: usize, mask: i32, head: i32, tBits: i64): i32 {
  while (load<i64>(f64Addr(ring, head & mask)) <= tBits) head++;
  return head;
}

function markRejected(header: usize, i: i32, g: i32): void {
  store<i32>(slot(header, REC_GROUP) + (<usize>i << 2), g);
  store<f64>(f64Addr(slot(header, REC_START), i), NaN);
  store<f64>(f64Addr(slot(header, REC_FINISH), i), NaN);
  store<u8>(slot(header, REC_GOOD) + <usize>i, 0);
}
