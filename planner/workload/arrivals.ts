// Arrival processes (docs/alpaserve.md, "Workloads"): i.i.d. inter-arrival gaps drawn from Gamma(shape 1/cv², scale
// cv²/rate), so the process has the given mean rate and coefficient of variation of the gaps;
// cv = 1 is Poisson (exponential gaps, sampled directly).
import type { Rng } from '../rng.js';

export interface ArrivalProcess {
  /** Mean arrivals per second. */
  readonly rate: number;
  /** Coefficient of variation of the gaps (1 = Poisson). */
  readonly cv: number;
}

/** An append-only Float64Array that doubles its capacity as needed. */
export class Float64Builder {
  private buf: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.buf = new Float64Array(Math.max(1, capacity));
  }

  push(x: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = x;
  }

  /** A right-sized copy. */
  toArray(): Float64Array {
    return this.buf.slice(0, this.length);
  }
}

function checkProcess({ rate, cv }: ArrivalProcess): void {
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new Error(`arrival rate must be a finite number ≥ 0, got ${rate}`);
  if (!(cv > 0) || !Number.isFinite(cv)) throw new Error(`arrival CV must be a finite number > 0, got ${cv}`);
}

/**
 * Where a process stands between windows: the distance to its next arrival in expected arrivals
 * (operational time, rate × seconds). Carrying it across windows keeps one renewal process going
 * instead of restarting it at each window start, which would add about (cv² − 1)/2 arrivals per
 * window (renewal theory) and badly inflate short windows of bursty, low-rate models.
 */
export interface ArrivalCarry {
  /** NaN until the first window has drawn a gap. */
  pending: number;
}

export function newArrivalCarry(): ArrivalCarry {
  return { pending: NaN };
}

/** One gap in operational time (mean 1). */
function unitGap(rng: Rng, cv: number): number {
  return cv === 1 ? rng.exponential() : rng.gamma(1 / (cv * cv)) * cv * cv;
}

/**
 * Appends the arrivals of one process in [start, end) to `out` and returns how many were added.
 * Without `carry` the first gap is measured from `start`; with it the process continues from the
 * previous window (its pending gap rescaled to this window's rate), and `carry` is updated.
 */
export function appendArrivals(
  rng: Rng,
  process: ArrivalProcess,
  start: number,
  end: number,
  out: Float64Builder,
  carry?: ArrivalCarry,
): number {
  checkProcess(process);
  const { rate, cv } = process;
  if (rate === 0 || !(end > start)) return 0;
  const before = out.length;
  if (carry) {
    let t = start;
    let gap = Number.isNaN(carry.pending) ? unitGap(rng, cv) : carry.pending;
    for (;;) {
      t += gap / rate;
      if (t >= end) {
        carry.pending = (t - end) * rate;
        break;
      }
      out.push(t);
      gap = unitGap(rng, cv);
    }
    return out.length - before;
  }
  let t = start;
  if (cv === 1) {
    const mean = 1 / rate;
    for (;;) {
      t += rng.exponential() * mean;
      if (t >= end) break;
      out.push(t);
    }
  } else {
    const shape = 1 / (cv * cv);
    const scale = (cv * cv) / rate;
    for (;;) {
      t += rng.gamma(shape) * scale;
      if (t >= end) break;
      out.push(t);
    }
  }
  return out.length - before;
}

/** Arrival times of one process over [start, end). */
export function arrivals(rng: Rng, process: ArrivalProcess, start: number, end: number): Float64Array {
  const out = new Float64Builder(Math.min(1 << 24, Math.ceil(process.rate * Math.max(0, end - start) * 1.1) + 16));
  appendArrivals(rng, process, start, end, out);
  return out.toArray();
}
