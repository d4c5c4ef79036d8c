// Every environment variable meshserve reads, in one table, and the one function that reads them.
// A process reads its environment once, at its entry point, and hands the values down as options:
// nothing below the entry points looks at process.env, and nothing writes to it.
import {
  type BusEnvironment,
  createLogger,
  DEFAULT_LOG_LEVEL,
  DEFAULT_NATS_URL,
  DEFAULT_REDIS_URL,
  type Logger,
  redactUrl,
} from '../bus/index.js';
import { CLUSTER_RECORD_PATH, type ClusterRecord, findClusterRecord, staleReason } from './cluster-record.js';

/** The table docs/operations.md shows (a test checks that every name is documented there). */
export const ENVIRONMENT = [
  {
    name: 'NATS_URL',
    fallback: 'the running `meshserve start` cluster (.meshserve/cluster.json), else nats://127.0.0.1:4222',
    what: 'NATS server(s), comma-separated; may carry credentials (user:password@ or token@)',
  },
  {
    name: 'REDIS_URL',
    fallback: 'the running `meshserve start` cluster (.meshserve/cluster.json), else redis://127.0.0.1:6379',
    what: 'Redis; may carry a password (redis://:password@host:port)',
  },
  { name: 'LOG_LEVEL', fallback: 'info for actors, warn for the other commands', what: 'pino log level' },
  {
    name: 'METRICS_PORT',
    fallback: 'unset: a free port for `meshserve start`, no endpoint for `meshserve dispatcher`',
    what: "port of the dashboard and the dispatcher's Prometheus /metrics and /healthz",
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

/**
 * Where the cluster's URLs come from: NATS_URL / REDIS_URL; the record of a running
 * `meshserve start` (config/cluster-record.ts) when they are unset, or when the one set names the
 * record's server; otherwise the defaults. A record whose start process is gone is `stale`.
 */
export type ClusterSource =
  | { readonly kind: 'environment' }
  | { readonly kind: 'record'; readonly file: string; readonly record: ClusterRecord }
  | { readonly kind: 'default' }
  | { readonly kind: 'unusable'; readonly reason: string };

/** Thrown on reading the cluster's URLs when the record found is stale or unreadable. */
export class NoClusterError extends Error {
  override readonly name = 'NoClusterError';
}

export interface Environment {
  /**
   * NATS_URL, REDIS_URL (or the running cluster's, or the defaults) and LOG_LEVEL (default info),
   * as the bus reads them. Reading it throws NoClusterError when the cluster record found is stale:
   * a command that needs the cluster then fails with the reason, instead of finding an empty one.
   */
  readonly bus: BusEnvironment;
  /** Where `bus`'s URLs come from. */
  readonly cluster: ClusterSource;
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

/** The cluster's URLs and where they come from (see ClusterSource); `cwd` is where the record is looked for. */
function locateCluster(
  natsUrl: string | undefined,
  redisUrl: string | undefined,
  cwd: string,
): { natsUrl: string; redisUrl: string; cluster: ClusterSource } {
  if (natsUrl && redisUrl) return { natsUrl, redisUrl, cluster: { kind: 'environment' } };
  let found: ReturnType<typeof findClusterRecord>;
  try {
    found = findClusterRecord(cwd);
  } catch (err) {
    if (natsUrl || redisUrl) found = undefined;
    else return { natsUrl: '', redisUrl: '', cluster: { kind: 'unusable', reason: (err as Error).message } };
  }
  const defaults = { natsUrl: natsUrl ?? DEFAULT_NATS_URL, redisUrl: redisUrl ?? DEFAULT_REDIS_URL };
  if (!natsUrl && !redisUrl) {
    if (!found) return { ...defaults, cluster: { kind: 'default' } };
    if (!found.live) return { ...defaults, cluster: { kind: 'unusable', reason: staleReason(found) } };
  }
  // With one URL set, the record fills in the other only when it names the same server: never
  // one cluster's NATS with another's Redis.
  const r = found?.record;
  if (found?.live && r && (natsUrl ? natsUrl === r.natsUrl : true) && (redisUrl ? redisUrl === r.redisUrl : true))
    return { natsUrl: r.natsUrl, redisUrl: r.redisUrl, cluster: { kind: 'record', file: found.file, record: r } };
  return { ...defaults, cluster: { kind: 'environment' } };
}

/**
 * Reads and checks every variable of the table; a malformed value is an error naming it. When
 * NATS_URL / REDIS_URL are unset, the record of a running `meshserve start` in `cwd` or above
 * gives them.
 */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Environment {
  const natsUrl = env.NATS_URL || undefined;
  const redisUrl = env.REDIS_URL || undefined;
  const located = locateCluster(natsUrl, redisUrl, cwd);
  const bus: BusEnvironment = {
    natsUrl: located.natsUrl,
    redisUrl: located.redisUrl,
    logLevel: env.LOG_LEVEL ?? DEFAULT_LOG_LEVEL,
  };
  const cluster = located.cluster;
  return {
    get bus(): BusEnvironment {
      if (cluster.kind === 'unusable') throw new NoClusterError(cluster.reason);
      return bus;
    },
    cluster,
    servers: { natsUrl, redisUrl },
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

/** The cluster a command talks to, and where its URLs came from: for status lines and errors. */
export function describeCluster(env: Environment): string {
  const c = env.cluster;
  if (c.kind === 'unusable') return c.reason;
  const urls = `${redactUrl(env.bus.natsUrl)} and ${redactUrl(env.bus.redisUrl)}`;
  if (c.kind === 'record') return `${urls}, the \`meshserve start\` recorded in ${c.file} (pid ${c.record.pid})`;
  if (c.kind === 'default')
    return `${urls}, the defaults (NATS_URL and REDIS_URL are unset, and no ${CLUSTER_RECORD_PATH} of a running \`meshserve start\` was found here or above)`;
  const from = [
    env.servers.natsUrl ? 'NATS_URL' : 'the default NATS',
    env.servers.redisUrl ? 'REDIS_URL' : 'the default Redis',
  ];
  return `${urls}, from ${from.join(' and ')}`;
}
