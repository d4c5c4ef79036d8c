// Replays a workload against a running cluster through NATS in real time, and turns what came
// back into the simulator's result shape, so `meshserve replay` and `meshserve simulate` print
// the same report for the same file. Also the fidelity numbers: attainment live vs simulated,
// and per request the runtime overhead = live latency − simulated latency.
import { createInbox, type NatsConnection } from '@nats-io/transport-node';
import { decode, encode } from '../bus/index.js';
import { LatencyHistogram, quantileSorted } from '../planner/stats.js';
import type { ModelResult, Placement, SimResult, Workload } from '../planner/types.js';
import { nowSeconds, sleepUntil } from './clock.js';
import { InferReply, RuntimeSubjects, type RuntimePlacement } from './protocol.js';
import { groupStageSeconds } from './runtime-placement.js';

export const STATUS_OK = 0;
export const STATUS_REJECTED = 1;
export const STATUS_ERROR = 2;
const STATUS_NONE = 255;

/** What each request of a replay got, in workload order. */
export interface LiveRecords {
  /** STATUS_OK / STATUS_REJECTED / STATUS_ERROR; 255 = no reply. */
  readonly status: Uint8Array;
  /** When each request was actually published, seconds from the replay's time zero (NaN if never sent). */
  readonly sentAt: Float64Array;
  /** Client-measured latency (reply received − actual send time), seconds; NaN without reply. */
  readonly latency: Float64Array;
  /**
   * Dispatcher-side: reply time − the estimated finish the dispatcher's latency model gave the
   * request when admitting it (seconds; NaN unless served). Independent of routing differences.
   */
  readonly overModel: Float64Array;
  /**
   * Dispatcher-side arrival of each request, seconds from the replay's time zero (NaN without a
   * reply), and its dispatcher-side total (reply − arrival, seconds; NaN unless served).
   */
  readonly observedArrival: Float64Array;
  readonly dispatcherTotal: Float64Array;
  /** Group id that served (or rejected) each request. */
  readonly group: (string | undefined)[];
  /** The first few error reasons, with counts. */
  readonly errors: Map<string, number>;
  /** How late the sender was behind the schedule, worst case, seconds. */
  readonly maxSendLag: number;
}

export interface ReplayProgress {
  sent: number;
  total: number;
  ok: number;
  rejected: number;
  errors: number;
  inflight: number;
  elapsed: number;
}

export interface ReplayOptions {
  subjects?: RuntimeSubjects;
  /** Called about every `progressMs` (default 250). */
  onProgress?: (p: ReplayProgress) => void;
  progressMs?: number;
  /** After the last send, wait at most this long for replies (ms). Default 30 000. */
  drainTimeoutMs?: number;
  /** Stop sending early (e.g. on SIGINT). */
  signal?: AbortSignal;
}

