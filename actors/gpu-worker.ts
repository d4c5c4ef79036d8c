// The GPU worker actor: one per device.
//
// Lifecycle (shown by `status()`): starting → ready (registered, idle) → loading (a placement gave
// it stages) → ready → draining → stopped | failed.
//
// It registers its device in Redis (`ms:device:<id>`, refreshed with a TTL; the bus registry keeps
// the actor's own heartbeat), follows placements (`assign()` from the planner, and every placement
// published on `ms.placement`), and for each stage shard it is given subscribes to
// `ms.group.<g>.stage.<k>`. Work for all its stages goes through ONE queue per device, run one job
// at a time: a real pipeline, each stage takes its next request as soon as it is free. Shards of a
// sharded stage (op > 1) all receive the work; an executor that sums partial results between
// segments exchanges them on `.reduce.<shard>` (shard-gather.ts; a job waiting for its peers lets the
// device start the next job); non-leaders report on `.sync`, the leader (shard 0) forwards once
// every shard is done. The last stage reports to the dispatcher's completion subject.
//
// Scale-in: a stopping worker (SIGTERM to its process, or `system.stop`) is `draining`: the bus
// announces it, the planner re-places without it, and the worker keeps serving until that
// placement has retired its stages (or nobody sent it work for a while), then finishes what it
// holds and stops. Malformed messages on its subjects are dropped — and answered with an error
// when they carry a reply subject — never thrown into the NATS client.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { z } from 'zod';
import { assertWithinLimit, decode, encode, Mailbox, Outbox, parseOrThrow, PayloadTooLargeError, respondMalformed, safeSubscribe, type ActorContext, type ArgSchemas, type Logger } from '../bus/index.js';
import { nowSeconds } from './clock.js';
import type { ShardExchange, StageAssignment, StageExecutor, StageResult } from './executor.js';
import type { OnnxExecutorOptions } from './onnx/executor.js';
import { OnnxStageExecutor } from './onnx/stage-executor.js';
import { StagePartial, StageSync, StageWork, RuntimeKeys, RuntimePlacement, RuntimeSubjects, type Completion, type WorkerState } from './protocol.js';
import { followPlacements } from './placement-feed.js';
import { assignmentsFor, checkPlacement } from './runtime-placement.js';
import { ShardGather } from './shard-gather.js';
import { SimExecutor } from './sim-executor.js';

export interface GpuWorkerOptions {
  /** Device id; default: the actor's name. */
  device?: string;
  /** Weight-memory budget, GiB. Default 13 (a 16 GB V100 in the paper). */
  memoryGiB?: number;
  /** Executor strategy: 'sim' (default; the profiled stage time) or 'onnx' (the model's generated graphs on onnxruntime). */
  executor?: ExecutorKind;
  /** onnxruntime settings of the 'onnx' executor; default from MESHSERVE_ORT_PROVIDER / MESHSERVE_ORT_THREADS. */
  ort?: OnnxExecutorOptions;
  /** How long a shard waits for the other shards' partial results of one segment (ms). Default 10 000. */
  reduceTimeoutMs?: number;
  /** A superseded stage is unloaded after being idle this long (ms). Default 1000. */
  retireIdleMs?: number;
  /** TTL of the device key (ms); refreshed at a third of it. Default 3000. */
  deviceTtlMs?: number;
  /**
   * Draining, stop early when no work came for this long (ms; at least twice the longest stage
   * time): nobody routes here any more. Default 1000.
   */
  drainIdleMs?: number;
  /** Longest a drain waits for a placement without this device (ms). Default 20 000. */
  drainTimeoutMs?: number;
}

/** Partial results of a sharded stage older than this are dropped (a shard's report was lost). */
const SHARD_RESULTS_TTL_MS = 60_000;

interface LoadedStage {
  readonly assignment: StageAssignment;
  readonly subs: Subscription[];
  /** Jobs of this stage queued or running on the device. */
  active: number;
  lastActive: number;
  /** Leader only: partial results of sharded work by request id. */
  readonly shards: Map<string, ShardResults>;
  /** Sharded stages: the all-gather of partial results between segments. */
  readonly gather?: ShardGather;
}

