// A snapshot of a live cluster for `meshserve status`: actors from the bus registry, devices,
// placement and rates from Redis, the dispatcher's stats() when one answers. Every part may be
// missing (nothing placed yet, no dispatcher running): the snapshot says so instead of failing.
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { type ActorSystem, describeError, type RegistryEntry } from '../bus/index.js';
import { attainmentByModel, isDispatcherStats } from '../serving/dispatcher/stats.js';
import { naturalOrder } from '../serving/natural-order.js';
import { RuntimeKeys } from '../serving/protocol/keys.js';
import { DeviceInfo } from '../serving/protocol/messages.js';
import { RuntimeGroup } from '../serving/protocol/placement.js';

export interface ClusterStatus {
  /** Which cluster this is, and where its URLs came from (config/environment.ts describeCluster). */
  cluster?: string;
  actors: RegistryEntry[];
  /** `<prefix>:device:<id>` entries (hash or JSON string), by id. */
  devices: Record<string, unknown>;
  placement: { version: unknown; groups: unknown; models: string[] } | undefined;
  /** The planner's last failed placement attempt (`<prefix>:placement:error`), if the last one failed. */
  placementError: { at?: string; reason?: string; error?: string } | undefined;
  /** `<prefix>:rate:<model>` values (requests/s), by model. */
  rates: Record<string, number | string>;
  dispatcher: { stats: unknown } | { unavailable: string };
}

/** SCAN (never KEYS) for `pattern`; returns the keys. */
async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

const parseJson = (raw: string): unknown => {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
};

/** Reads a key whatever its type (hash or string); undefined for other types. */
async function readValue(redis: Redis, key: string): Promise<unknown> {
  const type = await redis.type(key);
  if (type === 'hash') return await redis.hgetall(key);
  if (type === 'string') return parseJson((await redis.get(key)) ?? '');
  return undefined;
}

/** Model names of a placement, whatever its exact shape: any `models` arrays or `model` fields it holds. */
function modelsOf(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) modelsOf(v, found);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'models' && Array.isArray(v))
        for (const m of v) typeof m === 'string' ? found.add(m) : modelsOf(m, found);
      else if (k === 'model' && typeof v === 'string') found.add(v);
      else modelsOf(v, found);
    }
  }
  return found;
}

