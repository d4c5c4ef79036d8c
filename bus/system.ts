// The actor system: one per process. Owns the connections, the local actors, the registry
// heartbeats, the dead watcher and the $SRV responder; hands out handles to any actor by name.

import { EventEmitter } from 'node:events';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { type ActorInfo, LocalActor, type SpawnOptions, type StateChange } from './actor.js';
import { connectNats, connectRedis } from './connect.js';
import { serveDiscovery } from './discovery.js';
import { ActorStateError } from './errors.js';
import { ActorHandle } from './handle.js';
import { createLogger, type Logger } from './log.js';
import { decodeActorEvent, Registry, type RegistryOptions } from './registry.js';
import { Requester } from './requester.js';
import type { ActorEvent, ActorEventKind, RegistryEntry } from './schemas.js';
import { Subjects } from './subjects.js';
import { safeSubscribe } from './subscribe.js';
import type { ActorServices, CallOptions } from './types.js';

export interface ActorSystemOptions {
  /** NATS URL; default env NATS_URL, else nats://127.0.0.1:4222. */
  natsUrl?: string;
  /** Redis URL; default env REDIS_URL, else redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Set false to run without Redis: no registry, heartbeats or dead detection. Default true. */
  registry?: boolean;
  /** Subject prefix (and Redis key prefix). Default `ms`. */
  prefix?: string;
  /** Default call timeout (ms). Default 5000. */
  defaultTimeoutMs?: number;
  /** Heartbeat interval/TTL; see RegistryOptions. */
  heartbeat?: RegistryOptions;
  /** Run the dead-actor watcher in this process (safe in several). Default true when the registry is on. */
  watchDead?: boolean;
  /** Name of this process's connections (shown by the servers). */
  name?: string;
  /** NATS client reconnect wait (ms); see connectNats. */
  reconnectTimeWaitMs?: number;
  /** The process's logger; default one at LOG_LEVEL (else info). */
  log?: Logger;
}

/** Connection events re-emitted by `system.events`: 'disconnect', 'reconnect'. */
export type SystemEventName = 'disconnect' | 'reconnect';

export class ActorSystem implements ActorServices {
  readonly subjects: Subjects;
  readonly log: Logger;
  /** The process's logger, parent of every actor's. */
  private readonly processLog: Logger;
  /** Emits 'disconnect' and 'reconnect' (with the server) as the NATS connection changes. */
  readonly events = new EventEmitter();
  private readonly actors = new Map<string, LocalActor>();
  private readonly callDefaults: Required<CallOptions>;
  private readonly requester: Requester;
  private readonly discovery: Subscription;
  private readonly stopWatcher: (() => void) | undefined;
  private readonly heartbeatTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private connectedState = true;
  /** Server error messages already logged, with when (each is logged at most once a minute). */
  private readonly reportedErrors = new Map<string, number>();

  private constructor(
    readonly nats: NatsConnection,
    readonly redis: Redis | undefined,
    readonly registry: Registry | undefined,
    options: ActorSystemOptions,
  ) {
    this.subjects = new Subjects(options.prefix);
    this.processLog = options.log ?? createLogger();
    this.log = this.processLog.child({ system: options.name ?? 'meshserve' });
    this.callDefaults = { timeoutMs: options.defaultTimeoutMs ?? 5_000, encoding: 'msgpack' };
    this.requester = new Requester(nats);
    this.discovery = serveDiscovery(nats, () => this.readyActors());
    if (registry) {
      this.heartbeatTimer = setInterval(() => this.heartbeat(), registry.heartbeatIntervalMs);
      this.heartbeatTimer.unref();
      if (options.watchDead !== false) this.stopWatcher = registry.watchDead();
    }
    void this.followStatus();
  }

  /**
   * Whether the NATS connection is up. While it is not, nats.js v3 drops what is published (it
   * resets its outbound buffer on every reconnect attempt): see Outbox.
   */
  get connected(): boolean {
    return this.connectedState && !this.nats.isClosed();
  }

  /** The registry's heartbeat interval (ms), when the registry is on. */
  get heartbeatIntervalMs(): number | undefined {
    return this.registry?.heartbeatIntervalMs;
  }

  /** Connects to NATS (and Redis unless `registry: false`) and starts the system. */
  static async connect(connectOptions: ActorSystemOptions = {}): Promise<ActorSystem> {
    const options = { ...connectOptions, log: connectOptions.log ?? createLogger() };
    const subjects = new Subjects(options.prefix); // validates the prefix before connecting
    const nats = await connectNats({
      url: options.natsUrl,
      name: options.name,
      reconnectTimeWaitMs: options.reconnectTimeWaitMs,
    });
    let redis: Redis | undefined;
    let registry: Registry | undefined;
    try {
      if (options.registry !== false) {
        redis = await connectRedis({ url: options.redisUrl, name: options.name, log: options.log });
        registry = new Registry(redis, nats, subjects, options.log, options.heartbeat);
      }
    } catch (err) {
      await nats.close();
      throw err;
    }
    return new ActorSystem(nats, redis, registry, options);
  }

