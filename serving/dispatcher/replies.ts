// The one reply every public request gets, and its timings: epoch ms for the moments, plain ms
// for the durations (the runtime's own clock is epoch seconds).

import { type Encoding, encode, headersFor, type Logger, type Outbox } from '../../bus/index.js';
import { nowSeconds } from '../clock.js';
import type { InferReply } from '../protocol/messages.js';

/** Moments of a request, epoch seconds (absent: did not happen). */
export interface Moments {
  readonly dispatched?: number;
  readonly start?: number;
  readonly finish?: number;
  readonly estimatedFinish?: number;
  readonly replied?: number;
}

/** The reply's timings for a request that arrived at `arrival` (epoch s). */
export function timings(arrival: number, t: Moments): InferReply['timings'] {
  const a = arrival * 1000;
  const replied = (t.replied ?? nowSeconds()) * 1000;
  const out: InferReply['timings'] = { arrival: a, replied, total: replied - a };
  if (t.dispatched !== undefined) out.dispatched = t.dispatched * 1000;
  if (t.start !== undefined) {
    out.start = t.start * 1000;
    out.queue = out.start - a;
  }
  if (t.finish !== undefined) {
    out.finish = t.finish * 1000;
    if (out.start !== undefined) out.service = out.finish - out.start;
  }
  if (t.estimatedFinish !== undefined) out.estimatedFinish = t.estimatedFinish * 1000;
  return out;
}

/** What went wrong with a request, and where (its group, when it had been booked on one). */
export interface Failed {
  readonly id: string;
  readonly model: string;
  readonly arrival: number;
  readonly retriedFrom?: string;
  readonly group?: { readonly id: string };
  readonly dispatched?: number;
}

/** The error reply for a request that failed with `reason`. */
export function errorReply(req: Failed, reason: string): InferReply {
  return {
    id: req.id,
    model: req.model,
    status: 'error',
    reason,
    ...(req.group ? { group: req.group.id } : {}),
    ...(req.retriedFrom === undefined ? {} : { retriedFrom: req.retriedFrom }),
    timings: timings(req.arrival, { dispatched: req.dispatched }),
  };
}

/** Sends a reply in the request's encoding, through the outbox (held while NATS is down). */
export function sendReply(outbox: Outbox, log: Logger, reply: string, encoding: Encoding, body: InferReply): void {
  try {
    outbox.publish(reply, encode(body, encoding), { headers: headersFor(encoding) });
  } catch (err) {
    log.warn({ err }, 'could not send reply');
  }
}
