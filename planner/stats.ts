// Fixed-memory latency statistics: the simulator's memory must not grow with the number of
// requests, so quantiles come from a log-linear histogram instead of a sorted copy.
//
// Bucketing reads the float64 bit pattern: the exponent plus the top MANTISSA_BITS bits of the
// mantissa pick the bucket, so every bucket spans a relative width of 2^-7 and reporting its
// midpoint is within 1/257 (< 0.4%) of any value in it. Values outside [2^-30, 2^30) seconds
// (about 1 ns .. 34 years) are clamped to the end buckets; min and max are tracked exactly and
// bound every reported quantile.

const MANTISSA_BITS = 7;
const MIN_EXPONENT = -30;
const MAX_EXPONENT = 30;
const SHIFT = 20 - MANTISSA_BITS; // the high word holds 20 mantissa bits
const BASE = (1023 + MIN_EXPONENT) << MANTISSA_BITS;
const BUCKETS = (MAX_EXPONENT - MIN_EXPONENT) << MANTISSA_BITS;

/** How a value's high word maps to a bucket, for the simulator's WebAssembly kernel (planner/kernel/). */
export const HISTOGRAM_LAYOUT = { shift: SHIFT, base: BASE, buckets: BUCKETS } as const;

/** Relative error bound of a reported quantile (half a bucket's relative width). */
export const QUANTILE_RELATIVE_ERROR = 1 / (2 * (1 << MANTISSA_BITS) + 1);

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
// Index of the word holding sign, exponent and the top mantissa bits.
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

function bucketOf(x: number): number {
  scratch[0] = x;
  const b = (scratchWords[HIGH_WORD] >>> SHIFT) - BASE;
  return b < 0 ? 0 : b >= BUCKETS ? BUCKETS - 1 : b;
}

function bucketLow(b: number): number {
  const e = (b >> MANTISSA_BITS) + MIN_EXPONENT;
  const m = b & ((1 << MANTISSA_BITS) - 1);
  return 2 ** e * (1 + m / (1 << MANTISSA_BITS));
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  add(x: number): void {
    this.counts[bucketOf(x)]++;
    this.count++;
    this.sum += x;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  /** Takes the state of a histogram filled elsewhere (the simulator's kernel), bucket by bucket. */
  restore(counts: ArrayLike<number>, count: number, sum: number, min: number, max: number): void {
    if (counts.length !== BUCKETS) throw new Error(`histogram: expected ${BUCKETS} buckets, got ${counts.length}`);
    this.counts.set(counts);
    this.count = count;
    this.sum = sum;
    this.min = min;
    this.max = max;
  }

  get mean(): number {
    return this.count ? this.sum / this.count : NaN;
  }

  /** Nearest-rank quantile (q in [0, 1]), within QUANTILE_RELATIVE_ERROR; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= rank) {
        const mid = 0.5 * (bucketLow(b) + bucketLow(b + 1));
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }
}

/** Nearest-rank quantile (q in [0, 1]) of values sorted ascending; NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Median (mean of the middle two for an even count); throws on no values (a caller bug). */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
