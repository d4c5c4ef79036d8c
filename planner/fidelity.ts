// How closely a live run followed the simulator: the live outcomes in the simulator's result
// shape, and per request the runtime overhead = live latency − simulated latency of the same
// request on the same placement. Pure maths over what a replay client recorded.
import { penalisedStages } from './latency-model.js';
import { configProfile, type Profiles, profileMap } from './profile.js';
import { simResult, sortedLatencies } from './result.js';
import { LatencyHistogram } from './stats.js';
import type { Placement, SimResult, Workload } from './types.js';
import { firstAfter, firstAtOrAfter } from './workload/slice.js';

export const STATUS_OK = 0;
export const STATUS_REJECTED = 1;
export const STATUS_ERROR = 2;
/** No reply (yet). */
export const STATUS_NONE = 255;

/** LiveOutcomes.group: the reply named no group. */
export const NO_GROUP = -1;
/** LiveOutcomes.group: the reply named a group the placement does not have (an older one). */
export const OTHER_GROUP = -2;

/** What each request of a live run got, in workload order (a replay client records it). */
export interface LiveOutcomes {
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
  /**
   * Index (in the placement's group order) of the group that served or rejected each request, or
   * NO_GROUP / OTHER_GROUP.
   */
  readonly group: Int32Array;
}

/**
 * The same requests with the arrival times a replay really produced: `'sent'` = when the client
 * published each one (the realized trace; a sender cannot hit µs-exact times, and a request sent
 * 2 ms late can flip a near-tie of earliest-finish routing, whose cascade is not runtime
 * overhead), `'dispatcher'` = when the dispatcher received it. The scheduled time stands in where
 * there is none. Undefined when not in order (several dispatchers), since the simulator needs
 * sorted arrivals.
 */
export function realizedWorkload(w: Workload, live: LiveOutcomes, clock: 'sent' | 'dispatcher'): Workload | undefined {
  const seen = clock === 'sent' ? live.sentAt : live.observedArrival;
  const arrival = Float64Array.from(w.arrival, (t, i) => (Number.isNaN(seen[i]) ? t : seen[i]));
  for (let i = 1; i < arrival.length; i++) if (arrival[i] < arrival[i - 1]) return undefined;
  const last = arrival.length ? arrival[arrival.length - 1] : 0;
  return { ...w, arrival, duration: Math.max(w.duration, last) };
}

/** The placement a live run served on, and how to reckon its device time. */
export interface PlacedGroups {
  readonly placement: Placement;
  readonly profiles: Profiles;
  readonly stagePenalty: number;
}

/**
 * The live replay in the simulator's result shape (same trimming rule). A request is good when it
 * was served and its client-measured latency is within its SLO. Group utilisation is the device
 * time of the requests each group served (Σ stage times, the simulator's formula), which is what
 * simulated devices are busy for; the runtime does not measure it separately.
 */
export function liveResult(w: Workload, r: LiveOutcomes, placed: PlacedGroups, trim = 0): SimResult {
  const n = w.arrival.length;
  const from = trim > 0 ? firstAtOrAfter(w.arrival, trim) : 0;
  const to = trim > 0 ? Math.max(from, firstAfter(w.arrival, w.duration - trim)) : n;
  const models = w.modelNames.length;
  const req = new Float64Array(models);
  const good = new Float64Array(models);
  const rej = new Float64Array(models);
  const { placement } = placed;
  const profiles = profileMap(placed.profiles);
  const routed = new Array<number>(placement.groups.length).fill(0);
  const served = new Array<number>(placement.groups.length).fill(0);
  const busyPerRequest = placement.groups.map((g) => {
    const busy = new Map<string, number>();
    for (const model of g.models) {
      const p = profiles.get(model);
      const c = p && configProfile(p, g.config);
      if (c)
        busy.set(
          model,
          penalisedStages(c, placed.stagePenalty).reduce((a, b) => a + b, 0),
        );
    }
    return busy;
  });
  const busy = new Array<number>(placement.groups.length).fill(0);
  const hist = new LatencyHistogram();
  let unplaced = 0;
  for (let i = 0; i < n; i++) {
    const g = r.group[i];
    if (g >= 0) {
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
      if (g === NO_GROUP) unplaced++;
    }
  }
  const counts = { modelNames: w.modelNames, requests: req, good, rejected: rej, unplaced };
  const groups = {
    utilisation: placement.groups.map((g, k) => (w.duration > 0 ? busy[k] / (g.config.pp * w.duration) : NaN)),
    routed,
    served,
  };
  return simResult(counts, hist, groups, Math.max(0, w.duration - 2 * trim));
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
  /**
   * Requests the live run and the simulation of the realized send times decided differently (accepted
   * in one, rejected in the other).
   */
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

/** p50, p99 and mean of `values` (NaN when empty). */
function spread(values: ArrayLike<number>): { p50: number; p99: number; mean: number } {
  const d = sortedLatencies(Float64Array.from(values).sort());
  return { p50: d.quantile(0.5), p99: d.quantile(0.99), mean: d.mean };
}

/**
 * live − simulated latency of each request that both served on the same group. A request routed
 * elsewhere queues behind other requests: that is a routing difference, not runtime overhead.
 */
function perRequest(
  n: number,
  live: LiveOutcomes,
  sim: SimResult,
  simArrival: Float64Array,
  liveLatency: (i: number) => number,
): LatencyDiff {
  const rec = sim.records;
  if (!rec) throw new Error('fidelity needs the simulation records (records: true)');
  const diffs: number[] = [];
  let otherGroup = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(rec.finish[i]) || live.status[i] !== STATUS_OK) continue;
    if (live.group[i] !== rec.group[i]) otherGroup++;
    else diffs.push(liveLatency(i) - (rec.finish[i] - simArrival[i]));
  }
  return { ...spread(diffs), compared: diffs.length, otherGroup };
}

/** Compares a live replay with simulations of the same requests on the same placement. */
export function fidelity(
  w: Workload,
  live: LiveOutcomes,
  liveSummary: SimResult,
  sims: FidelitySimulations,
  simOverhead: number,
): Fidelity {
  const n = w.arrival.length;
  const sent = sims.sent ?? { workload: w, result: sims.scheduled };
  const overhead = perRequest(n, live, sent.result, sent.workload.arrival, (i) => live.latency[i]);
  const scheduled = perRequest(
    n,
    live,
    sims.scheduled,
    w.arrival,
    (i) => live.latency[i] + live.sentAt[i] - w.arrival[i],
  );
  const inCluster =
    sims.dispatcher &&
    perRequest(n, live, sims.dispatcher.result, sims.dispatcher.workload.arrival, (i) => live.dispatcherTotal[i]);
  const rec = sent.result.records!;
  let differ = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(rec.finish[i]) !== (live.status[i] === STATUS_OK)) differ++;
  return {
    liveAttainment: liveSummary.attainment,
    simulatedAttainment: sims.scheduled.attainment,
    attainmentDiffPoints: (liveSummary.attainment - sims.scheduled.attainment) * 100,
    overhead,
    cost: { p50: overhead.p50 + simOverhead, p99: overhead.p99 + simOverhead, mean: overhead.mean + simOverhead },
    scheduled,
    overModel: spread(live.overModel.filter((x) => !Number.isNaN(x))),
    ...(inCluster ? { inCluster } : {}),
    latency: {
      live: { p50: liveSummary.latency.p50, p99: liveSummary.latency.p99 },
      simulated: { p50: sims.scheduled.latency.p50, p99: sims.scheduled.latency.p99 },
    },
    decisionsDiffer: differ,
  };
}
