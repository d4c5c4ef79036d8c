// Schemas of every message the bus itself sends. Parts built on the bus keep their own message
// schemas next to their actors; these are the framework's envelopes, registry and events.
import { z } from 'zod';
import { ValidationError } from './errors.js';

/** A call or tell: `{ args: [...] }`, sent to `<prefix>.actor.<name>.<method>`. */
export const CallEnvelope = z.object({
  args: z.array(z.unknown()),
});
export type CallEnvelope = z.infer<typeof CallEnvelope>;

export const RemoteErrorBody = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string(),
});
export type RemoteErrorBody = z.infer<typeof RemoteErrorBody>;

/** The answer to a call: `{ ok: true, value }` or `{ ok: false, error: { name, message, code } }`. */
export const ReplyEnvelope = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: RemoteErrorBody }),
]);
export type ReplyEnvelope = z.infer<typeof ReplyEnvelope>;

export const ActorState = z.enum(['starting', 'ready', 'draining', 'stopped', 'failed', 'dead']);
export type ActorState = z.infer<typeof ActorState>;

/** One actor in the Redis registry (hash `<prefix>:actor:<id>`; all fields are strings there). */
export const RegistryEntry = z.object({
  id: z.string(),
  name: z.string(),
  /** What the actor is (its class name unless given), e.g. `GpuWorker`. */
  kind: z.string(),
  host: z.string(),
  pid: z.coerce.number().int(),
  /** ISO-8601 time the actor was spawned. */
  startedAt: z.string(),
  state: ActorState,
});
export type RegistryEntry = z.infer<typeof RegistryEntry>;

/**
 * Published on `<prefix>.events.actor.<started|draining|stopped|dead>`. `draining` is the start
 * of a graceful stop: the actor still answers what it accepted (and its ping) until `stopped`.
 */
export const ActorEvent = z.object({
  kind: z.enum(['actor.started', 'actor.draining', 'actor.stopped', 'actor.dead']),
  actor: RegistryEntry,
  /** ISO-8601 time of the event. */
  at: z.string(),
});
export type ActorEvent = z.infer<typeof ActorEvent>;
export type ActorEventKind = ActorEvent['kind'];

/** The answer to a liveness ping (`<prefix>.actor.<name>._ping`): who answered, in which state. */
export const ActorPing = z.object({
  id: z.string(),
  name: z.string(),
  state: ActorState,
});
export type ActorPing = z.infer<typeof ActorPing>;

/** Parses `value` with `schema`, throwing a ValidationError that names `what` and every issue. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(`invalid ${what}: ${formatIssues(result.error)}`);
}

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
