// The life of a request at a dispatcher: taken in (or answered at once), admitted on a group or
// rejected, sent to the group's first stage, then answered from its completion — or routed again
// once when its group fails it while its deadline allows, or answered with an error naming the
// failure, or by its timer at the deadline + grace. Exactly one reply per request.
import type { Msg } from '@nats-io/transport-node';
import {
  decode,
  type Encoding,
  encode,
  heldForMs,
  isNoResponders,
  type Logger,
  newId,
  type Outbox,
  parseOrThrow,
  respondError,
  respondMalformed,
} from '../../bus/index.js';
import { nowSeconds } from '../clock.js';
import { type ClientRoute, Completion, Orphan, type StageWork } from '../protocol/messages.js';
import { admit } from './admission.js';
import type { Claims } from './claims.js';
import type { GroupTable, MeshGroup } from './groups.js';
import type { GroupHealth } from './health.js';
import { notServed, readRequest } from './ingress.js';
import { type Booking, correctFromCompletion } from './lateness.js';
import { errorReply, sendReply, timings } from './replies.js';
import { type ModelCounters, ms } from './stats.js';

/** A request taken in: what its reply needs, whatever becomes of it. */
export interface Request {
  readonly id: string;
  readonly model: string;
  readonly reply: string;
  readonly encoding: Encoding;
  readonly arrival: number;
  /** Epoch s; Infinity = no SLO. */
  readonly deadline: number;
  readonly input: unknown;
  /** The group whose failure made it be routed again (it is routed again at most once). */
  readonly retriedFrom?: string;
  /** The rid of its first booking: names the request across a retry (claims, orphans). */
  readonly origin?: string;
  /** This dispatcher holds its claim (claims.ts): no other may answer it. */
  readonly claimed?: boolean;
}

/** A request booked on a group, waiting for its completion. */
export interface Inflight extends Request, Booking {
  /** Internal id, also the last token of the completion subject; a retry gets a new one. */
  readonly rid: string;
  readonly origin: string;
  readonly group: MeshGroup;
  readonly dispatched: number;
  /** Estimated finish (epoch s, with the fixed overhead). */
  readonly estimatedFinish: number;
  /** Its stage work waited in the outbox (NATS down): its lateness is the outage's. */
  readonly held: boolean;
  readonly timer: NodeJS.Timeout;
}

/** What the requests need of their dispatcher. */
export interface RequestsContext {
  /** The dispatcher's id, in error messages. */
  readonly dispatcher: string;
  readonly log: Logger;
  readonly table: GroupTable;
  readonly health: GroupHealth;
  /** Stage work and client replies: held while NATS is down instead of dropped. */
  readonly outbox: Outbox;
  /** `ms.dispatch.<dispatcher>.`: completions arrive on it plus a request's rid. */
  readonly completionBase: string;
  /**
   * Appended to every request id: stage shards key their partial results by it, and requests of
   * several dispatchers meet in the same groups. The random end of the dispatcher's ULID.
   */
  readonly ridSuffix: string;
  /** Length of `ms.infer.`, to cut the model name out of a subject. */
  readonly inferPrefixLength: number;
  readonly options: { readonly graceMs: number; readonly noSloTimeoutMs: number };
  /** The smallest back-off after "no responders" (s). */
  readonly probeInterval: number;
  counter(model: string): ModelCounters;
  /** A request was booked on `group` at `t` (other dispatchers hear of it). */
  booked(group: MeshGroup, model: string, t: number): void;
  /** A request of `model` was served by `group` in `seconds`. */
  served(model: string, group: string, seconds: number): void;
  /** Pings a device now (its group had "no responders"). */
  probe(device: string): void;
  /** Who may answer a request off its own completion path (timeouts, retries, orphans). */
  readonly claims: Claims;
  /** Acknowledges a completion (or orphan) to the worker that sent it, once it is handled. */
  ack(msg: Msg): void;
  /** Whether the registry still lists the dispatcher `id` alive (true when it cannot tell). */
  alive(id: string): Promise<boolean>;
  /** Time left (ms) in which "no responders" may only mean that the others are still reconnecting. */
  settleLeftMs(): number;
  /** The server's max payload, once connected. */
  maxPayload(): number | undefined;
}

/** How long an unacknowledged orphan waits for its owner to be declared dead, and how often it looks (ms). */
const ORPHAN_OWNER_WAIT_MS = 30_000;
const ORPHAN_OWNER_POLL_MS = 200;

