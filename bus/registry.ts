// The actor registry in Redis, with heartbeats and dead detection.
//
// Keys (prefix = the subject prefix, default `ms`):
//   <prefix>:actors            SET of ids of actors believed alive
//   <prefix>:actor:<id>        HASH: id, name, kind, host, pid, startedAt, state
//   <prefix>:actor:<id>:hb     heartbeat, SET with PX = heartbeat TTL, refreshed every interval
//
// Events on `<prefix>.events.actor.<kind>`: started (registered), draining (graceful stop begun),
// stopped (deregistered), dead (heartbeat expired).
//
// An actor whose heartbeat key expired is dead. Any process may run the dead watcher, and
// several may at once: the watcher that removes the id from the set (SREM returns 1) is the
// only one that marks it dead and publishes `<prefix>.events.actor.dead`.
import type { NatsConnection } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { decode, encode } from './codec.js';
import type { Logger } from './log.js';
import { ActorEvent, type ActorEventKind, type ActorState, parseOrThrow, RegistryEntry } from './schemas.js';
import type { Subjects } from './subjects.js';

export interface RegistryOptions {
  /** How often each actor refreshes its heartbeat (ms). Default 1000. */
  heartbeatIntervalMs?: number;
  /** Heartbeat lifetime (ms): an actor silent this long is dead. Default 3 × interval. */
  heartbeatTtlMs?: number;
  /** How long the hash of a stopped or dead actor is kept for inspection (ms). Default 1 hour. */
  keepGoneMs?: number;
}

