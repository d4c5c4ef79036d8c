// The dispatcher actor: serves the public `ms.infer.<model>` (queue group "dispatchers", so
// several dispatchers can share the subject), routes each request to the mesh group with the
// earliest estimated finish (the planner's GroupLatencyModel, the simulator's model), rejects at
// once what cannot meet its deadline, and owns the client's reply: exactly one per request —
// ok (from the completion), rejected (with the estimate), or error (bad request, unknown model,
// vanished group, no completion by the deadline + grace).
//
// Estimates are corrected from completions: a group running late shifts its future clocks by
// the lateness; a group with nothing in flight is pulled back to "idle now". Several dispatchers
// keep each other's bookings on their clocks (dispatcher-peers.ts).
//
// Fault domains are mesh groups. A group leaves routing when one of its devices is lost — its
// ping finds nobody on NATS (a crashed process; pinged while its group holds requests and has
// stopped completing them), the registry declares it dead (heartbeat expired) or it stopped — and
// comes back when the device answers again; requests in flight on a group that lost a device are
// routed again once while their deadline allows. A "no responders" on a stage subject (a crashed
// device, or one not yet resubscribed after a NATS reconnect) takes the group out for a back-off
// that doubles while it repeats, and pings its devices at once.
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { ulid } from 'ulid';
import {
  decode, encode, encodingOf, formatIssues, headersFor, isNoResponders, Outbox, parseOrThrow, PresenceWatch, respondError, respondMalformed, safeSubscribe,
  type ActorContext, type ArgSchemas, type Encoding, type Logger,
} from '../bus/index.js';
import { z } from 'zod';
import type { GroupLatencyModel } from '../planner/latency-model.js';
import { nowSeconds } from './clock.js';
import { ModelCounters, ms, type DispatcherStats } from './dispatcher-stats.js';
import { emptyHistogram, observe, type LatencyHistogram as BucketHistogram } from './metrics.js';
import { Completion, GPU_WORKER_KIND, InferRequest, RuntimeKeys, RuntimePlacement, RuntimeSubjects, type GroupEvent, type InferReply, type PeerNote, type StageWork } from './protocol.js';
import { DispatcherPeers } from './dispatcher-peers.js';
import { naturalOrder } from './natural-order.js';
import { followPlacements } from './placement-feed.js';
import { groupLatencyModel } from './runtime-placement.js';

export interface DispatcherOptions {
  /** Extra time after a request's deadline before it is answered with a timeout error (ms). Default 2000. */
  graceMs?: number;
  /** Timeout of requests without an SLO (ms). Default 60 000. */
  noSloTimeoutMs?: number;
  /** How often observed per-model rates are written to Redis (ms). Default 5000; 0 = never. */
  rateIntervalMs?: number;
  /** How often every device of the groups in use is pinged (ms). Default a quarter of the registry heartbeat interval. */
  probeIntervalMs?: number;
}

/** A peer's view of a group further ahead than this is not believed (s): it would block the group. */
const PEER_MAX_AHEAD = 300;

/** Longest a group stays out of routing after repeated "no responders" before it is tried again (s). */
const MAX_BACKOFF = 5;

interface GroupState {
  readonly id: string;
  readonly version: number;
  readonly models: readonly string[];
  readonly devices: ReadonlySet<string>;
  readonly latency: GroupLatencyModel;
  readonly firstStage: string;
  /** Total clock shift applied from lateness corrections (seconds). */
  shift: number;
  inflight: number;
  routed: number;
  ok: number;
  errors: number;
  /** Served requests' latency in the metrics endpoint's buckets (ms). */
  readonly latencyBuckets: BucketHistogram;
  /** Its devices currently lost; the group is out of routing while any is. */
  readonly lost: Set<string>;
  /** Out of routing until then (epoch s) after "no responders"; the back-off doubles while that repeats. */
  retryAt: number;
  backoff: number;
  /** Last announced routing state (group.out / group.in events). */
  out: boolean;
  /** Epoch s of its last successful completion: every device of it was alive then. */
  lastOkAt: number;
  /** Estimated exit of the last request other dispatchers booked here: not idle before then. */
  peerBusyUntil: number;
}

