// Runs one experiment sweep: at every point, every system places on the point's workload and is
// evaluated on it; returns the rows, a CSV, an SVG plot and the headline lines. Pure apart from
// the progress callback (the CLI writes files and prints).
import { describeLayout } from '../placement/group-layouts.js';
import { evaluatePlacement, placeByName } from '../placement/index.js';
import type { PlacementOptions } from '../placement/types.js';
import { didYouMean } from '../suggest.js';
import type { Experiment, SystemSpec } from './definitions.js';
import { formatRatio, formatThreshold, type Threshold, threshold } from './headline.js';
import { lineChartSvg } from './svg-plot.js';

export interface ExperimentRow {
  readonly x: number;
  readonly system: string;
  readonly attainment: number;
  /** Seconds, over served requests. */
  readonly meanLatency: number;
  readonly p99Latency: number;
  readonly requests: number;
  /** Layout of the (first) placement, e.g. "16×(pp1,op4)". */
  readonly placement: string;
  readonly simulations: number;
}

export interface ExperimentOutput {
  readonly rows: readonly ExperimentRow[];
  readonly csv: string;
  readonly svg: string;
  readonly headline: readonly string[];
}

export interface RunOptions {
  readonly quick?: boolean;
  readonly seed?: number;
  /** Extra placement options for every system (e.g. beam, workers). */
  readonly placement?: PlacementOptions;
  /** Use AlpaServe's fast greedy instead of beam search. */
  readonly greedy?: boolean;
  readonly onProgress?: (done: number, total: number, what: string) => void;
  /** Run only these systems (labels) … */
  readonly systems?: readonly string[];
  /** … at only these points; */
  readonly points?: readonly number[];
  /** … and take every other row from this recorded run (rowsFromCsv), where it has one. */
  readonly recorded?: readonly ExperimentRow[];
}

/** Refuses systems and points the experiment does not have (the message names those it has). */
export function checkSelection(e: Experiment, opts: RunOptions): void {
  const quick = opts.quick ?? false;
  const labels = e.systems(quick).map((s) => s.label);
  for (const s of opts.systems ?? [])
    if (!labels.includes(s))
      throw new Error(`${e.name} has no system "${s}"${didYouMean(s, labels)} (it has: ${labels.join(', ')})`);
  const points = e.points(quick);
  for (const x of opts.points ?? [])
    if (!points.includes(x))
      throw new Error(`${e.name} has no point ${x}; its points are ${points.join(', ')} (${e.xLabel})`);
}

function systemFor(s: SystemSpec, opts: RunOptions): SystemSpec {
  const algorithm = opts.greedy && s.algorithm === 'alpaserve' ? 'alpaserve-greedy' : s.algorithm;
  // Adaptive AlpaServe starts from AlpaServe's placement: the same search as the static row.
  const greedyStart = opts.greedy && s.algorithm === 'adaptive' ? { beam: 1 } : {};
  return { ...s, algorithm, options: { ...(opts.placement ?? {}), ...greedyStart, ...(s.options ?? {}) } };
}

const csvCell = (v: string | number) =>
  typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;

export function rowsToCsv(experiment: string, rows: readonly ExperimentRow[]): string {
  const header = 'experiment,x,system,attainment,mean_latency_s,p99_latency_s,requests,placement,simulations';
  return `${[
    header,
    ...rows.map((r) =>
      [experiment, r.x, r.system, r.attainment, r.meanLatency, r.p99Latency, r.requests, r.placement, r.simulations]
        .map(csvCell)
        .join(','),
    ),
  ].join('\n')}\n`;
}

const metricOf = (e: Experiment, r: ExperimentRow) => (e.metric === 'attainment' ? r.attainment : r.meanLatency);

export function headlineLines(e: Experiment, rows: readonly ExperimentRow[], systems: readonly string[]): string[] {
  const lines: string[] = [];
  const series = (s: string) => rows.filter((r) => r.system === s).map((r) => [r.x, metricOf(e, r)] as const);
  const xs = [...new Set(rows.map((r) => r.x))].sort((a, b) => a - b);
  const unit = e.metric === 'attainment' ? 'attainment' : 'mean latency (s)';
  lines.push(`${unit} per point (x = ${e.xLabel}):`);
  const width = Math.max(22, ...systems.map((s) => s.length + 2));
  lines.push(`  ${'x'.padStart(8)}  ${systems.map((s) => s.padStart(width)).join('')}`);
  for (const x of xs) {
    const cells = systems.map((s) => {
      const r = rows.find((q) => q.system === s && q.x === x);
      return (r ? metricOf(e, r).toFixed(e.metric === 'attainment' ? 4 : 3) : '-').padStart(width);
    });
    lines.push(`  ${String(x).padStart(8)}  ${cells.join('')}`);
  }
  if (e.direction) {
    const dir = e.direction;
    const t = new Map<string, Threshold | undefined>(systems.map((s) => [s, threshold(series(s), dir)]));
    lines.push(
      `${dir === 'rising' ? 'smallest' : 'largest'} ${e.xLabel} at 99% attainment (interpolated between sweep points):`,
    );
    for (const s of systems) lines.push(`  ${s.padEnd(24)} ${formatThreshold(t.get(s))}`);
    const ours = systems.filter((s) => !e.baselines.includes(s));
    for (const o of ours) {
      for (const b of e.baselines) {
        if (!systems.includes(b)) continue;
        lines.push(
          `  ${o} vs ${b}: ${formatRatio(t.get(o), t.get(b), dir)} ${dir === 'falling' ? `higher ${e.xLabel}` : `fewer/tighter ${e.xLabel}`}`,
        );
      }
    }
  }
  return lines;
}

