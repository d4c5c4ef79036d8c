// A serving cluster across hosts made of network namespaces (dev/netns.ts): NATS servers each on
// a host of their own, the planner, the dispatcher and Redis on a control host, each GPU worker on
// its own host; the test (observer, load client) in its own namespace, linked to the same switch.
// Workers may reach NATS through a delay relay (the stand-in for tc netem where the kernel has
// none). Everything is torn down by close(), also after a failure: processes by PID, then the
// namespaces (dev/netns.ts kills what is still inside them).

import type { NatsConnection } from '@nats-io/transport-node';
import { type ActorHandle, ActorSystem, connectNats, createLogger } from '../../bus/index.js';
import type { ModelProfile } from '../../planner/types.js';
import type { Dispatcher } from '../../serving/dispatcher/dispatcher.js';
import { storeProfiles } from '../../serving/planner-actor/cluster-state.js';
import type { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { type DelayRelay, startDelayRelay } from '../delay-relay.js';
import type { LocalClusterOptions } from '../local-cluster.js';
import { type LocalCluster, launchCluster } from '../local-cluster.js';
import { createNetns, type Netns } from '../netns.js';
import { type LocalNatsCluster, type LocalServer, startNatsCluster, startRedisServer } from '../servers.js';

export interface NetnsClusterOptions extends Pick<LocalClusterOptions, 'planner' | 'dispatcher' | 'worker'> {
  workers: number;
  /** NATS servers, each on its own host (a cluster when more than one). Default 1. */
  natsServers?: number;
  profiles: ModelProfile[];
  heartbeatIntervalMs?: number;
  /** LOG_LEVEL of the cluster's processes. Default silent. */
  logLevel?: string;
  /** Workers reach NATS through a relay that delays each way by this much (ms). */
  relayDelayMs?: number;
  /** Place once at start. Default true. */
  place?: boolean;
}

export interface NetnsCluster {
  netns: Netns;
  nats: readonly LocalServer[];
  natsUrl: string;
  redisUrl: string;
  system: ActorSystem;
  cluster: LocalCluster;
  client: NatsConnection;
  subjects: RuntimeSubjects;
  planner: ActorHandle<PlannerActor>;
  dispatcher: ActorHandle<Dispatcher>;
  heartbeatIntervalMs: number;
  /** The host label of each worker (`gpu-<i>` runs on `w<i>`). */
  workerHost(name: string): string;
  close(): Promise<void>;
}

export async function startNetnsCluster(o: NetnsClusterOptions): Promise<NetnsCluster> {
  const heartbeatIntervalMs = o.heartbeatIntervalMs ?? 500;
  const natsCount = o.natsServers ?? 1;
  const natsLabels = Array.from({ length: natsCount }, (_, i) => `nats${i + 1}`);
  const workerLabels = Array.from({ length: o.workers }, (_, i) => `w${i}`);
  const netns = createNetns([...natsLabels, 'ctl', ...workerLabels]);
  const closers: Array<() => Promise<unknown> | unknown> = [() => netns.destroy()];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    let natsCluster: LocalNatsCluster;
    natsCluster = await startNatsCluster({
      size: natsCount,
      jetstream: false,
      hosts: natsLabels.map((l) => ({ host: netns.host(l).address, netns: netns.host(l).netns })),
    });
    closers.push(() => natsCluster.close());
    const ctl = netns.host('ctl');
    const redis = await startRedisServer({ host: ctl.address, netns: ctl.netns });
    closers.push(() => redis.close());
    const relays: DelayRelay[] = [];
    if (o.relayDelayMs !== undefined) {
      // One relay per NATS server, in the test's namespace: workers connect through it.
      for (const server of natsCluster.servers) {
        const relay = await startDelayRelay({
          listen: `${netns.localAddress}:0`,
          target: server.url.replace('nats://', ''),
          delayMs: o.relayDelayMs,
        });
        relays.push(relay);
        closers.push(() => relay.close());
      }
    }
    const workerNatsUrl = relays.length ? relays.map((r) => `nats://${r.address}`).join(',') : natsCluster.url;
    const system = await ActorSystem.connect({
      natsUrl: natsCluster.url,
      redisUrl: redis.url,
      heartbeat: { heartbeatIntervalMs },
      reconnectTimeWaitMs: 100,
      log: createLogger(o.logLevel ?? 'silent'),
      name: 'netns-test',
    });
    closers.push(() => system.close());
    await storeProfiles(system.redis!, o.profiles);
    const hostOf = (name: string): string => (name.startsWith('gpu-') ? `w${name.slice(4)}` : 'ctl');
    const cluster = await launchCluster(system, {
      natsUrl: natsCluster.url,
      redisUrl: redis.url,
      workers: o.workers,
      heartbeatIntervalMs,
      maxRestarts: 0,
      logLevel: o.logLevel ?? 'silent',
      log: system.log,
      planner: { rateCheckSec: 0, deviceSettleMs: 300, ...o.planner },
      dispatcher: o.dispatcher,
      worker: { retireIdleMs: 300, ...o.worker },
      wrap: (name) => netns.wrap(hostOf(name)),
      envFor: (name) => (name.startsWith('gpu-') ? { NATS_URL: workerNatsUrl } : undefined),
    });
    closers.push(() => cluster.stop());
    const client = await connectNats({ url: natsCluster.url, name: 'netns-client', reconnectTimeWaitMs: 100 });
    closers.push(() => client.close());
    const planner = system.actor<PlannerActor>('planner', { timeoutMs: 30_000 });
    if (o.place !== false) await planner.call('replace', 'initial');
    return {
      netns,
      nats: natsCluster.servers,
      natsUrl: natsCluster.url,
      redisUrl: redis.url,
      system,
      cluster,
      client,
      subjects: new RuntimeSubjects(system.subjects),
      planner,
      dispatcher: system.actor<Dispatcher>('dispatcher', { timeoutMs: 5_000 }),
      heartbeatIntervalMs,
      workerHost: hostOf,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
