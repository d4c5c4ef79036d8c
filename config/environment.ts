// Every environment variable meshserve reads, in one table, and the one function that reads them.
// A process reads its environment once, at its entry point, and hands the values down as options:
// nothing below the entry points looks at process.env, and nothing writes to it.
import { type BusEnvironment, busEnvironment, createLogger, type Logger } from '../bus/index.js';

/** The table docs/operations.md shows (a test checks that every name is documented there). */
export const ENVIRONMENT = [
  {
    name: 'NATS_URL',
    fallback: 'nats://127.0.0.1:4222',
    what: 'NATS server(s), comma-separated; may carry credentials (user:password@ or token@)',
  },
  {
    name: 'REDIS_URL',
    fallback: 'redis://127.0.0.1:6379',
    what: 'Redis; may carry a password (redis://:password@host:port)',
  },
  { name: 'LOG_LEVEL', fallback: 'info for actors, warn for the other commands', what: 'pino log level' },
  {
    name: 'METRICS_PORT',
    fallback: 'unset: no metrics endpoint',
    what: "port of the dispatcher's Prometheus /metrics and /healthz",
  },
  { name: 'MESHSERVE_DEVICE_ID', fallback: 'gpu-<hostname>', what: 'device id (and actor name) of `meshserve worker`' },
  { name: 'MESHSERVE_ORT_PROVIDER', fallback: 'cpu', what: 'onnxruntime execution provider of ONNX workers' },
  { name: 'MESHSERVE_ORT_THREADS', fallback: "onnxruntime's own", what: 'intra-op threads per onnxruntime session' },
  {
    name: 'MESHSERVE_MODEL_CACHE',
    fallback: '~/.cache/meshserve/stages',
    what: "where an ONNX worker caches imported models' stage files, by sha256",
  },
  {
    name: 'MESHSERVE_SIM_POLL_MS',
    fallback: '2',
    what: 'the last milliseconds before a simulated stage ends are waited by polling, not a timer (0 = timers only)',
  },
  {
    name: 'MESHSERVE_REPL_HISTORY',
    fallback: '~/.meshserve_repl_history',
    what: 'REPL history file; empty disables it',
  },
] as const;

export type VariableName = (typeof ENVIRONMENT)[number]['name'];

export interface OrtSettings {
  /** Execution provider: 'cpu', 'cuda', … */
  provider: string;
  /** Threads per session for intra-op parallelism; undefined = onnxruntime's default (one per core). */
  intraOpThreads?: number;
}

export interface Environment {
  /** NATS_URL, REDIS_URL (or their defaults) and LOG_LEVEL (default info), as the bus reads them. */
  readonly bus: BusEnvironment;
  /** NATS_URL and REDIS_URL as set: `meshserve start` runs servers of its own for those unset. */
  readonly servers: { readonly natsUrl?: string; readonly redisUrl?: string };
  /** LOG_LEVEL as set, or undefined (each process kind has its own default). */
  readonly logLevel: string | undefined;
  readonly metricsPort: number | undefined;
  readonly deviceId: string | undefined;
  readonly ort: OrtSettings;
  readonly modelCacheDir: string | undefined;
  readonly simPollMs: number | undefined;
  readonly replHistory: string | undefined;
}

function positiveInteger(name: VariableName, raw: string | undefined): number | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

function port(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new RangeError(`METRICS_PORT "${raw}" is not a port number`);
  return n;
}

function milliseconds(name: VariableName, raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of milliseconds ≥ 0, got "${raw}"`);
  return n;
}

/** Reads and checks every variable of the table; a malformed value is an error naming it. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  return {
    bus: busEnvironment(env),
    servers: { natsUrl: env.NATS_URL, redisUrl: env.REDIS_URL },
    logLevel: env.LOG_LEVEL,
    metricsPort: port(env.METRICS_PORT),
    deviceId: env.MESHSERVE_DEVICE_ID,
    ort: {
      provider: env.MESHSERVE_ORT_PROVIDER?.trim() || 'cpu',
      intraOpThreads: positiveInteger('MESHSERVE_ORT_THREADS', env.MESHSERVE_ORT_THREADS),
    },
    modelCacheDir: env.MESHSERVE_MODEL_CACHE?.trim() || undefined,
    simPollMs: milliseconds('MESHSERVE_SIM_POLL_MS', env.MESHSERVE_SIM_POLL_MS),
    replHistory: env.MESHSERVE_REPL_HISTORY,
  };
}

/** What every process starts from: its environment, read once, and its logger. */
export interface ProcessSetup {
  readonly env: Environment;
  /** LOG_LEVEL, or the process kind's default. */
  readonly logLevel: string;
  readonly log: Logger;
}

/** Reads the environment and makes the process's logger (`defaultLevel` when LOG_LEVEL is unset). */
export function setUpProcess(defaultLevel: string, env: NodeJS.ProcessEnv = process.env): ProcessSetup {
  const read = readEnvironment(env);
  const logLevel = read.logLevel ?? defaultLevel;
  return { env: read, logLevel, log: createLogger(logLevel) };
}
