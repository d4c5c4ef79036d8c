// A small live cluster for runtime tests: private nats-server + redis-server, one actor system
// hosting a planner, a dispatcher and N simulated GPU workers, and a separate client connection.

import type { NatsConnection } from '@nats-io/transport-node';
import { type ActorHandle, ActorSystem, connectNats, decode, encode, jsonContentHeaders } from '../../bus/index.js';
import type { PlannerConfigInput } from '../../config/planner.js';
import type { GpuWorkerOptions } from '../../config/worker.js';
import type { PlacementAlgorithm } from '../../planner/placement/index.js';
import type { ModelProfile } from '../../planner/types.js';
import { synthesiseConfigs } from '../../planner/zoo.js';
import { Dispatcher, type DispatcherOptions } from '../../serving/dispatcher/dispatcher.js';
import { storeProfiles } from '../../serving/planner-actor/cluster-state.js';
import { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import { InferReply } from '../../serving/protocol/messages.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { GpuWorker } from '../../serving/worker/gpu-worker.js';
import { startServers, type TestServers } from '../helpers/servers.js';

process.env.LOG_LEVEL ??= 'silent';

/** A synthetic model: `latency` seconds on one device, configs synthesised like the zoo's. */
export function testProfile(name: string, latency: number, weightGiB = 1): ModelProfile {
  const weightBytes = weightGiB * 2 ** 30;
  return {
    name,
    singleDeviceLatency: latency,
    weightBytes,
    configs: synthesiseConfigs(latency, weightBytes),
    source: 'synthesised',
    notes: 'test model',
  };
}

export interface TestCluster {
  servers: TestServers;
  system: ActorSystem;
  client: NatsConnection;
  planner: ActorHandle<PlannerActor>;
  dispatcher: ActorHandle<Dispatcher>;
  workers: GpuWorker[];
  infer(model: string, body: unknown, options?: { json?: boolean; timeoutMs?: number }): Promise<InferReply>;
  close(): Promise<void>;
}

export interface TestClusterOptions {
  workers: number;
  profiles: ModelProfile[];
  planner?: PlannerConfigInput;
  /** The placement algorithms the planner may use (default: every built-in one). */
  plannerAlgorithms?: readonly PlacementAlgorithm[];
  dispatcher?: DispatcherOptions;
  worker?: GpuWorkerOptions;
}

export async function startCluster(options: TestClusterOptions): Promise<TestCluster> {
  const servers = await startServers({ nats: true, redis: true });
  const system = await ActorSystem.connect({
    natsUrl: servers.natsUrl,
    redisUrl: servers.redisUrl,
    heartbeat: { heartbeatIntervalMs: 200 },
    defaultTimeoutMs: 10_000,
  });
  await storeProfiles(system.redis!, options.profiles);
  const workers: GpuWorker[] = [];
  for (let i = 0; i < options.workers; i++) {
    const w = new GpuWorker({ retireIdleMs: 300, ...options.worker });
    workers.push(w);
    await system.spawn(`gpu-${i}`, w);
  }
  await system.spawn('dispatcher', new Dispatcher(options.dispatcher));
  await system.spawn(
    'planner',
    new PlannerActor({ deviceSettleMs: 0, rateCheckSec: 0, ...options.planner }, options.plannerAlgorithms),
  );
  const client = await connectNats({ url: servers.natsUrl, name: 'test-client' });
  const subjects = new RuntimeSubjects(system.subjects);
  return {
    servers,
    system,
    client,
    workers,
    planner: system.actor<PlannerActor>('planner'),
    dispatcher: system.actor<Dispatcher>('dispatcher'),
    async infer(model, body, o = {}) {
      const data = o.json
        ? new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body))
        : encode(body);
      const reply = await client.request(subjects.infer(model), data, {
        timeout: o.timeoutMs ?? 10_000,
        ...(o.json ? { headers: jsonContentHeaders() } : {}),
      });
      const decoded = o.json ? JSON.parse(new TextDecoder().decode(reply.data)) : decode(reply.data);
      return InferReply.parse(decoded);
    },
    async close() {
      await client.close().catch(() => undefined);
      await system.close();
      await servers.close();
    },
  };
}
