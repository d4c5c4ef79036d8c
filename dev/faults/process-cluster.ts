// A serving cluster as separate processes for fault tests and benchmarks: planner, dispatcher(s)
// and GPU workers forked by the bus Supervisor (dev/local-cluster.ts), private nats-server(s) and
// redis-server, an observer ActorSystem and a client connection. Faults are injected for real:
// SIGKILL/SIGTERM to processes, servers killed and restarted.
import type { NatsConnection } from '@nats-io/transport-node';
import { type ActorHandle, ActorSystem, connectNats, createLogger, type SupervisedActor } from '../../bus/index.js';
import type { ModelProfile } from '../../planner/types.js';
import type { Dispatcher } from '../../serving/dispatcher/dispatcher.js';
import { storeProfiles } from '../../serving/planner-actor/cluster-state.js';
import type { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { type LocalCluster, type LocalClusterOptions, launchCluster } from '../local-cluster.js';
import {
  type LocalNatsCluster,
  type LocalServer,
  startNatsCluster,
  startNatsServer,
  startRedisServer,
} from '../servers.js';

/** The private servers of a fault run: one nats-server or a cluster, and a redis-server. */
export interface FaultServers {
  natsUrl: string;
  redisUrl: string;
  /** The (first) NATS server. */
  nats: LocalServer;
  natsServers: readonly LocalServer[];
  natsCluster?: LocalNatsCluster;
  redis: LocalServer;
  close(): Promise<void>;
}

/** One nats-server, or a cluster of `natsCluster` of them, and a redis-server, on free ports. */
export async function startFaultServers(natsCluster?: number): Promise<FaultServers> {
  const [cluster, single, redis] = await Promise.all([
    natsCluster ? startNatsCluster({ size: natsCluster }) : undefined,
    natsCluster ? undefined : startNatsServer(),
    startRedisServer(),
  ]);
  const natsServers = cluster?.servers ?? [single!];
  return {
    natsUrl: cluster?.url ?? single!.url,
    redisUrl: redis.url,
    nats: natsServers[0],
    natsServers,
    natsCluster: cluster,
    redis,
    close: async () => {
      await Promise.all([...natsServers.map((s) => s.close()), redis.close()]);
    },
  };
}

export interface ProcessClusterOptions
  extends Pick<
    LocalClusterOptions,
    'workers' | 'dispatchers' | 'planner' | 'dispatcher' | 'worker' | 'execArgv' | 'maxRestarts'
  > {
  profiles: ModelProfile[];
  /** Registry heartbeat interval of every process (ms). Default 500. */
  heartbeatIntervalMs?: number;
  /** LOG_LEVEL of the cluster's processes. Default silent. */
  logLevel?: string;
  /** Run on a cluster of this many nats-servers (every process gets all their URLs). Default: one server. */
  natsCluster?: number;
}

export interface ProcessCluster {
  servers: FaultServers;
  /** The test's own actor system (no actors): handles, registry, events. */
  system: ActorSystem;
  cluster: LocalCluster;
  client: NatsConnection;
  subjects: RuntimeSubjects;
  planner: ActorHandle<PlannerActor>;
  dispatcher: ActorHandle<Dispatcher>;
  heartbeatIntervalMs: number;
  child(name: string): SupervisedActor;
  close(): Promise<void>;
}

/**
 * Starts servers, the cluster processes (no crash restarts unless `maxRestarts` is given: a crash
 * must stay visible) and places
 * once. Everything is torn down by close(); a test process that dies takes its servers along (exit
 * hook) and its actor processes drain and exit when their IPC channel closes.
 */
export async function startProcessCluster(o: ProcessClusterOptions): Promise<ProcessCluster> {
  const heartbeatIntervalMs = o.heartbeatIntervalMs ?? 500;
  const servers = await startFaultServers(o.natsCluster);
  const closers: Array<() => Promise<unknown>> = [() => servers.close()];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const system = await ActorSystem.connect({
      natsUrl: servers.natsUrl,
      redisUrl: servers.redisUrl,
      heartbeat: { heartbeatIntervalMs },
      reconnectTimeWaitMs: 100,
      log: createLogger(o.logLevel ?? 'silent'),
      name: 'reliability-test',
    });
    closers.push(() => system.close());
    await storeProfiles(system.redis!, o.profiles);
    const cluster = await launchCluster(system, {
      natsUrl: servers.natsUrl,
      redisUrl: servers.redisUrl,
      workers: o.workers,
      dispatchers: o.dispatchers,
      heartbeatIntervalMs,
      maxRestarts: o.maxRestarts ?? 0,
      execArgv: o.execArgv,
      logLevel: o.logLevel ?? 'silent',
      log: system.log,
      planner: { rateCheckSec: 0, deviceSettleMs: 300, ...o.planner },
      dispatcher: o.dispatcher,
      worker: { retireIdleMs: 300, ...o.worker },
    });
    closers.push(() => cluster.stop());
    const client = await connectNats({ url: servers.natsUrl, name: 'reliability-client', reconnectTimeWaitMs: 100 });
    closers.push(() => client.close());
    const planner = system.actor<PlannerActor>('planner', { timeoutMs: 30_000 });
    await planner.call('replace', 'initial');
    return {
      servers,
      system,
      cluster,
      client,
      planner,
      heartbeatIntervalMs,
      close,
      subjects: new RuntimeSubjects(system.subjects),
      dispatcher: system.actor<Dispatcher>('dispatcher', { timeoutMs: 5_000 }),
      child: (name) => {
        const c = cluster.supervisor.get(name);
        if (!c) throw new Error(`no process ${name}`);
        return c;
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
