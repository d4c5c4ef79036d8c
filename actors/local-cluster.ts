// A local serving cluster as separate processes: a planner, a dispatcher and N simulated GPU
// workers, each forked and supervised (restarted on a crash) by the bus Supervisor. Used by
// `meshserve start`; docker-compose runs the same actors through `meshserve worker|dispatcher|planner`.
import { fileURLToPath } from 'node:url';
import { Supervisor, type ActorSystem } from '../bus/index.js';
import type { DispatcherOptions } from './dispatcher.js';
import type { GpuWorkerOptions } from './gpu-worker.js';
import { liveDevices, type PlannerConfigInput } from './planner-actor.js';
import { RuntimeKeys } from './protocol.js';

export interface LocalClusterOptions {
  natsUrl: string;
  redisUrl: string;
  workers: number;
  memoryGiB?: number;
  planner?: PlannerConfigInput;
  dispatcher?: DispatcherOptions;
  /** Time allowed for every process to come up and register (ms). Default 60 000. */
  readyTimeoutMs?: number;
}

export interface LocalCluster {
  readonly supervisor: Supervisor;
  readonly workerNames: readonly string[];
  stop(): Promise<void>;
}

const modulePath = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export async function launchCluster(system: ActorSystem, o: LocalClusterOptions): Promise<LocalCluster> {
  const supervisor = new Supervisor();
  const env = { NATS_URL: o.natsUrl, REDIS_URL: o.redisUrl, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  const workerNames = Array.from({ length: o.workers }, (_, i) => `gpu-${i}`);
  const children = [
    supervisor.start({ name: 'planner', module: modulePath('./planner-actor.js'), exportName: 'PlannerActor', constructorArgs: [o.planner ?? {}], env }),
    supervisor.start({ name: 'dispatcher', module: modulePath('./dispatcher.js'), exportName: 'Dispatcher', constructorArgs: [o.dispatcher ?? {}], env }),
    ...workerNames.map((name) =>
      supervisor.start({ name, module: modulePath('./gpu-worker.js'), exportName: 'GpuWorker', constructorArgs: [{ memoryGiB: o.memoryGiB ?? 13 } satisfies GpuWorkerOptions], env }),
    ),
  ];
  const stop = (): Promise<void> => supervisor.stopAll();
  try {
    const timeout = o.readyTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(children.map((c) => c.ready())),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`cluster processes not ready within ${timeout} ms`)), timeout))),
    ]).finally(() => clearTimeout(timer));
    // Ready processes have registered their actors; wait until every device entry is there too.
    const keys = new RuntimeKeys(system.subjects.prefix);
    const until = Date.now() + timeout;
    while ((await liveDevices(system, keys)).length < o.workers) {
      if (Date.now() > until) throw new Error('GPU workers did not register in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { supervisor, workerNames, stop };
}