/** The rows of a CSV that rowsToCsv wrote (for re-plotting a recorded run). */
export function rowsFromCsv(csv: string): ExperimentRow[] {
  const lines = csv.trim().split('\n');
  const header = lines[0];
  if (header !== 'experiment,x,system,attainment,mean_latency_s,p99_latency_s,requests,placement,simulations')
    throw new Error(`not an experiment CSV (header "${header.slice(0, 60)}")`);
  return lines.slice(1).map((line, i) => {
    const cells = [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)]
      .slice(0, 9)
      .map((m) => (m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]));
    if (cells.length !== 9) throw new Error(`CSV line ${i + 2}: expected 9 cells, got ${cells.length}`);
    const num = (v: string) => (v === '' ? Number.NaN : Number(v));
    return {
      x: num(cells[1]),
      system: cells[2],
      attainment: num(cells[3]),
      meanLatency: num(cells[4]),
      p99Latency: num(cells[5]),
      requests: num(cells[6]),
      placement: cells[7],
      simulations: num(cells[8]),
    };
  });
}

/** The plot of an experiment's rows: one line per system, in the order the rows name them. */
export function experimentSvg(e: Experiment, rows: readonly ExperimentRow[], quick: boolean): string {
  const labels = [...new Set(rows.map((r) => r.system))];
  return lineChartSvg({
    ...e.plotTitle(quick),
    xLabel: e.xLabel,
    yLabel: e.metric === 'attainment' ? 'SLO attainment (fraction of requests)' : 'mean latency (s)',
    series: labels.map((name) => ({
      name,
      points: rows.filter((r) => r.system === name).map((r) => [r.x, metricOf(e, r)] as const),
    })),
    yRange: e.metric === 'attainment' ? [0, 1] : undefined,
    yLine: e.metric === 'attainment' ? 0.99 : undefined,
    yLineLabel: '99% of requests within their SLO',
    xLog: e.xLog,
  });
}

export async function runExperiment(e: Experiment, opts: RunOptions = {}): Promise<ExperimentOutput> {
  checkSelection(e, opts);
  const quick = opts.quick ?? false;
  const seed = opts.seed ?? 1;
  const systems = e.systems(quick).map((s) => systemFor(s, opts));
  const points = e.points(quick);
  const runs = (x: number, s: SystemSpec) =>
    (!opts.systems || opts.systems.includes(s.label)) && (!opts.points || opts.points.includes(x));
  const total = points.reduce((n, x) => n + systems.filter((s) => runs(x, s)).length, 0);
  const rows: ExperimentRow[] = [];
  let done = 0;
  for (const x of points) {
    const chosen = systems.filter((s) => runs(x, s));
    const point = chosen.length ? e.setup(x, quick, seed) : undefined;
    for (const s of systems) {
      if (!point || !chosen.includes(s)) {
        const kept = opts.recorded?.find((r) => r.x === x && r.system === s.label);
        if (kept) rows.push(kept);
        continue;
      }
      const { input, evaluation } = point;
      opts.onProgress?.(done, total, `x=${x} ${s.label}`);
      const placed = await placeByName(s.algorithm, input, s.options);
      const r = evaluatePlacement(placed, input.profiles, input.workload, evaluation);
      rows.push({
        x,
        system: s.label,
        attainment: Number.isFinite(r.attainment) ? r.attainment : 0,
        meanLatency: r.latency.mean,
        p99Latency: r.latency.p99,
        requests: r.requests,
        placement:
          (placed.schedule ? `${placed.schedule.windows.length} windows, first ` : '') +
          describeLayout(placed.placement.groups.map((g) => g.config)),
        simulations: placed.stats.simulations,
      });
      done++;
    }
  }
  opts.onProgress?.(done, total, 'done');
  const labels = systems.map((s) => s.label).filter((l) => rows.some((r) => r.system === l));
  const svg = experimentSvg(e, rows, quick);
  return { rows, csv: rowsToCsv(e.name, rows), svg, headline: headlineLines(e, rows, labels) };
}
