// The simulator's per-run counters: good and rejected requests per model, served and rejected
// requests per host (one (model, group) pair), the latency histogram, and optional per-request
// records. Fixed memory per run. What can be derived is not counted in the loop: requests per
// model come from the workload, and per-group figures from the per-host counts (summarise).
import { LatencyHistogram } from './stats.js';
import type { RequestRecords } from './types.js';

/** Per-run counters; the JS loops call its small methods (inlined by V8). */
export class Tally {
  readonly hist = new LatencyHistogram();
  /** Per model, counted requests only (those in [from, to)). */
  readonly modelGood: Float64Array;
  /** Per model, counted requests only; unplaced ones included. */
  readonly modelRejected: Float64Array;
  unplaced = 0;
  /** Per host, every request (trimmed or not). */
  hostServed = new Float64Array(0);
  hostRejected = new Float64Array(0);
  /** Requests with index in [from, to) count in the per-model statistics (warm-up trimming). */
  from = 0;
  to = 0;
  records: RequestRecords | undefined;

  constructor(models: number) {
    this.modelGood = new Float64Array(models);
    this.modelRejected = new Float64Array(models);
  }

  reset(hosts: number, from: number, to: number, records: RequestRecords | undefined): void {
    this.hist.reset();
    this.modelGood.fill(0);
    this.modelRejected.fill(0);
    this.unplaced = 0;
    if (this.hostServed.length !== hosts) {
      this.hostServed = new Float64Array(hosts);
      this.hostRejected = new Float64Array(hosts);
    } else {
      this.hostServed.fill(0);
      this.hostRejected.fill(0);
    }
    this.from = from;
    this.to = to;
    this.records = records;
  }

  /** No group hosts the request's model. */
  unhosted(i: number, m: number): void {
    if (i >= this.from && i < this.to) {
      this.modelRejected[m]++;
      this.unplaced++;
    }
    if (this.records) this.markRejected(i, -1);
  }

  /** Rejected on arrival by host h, on group g. */
  rejected(i: number, m: number, h: number, g: number): void {
    this.hostRejected[h]++;
    if (i >= this.from && i < this.to) this.modelRejected[m]++;
    if (this.records) this.markRejected(i, g);
  }

  accepted(
    i: number,
    m: number,
    h: number,
    g: number,
    latency: number,
    good: boolean,
    start: number,
    finish: number,
  ): void {
    this.hostServed[h]++;
    if (i >= this.from && i < this.to) {
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
