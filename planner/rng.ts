// Seeded pseudo-random numbers for the planner. Everything random in planner/ draws from an Rng
// built from an explicit seed, so the same inputs always give the same workload.
//
// Generator: sfc32 (Chris Doty-Humphrey's "small fast chaotic" 32-bit generator, passes PractRand),
// seeded through a 32-bit integer hash so nearby seeds give unrelated streams.

/** A 32-bit avalanche hash (the MurmurHash3 finaliser). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Second Box–Muller variate, kept for the next normal() call. */
  private spareNormal = NaN;

  constructor(readonly seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number, got ${seed}`);
    // Fold the (possibly non-integer or > 32-bit) seed into 32-bit words.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    this.a = mix32(lo ^ 0x9e3779b9);
    this.b = mix32(hi ^ 0x7f4a7c15);
    this.c = mix32(lo + 0x6a09e667);
    this.d = 1;
    for (let i = 0; i < 16; i++) this.nextUint32();
  }

  /** An independent generator for sub-stream `stream` (e.g. one per model), stable under reordering. */
  fork(stream: number): Rng {
    const lo = this.seed >>> 0;
    const hi = Math.floor(this.seed / TWO_POW_32) >>> 0;
    // Stays below 2^53 so the child seed is an exact integer.
    return new Rng(mix32(lo ^ mix32(stream ^ 0x632be5ab)) + TWO_POW_32 * (mix32(hi + stream) & 0x1fffff));
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform in (0, 1): safe to take the logarithm of. */
  nextOpen(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return u;
  }

  /** Standard normal (Box–Muller, both variates used). */
  normal(): number {
    const spare = this.spareNormal;
    if (!Number.isNaN(spare)) {
      this.spareNormal = NaN;
      return spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.nextOpen()));
    const theta = 2 * Math.PI * this.next();
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Exponential with mean 1. */
  exponential(): number {
    return -Math.log(this.nextOpen());
  }

  /**
   * Gamma(shape, scale 1) by Marsaglia–Tsang (2000). For shape < 1 it samples Gamma(shape + 1) and
   * multiplies by U^(1/shape) (the standard boost), which keeps the squeeze test efficient.
   */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new Error(`gamma shape must be > 0, got ${shape}`);
    if (shape < 1) return this.gamma(shape + 1) * this.nextOpen() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const base = 1 + c * x;
      if (base <= 0) continue;
      const v = base * base * base;
      const u = this.nextOpen();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
  }
}
