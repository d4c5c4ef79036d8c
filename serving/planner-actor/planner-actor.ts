// The planner actor: reads the live devices (bus registry + `ms:device:<id>`), the model profiles
// (`ms:profile:<model>`, zoo names as fallback) and observed rates (`ms:rate:<model>`), places
// with a strategy chosen by name, binds the groups to device ids, stores the placement versioned
// (`ms:placement:<version>`, `ms:placement:current`), hands every device its stages (`assign`,
// waiting until they are loaded) and only then publishes it on `ms.placement` — so the
// dispatcher switches to groups that are ready.
//
// It re-places on demand (`replace()`), when devices join, leave or start draining (once a
// placement exists), and on a schedule when observed rates moved away from those of the last
// placement.
//
// Redis keeps nothing on disk here: after a Redis restart the planner writes back what it holds —
// the placement in force (current, its version entry, the version counter) and the profiles it
// read — so that the cluster state is rebuilt from the live actors (workers re-register their
// devices, the bus its registry, the dispatcher its rates).
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { type ActorContext, type ArgSchemas, encode, type Logger, parseOrThrow } from '../../bus/index.js';
import { PlannerConfig, type PlannerConfigInput } from '../../config/planner.js';
import {
  type AdaptiveState,
  PLACEMENT_ALGORITHMS,
  type PlacementAlgorithm,
  placementAlgorithm,
} from '../../planner/placement/index.js';
import { parseProfiles } from '../../planner/profile.js';
import type { ModelProfile, Placement } from '../../planner/types.js';
import { trainingWorkload } from '../../planner/workload/training.js';
import { naturalOrder } from '../natural-order.js';
import { RuntimeKeys } from '../protocol/keys.js';
import { GPU_WORKER_KIND } from '../protocol/messages.js';
import { placedDevices, RuntimePlacement, simPlacement } from '../protocol/placement.js';
import { RuntimeSubjects } from '../protocol/subjects.js';
import type { GpuWorker } from '../worker/gpu-worker.js';
import { adaptiveCheck } from './adaptive-check.js';
import { bindPlacement } from './bind.js';
import { liveDevices, zooFallback } from './cluster-state.js';

export interface PlacementSummary {
  version: number;
  strategy: string;
  reason: string;
  devices: number;
  groups: Array<{ id: string; pp: number; op: number; models: number; devices: string[] }>;
}

export class PlannerActor {
  private config: PlannerConfig;
  private ctx!: ActorContext;
  private redis!: Redis;
  private log!: Logger;
  private subjects!: RuntimeSubjects;
  private keys!: RuntimeKeys;
  private lastRates: Record<string, number> = {};
  private placed: RuntimePlacement | undefined;
  /**
   * The live devices the placement in force was made for (ids, sorted); after a restart, those
   * live at start if the placement in force still fits them.
   */
  private placedOn: string | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private rateTimer: NodeJS.Timeout | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private stopEvents: (() => void) | undefined;
  /** Profiles as read from Redis (JSON by model), to write back after Redis lost them. */
  private storedProfiles = new Map<string, string>();
  /** The adaptive strategy's memory between rate checks (its fits, judged at the next check). */
  private adaptiveState: AdaptiveState = {};
  /**
   * The placement the adaptive strategy started from: the last placement made anew (not one it
   * decided to switch to). Kept in Redis, so that a restarted planner knows it.
   */
  private home: RuntimePlacement | undefined;
  /** A placement the adaptive strategy decided on, for the next re-placement to publish. */
  private adaptiveNext: Placement | undefined;

  private readonly algorithms: readonly PlacementAlgorithm[];

  /** `algorithms`: the placement algorithms it may use by name (default: every built-in one). */
  constructor(config: PlannerConfigInput = {}, algorithms: readonly PlacementAlgorithm[] = PLACEMENT_ALGORITHMS) {
    this.config = PlannerConfig.parse(config);
    this.algorithms = algorithms;
  }

