// Settings of a GPU worker (`meshserve worker`, and the workers `meshserve start` forks), with
// every default in one place.
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { Environment, OrtSettings } from './environment.js';

export type { OrtSettings };

/** How a device runs its stages: 'sim' takes the profiled stage time; 'onnx' runs the model's generated graphs. */
export const EXECUTOR_KINDS = ['sim', 'onnx'] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

export interface GpuWorkerOptions {
  /** Device id; default: the actor's name. */
  device?: string;
  /** Weight-memory budget, GiB (a 16 GB V100 in the paper). */
  memoryGiB?: number;
  executor?: ExecutorKind;
  /** onnxruntime settings of the 'onnx' executor. */
  ort?: Partial<OrtSettings>;
  /**
   * The last this-many ms before a simulated stage ends are waited by polling (0 = timers only).
   * Default: the clock's own (`DEFAULT_POLL_MS`, serving/clock.ts), which the replay sender uses too.
   */
  simPollMs?: number;
  /** How long a shard waits for the other shards' partial results of one segment (ms). */
  reduceTimeoutMs?: number;
  /** Where the stage files of imported models are cached, by sha256 (default ~/.cache/meshserve/stages). */
  modelCacheDir?: string;
  /** A superseded stage is unloaded after being idle this long (ms). */
  retireIdleMs?: number;
  /** TTL of the device key (ms); refreshed at a third of it. */
  deviceTtlMs?: number;
  /**
   * Draining, stop early when no work came for this long (ms; at least twice the longest stage
   * time): nobody routes here any more.
   */
  drainIdleMs?: number;
  /** Longest a drain waits for a placement without this device (ms). */
  drainTimeoutMs?: number;
}

export const WORKER_DEFAULTS = {
  memoryGiB: 13,
  executor: 'sim',
  ort: { provider: 'cpu' },
  reduceTimeoutMs: 10_000,
  retireIdleMs: 1_000,
  deviceTtlMs: 3_000,
  drainIdleMs: 1_000,
  drainTimeoutMs: 20_000,
} as const satisfies GpuWorkerOptions;

/** The default stage-file cache of ONNX workers. */
export const DEFAULT_MODEL_CACHE_DIR = join(homedir(), '.cache', 'meshserve', 'stages');

export type WorkerSettings = Omit<Required<GpuWorkerOptions>, 'device' | 'ort' | 'simPollMs' | 'modelCacheDir'> &
  Pick<GpuWorkerOptions, 'device' | 'simPollMs'> & { ort: OrtSettings; modelCacheDir: string };

/** The options with every default filled in. */
export function workerSettings(o: GpuWorkerOptions = {}): WorkerSettings {
  return {
    ...WORKER_DEFAULTS,
    ...o,
    ort: { ...WORKER_DEFAULTS.ort, ...o.ort },
    modelCacheDir: o.modelCacheDir ?? DEFAULT_MODEL_CACHE_DIR,
  };
}

/** What the environment sets for a worker process (the onnxruntime settings, the stage polling). */
export function workerEnvironment(env: Environment): GpuWorkerOptions {
  return {
    ort: env.ort,
    ...(env.simPollMs !== undefined ? { simPollMs: env.simPollMs } : {}),
    ...(env.modelCacheDir ? { modelCacheDir: env.modelCacheDir } : {}),
  };
}

/** A subject-safe device id, unique per container when replicas share one command line. */
export function defaultDeviceId(env: Environment): string {
  return env.deviceId ?? `gpu-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}`;
}
