// The bus's settings from the environment, read in this one place: where NATS and Redis are, and
// how much to log. Every other setting of the bus is an option with its default next to it.

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_LOG_LEVEL = 'info';

export interface BusEnvironment {
  /** NATS_URL: comma-separated server URLs, optionally with credentials. */
  readonly natsUrl: string;
  /** REDIS_URL, optionally with a password. */
  readonly redisUrl: string;
  /** LOG_LEVEL: a pino level. */
  readonly logLevel: string;
}

/** NATS_URL, REDIS_URL and LOG_LEVEL, each with its default when unset. */
export function busEnvironment(env: NodeJS.ProcessEnv = process.env): BusEnvironment {
  return {
    natsUrl: env.NATS_URL ?? DEFAULT_NATS_URL,
    redisUrl: env.REDIS_URL ?? DEFAULT_REDIS_URL,
    logLevel: env.LOG_LEVEL ?? DEFAULT_LOG_LEVEL,
  };
}
