// The GPU worker actor: one per device.
//
// Lifecycle (shown by `status()`): starting → ready (registered, idle) → loading (a placement gave
// it stages) → ready → draining → stopped | failed.
//
// It registers its device in Redis (`ms:device:<id>`, refreshed with a TTL; the bus registry keeps
// the actor's own heartbeat), follows placements (`assign()` from the planner, and every placement
// published on `ms.placement`), loads each stage shard it is given and subscribes to
// `ms.group.<g>.stage.<k>`; stage-runner.ts runs the work of all its stages.
//
// Scale-in: a stopping worker (SIGTERM to its process, or `system.stop`) is `draining`: the bus
// announces it, the planner re-places without it, and the worker keeps serving until that
// placement has retired its stages (or nobody sent it work for a while), then finishes what it
// holds and stops.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { type ActorContext, type ArgSchemas, type Logger, Outbox, parseOrThrow } from '../../bus/index.js';
import { type GpuWorkerOptions, type WorkerSettings, workerSettings } from '../../config/worker.js';
import { executorFor } from '../executors/index.js';
import type { StageAssignment, StageExecutor } from '../executors/stage-executor.js';
import { ModelStore } from '../model-store/model-store.js';
import { CachedStageFiles } from '../model-store/stage-files.js';
import { RuntimeKeys } from '../protocol/keys.js';
import { GPU_WORKER_KIND, type WorkerState } from '../protocol/messages.js';
import { checkPlacement, RuntimePlacement } from '../protocol/placement.js';
import { followPlacements } from '../protocol/placement-feed.js';
import { RuntimeSubjects } from '../protocol/subjects.js';
import { assignmentsFor } from './assignments.js';
import { DeviceRecord } from './device-record.js';
import { type LoadedStage, StageRunner } from './stage-runner.js';

export interface WorkerStatus {
  device: string;
  state: WorkerState;
  executor: string;
  version: number;
  stages: string[];
  queued: number;
  processed: number;
  errors: number;
  lastError?: string;
}

export class GpuWorker {
  /** The kind it registers under, whatever the class is called: the planner and dispatchers look devices up by it. */
  static readonly actorKind = GPU_WORKER_KIND;
  private state: WorkerState = 'starting';
  private device = '';
  private readonly settings: WorkerSettings;
  private readonly executor: StageExecutor;
  /** Stage files of imported models: the disk cache, else the model store on this NATS. */
  private stageFiles!: CachedStageFiles;
  private nc!: NatsConnection;
  private redis: Redis | undefined;
  private log!: Logger;
  private subjects!: RuntimeSubjects;
  private keys!: RuntimeKeys;
  private readonly stages = new Map<string, LoadedStage>();
  /** The device's queue of stage work (created at start, when NATS is there). */
  private work!: StageRunner;
  private version = 0;
  private placementSub: Subscription | undefined;
  /** Activations and completions: held while NATS is down instead of dropped. */
  private outbox!: Outbox;
  private record: DeviceRecord | undefined;
  private deviceTimer: NodeJS.Timeout | undefined;
  private retireTimer: NodeJS.Timeout | undefined;
  /** Serialises placements arriving by call and by publication. */
  private applying: Promise<unknown> = Promise.resolve();

  constructor(options: GpuWorkerOptions = {}) {
    this.settings = workerSettings(options);
    this.executor = executorFor(this.settings);
  }

  /** Argument schemas, validated on receipt by the bus (also when an actor host spawns the worker). */
  static readonly argSchemas: ArgSchemas<GpuWorker> = {
    assign: z.tuple([RuntimePlacement]) as unknown as z.ZodType<[RuntimePlacement]>,
    status: z.tuple([]),
  };

  async onStart(ctx: ActorContext): Promise<void> {
    this.device = this.settings.device ?? ctx.name;
    this.nc = ctx.nats;
    this.redis = ctx.redis;
    this.log = ctx.log;
    this.subjects = new RuntimeSubjects(ctx.subjects);
    this.keys = new RuntimeKeys(ctx.subjects.prefix);
    this.outbox = new Outbox(ctx, { log: this.log });
    this.stageFiles = new CachedStageFiles(
      () => ModelStore.open(ctx.nats, ctx.subjects.prefix, { create: false }),
      this.settings.modelCacheDir,
    );
    const { executor, outbox, subjects, log } = this;
    this.work = new StageRunner({
      nc: ctx.nats,
      outbox,
      subjects,
      executor,
      log,
      reduceTimeoutMs: this.settings.reduceTimeoutMs,
    });
    if (this.redis) {
      const memoryBytes = this.settings.memoryGiB * 2 ** 30;
      this.record = new DeviceRecord({
        redis: this.redis,
        keys: this.keys,
        device: this.device,
        memoryBytes,
        executor: this.executor.kind,
        ttlMs: this.settings.deviceTtlMs,
        log: this.log,
      });
    }
    await this.record?.write();
    this.deviceTimer = setInterval(
      () => {
        void this.record?.write();
        for (const stage of this.stages.values()) stage.reports?.dropStale();
      },
      Math.max(100, Math.floor(this.settings.deviceTtlMs / 3)),
    );
    this.deviceTimer.unref();
    this.placementSub = followPlacements(this.nc, this.subjects, this.log, (placement) =>
      this.#follow(placement, true),
    );
    // A restarted worker picks its stages up from the placement in force.
    const current = await this.redis?.get(this.keys.currentPlacement());
    if (current) {
      try {
        await this.#follow(parseOrThrow(RuntimePlacement, JSON.parse(current), 'current placement'), true);
      } catch (e) {
        this.log.warn({ err: e }, 'could not apply the current placement');
      }
    }
    if (this.state === 'starting') this.state = 'ready';
  }

