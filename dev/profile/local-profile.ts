// A first, in-process profile of a generated model under several parallel configs, in the
// planner's ModelProfile format. Shards run in turn on this machine and partials are summed in
// JS, so a stage's latency is Σ over segments of its slowest shard plus the reduce, with no
// network cost: a lower bound for the distributed runtime, which the NATS profiler replaces.

import type { OrtSettings } from '../../config/worker.js';
import { planPartition } from '../../modelgen/partition.js';
import { uniformFloats } from '../../modelgen/seeded-random.js';
import { type TransformerSpec, TransformerWeights } from '../../modelgen/transformer.js';
import { median } from '../../planner/stats.js';
import { type ConfigProfile, configKey, type ModelProfile, type ParallelConfig } from '../../planner/types.js';
import { LocalPlanRunner, type LocalRunResult } from '../../serving/executors/plan-runner.js';
import { wireTensor } from '../../serving/protocol/tensor.js';

/** Re-exported for callers that imported it from here. */
export { median };

export interface StageMeasurement {
  /** Medians over the measured runs, milliseconds. */
  parallelMs: number;
  reduceMs: number;
  /** Wall time here, shards in turn. */
  wallMs: number;
}

export interface ConfigMeasurement {
  config: ParallelConfig;
  units: string[][];
  reducesPerStage: number[];
  stages: StageMeasurement[];
  /** Median end-to-end wall time in this process, milliseconds. */
  endToEndMs: number;
}

export interface LocalProfileOptions {
  runs?: number;
  warmup?: number;
  executor?: Partial<OrtSettings>;
  /** Called as each config is measured (for progress lines). */
  onMeasured?: (m: ConfigMeasurement) => void;
}

export interface LocalProfile {
  profile: ModelProfile;
  measurements: ConfigMeasurement[];
}

/** Profiles `spec` under each config (pp1-op1 is always included: the SLO reference). */
export async function profileLocally(
  spec: TransformerSpec,
  configs: readonly ParallelConfig[],
  options: LocalProfileOptions = {},
): Promise<LocalProfile> {
  const runs = options.runs ?? 20;
  const warmup = options.warmup ?? 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${runs}`);
  const weights = new TransformerWeights(spec);
  const input = wireTensor(uniformFloats(spec.seed, 'profile-input', spec.seq * spec.inputDim, 1), [
    1,
    spec.seq,
    spec.inputDim,
  ]);
  const all = [{ pp: 1, op: 1 }, ...configs.filter((c) => !(c.pp === 1 && c.op === 1))];
  const measurements: ConfigMeasurement[] = [];
  const tables: Record<string, ConfigProfile> = {};
  let weightBytes = 0;
  for (const config of all) {
    const plan = planPartition(spec, config);
    const runner = await LocalPlanRunner.loadOnnx(weights, plan, options.executor);
    try {
      for (let i = 0; i < warmup; i++) await runner.run(input);
      const results: LocalRunResult[] = [];
      const wall: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        results.push(await runner.run(input));
        wall.push(performance.now() - start);
      }
      const stages = plan.stages.map((_, k) => ({
        parallelMs: median(results.map((r) => r.stages[k].parallelMs)),
        reduceMs: median(results.map((r) => r.stages[k].reduceMs)),
        wallMs: median(results.map((r) => r.stages[k].wallMs)),
      }));
      const measurement: ConfigMeasurement = {
        config: { pp: config.pp, op: config.op },
        units: plan.stages.map((s) => s.units),
        reducesPerStage: plan.stages.map((s) => (config.op > 1 ? s.segments.length : 0)),
        stages,
        endToEndMs: median(wall),
      };
      measurements.push(measurement);
      options.onMeasured?.(measurement);
      tables[configKey(config)] = {
        pp: config.pp,
        op: config.op,
        stageLatency: stages.map((s) => (s.parallelMs + s.reduceMs) / 1000),
        stageWeightBytes: plan.stages.map((s) => s.maxShardWeightBytes),
      };
      if (config.pp === 1 && config.op === 1) weightBytes = plan.stages[0].maxShardWeightBytes;
    } finally {
      await runner.close();
    }
  }
  const single = tables[configKey({ pp: 1, op: 1 })];
  return {
    measurements,
    profile: {
      name: spec.name,
      singleDeviceLatency: single.stageLatency[0],
      weightBytes,
      configs: tables,
      source: 'measured',
      notes:
        `onnxruntime-node in one process, batch 1, median of ${runs} runs; stage latency = Σ over segments of the slowest shard ` +
        '(shards timed in turn) + the partial-sum reduce in JS; no network cost included.',
    },
  };
}
