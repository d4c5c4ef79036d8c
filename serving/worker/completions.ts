// Completions that reach a dispatcher even when the one that accepted the request is gone.
//
// A completion is published to its owner's completion subject with a reply subject of this
// worker's own, and the owner acknowledges it (an empty message, or an error when it no longer
// holds the request: either way it is settled). Two things can go wrong:
//   - the owner is not subscribed (its process died, or it is reconnecting): the server answers
//     "no responders" at once. The completion then goes, with the client's route it carried, to
//     `ms.dispatch.orphan.<owner>`, which every dispatcher serves as one queue group;
//   - nothing comes back: a process killed a moment ago still has its connection until the kernel
//     closes it (a few to a hundred milliseconds), and the server delivers into it. The completion
//     is sent again after `resendMs`; by then the server knows, and answers "no responders". Such
//     an orphan is marked `unacknowledged` (the owner may have answered and lost only its
//     acknowledgement), and is adopted only once the owner is known dead.
// While no dispatcher at all is subscribed (a lone dispatcher restarting), an orphan is offered
// again with a growing pause, for a bounded time. A dispatcher that gets a completion twice
// answers its client once.
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { encode, isNoResponders, type Logger, type Outbox, safeSubscribe } from '../../bus/index.js';
import type { ClientRoute, Completion, Orphan } from '../protocol/messages.js';
import type { RuntimeSubjects } from '../protocol/subjects.js';

export interface CompletionSenderOptions {
  nc: NatsConnection;
  /** Completions and orphans are held while this worker is disconnected. */
  outbox: Outbox;
  subjects: RuntimeSubjects;
  log: Logger;
  /** Sent again when not acknowledged within this time (ms). Default 500. */
  resendMs?: number;
  /** How long a completion is offered before it is given up (ms). Default 30 000. */
  giveUpMs?: number;
}

interface Pending {
  readonly token: string;
  /** Where it goes now: its owner's completion subject, then the orphan subject. */
  subject: string;
  data: Uint8Array;
  readonly owner: string;
  readonly model: string;
  readonly client: ClientRoute;
  readonly completion: Completion;
  readonly firstSentAt: number;
  /** When it was last sent (ms); the next send is due `resendMs` after it, or at `dueAt`. */
  sentAt: number;
  /** An orphan nobody took ("no responders" on the orphan subject): its next offer, and the pause after. */
  dueAt?: number;
  pauseMs?: number;
  /** Sent again because a send got no answer at all (the owner may have had it). */
  unanswered?: boolean;
}

const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 500;

export class CompletionSender {
  /** Completions given up (neither the owner nor any dispatcher took them in time). */
  abandoned = 0;
  /** Completions offered to the other dispatchers because their owner was gone. */
  orphaned = 0;
  private readonly inbox = createInbox();
  private readonly sub: Subscription;
  private readonly pending = new Map<string, Pending>();
  private nextToken = 0;
  private readonly sweep: NodeJS.Timeout;
  private readonly resendMs: number;
  private readonly giveUpMs: number;
  /** Last time the outbox was seen holding: nothing held has been sent yet, so nothing is late. */
  private heldUntil = 0;

  constructor(private readonly o: CompletionSenderOptions) {
    this.resendMs = o.resendMs ?? 500;
    this.giveUpMs = o.giveUpMs ?? 30_000;
    this.sub = safeSubscribe(o.nc, `${this.inbox}.*`, (msg) => this.#answer(msg), {
      log: o.log,
      what: 'completion acknowledgements',
    });
    this.sweep = setInterval(() => this.#resendLate(), Math.max(20, Math.floor(this.resendMs / 5)));
    this.sweep.unref();
  }

  /** Completions not acknowledged yet. */
  get unsettled(): number {
    return this.pending.size;
  }

  /**
   * Sends `completion` (encoded as `data`) of a request of `model` to its owner's subject `done`.
   * Without a client route (work from an older dispatcher) it is a plain publish. Throws what the
   * publish throws.
   */
  send(done: string, data: Uint8Array, completion: Completion, model: string, client: ClientRoute | undefined): void {
    const owner = client && this.o.subjects.ownerOf(done);
    if (!client || !owner) {
      this.o.outbox.publish(done, data);
      return;
    }
    const token = (this.nextToken++).toString(36);
    const now = Date.now();
    const p: Pending = { token, subject: done, data, owner, model, client, completion, firstSentAt: now, sentAt: now };
    this.o.outbox.publish(done, data, { reply: `${this.inbox}.${token}` });
    this.pending.set(token, p);
  }

  close(): void {
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    this.pending.clear();
  }

  /** An acknowledgement settles it; "no responders" means nobody took it. */
  #answer(msg: Msg): void {
    const p = this.pending.get(msg.subject.slice(this.inbox.length + 1));
    if (!p) return;
    if (!isNoResponders(msg)) {
      this.pending.delete(p.token);
      return;
    }
    const now = Date.now();
    const orphanSubject = this.o.subjects.orphan(p.owner);
    if (p.subject !== orphanSubject) {
      this.orphaned++;
      this.o.log.info(
        { owner: p.owner, rid: p.completion.rid },
        'completion owner gone: offered to the other dispatchers',
      );
      const orphan: Orphan = {
        owner: p.owner,
        model: p.model,
        client: p.client,
        completion: p.completion,
        ...(p.unanswered ? { unacknowledged: true } : {}),
      };
      p.subject = orphanSubject;
      try {
        p.data = encode(orphan);
      } catch (err) {
        this.pending.delete(p.token);
        this.o.log.warn({ err, rid: p.completion.rid }, 'could not encode an orphaned completion');
        return;
      }
      this.#send(p, now);
      return;
    }
    // No dispatcher at all is subscribed: offered again after a pause.
    const pause = p.pauseMs ?? FIRST_PAUSE_MS;
    p.pauseMs = Math.min(MAX_PAUSE_MS, 2 * pause);
    p.dueAt = now + pause;
  }

  #send(p: Pending, now: number): void {
    if (now - p.firstSentAt >= this.giveUpMs) {
      this.pending.delete(p.token);
      this.abandoned++;
      this.o.log.warn(
        { owner: p.owner, rid: p.completion.rid, afterMs: now - p.firstSentAt },
        'no dispatcher took a completion: given up',
      );
      return;
    }
    p.sentAt = now;
    p.dueAt = undefined;
    try {
      this.o.outbox.publish(p.subject, p.data, { reply: `${this.inbox}.${p.token}` });
    } catch (err) {
      this.pending.delete(p.token);
      this.o.log.warn({ err, subject: p.subject }, 'could not send a completion');
    }
  }

  /** Sends again what is due: orphans after their pause, and whatever got no answer at all. */
  #resendLate(): void {
    const now = Date.now();
    if (this.o.outbox.holding) {
      this.heldUntil = now;
      return;
    }
    for (const p of this.pending.values()) {
      if (p.dueAt !== undefined) {
        if (now >= p.dueAt) this.#send(p, now);
      } else if (now >= Math.max(p.sentAt, this.heldUntil) + this.resendMs) {
        p.unanswered = true;
        this.#send(p, now);
      }
    }
  }
}
