// The GPU worker's ONNX strategy: for each model of a stage assignment, builds exactly this
// (stage, shard)'s graphs from the model's generated transformer `(size, seed)` and the group's
// `(pp, op)`, and holds one OnnxGraphRunner (one session per graph) until the stage is unloaded.
// A job runs the stage's segments in order; a segment that reduces sums this shard's partial
// with the other shards' (ShardExchange, over NATS in the worker) before the next segment, so
// every shard carries on from the same full activation.

import type { OrtSettings } from '../../config/worker.js';
import { planPartition, stageShardSpec } from '../../modelgen/partition.js';
import type { TensorSpec } from '../../modelgen/tensor-spec.js';
import { TransformerWeights, transformerSpec } from '../../modelgen/transformer.js';
import { nowSeconds } from '../clock.js';
import { parseWireTensor, type WireTensor } from '../protocol/tensor.js';
import { OnnxGraphRunner } from './onnx-graphs.js';
import { sumPartials } from './plan-runner.js';
import type { ShardExchange, StageAssignment, StageExecutor, StageJob, StageResult } from './stage-executor.js';

interface LoadedModel {
  readonly executor: OnnxGraphRunner;
  /** Per segment: the partial's spec when the segment's output is summed over the shards. */
  readonly reduces: ReadonlyArray<TensorSpec | undefined>;
}

export class OnnxStageExecutor implements StageExecutor {
  readonly kind = 'onnx';
  /** assignment key → model name → loaded graphs */
  private readonly stages = new Map<string, Map<string, LoadedModel>>();

  constructor(private readonly options: Partial<OrtSettings> = {}) {}

  async load(a: StageAssignment): Promise<void> {
    const models = new Map<string, LoadedModel>();
    try {
      for (const m of a.models) {
        if (!m.onnx)
          throw new Error(
            `model "${m.name}" names no ONNX model: its profile needs onnx { size, seed } (as written by meshserve profile)`,
          );
        const spec = transformerSpec(m.onnx.size, m.onnx.seed);
        const plan = planPartition(spec, { pp: a.pp, op: a.op });
        const executor = new OnnxGraphRunner(this.options);
        await executor.load(stageShardSpec(new TransformerWeights(spec), plan, a.stage, a.shard));
        models.set(m.name, {
          executor,
          reduces: plan.stages[a.stage].segments.map((s) =>
            s.reduce === 'sum' ? s.shards[a.shard].output : undefined,
          ),
        });
      }
    } catch (err) {
      await Promise.all([...models.values()].map((m) => m.executor.unload()));
      throw err;
    }
    this.stages.set(a.key, models);
  }

  async run(job: StageJob, shards?: ShardExchange): Promise<StageResult> {
    const model = this.stages.get(job.assignment)?.get(job.model);
    if (!model) throw new Error(`model "${job.model}" is not loaded for stage ${job.assignment}`);
    const start = nowSeconds();
    let activation: unknown = job.input;
    for (let segment = 0; segment < model.reduces.length; segment++) {
      const out = await model.executor.run(activation, segment);
      const partialSpec = model.reduces[segment];
      if (!partialSpec) {
        activation = out;
        continue;
      }
      if (!shards) throw new Error(`stage ${job.assignment} is sharded but was run without its shard exchange`);
      const parts = await shards.allGather(segment, out);
      // Every shard sums in shard order, so all of them continue from the same values.
      activation = sumPartials(
        parts.map((p, j): WireTensor => (j === shards.shard ? out : parseWireTensor(p, partialSpec))),
      );
    }
    return { output: activation, start, finish: nowSeconds() };
  }

  async unload(assignmentKey: string): Promise<void> {
    const models = this.stages.get(assignmentKey);
    this.stages.delete(assignmentKey);
    if (models) await Promise.all([...models.values()].map((m) => m.executor.unload()));
  }
}