  /** Loads this device's stages of `placement` and subscribes to them; called by the planner. */
  async assign(placement: RuntimePlacement): Promise<{ device: string; version: number; stages: string[] }> {
    // Validated here too: actor hosts spawn the worker without the argument schemas.
    await this.#follow(parseOrThrow(RuntimePlacement, placement, 'placement'), false);
    return { device: this.device, version: this.version, stages: [...this.stages.keys()] };
  }

  status(): WorkerStatus {
    return {
      device: this.device,
      state: this.state,
      executor: this.executor.kind,
      version: this.version,
      stages: [...this.stages.keys()],
      queued: this.work.queued,
      processed: this.work.processed,
      errors: this.work.errors,
      ...(this.work.lastError ? { lastError: this.work.lastError } : {}),
    };
  }

  async onStop(): Promise<void> {
    this.state = 'draining';
    await this.#handOver();
    clearInterval(this.deviceTimer);
    clearInterval(this.retireTimer);
    this.placementSub?.unsubscribe();
    await Promise.all(
      [...this.stages.values()].flatMap((s) => s.subs.map((sub) => sub.drain().catch(() => undefined))),
    );
    await this.work.idle();
    for (const key of [...this.stages.keys()]) await this.#unloadStage(key);
    await this.record?.remove();
    this.work.completions.close();
    this.outbox.close();
    this.state = 'stopped';
  }

  /**
   * Scale-in: keep serving until a placement without this device has retired every stage, or no
   * work came for the idle time (nobody routes here), at most drainTimeoutMs.
   */
  async #handOver(): Promise<void> {
    const until = Date.now() + this.settings.drainTimeoutMs;
    const longestStageMs = Math.max(
      0,
      ...[...this.stages.values()].flatMap((s) => s.assignment.models.map((m) => m.seconds * 1000)),
    );
    const idleMs = Math.max(this.settings.drainIdleMs, 2 * longestStageMs);
    while (this.stages.size > 0 && Date.now() < until) {
      const stages = [...this.stages.values()];
      const busy = stages.some((s) => s.active > 0);
      if (!busy && Date.now() - Math.max(...stages.map((s) => s.lastActive)) >= idleMs) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    this.log.info({ stagesLeft: this.stages.size }, 'drain: handed over');
  }

  // ---- placements ---------------------------------------------------------------------------

  #follow(placement: RuntimePlacement, published: boolean): Promise<void> {
    const next = this.applying.then(() => this.#apply(placement, published));
    this.applying = next.catch(() => undefined);
    return next;
  }

  async #apply(placement: RuntimePlacement, published: boolean): Promise<void> {
    if (placement.version < this.version) return; // an old placement arriving late
    checkPlacement(placement);
    // A draining device takes no new stages; the ones it has retire once superseded.
    const mine = this.state === 'draining' ? [] : assignmentsFor(placement, this.device);
    const fresh = mine.filter((a) => !this.stages.has(a.key));
    if (fresh.length) {
      this.state = 'loading';
      try {
        for (const a of fresh) await this.#loadStage(a);
      } catch (err) {
        this.state = 'failed';
        this.work.lastError = (err as Error).message;
        throw err;
      }
    }
    this.version = placement.version;
    if (this.state === 'loading' || this.state === 'starting') this.state = 'ready';
    // Once the placement is in force (published), stages it no longer has are retired when idle.
    if (published) {
      const keep = new Set(mine.map((a) => a.key));
      const now = Date.now();
      for (const s of this.stages.values()) {
        if (!keep.has(s.assignment.key) && s.assignment.version < placement.version)
          s.lastActive = Math.max(s.lastActive, now);
      }
      this.#scheduleRetire(keep, placement.version);
    }
  }

  async #loadStage(a: StageAssignment): Promise<void> {
    await this.executor.load(a, this.stageFiles);
    this.stages.set(a.key, this.work.open(a));
    await this.nc.flush();
    this.log.info({ stage: a.key, models: a.models.length }, 'stage loaded');
  }

  async #unloadStage(key: string): Promise<void> {
    const stage = this.stages.get(key);
    if (!stage) return;
    this.stages.delete(key);
    for (const sub of stage.subs) sub.unsubscribe();
    stage.gather?.close();
    await this.executor.unload(key);
    this.log.info({ stage: key }, 'stage retired');
  }

  #scheduleRetire(keep: Set<string>, version: number): void {
    clearInterval(this.retireTimer);
    const check = (): void => {
      const now = Date.now();
      let left = 0;
      for (const [key, s] of this.stages) {
        if (keep.has(key) || s.assignment.version >= version) continue;
        if (s.active === 0 && now - s.lastActive >= this.settings.retireIdleMs) void this.#unloadStage(key);
        else left++;
      }
      if (left === 0) clearInterval(this.retireTimer);
    };
    this.retireTimer = setInterval(check, Math.max(20, Math.floor(this.settings.retireIdleMs / 4)));
    this.retireTimer.unref();
  }

  // ---- work ---------------------------------------------------------------------------------
}
