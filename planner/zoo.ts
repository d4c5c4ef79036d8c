// The paper's model zoo (docs/alpaserve.md, "Model profiles"). Single-device latencies and weight
// sizes of the BERT models are the paper's measurements (V100, batch 1, fp16); every per-config table
// is SYNTHESISED from the measured shapes below, and the MoE latencies are ESTIMATES (the paper's
// values were not recovered). Each profile says so in `source` and `notes`. Measured profiles from our
// own profiler replace these through profile.ts's JSON loader.
import { type ConfigProfile, configKey, type ModelProfile, type ProfileSource } from './types.js';

/** Decimal gigabytes, as the paper quotes weight sizes. */
const GB = 1e9;

/**
 * Pipeline depths and intra-op degrees the zoo covers: the group layouts need pp ≤ 8, op ≤ 4
 * (docs/alpaserve.md, "Placement"); op 8 comes for free.
 */
export const ZOO_PIPELINE_DEPTHS = [1, 2, 4, 8] as const;
export const ZOO_INTRA_OP_DEGREES = [1, 2, 4, 8] as const;

/**
 * Total latency of an n-stage pipeline over one device. Paper: +2–8% at pp 2, +7–12% at pp 4;
 * pp 8 is an extrapolation (synthesised).
 */
export const PIPELINE_LATENCY_FACTOR: Readonly<Record<number, number>> = { 1: 1, 2: 1.05, 4: 1.1, 8: 1.18 };

/**
 * Relative latency weight of the end stages (embedding, head) vs the middle ones: the paper's
 * shares are about [1.12, 0.94, …, 0.94, 1.12]. With the pp-4 factor this gives
 * max-stage × pp ≈ 1.2 × single latency, as measured.
 */
const END_STAGE_LATENCY = 1.12;
const MIDDLE_STAGE_LATENCY = 0.94;
/** Weight share of the end stages for pp ≥ 4: max stage ≈ 1.15 · W/pp (paper). */
const END_STAGE_WEIGHT = 1.15;

/**
 * Intra-op (op = n) latency = L1/n + communication, communication = COMM · L1 · (1 − 1/n)
 * (synthesised): op 2 → 0.6·L1, op 4 → 0.4·L1, op 8 → 0.3·L1. Op 4 is clearly faster than one
 * device yet gives less throughput per device than replication (4 · 0.4 > 1), as the paper requires.
 */
const INTRA_OP_COMMUNICATION = 0.2;

/** Per-stage shares summing to pp: ends weigh `end`, the middle stages `middle`, rescaled. */
function stageShares(pp: number, end: number, middle: number): number[] {
  if (pp === 1) return [1];
  const raw = Array.from({ length: pp }, (_, k) => (k === 0 || k === pp - 1 ? end : middle));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => (r * pp) / sum);
}

/** Weight shares summing to pp: both ends hold END_STAGE_WEIGHT, the middle splits the rest. */
function weightShares(pp: number): number[] {
  if (pp <= 2) return Array.from({ length: pp }, () => 1);
  const middle = (pp - 2 * END_STAGE_WEIGHT) / (pp - 2);
  return Array.from({ length: pp }, (_, k) => (k === 0 || k === pp - 1 ? END_STAGE_WEIGHT : middle));
}

export function intraOpLatencyFactor(op: number): number {
  return 1 / op + INTRA_OP_COMMUNICATION * (1 - 1 / op);
}

/** One synthesised config table for a model of single-device latency L1 and weights W. */
export function synthesiseConfig(singleLatency: number, weightBytes: number, pp: number, op: number): ConfigProfile {
  const factor = PIPELINE_LATENCY_FACTOR[pp];
  if (factor === undefined)
    throw new Error(`no synthesis rule for pp ${pp}; known: ${Object.keys(PIPELINE_LATENCY_FACTOR).join(', ')}`);
  const total = singleLatency * factor * intraOpLatencyFactor(op);
  const lat = stageShares(pp, END_STAGE_LATENCY, MIDDLE_STAGE_LATENCY).map((s) => (total * s) / pp);
  const mem = weightShares(pp).map((s) => (weightBytes * s) / (pp * op));
  return { pp, op, stageLatency: lat, stageWeightBytes: mem };
}

/** Config tables for every zoo (pp, op) pair. */
export function synthesiseConfigs(singleLatency: number, weightBytes: number): Record<string, ConfigProfile> {
  const configs: Record<string, ConfigProfile> = {};
  for (const pp of ZOO_PIPELINE_DEPTHS) {
    for (const op of ZOO_INTRA_OP_DEGREES)
      configs[configKey({ pp, op })] = synthesiseConfig(singleLatency, weightBytes, pp, op);
  }
  return configs;
}

