// The GPU worker's ONNX strategy. For each model of a stage assignment it holds what runs this
// (stage, shard) until the stage is unloaded:
// - a generated transformer `(size, seed)`: exactly this shard's graphs, built from the seeded
//   model and the group's `(pp, op)`, one OnnxGraphRunner (one session per graph). A job runs the
//   stage's segments in order; a segment that reduces sums this shard's partial with the other
//   shards' (ShardExchange, over NATS in the worker) before the next segment, so every shard
//   carries on from the same full activation;
// - an imported model: the stage's files for the group's config, from the model store (checked
//   against their sha256): one session, or with op > 1 this shard's segments (ImportedStageRunner).

import type { OrtSettings } from '../../config/worker.js';
import { planPartition, stageShardSpec } from '../../modelgen/partition.js';
import type { TensorSpec } from '../../modelgen/tensor-spec.js';
import { TransformerWeights, transformerSpec } from '../../modelgen/transformer.js';
import { configKey } from '../../planner/types.js';
import { nowSeconds } from '../clock.js';
import type { StageFiles } from '../model-store/stage-files.js';
import { parseWireTensor, type WireTensor } from '../protocol/tensor.js';
import { ImportedStageRunner } from './imported-stage.js';
import { OnnxGraphRunner } from './onnx-graphs.js';
import { sumPartials } from './plan-runner.js';
import type { ShardExchange, StageAssignment, StageExecutor, StageJob, StageResult } from './stage-executor.js';

type LoadedModel =
  | {
      readonly kind: 'generated';
      readonly executor: OnnxGraphRunner;
      /** Per segment: the partial's spec when the segment's output is summed over the shards. */
      readonly reduces: ReadonlyArray<TensorSpec | undefined>;
    }
  | { readonly kind: 'imported'; readonly runner: ImportedStageRunner };

type AssignedModel = StageAssignment['models'][number];

const release = (m: LoadedModel): Promise<void> => (m.kind === 'generated' ? m.executor.unload() : m.runner.release());

export class OnnxStageExecutor implements StageExecutor {
  readonly kind = 'onnx';
  /** assignment key → model name → loaded graphs */
  private readonly stages = new Map<string, Map<string, LoadedModel>>();

  constructor(private readonly options: Partial<OrtSettings> = {}) {}

  async load(a: StageAssignment, files?: StageFiles): Promise<void> {
    const models = new Map<string, LoadedModel>();
    try {
      for (const m of a.models) models.set(m.name, await this.#loadModel(a, m, files));
    } catch (err) {
      await Promise.all([...models.values()].map(release));
      throw err;
    }
    this.stages.set(a.key, models);
  }

  async #loadModel(a: StageAssignment, m: AssignedModel, files: StageFiles | undefined): Promise<LoadedModel> {
    if (m.imported) {
      const key = configKey(a);
      const stage = m.imported.stages[key]?.[a.stage];
      const where = `group ${a.group} stage ${a.stage}: model "${m.name}"`;
      if (!stage) throw new Error(`${where} has no stage files for ${key}`);
      if (!files) throw new Error(`${where}: this worker has no model store to fetch stage files from`);
      try {
        return { kind: 'imported', runner: await ImportedStageRunner.load(files, stage, a.shard, this.options) };
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`);
      }
    }
    if (!m.onnx)
      throw new Error(
        `model "${m.name}" names no ONNX model: its profile needs onnx { size, seed } (meshserve profile) or an imported model (meshserve import)`,
      );
    const spec = transformerSpec(m.onnx.size, m.onnx.seed);
    const plan = planPartition(spec, { pp: a.pp, op: a.op });
    const executor = new OnnxGraphRunner(this.options);
    await executor.load(stageShardSpec(new TransformerWeights(spec), plan, a.stage, a.shard));
    return {
      kind: 'generated',
      executor,
      reduces: plan.stages[a.stage].segments.map((s) => (s.reduce === 'sum' ? s.shards[a.shard].output : undefined)),
    };
  }

  async run(job: StageJob, shards?: ShardExchange): Promise<StageResult> {
    const model = this.stages.get(job.assignment)?.get(job.model);
    if (!model) throw new Error(`model "${job.model}" is not loaded for stage ${job.assignment}`);
    const start = nowSeconds();
    if (model.kind === 'imported') {
      const output = await model.runner.run(job.input, shards);
      return { output, start, finish: nowSeconds() };
    }
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
    if (models) await Promise.all([...models.values()].map(release));
  }
}
