// Test harness: private nats-server and redis-server for one test file.
//
//   const servers = await startServers({ nats: true, redis: true });
//   after(() => servers.close());
//   ... servers.natsUrl, servers.redisUrl, await servers.nats.kill(), await servers.nats.restart() ...
//
// Ports are free loopback ports chosen per call; restart() reuses the same port so clients can
// reconnect. Servers are killed when the test process exits, even when a test fails or throws.
import {
  killAllLocalServers,
  type LocalNatsCluster,
  type LocalServer,
  startNatsCluster,
  startNatsServer,
  startRedisServer,
} from '../../dev/servers.js';

export type { LocalNatsCluster, LocalServer };

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
  /** A cluster of this many nats-servers (routes on loopback, JetStream on each) instead of one. */
  natsCluster?: number;
}

export interface TestServers {
  /** nats://127.0.0.1:<port>; empty when NATS was not asked for. */
  natsUrl: string;
  /** redis://127.0.0.1:<port>; empty when Redis was not asked for. */
  redisUrl: string;
  /** Control of the NATS server (throws when it was not started); the first one of a cluster. */
  nats: LocalServer;
  /** Every NATS server: one, or those of the cluster. */
  natsServers: readonly LocalServer[];
  /** The cluster, when one was asked for. */
  natsCluster?: LocalNatsCluster;
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
  const [natsCluster, single, redis] = await Promise.all([
    options.natsCluster
      ? startNatsCluster({ size: options.natsCluster, configFile: options.natsConfigFile, env: options.natsEnv })
      : undefined,
    wantNats && !options.natsCluster
      ? startNatsServer({ jetstream: options.jetstream, configFile: options.natsConfigFile, env: options.natsEnv })
      : undefined,
    options.redis ? startRedisServer({ password: options.redisPassword }) : missing('redis'),
  ]);
  const natsServers = natsCluster?.servers ?? (single ? [single] : []);
  return {
    natsUrl: natsCluster?.url ?? single?.url ?? '',
    redisUrl: redis.url,
    nats: natsServers[0] ?? missing('nats'),
    natsServers,
    natsCluster,
    redis,
    close: async () => {
      await Promise.all([...natsServers.map((s) => s.close()), redis.close()]);
    },
  };
}
