// Public API of the bus. Everything other parts use is exported from here.

export { type ActorInfo, LocalActor, type SpawnOptions, type StateChange } from './actor.js';
export type { ProcessMemory } from './actor-host.js';
export {
  CONTENT_TYPE_HEADER,
  decode,
  type Encoding,
  encode,
  encodingOf,
  headersFor,
  JSON_CONTENT_TYPE,
  jsonContentHeaders,
} from './codec.js';
export {
  type BusEnvironment,
  busEnvironment,
  DEFAULT_LOG_LEVEL,
  DEFAULT_NATS_URL,
  DEFAULT_REDIS_URL,
} from './config.js';
export type { NatsConnectOptions, RedisConnectOptions } from './connect.js';
export {
  connectNats,
  connectRedis,
  type NatsServers,
  natsServersFrom,
  natsUrlFrom,
  redactUrl,
  redisUrlFrom,
} from './connect.js';
export type { InfoResponse, PingResponse, StatsResponse } from './discovery.js';
export { infoResponse, pingResponse, SRV_PREFIX, statsResponse } from './discovery.js';
export {
  ActorStateError,
  BusError,
  CallTimeoutError,
  describeError,
  ErrorCodes,
  NoRespondersError,
  RemoteError,
  ValidationError,
} from './errors.js';
export { ActorHandle } from './handle.js';
export { newId } from './ids.js';
export { createLogger, type Logger } from './log.js';
export { Mailbox } from './mailbox.js';
export type { MethodStats } from './methods.js';
export { Outbox, type OutboxOptions } from './outbox.js';
export { assertWithinLimit, PayloadTooLargeError } from './payload-limit.js';
export { assertPlain, plainDataIssue } from './plain.js';
export { type PresenceOptions, PresenceWatch } from './presence.js';
export { decodeActorEvent, Registry, type RegistryOptions } from './registry.js';
export { respondError, respondMalformed, safeEncodingOf } from './replies.js';
export { isNoResponders } from './requester.js';
export type { ActorEventKind } from './schemas.js';
export {
  ActorEvent,
  ActorPing,
  ActorState,
  CallEnvelope,
  formatIssues,
  parseOrThrow,
  RegistryEntry,
  RemoteErrorBody,
  ReplyEnvelope,
} from './schemas.js';
export { type ServeActorOptions, serveActor } from './serve.js';
export { HELD_MS_HEADER, heldForMs, QueueStandby, type QueueStandbyOptions } from './standby.js';
export { assertToken, DEFAULT_PREFIX, methodOf, PING_METHOD, Subjects } from './subjects.js';
export { type SafeSubscribeOptions, safeSubscribe } from './subscribe.js';
export { type SupervisedActor, type SupervisedActorOptions, type SupervisedState, Supervisor } from './supervisor.js';
export { ActorSystem, type ActorSystemOptions, type SystemEventName } from './system.js';
export type {
  ActorArgs,
  ActorContext,
  ActorHooks,
  ActorMethodName,
  ActorProxy,
  ActorRef,
  ActorResult,
  ActorServices,
  ArgSchemas,
  CallOptions,
  ConnectionState,
} from './types.js';
