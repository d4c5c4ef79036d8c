// Who answers a request when its owner might not: exactly one dispatcher. A request is normally
// answered by the dispatcher that accepted it, from its completion. Every other way to answer it
// — the owner's own timeout or retry, another dispatcher adopting its orphaned completion — first
// claims the request in Redis (SET NX): only the winner answers. A completion that reached its
// owner never became an orphan (the server answers "no responders" only when it delivered
// nothing), so the owner's completion path needs no claim.
import type { Redis } from 'ioredis';
import type { Logger } from '../../bus/index.js';
import type { RuntimeKeys } from '../protocol/keys.js';

export interface ClaimsOptions {
  /** Absent (registry off): every claim is won. */
  redis: Redis | undefined;
  keys: RuntimeKeys;
  /** This dispatcher's id, stored as the claimant. */
  self: string;
  log: Logger;
  /** How long a claim is kept (ms): longer than any request can still be answered. Default 10 min. */
  ttlMs?: number;
  /** A claim Redis does not settle in this time is taken as won (ms). Default 1 000. */
  timeoutMs?: number;
}

export class Claims {
  constructor(private readonly o: ClaimsOptions) {}

  /**
   * Whether this dispatcher may answer request `origin` of dispatcher `owner`: it claimed it now,
   * or had before. When Redis cannot tell (down, slow), the answer is yes: a reply that may be a
   * duplicate (only if another dispatcher answered it in the same outage) is better than none.
   */
  async claim(owner: string, origin: string): Promise<boolean> {
    const redis = this.o.redis;
    if (!redis) return true;
    const key = this.o.keys.claim(owner, origin);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.o.timeoutMs ?? 1_000);
    });
    try {
      const attempt = (async () => {
        if ((await redis.set(key, this.o.self, 'PX', this.o.ttlMs ?? 600_000, 'NX')) === 'OK') return true;
        return (await redis.get(key)) === this.o.self;
      })();
      const won = await Promise.race([attempt, timeout]);
      if (won === 'timeout') {
        attempt.catch(() => undefined);
        this.o.log.warn({ owner, origin }, 'claim not settled by Redis in time: answering');
        return true;
      }
      return won;
    } catch (err) {
      this.o.log.warn({ err, owner, origin }, 'claim failed (Redis unreachable?): answering');
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}
