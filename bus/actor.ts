// The runtime of one spawned actor: its subscription, mailbox, dispatch to methods, stats and
// lifecycle (starting → ready → draining → stopped | failed).

import { hostname } from 'node:os';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { z } from 'zod';
import { encode } from './codec.js';
import { newId } from './ids.js';
import type { Logger } from './log.js';
import { Mailbox } from './mailbox.js';
import { ActorMethods, type MethodStats } from './methods.js';
import type { ActorPing, ActorState, RegistryEntry } from './schemas.js';
import { assertToken, type Subjects } from './subjects.js';
import type { ActorContext, ActorHooks, ActorServices, ArgSchemas } from './types.js';

export interface SpawnOptions<A> {
  /** Messages handled at the same time; default 1 (strictly one at a time, in order). */
  concurrency?: number;
  /** What the actor is, for the registry and discovery; default: the class's `static actorKind`, else its name. */
  kind?: string;
  /** Semver reported by $SRV discovery; default 0.1.0. */
  version?: string;
  /**
   * Per-method argument schemas, checked on receipt (INVALID_ARGS error reply on failure).
   * Default: the class's `static argSchemas`, so actors spawned by an actor host validate too.
   */
  args?: ArgSchemas<A>;
  /**
   * The id of an earlier incarnation of this actor whose process is known gone (a supervisor saw
   * it exit): the registry declares it dead once this one is registered, not a heartbeat TTL later.
   */
  replaces?: string;
}

/** What the system learns on a state change (registry updates, events). */
export interface StateChange {
  readonly id: string;
  readonly state: ActorState;
  registryEntry(): RegistryEntry;
}

/** Fields of an actor that the registry and discovery report. */
export interface ActorInfo {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly version: string;
  readonly startedAt: string;
  readonly state: ActorState;
  readonly methods: ReadonlyArray<{ name: string; subject: string; stats: MethodStats }>;
}

export class LocalActor<A extends object = object> {
  readonly id = newId();
  readonly kind: string;
  readonly version: string;
  readonly startedAt = new Date().toISOString();
  readonly log: Logger;
  private stateValue: ActorState = 'starting';
  private readonly methods: ActorMethods;
  private readonly mailbox: Mailbox<Msg>;
  private sub: Subscription | undefined;
  private pingSub: Subscription | undefined;
  private readonly pingSubject: string;
  private stopping: Promise<void> | undefined;

  private readonly nc: NatsConnection;
  private readonly subjects: Subjects;

  constructor(
    /** The process's connections and ways to reach other actors, handed to the actor in onStart. */
    private readonly services: ActorServices,
    /** The process's logger; the actor logs through a child carrying its name and id. */
    processLog: Logger,
    readonly name: string,
    readonly instance: A,
    options: SpawnOptions<A> = {},
    /** Called on every state change (registry updates). */
    private readonly onState: (actor: StateChange) => void = () => {},
  ) {
    assertToken(name, 'actor name');
    this.nc = services.nats;
    this.subjects = services.subjects;
    const declaredKind = (instance.constructor as { actorKind?: string } | undefined)?.actorKind;
    this.kind = options.kind ?? declaredKind ?? instance.constructor?.name ?? 'Actor';
    this.version = options.version ?? '0.1.0';
    this.log = processLog.child({ actor: name, actorId: this.id });
    this.pingSubject = this.subjects.actorPing(name);
    const declared = (instance.constructor as { argSchemas?: ArgSchemas<A> } | undefined)?.argSchemas;
    const schemas = (options.args ?? declared ?? {}) as Record<string, z.ZodType<unknown[]> | undefined>;
    this.methods = new ActorMethods(instance, name, this.kind, schemas, this.log);
    this.mailbox = new Mailbox<Msg>((msg) => this.methods.handle(msg), options.concurrency ?? 1);
  }

  get state(): ActorState {
    return this.stateValue;
  }

  /** Messages accepted but not started, and being handled. */
  get load(): { pending: number; active: number } {
    return { pending: this.mailbox.pending, active: this.mailbox.active };
  }

