// The paper's experiments as data (docs/alpaserve.md, "The paper's experiments and claims"): each
// names its x axis, the points it sweeps (full and --quick), the systems it compares, and how to build
// the placement input at a point.
//
// Motivation sweeps compare fixed placements (replication vs K-stage pipelines) on the paper's small
// setups. End-to-end sweeps compare AlpaServe, Selective Replication and Clockwork++ on model sets
// S1–S3 and MAF1-/MAF2-like synthetic traces. Our traces are shorter than the paper's (so full sweeps
// take minutes, not hours): MAF1-like = 10 minutes of a synthetic day (60 s windows); MAF2-like = a
// synthetic day compressed 72× into 20 minutes, every duration scaled alike: popularity reshuffles
// every 100 s (the generator's 2 h), the replay fits rates and CVs per 75 s (the reference's 5,400 s)
// and Clockwork++ re-places every 300 s (the paper's 6 h), so the oracle baseline's windows do not
// line up with the popularity shifts more than on the day they stand for. The training workload is the
// test workload itself, as in the reference's end-to-end runs.

import type { PlacementInput, PlacementOptions } from '../placement/types.js';
import { profileMap } from '../profile.js';
import type { ModelProfile, SimOptions, Workload } from '../types.js';
import { replayMaf1, replayMaf2, syntheticMaf1, syntheticMaf2 } from '../workload/azure.js';
import { multiModelWorkload, slosFromScale } from '../workload/multi-model.js';
import { zooProfile } from '../zoo.js';
import type { Direction } from './headline.js';

const GiB = 2 ** 30;

export interface SystemSpec {
  /** Legend / CSV name. */
  readonly label: string;
  readonly algorithm: string;
  readonly options?: PlacementOptions;
}

export interface ExperimentPoint {
  readonly input: PlacementInput;
  /** Options of the final evaluation (trimming). */
  readonly evaluation: SimOptions;
}

export interface Experiment {
  readonly name: string;
  readonly description: string;
  readonly group: 'motivation' | 'end-to-end';
  readonly xLabel: string;
  readonly metric: 'attainment' | 'mean-latency';
  /** Plot x on a log scale. */
  readonly xLog?: boolean;
  /** The plot's title (what is swept) and subtitle (what stays fixed: set, trace, devices…). */
  plotTitle(quick: boolean): { title: string; subtitle: string };
  /** How attainment moves with x (for the 99% headline); absent = no headline. */
  readonly direction?: Direction;
  /** Systems the others are compared against in the headline (AlpaServe's ratio to these). */
  readonly baselines: readonly string[];
  points(quick: boolean): number[];
  systems(quick: boolean): SystemSpec[];
  setup(x: number, quick: boolean, seed: number): ExperimentPoint;
}

const zooSet = (zoo: string, n: number, prefix = zoo): ModelProfile[] =>
  Array.from({ length: n }, (_, i) => zooProfile(zoo, `${prefix}-${i}`));

function syntheticInput(
  profiles: ModelProfile[],
  devices: number,
  memGiB: number,
  w: { rate: number; cv: number; duration: number; sloScale?: number; seed: number },
): PlacementInput {
  const names = profiles.map((p) => p.name);
  const slo = w.sloScale === undefined ? undefined : slosFromScale(names, profileMap(profiles), w.sloScale);
  const workload = multiModelWorkload({
    models: names,
    totalRate: w.rate,
    cv: w.cv,
    duration: w.duration,
    seed: w.seed,
    slo,
  });
  return { cluster: { devices, memoryPerDevice: memGiB * GiB }, profiles, workload };
}

// ---- motivation (8 GPUs, 8 × bert-2.6b) ----

const MOTIVATION_SYSTEMS = (quick: boolean): SystemSpec[] => [
  { label: 'Replication', algorithm: 'replication' },
  { label: 'MP 2-stage', algorithm: 'pipeline', options: { stages: 2 } },
  { label: 'MP 4-stage', algorithm: 'pipeline', options: { stages: 4 } },
  ...(quick ? [] : [{ label: 'MP 8-stage', algorithm: 'pipeline', options: { stages: 8 } }]),
];

