// A local serving cluster as separate processes: a planner, a dispatcher and N simulated GPU
// workers, each forked and supervised (restarted on a crash) by the bus Supervisor. Used by
// `meshserve start` and the reliability tests (which kill, add and drain worker processes);
// docker-compose runs the same actors through `meshserve worker|dispatcher|planner`.

import {
  type ActorSystem,
  type Logger,
  type SupervisedActor,
  type SupervisedActorOptions,
  Supervisor,
} from '../bus/index.js';
import type { DispatcherOptions } from '../config/dispatcher.js';
import type { PlannerConfigInput } from '../config/planner.js';
import { type GpuWorkerOptions, workerSettings } from '../config/worker.js';
import { ACTOR_MODULES } from '../serving/actor-modules.js';
import { liveDevices } from '../serving/planner-actor/cluster-state.js';
import { RuntimeKeys } from '../serving/protocol/keys.js';
import { standInForDispatchers } from './dispatcher-standby.js';

export interface LocalClusterOptions {
  natsUrl: string;
  redisUrl: string;
  workers: number;
  /** Dispatcher processes: `dispatcher`, then `dispatcher-2`, … (one queue group). Default 1. */
  dispatchers?: number;
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
  /** Per process (by name): a command prefix that runs it elsewhere, e.g. in a network namespace. */
  wrap?: (name: string) => string[] | undefined;
  /** Per process (by name): environment over the common one (e.g. another NATS_URL). */
  envFor?: (name: string) => Record<string, string> | undefined;
  /** Time allowed for every process to come up and register (ms). Default 60 000. */
  readyTimeoutMs?: number;
  /** LOG_LEVEL of every process. */
  logLevel: string;
  /** Where the supervisor logs. */
  log: Logger;
}

export interface LocalCluster {
  readonly supervisor: Supervisor;
  /** Names of the worker processes started so far (also by addWorker). */
  readonly workerNames: readonly string[];
  /** Starts one more GPU worker process; resolves once its device is registered. */
  addWorker(name: string): Promise<SupervisedActor>;
  stop(): Promise<void>;
}

/** How long a worker's drain may take beyond its own drain timeout before the supervisor kills it. */
const DRAIN_MARGIN_MS = 10_000;

async function withTimeout<T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs)),
  );
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

/** Names of `n` dispatcher processes: `dispatcher`, `dispatcher-2`, … */
export function dispatcherNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? 'dispatcher' : `dispatcher-${i + 1}`));
}

/** The name of the i-th simulated or ONNX GPU worker a local cluster starts (`gpu-0`, `gpu-1`, …). */
export function localWorkerName(i: number): string {
  return `gpu-${i}`;
}

export async function launchCluster(system: ActorSystem, o: LocalClusterOptions): Promise<LocalCluster> {
  const supervisor = new Supervisor({ log: o.log });
  const env = { NATS_URL: o.natsUrl, REDIS_URL: o.redisUrl, LOG_LEVEL: o.logLevel };
  const common = (name: string): Partial<SupervisedActorOptions> => ({
    env: { ...env, ...o.envFor?.(name) },
    wrap: o.wrap?.(name),
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    maxRestarts: o.maxRestarts,
    execArgv: o.execArgv,
  });
  const timeout = o.readyTimeoutMs ?? 60_000;
  const worker: GpuWorkerOptions = o.worker ?? {};
  const workerNames: string[] = [];
  const startWorker = (name: string): SupervisedActor => {
    workerNames.push(name);
    return supervisor.start({
      ...common(name),
      name,
      ...ACTOR_MODULES.worker,
      constructorArgs: [worker],
      stopTimeoutMs: workerSettings(worker).drainTimeoutMs + DRAIN_MARGIN_MS,
    });
  };
  const children = [
    supervisor.start({
      ...common('planner'),
      name: 'planner',
      ...ACTOR_MODULES.planner,
      constructorArgs: [o.planner ?? {}],
    }),
    ...dispatcherNames(o.dispatchers ?? 1).map((name) =>
      supervisor.start({ ...common(name), name, ...ACTOR_MODULES.dispatcher, constructorArgs: [o.dispatcher ?? {}] }),
    ),
    ...Array.from({ length: o.workers }, (_, i) => startWorker(localWorkerName(i))),
  ];
  // Requests wait for a crashed dispatcher's successor instead of getting "no responders".
  const stopStandby = standInForDispatchers(system, supervisor, {
    dispatchers: dispatcherNames(o.dispatchers ?? 1),
    log: o.log,
  });
  const stop = async (): Promise<void> => {
    await supervisor.stopAll();
    stopStandby();
  };
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
