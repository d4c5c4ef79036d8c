// Headline numbers of a sweep (docs/alpaserve.md, "The paper's experiments and claims"): for each
// system, the x at which it reaches 99% attainment, and AlpaServe's ratio to each baseline. Where
// attainment rises with x (devices, SLO scale) that is the smallest x reaching the target; where it
// falls with x (rate, CV) the largest x still meeting it. The crossing is interpolated linearly
// between neighbouring sweep points; when it lies outside the sweep the result says so (a bound, not a
// value).

export type Direction = 'rising' | 'falling';

export interface Threshold {
  /** The interpolated crossing, or the sweep's end when it is only a bound. */
  readonly x: number;
  /** 'exact' = inside the sweep; 'below' = the crossing is < x; 'above' = it is > x. */
  readonly bound: 'exact' | 'below' | 'above';
}

export function threshold(
  points: readonly (readonly [number, number])[],
  direction: Direction,
  target = 0.99,
): Threshold | undefined {
  const pts = [...points].filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
  if (pts.length === 0) return undefined;
  const ok = (y: number) => y >= target - 1e-12;
  if (direction === 'rising') {
    const i = pts.findIndex(([, y]) => ok(y));
    if (i < 0) return { x: pts[pts.length - 1][0], bound: 'above' };
    if (i === 0) return { x: pts[0][0], bound: 'below' };
    const [xa, ya] = pts[i - 1];
    const [xb, yb] = pts[i];
    return { x: xa + ((target - ya) / (yb - ya)) * (xb - xa), bound: 'exact' };
  }
  const i = pts.findIndex(([, y]) => !ok(y));
  if (i < 0) return { x: pts[pts.length - 1][0], bound: 'above' };
  if (i === 0) return { x: pts[0][0], bound: 'below' };
  const [xa, ya] = pts[i - 1];
  const [xb, yb] = pts[i];
  return { x: xa + ((ya - target) / (ya - yb)) * (xb - xa), bound: 'exact' };
}

export function formatThreshold(t: Threshold | undefined): string {
  if (!t) return 'n/a';
  const v = Number(t.x.toPrecision(3));
  return t.bound === 'exact' ? String(v) : t.bound === 'below' ? `≤ ${v}` : `> ${v}`;
}

/**
 * How much better AlpaServe is than a baseline: for falling sweeps alpa/baseline (e.g. 10× the
 * rate), for rising ones baseline/alpa (e.g. 2.5× tighter SLO). A prefix says when it is a bound.
 */
export function formatRatio(alpa: Threshold | undefined, base: Threshold | undefined, direction: Direction): string {
  if (!alpa || !base) return 'n/a';
  if (alpa.bound !== 'exact' && alpa.bound === base.bound) return 'n/a (both outside the sweep)';
  const r = direction === 'falling' ? alpa.x / base.x : base.x / alpa.x;
  if (!Number.isFinite(r) || r <= 0) return 'n/a';
  // Which way the bounds push the ratio.
  const alpaUp = alpa.bound === 'above';
  const baseUp = base.bound === 'above';
  const alpaDown = alpa.bound === 'below';
  const baseDown = base.bound === 'below';
  const higher = direction === 'falling' ? alpaUp || baseDown : baseUp || alpaDown;
  const lower = direction === 'falling' ? alpaDown || baseUp : baseDown || alpaUp;
  const v = `${r.toFixed(2)}×`;
  if (higher && !lower) return `≥ ${v}`;
  if (lower && !higher) return `≤ ${v}`;
  if (higher && lower) return `~${v} (both bounds)`;
  return v;
}