export interface ZooEntry {
  readonly name: string;
  /** Seconds, single V100, batch 1. */
  readonly latency: number;
  readonly weightBytes: number;
  /** 'synthesised' = measured single-device figures + synthesised tables; 'estimated' = latency itself estimated. */
  readonly source: ProfileSource;
  readonly architecture: string;
}

/** Dense-model latency vs weight size, a log-log fit through the three measured BERT points (slope ≈ 0.56). */
const DENSE_LATENCY_EXPONENT = Math.log(396.2 / 150.6) / Math.log(13.4 / 2.4);
/** MoE models run a fraction of their experts per token; assumed 0.8 × a dense model of equal size (estimate). */
const MOE_DISCOUNT = 0.8;

function moeLatencyEstimate(weightBytes: number): number {
  return MOE_DISCOUNT * 0.1506 * (weightBytes / (2.4 * GB)) ** DENSE_LATENCY_EXPONENT;
}

export const ZOO: readonly ZooEntry[] = [
  {
    name: 'bert-1.3b',
    latency: 0.1506,
    weightBytes: 2.4 * GB,
    source: 'synthesised',
    architecture: 'BERT seq 2048, hidden 2048, 24 layers, 32 heads, vocab 51200',
  },
  {
    name: 'bert-2.6b',
    latency: 0.2371,
    weightBytes: 5.4 * GB,
    source: 'synthesised',
    architecture: 'BERT seq 2048, hidden 2560, 32 layers, 32 heads, vocab 51200',
  },
  {
    name: 'bert-6.7b',
    latency: 0.3962,
    weightBytes: 13.4 * GB,
    source: 'synthesised',
    architecture: 'BERT seq 2048, hidden 4096, 32 layers, 32 heads, vocab 51200',
  },
  {
    name: 'bert-103.5b',
    latency: 4.6,
    weightBytes: 207 * GB,
    source: 'synthesised',
    architecture: 'BERT seq 1024, hidden 8192, 128 layers, 64 heads, vocab 51200',
  },
  {
    name: 'moe-1.3b',
    latency: moeLatencyEstimate(2.6 * GB),
    weightBytes: 2.6 * GB,
    source: 'estimated',
    architecture: 'GShard MoE',
  },
  {
    name: 'moe-2.4b',
    latency: moeLatencyEstimate(4.8 * GB),
    weightBytes: 4.8 * GB,
    source: 'estimated',
    architecture: 'GShard MoE',
  },
  {
    name: 'moe-5.3b',
    latency: moeLatencyEstimate(10.6 * GB),
    weightBytes: 10.6 * GB,
    source: 'estimated',
    architecture: 'GShard MoE',
  },
];

export const ZOO_NAMES: readonly string[] = ZOO.map((z) => z.name);

function notesFor(z: ZooEntry): string {
  const tables =
    'Per-config tables synthesised (not measured): pipeline totals ×1.05/1.10/1.18 at pp 2/4/8, end stages heavier ' +
    '([1.12, 0.94, …, 1.12] latency shares; end-stage weight 1.15·W/pp for pp ≥ 4), intra-op latency L1/op + 0.2·L1·(1 − 1/op), weight W/(pp·op) per stage share.';
  const single =
    z.source === 'estimated'
      ? `Weight size from the paper; single-device latency ESTIMATED (${(z.latency * 1e3).toFixed(1)} ms = 0.8 × a dense BERT of equal size on the log-log fit of the measured BERT latencies).`
      : 'Single-device latency and weight size measured in the paper (V100, batch 1, fp16).';
  return `${z.architecture}. ${single} ${tables}`;
}

/** The zoo profile of `zooName`, optionally under another model name (e.g. replicas "bert-1.3b-7"). */
export function zooProfile(zooName: string, as: string = zooName): ModelProfile {
  const z = ZOO.find((e) => e.name === zooName);
  if (!z) throw new Error(`unknown zoo model "${zooName}"; known: ${ZOO_NAMES.join(', ')}`);
  return {
    name: as,
    singleDeviceLatency: z.latency,
    weightBytes: z.weightBytes,
    configs: synthesiseConfigs(z.latency, z.weightBytes),
    source: z.source,
    notes: notesFor(z),
  };
}

/** Every zoo model, under its own name. */
export function zooProfiles(): ModelProfile[] {
  return ZOO.map((z) => zooProfile(z.name));
}