function motivation(
  name: string,
  description: string,
  xLabel: string,
  metric: Experiment['metric'],
  full: number[],
  quick: number[],
  at: (x: number) => { memGiB: number; rate: number; cv: number; sloScale?: number },
  direction?: Direction,
): Experiment {
  // The description is "<what is swept> (<what stays fixed>)".
  const [what, fixed = ''] = description.split(/ \((.*)\)$/);
  return {
    name,
    description,
    group: 'motivation',
    xLabel,
    metric,
    plotTitle: (q) => ({
      title: `${name}: ${what}`,
      subtitle: `${q ? 'quick version (60 s of traffic): ' : ''}${fixed}`,
    }),
    direction,
    baselines: ['Replication'],
    points: (q) => (q ? quick : full),
    systems: MOTIVATION_SYSTEMS,
    setup: (x, q, seed) => {
      const p = at(x);
      return {
        input: syntheticInput(zooSet('bert-2.6b', 8), 8, p.memGiB, {
          rate: p.rate,
          cv: p.cv,
          duration: q ? 60 : 600,
          sloScale: p.sloScale,
          seed,
        }),
        evaluation: { trim: q ? 0 : 10 },
      };
    },
  };
}

const MOTIVATION: Experiment[] = [
  motivation(
    'motivation-memory',
    'replication vs model parallelism as the memory budget grows (8 GPUs, 8× bert-2.6b, 20 req/s, CV 3, no SLO)',
    'memory budget per device (GiB)',
    'mean-latency',
    [6, 8, 10, 12, 16, 24, 32, 48],
    [6, 12, 48],
    (x) => ({ memGiB: x, rate: 20, cv: 3 }),
  ),
  motivation(
    'motivation-rate',
    'replication vs model parallelism as the total rate grows (8 GPUs, 8× bert-2.6b, 13 GiB, CV 3, no SLO)',
    'total rate (req/s)',
    'mean-latency',
    [0.8, 2, 4, 8, 12, 16, 20, 24],
    [2, 12, 24],
    (x) => ({ memGiB: 13, rate: x, cv: 3 }),
  ),
  motivation(
    'motivation-cv',
    'replication vs model parallelism as burstiness grows (8 GPUs, 8× bert-2.6b, 13 GiB, 20 req/s, no SLO)',
    'coefficient of variation of arrival gaps',
    'mean-latency',
    [0.1, 0.5, 1, 2, 3, 4, 6, 8],
    [0.5, 3, 8],
    (x) => ({ memGiB: 13, rate: 20, cv: x }),
  ),
  motivation(
    'motivation-slo',
    'replication vs model parallelism as the SLO loosens (8 GPUs, 8× bert-2.6b, 13 GiB, 30 req/s, CV 3)',
    'SLO scale (× single-device latency)',
    'attainment',
    [1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20],
    [1, 5, 20],
    (x) => ({ memGiB: 13, rate: 30, cv: 3, sloScale: x }),
    'rising',
  ),
];

// ---- end to end ----

interface ModelSet {
  readonly label: string;
  readonly profiles: (quick: boolean) => ModelProfile[];
  /** Devices at the base point. */
  readonly devices: (quick: boolean) => number;
  readonly deviceSweep: (quick: boolean) => number[];
  /** MAF2 base rate scale (the paper: 16 for S1/S2, 32 for S3). */
  readonly maf2RateScale: number;
}

const MIXED_KINDS = ['bert-1.3b', 'bert-2.6b', 'bert-6.7b', 'moe-1.3b', 'moe-2.4b', 'moe-5.3b'];

const SETS: Record<string, ModelSet> = {
  s1: {
    label: 'S1 (32× bert-1.3b)',
    profiles: (q) => zooSet('bert-1.3b', q ? 6 : 32),
    devices: (q) => (q ? 6 : 32),
    deviceSweep: (q) => (q ? [2, 4, 8] : [8, 16, 24, 32, 40, 48, 64, 80, 96]),
    maf2RateScale: 16,
  },
  s2: {
    label: 'S2 (32× bert-6.7b)',
    profiles: (q) => zooSet('bert-6.7b', q ? 4 : 32),
    devices: (q) => (q ? 8 : 64),
    deviceSweep: (q) => (q ? [4, 8] : [16, 24, 32, 40, 48, 64, 80, 96, 128, 160]),
    maf2RateScale: 16,
  },
  s3: {
    label: 'S3 (mixed: 10 each of bert-1.3b/2.6b/6.7b, moe-1.3b/2.4b/5.3b)',
    profiles: (q) => MIXED_KINDS.flatMap((k) => zooSet(k, q ? 1 : 10)),
    devices: (q) => (q ? 8 : 48),
    deviceSweep: (q) => (q ? [4, 8] : [16, 24, 32, 40, 48, 56, 64, 80, 96]),
    maf2RateScale: 32,
  },
};

