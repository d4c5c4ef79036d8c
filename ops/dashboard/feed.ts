// What the live dashboard shows, gathered once a second from a running cluster: the dispatcher's
// counters (turned into per-model requests/s, attainment and rejections/s over a short sliding
// window, kept for the last minutes), the placement in force with each device's state, and the
// cluster's recent events (ms.events.>). Listeners get each new tick; the HTTP side (http.ts)
// streams them to browsers.
import type { Subscription } from '@nats-io/transport-node';
import { type ActorSystem, decode, decodeActorEvent, describeError, type RegistryEntry } from '../../bus/index.js';
import { meshserveVersion } from '../../config/version.js';
import { type DispatcherStats, isDispatcherStats } from '../../serving/dispatcher/stats.js';
import { naturalOrder } from '../../serving/natural-order.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { GPU_WORKER_KIND, GroupEvent } from '../../serving/protocol/messages.js';
import { RuntimePlacement } from '../../serving/protocol/placement.js';

export interface DashboardOptions {
  dispatcherName?: string;
  /** Sampling period (ms). Default 1000. */
  intervalMs?: number;
  /** How much history the charts keep (s). Default 600. */
  historySeconds?: number;
  /** The sliding window rates and attainment are computed over (s). Default 5. */
  windowSeconds?: number;
  /** Events kept. Default 50. */
  maxEvents?: number;
}

/** One chart point of one model: null where there is nothing to show (no request answered). */
export interface ModelPoint {
  rate: number;
  attainment: number | null;
  rejections: number;
}

export interface DeviceView {
  id: string;
  /** The worker's own state (ready, loading, draining…), else its registry state, else `gone`. */
  state: string;
}

export interface GroupView {
  id: string;
  pp: number;
  op: number;
  models: string[];
  /** devices[stage][shard]. */
  devices: DeviceView[][];
  /** From the dispatcher: out of routing, in flight, routed so far. */
  out: boolean;
  inflight: number;
  routed: number;
}

export interface DashboardEvent {
  /** Epoch ms. */
  at: number;
  kind: string;
  text: string;
}

/** Everything but the chart history: what every tick carries. */
export interface DashboardTick {
  /** Epoch s of this sample. */
  t: number;
  version: string;
  /** The dispatcher's totals, or why they are missing. */
  dispatcher: { totals: DispatcherStats['totals']; inflight: number } | { unavailable: string };
  models: string[];
  point: Record<string, ModelPoint>;
  placement: { version: number; strategy: string; reason: string; createdAt: string; groups: GroupView[] } | null;
  devices: DeviceView[];
  events: DashboardEvent[];
}

export interface DashboardState extends DashboardTick {
  /** Chart history: sample times (epoch s) and, per model, one value per time. */
  series: { t: number[]; models: Record<string, { [K in keyof ModelPoint]: (ModelPoint[K] | null)[] }> };
  windowSeconds: number;
}

type Counts = Pick<DispatcherStats['models'][string], 'requests' | 'ok' | 'withinSlo' | 'rejected' | 'errors'>;
interface Sample {
  t: number;
  models: Map<string, Counts>;
}

/** `now − then` per counter; a counter that went down (a dispatcher restarted) counts from zero. */
function delta(now: Counts, then: Counts | undefined): Counts {
  const d = (k: keyof Counts) => (then && now[k] >= then[k] ? now[k] - then[k] : now[k]);
  return {
    requests: d('requests'),
    ok: d('ok'),
    withinSlo: d('withinSlo'),
    rejected: d('rejected'),
    errors: d('errors'),
  };
}

export class DashboardFeed {
  private readonly o: Required<DashboardOptions>;
  private readonly keys: RuntimeKeys;
  private readonly samples: Sample[] = [];
  private readonly history: DashboardState['series'] = { t: [], models: {} };
  private readonly events: DashboardEvent[] = [];
  private readonly listeners = new Set<(tick: DashboardTick) => void>();
  private last: DashboardTick;
  private timer: NodeJS.Timeout | undefined;
  private sub: Subscription | undefined;
  private busy = false;

