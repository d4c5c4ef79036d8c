// Handles: how any process calls an actor by name. A handle is a few strings and a shared
// requester; creating one costs nothing and needs no round trip.
import type { Msg } from '@nats-io/transport-node';
import { decode, encode, encodingOf, headersFor } from './codec.js';
import { BusError, CallTimeoutError, NoRespondersError, RemoteError, ValidationError } from './errors.js';
import type { Requester, RequestFailure } from './requester.js';
import { ActorPing, formatIssues, parseOrThrow, ReplyEnvelope } from './schemas.js';
import { assertToken, type Subjects } from './subjects.js';
import type { ActorArgs, ActorMethodName, ActorProxy, ActorRef, ActorResult, CallOptions } from './types.js';

export class ActorHandle<A> implements ActorRef<A> {
  private readonly base: string;
  private proxyCache: ActorProxy<A> | undefined;
  /** Validated call subjects by method: no regex or concatenation per call. */
  private readonly subjectCache = new Map<string, string>();

  constructor(
    private readonly requester: Requester,
    private readonly subjects: Subjects,
    readonly name: string,
    private readonly options: Required<CallOptions>,
  ) {
    this.base = subjects.actorBase(name);
  }

  /** A handle with other defaults for its calls, e.g. `h.withOptions({ timeoutMs: 100 }).call(...)`. */
  withOptions(options: CallOptions): ActorHandle<A> {
    return new ActorHandle<A>(this.requester, this.subjects, this.name, { ...this.options, ...options });
  }

  /** Request/reply: resolves with the method's result or rejects with a typed error. */
  async call<M extends ActorMethodName<A>>(method: M, ...args: ActorArgs<A, M>): Promise<ActorResult<A, M>> {
    const { timeoutMs, encoding } = this.options;
    const data = encode({ args }, encoding);
    let reply: Msg;
    try {
      reply = await this.requester.request(this.subject(method), data, headersFor(encoding), timeoutMs);
    } catch (err) {
      throw this.translate(err, method);
    }
    let envelope: unknown;
    try {
      envelope = decode(reply.data, encodingOf(reply.headers));
    } catch (err) {
      throw new ValidationError(`undecodable reply from ${this.name}.${method}: ${(err as Error).message}`);
    }
    return this.unwrap(envelope, method) as ActorResult<A, M>;
  }

  /**
   * Liveness: resolves with the answering actor's id and state (`draining` included); rejects
   * with NoRespondersError at once when no actor of that name is on NATS, CallTimeoutError when
   * the answer does not come within the handle's timeout.
   */
  async ping(): Promise<ActorPing> {
    let reply: Msg;
    try {
      reply = await this.requester.request(
        this.subjects.actorPing(this.name),
        new Uint8Array(0),
        undefined,
        this.options.timeoutMs,
      );
    } catch (err) {
      throw this.translate(err, '_ping');
    }
    try {
      return parseOrThrow(ActorPing, decode(reply.data), `ping reply from ${this.name}`);
    } catch (err) {
      throw err instanceof ValidationError
        ? err
        : new ValidationError(`undecodable ping reply from ${this.name}: ${(err as Error).message}`);
    }
  }

  /** Fire-and-forget: no reply, no delivery guarantee beyond NATS core's at-most-once. */
  tell<M extends ActorMethodName<A>>(method: M, ...args: ActorArgs<A, M>): void {
    const { encoding } = this.options;
    this.requester.nc.publish(this.subject(method), encode({ args }, encoding), { headers: headersFor(encoding) });
  }

  /** `handle.proxy.inc(1)` is `handle.call('inc', 1)`. */
  get proxy(): ActorProxy<A> {
    this.proxyCache ??= new Proxy({} as ActorProxy<A>, {
      get: (_target, prop) =>
        typeof prop === 'string' ? (...args: unknown[]) => this.call(prop as never, ...(args as never)) : undefined,
    });
    return this.proxyCache;
  }

  private subject(method: string): string {
    let subject = this.subjectCache.get(method);
    if (subject === undefined) {
      subject = this.base + assertToken(method, 'method name');
      this.subjectCache.set(method, subject);
    }
    return subject;
  }

  private unwrap(envelope: unknown, method: string): unknown {
    // Cheap structural check first; zod only to explain a malformed reply.
    const r = envelope as ReplyEnvelope | undefined;
    if (r && r.ok === true) return r.value;
    if (r && r.ok === false && r.error && typeof r.error.message === 'string') {
      throw new RemoteError(
        this.name,
        method,
        typeof r.error.name === 'string' ? r.error.name : 'Error',
        r.error.message,
        typeof r.error.code === 'string' ? r.error.code : 'HANDLER_ERROR',
      );
    }
    const parsed = ReplyEnvelope.safeParse(envelope);
    throw new ValidationError(
      `malformed reply from ${this.name}.${method}: ${parsed.success ? 'unexpected shape' : formatIssues(parsed.error)}`,
    );
  }

  private translate(err: unknown, method: string): Error {
    switch (err as RequestFailure) {
      case 'timeout':
        return new CallTimeoutError(this.name, method, this.options.timeoutMs);
      case 'no-responders':
        return new NoRespondersError(this.name, method);
      case 'closed':
        return new BusError(`connection closed before ${this.name}.${method} answered`);
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}