interface Inflight {
  /** Internal id, also the last token of the completion subject; a retry gets a new one. */
  rid: string;
  readonly id: string;
  readonly model: string;
  readonly reply: string;
  readonly encoding: Encoding;
  readonly arrival: number;
  readonly deadline: number;
  readonly input: unknown;
  group: GroupState;
  dispatched: number;
  /** Estimated exit of the last stage (seconds, without the fixed overhead) and finish (with it). */
  estimatedExit: number;
  estimatedFinish: number;
  shiftAtCommit: number;
  /** The group whose failure made it be routed again (it is routed again at most once). */
  retriedFrom: string | undefined;
  timer: NodeJS.Timeout;
}

export class Dispatcher {
  private nc!: NatsConnection;
  private redis: Redis | undefined;
  private log!: Logger;
  private subjects!: RuntimeSubjects;
  private keys!: RuntimeKeys;
  private dispatcherId = '';
  private completionBase = '';
  private readonly subs: Subscription[] = [];
  private readonly inflight = new Map<string, Inflight>();
  private nextRid = 0;
  /**
   * Appended to every request id: stage shards key their partial results by it, and requests of
   * several dispatchers meet in the same groups. The random end of this dispatcher's ULID.
   */
  private ridSuffix = '';
  private version = 0;
  /** Groups of the placement in force, by model (in placement order). */
  private routes = new Map<string, GroupState[]>();
  /** Every group still referenced (current placement, plus old ones with requests in flight). */
  private readonly groups = new Map<string, GroupState>();
  private readonly counters = new Map<string, ModelCounters>();
  private readonly graceMs: number;
  private readonly noSloTimeoutMs: number;
  private readonly rateIntervalMs: number;
  private rateTimer: NodeJS.Timeout | undefined;
  private lastRateAt = 0;
  private stopEvents: Array<() => void> = [];
  /** Devices known lost, with why (they stay lost across placements until they answer a ping). */
  private readonly lostDevices = new Map<string, string>();
  /** The groups each device of a group in use belongs to. */
  private deviceGroups = new Map<string, GroupState[]>();
  private presence: PresenceWatch | undefined;
  private probeInterval = 0.25;
  /** Stage work and client replies: held while NATS is down instead of dropped. */
  private outbox!: Outbox;
  private peers: DispatcherPeers | undefined;

  /** Argument schemas, validated on receipt by the bus. */
  static readonly argSchemas: ArgSchemas<Dispatcher> = { stats: z.tuple([]) };

  constructor(private readonly options: DispatcherOptions = {}) {
    this.graceMs = options.graceMs ?? 2_000;
    this.noSloTimeoutMs = options.noSloTimeoutMs ?? 60_000;
    this.rateIntervalMs = options.rateIntervalMs ?? 5_000;
  }

