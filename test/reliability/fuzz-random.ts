// Seeded random pieces of malformed messages: picks, integers, bytes that never decode to an
// object, tokens and header values no component accepts.
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import type { Rng } from '../../planner/rng.js';

const MAP_OR_NIL = new Set([0xc0, 0xde, 0xdf]);

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng.next() * items.length)];
}

export function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

/** Random bytes that cannot decode to an object (so never to a valid request body). */
export function randomBytes(rng: Rng, max = 64): Uint8Array {
  const b = new Uint8Array(int(rng, 1, max));
  for (let i = 0; i < b.length; i++) b[i] = rng.nextUint32() & 0xff;
  while ((b[0] >= 0x80 && b[0] <= 0x8f) || MAP_OR_NIL.has(b[0])) b[0] = rng.nextUint32() & 0xff;
  return b;
}

export function token(rng: Rng, prefix: string): string {
  return `${prefix}${rng.nextUint32().toString(36)}`;
}

export function weirdHeaders(rng: Rng): MsgHdrs {
  const h = natsHeaders();
  h.set(
    'content-type',
    pick(rng, [
      'text/garbage',
      'application/json; charset=binary',
      'application/msgpack',
      '\u00ff\u00fe',
      'x'.repeat(int(rng, 1, 2000)),
    ]),
  );
  if (rng.next() < 0.5) h.set('X-Fuzz', 'y'.repeat(int(rng, 0, 500)));
  return h;
}
