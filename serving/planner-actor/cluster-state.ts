// What the planner reads of the cluster in Redis: the live GPU devices and the model profiles
// (`ms:profile:<model>`, zoo names as fallback). Also used by `meshserve start`, `replay` and
// `profile` to hand profiles to the planner.
import type { Redis } from 'ioredis';
import type { ActorServices, RegistryEntry } from '../../bus/index.js';
import { parseProfiles } from '../../planner/profile.js';
import type { ModelProfile } from '../../planner/types.js';
import { ZOO_NAMES, zooProfile } from '../../planner/zoo.js';
import { naturalOrder } from '../natural-order.js';
import { RuntimeKeys } from '../protocol/keys.js';
import { DeviceInfo, GPU_WORKER_KIND } from '../protocol/messages.js';

/** Profile of a model: from Redis, else the zoo (`bert-1.3b`, or a replica name like `bert-1.3b-7`). */
export function zooFallback(name: string): ModelProfile | undefined {
  if (ZOO_NAMES.includes(name)) return zooProfile(name);
  const m = /^(.*)-\d+$/.exec(name);
  return m && ZOO_NAMES.includes(m[1]) ? zooProfile(m[1], name) : undefined;
}

/** Writes profiles to `ms:profile:<model>` (what the planner reads). */
export async function storeProfiles(redis: Redis, profiles: readonly ModelProfile[], prefix = 'ms'): Promise<void> {
  const keys = new RuntimeKeys(prefix);
  const tx = redis.multi();
  for (const p of profiles) tx.set(keys.profile(p.name), JSON.stringify(p));
  await tx.exec();
}

/**
 * The profile stored for `model` (`ms:profile:<model>`, the key the planner reads), validated;
 * undefined when none is stored (a zoo name, or not profiled).
 */
export async function readStoredProfile(
  redis: Redis,
  keys: RuntimeKeys,
  model: string,
): Promise<ModelProfile | undefined> {
  const json = await redis.get(keys.profile(model));
  if (json === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`${keys.profile(model)} is not JSON: ${(err as Error).message}`);
  }
  return parseProfiles([value], `profile in ${keys.profile(model)}`)[0];
}

/**
 * Live GPU devices: registered actors of kind GpuWorker with a device entry, in natural id order.
 * A device is listed once: a restarted worker's dead incarnation may still look alive until its
 * heartbeat expires, and the newest incarnation is the device.
 */
export async function liveDevices(
  system: Pick<ActorServices, 'list' | 'redis'>,
  keys: RuntimeKeys,
): Promise<DeviceInfo[]> {
  const redis = system.redis;
  if (!redis) throw new Error('the planner needs Redis');
  // list() is in start order: a later incarnation of a name replaces an earlier one.
  const byName = new Map<string, RegistryEntry>();
  for (const a of await system.list()) if (a.kind === GPU_WORKER_KIND) byName.set(a.name, a);
  const actors = [...byName.values()].filter((a) => a.state === 'ready');
  const devices: DeviceInfo[] = [];
  for (const a of actors) {
    const hash = await redis.hgetall(keys.device(a.name));
    const parsed = DeviceInfo.safeParse(hash);
    if (parsed.success) devices.push(parsed.data);
  }
  return devices.sort((a, b) => naturalOrder(a.id, b.id));
}