export class Requests {
  /** Booked requests by rid. */
  readonly inflight = new Map<string, Inflight>();
  /** Requests of other dispatchers answered here (their owner was gone when they completed). */
  adopted = 0;
  /** Requests left to another dispatcher, which had claimed them (adopted an orphaned completion). */
  yielded = 0;
  private nextRid = 0;
  /** Claims still in flight (awaited on stop). */
  private readonly claiming = new Set<Promise<void>>();
  /** Orphans taken here lately (`owner:origin`, two generations): one sent twice is answered once. */
  private adoptedNow = new Set<string>();
  private adoptedBefore = new Set<string>();

  constructor(private readonly c: RequestsContext) {}

  /**
   * Runs `answer` once this dispatcher holds the claim on `inf`: at once when it does already,
   * never when another dispatcher adopted the request (then its reply is theirs).
   */
  #whenClaimed(inf: Inflight, answer: (claimed: Inflight) => void): void {
    if (inf.claimed) {
      answer(inf);
      return;
    }
    const p = this.c.claims
      .claim(this.c.dispatcher, inf.origin)
      .then((won) => {
        if (won) answer({ ...inf, claimed: true });
        else {
          this.yielded++;
          this.c.log.info({ rid: inf.rid, id: inf.id }, 'request answered by another dispatcher (adopted)');
        }
      })
      .catch((err: unknown) => this.c.log.error({ err, rid: inf.rid }, 'answering a claimed request failed'))
      .finally(() => this.claiming.delete(p));
    this.claiming.add(p);
  }

  /** Resolves once every claim started so far has settled (and its answer, if any, was sent). */
  async settled(): Promise<void> {
    while (this.claiming.size) await Promise.all([...this.claiming]);
  }

  /**
   * Routes a request again (once, while its deadline allows) after its group failed it; else answers
   * with the failure.
   */
  retry(inf: Inflight, why: string): void {
    this.release(inf);
    inf.group.errors++;
    this.#whenClaimed(inf, (claimed) => this.#retryClaimed(claimed, why));
  }

  #retryClaimed(inf: Inflight, why: string): void {
    const groups = this.c.table.routesFor(inf.model);
    if (inf.retriedFrom !== undefined) {
      this.finishError(inf, `${why} (after a retry from group ${inf.retriedFrom})`);
      return;
    }
    if (nowSeconds() >= inf.deadline) {
      this.finishError(inf, `${why}; its deadline has passed, no retry`);
      return;
    }
    if (!groups) {
      this.finishError(inf, `${why}; model "${inf.model}" is no longer served`);
      return;
    }
    // Booked again under a fresh id: a late completion from the failed group can no longer answer it.
    const { id, model, reply, encoding, arrival, deadline, input, origin } = inf;
    this.#route(
      { id, model, reply, encoding, arrival, deadline, input, retriedFrom: inf.group.id, origin, claimed: true },
      groups,
      nowSeconds(),
      { why, failed: inf },
    );
  }

  /** A message on `ms.infer.<model>`: answered at once, or booked on a group. */
  take(msg: Msg): void {
    // Held by a standby while no dispatcher was subscribed: its deadline runs from when it came.
    const arrival = nowSeconds() - heldForMs(msg) / 1000;
    let taken: ReturnType<typeof readRequest>;
    let counted = false;
    try {
      taken = readRequest(msg, this.c.inferPrefixLength);
      if (!taken) {
        this.c.log.debug({ subject: msg.subject }, 'request without a reply subject dropped');
        return;
      }
      if (!taken.ok) {
        this.#answerError(taken.reply, taken.encoding, taken.id, taken.model, arrival, taken.reason);
        return;
      }
      const { reply, encoding, model, request } = taken;
      const id = request.id ?? newId();
      const groups = this.c.table.routesFor(model);
      if (!groups) {
        this.#answerError(reply, encoding, id, model, arrival, notServed(model, this.c.table.servedModels()));
        return;
      }
      const counters = this.c.counter(model);
      counters.requests++;
      counters.windowRequests++;
      counted = true;
      const deadline = request.slo === undefined ? Infinity : arrival + request.slo;
      this.#route({ id, model, reply, encoding, arrival, deadline, input: request.input }, groups, arrival);
    } catch (err) {
      this.c.log.error({ err, subject: msg.subject }, 'request handling failed');
      if (!msg.reply) return;
      const id = taken?.ok ? (taken.request.id ?? '') : (taken?.id ?? '');
      const why = `internal error: ${(err as Error).message}`;
      this.#answerError(msg.reply, taken?.encoding ?? 'msgpack', id, taken?.model ?? '', arrival, why, counted);
    }
  }

  /**
   * Admits `req` at `t` on the group with the earliest finish, or answers it. `retry`: why it is
   * routed again, and the booking that failed (an error reply names that group).
   */
  #route(req: Request, groups: readonly MeshGroup[], t: number, retry?: { why: string; failed: Inflight }): void {
    const decision = admit(
      groups,
      req.model,
      t,
      req.deadline,
      (g) => this.c.table.routable(g, t),
      (g) => this.c.health.readmit(g),
    );
    const failed = retry && { ...req, group: retry.failed.group, dispatched: retry.failed.dispatched };
    if (decision.kind === 'no-group') {
      this.finishError(failed ?? req, `${retry ? `${retry.why}; ` : ''}no live group serves model "${req.model}"`);
      return;
    }
    const { group, finish } = decision;
    if (decision.kind === 'reject' && failed) {
      const late = ms(finish - req.deadline).toFixed(1);
      this.finishError(failed, `${retry.why}; a retry on group ${group.id} would finish ${late} ms past the deadline`);
      return;
    }
    if (decision.kind === 'reject') {
      this.c.counter(req.model).rejected++;
      group.routed++;
      const slo = ms(req.deadline - req.arrival).toFixed(1);
      sendReply(this.c.outbox, this.c.log, req.reply, req.encoding, {
        id: req.id,
        model: req.model,
        status: 'rejected',
        group: group.id,
        reason: `earliest estimated finish ${ms(finish - req.arrival).toFixed(1)} ms (group ${group.id}) exceeds the SLO of ${slo} ms`,
        timings: timings(req.arrival, { estimatedFinish: finish }),
      });
      return;
    }
    const estimatedFinish = group.latency.commit(req.model, t);
    this.c.booked(group, req.model, t);
    group.routed++;
    group.inflight++;
    const rid = (this.nextRid++).toString(36) + this.c.ridSuffix;
    const origin = req.origin ?? rid;
    const timeoutMs =
      req.deadline === Infinity
        ? this.c.options.noSloTimeoutMs
        : (req.deadline - nowSeconds()) * 1000 + this.c.options.graceMs;
    // One literal of one shape (no spread): the hot path reads these fields on every completion.
    const inf: Inflight = {
      id: req.id,
      model: req.model,
      reply: req.reply,
      encoding: req.encoding,
      arrival: req.arrival,
      deadline: req.deadline,
      input: req.input,
      retriedFrom: req.retriedFrom,
      origin,
      claimed: req.claimed,
      rid,
      group,
      estimatedFinish,
      estimatedExit: estimatedFinish - group.latency.clocks.overhead,
      shiftAtCommit: group.shift,
      dispatched: nowSeconds(),
      held: this.c.outbox.holding,
      timer: setTimeout(() => this.#timedOut(rid), Math.max(0, timeoutMs)),
    };
    this.inflight.set(rid, inf);
    const client: ClientRoute = {
      reply: req.reply,
      id: req.id,
      encoding: req.encoding,
      arrival: req.arrival,
      origin,
      ...(req.deadline === Infinity ? {} : { deadline: req.deadline }),
      ...(req.retriedFrom === undefined ? {} : { retriedFrom: req.retriedFrom }),
    };
    const work: StageWork = {
      rid,
      model: req.model,
      group: group.id,
      stage: 0,
      input: req.input,
      done: this.c.completionBase + rid,
      client,
    };
    try {
      // The reply subject turns a vanished stage into an immediate "no responders" at `done`.
      this.c.outbox.publish(group.firstStage, encode(work), { reply: work.done });
    } catch (err) {
      this.release(inf);
      const max = this.c.maxPayload();
      const tooLarge = /max_payload/.test((err as Error).message) && max !== undefined;
      this.finishError(
        inf,
        tooLarge
          ? `input too large: the stage message exceeds the NATS max payload of ${max} bytes (send large tensors in chunks or raise max_payload)`
          : `could not dispatch: ${(err as Error).message}`,
      );
    }
  }

  /** A message on the dispatcher's completion subject. */
  complete(msg: Msg): void {
    const rid = msg.subject.slice(this.c.completionBase.length);
    const inf = this.inflight.get(rid);
    if (!inf) {
      // Already answered (timeout, retry) or sent again: the error settles it for the worker too.
      const message = `no request "${rid}" is in flight at dispatcher ${this.c.dispatcher}`;
      respondError(msg, { name: 'UnknownRequestError', message, code: 'UNKNOWN_REQUEST' }, this.c.log);
      return;
    }
    if (isNoResponders(msg)) {
      this.#noResponders(inf);
      return;
    }
    let done: Completion;
    try {
      done = parseOrThrow(Completion, decode(msg.data), 'completion');
    } catch (err) {
      this.c.log.warn({ err, rid }, 'invalid completion');
      respondMalformed(msg, 'completion', err, this.c.log);
      return; // the request's timer answers it
    }
    this.#completed(inf, done);
    this.c.ack(msg);
  }

  /**
   * A completion offered on `ms.dispatch.orphan.<owner>` because its owner was not subscribed:
   * our own (we were reconnecting) is completed as usual; another dispatcher's is answered here
   * if we win its claim.
   */
  adopt(msg: Msg): void {
    let orphan: Orphan;
    try {
      orphan = parseOrThrow(Orphan, decode(msg.data), 'orphaned completion');
    } catch (err) {
      this.c.log.warn({ err }, 'invalid orphaned completion');
      respondMalformed(msg, 'orphaned completion', err, this.c.log);
      return;
    }
    this.c.ack(msg);
    if (orphan.owner === this.c.dispatcher) {
      // Ours, offered while we were not subscribed: another dispatcher may take a copy, so claim it.
      const inf = this.inflight.get(orphan.completion.rid);
      if (!inf) return; // answered already (a timeout or a retry)
      this.#whenClaimed(inf, () => {
        if (this.inflight.get(inf.rid) === inf) this.#completed(inf, orphan.completion);
      });
      return;
    }
    const key = `${orphan.owner}:${orphan.client.origin}`;
    if (this.adoptedNow.has(key) || this.adoptedBefore.has(key)) return; // sent again: answered once
    if (this.adoptedNow.size >= 10_000) {
      this.adoptedBefore = this.adoptedNow;
      this.adoptedNow = new Set();
    }
    this.adoptedNow.add(key);
    const p = this.#adopt(orphan)
      .catch((err: unknown) => this.c.log.error({ err }, 'adopting an orphaned completion failed'))
      .finally(() => this.claiming.delete(p));
    this.claiming.add(p);
  }

  /**
   * Answers another dispatcher's orphan once it holds the claim. An unacknowledged one waits until
   * the owner is known dead: alive, it may have answered already (only its acknowledgement was lost).
   */
  async #adopt(orphan: Orphan): Promise<void> {
    if (orphan.unacknowledged) {
      const until = Date.now() + ORPHAN_OWNER_WAIT_MS;
      while (await this.c.alive(orphan.owner)) {
        if (Date.now() >= until) {
          this.c.log.info({ owner: orphan.owner, rid: orphan.completion.rid }, 'orphan left to its live owner');
          return;
        }
        await new Promise((r) => setTimeout(r, ORPHAN_OWNER_POLL_MS));
      }
    }
    if (await this.c.claims.claim(orphan.owner, orphan.client.origin)) this.#answerOrphan(orphan);
  }

  /** Answers the client of another dispatcher's request from its completion. */
  #answerOrphan({ owner, model, client, completion: done }: Orphan): void {
    this.adopted++;
    const replied = nowSeconds();
    const deadline = client.deadline ?? Infinity;
    // Counted under models this dispatcher serves only: a forged model name must not grow the metrics.
    const counters = this.c.table.routesFor(model) ? this.c.counter(model) : undefined;
    if (counters) counters.requests++;
    const g = this.c.table.get(done.group);
    this.c.log.info({ owner, rid: done.rid, id: client.id }, 'answering a request whose dispatcher is gone');
    if (!done.ok) {
      if (counters) counters.errors++;
      const failed = { ...client, model, group: { id: done.group } };
      sendReply(this.c.outbox, this.c.log, client.reply, client.encoding, {
        ...errorReply(failed, done.error ?? 'stage failed'),
        adoptedFrom: owner,
      });
      return;
    }
    if (g) g.lastOkAt = replied;
    const within = replied <= deadline;
    counters?.served(replied - client.arrival, within);
    if (counters) this.c.served(model, done.group, replied - client.arrival);
    sendReply(this.c.outbox, this.c.log, client.reply, client.encoding, {
      id: client.id,
      model,
      status: 'ok',
      output: done.output,
      group: done.group,
      ...(deadline === Infinity ? {} : { withinSlo: within }),
      ...(client.retriedFrom === undefined ? {} : { retriedFrom: client.retriedFrom }),
      adoptedFrom: owner,
      timings: timings(client.arrival, { start: done.start, finish: done.finish, replied }),
    });
  }

  /** Answers a request of ours from its completion. */
  #completed(inf: Inflight, done: Completion): void {
    const g = inf.group;
    this.release(inf);
    correctFromCompletion(g, inf, done.finish, nowSeconds(), inf.held || done.held === true);
    if (!done.ok) {
      g.errors++;
      this.finishError(inf, done.error ?? 'stage failed');
      return;
    }
    g.ok++;
    g.backoff = 0;
    const replied = nowSeconds();
    g.lastOkAt = replied;
    const within = replied <= inf.deadline;
    this.c.counter(inf.model).served(replied - inf.arrival, within);
    this.c.served(inf.model, g.id, replied - inf.arrival);
    sendReply(this.c.outbox, this.c.log, inf.reply, inf.encoding, {
      id: inf.id,
      model: inf.model,
      status: 'ok',
      output: done.output,
      group: g.id,
      ...(inf.deadline === Infinity ? {} : { withinSlo: within }),
      ...(inf.retriedFrom === undefined ? {} : { retriedFrom: inf.retriedFrom }),
      timings: timings(inf.arrival, {
        dispatched: inf.dispatched,
        start: done.start,
        finish: done.finish,
        estimatedFinish: inf.estimatedFinish,
        replied,
      }),
    });
  }

  /**
   * A stage of the group had nobody subscribed: out of routing for a back-off, its devices pinged
   * at once — a crashed one is then lost and its requests rerouted.
   */
  #noResponders(inf: Inflight): void {
    const g = inf.group;
    const settle = this.c.settleLeftMs();
    if (settle > 0) {
      // We have just reconnected; its workers may not have: try again once they had the time.
      setTimeout(() => {
        if (this.inflight.get(inf.rid) === inf) this.#noResponders(inf);
      }, settle);
      return;
    }
    if (this.c.health.noResponders(g, nowSeconds(), this.c.probeInterval)) for (const d of g.devices) this.c.probe(d);
    this.retry(inf, `group ${g.id} has a stage with no live workers (no responders)`);
  }

  #timedOut(rid: string): void {
    const inf = this.inflight.get(rid);
    if (!inf) return;
    this.release(inf);
    inf.group.errors++;
    this.#whenClaimed(inf, (claimed) =>
      this.finishError(
        claimed,
        `no completion from group ${inf.group.id} by the deadline + ${this.c.options.graceMs} ms grace`,
      ),
    );
  }

  /** Answers every request in flight with an error (the dispatcher stops); resolves once sent. */
  async abandonAll(reason: string): Promise<void> {
    for (const inf of [...this.inflight.values()]) {
      this.release(inf);
      this.#whenClaimed(inf, (claimed) => this.finishError(claimed, reason));
    }
    await this.settled();
  }

  release(inf: Inflight): void {
    if (!this.inflight.delete(inf.rid)) return;
    clearTimeout(inf.timer);
    inf.group.inflight--;
    this.c.table.release(inf.group);
  }

  /** Answers a request taken in with an error; `group` and `dispatched` when it had been booked. */
  finishError(req: Request & Partial<Pick<Inflight, 'group' | 'dispatched'>>, reason: string): void {
    this.c.counter(req.model).errors++;
    sendReply(this.c.outbox, this.c.log, req.reply, req.encoding, errorReply(req, reason));
  }

  /**
   * Errors before a request is taken in (bad body, unknown model). A malformed request for a served
   * model counts as one of its requests (unless `counted` already), answered with an error:
   * requests = ok + rejected + errors.
   */
  #answerError(
    reply: string,
    encoding: Encoding,
    id: string,
    model: string,
    arrival: number,
    reason: string,
    counted = false,
  ): void {
    if (this.c.table.routesFor(model)) {
      const counters = this.c.counter(model);
      if (!counted) counters.requests++;
      counters.errors++;
    }
    sendReply(this.c.outbox, this.c.log, reply, encoding, errorReply({ id, model, arrival }, reason));
  }
}
