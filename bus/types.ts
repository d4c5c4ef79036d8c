// Types that tie an actor class to its handles: method names and argument/result types are
// derived from the class itself, so `system.actor<Counter>('c').call('inc', 1)` is checked.
import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import type { z } from 'zod';
import type { Subjects } from './subjects.js';
import type { ActorSystem } from './system.js';

/** Lifecycle hooks an actor may define; they are never callable as messages. */
export interface ActorHooks {
  /** Runs before the actor receives its first message; a throw fails the spawn. */
  onStart?(ctx: ActorContext): void | Promise<void>;
  /** Runs after the mailbox drained on a graceful stop. */
  onStop?(): void | Promise<void>;
}

export type ActorHookName = keyof ActorHooks;

type AnyFunction = (...args: any[]) => any;

/** Names of the methods of A that can be called as messages. */
export type ActorMethodName<A> = {
  [K in keyof A]: K extends ActorHookName ? never : K extends string ? (A[K] extends AnyFunction ? K : never) : never;
}[keyof A];

export type ActorArgs<A, M extends ActorMethodName<A>> = A[M] extends (...args: infer P) => unknown ? P : never;

export type ActorResult<A, M extends ActorMethodName<A>> = A[M] extends (...args: never[]) => infer R ? Awaited<R> : never;

/** `handle.proxy.inc(1)`: every method returns a Promise of its awaited result. */
export type ActorProxy<A> = {
  [M in ActorMethodName<A>]: (...args: ActorArgs<A, M>) => Promise<ActorResult<A, M>>;
};

/** Optional per-method argument schemas, validated on receipt before the method runs. */
export type ArgSchemas<A> = {
  [M in ActorMethodName<A>]?: z.ZodType<ActorArgs<A, M>>;
};

/** What an actor gets in `onStart`: who it is and how to reach the rest of the system. */
export interface ActorContext {
  readonly name: string;
  /** ULID of this incarnation (a restarted actor gets a new id under the same name). */
  readonly id: string;
  readonly kind: string;
  readonly log: Logger;
  /** The system the actor runs in: use `ctx.system.actor<Other>('name')` to call others. */
  readonly system: ActorSystem;
  /** The raw connection, for actors that hold their own subscriptions. */
  readonly nats: NatsConnection;
  readonly subjects: Subjects;
}

export interface CallOptions {
  /** Reply timeout in ms (default: the system's `defaultTimeoutMs`, 5000). */
  timeoutMs?: number;
  /** Encoding of the request (and so of the reply). Default `msgpack`. */
  encoding?: 'msgpack' | 'json';
}