interface TraceSpec {
  readonly label: string;
  readonly baseCv: number;
  /** Clockwork++'s re-placement window, seconds. */
  readonly window: (quick: boolean) => number;
  /** Adaptive AlpaServe's options: its window, and how much older traffic its fits keep. */
  readonly adaptive: (quick: boolean) => PlacementOptions;
  workload(
    models: string[],
    slos: number[],
    rateScale: number,
    cvScale: number,
    set: ModelSet,
    quick: boolean,
    seed: number,
  ): Workload;
}

/** The MAF2-like day's compressed length: a day's 6 h Clockwork++ windows become a quarter of it. */
const MAF2_DAY_SECONDS = (quick: boolean): number => (quick ? 120 : 1200);

/** How many times shorter than a real day the MAF2-like day is (every duration is scaled alike). */
const MAF2_COMPRESSION = (quick: boolean): number => 86400 / MAF2_DAY_SECONDS(quick);

/** The MAF2-like day's popularity phase: the generator's 2 h, compressed like the day. */
const MAF2_PHASE = (quick: boolean): number => 7200 / MAF2_COMPRESSION(quick);

/** The MAF2 replay fits rates and CVs per this many seconds of the uncompressed day (the reference's). */
const MAF2_REPLAY_WINDOW = 5400;

const TRACES: Record<string, TraceSpec> = {
  maf1: {
    label: 'MAF1-like',
    baseCv: 4,
    window: () => 60,
    // MAF1's rates step once a minute: decide once a minute.
    adaptive: () => ({ window: 60 }),
    workload: (models, slos, rateMul, cvScale, _set, quick, seed) => {
      const counts = syntheticMaf1({ functions: quick ? 60 : 400, minutes: quick ? 2 : 10, seed });
      return replayMaf1(counts, {
        models,
        rateScale: 2e-3 * rateMul * (quick ? 0.5 : 1),
        cvScale,
        seed: seed + 1,
        slo: slos,
      });
    },
  },
  maf2: {
    label: 'MAF2-like',
    baseCv: 1,
    window: (quick) => MAF2_DAY_SECONDS(quick) / 4,
    // Popularity holds for a phase and then reshuffles at random, so older traffic says nothing of
    // the next phase: decide ten times a phase, from the last window alone (pastWeight 0), to
    // follow a reshuffle within a tenth of the phase.
    adaptive: (quick) => ({ window: MAF2_PHASE(quick) / 10, pastWeight: 0 }),
    workload: (models, slos, rateMul, cvScale, set, quick, seed) => {
      const duration = MAF2_DAY_SECONDS(quick);
      const inv = syntheticMaf2({ functions: quick ? 40 : 200, duration, phase: MAF2_PHASE(quick), seed });
      return replayMaf2(inv, {
        models,
        rateScale: set.maf2RateScale * rateMul * (quick ? 0.25 : 1),
        cvScale,
        window: MAF2_REPLAY_WINDOW / MAF2_COMPRESSION(quick),
        seed: seed + 1,
        slo: slos,
      });
    },
  },
};

interface Axis {
  readonly label: string;
  /** What is swept, for a title: "as the request rate grows". */
  readonly swept: string;
  readonly xLog?: boolean;
  readonly direction: Direction;
  readonly points: (set: ModelSet, trace: TraceSpec, quick: boolean) => number[];
  /** Base values changed by x: devices, rate multiplier, CV scale, SLO scale. */
  readonly apply: (
    x: number,
    base: { devices: number; rate: number; cv: number; slo: number },
  ) => { devices: number; rate: number; cv: number; slo: number };
}

