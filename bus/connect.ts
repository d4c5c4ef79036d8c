// Connections to NATS and Redis with the bus's defaults in one place.
import { type NatsConnection, type NodeConnectionOptions, connect as natsConnect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { busEnvironment } from './config.js';
import { createLogger, type Logger } from './log.js';

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
  return url ?? busEnvironment().natsUrl;
}

export function redisUrlFrom(url?: string): string {
  return url ?? busEnvironment().redisUrl;
}

// `scheme://userinfo@host…`: the userinfo runs to the last '@' (hosts and ports hold none), so a
// password with an unencoded '@' or '/' still parses, and is still masked in logs.
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)?(.*)@([^@]*)$/i;

/** A URL fit for logs and error messages: its password (or token) replaced by `***`. */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((one) => {
      const m = USERINFO.exec(one.trim());
      if (!m) return one;
      const colon = m[2].indexOf(':');
      return `${m[1] ?? ''}${colon < 0 ? '***' : `${m[2].slice(0, colon)}:***`}@${m[3]}`;
    })
    .join(',');
}

export interface NatsServers {
  servers: string[];
  /** From `user:pass@` in the URLs. */
  user?: string;
  pass?: string;
  /** From `token@` (no colon) in the URLs. */
  token?: string;
}

/**
 * Splits a NATS_URL into servers and credentials. nats.js ignores credentials written in a
 * server URL, so `nats://worker:secret@nats:4222` (the form our deployment hands every service)
 * has to become `user`/`pass` options. Percent-encoded characters are decoded; servers of one
 * URL list must agree on their credentials (nats.js takes one set per connection).
 */
export function natsServersFrom(url: string): NatsServers {
  let credentials: string | undefined;
  const servers: string[] = [];
  for (const raw of url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = USERINFO.exec(raw);
    if (!m) {
      servers.push(raw);
      continue;
    }
    if (credentials !== undefined && credentials !== m[2]) {
      throw new Error(`NATS_URL ${redactUrl(url)}: the servers carry different credentials; use one set for all`);
    }
    credentials = m[2];
    servers.push(`${m[1] ?? ''}${m[3]}`);
  }
  if (!servers.length) throw new Error('NATS_URL is empty');
  if (credentials === undefined || credentials === '') return { servers };
  const decode = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new Error(`NATS_URL ${redactUrl(url)}: bad percent-encoding in its credentials`);
    }
  };
  const colon = credentials.indexOf(':');
  if (colon < 0) return { servers, token: decode(credentials) };
  return { servers, user: decode(credentials.slice(0, colon)), pass: decode(credentials.slice(colon + 1)) };
}

/**
 * Connects to NATS. Reconnects forever (`maxReconnectAttempts: -1`): an actor outlives a server
 * restart, and its subscriptions are re-established by the client on reconnect.
 */
export async function connectNats(options: NatsConnectOptions = {}): Promise<NatsConnection> {
  const url = natsUrlFrom(options.url);
  const { servers, user, pass, token } = natsServersFrom(url);
  return await natsConnect({
    servers,
    ...(user !== undefined ? { user, pass } : {}),
    ...(token !== undefined ? { token } : {}),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
    reconnectJitter: 50,
    pingInterval: options.pingIntervalMs ?? 5_000,
    maxPingOut: 2,
    ...options.extra,
  }).catch((err: Error) => {
    // nats.js says only "connection refused" or "Authorization Violation": name the server.
    throw new Error(`cannot connect to NATS at ${redactUrl(url)}: ${err.message}`, { cause: err });
  });
}

export interface RedisConnectOptions {
  /** Default: env REDIS_URL, else redis://127.0.0.1:6379. */
  url?: string;
  /** Connection name (CLIENT SETNAME). */
  name?: string;
  /** Where connection trouble is logged; default a logger at LOG_LEVEL. */
  log?: Logger;
  /** Give up the first connection after this long (ioredis' connectTimeout; its default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * Connects to Redis. Retries with a capped backoff (50 ms .. 1 s) forever; commands issued while
 * disconnected wait in ioredis' offline queue and fail after 3 retries instead of hanging.
 * Resolves once the first connection is up.
 */
export async function connectRedis(options: RedisConnectOptions = {}): Promise<Redis> {
  const url = redisUrlFrom(options.url);
  const shown = redactUrl(url);
  const redis = new Redis(url, {
    connectionName: options.name,
    lazyConnect: true,
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeout: options.connectTimeoutMs }),
    maxRetriesPerRequest: 3,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
  });
  // Without a listener ioredis prints every failed reconnect attempt; log one warning per outage.
  const log = options.log ?? createLogger();
  let warned = false;
  redis.on('error', (err: Error) => {
    if (warned) return;
    warned = true;
    log.warn({ err: err.message, url: shown }, 'redis connection error; retrying');
  });
  redis.on('ready', () => {
    if (warned) log.info('redis connection restored');
    warned = false;
  });
  await redis.connect().catch((err: Error) => {
    redis.disconnect();
    // ioredis reports a refused first connection as "Connection is closed.": name the server.
    throw new Error(`cannot connect to Redis at ${shown}: ${err.message}`, { cause: err });
  });
  return redis;
}
