// Actor and request ids are ULIDs: time-ordered, 26 characters, 80 random bits. The ulid package's
// own generator makes a separate crypto call for each of the 16 random characters; in the
// dispatcher bench that was 40% of the dispatcher's CPU. Drawing the same crypto bytes from a
// pooled buffer gives the same randomness at one call per 4 KiB.
import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

const pool = new Uint8Array(4096);
let next = pool.length;

/** A uniform number in [0, 1) with 8 bits of crypto randomness: enough for one base-32 character. */
function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++] / 256;
}

/** A new ULID. */
export function newId(): string {
  return ulid(undefined, pooledRandom);
}
