// Maximum-likelihood Gamma fit of inter-arrival gaps (docs/alpaserve.md, "Workloads"): with s = ln(mean) − mean(ln x),
// the shape k solves ln k − ψ(k) = s (Newton's method from the Choi–Wette closed-form start);
// the fitted CV of the gaps is 1/√k.

/** ψ(x) for x > 0: recurrence up to x ≥ 6, then the asymptotic series. */
export function digamma(x: number): number {
  let r = 0;
  while (x < 6) {
    r -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  return r + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))));
}

/** ψ'(x) for x > 0, same approach. */
export function trigamma(x: number): number {
  let r = 0;
  while (x < 6) {
    r += 1 / (x * x);
    x += 1;
  }
  const f = 1 / (x * x);
  return r + 1 / x + f / 2 + (f / x) * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f / 30)));
}

/** Gaps shorter than this (simultaneous timestamps) are raised to it before taking logarithms. */
export const MIN_GAP = 1e-6;

export interface GammaFit {
  readonly rate: number;
  readonly shape: number;
  readonly cv: number;
}

/** MLE fit of i.i.d. gaps; undefined when there are fewer than 2 gaps or they are all equal. */
export function fitGammaGaps(gaps: ArrayLike<number>): GammaFit | undefined {
  const n = gaps.length;
  if (n < 2) return undefined;
  let sum = 0;
  let logSum = 0;
  for (let i = 0; i < n; i++) {
    const g = Math.max(MIN_GAP, gaps[i]);
    sum += g;
    logSum += Math.log(g);
  }
  const mean = sum / n;
  const s = Math.log(mean) - logSum / n;
  if (!(s > 1e-12)) return undefined; // no spread: a deterministic process, shape → ∞
  let k = (3 - s + Math.sqrt((s - 3) * (s - 3) + 24 * s)) / (12 * s);
  for (let it = 0; it < 50; it++) {
    const step = (Math.log(k) - digamma(k) - s) / (1 / k - trigamma(k));
    let next = k - step;
    if (next <= 0) next = k / 2;
    if (Math.abs(next - k) < 1e-12 * k) {
      k = next;
      break;
    }
    k = next;
  }
  return { rate: 1 / mean, shape: k, cv: 1 / Math.sqrt(k) };
}
