// Observed per-model request rates, written to Redis (`ms:rate:<model>`, with a TTL) every
// interval: what the planner re-places from when traffic moves.
import type { Redis } from 'ioredis';
import type { Logger } from '../../bus/index.js';
import type { RuntimeKeys } from '../protocol/keys.js';
import type { ModelCounters } from './stats.js';

export class RateWriter {
  private readonly timer: NodeJS.Timeout;
  private lastAt = Date.now();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RuntimeKeys,
    private readonly counters: ReadonlyMap<string, ModelCounters>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.write(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async write(): Promise<void> {
    const now = Date.now();
    const seconds = (now - this.lastAt) / 1000;
    this.lastAt = now;
    if (seconds <= 0) return;
    const tx = this.redis.multi();
    for (const [model, c] of this.counters) {
      tx.set(this.keys.rate(model), (c.windowRequests / seconds).toFixed(4), 'PX', this.intervalMs * 3);
      c.windowRequests = 0;
    }
    await tx.exec().catch((err: unknown) => this.log.warn({ err }, 'could not write rates'));
  }
}
