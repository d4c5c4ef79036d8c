// The runtime of one spawned actor: its subscription, mailbox, dispatch to methods, stats and
// lifecycle (starting → ready → draining → stopped | failed).
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ulid } from 'ulid';
import { decode, encode, encodingOf, headersFor, type Encoding } from './codec.js';
import { ActorStateError, ErrorCodes, describeError } from './errors.js';
import { actorLogger, type Logger } from './log.js';
import { Mailbox } from './mailbox.js';
import { respondError } from './replies.js';
import { formatIssues, type ActorPing, type ActorState, type RegistryEntry, type RemoteErrorBody } from './schemas.js';
import { assertToken, methodOf, type Subjects } from './subjects.js';
import type { ActorContext, ActorHookName, ActorHooks, ArgSchemas } from './types.js';
import type { ActorSystem } from './system.js';
import type { z } from 'zod';

export interface SpawnOptions<A> {
  /** Messages handled at the same time; default 1 (strictly one at a time, in order). */
  concurrency?: number;
  /** What the actor is, for the registry and discovery; default: the class name. */
  kind?: string;
  /** Semver reported by $SRV discovery; default 0.1.0. */
  version?: string;
  /**
   * Per-method argument schemas, checked on receipt (INVALID_ARGS error reply on failure).
   * Default: the class's `static argSchemas`, so actors spawned by an actor host validate too.
   */
  args?: ArgSchemas<A>;
}

/** Per-method counters, reported by $SRV.STATS. */
export interface MethodStats {
  numRequests: number;
  numErrors: number;
  lastError: string;
  /** Total handler time in nanoseconds. */
  processingNs: number;
}

interface MethodEntry {
  readonly name: string;
  readonly fn: (...args: unknown[]) => unknown;
  readonly schema: z.ZodType<unknown[]> | undefined;
  readonly stats: MethodStats;
}

const HOOKS: ReadonlySet<string> = new Set<ActorHookName>(['onStart', 'onStop']);

