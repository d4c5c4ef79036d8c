// A minimal SVG line chart (no dependency): a title and a subtitle saying what was swept, axes with
// ticks and units, one line per series with its own colour, marker and dash (so that series that
// coincide stay visible: markers shrink from one series to the next, hollow, so a later one sits
// inside an earlier one), a labelled reference line, and the legend inside the frame in the
// corner the data leaves free. Any number of series. Pure string output.

export interface Series {
  readonly name: string;
  /** [x, y] points; non-finite y values break the line. */
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChart {
  readonly title: string;
  /** A second title line: what stayed fixed (set, trace, devices…). */
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Fixed y range (e.g. [0, 1] for attainment); default from the data. */
  readonly yRange?: readonly [number, number];
  /** Horizontal reference line (e.g. 0.99 attainment), and its label. */
  readonly yLine?: number;
  readonly yLineLabel?: string;
  /** Logarithmic x axis (for sweeps over orders of magnitude); needs positive x. */
  readonly xLog?: boolean;
}

const WIDTH = 640;
const HEIGHT = 440;
const M = { left: 70, right: 24, top: 58, bottom: 55 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'down', 'cross'] as const;
/** Dash patterns; '' is solid. Their count is prime to the markers' so combinations repeat late. */
const DASHES = ['', '7 4', '2 3', '9 3 2 3', '4 4'];
const LEGEND = { row: 18, pad: 8, swatch: 30 };

type Marker = (typeof MARKERS)[number];

/** The look of series i: colour, marker, dash and marker radius (shrinking, so overlaps stay visible). */
export function seriesStyle(i: number): { colour: string; marker: Marker; dash: string; radius: number } {
  return {
    colour: COLOURS[i % COLOURS.length],
    marker: MARKERS[i % MARKERS.length],
    dash: DASHES[i % DASHES.length],
    radius: Math.max(2.5, 5.5 - 1 * (i % 4)),
  };
}

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

/** A hollow marker (white inside, so a smaller one drawn later shows within it). */
function marker(kind: Marker, x: number, y: number, r: number, colour: string): string {
  const style = `fill="white" stroke="${colour}" stroke-width="1.6"`;
  const p = (points: [number, number][]) =>
    `<path d="M${points.map(([a, b]) => `${round(x + a)},${round(y + b)}`).join('L')}Z" ${style}/>`;
  switch (kind) {
    case 'circle':
      return `<circle cx="${x}" cy="${y}" r="${r}" ${style}/>`;
    case 'square':
      return `<rect x="${round(x - r)}" y="${round(y - r)}" width="${2 * r}" height="${2 * r}" ${style}/>`;
    case 'triangle':
      return p([
        [0, -r - 1],
        [r + 1, r],
        [-r - 1, r],
      ]);
    case 'down':
      return p([
        [0, r + 1],
        [r + 1, -r],
        [-r - 1, -r],
      ]);
    case 'diamond':
      return p([
        [0, -r - 1],
        [r + 1, 0],
        [0, r + 1],
        [-r - 1, 0],
      ]);
    default:
      return `<path d="M${round(x - r)},${round(y - r)}L${round(x + r)},${round(y + r)}M${round(x - r)},${round(y + r)}L${round(x + r)},${round(y - r)}" stroke="${colour}" stroke-width="2"/>`;
  }
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
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
  const sx = (x: number) => round(M.left + ((tx(x) - tx(x0)) / (tx(x1) - tx(x0))) * pw);
  const sy = (y: number) => round(M.top + ph - ((y - y0) / (y1 - y0)) * ph);
  const visible = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!log || x > 0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${M.left + pw / 2}" y="${chart.subtitle ? 20 : 28}" text-anchor="middle" font-size="14" font-weight="bold">${esc(chart.title)}</text>`,
  ];
  if (chart.subtitle)
    out.push(`<text x="${M.left + pw / 2}" y="38" text-anchor="middle" fill="#444">${esc(chart.subtitle)}</text>`);
  for (const t of log ? logTicks(x0, x1) : niceTicks(x0, x1)) {
    out.push(`<line x1="${sx(t)}" y1="${M.top + ph}" x2="${sx(t)}" y2="${M.top + ph + 5}" stroke="black"/>`);
    out.push(`<text x="${sx(t)}" y="${M.top + ph + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    out.push(`<line x1="${M.left}" y1="${sy(t)}" x2="${M.left + pw}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="black"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${HEIGHT - 14}" text-anchor="middle">${esc(chart.xLabel)}</text>`);
  out.push(
    `<text transform="translate(18,${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yLabel)}</text>`,
  );
  const crowd = crowding(chart.series, (x, y) => [sx(x), sy(y)], visible);
  if (chart.yLine !== undefined && chart.yLine >= y0 && chart.yLine <= y1) {
    const y = sy(chart.yLine);
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#666" stroke-width="1" stroke-dasharray="4 3"/>`,
    );
    const label = chart.yLineLabel ?? fmt(chart.yLine);
    const w = label.length * 6;
    // At whichever end, above or below the line (below only, along the top of the frame), the data leaves free.
    const spots = [
      { x: M.left + 6, y: y + 13 },
      { x: M.left + pw - 6 - w, y: y + 13 },
      ...(y - M.top < 16
        ? []
        : [
            { x: M.left + 6, y: y - 4 },
            { x: M.left + pw - 6 - w, y: y - 4 },
          ]),
    ];
    const spot = spots.reduce((a, b) => (crowd(b.x, b.y - 10, w, 12) < crowd(a.x, a.y - 10, w, 12) ? b : a));
    out.push(
      `<text x="${round(spot.x)}" y="${round(spot.y)}" fill="#444" font-size="11" paint-order="stroke" stroke="white" stroke-width="3">${esc(label)}</text>`,
    );
  }
  chart.series.forEach((s, i) => {
    const { colour, dash } = seriesStyle(i);
    let path = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!visible(x, y)) {
        pen = false;
        continue;
      }
      path += `${pen ? 'L' : 'M'}${sx(x)},${sy(y)}`;
      pen = true;
    }
    const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
    if (path) out.push(`<path d="${path}" fill="none" stroke="${colour}"${dashAttr} stroke-width="2"/>`);
  });
  // Markers after every line, so that no line crosses out a marker.
  chart.series.forEach((s, i) => {
    const { colour, marker: kind, radius } = seriesStyle(i);
    for (const [x, y] of s.points) if (visible(x, y)) out.push(marker(kind, sx(x), sy(y), radius, colour));
  });
  out.push(...legend(chart.series, { x: M.left, y: M.top, w: pw, h: ph }, crowd));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * How crowded a box of the plot is: a counter of the series' markers and of points sampled along
 * their lines (so that a line crossing the box counts, not only its markers) that fall in it.
 */
