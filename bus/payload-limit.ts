// NATS refuses a message larger than the server's max_payload with a terse client error. Checking
// first gives an error naming the size and the limit, so a caller can answer the request it
// belongs to with a clear reason instead.
import type { NatsConnection } from '@nats-io/transport-node';
import { BusError } from './errors.js';

export class PayloadTooLargeError extends BusError {
  override name = 'PayloadTooLargeError';
  constructor(
    /** What the message carries, e.g. "the activation for stage 1". */
    readonly what: string,
    readonly bytes: number,
    readonly maxPayload: number,
  ) {
    super(`${what} is ${bytes} bytes, over the NATS max payload of ${maxPayload} bytes`);
  }
}

/** Throws PayloadTooLargeError when `data` exceeds the server's max payload (known once connected). */
export function assertWithinLimit(nc: NatsConnection, data: Uint8Array, what: string): void {
  const max = nc.info?.max_payload;
  if (max !== undefined && data.byteLength > max) throw new PayloadTooLargeError(what, data.byteLength, max);
}
