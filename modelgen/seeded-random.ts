// Seeded pseudo-random numbers for model weights: sfc32 (a small, well-studied 32-bit
// generator) seeded from a 32-bit FNV-1a hash of (seed, key). One stream per key makes every
// weight tensor independent of the order in which tensors are generated.

export function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Returns a generator of uniform floats in [0, 1) for the stream named `key` under `seed`. */
export function seededUniform(seed: number, key: string): () => number {
  let a = fnv1a(key, seed >>> 0);
  let b = fnv1a(`${key}#1`, seed >>> 0);
  let c = fnv1a(`${key}#2`, seed >>> 0);
  let d = 1;
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  // Discard the first outputs: sfc32 mixes poorly right after seeding.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** `count` floats uniform in [centre - halfWidth, centre + halfWidth). */
export function uniformFloats(seed: number, key: string, count: number, halfWidth: number, centre = 0): Float32Array {
  const next = seededUniform(seed, key);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = centre + (2 * next() - 1) * halfWidth;
  return out;
}
