// The simulator's per-run counters: requests, good and rejected per model, per-group routing and
// busy time, the latency histogram, and optional per-request records. Fixed memory per run.
import { LatencyHistogram } from './stats.js';
import type { RequestRecords } from './types.js';

/** Per-run counters; the hot loops call its small methods (inlined by V8). */
export class Tally {
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

  accepted(
    i: number,
    m: number,
    g: number,
    busy: number,
    latency: number,
    good: boolean,
    start: number,
    finish: number,
  ): void {
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
