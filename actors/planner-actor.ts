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
import { encode, parseOrThrow, type ActorContext, type ActorSystem, type ArgSchemas, type Logger } from '../bus/index.js';
import { REFERENCE_OVERHEAD, REFERENCE_STAGE_PENALTY } from '../planner/latency-model.js';
import { parseProfiles } from '../planner/profile.js';
import type { ModelProfile } from '../planner/types.js';
import { zooProfile, ZOO_NAMES } from '../planner/zoo.js';
import type { GpuWorker } from './gpu-worker.js';
import { DEFAULT_STRATEGY, strategyNamed, type GroupInput } from './placement-strategies.js';
import './search-strategies.js'; // registers the planner library's searches
import { DeviceInfo, GPU_WORKER_KIND, RuntimeKeys, RuntimePlacement, RuntimeSubjects } from './protocol.js';
import { bindPlacement, placedDevices } from './runtime-placement.js';
import { naturalOrder } from './natural-order.js';

export const PlannerConfig = z.object({
  /** Placement strategy by name (see placement-strategies.ts). */
  strategy: z.string().default(DEFAULT_STRATEGY),
  /** Models to place; default: every model with a profile in Redis. */
  models: z.array(z.string().min(1)).optional(),
  /** Operator groups for the 'static' strategy. */
  groups: z.array(z.object({ config: z.object({ pp: z.number().int().positive(), op: z.number().int().positive() }), models: z.array(z.string()), count: z.number().int().positive().optional() })).optional(),
  /** Per-device weight budget (GiB); default: the smallest registered device. */
  memoryPerDeviceGiB: z.number().positive().optional(),
  stagePenalty: z.number().nonnegative().default(REFERENCE_STAGE_PENALTY),
  overhead: z.number().nonnegative().default(REFERENCE_OVERHEAD),
  /** Check observed rates this often (s) and re-place when they moved by half or more; 0 = never. */
  rateCheckSec: z.number().nonnegative().default(60),
  /** Re-place when devices join or leave (after this settling delay, ms); 0 = never. */
  deviceSettleMs: z.number().nonnegative().default(1_000),
  /** Also place when devices join before any placement exists (a cluster coming up by itself). */
  autoPlace: z.boolean().default(false),
  /** How long a device may take to load its stages (ms). */
  assignTimeoutMs: z.number().positive().default(30_000),
  /** How often the planner checks that Redis still holds its state, and writes it back if not (ms). */
  stateCheckMs: z.number().positive().default(1_000),
});
export type PlannerConfig = z.infer<typeof PlannerConfig>;
export type PlannerConfigInput = z.input<typeof PlannerConfig>;

export interface PlacementSummary {
  version: number;
  strategy: string;
  reason: string;
  devices: number;
  groups: Array<{ id: string; pp: number; op: number; models: number; devices: string[] }>;
}

/** Profile of a model: from Redis, else the zoo (`bert-1.3b`, or a replica name like `bert-1.3b-7`). */
export function zooFallback(name: string): ModelProfile | undefined {
  if (ZOO_NAMES.includes(name)) return zooProfile(name);
  const m = /^(.*)-\d+$/.exec(name);
  return m && ZOO_NAMES.includes(m[1]) ? zooProfile(m[1], name) : undefined;
}

/** Writes profiles to `ms:profile:<model>` (what the planner reads). */
export async function storeProfiles(redis: Redis, profiles: readonly ModelProfile[], prefix = 'ms'): Promise<void> {
  const keys = new RuntimeKeys(prefix);
  const tx = redis.multi();
  for (const p of profiles) tx.set(keys.profile(p.name), JSON.stringify(p));
  await tx.exec();
}

