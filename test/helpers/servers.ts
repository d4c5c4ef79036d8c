// Test harness: private nats-server and redis-server for one test file.
//
//   const servers = await startServers({ nats: true, redis: true });
//   after(() => servers.close());
//   ... servers.natsUrl, servers.redisUrl, await servers.nats.kill(), await servers.nats.restart() ...
//
// Ports are free loopback ports chosen per call; restart() reuses the same port so clients can
// reconnect. Servers are killed when the test process exits, even when a test fails or throws.
import { killAllLocalServers, type LocalServer, startNatsServer, startRedisServer } from '../../dev/servers.js';

export type { LocalServer };

export interface StartServersOptions {
  nats?: boolean;
  redis?: boolean;
  /** Start nats-server with JetStream enabled (temporary store directory). */
  jetstream?: boolean;
  /** nats-server config file (users, permissions) and environment it reads (passwords). */
  natsConfigFile?: string;
  natsEnv?: Record<string, string>;
  /** Start redis-server with `--requirepass`; redisUrl then carries the password. */
  redisPassword?: string;
}

export interface TestServers {
  /** nats://127.0.0.1:<port>; empty when NATS was not asked for. */
  natsUrl: string;
  /** redis://127.0.0.1:<port>; empty when Redis was not asked for. */
  redisUrl: string;
  /** Control of the NATS server (throws when it was not started). */
  nats: LocalServer;
  redis: LocalServer;
  /** Stops every server and removes their temporary directories. */
  close(): Promise<void>;
}

// A signal would otherwise skip the 'exit' hook; re-raise after cleanup so the default action runs.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAllLocalServers();
    process.kill(process.pid, sig);
  });
}

function missing(name: string): LocalServer {
  const fail = (): never => {
    throw new Error(`${name} was not started; pass { ${name}: true } to startServers`);
  };
  return {
    name,
    url: '',
    port: 0,
    pid: undefined,
    running: false,
    stop: fail,
    kill: fail,
    restart: fail,
    close: async () => {},
    onUnexpectedExit: fail,
  };
}

export async function startServers(options: StartServersOptions = { nats: true, redis: true }): Promise<TestServers> {
  const wantNats = options.nats ?? (options.jetstream || options.natsConfigFile !== undefined);
  const [nats, redis] = await Promise.all([
    wantNats
      ? startNatsServer({ jetstream: options.jetstream, configFile: options.natsConfigFile, env: options.natsEnv })
      : missing('nats'),
    options.redis ? startRedisServer({ password: options.redisPassword }) : missing('redis'),
  ]);
  return {
    natsUrl: nats.url,
    redisUrl: redis.url,
    nats,
    redis,
    close: async () => {
      await Promise.all([nats.close(), redis.close()]);
    },
  };
}
