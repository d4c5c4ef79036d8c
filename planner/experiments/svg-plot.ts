// A minimal SVG line chart (no dependency): axes with ticks and units, one polyline with markers
// per series, a legend. Enough for the experiment sweeps; pure string output.

export interface Series {
  readonly name: string;
  /** [x, y] points; non-finite y values break the line. */
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Fixed y range (e.g. [0, 1] for attainment); default from the data. */
  readonly yRange?: readonly [number, number];
  /** Horizontal reference line (e.g. 0.99 attainment). */
  readonly yLine?: number;
  /** Logarithmic x axis (for sweeps over orders of magnitude); needs positive x. */
  readonly xLog?: boolean;
}

const WIDTH = 640;
const HEIGHT = 420;
const M = { left: 70, right: 170, top: 40, bottom: 55 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond'] as const;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) =>
  Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(4)));

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/** 1-2-5 ticks per decade covering [lo, hi] (lo > 0). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const f of [1, 2, 5]) {
      const v = Number((f * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

function marker(kind: (typeof MARKERS)[number], x: number, y: number, colour: string): string {
  const r = 3.5;
  switch (kind) {
    case 'circle':
      return `<circle cx="${x}" cy="${y}" r="${r}" fill="${colour}"/>`;
    case 'square':
      return `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" fill="${colour}"/>`;
    case 'triangle':
      return `<path d="M${x},${y - r - 1}L${x + r + 1},${y + r}L${x - r - 1},${y + r}Z" fill="${colour}"/>`;
    default:
      return `<path d="M${x},${y - r - 1}L${x + r + 1},${y}L${x},${y + r + 1}L${x - r - 1},${y}Z" fill="${colour}"/>`;
  }
}

export function lineChartSvg(chart: LineChart): string {
  const log = chart.xLog ?? false;
  const xs = chart.series
    .flatMap((s) => s.points.map((p) => p[0]))
    .filter((x) => Number.isFinite(x) && (!log || x > 0));
  const ys = chart.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  if (x0 === x1) {
    x0 = log ? x0 / 2 : x0 - 1;
    x1 = log ? x1 * 2 : x1 + 1;
  }
  let [y0, y1] = chart.yRange ?? (ys.length ? [Math.min(0, ...ys), Math.max(...ys)] : [0, 1]);
  if (y0 === y1) y1 = y0 + 1;
  const pw = WIDTH - M.left - M.right;
  const ph = HEIGHT - M.top - M.bottom;
  const tx = (x: number) => (log ? Math.log10(x) : x);
  const round = (v: number) => Math.round(v * 10) / 10;
  const sx = (x: number) => round(M.left + ((tx(x) - tx(x0)) / (tx(x1) - tx(x0))) * pw);
  const sy = (y: number) => round(M.top + ph - ((y - y0) / (y1 - y0)) * ph);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${M.left + pw / 2}" y="22" text-anchor="middle" font-size="14">${esc(chart.title)}</text>`,
  ];
  for (const t of log ? logTicks(x0, x1) : niceTicks(x0, x1)) {
    out.push(`<line x1="${sx(t)}" y1="${M.top + ph}" x2="${sx(t)}" y2="${M.top + ph + 5}" stroke="black"/>`);
    out.push(`<text x="${sx(t)}" y="${M.top + ph + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    out.push(`<line x1="${M.left}" y1="${sy(t)}" x2="${M.left + pw}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${M.top + ph}" x2="${M.left + pw}" y2="${M.top + ph}" stroke="black"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="black"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${HEIGHT - 14}" text-anchor="middle">${esc(chart.xLabel)}</text>`);
  out.push(
    `<text transform="translate(18,${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yLabel)}</text>`,
  );
  if (chart.yLine !== undefined && chart.yLine >= y0 && chart.yLine <= y1) {
    out.push(
      `<line x1="${M.left}" y1="${sy(chart.yLine)}" x2="${M.left + pw}" y2="${sy(chart.yLine)}" stroke="#888" stroke-dasharray="4 3"/>`,
    );
  }
  chart.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const kind = MARKERS[i % MARKERS.length];
    let path = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y) || (log && x <= 0)) {
        pen = false;
        continue;
      }
      path += `${pen ? 'L' : 'M'}${sx(x)},${sy(y)}`;
      pen = true;
    }
    if (path) out.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const [x, y] of s.points)
      if (Number.isFinite(x) && Number.isFinite(y) && (!log || x > 0)) out.push(marker(kind, sx(x), sy(y), colour));
    const ly = M.top + 10 + i * 20;
    const lx = WIDTH - M.right + 15;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      marker(kind, lx + 12, ly, colour),
    );
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