/** Live GPU devices: registered actors of kind GpuWorker with a device entry, in natural id order. */
export async function liveDevices(system: ActorSystem, keys: RuntimeKeys): Promise<DeviceInfo[]> {
  const redis = system.redis;
  if (!redis) throw new Error('the planner needs Redis');
  const actors = (await system.list()).filter((a) => a.kind === GPU_WORKER_KIND && a.state === 'ready');
  const devices: DeviceInfo[] = [];
  for (const a of actors) {
    const hash = await redis.hgetall(keys.device(a.name));
    const parsed = DeviceInfo.safeParse(hash);
    if (parsed.success) devices.push(parsed.data);
  }
  return devices.sort((a, b) => naturalOrder(a.id, b.id));
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
  private settleTimer: NodeJS.Timeout | undefined;
  private rateTimer: NodeJS.Timeout | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private stopEvents: (() => void) | undefined;
  /** Profiles as read from Redis (JSON by model), to write back after Redis lost them. */
  private storedProfiles = new Map<string, string>();

  constructor(config: PlannerConfigInput = {}) {
    this.config = PlannerConfig.parse(config);
  }

  /** Argument schemas, validated on receipt by the bus (also when an actor host spawns the planner). */
  static readonly argSchemas: ArgSchemas<PlannerActor> = {
    replace: z.tuple([z.string().optional()]) as unknown as z.ZodType<[string?]>,
    configure: z.tuple([z.record(z.string(), z.unknown())]) as unknown as z.ZodType<[PlannerConfigInput]>,
    current: z.tuple([]),
  };

  async onStart(ctx: ActorContext): Promise<void> {
    this.ctx = ctx;
    if (!ctx.system.redis) throw new Error('the planner needs Redis (registry on)');
    this.redis = ctx.system.redis;
    this.log = ctx.log;
    this.subjects = new RuntimeSubjects(ctx.subjects);
    this.keys = new RuntimeKeys(ctx.subjects.prefix);
    const current = await this.redis.get(this.keys.currentPlacement());
    if (current) {
      const parsed = RuntimePlacement.safeParse(JSON.parse(current));
      if (parsed.success) this.placed = parsed.data;
    }
    this.stopEvents = ctx.system.onEvent('actor.*', (e) => {
      if (e.actor.kind === GPU_WORKER_KIND) this.#devicesChanged(`device ${e.actor.name} ${e.kind.slice('actor.'.length)}`);
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
      const live = (await liveDevices(this.ctx.system, this.keys)).map((d) => d.id);
      if (!live.length) return;
      const placed = this.placed ? placedDevices(this.placed) : new Set<string>();
      const missing = [...placed].filter((d) => !live.includes(d));
      const joined = live.filter((d) => !placed.has(d));
      if (!this.placed) this.#devicesChanged(`planner started with ${live.length} devices registered`);
      else if (missing.length) this.#devicesChanged(`planner started; placed devices gone: ${missing.join(', ')}`);
      // Devices the placement does not use: joined while we were down (auto-place takes them in,
      // as it does a live join), or left out on purpose (a static layout: left alone).
      else if (joined.length && this.config.autoPlace) this.#devicesChanged(`planner started; devices not placed yet: ${joined.join(', ')}`);
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

  async #place(reason: string): Promise<PlacementSummary> {
    const devices = await liveDevices(this.ctx.system, this.keys);
    if (!devices.length) throw new Error('no GPU workers are registered');
    const profiles = await this.#profiles();
    const rates = await this.#rates(profiles.map((p) => p.name));
    const memoryPerDevice = this.config.memoryPerDeviceGiB !== undefined ? this.config.memoryPerDeviceGiB * 2 ** 30 : Math.min(...devices.map((d) => d.memoryBytes));
    const strategy = strategyNamed(this.config.strategy);
    const placement = await strategy.place({ devices: devices.length, memoryPerDevice, profiles, rates, groups: this.config.groups as GroupInput[] | undefined });
    const version = await this.#nextVersion();
    const bound = bindPlacement(placement, devices.map((d) => d.id), {
      version, strategy: strategy.name, reason, profiles, params: { stagePenalty: this.config.stagePenalty, overhead: this.config.overhead },
    });
    const json = JSON.stringify(bound);
    await this.redis.set(this.keys.placement(version), json);
    // Every live device hears of it (those left out retire their old stages once idle).
    const results = await Promise.allSettled(
      devices.map((d) => this.ctx.system.actor<GpuWorker>(d.id, { timeoutMs: this.config.assignTimeoutMs }).call('assign', bound)),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${devices[i].id}: ${(r.reason as Error).message}`] : []));
    const used = placedDevices(bound);
    const failedUsed = failed.filter((f) => used.has(f.slice(0, f.indexOf(':'))));
    if (failedUsed.length) throw new Error(`placement v${version} not published: ${failedUsed.join('; ')}`);
    if (failed.length) this.log.warn({ failed }, 'unused devices did not take the placement');
    await this.redis.set(this.keys.currentPlacement(), json);
    this.ctx.nats.publish(this.subjects.placement, encode(bound));
    this.ctx.nats.publish(this.subjects.event('placement'), encode({ version, strategy: strategy.name, reason, groups: bound.groups.length, at: bound.createdAt }));
    await this.ctx.nats.flush();
    this.placed = bound;
    this.lastRates = rates;
    this.log.info({ version, reason, groups: bound.groups.length }, 'placement published');
    return {
      version, strategy: strategy.name, reason, devices: devices.length,
      groups: bound.groups.map((g) => ({ id: g.id, pp: g.config.pp, op: g.config.op, models: g.models.length, devices: g.devices.flat() })),
    };
  }

  /** The next placement version: the counter in Redis, never at or below the version in force (a restarted Redis starts from 0). */
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
      const tx = this.redis.multi().set(this.keys.currentPlacement(), json).set(this.keys.placement(placed.version), json, 'NX');
      tx.set(this.keys.placementVersion(), String(placed.version), 'NX');
      for (const [model, profile] of this.storedProfiles) tx.set(this.keys.profile(model), profile, 'NX');
      await tx.exec();
      this.log.warn({ version: placed.version, profiles: this.storedProfiles.size }, 'Redis had lost the cluster state: placement and profiles written back');
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
    if (this.config.groups) for (const g of this.config.groups) for (const m of g.models) if (!names.includes(m)) names = [...names, m];
    if (!names.length) throw new Error('no models to place: store profiles under ms:profile:<model> or configure "models"');
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

  async #rates(models: string[]): Promise<Record<string, number>> {
    if (!models.length) return {};
    const values = await this.redis.mget(...models.map((m) => this.keys.rate(m)));
    const out: Record<string, number> = {};
    models.forEach((m, i) => {
      const v = Number(values[i]);
      if (values[i] !== null && Number.isFinite(v)) out[m] = v;
    });
    return out;
  }

  #devicesChanged(why: string): void {
    if ((!this.placed && !this.config.autoPlace) || this.config.deviceSettleMs <= 0) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.#replaceLater(why), this.config.deviceSettleMs);
    this.settleTimer.unref();
  }

  async #checkRates(): Promise<void> {
    if (!this.placed || !strategyNamed(this.config.strategy).usesRates) return;
    const now = await this.#rates(this.placed.profiles.map((p) => p.name)).catch(() => undefined);
    if (!now) return;
    const moved = Object.keys({ ...now, ...this.lastRates }).some((m) => {
      const a = this.lastRates[m] ?? 0;
      const b = now[m] ?? 0;
      return Math.abs(b - a) > 0.5 && Math.abs(b - a) >= 0.5 * Math.max(a, b);
    });
    if (moved) this.#replaceLater('observed rates changed');
  }

  /** Goes through the mailbox, so automatic re-placements never overlap a call. */
  #replaceLater(reason: string): void {
    this.ctx.system.actor<PlannerActor>(this.ctx.name).tell('replace', reason);
  }
}

/** Argument schemas (the class declares them; kept as an export for `spawn(..., { args })`). */
export const plannerArgs: ArgSchemas<PlannerActor> = PlannerActor.argSchemas;
