// Runs a whole partition plan in one process: stage after stage, every shard of a segment in
// turn, partial sums reduced here in JS. It is the reference for the distributed runtime
// (same plan, same graphs, the reduction done over NATS instead) and the tests' proof that
// pipelined and sharded execution equals the single graph.
import type { OrtSettings } from '../../config/worker.js';
import { type PartitionPlan, stageShardSpec } from '../../modelgen/partition.js';
import type { TransformerWeights } from '../../modelgen/transformer.js';
import { float32Values, type WireTensor, wireTensor } from '../protocol/tensor.js';
import { type GraphRunner, OnnxGraphRunner } from './onnx-graphs.js';

export interface StageTiming {
  /** Wall time of the stage here, shards run one after another. */
  wallMs: number;
  /** Σ over segments of the slowest shard: the stage's time when its shards run in parallel (reduction excluded). */
  parallelMs: number;
  /** Time spent summing partials in JS. */
  reduceMs: number;
}

export interface LocalRunResult {
  output: WireTensor;
  stages: StageTiming[];
}

/** Element-wise sum of the shards' partial outputs (all of the same shape). */
export function sumPartials(partials: WireTensor[]): WireTensor {
  const [first, ...rest] = partials;
  if (!first) throw new Error('no partial sums to reduce');
  const total = Float32Array.from(float32Values(first));
  for (const p of rest) {
    if (p.shape.join(',') !== first.shape.join(','))
      throw new Error(`partial sums disagree in shape: [${first.shape}] vs [${p.shape}]`);
    const values = float32Values(p);
    for (let i = 0; i < total.length; i++) total[i] += values[i];
  }
  return wireTensor(total, first.shape);
}

export class LocalPlanRunner {
  private constructor(
    readonly plan: PartitionPlan,
    /** executors[stage][shard] */
    private readonly executors: GraphRunner[][],
  ) {}

  static async load(
    weights: TransformerWeights,
    plan: PartitionPlan,
    makeExecutor: () => GraphRunner = () => new OnnxGraphRunner(),
  ): Promise<LocalPlanRunner> {
    const executors: GraphRunner[][] = [];
    const runner = new LocalPlanRunner(plan, executors);
    try {
      for (const stage of plan.stages) {
        const row: GraphRunner[] = [];
        executors.push(row);
        for (let shard = 0; shard < plan.op; shard++) {
          const executor = makeExecutor();
          row.push(executor);
          await executor.load(stageShardSpec(weights, plan, stage.index, shard));
        }
      }
    } catch (err) {
      await runner.close();
      throw err;
    }
    return runner;
  }

  static loadOnnx(
    weights: TransformerWeights,
    plan: PartitionPlan,
    options: Partial<OrtSettings> = {},
  ): Promise<LocalPlanRunner> {
    return LocalPlanRunner.load(weights, plan, () => new OnnxGraphRunner(options));
  }

  async run(input: unknown): Promise<LocalRunResult> {
    let activation = input;
    const stages: StageTiming[] = [];
    for (const stage of this.plan.stages) {
      const stageStart = performance.now();
      let parallelMs = 0;
      let reduceMs = 0;
      for (const segment of stage.segments) {
        const partials: WireTensor[] = [];
        let slowest = 0;
        for (const graph of segment.shards) {
          const start = performance.now();
          partials.push(await this.executors[stage.index][graph.shard].run(activation, segment.index));
          slowest = Math.max(slowest, performance.now() - start);
        }
        parallelMs += slowest;
        if (segment.reduce === 'sum') {
          const start = performance.now();
          activation = sumPartials(partials);
          reduceMs += performance.now() - start;
        } else {
          activation = partials[0];
        }
      }
      stages.push({ wallMs: performance.now() - stageStart, parallelMs, reduceMs });
    }
    return { output: activation as WireTensor, stages };
  }

  async close(): Promise<void> {
    for (const row of this.executors) for (const executor of row) await executor.unload();
  }
}