function crowding(
  series: readonly Series[],
  at: (x: number, y: number) => [number, number],
  visible: (x: number, y: number) => boolean,
): (x: number, y: number, w: number, h: number) => number {
  const points = series.flatMap((s) => {
    const p = s.points.filter(([x, y]) => visible(x, y)).map(([x, y]) => at(x, y));
    const along = p.slice(1).flatMap(([x, y], k) => {
      const [px, py] = p[k];
      return Array.from({ length: 12 }, (_, j) => [px + ((x - px) * j) / 12, py + ((y - py) * j) / 12]);
    });
    return [...p, ...along];
  });
  return (x, y, w, h) =>
    points.filter(([px, py]) => px >= x - 6 && px <= x + w + 6 && py >= y - 6 && py <= y + h + 6).length;
}

/** The legend box in the corner of the frame the data leaves most free. */
function legend(
  series: readonly Series[],
  frame: { x: number; y: number; w: number; h: number },
  crowd: (x: number, y: number, w: number, h: number) => number,
): string[] {
  if (!series.length) return [];
  const width = LEGEND.swatch + 14 + Math.max(...series.map((s) => s.name.length)) * 6.8 + 2 * LEGEND.pad;
  const height = series.length * LEGEND.row + 2 * LEGEND.pad - 4;
  const inset = 8;
  const corners = [
    { x: frame.x + frame.w - width - inset, y: frame.y + frame.h - height - inset }, // lower right
    { x: frame.x + inset, y: frame.y + frame.h - height - inset }, // lower left
    { x: frame.x + frame.w - width - inset, y: frame.y + inset + 14 }, // upper right (below a top reference line)
    { x: frame.x + inset, y: frame.y + inset + 14 }, // upper left
  ];
  const best = corners.reduce((a, b) => (crowd(b.x, b.y, width, height) < crowd(a.x, a.y, width, height) ? b : a));
  const out = [
    `<rect x="${round(best.x)}" y="${round(best.y)}" width="${round(width)}" height="${height}" fill="white" fill-opacity="0.92" stroke="#bbb"/>`,
  ];
  series.forEach((s, i) => {
    const { colour, dash, marker: kind, radius } = seriesStyle(i);
    const ly = round(best.y + LEGEND.pad + 5 + i * LEGEND.row);
    const lx = round(best.x + LEGEND.pad);
    const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + LEGEND.swatch}" y2="${ly}" stroke="${colour}"${dashAttr} stroke-width="2"/>`,
      marker(kind, lx + LEGEND.swatch / 2, ly, radius, colour),
      `<text x="${round(lx + LEGEND.swatch + 8)}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  return out;
}
