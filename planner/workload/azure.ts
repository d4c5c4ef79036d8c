// Azure Functions traces (docs/alpaserve.md, "Workloads"), read in their published formats and replayed the way the
// paper does, plus synthetic generators of the same character (the real files are not shipped).
//
// MAF1 (2019): daily CSVs "HashOwner,HashApp,HashFunction,Trigger,1,2,…,1440": per-minute
//   invocation counts per function. → MinuteCounts.
// MAF2 (2021): one CSV "app,func,end_timestamp,duration" (seconds); arrival = end − duration.
//   → Invocations.
// Replay: function j feeds model j mod n. The trace is cut into windows (MAF1 60 s, MAF2 5400 s);
// in each window each model gets a Gamma process whose rate is the window's count / length and
// whose CV is 1 for MAF1 (rates only) or the maximum-likelihood fit of the gaps for MAF2; then
// rate × rateScale, CV × cvScale, and arrivals are regenerated with a seeded RNG.
import { Rng } from '../rng.js';
import type { Workload } from '../types.js';
import { fitGammaGaps } from './gamma-fit.js';
import { type RateWindow, windowedWorkload } from './multi-model.js';

/** Per-minute invocation counts per function (MAF1 shape). */
export interface MinuteCounts {
  readonly functions: readonly string[];
  readonly minutes: number;
  /** counts[f][minute] */
  readonly counts: readonly Float64Array[];
}

/** Individual invocations sorted by arrival (MAF2 shape). */
export interface Invocations {
  readonly functions: readonly string[];
  /** Function index of each invocation. */
  readonly func: Int32Array;
  /** Arrival time, seconds (trace clock). */
  readonly arrival: Float64Array;
}

/** The non-blank lines of a CSV as cells, each with its line number in the file (for errors). */
function csvLines(text: string): { cells: string[]; line: number }[] {
  return text
    .split(/\r?\n/)
    .map((l, i) => ({ l, line: i + 1 }))
    .filter(({ l }) => l.trim() !== '')
    .map(({ l, line }) => ({ cells: l.split(',').map((c) => c.trim()), line }));
}

/** Reads one MAF1 daily invocation-count CSV. */
export function parseMaf1Csv(text: string, source = 'MAF1 CSV'): MinuteCounts {
  const [first, ...rows] = csvLines(text);
  const header = first?.cells;
  if (!header) throw new Error(`${source}: empty file`);
  const key = header.indexOf('HashFunction');
  if (key < 0) throw new Error(`${source}: no "HashFunction" column in the header`);
  const minuteCols = header
    .flatMap((h, i) => (/^\d+$/.test(h) ? [[Number(h), i] as const] : []))
    .sort((a, b) => a[0] - b[0]);
  if (minuteCols.length === 0) throw new Error(`${source}: no minute columns ("1".."1440") in the header`);
  minuteCols.forEach(([minute], k) => {
    if (minute !== k + 1) throw new Error(`${source}: minute columns must run 1..N without gaps (missing "${k + 1}")`);
  });
  const functions: string[] = [];
  const counts: Float64Array[] = [];
  rows.forEach(({ cells, line }, r) => {
    const c = new Float64Array(minuteCols.length);
    minuteCols.forEach(([, col], k) => {
      const v = Number(cells[col] ?? '');
      if (!(v >= 0))
        throw new Error(
          `${source} line ${line}: minute ${k + 1} count must be a number ≥ 0, got "${cells[col] ?? ''}"`,
        );
      c[k] = v;
    });
    functions.push(cells[key] ?? `row${r}`);
    counts.push(c);
  });
  return { functions, minutes: minuteCols.length, counts };
}

