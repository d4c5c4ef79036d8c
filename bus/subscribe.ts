// Subscriptions whose handler can never break the connection.
//
// nats.js runs subscription callbacks inside its socket reader: a callback that throws ends the
// reader ("reader closed" on the console) and leaves the connection open but deaf — no
// reconnect, no error event, while the process keeps heartbeating in Redis and so looks alive.
// Malformed input (e.g. a header block nats.js cannot parse, which the server passes through)
// must therefore never reach nats.js as an exception: every subscription goes through here.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from './log.js';

export interface SafeSubscribeOptions {
  queue?: string;
  /** Where handler failures are logged. */
  log: Logger;
  /** What the subscription is for, in log lines. */
  what: string;
}

/** Subscribes with a handler whose throws and rejections are logged, never propagated. */
export function safeSubscribe(
  nc: NatsConnection,
  subject: string,
  handler: (msg: Msg) => void | Promise<void>,
  o: SafeSubscribeOptions,
): Subscription {
  const failed = (err: unknown, msg: Msg): void =>
    o.log.error({ err, subject: msg.subject }, `${o.what}: handler failed`);
  return nc.subscribe(subject, {
    queue: o.queue,
    callback: (err, msg) => {
      if (err) {
        o.log.warn({ err, subject }, `${o.what}: subscription error`);
        return;
      }
      try {
        const pending = handler(msg);
        if (pending) pending.catch((e: unknown) => failed(e, msg));
      } catch (e) {
        failed(e, msg);
      }
    },
  });
}
