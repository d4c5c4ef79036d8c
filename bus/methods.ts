// The methods an actor instance can be called by, and the handling of one call: decode, check
// the arguments against the method's schema, run it, reply (or answer with an error), count.

import { performance } from 'node:perf_hooks';
import type { Msg } from '@nats-io/transport-node';
import type { z } from 'zod';
import { decode, type Encoding, encode, encodingOf, headersFor } from './codec.js';
import { ActorStateError, describeError, ErrorCodes } from './errors.js';
import type { Logger } from './log.js';
import { respondError } from './replies.js';
import { formatIssues, type RemoteErrorBody } from './schemas.js';
import { assertToken, methodOf } from './subjects.js';
import type { ActorHookName } from './types.js';

/** Per-method counters, reported by $SRV.STATS. */
export interface MethodStats {
  numRequests: number;
  numErrors: number;
  lastError: string;
  /** Total handler time in nanoseconds. */
  processingNs: number;
}

export interface MethodEntry {
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

export class ActorMethods {
  readonly entries = new Map<string, MethodEntry>();
  /** The method names, for error messages and logs. */
  readonly list: string;

  constructor(
    private readonly instance: object,
    private readonly name: string,
    private readonly kind: string,
    schemas: Record<string, z.ZodType<unknown[]> | undefined>,
    private readonly log: Logger,
  ) {
    for (const method of collectMethods(instance)) {
      assertToken(method, 'method name');
      const fn = (instance as Record<string, (...args: unknown[]) => unknown>)[method];
      const stats = { numRequests: 0, numErrors: 0, lastError: '', processingNs: 0 };
      this.entries.set(method, { name: method, fn, schema: schemas[method], stats });
    }
    for (const method of Object.keys(schemas)) {
      if (!this.entries.has(method)) {
        throw new ActorStateError(`argument schema given for unknown method "${method}" of ${kind}`);
      }
    }
    this.list = [...this.entries.keys()].join(', ');
  }

  /**
   * One message: decode, check, run the method, reply. Never throws. Synchronous unless the
   * method returns a Promise (then the returned promise settles after the reply).
   */
  handle(msg: Msg): Promise<void> | undefined {
    const method = methodOf(msg.subject);
    const entry = this.entries.get(method);
    let encoding: Encoding = 'msgpack';
    try {
      try {
        encoding = encodingOf(msg.headers);
      } catch (err) {
        // A header block nats.js cannot parse (the server passes any bytes through).
        this.fail(msg, encoding, entry, {
          name: 'BadRequestError',
          message: `unparsable message headers for ${this.name}.${method}: ${(err as Error).message}`,
          code: ErrorCodes.badRequest,
        });
        return undefined;
      }
      if (!entry) {
        this.fail(msg, encoding, undefined, {
          name: 'UnknownMethodError',
          message: `actor "${this.name}" (${this.kind}) has no method "${method}"; it has: ${this.list}`,
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
      this.fail(msg, encoding, entry, {
        name: 'EncodeError',
        message: `result of ${this.name}.${entry.name} is not encodable as ${encoding}: ${(err as Error).message}`,
        code: ErrorCodes.handlerError,
      });
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
