// Publishing that survives a NATS outage.
//
// nats.js v3 does not buffer while disconnected: every reconnect attempt resets its outbound
// buffer, so whatever is published during an outage is dropped without an error. Messages that
// must not vanish (replies to clients, completions of work in progress) go through an Outbox: sent
// at once while connected, held while not — up to a bound, the oldest dropped first — and sent
// after the reconnect. Not at once: after a server restart every client reconnects on its own
// schedule, and a message sent before its receiver has resubscribed is dropped by the server. So
// held messages leave `settleMs` after the reconnect (what arrives meanwhile queues behind them).
import type { PublishOptions } from '@nats-io/transport-node';
import type { Logger } from './log.js';
import type { ConnectionState } from './types.js';

export interface OutboxOptions {
  /** Most messages held during an outage. Default 10 000. */
  maxMessages?: number;
  /** Most payload bytes held. Default 8 MiB. */
  maxBytes?: number;
  /** Wait after the reconnect before sending what was held (ms): other clients resubscribing. Default 500. */
  settleMs?: number;
  log: Logger;
}

interface Held {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly options: Partial<PublishOptions> | undefined;
}

export class Outbox {
  private held: Held[] = [];
  private heldBytes = 0;
  private dropped = 0;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly settleMs: number;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly onReconnect = (): void => {
    if (!this.held.length) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.flush(), this.settleMs);
  };

  constructor(
    private readonly conn: ConnectionState,
    private readonly o: OutboxOptions,
  ) {
    this.maxMessages = o.maxMessages ?? 10_000;
    this.maxBytes = o.maxBytes ?? 8 * 2 ** 20;
    this.settleMs = o.settleMs ?? 500;
    conn.events.on('reconnect', this.onReconnect);
  }

  /** Messages waiting for the connection. */
  get pending(): number {
    return this.held.length;
  }

  /** Whether a message published now would wait (the connection is down, or others wait before it). */
  get holding(): boolean {
    return !this.conn.connected || this.held.length > 0;
  }

  /**
   * Publishes now, or holds the message until the connection is back. Throws what nats.js throws for a
   * bad subject or payload.
   */
  publish(subject: string, data: Uint8Array, options?: Partial<PublishOptions>): void {
    if (this.conn.connected && !this.held.length) {
      this.conn.nats.publish(subject, data, options);
      return;
    }
    this.held.push({ subject, data, options });
    this.heldBytes += data.length;
    while (this.held.length > this.maxMessages || (this.heldBytes > this.maxBytes && this.held.length > 1)) {
      this.heldBytes -= this.held.shift()!.data.length;
      this.dropped++;
    }
  }

  close(): void {
    clearTimeout(this.flushTimer);
    this.conn.events.off('reconnect', this.onReconnect);
  }

  private flush(): void {
    if (!this.conn.connected) return; // down again: the next reconnect sends them
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    if (held.length || this.dropped)
      this.o.log.info({ held: held.length, dropped: this.dropped }, 'connection back: sending held messages');
    this.dropped = 0;
    for (const m of held) {
      try {
        this.conn.nats.publish(m.subject, m.data, m.options);
      } catch (err) {
        this.o.log.warn({ err, subject: m.subject }, 'could not send a held message');
      }
    }
  }
}