interface ShardResults {
  work?: StageWork;
  outputs: unknown[];
  /** Shards that reported (a repeated report is ignored). */
  readonly reported: Set<number>;
  readonly createdAt: number;
  start: number;
  finish: number;
  error?: string;
}

interface QueuedJob {
  readonly stage: LoadedStage;
  readonly work: StageWork;
  readonly receivedAt: number;
}

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

export const EXECUTOR_KINDS = ['sim', 'onnx'] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

function executorFor(kind: string | undefined, ort: OnnxExecutorOptions | undefined): StageExecutor {
  if (kind === undefined || kind === 'sim') return new SimExecutor();
  if (kind === 'onnx') return new OnnxStageExecutor(ort);
  throw new Error(`unknown executor "${kind}"; built in: ${EXECUTOR_KINDS.join(', ')}`);
}

export class GpuWorker {
  private state: WorkerState = 'starting';
  private device = '';
  private readonly executor: StageExecutor;
  private readonly memoryBytes: number;
  private readonly retireIdleMs: number;
  private readonly deviceTtlMs: number;
  private readonly drainIdleMs: number;
  private readonly drainTimeoutMs: number;
  private readonly reduceTimeoutMs: number;
  private nc!: NatsConnection;
  private redis: Redis | undefined;
  private log!: Logger;
  private subjects!: RuntimeSubjects;
  private keys!: RuntimeKeys;
  private readonly stages = new Map<string, LoadedStage>();
  /** The device's one queue for all its stages, one job at a time (nothing kept once run). */
  private readonly jobs = new Mailbox<QueuedJob>((job) => this.#run(job));
  /** Sharded jobs that yielded the device while waiting for their peers, until they finish. */
  private readonly waitingJobs = new Set<Promise<void>>();
  private version = 0;
  private processed = 0;
  private errors = 0;
  private lastError: string | undefined;
  private placementSub: Subscription | undefined;
  /** Activations and completions: held while NATS is down instead of dropped. */
  private outbox!: Outbox;
  private readonly registeredAt = new Date().toISOString();
  private deviceTimer: NodeJS.Timeout | undefined;
  private retireTimer: NodeJS.Timeout | undefined;
  /** Serialises placements arriving by call and by publication. */
  private applying: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: GpuWorkerOptions = {}) {
    this.executor = executorFor(options.executor, options.ort);
    this.memoryBytes = (options.memoryGiB ?? 13) * 2 ** 30;
    this.retireIdleMs = options.retireIdleMs ?? 1_000;
    this.deviceTtlMs = options.deviceTtlMs ?? 3_000;
    this.drainIdleMs = options.drainIdleMs ?? 1_000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 20_000;
    this.reduceTimeoutMs = options.reduceTimeoutMs ?? 10_000;
  }

  /** Argument schemas, validated on receipt by the bus (also when an actor host spawns the worker). */
  static readonly argSchemas: ArgSchemas<GpuWorker> = {
    assign: z.tuple([RuntimePlacement]) as unknown as z.ZodType<[RuntimePlacement]>,
    status: z.tuple([]),
  };

