// Every message of the serving runtime, in one place: subjects, Redis keys and zod schemas.
// Messages are validated on receipt. The public wire (ms.infer.<model>) is plain MessagePack
// (bus/codec.ts, records off) or JSON when the request carries `content-type: application/json`;
// internal messages (stage work, sync, completions, placements) are MessagePack.
//
// Units: SLOs in the public request are seconds; timings in the public reply are milliseconds
// (timestamps since the Unix epoch, durations as plain ms). Internally times are epoch seconds
// (float64), the unit of the planner's latency model.
import { z } from 'zod';
import { modelProfileSchema } from '../planner/profile.js';
import { assertToken, Subjects } from '../bus/index.js';

// ---------------------------------------------------------------------------------------------
// Subjects and keys

/**
 * Subject names of the runtime. Only `<prefix>.infer.>` is public; everything else is between
 * the runtime's own actors.
 */
export class RuntimeSubjects {
  readonly prefix: string;
  constructor(readonly bus: Subjects = new Subjects()) {
    this.prefix = bus.prefix;
  }

  /**
   * `ms.infer.<model>`: public requests, served by the dispatchers (one queue group). Model names
   * may contain dots (`bert-1.3b`): the model is everything after `ms.infer.`.
   */
  infer(model: string): string {
    for (const part of model.split('.')) assertToken(part, 'model name part');
    return `${this.prefix}.infer.${model}`;
  }

  /** Wildcard the dispatchers subscribe to. */
  get inferWildcard(): string {
    return `${this.prefix}.infer.>`;
  }

  /** Prefix length of `ms.infer.`, to cut the model name out of a subject. */
  get inferPrefixLength(): number {
    return this.prefix.length + '.infer.'.length;
  }

  /** `ms.group.<g>.stage.<k>`: work for stage k of mesh group g (every shard of the stage subscribes). */
  stage(group: string, stage: number): string {
    return `${this.prefix}.group.${assertToken(group, 'group id')}.stage.${stage}`;
  }

  /** `ms.group.<g>.stage.<k>.sync`: intra-operator shards report to the stage's leader (shard 0). */
  stageSync(group: string, stage: number): string {
    return `${this.stage(group, stage)}.sync`;
  }

  /**
   * `ms.group.<g>.stage.<k>.reduce.<s>`: shard s of a sharded stage publishes its partial result
   * of each segment here, and the stage's other shards subscribe (the all-reduce between
   * segments). One subject per shard, so no shard is sent its own partials back.
   */
  stageReduce(group: string, stage: number, shard: number): string {
    return `${this.stage(group, stage)}.reduce.${shard}`;
  }

  /** `ms.dispatch.<dispatcher>.<rid>`: where the last stage reports completion of request rid. */
  completion(dispatcher: string, rid: string): string {
    return `${this.completionBase(dispatcher)}${rid}`;
  }

  completionBase(dispatcher: string): string {
    return `${this.prefix}.dispatch.${assertToken(dispatcher, 'dispatcher id')}.`;
  }

  /** `ms.dispatch.peers`: dispatchers tell each other what they booked on the groups they share. */
  get dispatchPeers(): string {
    return `${this.prefix}.dispatch.peers`;
  }

  /** `ms.placement`: the planner publishes every new placement here. */
  get placement(): string {
    return `${this.prefix}.placement`;
  }

  /** `ms.events.<kind>`. */
  event(kind: string): string {
    return this.bus.event(kind);
  }
}

/** Redis keys of the runtime's cluster state (all readable with redis-cli). */
export class RuntimeKeys {
  constructor(readonly prefix: string = 'ms') {}
  /** HASH: a GPU worker's device: id, memoryBytes, executor, host, pid, registeredAt (TTL, refreshed). */
  device(id: string): string {
    return `${this.prefix}:device:${id}`;
  }
  /** STRING: JSON ModelProfile (planner/profile.ts format). */
  profile(model: string): string {
    return `${this.prefix}:profile:${model}`;
  }
  profilePattern(): string {
    return `${this.prefix}:profile:*`;
  }
  /** STRING: observed request rate of a model, req/s (written by the dispatcher, with a TTL). */
  rate(model: string): string {
    return `${this.prefix}:rate:${model}`;
  }
  /** STRING: JSON RuntimePlacement of one version. */
  placement(version: number): string {
    return `${this.prefix}:placement:${version}`;
  }
  /** STRING: JSON of the placement in force. */
  currentPlacement(): string {
    return `${this.prefix}:placement:current`;
  }
  /** STRING: JSON `{ at, reason, error }` of the planner's last failed attempt; deleted when one succeeds. */
  placementError(): string {
    return `${this.prefix}:placement:error`;
  }
  /** Counter INCRed for each new placement version. */
  placementVersion(): string {
    return `${this.prefix}:placement:version`;
  }
}

