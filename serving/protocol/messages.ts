// Every message of the serving runtime, in one place: its zod schema, validated on receipt.
// The public wire (ms.infer.<model>) is plain MessagePack
// (bus/codec.ts, records off) or JSON when the request carries `content-type: application/json`;
// internal messages (stage work, sync, completions, placements) are MessagePack.
//
// Units: SLOs in the public request are seconds; timings in the public reply are milliseconds
// (timestamps since the Unix epoch, durations as plain ms). Internally times are epoch seconds
// (float64), the unit of the planner's latency model.
import { z } from 'zod';

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
  /** The dispatcher (its id) that accepted the request and was gone when it completed: another one answered. */
  adoptedFrom: z.string().optional(),
  timings: InferTimings,
});
export type InferReply = z.infer<typeof InferReply>;

// ---------------------------------------------------------------------------------------------
// Internal messages

/** A subject one may publish to: dot-separated non-empty tokens, no whitespace or wildcards. */
export const PublishSubject = z
  .string()
  .max(1024)
  .regex(/^[^\s.*>]+(\.[^\s.*>]+)*$/, 'not a valid NATS subject to publish to');

/**
 * What answering a client needs, carried with the work of the request through the stages: if the
 * dispatcher that accepted it is gone when it completes, any other dispatcher can answer it.
 */
export const ClientRoute = z.object({
  /** The client's reply subject. */
  reply: PublishSubject,
  /** The client's request id (or the one made up). */
  id: z.string().max(256),
  encoding: z.enum(['msgpack', 'json']),
  /** Epoch seconds the owner received it; its deadline (absent: no SLO). */
  arrival: z.number(),
  deadline: z.number().optional(),
  /** The request id (rid) of its first booking: the same across a retry, so it names the request. */
  origin: z.string().max(256),
  retriedFrom: z.string().optional(),
});
export type ClientRoute = z.infer<typeof ClientRoute>;

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
  /**
   * Set once the work waited in an outbox during a NATS outage on its way (dispatcher or a
   * previous stage): its timing then says nothing about the devices, and the dispatcher does not
   * correct the group's clocks from it.
   */
  held: z.boolean().optional(),
  /** How to answer the client without the owner (absent from work sent by an older dispatcher). */
  client: ClientRoute.optional(),
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
  /** The work waited in an outbox during a NATS outage between stages (see StageWork.held). */
  held: z.boolean().optional(),
});
export type Completion = z.infer<typeof Completion>;

/**
 * A completion whose owner was gone (the server answered "no responders" on its completion
 * subject): the worker sends it with the client's route on `ms.dispatch.orphan.<owner>`, which
 * every dispatcher serves as a queue group; the one that takes it answers the client.
 */
export const Orphan = z.object({
  /** The dispatcher (its id) that accepted the request. */
  owner: z.string(),
  model: z.string(),
  client: ClientRoute,
  completion: Completion,
  /**
   * An earlier send to the owner got no answer at all before its subject had nobody: the owner may
   * have answered the client and lost its acknowledgement. Adopted only once the registry no longer
   * lists the owner alive.
   */
  unacknowledged: z.boolean().optional(),
});
export type Orphan = z.infer<typeof Orphan>;

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
  z.object({
    kind: z.literal('booked'),
    group: z.string(),
    version: z.number().int(),
    model: z.string(),
    at: z.number(),
  }),
  z.object({
    kind: z.literal('clocks'),
    group: z.string(),
    version: z.number().int(),
    to: z.string(),
    ahead: z.array(z.number().nonnegative().finite()).max(64),
    busyFor: z.number().nonnegative().finite(),
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