  /** Argument schemas, validated on receipt by the bus (also when an actor host spawns the planner). */
  static readonly argSchemas: ArgSchemas<PlannerActor> = {
    replace: z.tuple([z.string().optional()]) as unknown as z.ZodType<[string?]>,
    configure: z.tuple([z.record(z.string(), z.unknown())]) as unknown as z.ZodType<[PlannerConfigInput]>,
    current: z.tuple([]),
  };

  async onStart(ctx: ActorContext): Promise<void> {
    this.ctx = ctx;
    if (!ctx.redis) throw new Error('the planner needs Redis (registry on)');
    this.redis = ctx.redis;
    this.log = ctx.log;
    this.subjects = new RuntimeSubjects(ctx.subjects);
    this.keys = new RuntimeKeys(ctx.subjects.prefix);
    this.placed = await this.#stored(this.keys.currentPlacement());
    this.home = this.placed && (await this.#stored(this.keys.homePlacement()));
    this.stopEvents = ctx.onEvent('actor.*', (e) => {
      if (e.actor.kind === GPU_WORKER_KIND)
        this.#devicesChanged(`device ${e.actor.name} ${e.kind.slice('actor.'.length)}`);
    });
    if (this.config.rateCheckSec > 0) {
      this.rateTimer = setInterval(() => void this.#checkRates(), this.config.rateCheckSec * 1000);
      this.rateTimer.unref();
    }
    this.stateTimer = setInterval(() => void this.#restoreState(), this.config.stateCheckMs);
    this.stateTimer.unref();
    void this.#checkDevicesAtStart();
  }

  /**
   * Devices that joined or left before this planner listened sent their events to nobody (in a
   * compose cluster workers and planner start together; a restarted planner missed the changes
   * made while it was down): compare the live devices with the placement in force once, at start.
   */
  async #checkDevicesAtStart(): Promise<void> {
    try {
      const live = (await liveDevices(this.ctx, this.keys)).map((d) => d.id);
      if (!live.length) return;
      const placed = this.placed ? placedDevices(this.placed) : new Set<string>();
      const missing = [...placed].filter((d) => !live.includes(d));
      const joined = live.filter((d) => !placed.has(d));
      // The same devices as before the restart: the placement in force stands, and the adaptive
      // strategy goes on deciding for them.
      if (this.placed && !missing.length && !(joined.length && this.config.autoPlace)) this.placedOn = live.join();
      if (!this.placed) this.#devicesChanged(`planner started with ${live.length} devices registered`);
      else if (missing.length) this.#devicesChanged(`planner started; placed devices gone: ${missing.join(', ')}`);
      // Devices the placement does not use: joined while we were down (auto-place takes them in,
      // as it does a live join), or left out on purpose (a static layout: left alone).
      else if (joined.length && this.config.autoPlace)
        this.#devicesChanged(`planner started; devices not placed yet: ${joined.join(', ')}`);
    } catch (err) {
      this.log.warn({ err }, 'could not read the registered devices at start');
    }
  }

  async onStop(): Promise<void> {
    this.stopEvents?.();
    clearTimeout(this.settleTimer);
    clearInterval(this.rateTimer);
    clearInterval(this.stateTimer);
  }

  /** Changes the configuration (merged with the current one); does not re-place by itself. */
  configure(config: PlannerConfigInput): PlannerConfig {
    this.config = parseOrThrow(PlannerConfig, { ...this.config, ...config }, 'planner configuration');
    return this.config;
  }

  /** A placement stored under `key`, if it is there and valid. */
  async #stored(key: string): Promise<RuntimePlacement | undefined> {
    const json = await this.redis.get(key);
    if (!json) return undefined;
    const parsed = RuntimePlacement.safeParse(JSON.parse(json));
    if (!parsed.success) this.log.warn({ key }, 'ignoring an invalid stored placement');
    return parsed.success ? parsed.data : undefined;
  }

  /** The placement in force, or null. */
  current(): RuntimePlacement | null {
    return this.placed ?? null;
  }

  /**
   * Places now and publishes the result once every device has loaded its stages. A failure is
   * also kept in Redis (`ms:placement:error`) for `meshserve status`: an automatic attempt has
   * nobody to answer.
   */
  async replace(reason: string = 'manual'): Promise<PlacementSummary> {
    reason = String(reason).slice(0, 200);
    try {
      const summary = await this.#place(reason);
      await this.redis.del(this.keys.placementError()).catch(() => undefined);
      return summary;
    } catch (err) {
      const failure = { at: new Date().toISOString(), reason, error: (err as Error).message };
      await this.redis.set(this.keys.placementError(), JSON.stringify(failure)).catch(() => undefined);
      throw err;
    }
  }

  /** The cluster the live devices make (memory: the configured budget, else the smallest device's). */
  #cluster(devices: { memoryBytes: number }[]) {
    const memoryPerDevice =
      this.config.memoryPerDeviceGiB !== undefined
        ? this.config.memoryPerDeviceGiB * 2 ** 30
        : Math.min(...devices.map((d) => d.memoryBytes));
    return { devices: devices.length, memoryPerDevice };
  }

