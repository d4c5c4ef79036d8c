// A GPU worker's device entry in Redis (`ms:device:<id>`, a hash with a TTL), refreshed while it
// lives: what the planner places on. A Redis restart loses it; the next refresh writes it back.

import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../../bus/index.js';
import type { RuntimeKeys } from '../protocol/keys.js';

export interface DeviceRecordOptions {
  redis: Redis;
  keys: RuntimeKeys;
  device: string;
  memoryBytes: number;
  executor: string;
  ttlMs: number;
  log: Logger;
}

export class DeviceRecord {
  private readonly registeredAt = new Date().toISOString();

  constructor(private readonly o: DeviceRecordOptions) {}

  async write(): Promise<void> {
    const { redis, keys, device, ttlMs } = this.o;
    const key = keys.device(device);
    const entry = {
      id: device,
      memoryBytes: this.o.memoryBytes,
      executor: this.o.executor,
      host: hostname(),
      pid: process.pid,
      registeredAt: this.registeredAt,
    };
    try {
      await redis.multi().hset(key, entry).pexpire(key, ttlMs).exec();
    } catch (err) {
      this.o.log.warn({ err }, 'device registration failed');
    }
  }

  async remove(): Promise<void> {
    await this.o.redis.del(this.o.keys.device(this.o.device)).catch(() => undefined);
  }
}