export async function collectStatus(
  system: ActorSystem,
  options: { dispatcherName?: string; timeoutMs?: number } = {},
): Promise<ClusterStatus> {
  const redis = system.redis;
  if (!redis) throw new Error('status needs Redis (REDIS_URL)');
  const prefix = system.subjects.prefix;
  const devices: Record<string, unknown> = {};
  for (const key of (await scanKeys(redis, `${prefix}:device:*`)).filter((k) => !k.endsWith(':hb'))) {
    devices[key.slice(`${prefix}:device:`.length)] = await readValue(redis, key);
  }
  const rates: Record<string, number | string> = {};
  for (const key of await scanKeys(redis, `${prefix}:rate:*`)) {
    const raw = await redis.get(key).catch(() => null);
    if (raw !== null) rates[key.slice(`${prefix}:rate:`.length)] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  const keys = new RuntimeKeys(prefix);
  const rawPlacement = await redis.get(keys.currentPlacement());
  const rawError = await redis.get(keys.placementError());
  const placementError = rawError === null ? undefined : (parseJson(rawError) as ClusterStatus['placementError']);
  let placement: ClusterStatus['placement'];
  if (rawPlacement !== null) {
    const p = parseJson(rawPlacement) as Record<string, unknown>;
    placement = { version: p?.version, groups: p?.groups, models: [...modelsOf(p)].sort() };
  }
  let dispatcher: ClusterStatus['dispatcher'];
  const name = options.dispatcherName ?? 'dispatcher';
  try {
    const stats = await system
      .actor<Record<string, () => unknown>>(name, { timeoutMs: options.timeoutMs ?? 1_000 })
      .call('stats');
    dispatcher = { stats };
  } catch (err) {
    const { name: kind, message } = describeError(err);
    dispatcher = { unavailable: kind === 'NoRespondersError' ? 'no dispatcher running' : message };
  }
  return { actors: await system.list(), devices, placement, placementError, rates, dispatcher };
}

/** True when an actor of this host (container) is registered and ready: the compose health check. */
export function aliveHere(actors: RegistryEntry[], host: string = hostname()): boolean {
  return actors.some((a) => a.host === host && a.state === 'ready');
}

/** Whether anything of meshserve runs on the cluster: an empty registry is not a healthy cluster. */
export function isEmpty(status: ClusterStatus): boolean {
  return status.actors.length === 0;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * One device: id, executor, weight memory, host:pid, and the state of its worker actor: the
 * incarnation the record names (host and pid), else the newest of that name (a restarted worker's
 * dead one may still be listed). A record whose worker is not registered expires with its TTL.
 * An entry that is not a device record is shown as stored.
 */
export function deviceLine(id: string, entry: unknown, actors: readonly RegistryEntry[]): string {
  const d = DeviceInfo.safeParse(entry);
  if (!d.success) return `${id}: not a device record: ${JSON.stringify(entry)}`;
  const { executor, memoryBytes, host, pid } = d.data;
  const workers = actors.filter((a) => a.name === id); // in start order
  const worker = workers.find((a) => a.host === host && a.pid === pid) ?? workers.at(-1);
  const state = worker?.state ?? 'no worker registered';
  return `${id.padEnd(8)} ${executor.padEnd(5)} ${gib(memoryBytes).padStart(9)}  ${host}:${pid}  ${state}`;
}

/** One mesh group: id, (pp, op), its devices stage by stage (shards of a stage joined by commas), models. */
export function groupLine(group: unknown): string {
  const g = RuntimeGroup.safeParse(group);
  if (!g.success) return `group ${JSON.stringify(group)}`;
  const { id, config, devices, models } = g.data;
  const stages = devices.map((shards) => shards.join(',')).join(' → ');
  const names = [...models].sort(naturalOrder).join(', ');
  return `${id.padEnd(6)} (pp ${config.pp}, op ${config.op})  ${stages}  models: ${names || '(none)'}`;
}

/** The human view of a status snapshot. */
export function formatStatus(status: ClusterStatus): string {
  const lines: string[] = [];
  if (status.cluster) lines.push(`cluster: ${status.cluster}`);
  if (isEmpty(status))
    lines.push(
      'NOTHING RUNS HERE: no meshserve actor is registered on this cluster. Start one (npm start), or point NATS_URL and REDIS_URL at a running cluster.',
    );
  lines.push(`actors (${status.actors.length}):`);
  for (const a of [...status.actors].sort((x, y) => naturalOrder(x.name, y.name)))
    lines.push(`  ${a.name.padEnd(20)} ${a.kind.padEnd(14)} ${a.state.padEnd(9)} ${a.host}:${a.pid}`);
  const deviceIds = Object.keys(status.devices).sort(naturalOrder);
  lines.push(`devices (${deviceIds.length}):`);
  for (const id of deviceIds) lines.push(`  ${deviceLine(id, status.devices[id], status.actors)}`);
  if (!status.placement) lines.push('placement: none yet');
  else {
    lines.push(`placement: version ${String(status.placement.version ?? '?')}`);
    const groups = status.placement.groups;
    if (Array.isArray(groups)) for (const g of groups) lines.push(`  ${groupLine(g)}`);
    else lines.push(`  groups: ${JSON.stringify(groups ?? null)}`);
    lines.push(`  models: ${status.placement.models.join(', ') || '(none)'}`);
  }
  const failed = status.placementError;
  if (failed)
    lines.push(
      `  last placement attempt failed${failed.at ? ` at ${failed.at}` : ''}${failed.reason ? ` (${failed.reason})` : ''}: ${failed.error ?? JSON.stringify(failed)}`,
    );
  const rateModels = Object.keys(status.rates);
  lines.push(
    `request rates in the dispatchers' latest interval: ${rateModels.length ? rateModels.map((m) => `${m}=${status.rates[m]}/s`).join(' ') : 'none recorded'}`,
  );
  if ('unavailable' in status.dispatcher) lines.push(`dispatcher: ${status.dispatcher.unavailable}`);
  else if (!isDispatcherStats(status.dispatcher.stats))
    lines.push(`dispatcher stats (not a meshserve dispatcher's): ${JSON.stringify(status.dispatcher.stats)}`);
  else {
    const stats = status.dispatcher.stats;
    const attainment = attainmentByModel(stats);
    const models = Object.keys(attainment).sort(naturalOrder);
    const t = stats.totals;
    lines.push(
      `dispatcher: placement v${stats.placementVersion}, ${stats.inflight} in flight; ${t.requests} requests: ${t.ok} ok (${t.withinSlo} within SLO), ${t.rejected} rejected, ${t.errors} errors${t.adopted ? ` (${t.adopted} adopted from a gone dispatcher)` : ''}${stats.peers?.present ? '; other dispatchers present' : ''}`,
    );
    lines.push(
      `attainment: ${models.length ? models.map((m) => `${m}=${(attainment[m] * 100).toFixed(1)}%`).join(' ') : 'no requests yet'}`,
    );
    if (stats.placementVersion > 0 && !status.placement)
      lines.push(
        `  warning: the dispatcher routes by placement v${stats.placementVersion}, but this Redis holds no placement: NATS_URL and REDIS_URL may name different clusters`,
      );
    for (const g of stats.groups.filter((g) => g.current)) {
      lines.push(
        `  group ${g.id}: routed ${g.routed}, ok ${g.ok}, errors ${g.errors}, in flight ${g.inflight}, backlog ${g.backlogMs.toFixed(1)} ms${g.dead ? `, OUT of routing${g.lostDevices.length ? ` (lost ${g.lostDevices.join(', ')})` : ''}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}
