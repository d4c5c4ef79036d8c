// Connections to NATS and Redis with the bus's defaults in one place.
import { connect as natsConnect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { rootLogger } from './log.js';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface NatsConnectOptions {
  /** Server URL(s); default: env NATS_URL, else nats://127.0.0.1:4222. Comma-separated for several. */
  url?: string;
  /** Connection name shown by the server (`nats server report connections`). */
  name?: string;
  /** Wait between reconnect attempts (ms). Default 250: a restarted server is picked up fast. */
  reconnectTimeWaitMs?: number;
  /** Client ping interval (ms); a dead server is noticed after 2 missed pings. Default 5000. */
  pingIntervalMs?: number;
  /** Extra nats.js options; these win over the ones above. */
  extra?: Partial<NodeConnectionOptions>;
}

export function natsUrlFrom(url?: string): string {
  return url ?? process.env.NATS_URL ?? DEFAULT_NATS_URL;
}

export function redisUrlFrom(url?: string): string {
  return url ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
}

/**
 * Connects to NATS. Reconnects forever (`maxReconnectAttempts: -1`): an actor outlives a server
 * restart, and its subscriptions are re-established by the client on reconnect.
 */
export async function connectNats(options: NatsConnectOptions = {}): Promise<NatsConnection> {
  const servers = natsUrlFrom(options.url).split(',').map((s) => s.trim());
  return await natsConnect({
    servers,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
    reconnectJitter: 50,
    pingInterval: options.pingIntervalMs ?? 5_000,
    maxPingOut: 2,
    ...options.extra,
  });
}

export interface RedisConnectOptions {
  /** Default: env REDIS_URL, else redis://127.0.0.1:6379. */
  url?: string;
  /** Connection name (CLIENT SETNAME). */
  name?: string;
}

/**
 * Connects to Redis. Retries with a capped backoff (50 ms .. 1 s) forever; commands issued while
 * disconnected wait in ioredis' offline queue and fail after 3 retries instead of hanging.
 * Resolves once the first connection is up.
 */
export async function connectRedis(options: RedisConnectOptions = {}): Promise<Redis> {
  const redis = new Redis(redisUrlFrom(options.url), {
    connectionName: options.name,
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
  });
  // Without a listener ioredis prints every failed reconnect attempt; log one warning per outage.
  let warned = false;
  redis.on('error', (err: Error) => {
    if (warned) return;
    warned = true;
    rootLogger().warn({ err: err.message, url: redisUrlFrom(options.url) }, 'redis connection error; retrying');
  });
  redis.on('ready', () => {
    if (warned) rootLogger().info('redis connection restored');
    warned = false;
  });
  await redis.connect();
  return redis;
}