// ---------------------------------------------------------------------------------------------
// Public protocol

/** Body of a request on `ms.infer.<model>` (the model is the subject's last token). */
export const InferRequest = z.object({
  /** Client's request id, echoed in the reply; one is made up when absent. */
  id: z.string().min(1).max(256).optional(),
  /** Model input, passed to the first stage as is. */
  input: z.unknown().optional(),
  /** Latency objective in seconds from arrival at the dispatcher; none = no deadline. */
  slo: z.number().finite().positive().optional(),
});
export type InferRequest = z.infer<typeof InferRequest>;

export const REPLY_STATUSES = ['ok', 'rejected', 'error'] as const;
export type ReplyStatus = (typeof REPLY_STATUSES)[number];

export const InferTimings = z.object({
  /** Epoch ms the dispatcher received the request. */
  arrival: z.number(),
  /** Epoch ms it was sent to the group's first stage (absent when not dispatched). */
  dispatched: z.number().optional(),
  /** Epoch ms the first stage started / the last stage finished (absent unless served). */
  start: z.number().optional(),
  finish: z.number().optional(),
  /** Epoch ms the reply was sent. */
  replied: z.number(),
  /** start − arrival, finish − start, replied − arrival (ms). */
  queue: z.number().optional(),
  service: z.number().optional(),
  total: z.number(),
  /** The dispatcher's estimated finish (epoch ms) when it accepted or rejected the request. */
  estimatedFinish: z.number().optional(),
});
export type InferTimings = z.infer<typeof InferTimings>;

/** Reply to a public request: exactly one per request. */
export const InferReply = z.object({
  id: z.string(),
  model: z.string(),
  status: z.enum(REPLY_STATUSES),
  /** Why it was rejected or failed. */
  reason: z.string().optional(),
  output: z.unknown().optional(),
  /** Mesh group that served it (or would have). */
  group: z.string().optional(),
  /** Whether it finished within its SLO (only for status ok with an SLO). */
  withinSlo: z.boolean().optional(),
  /** The group whose failure (lost device, no responders) made the dispatcher route it again. */
  retriedFrom: z.string().optional(),
  timings: InferTimings,
});
export type InferReply = z.infer<typeof InferReply>;

// ---------------------------------------------------------------------------------------------
// Placement

export const LatencyParamsSchema = z.object({
  stagePenalty: z.number().nonnegative(),
  overhead: z.number().nonnegative(),
});

export const RuntimeGroup = z.object({
  /** Subject-safe id, unique across versions (e.g. `v3-0`). */
  id: z.string(),
  config: z.object({ pp: z.number().int().positive(), op: z.number().int().positive() }),
  models: z.array(z.string().min(1)),
  /** devices[k][s] = device id of shard s of stage k. */
  devices: z.array(z.array(z.string().min(1))),
});
export type RuntimeGroup = z.infer<typeof RuntimeGroup>;

/** A placement as the runtime uses it: the planner's groups bound to device ids, versioned. */
export const RuntimePlacement = z.object({
  version: z.number().int().positive(),
  createdAt: z.string(),
  strategy: z.string(),
  reason: z.string(),
  params: LatencyParamsSchema,
  groups: z.array(RuntimeGroup),
  /** Profiles of every placed model (stage times come from here, for workers and dispatcher alike). */
  profiles: z.array(modelProfileSchema),
});
export type RuntimePlacement = z.infer<typeof RuntimePlacement>;

// ---------------------------------------------------------------------------------------------
// Internal messages

/** A subject one may publish to: dot-separated non-empty tokens, no whitespace or wildcards. */
export const PublishSubject = z.string().max(1024).regex(/^[^\s.*>]+(\.[^\s.*>]+)*$/, 'not a valid NATS subject to publish to');

