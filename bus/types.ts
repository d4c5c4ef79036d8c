// Types that tie an actor class to its handles: method names and argument/result types are
// derived from the class itself, so `system.actor<Counter>('c').call('inc', 1)` is checked.

import type { EventEmitter } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ActorEvent, ActorEventKind, ActorPing, RegistryEntry } from './schemas.js';
import type { Subjects } from './subjects.js';

/** Lifecycle hooks an actor may define; they are never callable as messages. */
export interface ActorHooks {
  /** Runs before the actor receives its first message; a throw fails the spawn. */
  onStart?(ctx: ActorContext): void | Promise<void>;
  /** Runs after the mailbox drained on a graceful stop. */
  onStop?(): void | Promise<void>;
}

export type ActorHookName = keyof ActorHooks;

// biome-ignore lint/suspicious/noExplicitAny: the widest function type, to pick methods out of a class
type AnyFunction = (...args: any[]) => any;

/** Names of the methods of A that can be called as messages. */
export type ActorMethodName<A> = {
  [K in keyof A]: K extends ActorHookName ? never : K extends string ? (A[K] extends AnyFunction ? K : never) : never;
}[keyof A];

export type ActorArgs<A, M extends ActorMethodName<A>> = A[M] extends (...args: infer P) => unknown ? P : never;

export type ActorResult<A, M extends ActorMethodName<A>> = A[M] extends (...args: never[]) => infer R
  ? Awaited<R>
  : never;

/** `handle.proxy.inc(1)`: every method returns a Promise of its awaited result. */
export type ActorProxy<A> = {
  [M in ActorMethodName<A>]: (...args: ActorArgs<A, M>) => Promise<ActorResult<A, M>>;
};

/** Optional per-method argument schemas, validated on receipt before the method runs. */
export type ArgSchemas<A> = {
  [M in ActorMethodName<A>]?: z.ZodType<ActorArgs<A, M>>;
};

/** A handle to an actor by name, wherever it runs (implemented by ActorHandle). */
export interface ActorRef<A> {
  readonly name: string;
  /** Request/reply: resolves with the method's result or rejects with a typed error. */
  call<M extends ActorMethodName<A>>(method: M, ...args: ActorArgs<A, M>): Promise<ActorResult<A, M>>;
  /** Fire-and-forget. */
  tell<M extends ActorMethodName<A>>(method: M, ...args: ActorArgs<A, M>): void;
  /** Liveness: who answers the name, in which state. */
  ping(): Promise<ActorPing>;
  readonly proxy: ActorProxy<A>;
  withOptions(options: CallOptions): ActorRef<A>;
}

/** Whether the NATS connection is up, and its 'disconnect' / 'reconnect' events (what an Outbox needs). */
export interface ConnectionState {
  readonly nats: NatsConnection;
  /** Emits 'disconnect' and 'reconnect' (with the server) as the connection changes. */
  readonly events: EventEmitter;
  readonly connected: boolean;
}

/** What the actors of a process share: its connections, and ways to reach the other actors. */
export interface ActorServices extends ConnectionState {
  readonly subjects: Subjects;
  /** Redis, when the system runs with its registry (undefined with `registry: false`). */
  readonly redis: Redis | undefined;
  /** The registry's heartbeat interval (ms), when the registry is on. */
  readonly heartbeatIntervalMs: number | undefined;
  /** A handle to the actor `name`, wherever it runs. */
  actor<A>(name: string, options?: CallOptions): ActorRef<A>;
  /** Live actors of the whole system, from the registry. */
  list(filter?: { name?: string }): Promise<RegistryEntry[]>;
  /** Subscribes to actor lifecycle events; returns an unsubscribe function. */
  onEvent(kind: ActorEventKind | 'actor.*', handler: (event: ActorEvent) => void): () => void;
}

/** What an actor gets in `onStart`: who it is, and the services of the process it runs in. */
export interface ActorContext extends ActorServices {
  readonly name: string;
  /** ULID of this incarnation (a restarted actor gets a new id under the same name). */
  readonly id: string;
  readonly kind: string;
  readonly log: Logger;
}

export interface CallOptions {
  /** Reply timeout in ms (default: the system's `defaultTimeoutMs`, 5000). */
  timeoutMs?: number;
  /** Encoding of the request (and so of the reply). Default `msgpack`. */
  encoding?: 'msgpack' | 'json';
}