  constructor(
    private readonly system: ActorSystem,
    options: DashboardOptions = {},
  ) {
    this.o = {
      dispatcherName: 'dispatcher',
      intervalMs: 1000,
      historySeconds: 600,
      windowSeconds: 5,
      maxEvents: 50,
      ...options,
    };
    this.keys = new RuntimeKeys(system.subjects.prefix);
    this.last = {
      t: Date.now() / 1000,
      version: meshserveVersion(),
      dispatcher: { unavailable: 'not sampled yet' },
      models: [],
      point: {},
      placement: null,
      devices: [],
      events: [],
    };
  }

  /** Starts listening to events and sampling. */
  start(): this {
    this.sub = this.system.nats.subscribe(`${this.system.subjects.prefix}.events.>`, {
      callback: (err, msg) => {
        if (!err) this.#event(msg.subject.slice(`${this.system.subjects.prefix}.events.`.length), msg.data);
      },
    });
    const tick = () => {
      if (this.busy) return; // a slow cluster: skip a beat rather than pile up calls
      this.busy = true;
      this.sample()
        .catch(() => undefined)
        .finally(() => (this.busy = false));
    };
    this.timer = setInterval(tick, this.o.intervalMs);
    tick();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sub?.unsubscribe();
    this.listeners.clear();
  }

  /** Calls `listener` with every new tick; returns the unsubscribe. */
  onTick(listener: (tick: DashboardTick) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The latest tick with the chart history. */
  state(): DashboardState {
    return { ...this.last, series: this.history, windowSeconds: this.o.windowSeconds };
  }

  /** Takes one sample now (the timer does this every interval). */
  async sample(): Promise<DashboardTick> {
    const t = Date.now() / 1000;
    const [stats, placement, actors] = await Promise.all([
      this.system
        .actor<{ stats(): DispatcherStats }>(this.o.dispatcherName, { timeoutMs: 1_500 })
        .call('stats')
        .then((s): DispatcherStats | string => (isDispatcherStats(s) ? s : 'not a meshserve dispatcher'))
        .catch((err: unknown) =>
          describeError(err).name === 'NoRespondersError' ? 'no dispatcher running' : describeError(err).message,
        ),
      this.#placement(),
      this.system.list().catch((): RegistryEntry[] => []),
    ]);
    const devices = await this.#devices(actors, placement);
    const state = new Map(devices.map((d) => [d.id, d.state]));
    const groupStats = new Map(typeof stats === 'string' ? [] : stats.groups.map((g) => [g.id, g]));
    const served = new Set(placement?.groups.flatMap((g) => g.models) ?? []);
    if (typeof stats !== 'string') for (const m of Object.keys(stats.models)) served.add(m);
    const models = [...served].sort(naturalOrder);
    const point = typeof stats === 'string' ? {} : this.#point(t, stats);
    this.#record(t, models, point);
    this.last = {
      t,
      version: this.last.version,
      dispatcher:
        typeof stats === 'string' ? { unavailable: stats } : { totals: stats.totals, inflight: stats.inflight },
      models,
      point,
      placement: placement && {
        version: placement.version,
        strategy: placement.strategy,
        reason: placement.reason,
        createdAt: placement.createdAt,
        groups: placement.groups.map((g) => {
          const s = groupStats.get(g.id);
          return {
            id: g.id,
            pp: g.config.pp,
            op: g.config.op,
            models: [...g.models],
            devices: g.devices.map((stage) => stage.map((id) => ({ id, state: state.get(id) ?? 'gone' }))),
            out: s?.dead ?? false,
            inflight: s?.inflight ?? 0,
            routed: s?.routed ?? 0,
          };
        }),
      },
      devices,
      events: [...this.events],
    };
    for (const listener of this.listeners) listener(this.last);
    return this.last;
  }

  async #placement(): Promise<RuntimePlacement | null> {
    const raw = await this.system.redis?.get(this.keys.currentPlacement()).catch(() => null);
    if (!raw) return null;
    try {
      return RuntimePlacement.parse(JSON.parse(raw));
    } catch {
      return null;
    }
  }