/** Work for one stage of a group: published on `ms.group.<g>.stage.<k>`. */
export const StageWork = z.object({
  rid: z.string(),
  model: z.string(),
  group: z.string(),
  stage: z.number().int().nonnegative(),
  input: z.unknown().optional(),
  /** Completion subject of the dispatcher that owns the request. */
  done: PublishSubject,
  /** Epoch seconds the first stage started (set by stage 0). */
  start: z.number().optional(),
  /**
   * Seconds between the previous stage's finish and the send of this work: on a simulated device,
   * its timer's lateness, which the next simulated stage takes back so that it never accumulates
   * along a pipeline (the hop itself is not taken back). Absent from stage 0 and sharded stages.
   */
  late: z.number().nonnegative().finite().optional(),
});
export type StageWork = z.infer<typeof StageWork>;

/** A non-leader shard finished its part of a stage: published on `.sync`. */
export const StageSync = z.object({
  rid: z.string(),
  shard: z.number().int().nonnegative(),
  output: z.unknown().optional(),
  start: z.number(),
  finish: z.number(),
  error: z.string().optional(),
});
export type StageSync = z.infer<typeof StageSync>;

/**
 * One shard's partial result of one segment of request rid, published on `.reduce`; or, with
 * `error`, that the shard gave up on rid (its peers stop waiting for it).
 */
export const StagePartial = z.object({
  rid: z.string(),
  segment: z.number().int().nonnegative(),
  shard: z.number().int().nonnegative(),
  partial: z.unknown().optional(),
  error: z.string().optional(),
});
export type StagePartial = z.infer<typeof StagePartial>;

/** The last stage (or a failing one) reports to the dispatcher's completion subject. */
export const Completion = z.object({
  rid: z.string(),
  group: z.string(),
  ok: z.boolean(),
  output: z.unknown().optional(),
  error: z.string().optional(),
  /** Epoch seconds the first stage started and the last stage finished. */
  start: z.number().optional(),
  finish: z.number(),
});
export type Completion = z.infer<typeof Completion>;

/**
 * Published by a dispatcher on `ms.events.group.out` / `.in` when it takes a mesh group out of
 * routing (a device lost, no responders) or back in.
 */
export const GroupEvent = z.object({
  kind: z.enum(['group.out', 'group.in']),
  group: z.string(),
  version: z.number().int(),
  dispatcher: z.string(),
  /** Why it went out (absent for `group.in`). */
  reason: z.string().optional(),
  /** Epoch ms. */
  at: z.number(),
});
export type GroupEvent = z.infer<typeof GroupEvent>;

/**
 * On `ms.dispatch.peers`, batched: what a dispatcher booked on a group, for the other dispatchers
 * of the queue group, whose requests queue on the same devices. `booked`: a request of `model`
 * (booked by the receiver at receipt: no clock is shared between hosts; `at` is the sender's
 * epoch s, for logs). `clocks`: the sender's whole view of a group, sent to one dispatcher (`to`)
 * that has just appeared: how far ahead of now each stage's clock is and when the last booked
 * request should leave (seconds from now).
 */
export const PeerNote = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('booked'), group: z.string(), version: z.number().int(), model: z.string(), at: z.number() }),
  z.object({
    kind: z.literal('clocks'), group: z.string(), version: z.number().int(), to: z.string(),
    ahead: z.array(z.number().nonnegative().finite()).max(64), busyFor: z.number().nonnegative().finite(),
  }),
]);
export type PeerNote = z.infer<typeof PeerNote>;

export const PeerNotes = z.object({
  /** The sending dispatcher's id (its own notes come back to it and are skipped). */
  from: z.string(),
  notes: z.array(PeerNote).max(100_000),
});
export type PeerNotes = z.infer<typeof PeerNotes>;

/** A GPU worker's device, as registered in Redis. */
export const DeviceInfo = z.object({
  id: z.string(),
  memoryBytes: z.coerce.number().positive(),
  executor: z.string(),
  host: z.string(),
  pid: z.coerce.number().int(),
  registeredAt: z.string(),
});
export type DeviceInfo = z.infer<typeof DeviceInfo>;

export const WORKER_STATES = ['starting', 'loading', 'ready', 'draining', 'stopped', 'failed'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** Actor kind under which GPU workers register (the planner lists devices by it). */
export const GPU_WORKER_KIND = 'GpuWorker';