/** Callable methods of an instance: functions on it and its prototypes, minus hooks and `_private` ones. */
function collectMethods(instance: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = instance; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === 'constructor' || HOOKS.has(key) || key.startsWith('_')) continue;
      if (typeof (instance as Record<string, unknown>)[key] === 'function') names.add(key);
    }
  }
  return [...names];
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
  readonly id = ulid();
  readonly kind: string;
  readonly version: string;
  readonly startedAt = new Date().toISOString();
  readonly log: Logger;
  private stateValue: ActorState = 'starting';
  private readonly methods = new Map<string, MethodEntry>();
  private readonly mailbox: Mailbox<Msg>;
  private sub: Subscription | undefined;
  private pingSub: Subscription | undefined;
  private readonly pingSubject: string;
  private stopping: Promise<void> | undefined;
  private readonly methodList: string;

  constructor(
    private readonly system: ActorSystem,
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    readonly name: string,
    readonly instance: A,
    options: SpawnOptions<A> = {},
    /** Called on every state change (registry updates). */
    private readonly onState: (actor: StateChange) => void = () => {},
  ) {
    assertToken(name, 'actor name');
    this.kind = options.kind ?? instance.constructor?.name ?? 'Actor';
    this.version = options.version ?? '0.1.0';
    this.log = actorLogger(name, this.id);
    this.pingSubject = subjects.actorPing(name);
    const declared = (instance.constructor as { argSchemas?: ArgSchemas<A> } | undefined)?.argSchemas;
    const schemas = (options.args ?? declared ?? {}) as Record<string, z.ZodType<unknown[]> | undefined>;
    for (const method of collectMethods(instance)) {
      assertToken(method, 'method name');
      const fn = (instance as Record<string, (...args: unknown[]) => unknown>)[method];
      this.methods.set(method, {
        name: method,
        fn,
        schema: schemas[method],
        stats: { numRequests: 0, numErrors: 0, lastError: '', processingNs: 0 },
      });
    }
    for (const method of Object.keys(schemas)) {
      if (!this.methods.has(method)) throw new ActorStateError(`argument schema given for unknown method "${method}" of ${this.kind}`);
    }
    this.methodList = [...this.methods.keys()].join(', ');
    this.mailbox = new Mailbox<Msg>((msg) => this.handle(msg), options.concurrency ?? 1);
  }

  get state(): ActorState {
    return this.stateValue;
  }

  /** Messages accepted but not started, and being handled. */
  get load(): { pending: number; active: number } {
    return { pending: this.mailbox.pending, active: this.mailbox.active };
  }

  get context(): ActorContext {
    return { name: this.name, id: this.id, kind: this.kind, log: this.log, system: this.system, nats: this.nc, subjects: this.subjects };
  }

  info(): ActorInfo {
    return {
      id: this.id,
      name: this.name,
      kind: this.kind,
      version: this.version,
      startedAt: this.startedAt,
      state: this.stateValue,
      methods: [...this.methods.values()].map((m) => ({
        name: m.name,
        subject: this.subjects.actorBase(this.name) + m.name,
        stats: m.stats,
      })),
    };
  }

  registryEntry(): RegistryEntry {
    return { id: this.id, name: this.name, kind: this.kind, host: hostname(), pid: process.pid, startedAt: this.startedAt, state: this.stateValue };
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
    this.log.info({ kind: this.kind, methods: this.methodList }, 'actor ready');
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
      if (!this.nc.isClosed()) await this.nc.flush().catch((err: unknown) => this.log.warn({ err }, 'could not flush replies'));
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

  /**
   * One message: decode, check, run the method, reply. Never throws. Synchronous unless the
   * method returns a Promise (then the returned promise settles after the reply).
   */
  private handle(msg: Msg): Promise<void> | undefined {
    const method = methodOf(msg.subject);
    const entry = this.methods.get(method);
    let encoding: Encoding = 'msgpack';
    try {
      try {
        encoding = encodingOf(msg.headers);
      } catch (err) {
        // A header block nats.js cannot parse (the server passes any bytes through).
        this.fail(msg, encoding, entry, { name: 'BadRequestError', message: `unparsable message headers for ${this.name}.${method}: ${(err as Error).message}`, code: ErrorCodes.badRequest });
        return undefined;
      }
      if (!entry) {
        this.fail(msg, encoding, undefined, {
          name: 'UnknownMethodError',
          message: `actor "${this.name}" (${this.kind}) has no method "${method}"; it has: ${this.methodList}`,
          code: ErrorCodes.unknownMethod,
        });
        return undefined;
      }
      const args = this.argsOf(msg, encoding, entry);
      if (!args) return undefined;
      const started = performance.now();
      let value: unknown;
      try {
        value = entry.fn.apply(this.instance, args);
      } catch (err) {
        this.handlerFailed(msg, encoding, entry, started, err);
        return undefined;
      }
      if (value instanceof Promise) {
        return value.then(
          (result: unknown) => this.succeed(msg, encoding, entry, started, result),
          (err: unknown) => this.handlerFailed(msg, encoding, entry, started, err),
        );
      }
      this.succeed(msg, encoding, entry, started, value);
    } catch (err) {
      // Only reachable through a bug or an unencodable error; never let it reach the mailbox.
      this.log.error({ err, subject: msg.subject }, 'message handling failed');
    }
    return undefined;
  }

  /** The call's arguments, or undefined after an error reply for a malformed payload / invalid args. */
  private argsOf(msg: Msg, encoding: Encoding, entry: MethodEntry): unknown[] | undefined {
    let args: unknown[];
    try {
      // A cheap structural check: the envelope is one field; zod would only add cost here.
      const envelope = decode(msg.data, encoding) as { args?: unknown } | undefined;
      if (!envelope || !Array.isArray(envelope.args)) throw new Error('expected a call envelope { args: [...] }');
      args = envelope.args;
    } catch (err) {
      this.fail(msg, encoding, entry, {
        name: 'BadRequestError',
        message: `malformed ${encoding} payload for ${this.name}.${entry.name}: ${(err as Error).message}`,
        code: ErrorCodes.badRequest,
      });
      return undefined;
    }
    if (!entry.schema) return args;
    const checked = entry.schema.safeParse(args);
    if (checked.success) return checked.data;
    this.fail(msg, encoding, entry, {
      name: 'ValidationError',
      message: `invalid arguments for ${this.name}.${entry.name}: ${formatIssues(checked.error)}`,
      code: ErrorCodes.invalidArgs,
    });
    return undefined;
  }

  private succeed(msg: Msg, encoding: Encoding, entry: MethodEntry, started: number, value: unknown): void {
    entry.stats.numRequests++;
    entry.stats.processingNs += Math.round((performance.now() - started) * 1e6);
    if (!msg.reply) return;
    let data: Uint8Array;
    try {
      data = encode({ ok: true, value }, encoding);
    } catch (err) {
      this.fail(msg, encoding, entry, { name: 'EncodeError', message: `result of ${this.name}.${entry.name} is not encodable as ${encoding}: ${(err as Error).message}`, code: ErrorCodes.handlerError });
      return;
    }
    msg.respond(data, { headers: headersFor(encoding) });
  }

  private handlerFailed(msg: Msg, encoding: Encoding, entry: MethodEntry, started: number, err: unknown): void {
    entry.stats.processingNs += Math.round((performance.now() - started) * 1e6);
    const { name, message, code } = describeError(err);
    this.fail(msg, encoding, entry, { name, message, code: code ?? ErrorCodes.handlerError });
  }

  /** Answers with an error (or logs it for a tell) and counts it. */
  private fail(msg: Msg, encoding: Encoding, entry: MethodEntry | undefined, error: RemoteErrorBody): void {
    if (entry) {
      entry.stats.numRequests++;
      entry.stats.numErrors++;
      entry.stats.lastError = `${error.name}: ${error.message}`;
    }
    if (msg.reply) respondError(msg, error, this.log, encoding);
    else this.log.warn({ subject: msg.subject, error }, 'tell failed');
  }
}