  /** Every GPU worker registered or placed, with its own state when it answers. */
  async #devices(actors: RegistryEntry[], placement: RuntimePlacement | null): Promise<DeviceView[]> {
    const registered = new Map(actors.filter((a) => a.kind === GPU_WORKER_KIND).map((a) => [a.name, a.state]));
    const ids = new Set([...registered.keys(), ...(placement?.groups.flatMap((g) => g.devices.flat()) ?? [])]);
    return await Promise.all(
      [...ids].sort(naturalOrder).map(async (id) => {
        const registry = registered.get(id);
        if (registry === undefined) return { id, state: 'gone' };
        if (registry !== 'ready') return { id, state: registry };
        const own = await this.system
          .actor<{ status(): { state: string } }>(id, { timeoutMs: 500 })
          .call('status')
          .then((s) => s.state)
          .catch(() => 'unresponsive');
        return { id, state: own };
      }),
    );
  }

  /** This sample's point per model, over the sliding window. */
  #point(t: number, stats: DispatcherStats): Record<string, ModelPoint> {
    const models = new Map(Object.entries(stats.models));
    this.samples.push({ t, models });
    while (this.samples.length > 2 && this.samples[1].t <= t - this.o.windowSeconds) this.samples.shift();
    const first = this.samples[0];
    const span = Math.max(t - first.t, this.o.intervalMs / 1000);
    const out: Record<string, ModelPoint> = {};
    for (const [model, now] of models) {
      const d = first === this.samples.at(-1) ? delta(now, undefined) : delta(now, first.models.get(model));
      const answered = d.ok + d.rejected + d.errors;
      out[model] = {
        rate: d.requests / span,
        // Over the requests answered in the window: those still in flight have no verdict yet.
        attainment: answered > 0 ? Math.min(1, d.withinSlo / answered) : null,
        rejections: d.rejected / span,
      };
    }
    return out;
  }

  #record(t: number, models: string[], point: Record<string, ModelPoint>): void {
    const h = this.history;
    h.t.push(t);
    for (const m of models)
      h.models[m] ??= {
        rate: h.t.slice(1).map(() => null),
        attainment: h.t.slice(1).map(() => null),
        rejections: h.t.slice(1).map(() => null),
      };
    for (const [m, s] of Object.entries(h.models)) {
      const p = point[m];
      s.rate.push(p?.rate ?? null);
      s.attainment.push(p?.attainment ?? null);
      s.rejections.push(p?.rejections ?? null);
    }
    const keep = Math.ceil((this.o.historySeconds * 1000) / this.o.intervalMs);
    if (h.t.length > keep) {
      const drop = h.t.length - keep;
      h.t.splice(0, drop);
      for (const s of Object.values(h.models))
        for (const k of ['rate', 'attainment', 'rejections'] as const) s[k].splice(0, drop);
    }
  }

  #event(kind: string, data: Uint8Array): void {
    let event: DashboardEvent | undefined;
    try {
      event = describeEvent(kind, data);
    } catch {
      return; // not one of ours
    }
    if (!event) return;
    this.events.unshift(event);
    this.events.length = Math.min(this.events.length, this.o.maxEvents);
  }
}

/** One event of `ms.events.<kind>` in words; undefined for kinds the dashboard does not show. */
export function describeEvent(kind: string, data: Uint8Array): DashboardEvent | undefined {
  if (kind === 'placement') {
    const p = decode(data) as { version?: number; strategy?: string; reason?: string; groups?: number; at?: string };
    const at = p.at ? Date.parse(p.at) : Date.now();
    return {
      at,
      kind,
      text: `placement v${p.version} (${p.strategy}): ${p.groups} groups; ${p.reason ?? ''}`.trim(),
    };
  }
  if (kind === 'group.out' || kind === 'group.in') {
    const e = GroupEvent.parse(decode(data));
    return {
      at: e.at,
      kind,
      text:
        e.kind === 'group.out'
          ? `group ${e.group} out of routing: ${e.reason ?? ''}`
          : `group ${e.group} back in routing`,
    };
  }
  if (kind.startsWith('actor.')) {
    const e = decodeActorEvent(data);
    if (!e) return undefined;
    const what = kind.slice('actor.'.length);
    return { at: Date.parse(e.at), kind, text: `${e.actor.name} (${e.actor.kind}) ${what}` };
  }
  return undefined;
}