/** Sends request i at start + arrival[i] to `ms.infer.<model>` and records the replies. */
export async function replayWorkload(nc: NatsConnection, w: Workload, options: ReplayOptions = {}): Promise<LiveRecords> {
  const subjects = options.subjects ?? new RuntimeSubjects();
  const n = w.arrival.length;
  const status = new Uint8Array(n).fill(STATUS_NONE);
  const sentAt = new Float64Array(n).fill(NaN);
  const latency = new Float64Array(n).fill(NaN);
  const overModel = new Float64Array(n).fill(NaN);
  const observedArrival = new Float64Array(n).fill(NaN);
  const dispatcherTotal = new Float64Array(n).fill(NaN);
  const group: (string | undefined)[] = new Array(n);
  const errors = new Map<string, number>();
  const counts = { ok: 0, rejected: 0, errors: 0, answered: 0 };
  const inbox = createInbox();
  const prefixLength = inbox.length + 1;
  const start = nowSeconds() + 0.1;
  const sub = nc.subscribe(`${inbox}.*`, {
    callback: (err, msg) => {
      if (err) return;
      const received = nowSeconds();
      const i = Number.parseInt(msg.subject.slice(prefixLength), 36);
      if (!(i >= 0 && i < n) || status[i] !== STATUS_NONE) return;
      const parsed = InferReply.safeParse(decode(msg.data));
      counts.answered++;
      if (!parsed.success) {
        status[i] = STATUS_ERROR;
        counts.errors++;
        errors.set('malformed reply', (errors.get('malformed reply') ?? 0) + 1);
        return;
      }
      const r = parsed.data;
      group[i] = r.group;
      observedArrival[i] = r.timings.arrival / 1000 - start;
      latency[i] = received - (start + sentAt[i]);
      if (r.status === 'ok') {
        status[i] = STATUS_OK;
        if (r.timings.estimatedFinish !== undefined) overModel[i] = (r.timings.replied - r.timings.estimatedFinish) / 1000;
        dispatcherTotal[i] = r.timings.total / 1000;
        counts.ok++;
      } else if (r.status === 'rejected') {
        status[i] = STATUS_REJECTED;
        counts.rejected++;
      } else {
        status[i] = STATUS_ERROR;
        counts.errors++;
        const reason = (r.reason ?? 'error').replace(/[\d.]+ ms/g, '… ms').slice(0, 160);
        if (errors.size < 20 || errors.has(reason)) errors.set(reason, (errors.get(reason) ?? 0) + 1);
      }
    },
  });
  const modelSubjects = w.modelNames.map((m) => subjects.infer(m));
  let sent = 0;
  let maxSendLag = 0;
  const progress = (): void =>
    options.onProgress?.({ sent, total: n, ok: counts.ok, rejected: counts.rejected, errors: counts.errors, inflight: sent - counts.answered, elapsed: nowSeconds() - start });
  const progressTimer = options.onProgress ? setInterval(progress, options.progressMs ?? 250) : undefined;
  try {
    while (sent < n && !options.signal?.aborted) {
      const due = start + w.arrival[sent];
      const now = nowSeconds();
      if (due > now + 0.0002) {
        await sleepUntil(due);
        continue;
      }
      maxSendLag = Math.max(maxSendLag, now - due);
      sentAt[sent] = now - start;
      const slo = w.slo[sent];
      const body = Number.isFinite(slo) ? { id: String(sent), slo } : { id: String(sent) };
      nc.publish(modelSubjects[w.model[sent]], encode(body), { reply: `${inbox}.${sent.toString(36)}` });
      sent++;
    }
    // Interrupted: wait only briefly for what is in flight.
    const until = Date.now() + (options.signal?.aborted ? 1_000 : options.drainTimeoutMs ?? 30_000);
    while (counts.answered < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  } finally {
    clearInterval(progressTimer);
    progress();
    sub.unsubscribe();
  }
  return { status, sentAt, latency, overModel, observedArrival, dispatcherTotal, group, errors, maxSendLag };
}

/**
 * The same requests with the arrival times a replay really produced: `'sent'` = when the client
 * published each one (the realized trace; a sender cannot hit µs-exact times, and a request sent
 * 2 ms late can flip a near-tie of earliest-finish routing, whose cascade is not runtime
 * overhead), `'dispatcher'` = when the dispatcher received it. The scheduled time stands in where
 * there is none. Undefined when not in order (several dispatchers), since the simulator needs
 * sorted arrivals.
 */
export function realizedWorkload(w: Workload, live: LiveRecords, clock: 'sent' | 'dispatcher'): Workload | undefined {
  const seen = clock === 'sent' ? live.sentAt : live.observedArrival;
  const arrival = Float64Array.from(w.arrival, (t, i) => (Number.isNaN(seen[i]) ? t : seen[i]));
  for (let i = 1; i < arrival.length; i++) if (arrival[i] < arrival[i - 1]) return undefined;
  const last = arrival.length ? arrival[arrival.length - 1] : 0;
  return { ...w, arrival, duration: Math.max(w.duration, last) };
}

/** The groups of a runtime placement as the simulator takes them. */
export function simPlacement(p: RuntimePlacement): Placement {
  return { groups: p.groups.map((g) => ({ devices: g.config.pp * g.config.op, config: g.config, models: g.models })) };
}

/** First index with arrival ≥ t / > t (arrivals sorted). */
function bound(a: Float64Array, t: number, strict: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? a[mid] <= t : a[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The live replay in the simulator's result shape (same trimming rule). A request is good when it
 * was served and its client-measured latency is within its SLO. Group utilisation is the device
 * time of the requests each group served (Σ stage times, the simulator's formula), which is what
 * simulated devices are busy for; the runtime does not measure it separately.
 */
export function liveResult(w: Workload, r: LiveRecords, placement: RuntimePlacement, trim = 0): SimResult {
  const n = w.arrival.length;
  const from = trim > 0 ? bound(w.arrival, trim, false) : 0;
  const to = trim > 0 ? Math.max(from, bound(w.arrival, w.duration - trim, true)) : n;
  const models = w.modelNames.length;
  const req = new Float64Array(models);
  const good = new Float64Array(models);
  const rej = new Float64Array(models);
  const groupIndex = new Map(placement.groups.map((g, i) => [g.id, i]));
  const routed = new Array<number>(placement.groups.length).fill(0);
  const served = new Array<number>(placement.groups.length).fill(0);
  const busyPerRequest = placement.groups.map((g) => {
    const stages = groupStageSeconds(placement, g);
    return new Map([...stages].map(([model, s]) => [model, s.reduce((a, b) => a + b, 0)]));
  });
  const busy = new Array<number>(placement.groups.length).fill(0);
  const hist = new LatencyHistogram();
  let unplaced = 0;
  for (let i = 0; i < n; i++) {
    const g = r.group[i] === undefined ? undefined : groupIndex.get(r.group[i]!);
    if (g !== undefined) {
      routed[g]++;
      if (r.status[i] === STATUS_OK) {
        served[g]++;
        busy[g] += busyPerRequest[g].get(w.modelNames[w.model[i]]) ?? 0;
      }
    }
    if (i < from || i >= to) continue;
    const m = w.model[i];
    req[m]++;
    if (r.status[i] === STATUS_OK) {
      hist.add(r.latency[i]);
      if (r.latency[i] <= w.slo[i]) good[m]++;
    } else {
      rej[m]++;
      if (r.group[i] === undefined) unplaced++;
    }
  }
  const perModel: ModelResult[] = w.modelNames.map((name, m) => ({ name, requests: req[m], good: good[m], rejected: rej[m], attainment: req[m] ? good[m] / req[m] : NaN }));
  const requests = perModel.reduce((s, m) => s + m.requests, 0);
  const goodTotal = perModel.reduce((s, m) => s + m.good, 0);
  const rejected = perModel.reduce((s, m) => s + m.rejected, 0);
  const window = Math.max(0, w.duration - 2 * trim);
  return {
    requests, good: goodTotal, rejected, unplaced, served: requests - rejected,
    attainment: requests ? goodTotal / requests : NaN,
    goodput: window > 0 ? goodTotal / window : NaN,
    latency: { mean: hist.mean, p50: hist.quantile(0.5), p90: hist.quantile(0.9), p99: hist.quantile(0.99) },
    perModel,
    groupUtilisation: placement.groups.map((g, i) => (w.duration > 0 ? busy[i] / (g.config.pp * w.duration) : NaN)),
    groupRouted: routed,
    groupServed: served,
  };
}

/** Per-request latency differences, live − simulated, seconds, over requests both served by the same group. */
export interface LatencyDiff {
  p50: number;
  p99: number;
  mean: number;
  /** Requests served both live and in the simulation by the same group (the sample). */
  compared: number;
  /** Requests served in both but by different groups (left out: they queued behind other neighbours). */
  otherGroup: number;
}

export interface Fidelity {
  liveAttainment: number;
  /** The simulation of the scenario as written (`meshserve simulate` on the same file). */
  simulatedAttainment: number;
  /** live − simulated, percentage points. */
  attainmentDiffPoints: number;
  /**
   * The runtime overhead per request: client-measured latency (reply − actual send) − the
   * simulated latency of the same request, the simulator fed the realized send times. The
   * simulated latency includes the simulator's fixed per-request allowance for runtime overhead
   * (11 ms by default), so this says whether the live system stays within what it assumes.
   */
  overhead: LatencyDiff;
  /**
   * The same without that allowance: what the runtime really adds over the modelled compute and
   * queueing (hops, timers, dispatch).
   */
  cost: { p50: number; p99: number; mean: number };
  /**
   * Against the simulation of the scheduled trace, latency from the scheduled send time: the
   * sender's lag behind the schedule, and the routing flips it causes, included.
   */
  scheduled: LatencyDiff;
  /**
   * Reply time − the dispatcher's own estimate for that request (its latency model, allowance
   * included), every served request: runtime overhead free of routing differences.
   */
  overModel: { p50: number; p99: number; mean: number };
  /**
   * Inside the cluster: dispatcher-side latency − simulated latency, the simulator fed the arrival
   * times the dispatcher observed. Absent when they were out of order.
   */
  inCluster?: LatencyDiff;
  /** Latency distributions of the served requests: live (client-measured) and simulated (scenario as written). */
  latency: { live: { p50: number; p99: number }; simulated: { p50: number; p99: number } };
  /** Requests the live run and the simulation of the realized send times decided differently (accepted in one, rejected in the other). */
  decisionsDiffer: number;
}

/** The simulations a live run is compared with (records on), each with the arrivals it was fed. */
export interface FidelitySimulations {
  /** The scenario as written (scheduled arrivals). */
  scheduled: SimResult;
  /** The realized send times (`realizedWorkload(w, live, 'sent')`); falls back to `scheduled`. */
  sent?: { workload: Workload; result: SimResult };
  /** The dispatcher's arrival times (`realizedWorkload(w, live, 'dispatcher')`). */
  dispatcher?: { workload: Workload; result: SimResult };
}

function summarise(diffs: number[], otherGroup: number): LatencyDiff {
  const sorted = Float64Array.from(diffs).sort();
  const mean = diffs.length ? diffs.reduce((a, b) => a + b, 0) / diffs.length : NaN;
  return { p50: quantileSorted(sorted, 0.5), p99: quantileSorted(sorted, 0.99), mean, compared: diffs.length, otherGroup };
}

/**
 * live − simulated latency of each request that both served on the same group. A request routed
 * elsewhere queues behind other requests: that is a routing difference, not runtime overhead.
 */
function perRequest(n: number, live: LiveRecords, sim: SimResult, simArrival: Float64Array, liveLatency: (i: number) => number, groupIndex: Map<string, number>): LatencyDiff {
  const rec = sim.records;
  if (!rec) throw new Error('fidelity needs the simulation records (records: true)');
  const diffs: number[] = [];
  let otherGroup = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(rec.finish[i]) || live.status[i] !== STATUS_OK) continue;
    if (groupIndex.get(live.group[i]!) !== rec.group[i]) otherGroup++;
    else diffs.push(liveLatency(i) - (rec.finish[i] - simArrival[i]));
  }
  return summarise(diffs, otherGroup);
}

/** Compares a live replay with simulations of the same requests on the same placement. */
export function fidelity(w: Workload, live: LiveRecords, liveSummary: SimResult, sims: FidelitySimulations, simOverhead: number, placement: RuntimePlacement): Fidelity {
  const n = w.arrival.length;
  const groupIndex = new Map(placement.groups.map((g, i) => [g.id, i]));
  const sent = sims.sent ?? { workload: w, result: sims.scheduled };
  const overhead = perRequest(n, live, sent.result, sent.workload.arrival, (i) => live.latency[i], groupIndex);
  const scheduled = perRequest(n, live, sims.scheduled, w.arrival, (i) => live.latency[i] + live.sentAt[i] - w.arrival[i], groupIndex);
  const inCluster = sims.dispatcher && perRequest(n, live, sims.dispatcher.result, sims.dispatcher.workload.arrival, (i) => live.dispatcherTotal[i], groupIndex);
  const rec = sent.result.records!;
  let differ = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(rec.finish[i]) !== (live.status[i] === STATUS_OK)) differ++;
  const model = Float64Array.from(live.overModel.filter((x) => !Number.isNaN(x))).sort();
  return {
    liveAttainment: liveSummary.attainment,
    simulatedAttainment: sims.scheduled.attainment,
    attainmentDiffPoints: (liveSummary.attainment - sims.scheduled.attainment) * 100,
    overhead,
    cost: { p50: overhead.p50 + simOverhead, p99: overhead.p99 + simOverhead, mean: overhead.mean + simOverhead },
    scheduled,
    overModel: { p50: quantileSorted(model, 0.5), p99: quantileSorted(model, 0.99), mean: model.length ? model.reduce((a, b) => a + b, 0) / model.length : NaN },
    ...(inCluster ? { inCluster } : {}),
    latency: { live: { p50: liveSummary.latency.p50, p99: liveSummary.latency.p99 }, simulated: { p50: sims.scheduled.latency.p50, p99: sims.scheduled.latency.p99 } },
    decisionsDiffer: differ,
  };
}
