// Dispatchers that share `ms.infer.>` (a queue group) route into the same mesh groups, but each
// books only the requests it routes itself: alone, each would see a fraction of every group's
// queue, admit requests that cannot make their deadline and route into queues it thinks empty.
// So each dispatcher tells the others what it booked and every lateness shift it applied, and
// applies theirs to its own clocks. Notes are batched per event-loop turn, one message per batch,
// and sent only while another dispatcher is known to listen: each announces itself every second
// (an empty batch), so a lone dispatcher pays nothing per request.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decode, encode, parseOrThrow, respondMalformed, safeSubscribe, type Logger } from '../bus/index.js';
import { PeerNotes, type PeerNote } from './protocol.js';

/** Most notes in one message (about 80 bytes each: far below the NATS max payload). */
const MAX_BATCH = 2_000;
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
}

export class DispatcherPeers {
  readonly subscription: Subscription;
  /** Notes sent and received (from other dispatchers), for stats. */
  sent = 0;
  received = 0;
  private pending: PeerNote[] = [];
  private scheduled = false;
  /** Epoch ms until which another dispatcher counts as listening. */
  private peersUntil = 0;
  private readonly announcer: NodeJS.Timeout;

  constructor(private readonly o: DispatcherPeersOptions) {
    this.subscription = safeSubscribe(o.nc, o.subject, (msg) => this.#receive(msg), { log: o.log, what: 'peer notes' });
    this.#announce();
    this.announcer = setInterval(() => this.#announce(), ANNOUNCE_MS);
    this.announcer.unref();
  }

  /** Whether another dispatcher was heard recently (notes are sent only then). */
  get hasPeers(): boolean {
    return Date.now() < this.peersUntil;
  }

  stop(): void {
    clearInterval(this.announcer);
  }

  /** Queues a note for the other dispatchers; sent at the end of this event-loop turn. */
  note(note: PeerNote): void {
    if (!this.hasPeers) return;
    this.pending.push(note);
    if (this.pending.length >= MAX_BATCH) this.#flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #announce(): void {
    try {
      this.o.nc.publish(this.o.subject, encode({ from: this.o.self, notes: [] } satisfies PeerNotes));
    } catch {
      // closed or reconnecting: the next announcement goes out when it can
    }
  }

  #flush(): void {
    this.scheduled = false;
    const notes = this.pending;
    if (!notes.length) return;
    this.pending = [];
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
    if (!this.hasPeers) this.#announce(); // a newcomer: let it hear of us now, not in a second
    this.peersUntil = Date.now() + PEER_TTL_MS;
    this.received += batch.notes.length;
    for (const note of batch.notes) this.o.apply(note);
  }
}
