// A load client for fault tests and benchmarks: an open loop that tracks every reply by request
// id (lost, duplicated and "no responders" are all visible), and taps on the cluster's events
// (group routing changes, requests accepted by a dispatcher).
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { decode, encode, isNoResponders } from '../../bus/index.js';
import { GroupEvent, InferReply, StageWork } from '../../serving/protocol/messages.js';
import type { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { sleep, until } from './wait.js';

export interface RequestRecord {
  readonly id: string;
  readonly model: string;
  readonly slo: number | undefined;
  /** Epoch ms the client published it. */
  readonly sentAt: number;
  readonly replies: InferReply[];
  /** Epoch ms of the first reply. */
  repliedAt?: number;
  /** The server answered "no responders" (no dispatcher subscribed when it arrived). */
  noResponders: boolean;
}

export interface RequestSpec {
  model: string;
  slo?: number;
}

/**
 * An open-loop client: publishes each request with its own reply subject (`<inbox>.<id>`, one
 * wildcard subscription) and records every reply by request id, so a lost request (no reply), a
 * duplicate (two) and the server's "no responders" are all visible.
 */
export class LoadClient {
  readonly records = new Map<string, RequestRecord>();
  private readonly inbox = createInbox();
  private readonly sub: Subscription;
  private next = 0;
  private closed = false;
  malformedReplies = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: RuntimeSubjects,
    private readonly prefix = 'r',
  ) {
    this.sub = nc.subscribe(`${this.inbox}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const rec = this.records.get(msg.subject.slice(this.inbox.length + 1));
        if (!rec) return;
        if (isNoResponders(msg)) {
          rec.noResponders = true;
          rec.repliedAt ??= Date.now();
          return;
        }
        const parsed = InferReply.safeParse(safeDecode(msg.data));
        if (!parsed.success || parsed.data.id !== rec.id) {
          this.malformedReplies++;
          return;
        }
        rec.replies.push(parsed.data);
        rec.repliedAt ??= Date.now();
      },
    });
  }

  send(spec: RequestSpec): RequestRecord {
    if (this.closed) throw new Error('load client closed');
    const id = `${this.prefix}${this.next++}`;
    const rec: RequestRecord = {
      id,
      model: spec.model,
      slo: spec.slo,
      sentAt: Date.now(),
      replies: [],
      noResponders: false,
    };
    this.records.set(id, rec);
    this.nc.publish(
      this.subjects.infer(spec.model),
      encode({ id, input: { id }, ...(spec.slo === undefined ? {} : { slo: spec.slo }) }),
      { reply: `${this.inbox}.${id}` },
    );
    return rec;
  }

  /** Sends at `rate` requests/s for `durationMs` (paced from the start time, so a late timer catches up). */
  async paced(rate: number, durationMs: number, pick: (i: number) => RequestSpec, stop?: () => boolean): Promise<void> {
    const start = Date.now();
    let sent = 0;
    while (!stop?.() && !this.closed) {
      const elapsed = Date.now() - start;
      if (elapsed >= durationMs) break;
      const due = Math.floor((elapsed / 1000) * rate);
      for (; sent < due; sent++) this.send(pick(sent));
      await sleep(4);
    }
  }

  /** Sends at `rate` until the returned function is called; it resolves once sending has stopped. */
  steady(rate: number, pick: (i: number) => RequestSpec): () => Promise<void> {
    let stopped = false;
    const sending = this.paced(rate, Infinity, pick, () => stopped);
    return async () => {
      stopped = true;
      await sending;
    };
  }

  /** Waits until every request has a reply, or `timeoutMs` passed; then a little longer for duplicates. */
  async settle(timeoutMs: number, graceMs = 300): Promise<void> {
    await until('every request to be answered', () => this.unanswered().length === 0, timeoutMs).catch(() => undefined);
    await sleep(graceMs);
  }

  /** Requests with neither a reply nor a "no responders" from the server. */
  unanswered(): RequestRecord[] {
    return [...this.records.values()].filter((r) => r.replies.length === 0 && !r.noResponders);
  }

  duplicates(): RequestRecord[] {
    return [...this.records.values()].filter((r) => r.replies.length > 1);
  }

  /** Stops its senders and its reply subscription (call it in a finally). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.nc.isClosed()) this.sub.unsubscribe();
  }
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return decode(data);
  } catch {
    return undefined;
  }
}

export type StatusCounts = Record<'ok' | 'rejected' | 'error' | 'noResponders' | 'none', number>;

/** First answer of each request: a reply status, the server's "no responders", or none. */
export function statusCounts(records: Iterable<RequestRecord>): StatusCounts {
  const counts: StatusCounts = { ok: 0, rejected: 0, error: 0, noResponders: 0, none: 0 };
  for (const r of records) counts[r.replies[0]?.status ?? (r.noResponders ? 'noResponders' : 'none')]++;
  return counts;
}

/** SLO attainment (served within the SLO / sent) of the requests sent in [from, to) epoch ms. */
export function attainment(
  records: Iterable<RequestRecord>,
  from: number,
  to: number,
): { sent: number; attainment: number } {
  let sent = 0;
  let good = 0;
  for (const r of records) {
    if (r.sentAt < from || r.sentAt >= to) continue;
    sent++;
    const reply = r.replies[0];
    if (reply?.status === 'ok' && reply.withinSlo !== false) good++;
  }
  return { sent, attainment: sent ? good / sent : NaN };
}

/**
 * The longest wait for a first answer among the requests sent and answered in the `spanMs` before
 * `t`: how long before `t` a request could still be in flight under the load of the moment, so how
 * far back a server killed at `t` can lose what was passing through it.
 */
export function longestAnswerBefore(records: Iterable<RequestRecord>, t: number, spanMs = 2_000): number {
  let longest = 0;
  for (const r of records)
    if (r.sentAt >= t - spanMs && r.repliedAt !== undefined && r.repliedAt < t)
      longest = Math.max(longest, r.repliedAt - r.sentAt);
  return longest;
}

/**
 * The requests some dispatcher accepted (booked on a group): client id → the dispatcher that sent
 * its first stage work (every `ms.group.*.stage.0` message is read on the side).
 */
export function recordAccepted(
  nc: NatsConnection,
  subjects: RuntimeSubjects,
): { accepted: Map<string, string>; stop(): void } {
  const accepted = new Map<string, string>();
  const sub = nc.subscribe(`${subjects.prefix}.group.*.stage.0`, {
    callback: (err, msg) => {
      if (err) return;
      const work = StageWork.safeParse(safeDecode(msg.data));
      const owner = work.success ? subjects.ownerOf(work.data.done) : undefined;
      if (work.success && work.data.client && owner) accepted.set(work.data.client.id, owner);
    },
  });
  return { accepted, stop: () => sub.unsubscribe() };
}

/** Group events (`ms.events.group.*`) as they arrive, for measuring when routing changed. */
export function recordGroupEvents(
  nc: NatsConnection,
  subjects: RuntimeSubjects,
): { events: GroupEvent[]; stop(): void } {
  const events: GroupEvent[] = [];
  const sub = nc.subscribe(`${subjects.event('group')}.*`, {
    callback: (err, msg) => {
      if (err) return;
      const parsed = GroupEvent.safeParse(safeDecode(msg.data));
      if (parsed.success) events.push(parsed.data);
    },
  });
  return { events, stop: () => sub.unsubscribe() };
}

export const fmtMs = (ms: number): string => `${ms.toFixed(0)} ms`;
