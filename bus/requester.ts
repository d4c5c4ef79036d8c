// Request/reply for actor calls over one shared inbox subscription per connection.
//
// nats.js' `request()` builds two Error objects (with stack traces) per request so that a
// failure has a useful stack; on the loopback hot path that is a third of the client's CPU.
// Calls here publish with a reply subject `<inbox>.<token>` on one wildcard subscription and
// settle a pending entry by token: nothing is allocated for failures that do not happen.
// No-responders is the server's 503 status message to the reply subject (nats.js enables it).
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** Why a request failed without a reply; the caller turns it into a typed error. */
export type RequestFailure = 'timeout' | 'no-responders' | 'closed';

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (reason: RequestFailure) => void;
  timer: NodeJS.Timeout;
}

const NO_RESPONDERS = 503;

/**
 * Whether `msg` is the server's "no responders" status (empty body, code 503). Safe on any
 * message: a header block nats.js cannot parse makes `msg.headers` throw, and that is not a status.
 */
export function isNoResponders(msg: Msg): boolean {
  if (msg.data.length !== 0) return false;
  try {
    return msg.headers?.code === NO_RESPONDERS;
  } catch {
    return false;
  }
}

export class Requester {
  private readonly inbox = createInbox();
  private readonly pending = new Map<string, Pending>();
  private sub: Subscription | undefined;
  private nextToken = 0;

  constructor(readonly nc: NatsConnection) {}

  /** Resolves with the reply; rejects with a RequestFailure string. */
  request(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, timeoutMs: number): Promise<Msg> {
    if (this.nc.isClosed()) return Promise.reject<Msg>('closed' satisfies RequestFailure);
    this.sub ??= this.subscribe();
    const token = (this.nextToken++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject('timeout');
      }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, headers });
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(token);
        throw err; // surfaces as the promise's rejection (e.g. closed connection, bad subject)
      }
    });
  }

  private subscribe(): Subscription {
    const prefixLength = this.inbox.length + 1;
    const sub = this.nc.subscribe(`${this.inbox}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const token = msg.subject.slice(prefixLength);
        const entry = this.pending.get(token);
        if (!entry) return; // late reply after a timeout
        this.pending.delete(token);
        clearTimeout(entry.timer);
        if (isNoResponders(msg)) entry.reject('no-responders');
        else entry.resolve(msg);
      },
    });
    // When the connection closes nothing will answer: fail every waiting call at once.
    void sub.closed.then(() => this.failAll('closed'));
    return sub;
  }

  private failAll(reason: RequestFailure): void {
    for (const [token, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(reason);
      this.pending.delete(token);
    }
  }
}
