// Public API of the bus. Everything other parts use is exported from here.
export { ActorSystem, type ActorSystemOptions, type SystemEventName } from './system.js';
export { LocalActor, type SpawnOptions, type ActorInfo, type MethodStats, type StateChange } from './actor.js';
export { ActorHandle } from './handle.js';
export type { ActorContext, ActorHooks, ActorMethodName, ActorArgs, ActorResult, ActorProxy, ArgSchemas, CallOptions } from './types.js';
export { Mailbox } from './mailbox.js';
export { Registry, decodeActorEvent, type RegistryOptions } from './registry.js';
export { Supervisor, type SupervisedActorOptions, type SupervisedActor, type SupervisedState } from './supervisor.js';
export type { ProcessMemory } from './actor-host.js';
export { PresenceWatch, type PresenceOptions } from './presence.js';
export { Outbox, type OutboxOptions, type OutboxConnection } from './outbox.js';
export { isNoResponders } from './requester.js';
export { safeSubscribe, type SafeSubscribeOptions } from './subscribe.js';
export { respondError, respondMalformed, safeEncodingOf } from './replies.js';
export { Subjects, DEFAULT_PREFIX, PING_METHOD, assertToken, methodOf } from './subjects.js';
export { encode, decode, encodingOf, headersFor, jsonContentHeaders, CONTENT_TYPE_HEADER, JSON_CONTENT_TYPE, type Encoding } from './codec.js';
export {
  BusError,
  ValidationError,
  RemoteError,
  CallTimeoutError,
  NoRespondersError,
  ActorStateError,
  ErrorCodes,
  describeError,
} from './errors.js';
export { PayloadTooLargeError, assertWithinLimit, publishWithinLimit } from './payload-limit.js';
export { CallEnvelope, ReplyEnvelope, RemoteErrorBody, RegistryEntry, ActorEvent, ActorPing, ActorState, parseOrThrow, formatIssues } from './schemas.js';
export type { ActorEventKind } from './schemas.js';
export { connectNats, connectRedis, natsServersFrom, natsUrlFrom, redactUrl, redisUrlFrom, DEFAULT_NATS_URL, DEFAULT_REDIS_URL, type NatsServers } from './connect.js';
export type { NatsConnectOptions, RedisConnectOptions } from './connect.js';
export { SRV_PREFIX, pingResponse, infoResponse, statsResponse } from './discovery.js';
export type { PingResponse, InfoResponse, StatsResponse } from './discovery.js';
export { rootLogger, actorLogger, type Logger } from './log.js';
