// Standing in for the members of a queue group while none is subscribed.
//
// When the only process serving a subject is restarting, the server answers every request
// "no responders" until the new one has subscribed. A supervisor that knows the process died can
// instead join the queue group itself (`hold()`), keep what arrives, and hand it on once the new
// process is subscribed (`release()`): each message is published again to its own subject, with
// its reply subject and headers, plus a header saying how long it was held. What is held is
// bounded in count and age; what does not fit, or waits too long, is handed to `expire`.
import {
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  headers as natsHeaders,
  type Subscription,
} from '@nats-io/transport-node';
import type { Logger } from './log.js';

/** Header added to a message handed on: the milliseconds it was held. */
export const HELD_MS_HEADER = 'Meshserve-Held-Ms';

export interface QueueStandbyOptions {
  subject: string;
  queue: string;
  /** Most messages held. Default 10 000. */
  maxMessages?: number;
  /** Longest a message is held (ms). Default 30 000. */
  maxHoldMs?: number;
  /** Called for a message that cannot be held or handed on (too many, too old, release failed). */
  expire: (msg: Msg, why: string) => void;
  log: Logger;
}

interface HeldMessage {
  readonly msg: Msg;
  readonly at: number;
}

export class QueueStandby {
  private sub: Subscription | undefined;
  private held: HeldMessage[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Messages handed on, and expired, so far. */
  handedOn = 0;
  expired = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly o: QueueStandbyOptions,
  ) {}

  get holding(): boolean {
    return this.sub !== undefined;
  }

  /** Joins the queue group and keeps what arrives (idempotent). Resolves once the server has the subscription. */
  async hold(): Promise<void> {
    if (this.sub || this.nc.isClosed()) return;
    this.sub = this.nc.subscribe(this.o.subject, {
      queue: this.o.queue,
      callback: (err, msg) => {
        if (!err) this.#keep(msg);
      },
    });
    const maxHoldMs = this.o.maxHoldMs ?? 30_000;
    this.timer = setInterval(() => this.#expireOld(maxHoldMs), Math.min(1_000, maxHoldMs));
    this.timer.unref();
    this.o.log.warn({ subject: this.o.subject }, 'no member of the queue group: holding its messages');
    await this.nc.flush().catch(() => undefined);
  }

  /**
   * Leaves the queue group (a member is back) and publishes what it held again, in order. Resolves
   * once the unsubscription reached the server and the messages are sent.
   */
  async release(): Promise<void> {
    const sub = this.sub;
    if (!sub) return;
    this.sub = undefined;
    clearInterval(this.timer);
    sub.unsubscribe();
    // The server must have dropped our subscription before the messages come back to the group.
    await this.nc.flush().catch(() => undefined);
    const held = this.held;
    this.held = [];
    const now = Date.now();
    for (const { msg, at } of held) {
      try {
        this.nc.publish(msg.subject, msg.data, {
          ...(msg.reply ? { reply: msg.reply } : {}),
          headers: withHeldFor(msg, now - at),
        });
        this.handedOn++;
      } catch (err) {
        this.#expire(msg, `could not be handed on: ${(err as Error).message}`);
      }
    }
    if (held.length) this.o.log.info({ messages: held.length }, 'a member is back: held messages handed on');
    await this.nc.flush().catch(() => undefined);
  }

  /** Leaves the queue group; everything held expires with `why`. */
  close(why: string): void {
    if (this.sub && !this.nc.isClosed()) this.sub.unsubscribe();
    this.sub = undefined;
    clearInterval(this.timer);
    const held = this.held;
    this.held = [];
    for (const { msg } of held) this.#expire(msg, why);
  }

  #keep(msg: Msg): void {
    if (this.held.length >= (this.o.maxMessages ?? 10_000)) {
      this.#expire(msg, 'too many messages waiting');
      return;
    }
    this.held.push({ msg, at: Date.now() });
  }

  #expireOld(maxHoldMs: number): void {
    const now = Date.now();
    while (this.held.length && now - this.held[0].at >= maxHoldMs)
      this.#expire(this.held.shift()!.msg, `no member came back within ${maxHoldMs} ms`);
  }

  #expire(msg: Msg, why: string): void {
    this.expired++;
    try {
      this.o.expire(msg, why);
    } catch (err) {
      this.o.log.warn({ err }, 'expiring a held message failed');
    }
  }
}

/** The message's headers (a parse failure leaves them out), plus how long it was held. */
function withHeldFor(msg: Msg, heldMs: number): MsgHdrs {
  const h = natsHeaders();
  let original: MsgHdrs | undefined;
  try {
    original = msg.headers;
  } catch {
    original = undefined;
  }
  if (original) for (const [key, values] of original) for (const v of values) h.append(key, v);
  h.set(HELD_MS_HEADER, String(Math.max(0, Math.round(heldMs))));
  return h;
}

/** The time a message waited at a standby (ms), from its header; 0 when absent or implausible. */
export function heldForMs(msg: Msg, maxMs = 60_000): number {
  let value: string | undefined;
  try {
    value = msg.headers?.get(HELD_MS_HEADER);
  } catch {
    return 0;
  }
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? Math.min(n, maxMs) : 0;
}
