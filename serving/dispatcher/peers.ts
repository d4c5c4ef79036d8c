// Dispatchers that share `ms.infer.>` (a queue group) route into the same mesh groups, but each
// books only the requests it routes itself: alone, each would see a fraction of every group's
// queue, admit requests that cannot make their deadline and route into queues it thinks empty.
// So each dispatcher tells the others what it booked, and they book it too. Lateness is not
// shared: each corrects from its own completions (two dispatchers seeing the same late device
// would otherwise both shift and then apply each other's shift). Notes are batched per
// event-loop turn and sent only while another dispatcher is known to listen; each announces
// itself every second (an empty batch), so a lone dispatcher pays nothing per request. A
// dispatcher heard for the first time (a newcomer, or one back after a gap) is sent each group's
// clocks, so it does not start blind.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decode, encode, type Logger, parseOrThrow, respondMalformed, safeSubscribe } from '../../bus/index.js';
import { type PeerNote, PeerNotes } from '../protocol/messages.js';

/** A batch is sent once its notes reach about this many bytes (far below the NATS max payload). */
const MAX_BATCH_BYTES = 64 * 1024;
/** How often a dispatcher announces itself, and how long a peer counts as present after it was heard. */
const ANNOUNCE_MS = 1_000;
const PEER_TTL_MS = 3_500;

export interface DispatcherPeersOptions {
  nc: NatsConnection;
  subject: string;
  /** This dispatcher's id: its own notes come back to it and are skipped. */
  self: string;
  log: Logger;
  /** Applies another dispatcher's note to this one's estimates. */
  apply: (note: PeerNote) => void;
  /** This dispatcher's view of every group, as `clocks` notes for the dispatcher `to`. */
  snapshot: (to: string) => PeerNote[];
}

export class DispatcherPeers {
  readonly subscription: Subscription;
  /** Notes sent and received (from other dispatchers), for stats. */
  sent = 0;
  received = 0;
  private pending: PeerNote[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  /** Other dispatchers by id, with when each was last heard (epoch ms). */
  private readonly heard = new Map<string, number>();
  private readonly announcer: NodeJS.Timeout;

  constructor(private readonly o: DispatcherPeersOptions) {
    this.subscription = safeSubscribe(o.nc, o.subject, (msg) => this.#receive(msg), { log: o.log, what: 'peer notes' });
    this.#publish([]);
    this.announcer = setInterval(() => this.#announce(), ANNOUNCE_MS);
    this.announcer.unref();
  }

  /** Whether another dispatcher was heard recently (notes are sent only then). */
  get hasPeers(): boolean {
    const now = Date.now();
    for (const at of this.heard.values()) if (now - at < PEER_TTL_MS) return true;
    return false;
  }

  stop(): void {
    clearInterval(this.announcer);
  }

  /** Queues a note for the other dispatchers; sent at the end of this event-loop turn. Callers check hasPeers first. */
  note(note: PeerNote): void {
    this.pending.push(note);
    this.pendingBytes += 64 + note.group.length + (note.kind === 'booked' ? note.model.length : 0);
    if (this.pendingBytes >= MAX_BATCH_BYTES) this.#flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #announce(): void {
    const now = Date.now();
    for (const [id, at] of this.heard) if (now - at >= PEER_TTL_MS) this.heard.delete(id); // gone
    this.#publish([]);
  }

  #flush(): void {
    this.scheduled = false;
    const notes = this.pending;
    if (!notes.length) return;
    this.pending = [];
    this.pendingBytes = 0;
    this.#publish(notes);
  }

  #publish(notes: PeerNote[]): void {
    try {
      // Not through the outbox: notes held over an outage would describe queues long gone.
      this.o.nc.publish(this.o.subject, encode({ from: this.o.self, notes } satisfies PeerNotes));
      this.sent += notes.length;
    } catch (err) {
      this.o.log.warn({ err }, 'could not send peer notes');
    }
  }

  #receive(msg: Msg): void {
    let batch: PeerNotes;
    try {
      batch = parseOrThrow(PeerNotes, decode(msg.data), 'peer notes');
    } catch (err) {
      this.o.log.warn({ err }, 'dropping invalid peer notes');
      respondMalformed(msg, 'peer notes', err, this.o.log); // answered only when it asks for a reply
      return;
    }
    if (batch.from === this.o.self) return;
    const now = Date.now();
    const last = this.heard.get(batch.from);
    this.heard.set(batch.from, now);
    if (last === undefined || now - last >= PEER_TTL_MS) {
      // New to us (or back after a gap): it missed our bookings, so it gets our clocks now.
      this.#publish(this.o.snapshot(batch.from));
    }
    for (const note of batch.notes) {
      if (note.kind === 'clocks' && note.to !== this.o.self) continue;
      this.received++;
      this.o.apply(note);
    }
  }
}