  async onStart(ctx: ActorContext): Promise<void> {
    this.nc = ctx.nats;
    this.redis = ctx.system.redis;
    this.log = ctx.log;
    this.subjects = new RuntimeSubjects(ctx.subjects);
    this.keys = new RuntimeKeys(ctx.subjects.prefix);
    this.dispatcherId = ctx.id;
    this.ridSuffix = `-${ctx.id.slice(-10).toLowerCase()}`;
    this.completionBase = this.subjects.completionBase(this.dispatcherId);
    this.outbox = new Outbox(ctx.system, { log: this.log });
    const probeMs = this.options.probeIntervalMs ?? Math.max(50, (ctx.system.registry?.heartbeatIntervalMs ?? 1_000) / 4);
    this.probeInterval = probeMs / 1000;
    this.presence = new PresenceWatch(ctx.system, {
      intervalMs: probeMs,
      log: this.log,
      onChange: (device, present) => (present ? this.#deviceBack(device) : this.#deviceLost(device, `device ${device} is not on NATS (no responders to its ping)`, true)),
      // Ping only where a crash would lose requests: a group holding some that has completed
      // none within the interval (completions prove every device of it alive). An idle group
      // needs no ping: a request sent to a vanished stage is answered "no responders" at once.
      due: (device) => {
        const since = nowSeconds() - this.probeInterval;
        return this.deviceGroups.get(device)?.some((g) => g.inflight > 0 && g.lastOkAt < since) ?? false;
      },
    });
    const current = await this.redis?.get(this.keys.currentPlacement());
    if (current) {
      try {
        this.#usePlacement(parseOrThrow(RuntimePlacement, JSON.parse(current), 'current placement'));
      } catch (err) {
        this.log.warn({ err }, 'ignoring the stored placement');
      }
    }
    this.subs.push(
      followPlacements(this.nc, this.subjects, this.log, (placement) => this.#usePlacement(placement)),
      safeSubscribe(this.nc, `${this.completionBase}*`, (msg) => this.#complete(msg), { log: this.log, what: 'completions' }),
      safeSubscribe(this.nc, this.subjects.inferWildcard, (msg) => this.#request(msg), { queue: 'dispatchers', log: this.log, what: 'requests' }),
    );
    this.peers = new DispatcherPeers({
      nc: this.nc, subject: this.subjects.dispatchPeers, self: this.dispatcherId, log: this.log,
      apply: (n) => this.#peerNote(n), snapshot: (to) => this.#clocksFor(to),
    });
    this.subs.push(this.peers.subscription);
    // A device that dies or leaves takes its groups out of routing at once. A stopping device
    // drained what it held; a dead one lost it, so its requests are routed again.
    const gone = (name: string, lost: boolean): void => {
      this.#deviceLost(name, `device ${name} ${lost ? 'died (registry heartbeat expired)' : 'stopped'}`, lost);
      this.presence?.suspect(name); // reported again once it answers (a restarted worker)
    };
    this.stopEvents.push(ctx.system.onEvent('actor.stopped', (e) => { if (e.actor.kind === GPU_WORKER_KIND) gone(e.actor.name, false); }));
    this.stopEvents.push(ctx.system.onEvent('actor.dead', (e) => { if (e.actor.kind === GPU_WORKER_KIND) gone(e.actor.name, true); }));
    await this.nc.flush();
    if (this.redis && this.rateIntervalMs > 0) {
      this.lastRateAt = Date.now();
      this.rateTimer = setInterval(() => void this.#writeRates(), this.rateIntervalMs);
      this.rateTimer.unref();
    }
  }

  async onStop(): Promise<void> {
    clearInterval(this.rateTimer);
    this.presence?.stop();
    this.peers?.stop();
    for (const stop of this.stopEvents) stop();
    // Stop taking requests, then wait (bounded by each request's own timer) for those in flight.
    await this.subs[2]?.drain().catch(() => undefined);
    const until = Date.now() + this.graceMs + 1_000;
    while (this.inflight.size && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const inf of [...this.inflight.values()]) { this.#release(inf); this.#finishError(inf, 'dispatcher stopped before the request completed'); }
    for (const sub of this.subs) sub.unsubscribe();
    this.outbox.close();
  }

  /** Live counters per model and per group (also the source of the Prometheus endpoint). */
  stats(): DispatcherStats {
    const now = nowSeconds();
    const models: DispatcherStats['models'] = {};
    const totals = { requests: 0, ok: 0, withinSlo: 0, rejected: 0, errors: 0 };
    for (const [name, c] of this.counters) {
      models[name] = c.snapshot();
      totals.requests += c.requests;
      totals.ok += c.ok;
      totals.withinSlo += c.withinSlo;
      totals.rejected += c.rejected;
      totals.errors += c.errors;
    }
    const groups = [...this.groups.values()].map((g) => ({
      id: g.id, version: g.version, models: [...g.models], routed: g.routed, ok: g.ok, errors: g.errors, inflight: g.inflight,
      backlogMs: Math.max(0, ms(g.latency.clocks.firstStageFree - now)), dead: !this.#routable(g, now), lostDevices: [...g.lost], current: g.version === this.version,
      latencyMs: { ...g.latencyBuckets, counts: [...g.latencyBuckets.counts] },
    }));
    const peers = { present: this.peers?.hasPeers ?? false, notesSent: this.peers?.sent ?? 0, notesReceived: this.peers?.received ?? 0 };
    return { dispatcher: this.dispatcherId, placementVersion: this.version, inflight: this.inflight.size, totals, peers, models, groups };
  }

  // ---- placement ----------------------------------------------------------------------------

  #usePlacement(p: RuntimePlacement): void {
    if (p.version <= this.version) return;
    const routes = new Map<string, GroupState[]>();
    const fresh: GroupState[] = [];
    for (const g of p.groups) {
      const devices = new Set(g.devices.flat());
      const state: GroupState = {
        id: g.id, version: p.version, models: g.models, devices, latency: groupLatencyModel(p, g),
        firstStage: this.subjects.stage(g.id, 0), shift: 0, inflight: 0, routed: 0, ok: 0, errors: 0, latencyBuckets: emptyHistogram(),
        lost: new Set([...devices].filter((d) => this.lostDevices.has(d))), retryAt: 0, backoff: 0, out: false, lastOkAt: 0, peerBusyUntil: 0,
      };
      fresh.push(state);
      for (const m of g.models) {
        let list = routes.get(m);
        if (!list) routes.set(m, (list = []));
        list.push(state);
      }
    }
    this.version = p.version;
    this.routes = routes;
    for (const [id, g] of this.groups) if (g.inflight === 0) this.groups.delete(id);
    for (const g of fresh) {
      this.groups.set(g.id, g);
      if (g.lost.size) this.#setOut(g, `device ${[...g.lost].join(', ')} lost`);
    }
    this.#watchDevices();
    this.log.info({ version: p.version, groups: p.groups.length }, 'placement in force');
  }

  // ---- device and group health ---------------------------------------------------------------

  #watchDevices(): void {
    const byDevice = new Map<string, GroupState[]>();
    for (const g of this.groups.values()) for (const d of g.devices) (byDevice.get(d) ?? byDevice.set(d, []).get(d)!).push(g);
    this.deviceGroups = byDevice;
    this.presence?.watch(byDevice.keys());
    for (const d of [...this.lostDevices.keys()]) if (!byDevice.has(d)) this.lostDevices.delete(d);
  }

  /** Takes every group with `device` out of routing; with `retryInflight`, routes their requests again. */
  #deviceLost(device: string, reason: string, retryInflight: boolean): void {
    const hit = new Set<GroupState>();
    for (const g of this.groups.values()) {
      if (!g.devices.has(device)) continue;
      hit.add(g);
      g.lost.add(device);
      this.#setOut(g, reason);
    }
    if (!hit.size) return;
    this.lostDevices.set(device, reason);
    if (!retryInflight) return;
    for (const inf of [...this.inflight.values()]) if (hit.has(inf.group)) this.#retry(inf, `group ${inf.group.id} failed: ${reason}`);
  }

  #deviceBack(device: string): void {
    if (!this.lostDevices.delete(device)) return;
    const now = nowSeconds();
    for (const g of this.groups.values()) {
      if (g.lost.delete(device) && this.#routable(g, now)) this.#setIn(g);
    }
  }

  #routable(g: GroupState, now: number): boolean {
    return g.lost.size === 0 && now >= g.retryAt;
  }

  #setOut(g: GroupState, reason: string): void {
    if (g.out) return;
    g.out = true;
    this.log.warn({ group: g.id, reason }, 'group taken out of routing');
    this.#groupEvent({ kind: 'group.out', group: g.id, version: g.version, dispatcher: this.dispatcherId, reason, at: Date.now() });
  }

  #setIn(g: GroupState): void {
    if (!g.out) return;
    g.out = false;
    this.log.info({ group: g.id }, 'group back in routing');
    this.#groupEvent({ kind: 'group.in', group: g.id, version: g.version, dispatcher: this.dispatcherId, at: Date.now() });
  }