  /**
   * Starts `instance` as actor `name` in this process: runs its onStart, subscribes to
   * `<prefix>.actor.<name>.>`, registers it. Resolves once it is ready.
   */
  async spawn<A extends object>(name: string, instance: A, options: SpawnOptions<A> = {}): Promise<LocalActor<A>> {
    if (this.closing) throw new ActorStateError('actor system is closing');
    if (this.actors.has(name)) throw new ActorStateError(`an actor named "${name}" already runs in this process`);
    const actor = new LocalActor<A>(this, this.processLog, name, instance, options, (a) => this.stateChanged(a));
    this.actors.set(name, actor as unknown as LocalActor);
    try {
      await actor.start();
      await this.registry?.register(actor.registryEntry(), options.replaces);
    } catch (err) {
      this.actors.delete(name);
      await actor.stop();
      throw err;
    }
    return actor;
  }

  /** A typed handle to the actor `name`, wherever it runs. */
  actor<A>(name: string, options: CallOptions = {}): ActorHandle<A> {
    return new ActorHandle<A>(this.requester, this.subjects, name, { ...this.callDefaults, ...options });
  }

  /** The actor `name` if it runs in this process. */
  local(name: string): LocalActor | undefined {
    return this.actors.get(name);
  }

  /** Drains and removes the local actor `name` (no accepted message is dropped). */
  async stop(name: string): Promise<void> {
    const actor = this.actors.get(name);
    if (!actor) throw new ActorStateError(`no actor named "${name}" runs in this process`);
    await actor.stop();
    this.actors.delete(name);
    await this.registry
      ?.deregister(actor.registryEntry())
      .catch((err: unknown) => this.log.warn({ err }, 'deregister failed'));
  }

  /** Live actors of the whole system, from the registry. */
  async list(filter: { name?: string } = {}): Promise<RegistryEntry[]> {
    if (!this.registry) throw new ActorStateError('the registry is off (registry: false)');
    return await this.registry.list(filter);
  }

  /** Subscribes to actor lifecycle events; returns an unsubscribe function. */
  onEvent(kind: ActorEventKind | 'actor.*', handler: (event: ActorEvent) => void): () => void {
    const subject = this.subjects.event(kind === 'actor.*' ? 'actor' : kind) + (kind === 'actor.*' ? '.*' : '');
    const sub = safeSubscribe(
      this.nats,
      subject,
      (msg) => {
        let event: ActorEvent;
        try {
          event = decodeActorEvent(msg.data);
        } catch (e) {
          this.log.warn({ err: e, subject: msg.subject }, 'ignoring invalid actor event');
          return;
        }
        handler(event);
      },
      { log: this.log, what: 'actor events' },
    );
    return () => sub.unsubscribe();
  }

  /** Drains every local actor, then the connections. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    this.stopWatcher?.();
    await Promise.all([...this.actors.keys()].map((name) => this.stop(name)));
    this.discovery.unsubscribe();
    if (!this.nats.isClosed()) {
      // drain() fails when the server is unreachable; closing is all that is left then.
      await this.nats.drain().catch(async (err: unknown) => {
        this.log.warn({ err }, 'nats drain failed; closing');
        await this.nats.close();
      });
    }
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
  }

  private *readyActors(): Iterable<ActorInfo> {
    for (const actor of this.actors.values()) if (actor.state === 'ready') yield actor.info();
  }

  private stateChanged(actor: StateChange): void {
    if (!this.registry || actor.state === 'starting' || actor.state === 'ready' || actor.state === 'stopped') return;
    // draining / failed are worth showing while they last; ready is written by register().
    const update =
      actor.state === 'draining'
        ? this.registry.markDraining(actor.registryEntry())
        : this.registry.setState(actor.id, actor.state);
    update.catch((err: unknown) => this.log.warn({ err }, 'registry state update failed'));
  }

  private heartbeat(): void {
    const entries = [...this.actors.values()]
      .filter((a) => a.state === 'ready' || a.state === 'draining')
      .map((a) => a.registryEntry());
    this.registry?.heartbeat(entries).catch((err: unknown) => this.log.warn({ err }, 'heartbeat failed'));
  }

  private async followStatus(): Promise<void> {
    for await (const status of this.nats.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect') {
        this.connectedState = status.type === 'reconnect';
        this.log.warn({ server: status.server }, `nats ${status.type}`);
        this.events.emit(status.type, status.server);
      } else if (status.type === 'error') {
        // Asynchronous server errors, above all permission violations (a publish the server
        // refused): nats.js reports them only here. Once a minute per distinct message.
        const message = String((status as { error?: Error }).error?.message ?? status.type);
        const now = Date.now();
        if ((this.reportedErrors.get(message) ?? -Infinity) + 60_000 <= now) {
          // Messages name subjects (inboxes are unique): forget the old ones, keep the map small.
          if (this.reportedErrors.size >= 256) {
            for (const [m, at] of this.reportedErrors) if (at + 60_000 <= now) this.reportedErrors.delete(m);
            if (this.reportedErrors.size >= 256) this.reportedErrors.clear();
          }
          this.reportedErrors.set(message, now);
          this.log.error({ natsError: message }, 'nats server error');
        }
      }
    }
  }
}