  async onStart(ctx: ActorContext): Promise<void> {
    this.device = this.options.device ?? ctx.name;
    this.nc = ctx.nats;
    this.redis = ctx.system.redis;
    this.log = ctx.log;
    this.subjects = new RuntimeSubjects(ctx.subjects);
    this.keys = new RuntimeKeys(ctx.subjects.prefix);
    this.outbox = new Outbox(ctx.system, { log: this.log });
    await this.#registerDevice();
    this.deviceTimer = setInterval(() => {
      void this.#registerDevice();
      this.#dropStaleShardResults();
    }, Math.max(100, Math.floor(this.deviceTtlMs / 3)));
    this.deviceTimer.unref();
    this.placementSub = followPlacements(this.nc, this.subjects, this.log, (placement) => this.#follow(placement, true));
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
      queued: this.jobs.pending,
      processed: this.processed,
      errors: this.errors,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async onStop(): Promise<void> {
    this.state = 'draining';
    await this.#handOver();
    clearInterval(this.deviceTimer);
    clearInterval(this.retireTimer);
    this.placementSub?.unsubscribe();
    await Promise.all([...this.stages.values()].flatMap((s) => s.subs.map((sub) => sub.drain().catch(() => undefined))));
    await this.jobs.idle();
    await Promise.all(this.waitingJobs);
    for (const key of [...this.stages.keys()]) await this.#unloadStage(key);
    await this.redis?.del(this.keys.device(this.device)).catch(() => undefined);
    this.outbox.close();
    this.state = 'stopped';
  }

  /**
   * Scale-in: keep serving until a placement without this device has retired every stage, or no
   * work came for the idle time (nobody routes here), at most drainTimeoutMs.
   */
  async #handOver(): Promise<void> {
    const until = Date.now() + this.drainTimeoutMs;
    const longestStageMs = Math.max(0, ...[...this.stages.values()].flatMap((s) => s.assignment.models.map((m) => m.seconds * 1000)));
    const idleMs = Math.max(this.drainIdleMs, 2 * longestStageMs);
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
        this.lastError = (err as Error).message;
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
        if (!keep.has(s.assignment.key) && s.assignment.version < placement.version) s.lastActive = Math.max(s.lastActive, now);
      }
      this.#scheduleRetire(keep, placement.version);
    }
  }

  async #loadStage(a: StageAssignment): Promise<void> {
    await this.executor.load(a);
    const gather = a.op > 1 ? this.#shardGather(a) : undefined;
    const stage: LoadedStage = { assignment: a, subs: [], active: 0, lastActive: Date.now(), shards: new Map(), gather };
    stage.subs.push(safeSubscribe(this.nc, this.subjects.stage(a.group, a.stage), (msg) => this.#receive(stage, msg), { log: this.log, what: `stage ${a.key}` }));
    if (a.op > 1 && a.shard === 0) {
      stage.subs.push(safeSubscribe(this.nc, this.subjects.stageSync(a.group, a.stage), (msg) => this.#receiveSync(stage, msg), { log: this.log, what: `stage ${a.key} sync` }));
    }
    if (gather) {
      for (let peer = 0; peer < a.op; peer++) {
        if (peer === a.shard) continue;
        stage.subs.push(safeSubscribe(this.nc, this.subjects.stageReduce(a.group, a.stage, peer), (msg) => this.#receivePartial(gather, msg), { log: this.log, what: `stage ${a.key} reduce ${peer}` }));
      }
    }
    this.stages.set(a.key, stage);
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
        if (s.active === 0 && now - s.lastActive >= this.retireIdleMs) void this.#unloadStage(key);
        else left++;
      }
      if (left === 0) clearInterval(this.retireTimer);
    };
    this.retireTimer = setInterval(check, Math.max(20, Math.floor(this.retireIdleMs / 4)));
    this.retireTimer.unref();
  }

  // ---- work ---------------------------------------------------------------------------------

  #receive(stage: LoadedStage, msg: Msg): void {
    const receivedAt = nowSeconds();
    let work: StageWork;
    try {
      work = parseOrThrow(StageWork, decode(msg.data), 'stage work');
    } catch (err) {
      this.errors++;
      this.lastError = (err as Error).message;
      this.log.warn({ err, subject: msg.subject }, 'dropping invalid stage work');
      this.#answerInvalidWork(msg, err);
      return;
    }
    stage.active++;
    this.jobs.push({ stage, work, receivedAt });
  }

  /**
   * The reply subject of stage work is the owner's completion subject: answer there with a failed
   * completion, so the request fails at once instead of by its timeout.
   */
  #answerInvalidWork(msg: Msg, err: unknown): void {
    if (!msg.reply) return;
    const done: Completion = { rid: '', group: '', ok: false, error: `invalid stage work on ${msg.subject}: ${(err as Error).message}`, finish: nowSeconds() };
    this.#publish(msg.reply, done);
  }

  /**
   * Publishes through the outbox; throws PayloadTooLargeError (naming `what`) when the message is
   * over the server's max payload, and what nats.js throws for a bad subject.
   */
  #send(subject: string, body: unknown, what: string, reply?: string): void {
    const data = encode(body);
    assertWithinLimit(this.nc, data, what);
    this.outbox.publish(subject, data, reply ? { reply } : undefined);
  }

  /** Publishes, logging instead of throwing (a subject or payload can still be refused). */
  #publish(subject: string, body: unknown, reply?: string): void {
    try {
      this.outbox.publish(subject, encode(body), reply ? { reply } : undefined);
    } catch (err) {
      this.errors++;
      this.lastError = (err as Error).message;
      this.log.warn({ err, subject }, 'could not publish');
    }
  }

  /**
   * Runs one job on the device. A sharded job that has to wait for its peers' partials yields the
   * device (the mailbox starts the next job) and finishes in the background: shards that see
   * requests in different orders then cannot deadlock.
   */
  #run(job: QueuedJob): Promise<void> {
    const shared = job.stage.gather?.forJob(job.work.rid);
    const finished = this.#runJob(job, shared?.exchange);
    if (!shared) return finished;
    this.waitingJobs.add(finished);
    void finished.then(() => this.waitingJobs.delete(finished));
    return Promise.race([finished, shared.waiting]);
  }

  /** Runs one job to its end and hands its result on; never throws (the queue must go on). */
  async #runJob(job: QueuedJob, exchange: ShardExchange | undefined): Promise<void> {
    const { stage, work } = job;
    let result: StageResult | undefined;
    let error: string | undefined;
    try {
      result = await this.executor.run({ assignment: stage.assignment.key, model: work.model, input: work.input, receivedAt: job.receivedAt, upstreamLate: work.late }, exchange);
      this.processed++;
    } catch (err) {
      error = (err as Error).message;
      this.errors++;
      this.lastError = error;
    }
    stage.active--;
    stage.lastActive = Date.now();
    try {
      if (stage.gather) {
        if (error) stage.gather.abort(work.rid, error);
        else stage.gather.release(work.rid);
      }
      this.#shardDone(stage, work, result, error);
    } catch (err) {
      this.log.error({ err, stage: stage.assignment.key }, 'could not hand a result on');
    }
  }

  #shardGather(a: StageAssignment): ShardGather {
    const subject = this.subjects.stageReduce(a.group, a.stage, a.shard);
    return new ShardGather({
      shard: a.shard,
      shards: a.op,
      timeoutMs: this.reduceTimeoutMs,
      publish: (m) => this.#send(subject, m, `the partial result of segment ${m.segment}`),
    });
  }

  #receivePartial(gather: ShardGather, msg: Msg): void {
    let partial: StagePartial;
    try {
      partial = parseOrThrow(StagePartial, decode(msg.data), 'stage partial');
    } catch (err) {
      this.log.warn({ err }, 'dropping invalid stage partial');
      respondMalformed(msg, 'stage partial', err, this.log);
      return;
    }
    gather.receive(partial);
  }

  #shardDone(stage: LoadedStage, work: StageWork, result: StageResult | undefined, error: string | undefined): void {
    const a = stage.assignment;
    const now = nowSeconds();
    if (a.op === 1) {
      this.#stageDone(a, work, result?.output, result?.start ?? now, result?.finish ?? now, error);
      return;
    }
    if (a.shard !== 0) {
      // Without a combine the leader uses its own output only (all shards hold the same sum): no need to send ours.
      const output = this.executor.combine ? result?.output : undefined;
      const sync: StageSync = { rid: work.rid, shard: a.shard, output, start: result?.start ?? now, finish: result?.finish ?? now, ...(error ? { error } : {}) };
      this.#publish(this.subjects.stageSync(a.group, a.stage), sync);
      return;
    }
    this.#collect(stage, work.rid, { shard: 0, output: result?.output, start: result?.start ?? now, finish: result?.finish ?? now, error }, work);
  }

  #receiveSync(stage: LoadedStage, msg: Msg): void {
    let sync: StageSync;
    try {
      sync = parseOrThrow(StageSync, decode(msg.data), 'stage sync');
      const op = stage.assignment.op;
      if (sync.shard === 0 || sync.shard >= op) throw new Error(`shard ${sync.shard} is not a reporting shard of a stage with op ${op}`);
    } catch (err) {
      this.log.warn({ err }, 'dropping invalid stage sync');
      respondMalformed(msg, 'stage sync', err, this.log);
      return;
    }
    this.#collect(stage, sync.rid, sync, undefined);
  }

  /** Partial results whose other shards never reported (a shard died, a report was lost). */
  #dropStaleShardResults(): void {
    const oldest = Date.now() - SHARD_RESULTS_TTL_MS;
    for (const stage of this.stages.values()) {
      for (const [rid, r] of stage.shards) if (r.createdAt < oldest) stage.shards.delete(rid);
    }
  }

  /** The leader gathers every shard's part; the stage is done when all `op` have reported. */
  #collect(stage: LoadedStage, rid: string, part: { shard: number; output?: unknown; start: number; finish: number; error?: string }, work: StageWork | undefined): void {
    const a = stage.assignment;
    let r = stage.shards.get(rid);
    if (!r) {
      r = { outputs: new Array(a.op), reported: new Set(), createdAt: Date.now(), start: part.start, finish: part.finish };
      stage.shards.set(rid, r);
    }
    if (r.reported.has(part.shard)) return;
    if (work) r.work = work;
    r.outputs[part.shard] = part.output;
    r.reported.add(part.shard);
    r.start = Math.min(r.start, part.start);
    r.finish = Math.max(r.finish, part.finish);
    if (part.error) r.error ??= `shard ${part.shard}: ${part.error}`;
    if (r.reported.size < a.op || !r.work) return;
    stage.shards.delete(rid);
    const output = r.error ? undefined : this.executor.combine ? this.executor.combine(r.outputs) : r.outputs[0];
    this.#stageDone(a, r.work, output, r.start, r.finish, r.error);
  }

  /** Forwards the activation to the next stage, or reports completion to the dispatcher. */
  #stageDone(a: StageAssignment, work: StageWork, output: unknown, start: number, finish: number, error: string | undefined): void {
    const firstStart = work.start ?? start;
    const fail = (why: string): void => {
      const done: Completion = { rid: work.rid, group: work.group, ok: false, finish, start: firstStart, error: `${a.key}: ${why}` };
      this.#publish(work.done, done);
    };
    if (error) return fail(error);
    try {
      if (a.stage === a.pp - 1) {
        const done: Completion = { rid: work.rid, group: work.group, ok: true, finish, start: firstStart, output };
        this.#send(work.done, done, 'the model output');
        return;
      }
      const { late: _late, ...rest } = work;
      // A sharded stage's finish includes its shards' sync, which is real: nothing to take back.
      const next: StageWork = { ...rest, stage: a.stage + 1, input: output, start: firstStart, ...(a.op === 1 ? { late: Math.max(0, nowSeconds() - finish) } : {}) };
      // The reply subject is the dispatcher's completion subject: if the next stage is gone the
      // server answers "no responders" there at once, and the dispatcher fails over.
      this.#send(this.subjects.stage(a.group, a.stage + 1), next, `the activation for stage ${a.stage + 1}`, work.done);
    } catch (err) {
      fail(err instanceof PayloadTooLargeError ? `${err.message} (send a smaller batch, or raise the server's max_payload)` : (err as Error).message);
    }
  }

  async #registerDevice(): Promise<void> {
    if (!this.redis) return;
    const key = this.keys.device(this.device);
    try {
      await this.redis
        .multi()
        .hset(key, { id: this.device, memoryBytes: this.memoryBytes, executor: this.executor.kind, host: hostname(), pid: process.pid, registeredAt: this.registeredAt })
        .pexpire(key, this.deviceTtlMs)
        .exec();
    } catch (err) {
      this.log.warn({ err }, 'device registration failed');
    }
  }
}

/** Argument schemas (the class declares them; kept as an export for `spawn(..., { args })`). */
export const gpuWorkerArgs: ArgSchemas<GpuWorker> = GpuWorker.argSchemas;