/** Reads the MAF2 invocation CSV (columns func, end_timestamp, duration; others ignored). */
export function parseMaf2Csv(text: string, source = 'MAF2 CSV'): Invocations {
  const [first, ...rows] = csvLines(text);
  const header = first?.cells;
  if (!header) throw new Error(`${source}: empty file`);
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${source}: no "${name}" column in the header (need func, end_timestamp, duration)`);
    return i;
  };
  const fc = col('func');
  const ec = col('end_timestamp');
  const dc = col('duration');
  const index = new Map<string, number>();
  const functions: string[] = [];
  const func: number[] = [];
  const arrival: number[] = [];
  rows.forEach(({ cells, line }) => {
    const end = Number(cells[ec]);
    const dur = Number(cells[dc]);
    if (!Number.isFinite(end) || !(dur >= 0))
      throw new Error(`${source} line ${line}: bad end_timestamp/duration "${cells[ec]}", "${cells[dc]}"`);
    const name = cells[fc];
    let f = index.get(name);
    if (f === undefined) {
      f = functions.length;
      functions.push(name);
      index.set(name, f);
    }
    func.push(f);
    arrival.push(end - dur);
  });
  const order = Array.from(arrival.keys()).sort((a, b) => arrival[a] - arrival[b] || a - b);
  return {
    functions,
    func: Int32Array.from(order, (i) => func[i]),
    arrival: Float64Array.from(order, (i) => arrival[i]),
  };
}

export interface ReplayOptions {
  readonly models: readonly string[];
  readonly rateScale: number;
  readonly cvScale: number;
  /** Window length, seconds (MAF1 default 60, MAF2 default 5400). */
  readonly window?: number;
  /** Start of the replayed span on the trace clock, seconds (default: trace start). */
  readonly start?: number;
  /** Length of the replayed span, seconds (default: to the trace end). */
  readonly duration?: number;
  readonly seed: number;
  /** SLO seconds, one for all or one per model; default none. */
  readonly slo?: number | readonly number[];
}

function slosFor(opts: ReplayOptions): number[] {
  const n = opts.models.length;
  if (opts.slo === undefined || typeof opts.slo === 'number')
    return Array.from({ length: n }, () => (opts.slo as number | undefined) ?? Infinity);
  if (opts.slo.length !== n) throw new Error(`slo: expected ${n} entries, got ${opts.slo.length}`);
  return [...opts.slo];
}

function checkReplay(opts: ReplayOptions): void {
  if (opts.models.length === 0) throw new Error('replay needs at least one model');
  if (!(opts.rateScale > 0) || !(opts.cvScale > 0)) throw new Error('rateScale and cvScale must be > 0');
}

/** MAF1 replay: per (window, model) a Gamma process with the window's rate and CV = cvScale. */
export function replayMaf1(trace: MinuteCounts, opts: ReplayOptions): Workload {
  checkReplay(opts);
  const window = opts.window ?? 60;
  if (!(window >= 60) || window % 60 !== 0)
    throw new Error(`MAF1 window must be a multiple of 60 s (the trace's resolution), got ${window}`);
  const start = opts.start ?? 0;
  if (start % 60 !== 0 || start < 0) throw new Error(`MAF1 start must be a whole minute ≥ 0, got ${start}`);
  const duration = opts.duration ?? trace.minutes * 60 - start;
  if (start + duration > trace.minutes * 60)
    throw new Error(`MAF1 replay span ends at ${start + duration} s but the trace has ${trace.minutes} minutes`);
  const n = opts.models.length;
  const perModel = Array.from({ length: n }, () => new Float64Array(trace.minutes));
  trace.counts.forEach((c, f) => {
    const target = perModel[f % n];
    for (let k = 0; k < trace.minutes; k++) target[k] += c[k];
  });
  const windows: RateWindow[] = [];
  for (let w = 0; w < duration; w += window) {
    const end = Math.min(duration, w + window);
    const first = (start + w) / 60;
    const last = Math.ceil((start + end) / 60);
    const rates = perModel.map((c) => {
      let sum = 0;
      for (let k = first; k < last; k++) sum += c[k];
      return (sum / (end - w)) * opts.rateScale;
    });
    windows.push({ start: w, end, rates, cvs: rates.map(() => opts.cvScale) });
  }
  return windowedWorkload(opts.models, windows, opts.seed, slosFor(opts), duration);
}

/** MAF2 replay: per (window, model) a Gamma process fitted by maximum likelihood to the window's gaps. */
export function replayMaf2(trace: Invocations, opts: ReplayOptions): Workload {
  checkReplay(opts);
  const window = opts.window ?? 5400;
  if (!(window > 0)) throw new Error(`window must be > 0, got ${window}`);
  const first = trace.arrival.length ? trace.arrival[0] : 0;
  const lastArrival = trace.arrival.length ? trace.arrival[trace.arrival.length - 1] : 0;
  const start = opts.start ?? first;
  const duration = opts.duration ?? Math.max(0, lastArrival - start);
  const n = opts.models.length;
  // Arrivals of each model in trace order (already sorted).
  const byModel: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < trace.arrival.length; i++) {
    const t = trace.arrival[i] - start;
    if (t >= 0 && t < duration) byModel[trace.func[i] % n].push(t);
  }
  const cursor = new Int32Array(n);
  const windows: RateWindow[] = [];
  for (let w = 0; w < duration; w += window) {
    const end = Math.min(duration, w + window);
    const rates: number[] = [];
    const cvs: number[] = [];
    for (let m = 0; m < n; m++) {
      const ts = byModel[m];
      const from = cursor[m];
      let to = from;
      while (to < ts.length && ts[to] < end) to++;
      cursor[m] = to;
      const gaps = new Float64Array(Math.max(0, to - from - 1));
      for (let k = from + 1; k < to; k++) gaps[k - from - 1] = ts[k] - ts[k - 1];
      const fit = fitGammaGaps(gaps);
      rates.push(((to - from) / (end - w)) * opts.rateScale);
      cvs.push((fit ? fit.cv : 1) * opts.cvScale);
    }
    windows.push({ start: w, end, rates, cvs });
  }
  return windowedWorkload(opts.models, windows, opts.seed, slosFor(opts), duration);
}