  #groupEvent(event: GroupEvent): void {
    try {
      this.nc.publish(this.subjects.event(event.kind), encode(event));
    } catch (err) {
      this.log.warn({ err }, 'could not publish a group event');
    }
  }

  /** Routes a request again (once, while its deadline allows) after its group failed it; else answers with the failure. */
  #retry(inf: Inflight, why: string): void {
    const g = inf.group;
    this.#release(inf);
    g.errors++;
    const groups = this.routes.get(inf.model);
    if (inf.retriedFrom !== undefined) return this.#finishError(inf, `${why} (after a retry from group ${inf.retriedFrom})`);
    if (nowSeconds() >= inf.deadline) return this.#finishError(inf, `${why}; its deadline has passed, no retry`);
    if (!groups) return this.#finishError(inf, `${why}; model "${inf.model}" is no longer served`);
    inf.retriedFrom = g.id;
    // A fresh id: a late completion from the failed group can no longer answer it.
    inf.rid = this.#newRid();
    this.#route(inf, groups, nowSeconds(), why);
  }

  // ---- requests -----------------------------------------------------------------------------

  #counter(model: string): ModelCounters {
    let c = this.counters.get(model);
    if (!c) this.counters.set(model, (c = new ModelCounters()));
    return c;
  }

  #request(msg: Msg): void {
    const arrival = nowSeconds();
    const model = msg.subject.slice(this.subjects.inferPrefixLength);
    let encoding: Encoding = 'msgpack';
    let id = '';
    try {
      if (!msg.reply) {
        this.log.debug({ subject: msg.subject }, 'request without a reply subject dropped');
        return;
      }
      try {
        encoding = encodingOf(msg.headers);
      } catch (err) {
        this.#answerError(msg.reply, encoding, '', model, arrival, `unparsable message headers: ${(err as Error).message}`);
        return;
      }
      let body: unknown;
      try {
        body = decode(msg.data, encoding) ?? {};
      } catch (err) {
        this.#answerError(msg.reply, encoding, '', model, arrival, `malformed ${encoding} body: ${(err as Error).message}`);
        return;
      }
      if (typeof body === 'object' && body !== null && typeof (body as { id?: unknown }).id === 'string') id = (body as { id: string }).id;
      const parsed = InferRequest.safeParse(body);
      if (!parsed.success) {
        this.#answerError(msg.reply, encoding, id, model, arrival, `invalid request: ${formatIssues(parsed.error)}`);
        return;
      }
      const req = parsed.data;
      id = req.id ?? ulid();
      const groups = this.routes.get(model);
      if (!groups) {
        const known = [...this.routes.keys()].sort(naturalOrder);
        this.#answerError(msg.reply, encoding, id, model, arrival, `model "${model}" is not served${known.length ? ` (served: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})` : ' (no placement yet)'}`);
        return;
      }
      const counters = this.#counter(model);
      counters.requests++;
      counters.windowRequests++;
      const deadline = req.slo === undefined ? Infinity : arrival + req.slo;
      const inf: Inflight = {
        rid: this.#newRid(), id, model, reply: msg.reply, encoding, arrival, deadline, input: req.input,
        group: undefined as unknown as GroupState, dispatched: 0, estimatedExit: 0, estimatedFinish: 0, shiftAtCommit: 0, retriedFrom: undefined,
        timer: undefined as unknown as NodeJS.Timeout,
      };
      this.#route(inf, groups, arrival);
    } catch (err) {
      this.log.error({ err, subject: msg.subject }, 'request handling failed');
      if (msg.reply) this.#answerError(msg.reply, encoding, id, model, arrival, `internal error: ${(err as Error).message}`);
    }
  }

  /**
   * Earliest estimated finish among routable groups; rejects when even that misses the deadline.
   * A retry (`failure` says what failed it) that cannot make it is answered with that failure.
   */
  #route(inf: Inflight, groups: readonly GroupState[], t: number, failure?: string): void {
    let best: GroupState | undefined;
    let bestFinish = Infinity;
    for (const g of groups) {
      if (!this.#routable(g, t)) continue;
      if (g.out) this.#setIn(g); // its back-off is over
      const finish = g.latency.tentativeFinish(inf.model, t);
      if (finish < bestFinish) {
        bestFinish = finish;
        best = g;
      }
    }
    if (!best) {
      this.#finishError(inf, `${failure ? `${failure}; ` : ''}no live group serves model "${inf.model}"`);
      return;
    }
    if (bestFinish > inf.deadline && failure) {
      this.#finishError(inf, `${failure}; a retry on group ${best.id} would finish ${ms(bestFinish - inf.deadline).toFixed(1)} ms past the deadline`);
      return;
    }
    if (bestFinish > inf.deadline) {
      const c = this.#counter(inf.model);
      c.rejected++;
      best.routed++;
      this.#send(inf.reply, inf.encoding, {
        id: inf.id, model: inf.model, status: 'rejected', group: best.id,
        reason: `earliest estimated finish ${ms(bestFinish - inf.arrival).toFixed(1)} ms (group ${best.id}) exceeds the SLO of ${ms(inf.deadline - inf.arrival).toFixed(1)} ms`,
        timings: this.#timings(inf.arrival, { estimatedFinish: bestFinish * 1000 }),
      });
      return;
    }
    const finish = best.latency.commit(inf.model, t);
    if (this.peers?.hasPeers) this.peers.note({ kind: 'booked', group: best.id, version: best.version, model: inf.model, at: t });
    inf.group = best;
    inf.estimatedFinish = finish;
    inf.estimatedExit = finish - best.latency.clocks.overhead;
    inf.shiftAtCommit = best.shift;
    best.routed++;
    best.inflight++;
    this.inflight.set(inf.rid, inf);
    const timeoutMs = inf.deadline === Infinity ? this.noSloTimeoutMs : (inf.deadline - nowSeconds()) * 1000 + this.graceMs;
    clearTimeout(inf.timer);
    inf.timer = setTimeout(() => this.#timedOut(inf.rid), Math.max(0, timeoutMs));
    const work: StageWork = { rid: inf.rid, model: inf.model, group: best.id, stage: 0, input: inf.input, done: this.completionBase + inf.rid };
    inf.dispatched = nowSeconds();
    try {
      // The reply subject turns a vanished stage into an immediate "no responders" at `done`.
      this.outbox.publish(best.firstStage, encode(work), { reply: work.done });
    } catch (err) {
      this.#release(inf);
      const max = this.nc.info?.max_payload;
      const tooLarge = /max_payload/.test((err as Error).message) && max !== undefined;
      this.#finishError(inf, tooLarge ? `input too large: the stage message exceeds the NATS max payload of ${max} bytes (send large tensors in chunks or raise max_payload)` : `could not dispatch: ${(err as Error).message}`);
    }
  }

  #complete(msg: Msg): void {
    const rid = msg.subject.slice(this.completionBase.length);
    const inf = this.inflight.get(rid);
    if (!inf) {
      // Already answered (timeout, retry) or a duplicate; workers never ask for a reply, anyone else is told.
      respondError(msg, { name: 'UnknownRequestError', message: `no request "${rid}" is in flight at dispatcher ${this.dispatcherId}`, code: 'UNKNOWN_REQUEST' }, this.log);
      return;
    }
    if (isNoResponders(msg)) {
      this.#noResponders(inf);
      return;
    }
    let done: Completion;
    try {
      done = parseOrThrow(Completion, decode(msg.data), 'completion');
    } catch (err) {
      this.log.warn({ err, rid }, 'invalid completion');
      respondMalformed(msg, 'completion', err, this.log);
      return; // the request's timer answers it
    }
    const g = inf.group;
    this.#release(inf);
    this.#correct(g, inf, done.finish);
    if (!done.ok) {
      g.errors++;
      this.#finishError(inf, done.error ?? 'stage failed');
      return;
    }
    g.ok++;
    g.backoff = 0;
    const replied = nowSeconds();
    g.lastOkAt = replied;
    const within = replied <= inf.deadline;
    this.#counter(inf.model).served(replied - inf.arrival, within);
    observe(g.latencyBuckets, (replied - inf.arrival) * 1000);
    this.#send(inf.reply, inf.encoding, {
      id: inf.id, model: inf.model, status: 'ok', output: done.output, group: g.id,
      ...(inf.deadline === Infinity ? {} : { withinSlo: within }),
      ...(inf.retriedFrom === undefined ? {} : { retriedFrom: inf.retriedFrom }),
      timings: this.#timings(inf.arrival, {
        dispatched: inf.dispatched * 1000, start: done.start === undefined ? undefined : done.start * 1000, finish: done.finish * 1000,
        estimatedFinish: inf.estimatedFinish * 1000, replied: replied * 1000,
      }),
    });
  }

  /**
   * Lateness correction: when a request exits later than estimated by more than the model's fixed
   * overhead allowance (which already covers the hops), the group's future clocks move by the
   * excess. Lateness within the allowance is expected and left alone, so that the dispatcher's
   * clocks stay the simulator's.
   */
  #correct(g: GroupState, inf: Inflight, actualExit: number): void {
    const clocks = g.latency.clocks;
    const now = nowSeconds();
    const late = actualExit - (inf.estimatedExit + (g.shift - inf.shiftAtCommit)) - clocks.overhead;
    if (late > 0 && (g.inflight > 0 || g.peerBusyUntil > now)) this.#shift(g, late, now);
    if (g.inflight === 0 && now >= g.peerBusyUntil) clocks.idleAt(now);
  }

  /** Moves the group's future clocks (and what other dispatchers booked there) by `by` seconds: a completion came late. */
  #shift(g: GroupState, by: number, now: number): void {
    const clocks = g.latency.clocks.clocks;
    for (let k = 0; k < clocks.length; k++) if (clocks[k] > now) clocks[k] += by;
    g.shift += by;
    if (g.peerBusyUntil > now) g.peerBusyUntil += by;
  }

  /**
   * Another dispatcher's booking, or its whole view of a group sent to us as a newcomer (taken
   * where it is ahead of ours; not believed beyond PEER_MAX_AHEAD: it would block the group).
   * Bookings are placed at receipt, on our clock: hosts' clocks differ, a note is under a
   * millisecond old.
   */
  #peerNote(n: PeerNote): void {
    const g = this.groups.get(n.group);
    if (!g || g.version !== n.version) return;
    const now = nowSeconds();
    if (n.kind === 'clocks') {
      const clocks = g.latency.clocks.clocks;
      if (n.ahead.length !== clocks.length || n.busyFor > PEER_MAX_AHEAD || n.ahead.some((a) => a > PEER_MAX_AHEAD)) {
        this.log.debug({ note: n }, 'ignoring an implausible peer view');
        return;
      }
      for (let k = 0; k < clocks.length; k++) clocks[k] = Math.max(clocks[k], now + n.ahead[k]);
      g.peerBusyUntil = Math.max(g.peerBusyUntil, now + n.busyFor);
      return;
    }
    if (!g.latency.hosts(n.model)) return;
    const exit = g.latency.commit(n.model, now) - g.latency.clocks.overhead;
    if (exit > g.peerBusyUntil) g.peerBusyUntil = exit;
  }

  /** Our view of every group of the placement in force, for a dispatcher that has just appeared. */
  #clocksFor(to: string): PeerNote[] {
    const now = nowSeconds();
    const notes: PeerNote[] = [];
    for (const g of this.groups.values()) {
      if (g.version !== this.version) continue;
      const clocks = g.latency.clocks;
      const busyUntil = Math.max(g.peerBusyUntil, clocks.lastStageFree);
      if (busyUntil <= now) continue; // idle: nothing to tell
      notes.push({ kind: 'clocks', group: g.id, version: g.version, to, ahead: Array.from(clocks.clocks, (c) => Math.max(0, c - now)), busyFor: busyUntil - now });
    }
    return notes;
  }

  /**
   * A stage of the group had nobody subscribed: out of routing for a back-off (doubling while it
   * repeats), its devices pinged at once — a crashed one is then lost and its requests rerouted.
   */
  #noResponders(inf: Inflight): void {
    const g = inf.group;
    const now = nowSeconds();
    if (now >= g.retryAt) {
      g.backoff = Math.min(MAX_BACKOFF, Math.max(this.probeInterval, 2 * g.backoff));
      g.retryAt = now + g.backoff;
      this.#setOut(g, `a stage of group ${g.id} has no responders`);
      for (const d of g.devices) this.presence?.probe(d);
    }
    this.#retry(inf, `group ${g.id} has a stage with no live workers (no responders)`);
  }

  #newRid(): string {
    return (this.nextRid++).toString(36) + this.ridSuffix;
  }

  #timedOut(rid: string): void {
    const inf = this.inflight.get(rid);
    if (!inf) return;
    this.#release(inf);
    inf.group.errors++;
    this.#finishError(inf, `no completion from group ${inf.group.id} by the deadline + ${this.graceMs} ms grace`);
  }

  #release(inf: Inflight): void {
    if (!this.inflight.delete(inf.rid)) return;
    clearTimeout(inf.timer);
    const g = inf.group;
    g.inflight--;
    if (g.inflight === 0 && g.version !== this.version) this.groups.delete(g.id);
  }

  #finishError(inf: Inflight, reason: string): void {
    this.#counter(inf.model).errors++;
    this.#send(inf.reply, inf.encoding, {
      id: inf.id, model: inf.model, status: 'error', reason, ...(inf.group ? { group: inf.group.id } : {}),
      ...(inf.retriedFrom === undefined ? {} : { retriedFrom: inf.retriedFrom }),
      timings: this.#timings(inf.arrival, inf.dispatched ? { dispatched: inf.dispatched * 1000 } : {}),
    });
  }

  /** Errors before a request is admitted (bad body, unknown model). */
  #answerError(reply: string, encoding: Encoding, id: string, model: string, arrival: number, reason: string): void {
    if (this.routes.has(model)) this.#counter(model).errors++;
    this.#send(reply, encoding, { id, model, status: 'error', reason, timings: this.#timings(arrival, {}) });
  }

  #timings(arrival: number, t: { dispatched?: number; start?: number; finish?: number; estimatedFinish?: number; replied?: number }): InferReply['timings'] {
    const a = arrival * 1000;
    const replied = t.replied ?? nowSeconds() * 1000;
    const out: InferReply['timings'] = { arrival: a, replied, total: replied - a };
    if (t.dispatched !== undefined) out.dispatched = t.dispatched;
    if (t.start !== undefined) {
      out.start = t.start;
      out.queue = t.start - a;
    }
    if (t.finish !== undefined) {
      out.finish = t.finish;
      if (t.start !== undefined) out.service = t.finish - t.start;
    }
    if (t.estimatedFinish !== undefined) out.estimatedFinish = t.estimatedFinish;
    return out;
  }

  #send(reply: string, encoding: Encoding, body: InferReply): void {
    try {
      this.outbox.publish(reply, encode(body, encoding), { headers: headersFor(encoding) as MsgHdrs | undefined });
    } catch (err) {
      this.log.warn({ err }, 'could not send reply');
    }
  }

  async #writeRates(): Promise<void> {
    if (!this.redis) return;
    const now = Date.now();
    const seconds = (now - this.lastRateAt) / 1000;
    this.lastRateAt = now;
    if (seconds <= 0) return;
    const tx = this.redis.multi();
    for (const [model, c] of this.counters) {
      tx.set(this.keys.rate(model), (c.windowRequests / seconds).toFixed(4), 'PX', this.rateIntervalMs * 3);
      c.windowRequests = 0;
    }
    await tx.exec().catch((err: unknown) => this.log.warn({ err }, 'could not write rates'));
  }
}