const AXES: Record<string, Axis> = {
  devices: {
    label: 'devices',
    swept: 'as devices are added',
    direction: 'rising',
    points: (s, _t, q) => s.deviceSweep(q),
    apply: (x, b) => ({ ...b, devices: x }),
  },
  rate: {
    label: 'rate scale (× the trace’s base rate)',
    swept: 'as the request rate grows',
    xLog: true,
    direction: 'falling',
    points: (_s, _t, q) => (q ? [0.5, 2, 8] : [0.02, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8]),
    apply: (x, b) => ({ ...b, rate: x }),
  },
  cv: {
    label: 'CV scale',
    swept: 'as traffic gets burstier (CV)',
    direction: 'falling',
    points: (_s, _t, q) => (q ? [1, 4, 8] : [0.5, 1, 2, 3, 4, 6, 8, 12]),
    apply: (x, b) => ({ ...b, cv: x }),
  },
  slo: {
    label: 'SLO scale (× single-device latency)',
    swept: 'as the SLO loosens',
    direction: 'rising',
    points: (_s, _t, q) => (q ? [1, 5, 10] : [0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30]),
    apply: (x, b) => ({ ...b, slo: x }),
  },
};

function endToEnd(axisName: string, setName: string, traceName: string): Experiment {
  const axis = AXES[axisName];
  const set = SETS[setName];
  const trace = TRACES[traceName];
  const name = `${axisName}-${setName}-${traceName}`;
  return {
    name,
    description: `SLO attainment vs ${axis.label}: ${set.label}, ${trace.label} trace; AlpaServe (static and adaptive) vs Selective Replication vs Clockwork++ (free and priced swaps)`,
    group: 'end-to-end',
    xLabel: axis.label,
    metric: 'attainment',
    plotTitle: (q) => ({
      title: `${name}: SLO attainment ${axis.swept}`,
      subtitle: [
        q ? `quick version of ${setName.toUpperCase()}` : set.label,
        `${trace.label} trace`,
        axisName === 'devices' ? 'devices swept, 13 GiB each' : `${set.devices(q)} devices of 13 GiB`,
        ...(axisName === 'slo' ? [] : ['SLO scale 5']),
      ].join(', '),
    }),
    xLog: axis.xLog,
    direction: axis.direction,
    baselines: ['Selective Replication', 'Clockwork++', 'Clockwork++ (swap cost)'],
    points: (q) => axis.points(set, trace, q),
    systems: (q) => [
      { label: 'AlpaServe', algorithm: 'alpaserve' },
      { label: 'Selective Replication', algorithm: 'selective-replication' },
      { label: 'Clockwork++', algorithm: 'clockwork++', options: { window: trace.window(q) } },
      { label: 'Adaptive AlpaServe', algorithm: 'adaptive', options: trace.adaptive(q) },
      {
        label: 'Clockwork++ (swap cost)',
        algorithm: 'clockwork++',
        options: { window: trace.window(q), swapCost: true },
      },
    ],
    setup: (x, q, seed) => {
      const p = axis.apply(x, { devices: set.devices(q), rate: 1, cv: trace.baseCv, slo: 5 });
      const profiles = set.profiles(q);
      const names = profiles.map((m) => m.name);
      const slos = slosFromScale(names, profileMap(profiles), p.slo);
      const workload = trace.workload(names, slos, p.rate, p.cv, set, q, seed);
      return {
        input: { cluster: { devices: p.devices, memoryPerDevice: 13 * GiB }, profiles, workload },
        evaluation: { trim: q ? 0 : 10 },
      };
    },
  };
}

export const EXPERIMENTS: readonly Experiment[] = [
  ...MOTIVATION,
  ...Object.keys(AXES).flatMap((a) =>
    Object.keys(SETS).flatMap((s) => Object.keys(TRACES).map((t) => endToEnd(a, s, t))),
  ),
];

export const EXPERIMENT_NAMES: readonly string[] = EXPERIMENTS.map((e) => e.name);

export function experiment(name: string): Experiment {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new Error(`unknown experiment "${name}"; see \`meshserve experiment --list\``);
  return e;
}