export class Registry {
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTtlMs: number;
  private readonly keepGoneMs: number;
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly log: Logger,
    options: RegistryOptions = {},
  ) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1_000;
    this.heartbeatTtlMs = options.heartbeatTtlMs ?? 3 * this.heartbeatIntervalMs;
    this.keepGoneMs = options.keepGoneMs ?? 3_600_000;
    if (this.heartbeatTtlMs <= this.heartbeatIntervalMs) {
      throw new RangeError(
        `heartbeat TTL (${this.heartbeatTtlMs} ms) must exceed the interval (${this.heartbeatIntervalMs} ms)`,
      );
    }
    this.keyPrefix = subjects.prefix;
  }

  get setKey(): string {
    return `${this.keyPrefix}:actors`;
  }

  entryKey(id: string): string {
    return `${this.keyPrefix}:actor:${id}`;
  }

  heartbeatKey(id: string): string {
    return `${this.keyPrefix}:actor:${id}:hb`;
  }

  /**
   * Writes the entry, its heartbeat and set membership atomically, then announces it. `replaces`:
   * the id of an earlier incarnation known dead (its supervisor saw its process exit), declared
   * dead now rather than when its heartbeat expires: listeners then learn of the death only once
   * the successor is listed.
   */
  async register(entry: RegistryEntry, replaces?: string): Promise<void> {
    await this.writeAlive([entry]);
    this.publish('actor.started', entry);
    if (replaces !== undefined && replaces !== entry.id) await this.declareDead(replaces);
  }

  /**
   * Refreshes heartbeats of the given actors. Rewrites the entry and set membership too, so the
   * registry heals itself after a Redis restart (the test servers keep nothing on disk). An actor
   * that was not in the set any more — declared dead while its host was cut off, or lost with
   * Redis — is announced as started again: it is back.
   */
  async heartbeat(entries: RegistryEntry[]): Promise<void> {
    if (!entries.length) return;
    const added = await this.writeAlive(entries);
    entries.forEach((entry, i) => {
      if (!added[i]) return;
      this.log.info(
        { actor: entry.name, actorId: entry.id },
        'registered again (it had been declared dead, or Redis lost it)',
      );
      this.publish('actor.started', entry);
    });
  }

  async setState(id: string, state: ActorState): Promise<void> {
    await this.redis.hset(this.entryKey(id), 'state', state);
  }

  /**
   * Marks the entry draining, then announces `actor.draining` (after the write, so a listener that
   * lists the registry on the event no longer sees the actor as ready).
   */
  async markDraining(entry: RegistryEntry): Promise<void> {
    try {
      await this.setState(entry.id, 'draining');
    } finally {
      this.publish('actor.draining', { ...entry, state: 'draining' });
    }
  }

  /** Graceful removal: marks the entry stopped and publishes `actor.stopped`. */
  async deregister(entry: RegistryEntry): Promise<void> {
    const results = await this.redis
      .multi()
      .srem(this.setKey, entry.id)
      .del(this.heartbeatKey(entry.id))
      .hset(this.entryKey(entry.id), { ...entry, state: 'stopped' })
      .pexpire(this.entryKey(entry.id), this.keepGoneMs)
      .exec();
    if (results?.[0]?.[1] === 1) this.publish('actor.stopped', { ...entry, state: 'stopped' });
  }

  /** Live actors: in the set and with a heartbeat. Optionally only those with a given name. */
  async list(filter: { name?: string } = {}): Promise<RegistryEntry[]> {
    const ids = await this.redis.smembers(this.setKey);
    if (!ids.length) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.entryKey(id)).exists(this.heartbeatKey(id));
    const results = (await pipe.exec()) ?? [];
    const live: RegistryEntry[] = [];
    for (let i = 0; i < ids.length; i++) {
      const hash = results[2 * i]?.[1] as Record<string, string> | undefined;
      const alive = results[2 * i + 1]?.[1] === 1;
      if (!alive || !hash?.id) continue;
      const entry = RegistryEntry.safeParse(hash);
      if (!entry.success) {
        this.log.warn({ id: ids[i], hash }, 'ignoring malformed registry entry');
        continue;
      }
      if (!filter.name || entry.data.name === filter.name) live.push(entry.data);
    }
    return live.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
  }

  /** The entry of one actor, alive or not (stopped/dead entries are kept for `keepGoneMs`). */
  async get(id: string): Promise<RegistryEntry | undefined> {
    const hash = await this.redis.hgetall(this.entryKey(id));
    return hash.id ? parseOrThrow(RegistryEntry, hash, `registry entry ${id}`) : undefined;
  }

  /**
   * One dead-detection pass: every id in the set whose heartbeat key is gone is removed, marked
   * dead and announced. Returns the actors this call declared dead.
   */
  async sweepDead(): Promise<RegistryEntry[]> {
    const ids = await this.redis.smembers(this.setKey);
    if (!ids.length) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.exists(this.heartbeatKey(id));
    const results = (await pipe.exec()) ?? [];
    const dead: RegistryEntry[] = [];
    for (let i = 0; i < ids.length; i++) {
      if (results[i]?.[1] !== 0) continue;
      const entry = await this.declareDead(ids[i], 'actor heartbeat expired: marked dead');
      if (entry) dead.push(entry);
    }
    return dead;
  }

  /**
   * Removes `id` from the live set, marks it dead and announces it, unless another process did
   * first: only the caller whose SREM removed the id goes on, so there is exactly one dead event
   * per death. Returns the entry it declared dead.
   */
  private async declareDead(id: string, why = 'actor process gone (a new incarnation replaces it): marked dead') {
    if ((await this.redis.srem(this.setKey, id)) !== 1) return undefined;
    await this.redis.del(this.heartbeatKey(id));
    const hash = await this.redis.hgetall(this.entryKey(id));
    await this.redis
      .multi()
      .hset(this.entryKey(id), 'state', 'dead')
      .pexpire(this.entryKey(id), this.keepGoneMs)
      .exec();
    const parsed = RegistryEntry.safeParse({ ...hash, state: 'dead' });
    if (!parsed.success) {
      this.log.warn({ id, hash }, 'dead actor had a malformed registry entry');
      return undefined;
    }
    this.log.warn({ actor: parsed.data.name, actorId: id }, why);
    this.publish('actor.dead', parsed.data);
    return parsed.data;
  }

  /** Runs sweepDead every `intervalMs` (default: half the heartbeat TTL). Returns a stop function. */
  watchDead(intervalMs: number = Math.max(10, Math.floor(this.heartbeatTtlMs / 2))): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.sweepDead()
        .catch((err: unknown) => this.log.warn({ err }, 'dead-actor sweep failed'))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Writes the entries alive; returns, for each, whether it was added to the set (not there before). */
  private async writeAlive(entries: RegistryEntry[]): Promise<boolean[]> {
    const tx = this.redis.multi();
    for (const entry of entries) {
      tx.hset(this.entryKey(entry.id), entry)
        .persist(this.entryKey(entry.id))
        .sadd(this.setKey, entry.id)
        .set(this.heartbeatKey(entry.id), entry.state, 'PX', this.heartbeatTtlMs);
    }
    const results = (await tx.exec()) ?? [];
    return entries.map((_, i) => results[4 * i + 2]?.[1] === 1);
  }

  private publish(kind: ActorEventKind, actor: RegistryEntry): void {
    const event: ActorEvent = { kind, actor, at: new Date().toISOString() };
    if (!this.nc.isClosed()) this.nc.publish(this.subjects.event(kind), encode(event));
  }
}

/** Decodes and validates an actor event received on `<prefix>.events.actor.*`. */
export function decodeActorEvent(data: Uint8Array): ActorEvent {
  return parseOrThrow(ActorEvent, decode(data), 'actor event');
}