/** Poisson sample (inversion for small means, rounded normal approximation above 50). */
function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  let k = 0;
  let p = Math.exp(-mean);
  let cdf = p;
  const u = rng.next();
  while (u > cdf && k < 1000) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

export interface SyntheticMaf1Options {
  /** Default 400. */
  readonly functions?: number;
  /** Default 60 (the paper replays the first hour). */
  readonly minutes?: number;
  /** Mean total invocations per second; default 30000 (so rateScale 2e-3 gives ~60 req/s, like the paper's setting). */
  readonly totalRate?: number;
  readonly seed: number;
}

/**
 * MAF1-like: dense and steady. Every function is active every minute; per-function base rates are
 * log-normal (σ 1.5) and drift slowly (a log-rate random walk, σ 0.05 per minute).
 */
export function syntheticMaf1(opts: SyntheticMaf1Options): MinuteCounts {
  const nf = opts.functions ?? 400;
  const minutes = opts.minutes ?? 60;
  const total = opts.totalRate ?? 30000;
  const rng = new Rng(opts.seed);
  const base = Array.from({ length: nf }, () => Math.exp(1.5 * rng.normal()));
  const sum = base.reduce((a, b) => a + b, 0);
  const functions: string[] = [];
  const counts: Float64Array[] = [];
  for (let f = 0; f < nf; f++) {
    let logRate = Math.log((base[f] / sum) * total);
    const c = new Float64Array(minutes);
    for (let k = 0; k < minutes; k++) {
      c[k] = poisson(rng, Math.exp(logRate) * 60);
      logRate += 0.05 * rng.normal();
    }
    functions.push(`synthetic-maf1-f${f}`);
    counts.push(c);
  }
  return { functions, minutes, counts };
}

export interface SyntheticMaf2Options {
  /** Default 200. */
  readonly functions?: number;
  /** Seconds; default 86400 (one day, as the paper replays). */
  readonly duration?: number;
  /** Mean total invocations per second; default 4 (rateScale 16 → 64 req/s). */
  readonly totalRate?: number;
  /** Popularity reshuffles every `phase` seconds; default 7200. */
  readonly phase?: number;
  /** Zipf exponent of function popularity; default 1.5 (a few functions dominate). */
  readonly zipf?: number;
  readonly seed: number;
}

/**
 * MAF2-like: bursty and skewed. Popularity is Zipf over ranks; every phase the top ranks go to
 * different functions (a few dominate and shift). Each function's arrivals are a Gamma process
 * with its own CV in [1.5, 6].
 */
export function syntheticMaf2(opts: SyntheticMaf2Options): Invocations {
  const nf = opts.functions ?? 200;
  const duration = opts.duration ?? 86400;
  const total = opts.totalRate ?? 4;
  const phase = opts.phase ?? 7200;
  const zipf = opts.zipf ?? 1.5;
  const rng = new Rng(opts.seed);
  const weights = Array.from({ length: nf }, (_, r) => (r + 1) ** -zipf);
  const wsum = weights.reduce((a, b) => a + b, 0);
  const cvs = Array.from({ length: nf }, () => 1.5 + 4.5 * rng.next());
  const ranks = Array.from({ length: nf }, (_, f) => f);
  const windows: RateWindow[] = [];
  for (let t = 0; t < duration; t += phase) {
    // Fisher–Yates reshuffle of which function holds which popularity rank.
    for (let i = nf - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const tmp = ranks[i];
      ranks[i] = ranks[j];
      ranks[j] = tmp;
    }
    const rates = new Array<number>(nf);
    ranks.forEach((f, r) => {
      rates[f] = (total * weights[r]) / wsum;
    });
    windows.push({ start: t, end: Math.min(duration, t + phase), rates, cvs });
  }
  const names = Array.from({ length: nf }, (_, f) => `synthetic-maf2-f${f}`);
  const w = windowedWorkload(
    names,
    windows,
    opts.seed + 1,
    names.map(() => Infinity),
    duration,
  );
  return { functions: names, func: w.model, arrival: w.arrival };
}

/** Writes invocations in the MAF2 CSV format (duration 0, so end_timestamp = arrival). */
export function maf2ToCsv(inv: Invocations): string {
  const out = ['app,func,end_timestamp,duration'];
  for (let i = 0; i < inv.arrival.length; i++) out.push(`app,${inv.functions[inv.func[i]]},${inv.arrival[i]},0`);
  return `${out.join('\n')}\n`;
}

/** Writes minute counts in the MAF1 CSV format. */
export function maf1ToCsv(mc: MinuteCounts): string {
  const header = [
    'HashOwner',
    'HashApp',
    'HashFunction',
    'Trigger',
    ...Array.from({ length: mc.minutes }, (_, k) => String(k + 1)),
  ];
  const rows = mc.counts.map((c, f) => ['owner', 'app', mc.functions[f], 'http', ...Array.from(c, String)].join(','));
  return `${[header.join(','), ...rows].join('\n')}\n`;
}
