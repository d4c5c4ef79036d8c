// Discovery through the NATS micro-services protocol, so standard tools (`nats micro ls`,
// `nats micro info <name>`, `nats micro stats <name>`) see every actor as a service instance.
//
// We answer the small protocol ourselves (the @nats-io/services package is prerelease only):
//   $SRV.<VERB>, $SRV.<VERB>.<name>, $SRV.<VERB>.<name>.<id>   with VERB in PING, INFO, STATS
// Each local actor matching the subject replies with one JSON document of the standard shape
// (io.nats.micro.v1.{ping,info,stats}_response). One wildcard subscription per process.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ActorInfo } from './actor.js';
import { encode } from './codec.js';

export const SRV_PREFIX = '$SRV';

type Verb = 'PING' | 'INFO' | 'STATS';

export interface ServiceIdentity {
  name: string;
  id: string;
  version: string;
  metadata: Record<string, string>;
}

export interface PingResponse extends ServiceIdentity {
  type: 'io.nats.micro.v1.ping_response';
}

export interface InfoResponse extends ServiceIdentity {
  type: 'io.nats.micro.v1.info_response';
  description: string;
  endpoints: Array<{ name: string; subject: string; queue_group: string; metadata: Record<string, string> | null }>;
}

export interface StatsResponse extends ServiceIdentity {
  type: 'io.nats.micro.v1.stats_response';
  started: string;
  endpoints: Array<{
    name: string;
    subject: string;
    queue_group: string;
    num_requests: number;
    num_errors: number;
    last_error: string;
    /** Nanoseconds, as the protocol specifies. */
    processing_time: number;
    average_processing_time: number;
  }>;
}

function identity(actor: ActorInfo): ServiceIdentity {
  return { name: actor.name, id: actor.id, version: actor.version, metadata: { kind: actor.kind, state: actor.state } };
}

export function pingResponse(actor: ActorInfo): PingResponse {
  return { type: 'io.nats.micro.v1.ping_response', ...identity(actor) };
}

export function infoResponse(actor: ActorInfo): InfoResponse {
  return {
    type: 'io.nats.micro.v1.info_response',
    ...identity(actor),
    description: `${actor.kind} actor`,
    endpoints: actor.methods.map((m) => ({
      name: m.name,
      subject: m.subject,
      queue_group: actor.name,
      metadata: null,
    })),
  };
}

export function statsResponse(actor: ActorInfo): StatsResponse {
  return {
    type: 'io.nats.micro.v1.stats_response',
    ...identity(actor),
    started: actor.startedAt,
    endpoints: actor.methods.map((m) => ({
      name: m.name,
      subject: m.subject,
      queue_group: actor.name,
      num_requests: m.stats.numRequests,
      num_errors: m.stats.numErrors,
      last_error: m.stats.lastError,
      processing_time: m.stats.processingNs,
      average_processing_time: m.stats.numRequests ? Math.round(m.stats.processingNs / m.stats.numRequests) : 0,
    })),
  };
}

const RESPONDERS: Record<Verb, (actor: ActorInfo) => object> = {
  PING: pingResponse,
  INFO: infoResponse,
  STATS: statsResponse,
};

/** Answers $SRV requests for the actors `list()` returns (the ready ones of this process). */
export function serveDiscovery(nc: NatsConnection, list: () => Iterable<ActorInfo>): Subscription {
  return nc.subscribe(`${SRV_PREFIX}.>`, {
    callback: (err, msg) => {
      if (!err) answer(msg, list);
    },
  });
}

function answer(msg: Msg, list: () => Iterable<ActorInfo>): void {
  if (!msg.reply) return;
  const [, verb, name, id, extra] = msg.subject.split('.');
  const respond = RESPONDERS[verb as Verb];
  if (!respond || extra !== undefined) return;
  for (const actor of list()) {
    if ((name && actor.name !== name) || (id && actor.id !== id)) continue;
    msg.respond(encode(respond(actor), 'json'));
  }
}