  /** SLOs the configuration gives models (seconds by model). */
  #slos(): Record<string, number> {
    const expected = this.config.expected ?? {};
    return Object.fromEntries(Object.entries(expected).flatMap(([m, e]) => (e.slo ? [[m, e.slo]] : [])));
  }

  async #place(reason: string): Promise<PlacementSummary> {
    const devices = await liveDevices(this.ctx, this.keys);
    if (!devices.length) throw new Error('no GPU workers are registered');
    const profiles = await this.#profiles();
    const rates = await this.#rates(profiles.map((p) => p.name));
    const strategy = this.#algorithm();
    const cluster = this.#cluster(devices);
    // The adaptive strategy's own decision (made for these devices) stands; anything else places anew.
    const decided = this.adaptiveNext;
    this.adaptiveNext = undefined;
    let placement: Placement;
    const fresh = !decided || this.placedOn !== devices.map((d) => d.id).join();
    if (!fresh) placement = decided;
    else {
      // Adaptive starts from the operator's groups when it has them (a placement file), else
      // from its own search; either is its new home, and fits made before it mean nothing now.
      const start =
        strategy.name === 'adaptive' && this.config.groups ? placementAlgorithm('static', this.algorithms) : strategy;
      placement = (
        await start.place({
          cluster,
          profiles,
          workload: trainingWorkload(profiles, rates, undefined, this.#slos()),
          groups: this.config.groups,
        })
      ).placement;
      this.adaptiveState = {};
    }
    const version = await this.#nextVersion();
    const bound = bindPlacement(
      placement,
      devices.map((d) => d.id),
      {
        version,
        strategy: strategy.name,
        reason,
        profiles,
        params: { stagePenalty: this.config.stagePenalty, overhead: this.config.overhead },
      },
    );
    const json = JSON.stringify(bound);
    await this.redis.set(this.keys.placement(version), json);
    // Every live device hears of it (those left out retire their old stages once idle).
    const results = await Promise.allSettled(
      devices.map((d) =>
        this.ctx.actor<GpuWorker>(d.id, { timeoutMs: this.config.assignTimeoutMs }).call('assign', bound),
      ),
    );
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${devices[i].id}: ${(r.reason as Error).message}`] : [],
    );
    const used = placedDevices(bound);
    const failedUsed = failed.filter((f) => used.has(f.slice(0, f.indexOf(':'))));
    if (failedUsed.length) throw new Error(`placement v${version} not published: ${failedUsed.join('; ')}`);
    if (failed.length) this.log.warn({ failed }, 'unused devices did not take the placement');
    // A placement made anew is also the adaptive strategy's new home: both keys in one write.
    const write = this.redis.multi().set(this.keys.currentPlacement(), json);
    if (fresh) write.set(this.keys.homePlacement(), json);
    await write.exec();
    if (fresh) this.home = bound;
    this.ctx.nats.publish(this.subjects.placement, encode(bound));
    this.ctx.nats.publish(
      this.subjects.event('placement'),
      encode({ version, strategy: strategy.name, reason, groups: bound.groups.length, at: bound.createdAt }),
    );
    await this.ctx.nats.flush();
    this.placed = bound;
    this.placedOn = devices.map((d) => d.id).join();
    this.lastRates = rates;
    this.log.info({ version, reason, groups: bound.groups.length }, 'placement published');
    return {
      version,
      strategy: strategy.name,
      reason,
      devices: devices.length,
      groups: bound.groups.map((g) => ({
        id: g.id,
        pp: g.config.pp,
        op: g.config.op,
        models: g.models.length,
        devices: g.devices.flat(),
      })),
    };
  }

  /**
   * The next placement version: the counter in Redis, never at or below the version in force (a
   * restarted Redis starts from 0).
   */
  async #nextVersion(): Promise<number> {
    const next = await this.redis.incr(this.keys.placementVersion());
    const floor = this.placed?.version ?? 0;
    if (next > floor) return next;
    await this.redis.set(this.keys.placementVersion(), String(floor + 1));
    return floor + 1;
  }

  /**
   * Writes back what Redis lost (a restart keeps nothing): the placement in force and its version
   * counter, and the profiles read from Redis before. Only when the current placement is gone, so
   * that an operator's deliberate changes to profiles stand while the cluster state is intact.
   */
  async #restoreState(): Promise<void> {
    const placed = this.placed;
    if (!placed) return;
    try {
      if (await this.redis.exists(this.keys.currentPlacement())) return;
      const json = JSON.stringify(placed);
      const tx = this.redis
        .multi()
        .set(this.keys.currentPlacement(), json)
        .set(this.keys.placement(placed.version), json, 'NX');
      tx.set(this.keys.placementVersion(), String(placed.version), 'NX');
      if (this.home) tx.set(this.keys.homePlacement(), JSON.stringify(this.home), 'NX');
      for (const [model, profile] of this.storedProfiles) tx.set(this.keys.profile(model), profile, 'NX');
      await tx.exec();
      this.log.warn(
        { version: placed.version, profiles: this.storedProfiles.size },
        'Redis had lost the cluster state: placement and profiles written back',
      );
    } catch (err) {
      this.log.debug({ err }, 'state check failed (Redis unreachable?)');
    }
  }

  async #profiles(): Promise<ModelProfile[]> {
    let names = this.config.models;
    if (!names) {
      const keys = await this.redis.keys(this.keys.profilePattern());
      const prefixLength = this.keys.profile('').length;
      names = keys.map((k) => k.slice(prefixLength)).sort(naturalOrder);
    }
    if (this.config.groups)
      for (const g of this.config.groups) for (const m of g.models) if (!names.includes(m)) names = [...names, m];
    if (!names.length)
      throw new Error('no models to place: store profiles under ms:profile:<model> or configure "models"');
    const stored = names.length ? await this.redis.mget(...names.map((n) => this.keys.profile(n))) : [];
    const read = new Map<string, string>();
    const profiles = names.map((name, i) => {
      const json = stored[i];
      if (json) {
        read.set(name, json);
        return parseProfiles([JSON.parse(json)], `profile of ${name} in Redis`)[0];
      }
      const zoo = zooFallback(name);
      if (!zoo) throw new Error(`no profile for model "${name}" (neither ${this.keys.profile(name)} nor a zoo name)`);
      return zoo;
    });
    this.storedProfiles = read;
    return profiles;
  }

  /** Observed rates (`ms:rate:<model>`), else the expected ones configured. */
  async #rates(models: string[]): Promise<Record<string, number>> {
    if (!models.length) return {};
    const values = await this.redis.mget(...models.map((m) => this.keys.rate(m)));
    const out: Record<string, number> = {};
    models.forEach((m, i) => {
      const v = Number(values[i]);
      const expected = this.config.expected?.[m]?.rate;
      if (values[i] !== null && Number.isFinite(v)) out[m] = v;
      else if (expected !== undefined) out[m] = expected;
    });
    return out;
  }

  #devicesChanged(why: string): void {
    if ((!this.placed && !this.config.autoPlace) || this.config.deviceSettleMs <= 0) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => void this.#replaceIfDevicesChanged(why), this.config.deviceSettleMs);
    this.settleTimer.unref();
  }

  /**
   * Re-places unless the live devices are those the placement in force was made for: a worker
   * restarted by its supervisor comes back as the same device (a new incarnation that reloads its
   * stages from the placement in force), which is no reason to move every model.
   */
  async #replaceIfDevicesChanged(why: string): Promise<void> {
    if (this.placed && this.placedOn !== undefined) {
      const live = await liveDevices(this.ctx, this.keys).catch(() => undefined);
      if (live && live.map((d) => d.id).join() === this.placedOn) {
        this.log.info({ why }, 'devices changed and came back to those placed: no re-placement');
        return;
      }
    }
    this.#replaceLater(why);
  }

  async #checkRates(): Promise<void> {
    if (!this.placed || !this.#algorithm().usesWorkload) return;
    if (this.#algorithm().name === 'adaptive') return this.#checkAdaptive(this.placed);
    const now = await this.#rates(this.placed.profiles.map((p) => p.name)).catch(() => undefined);
    if (!now) return;
    const moved = Object.keys({ ...now, ...this.lastRates }).some((m) => {
      const a = this.lastRates[m] ?? 0;
      const b = now[m] ?? 0;
      return Math.abs(b - a) > 0.5 && Math.abs(b - a) >= 0.5 * Math.max(a, b);
    });
    if (moved) this.#replaceLater('observed rates changed');
  }

  /**
   * Adaptive AlpaServe's rate check: the planner library's step (the policy the simulator replays)
   * decides, from the observed rates, whether a re-placement gains more than its swap costs.
   */
  async #checkAdaptive(placed: RuntimePlacement): Promise<void> {
    try {
      const devices = await liveDevices(this.ctx, this.keys);
      if (!devices.length || devices.map((d) => d.id).join() !== this.placedOn) return;
      const profiles = await this.#profiles();
      const rates = await this.#rates(profiles.map((p) => p.name));
      const d = adaptiveCheck(placed, profiles, rates, this.#cluster(devices), this.adaptiveState, {
        options: this.config.adaptive,
        slos: this.#slos(),
        home: this.home && simPlacement(this.home),
      });
      this.adaptiveState = d.state;
      this.log.debug({ replace: d.replace, candidate: d.candidate, gain: d.gain, cost: d.cost }, 'adaptive check');
      if (!d.replace) return;
      this.adaptiveNext = d.placement;
      this.#replaceLater(
        `adaptive (${d.candidate}): predicted gain ${d.gain} requests beats swap cost ${Math.round(d.cost)}`,
      );
    } catch (err) {
      this.log.warn({ err }, 'adaptive check failed');
    }
  }

  /** The configured placement algorithm; a live planner cannot run one that needs the future. */
  #algorithm(): PlacementAlgorithm {
    const algorithm = placementAlgorithm(this.config.strategy, this.algorithms);
    if (algorithm.oracle)
      throw new Error(
        `placement strategy "${algorithm.name}" needs the future workload (an experiment baseline); a live planner cannot use it`,
      );
    return algorithm;
  }

  /** Goes through the mailbox, so automatic re-placements never overlap a call. */
  #replaceLater(reason: string): void {
    this.ctx.actor<PlannerActor>(this.ctx.name).tell('replace', reason);
  }
}