  get context(): ActorContext {
    const s = this.services;
    return {
      name: this.name,
      id: this.id,
      kind: this.kind,
      log: this.log,
      nats: s.nats,
      subjects: s.subjects,
      redis: s.redis,
      heartbeatIntervalMs: s.heartbeatIntervalMs,
      events: s.events,
      get connected() {
        return s.connected;
      },
      actor: (name, options) => s.actor(name, options),
      list: (filter) => s.list(filter),
      onEvent: (kind, handler) => s.onEvent(kind, handler),
    };
  }

  info(): ActorInfo {
    return {
      id: this.id,
      name: this.name,
      kind: this.kind,
      version: this.version,
      startedAt: this.startedAt,
      state: this.stateValue,
      methods: [...this.methods.entries.values()].map((m) => ({
        name: m.name,
        subject: this.subjects.actorBase(this.name) + m.name,
        stats: m.stats,
      })),
    };
  }

  registryEntry(): RegistryEntry {
    return {
      id: this.id,
      name: this.name,
      kind: this.kind,
      host: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      state: this.stateValue,
    };
  }

  /** Runs onStart, then subscribes; the actor is `ready` when this resolves. */
  async start(): Promise<void> {
    try {
      await (this.instance as ActorHooks).onStart?.(this.context);
      // Several actors under one name form a queue group: each message goes to one of them.
      this.sub = this.nc.subscribe(this.subjects.actorWildcard(this.name), {
        queue: this.name,
        callback: (err, msg) => {
          if (err) this.log.error({ err }, 'subscription error');
          else if (msg.subject !== this.pingSubject) this.mailbox.push(msg); // pings have their own subscription
        },
      });
      // Liveness pings bypass the mailbox and outlive the call subscription until the actor has
      // stopped: a draining actor is still there (and says so), a crashed one's process took its
      // subscriptions along and the server answers "no responders" at once. No queue group: the
      // call subscription's group also matches the ping subject, and a queue group delivers to
      // one member only (every actor of the name answers; the first answer counts).
      this.pingSub = this.nc.subscribe(this.pingSubject, {
        callback: (err, msg) => {
          if (!err) this.pong(msg);
        },
      });
      await this.nc.flush();
    } catch (err) {
      this.unsubscribePing();
      this.setState('failed');
      this.log.error({ err }, 'actor failed to start');
      throw err;
    }
    this.setState('ready');
    this.log.info({ kind: this.kind, methods: this.methods.list }, 'actor ready');
  }

  /**
   * Graceful stop: unsubscribe (the server sends nothing more), handle every message already
   * accepted, run onStop, flush the replies. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    this.setState('draining');
    const { pending, active } = this.load;
    this.log.info({ pending, active }, 'draining');
    try {
      // drain() flushes the UNSUB: every message the server routed to us before it is in our
      // mailbox when it resolves.
      if (this.sub && !this.nc.isClosed()) await this.sub.drain();
      await this.mailbox.idle();
      await (this.instance as ActorHooks).onStop?.();
      // Push the replies out. While disconnected this fails at the next reconnect attempt; the
      // replies then die with the connection, which no stop can prevent.
      if (!this.nc.isClosed())
        await this.nc.flush().catch((err: unknown) => this.log.warn({ err }, 'could not flush replies'));
    } catch (err) {
      this.log.error({ err }, 'error while stopping');
      this.unsubscribePing();
      this.setState('failed');
      return;
    }
    this.unsubscribePing();
    this.setState('stopped');
    this.log.info('stopped');
  }

  private unsubscribePing(): void {
    if (!this.nc.isClosed()) this.pingSub?.unsubscribe();
  }

  private pong(msg: Msg): void {
    if (!msg.reply) return;
    const ping: ActorPing = { id: this.id, name: this.name, state: this.stateValue };
    try {
      msg.respond(encode(ping));
    } catch (err) {
      this.log.warn({ err }, 'could not answer a ping');
    }
  }

  private setState(state: ActorState): void {
    this.stateValue = state;
    this.onState(this);
  }
}
