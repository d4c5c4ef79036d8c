// The dispatcher actor: serves the public `ms.infer.<model>` (queue group "dispatchers", so
// several dispatchers can share the subject) and owns the client's reply: exactly one per request
// — ok (from the completion), rejected (with the estimate), or error (bad request, unknown model,
// vanished group, no completion by the deadline + grace). It wires NATS and the bus to the parts
// that live beside it:
//   requests.ts   the life of one request, from receipt to its one reply
//   ingress.ts    reading and validating a request
//   admission.ts  earliest estimated finish, rejection on arrival
//   groups.ts     the mesh groups in force and their health; health.ts announces changes
//   lateness.ts   correcting a group's clocks from its completions
//   peers.ts, peer-view.ts   sharing bookings with the other dispatchers
//   stats.ts, metrics.ts, rates.ts   what it reports
import type { Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import {
  type ActorContext,
  type ArgSchemas,
  encode,
  type Logger,
  Outbox,
  PresenceWatch,
  parseOrThrow,
  type RegistryEntry,
  safeSubscribe,
} from '../../bus/index.js';
import { DISPATCHER_DEFAULTS, type DispatcherOptions, probeIntervalMs } from '../../config/dispatcher.js';
import { nowSeconds } from '../clock.js';
import { RuntimeKeys } from '../protocol/keys.js';
import { GPU_WORKER_KIND } from '../protocol/messages.js';
import { RuntimePlacement } from '../protocol/placement.js';
import { followPlacements } from '../protocol/placement-feed.js';
import { RuntimeSubjects } from '../protocol/subjects.js';
import { Claims } from './claims.js';
import { GroupTable } from './groups.js';
import { GroupHealth } from './health.js';
import { DispatcherMetrics } from './metrics.js';
import { applyPeerNote, clocksFor } from './peer-view.js';
import { DispatcherPeers } from './peers.js';
import { RateWriter } from './rates.js';
import { Requests } from './requests.js';
import { type DispatcherStats, ModelCounters, ms, NO_LATENCY } from './stats.js';

export type { DispatcherOptions };

/**
 * After this dispatcher reconnects to NATS, the others (workers) may still be reconnecting: for
 * this long (ms) "no responders" means "not back yet", not "gone".
 */
const RECONNECT_SETTLE_MS = 1_000;

export class Dispatcher {
  private ctx!: ActorContext;
  private log!: Logger;
  private subjects!: RuntimeSubjects;
  private completionBase = '';
  /** The subscription of `ms.infer.>`, drained first on stop. */
  private ingress: Subscription | undefined;
  private readonly subs: Subscription[] = [];
  private requests!: Requests;
  private readonly counters = new Map<string, ModelCounters>();
  private readonly prometheus = new DispatcherMetrics({
    models: () =>
      [...this.counters].map(([model, c]) => ({
        model,
        requests: c.requests,
        withinSlo: c.withinSlo,
        rejected: c.rejected,
        errors: c.errors,
      })),
    groups: () => this.table.all(),
    placementVersion: () => this.table.version,
  });
  private readonly table = new GroupTable((g) => this.prometheus.removeGroup(g.id));
  private health!: GroupHealth;
  private presence: PresenceWatch | undefined;
  private probeInterval = 0.25;
  /** Stage work and client replies: held while NATS is down instead of dropped. */
  private outbox!: Outbox;
  private peers: DispatcherPeers | undefined;
  private rates: RateWriter | undefined;
  private stopEvents: Array<() => void> = [];
  /** Epoch ms of this dispatcher's last NATS reconnect. */
  private reconnectedAt = 0;
  private readonly options: Required<Omit<DispatcherOptions, 'probeIntervalMs'>> & DispatcherOptions;

  /** Argument schemas, validated on receipt by the bus. */
  static readonly argSchemas: ArgSchemas<Dispatcher> = { stats: z.tuple([]), metrics: z.tuple([]) };

  constructor(options: DispatcherOptions = {}) {
    this.options = { ...DISPATCHER_DEFAULTS, ...options };
  }

  async onStart(ctx: ActorContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.log;
    this.subjects = new RuntimeSubjects(ctx.subjects);
    const keys = new RuntimeKeys(ctx.subjects.prefix);
    this.completionBase = this.subjects.completionBase(ctx.id);
    this.outbox = new Outbox(ctx, { log: this.log });
    this.health = new GroupHealth(this.table, {
      dispatcher: ctx.id,
      log: this.log,
      publish: (event) => ctx.nats.publish(this.subjects.event(event.kind), encode(event)),
    });
    const probeMs = probeIntervalMs(this.options, ctx.heartbeatIntervalMs);
    this.probeInterval = probeMs / 1000;
    this.requests = new Requests({
      dispatcher: ctx.id,
      log: this.log,
      table: this.table,
      health: this.health,
      outbox: this.outbox,
      completionBase: this.completionBase,
      ridSuffix: `-${ctx.id.slice(-10).toLowerCase()}`,
      inferPrefixLength: this.subjects.inferPrefixLength,
      options: this.options,
      probeInterval: this.probeInterval,
      counter: (model) => this.#counter(model),
      booked: (group, model, at) => {
        if (this.peers?.hasPeers)
          this.peers.note({ kind: 'booked', group: group.id, version: group.version, model, at });
      },
      served: (model, group, seconds) => this.prometheus.served(model, group, seconds),
      probe: (device) => this.presence?.probe(device),
      maxPayload: () => ctx.nats.info?.max_payload,
      claims: new Claims({ redis: ctx.redis, keys, self: ctx.id, log: this.log }),
      settleLeftMs: () => this.#settleLeftMs(),
      // Not through the outbox: a worker that hears nothing sends the completion again.
      ack: (msg) => {
        if (msg.reply && ctx.connected) ctx.nats.publish(msg.reply);
      },
      alive: async (id) => {
        if (!ctx.redis) return false;
        try {
          return (await ctx.list()).some((a) => a.id === id);
        } catch {
          return true; // cannot tell: not known dead
        }
      },
    });
    this.presence = new PresenceWatch(ctx, {
      intervalMs: probeMs,
      log: this.log,
      onChange: (device, present) => {
        if (present) this.health.deviceBack(device, nowSeconds());
        // Just reconnected ourselves: the device may not be back on NATS yet; ask again later.
        else if (this.#settleLeftMs() > 0) this.presence?.forget(device);
        else this.#deviceLost(device, `device ${device} is not on NATS (no responders to its ping)`, true);
      },
      // Ping only where a crash would lose requests: a group holding some that has completed
      // none within the interval (completions prove every device of it alive). An idle group
      // needs no ping: a request sent to a vanished stage is answered "no responders" at once.
      due: (device) => {
        const since = nowSeconds() - this.probeInterval;
        return this.table.groupsOf(device).some((g) => g.inflight > 0 && g.lastOkAt < since);
      },
    });
    const onReconnect = (): void => {
      this.reconnectedAt = Date.now();
    };
    ctx.events.on('reconnect', onReconnect);
    this.stopEvents.push(() => ctx.events.off('reconnect', onReconnect));
    const current = await ctx.redis?.get(keys.currentPlacement());
    if (current) {
      try {
        this.#usePlacement(parseOrThrow(RuntimePlacement, JSON.parse(current), 'current placement'));
      } catch (err) {
        this.log.warn({ err }, 'ignoring the stored placement');
      }
    }
    this.ingress = safeSubscribe(ctx.nats, this.subjects.inferWildcard, (msg) => this.requests.take(msg), {
      queue: 'dispatchers',
      log: this.log,
      what: 'requests',
    });
    this.peers = new DispatcherPeers({
      nc: ctx.nats,
      subject: this.subjects.dispatchPeers,
      self: ctx.id,
      log: this.log,
      apply: (n) => applyPeerNote(this.table, n, nowSeconds(), this.log),
      snapshot: (to) => clocksFor(this.table, to, nowSeconds()),
    });
    this.subs.push(
      followPlacements(ctx.nats, this.subjects, this.log, (placement) => this.#usePlacement(placement)),
      safeSubscribe(ctx.nats, `${this.completionBase}*`, (msg) => this.requests.complete(msg), {
        log: this.log,
        what: 'completions',
      }),
      // Completions whose owner was gone (any dispatcher's, ours while we reconnected): one of us takes each.
      safeSubscribe(ctx.nats, this.subjects.orphanWildcard, (msg) => this.requests.adopt(msg), {
        queue: 'dispatchers',
        log: this.log,
        what: 'orphaned completions',
      }),
      this.ingress,
      this.peers.subscription,
    );
    // A device that dies or leaves takes its groups out of routing at once. A stopping device
    // drained what it held; a dead one lost it, so its requests are routed again.
    const gone = (name: string, lost: boolean): void => {
      this.#deviceLost(name, `device ${name} ${lost ? 'died (registry heartbeat expired)' : 'stopped'}`, lost);
      this.presence?.suspect(name); // reported again once it answers (a restarted worker)
    };
    // A dead incarnation that already has a live successor (a worker restarted by its supervisor)
    // is not a lost device: the successor serves its stages.
    const dead = async (actor: RegistryEntry): Promise<void> => {
      const live = await ctx.list({ name: actor.name }).catch(() => []);
      if (live.some((a) => a.id !== actor.id && a.state === 'ready'))
        this.log.info({ device: actor.name, actorId: actor.id }, 'a dead incarnation of a live device: ignored');
      else gone(actor.name, true);
    };
    this.stopEvents.push(
      ctx.onEvent('actor.stopped', (e) => e.actor.kind === GPU_WORKER_KIND && gone(e.actor.name, false)),
      ctx.onEvent('actor.dead', (e) => e.actor.kind === GPU_WORKER_KIND && void dead(e.actor)),
    );
    await ctx.nats.flush();
    if (ctx.redis && this.options.rateIntervalMs > 0) {
      this.rates = new RateWriter(ctx.redis, keys, this.counters, this.options.rateIntervalMs, this.log);
    }
  }

  async onStop(): Promise<void> {
    this.rates?.stop();
    this.presence?.stop();
    this.peers?.stop();
    for (const stop of this.stopEvents) stop();
    // Stop taking requests, then wait (bounded by each request's own timer) for those in flight.
    await this.ingress?.drain().catch(() => undefined);
    const until = Date.now() + this.options.graceMs + 1_000;
    while (this.requests.inflight.size && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await this.requests.abandonAll('dispatcher stopped before the request completed');
    for (const sub of this.subs) sub.unsubscribe();
    this.outbox.close();
  }

  /** Live counters per model and per group. */
  async stats(): Promise<DispatcherStats> {
    const now = nowSeconds();
    const latency = await this.prometheus.latencies();
    const models: DispatcherStats['models'] = {};
    const totals = { requests: 0, ok: 0, withinSlo: 0, rejected: 0, errors: 0 };
    for (const [name, c] of this.counters) {
      models[name] = c.snapshot(latency.models.get(name) ?? NO_LATENCY);
      totals.requests += c.requests;
      totals.ok += c.ok;
      totals.withinSlo += c.withinSlo;
      totals.rejected += c.rejected;
      totals.errors += c.errors;
    }
    const groups = [...this.table.all()].map((g) => ({
      id: g.id,
      version: g.version,
      models: [...g.models],
      routed: g.routed,
      ok: g.ok,
      errors: g.errors,
      inflight: g.inflight,
      backlogMs: Math.max(0, ms(g.latency.clocks.firstStageFree - now)),
      dead: !this.table.routable(g, now),
      lostDevices: this.table.lostDevices(g),
      current: g.version === this.table.version,
      latencySeconds: latency.groups.get(g.id) ?? NO_LATENCY,
    }));
    const peers = {
      present: this.peers?.hasPeers ?? false,
      notesSent: this.peers?.sent ?? 0,
      notesReceived: this.peers?.received ?? 0,
    };
    return {
      dispatcher: this.ctx.id,
      placementVersion: this.table.version,
      inflight: this.requests.inflight.size,
      totals: { ...totals, adopted: this.requests.adopted, yielded: this.requests.yielded },
      peers,
      models,
      groups,
    };
  }

  /** The Prometheus text exposition of this dispatcher's metrics. */
  metrics(): Promise<string> {
    return this.prometheus.text();
  }

  #usePlacement(p: RuntimePlacement): void {
    const fresh = this.table.use(p, (group) => this.subjects.stage(group, 0));
    if (!fresh) return;
    for (const g of fresh) this.prometheus.addGroup(g.id);
    this.health.placed(fresh);
    this.presence?.watch(this.table.devices());
    this.log.info({ version: p.version, groups: p.groups.length }, 'placement in force');
  }

  /** Takes every group with `device` out of routing; with `retryInflight`, routes their requests again. */
  #deviceLost(device: string, reason: string, retryInflight: boolean): void {
    const hit = new Set(this.health.deviceLost(device, reason));
    if (!retryInflight || !hit.size) return;
    for (const inf of [...this.requests.inflight.values()])
      if (hit.has(inf.group)) this.requests.retry(inf, `group ${inf.group.id} failed: ${reason}`);
  }

  /** How long "no responders" is still taken for "reconnecting" after our own reconnect (ms). */
  #settleLeftMs(): number {
    return Math.max(0, this.reconnectedAt + RECONNECT_SETTLE_MS - Date.now());
  }

  #counter(model: string): ModelCounters {
    let c = this.counters.get(model);
    if (!c) {
      c = new ModelCounters();
      this.counters.set(model, c);
      this.prometheus.addModel(model);
    }
    return c;
  }
}
