// A local serving cluster as separate processes: a planner, a dispatcher and N simulated GPU
// workers, each forked and supervised (restarted on a crash) by the bus Supervisor. Used by
// `meshserve start` and the reliability tests (which kill, add and drain worker processes);
// docker-compose runs the same actors through `meshserve worker|dispatcher|planner`.
import { fileURLToPath } from 'node:url';
import { Supervisor, type ActorSystem, type SupervisedActor, type SupervisedActorOptions } from '../bus/index.js';
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
  /** Options of every GPU worker. */
  worker?: GpuWorkerOptions;
  /** Registry heartbeat interval of every process (ms); default the bus's. */
  heartbeatIntervalMs?: number;
  /** Crash restarts allowed per process (the Supervisor's maxRestarts); default 3. */
  maxRestarts?: number;
  /** Extra Node options for every process (e.g. `--expose-gc` to measure memory). */
  execArgv?: string[];
  /** Time allowed for every process to come up and register (ms). Default 60 000. */
  readyTimeoutMs?: number;
}

export interface LocalCluster {
  readonly supervisor: Supervisor;
  /** Names of the worker processes started so far (also by addWorker). */
  readonly workerNames: readonly string[];
  /** Starts one more GPU worker process; resolves once its device is registered. */
  addWorker(name: string): Promise<SupervisedActor>;
  stop(): Promise<void>;
}

const modulePath = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** How long a worker's drain may take beyond its own drain timeout before the supervisor kills it. */
const DRAIN_MARGIN_MS = 10_000;

async function withTimeout<T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs)));
  return await Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until every device in `names` is registered (actor ready and device entry written). */
async function untilRegistered(system: ActorSystem, names: readonly string[], timeoutMs: number): Promise<void> {
  const keys = new RuntimeKeys(system.subjects.prefix);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const live = new Set((await liveDevices(system, keys)).map((d) => d.id));
    if (names.every((n) => live.has(n))) return;
    if (Date.now() > until) throw new Error('GPU workers did not register in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function launchCluster(system: ActorSystem, o: LocalClusterOptions): Promise<LocalCluster> {
  const supervisor = new Supervisor();
  const env = { NATS_URL: o.natsUrl, REDIS_URL: o.redisUrl, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  const common: Partial<SupervisedActorOptions> = { env, heartbeatIntervalMs: o.heartbeatIntervalMs, maxRestarts: o.maxRestarts, execArgv: o.execArgv };
  const timeout = o.readyTimeoutMs ?? 60_000;
  const worker: GpuWorkerOptions = { memoryGiB: o.memoryGiB ?? 13, ...o.worker };
  const workerNames: string[] = [];
  const startWorker = (name: string): SupervisedActor => {
    workerNames.push(name);
    return supervisor.start({
      ...common, name, module: modulePath('./gpu-worker.js'), exportName: 'GpuWorker', constructorArgs: [worker],
      stopTimeoutMs: (worker.drainTimeoutMs ?? 20_000) + DRAIN_MARGIN_MS,
    });
  };
  const children = [
    supervisor.start({ ...common, name: 'planner', module: modulePath('./planner-actor.js'), exportName: 'PlannerActor', constructorArgs: [o.planner ?? {}] }),
    supervisor.start({ ...common, name: 'dispatcher', module: modulePath('./dispatcher.js'), exportName: 'Dispatcher', constructorArgs: [o.dispatcher ?? {}] }),
    ...Array.from({ length: o.workers }, (_, i) => startWorker(`gpu-${i}`)),
  ];
  const stop = (): Promise<void> => supervisor.stopAll();
  try {
    await withTimeout('cluster processes not ready', timeout, Promise.all(children.map((c) => c.ready())));
    // Ready processes have registered their actors; wait until every device entry is there too.
    await untilRegistered(system, workerNames, timeout);
  } catch (err) {
    await stop();
    throw err;
  }
  const addWorker = async (name: string): Promise<SupervisedActor> => {
    const child = startWorker(name);
    await withTimeout(`worker ${name} not ready`, timeout, child.ready());
    await untilRegistered(system, [name], timeout);
    return child;
  };
  return { supervisor, workerNames, addWorker, stop };
}
