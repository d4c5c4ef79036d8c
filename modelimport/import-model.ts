// Importing an ONNX model: read and validate it, check that onnxruntime runs it at the import
// shape, find its cut points, time its nodes, and produce a verified pipeline plan for every
// pp ∈ {1, 2, 4, 8} the graph allows. Each plan's stages are balanced on the measured node times
// (not node counts), written as models of their own, and run as a chain against the whole model:
// a plan whose outputs differ by more than the tolerance (relative) is not offered. Where a layer
// can be split (sharding.ts), each pipeline plan is also offered with op ∈ {2, 4} shards per stage,
// verified the same way.
import { balancedSplit } from '../modelgen/balanced-split.js';
import { sha256Hex } from '../modelgen/model-files.js';
import type { TensorSpec } from '../modelgen/tensor-spec.js';
import { crossingAt, findCutPoints } from './cut-points.js';
import { analyseGraph } from './graph-analysis.js';
import { ImportError } from './import-error.js';
import { measureNodeCosts } from './node-costs.js';
import { checkFloat32, type OnnxModel, readOnnxModel, resolveInputShapes } from './onnx-reader.js';
import {
  createSession,
  relativeDifference,
  runSession,
  type SessionSettings,
  sampleInputs,
  type Tensors,
} from './ort-session.js';
import { type ShardedStage, writeShardedStage } from './shard-writer.js';
import { ShardedChain } from './sharded-chain.js';
import {
  MIN_SHARDED_WEIGHTS,
  type ShardingReport,
  shardableLayers,
  shardingReport,
  worthSharding,
} from './sharding.js';
import { StageChain } from './stage-chain.js';
import { type WrittenStage, writeStage } from './stage-writer.js';
import { probeTensorTypes } from './tensor-types.js';

/** Pipeline degrees offered (the planner's group layouts use powers of two up to 8). */
export const PIPELINE_DEGREES = [1, 2, 4, 8] as const;
/** Shards per stage offered where a layer can be split (the planner's layouts use op ≤ 4). */
export const SHARD_DEGREES = [2, 4] as const;
/** Devices a group may span (pp × op). */
export const MAX_GROUP_DEVICES = 8;
export const DEFAULT_TOLERANCE = 1e-4;
export const DEFAULT_MAX_CROSSING = 2;
export const DEFAULT_MAX_CROSSING_BYTES = 2 ** 20 - 2 ** 14;

export interface ImportOptions extends SessionSettings {
  /** Shapes of inputs with dynamic dimensions (required for those), by input name. */
  inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** Largest pp to offer (default 8). */
  maxPp?: number;
  /** Largest op to offer where a layer can be split (default 4; 1 = pipelines only). */
  maxOp?: number;
  /** Most tensors that may cross a cut (default 2). */
  maxCrossing?: number;
  /** Most bytes the tensors crossing a cut may hold together (default: 1 MiB less 16 KiB, NATS's default max payload less room for the message around them). */
  maxCrossingBytes?: number;
  /** Runs of the node timing (median; default 5). */
  nodeRuns?: number;
  /** Largest relative difference a plan may show against the whole model (default 1e-4). */
  tolerance?: number;
  onProgress?: (line: string) => void;
}

export interface PipelinePlan {
  pp: number;
  stages: WrittenStage[];
  /** Σ of the measured node times per stage (ms): what the balance was chosen on. */
  nodeMs: number[];
  /** Largest relative difference of any output against the whole model. */
  maxRelativeDifference: number;
}

/** A pipeline plan whose stages run on `op` shards each. */
export interface ShardedPlan {
  pp: number;
  op: number;
  stages: ShardedStage[];
  maxRelativeDifference: number;
}

export interface ModelSummary {
  irVersion: number;
  opset: number;
  producer: string;
  nodes: number;
  activationNodes: number;
  deadNodes: number;
  initializers: number;
  constantNodes: number;
  weightBytes: number;
  controlFlowNodes: number;
}

export interface ImportedModel {
  /** sha256 of the file, hex. */
  sha256: string;
  bytes: number;
  summary: ModelSummary;
  inputShapes: Record<string, number[]>;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Places the node order can be cut (≤ maxCrossing float32 tensors crossing). */
  cutPoints: number;
  maxCrossing: number;
  plans: PipelinePlan[];
  /** The same pipelines with op > 1 shards per stage, where a layer can be split. */
  shardedPlans: ShardedPlan[];
  /** Pipeline degrees up to maxPp not offered, and why. */
  skipped: string[];
  sharding: ShardingReport;
  /** Reference outputs of the whole model on the sample inputs (seeded). */
  sampleInputs: Tensors;
}

function summarise(model: OnnxModel, activationNodes: number, deadNodes: number): ModelSummary {
  const { irVersion, opset, producer, nodes, initializers, constantNodes, weightBytes, controlFlowNodes } = model;
  return {
    irVersion,
    opset,
    producer,
    nodes,
    activationNodes,
    deadNodes,
    initializers,
    constantNodes,
    weightBytes,
    controlFlowNodes,
  };
}

/** Whole-model outputs at the sample inputs; onnxruntime's refusal is quoted. */
async function referenceOutputs(bytes: Uint8Array, inputs: Tensors, settings: SessionSettings): Promise<Tensors> {
  let session: Awaited<ReturnType<typeof createSession>>;
  try {
    session = await createSession(bytes, settings);
  } catch (err) {
    throw new ImportError('refused', `onnxruntime refuses the model: ${(err as Error).message}`);
  }
  try {
    return await runSession(session, inputs);
  } catch (err) {
    const shapes = Object.entries(inputs)
      .map(([n, t]) => `${n}=${t.dims.join(',')}`)
      .join(' ');
    throw new ImportError('refused', `onnxruntime cannot run the model at ${shapes}: ${(err as Error).message}`);
  } finally {
    await session.release();
  }
}

/** Runs a chain (then closes it): the largest relative difference of any output from the whole model's. */
async function chainDifference(
  chain: { run(inputs: Tensors): Promise<{ outputs: Tensors }>; close(): Promise<void> },
  inputs: Tensors,
  reference: Tensors,
  names: readonly string[],
): Promise<number> {
  try {
    const { outputs } = await chain.run(inputs);
    return Math.max(...names.map((name) => relativeDifference(reference[name], outputs[name])));
  } finally {
    await chain.close();
  }
}

export async function importModel(bytes: Uint8Array, o: ImportOptions = {}): Promise<ImportedModel> {
  const progress = o.onProgress ?? (() => {});
  const settings: SessionSettings = { threads: o.threads ?? 1, provider: o.provider };
  const maxPp = o.maxPp ?? 8;
  const maxCrossing = o.maxCrossing ?? DEFAULT_MAX_CROSSING;
  const tolerance = o.tolerance ?? DEFAULT_TOLERANCE;
  const model = readOnnxModel(bytes);
  checkFloat32(model);
  const inputShapes = resolveInputShapes(model, o.inputShapes);
  const inputs = sampleInputs(inputShapes);
  const reference = await referenceOutputs(bytes, inputs, settings);
  const maxBytes = o.maxCrossingBytes ?? DEFAULT_MAX_CROSSING_BYTES;
  // A request carries the inputs and a reply the outputs, each in one message.
  for (const [what, tensors] of [
    ['input', inputs],
    ['output', reference],
  ] as const) {
    for (const [name, t] of Object.entries(tensors)) {
      const size = 4 * t.size;
      if (size > maxBytes)
        throw new ImportError(
          'unsupported',
          `${what} "${name}" is ${size} bytes at [${t.dims.join(', ')}], more than one message may carry (${maxBytes} bytes): import it at a smaller shape, or raise the NATS server's max_payload`,
        );
    }
  }
  const analysis = analyseGraph(model);
  progress(
    `read: IR ${model.irVersion}, opset ${model.opset}, ${model.nodes} nodes (${analysis.nodes.length} on activations), ` +
      `${model.initializers} initializers, ${model.constantNodes} Constant nodes, ${(model.weightBytes / 2 ** 20).toFixed(1)} MiB of weights`,
  );
  const types = await probeTensorTypes(model, analysis, inputs, settings);
  const cuts = findCutPoints(analysis, types, { maxCrossing, maxBytes });
  progress(
    `cut points: ${cuts.length} (at most ${maxCrossing} float32 tensor(s) of ${maxBytes} bytes in all crossing)`,
  );
  const nodeMs = await measureNodeCosts(model, analysis, inputs, { ...settings, runs: o.nodeRuns });
  progress(
    `node times: ${nodeMs.reduce((a, b) => a + b, 0).toFixed(2)} ms in all (onnxruntime profiler, median of ${o.nodeRuns ?? 5} runs)`,
  );

  // Units: the stretches between consecutive cut points, with their measured time.
  const bounds = [0, ...cuts.map((c) => c.position), analysis.nodes.length];
  const unitMs = bounds.slice(1).map((end, u) => nodeMs.slice(bounds[u], end).reduce((a, b) => a + b, 0));
  const crossing = new Map(cuts.map((c) => [c.position, c.tensors]));
  crossing.set(0, analysis.inputs.slice());
  crossing.set(analysis.nodes.length, analysis.outputs.slice());

  const plans: PipelinePlan[] = [];
  const skipped: string[] = [];
  for (const pp of PIPELINE_DEGREES) {
    if (pp > maxPp) break;
    if (pp > unitMs.length) {
      skipped.push(
        `pp${pp}: the graph has ${cuts.length} cut point(s) with at most ${maxCrossing} float32 tensor(s) of ${maxBytes} bytes crossing`,
      );
      continue;
    }
    const starts = balancedSplit(unitMs, pp).map((u) => bounds[u]);
    const ranges = starts.map((from, k) => ({ from, to: k + 1 < pp ? starts[k + 1] : analysis.nodes.length }));
    const stages = ranges.map((r, index) =>
      writeStage(model, analysis, types, { ...r, index, receives: crossing.get(r.from)!, sends: crossing.get(r.to)! }),
    );
    const chain = await StageChain.load(stages, settings).catch((err: Error) => {
      throw new ImportError('refused', `onnxruntime refuses a stage of pp${pp}: ${err.message}`);
    });
    const maxRelativeDifference = await chainDifference(chain, inputs, reference, analysis.outputs);
    const stageNodeMs = ranges.map((r) => nodeMs.slice(r.from, r.to).reduce((a, b) => a + b, 0));
    const line = `pp${pp}: stages of ${stageNodeMs.map((ms) => ms.toFixed(2)).join(' / ')} ms (node times); max relative difference ${maxRelativeDifference.toExponential(2)}`;
    if (!(maxRelativeDifference <= tolerance)) {
      skipped.push(
        `pp${pp}: its stages differ from the whole model by ${maxRelativeDifference.toExponential(2)} (relative), over ${tolerance}`,
      );
      progress(`${line}: rejected`);
      continue;
    }
    progress(line);
    plans.push({ pp, stages, nodeMs: stageNodeMs, maxRelativeDifference });
  }
  if (!plans.some((p) => p.pp === 1))
    throw new ImportError(
      'verification',
      `the model does not reproduce its own outputs as one stage: ${skipped.join('; ')}`,
    );

  // op > 1: the same stages, split at the layers worth splitting.
  const layers = shardableLayers(analysis);
  const shardedPlans: ShardedPlan[] = [];
  const why: string[] = [];
  const crossingOf = crossingAt(analysis);
  for (const op of SHARD_DEGREES) {
    if (op > (o.maxOp ?? 4)) break;
    const worth = worthSharding(layers, op);
    for (const plan of plans) {
      if (plan.pp * op > MAX_GROUP_DEVICES) continue;
      const bare = plan.stages.findIndex((s) => !worth.some((l) => l.index >= s.from && l.index < s.to));
      if (bare >= 0) {
        why.push(`pp${plan.pp}-op${op}: stage ${bare} has no layer worth splitting`);
        continue;
      }
      const stages = plan.stages.map((s, index) =>
        writeShardedStage(model, analysis, types, crossingOf, { from: s.from, to: s.to, index }, worth, op),
      );
      const chain = await ShardedChain.load(stages, settings).catch((err: Error) => {
        throw new ImportError('refused', `onnxruntime refuses a shard of pp${plan.pp}-op${op}: ${err.message}`);
      });
      const maxRelativeDifference = await chainDifference(chain, inputs, reference, analysis.outputs);
      const line = `pp${plan.pp}-op${op}: ${stages.map((s) => s.segments.filter((g) => g.reduce).length).join(' / ')} split layer(s) per stage; max relative difference ${maxRelativeDifference.toExponential(2)}`;
      if (!(maxRelativeDifference <= tolerance)) {
        why.push(
          `pp${plan.pp}-op${op}: its shards differ from the whole model by ${maxRelativeDifference.toExponential(2)}`,
        );
        progress(`${line}: rejected`);
        continue;
      }
      progress(line);
      shardedPlans.push({ pp: plan.pp, op, stages, maxRelativeDifference });
    }
  }
  const largest = layers.reduce((m, l) => Math.max(m, l.k * l.n), 0);
  const sharding = shardingReport(
    layers,
    shardedPlans.map((p) => `pp${p.pp}-op${p.op}`),
    layers.length > 0 && worthSharding(layers, 2).length === 0
      ? `its ${layers.length} MatMul/Gemm layer(s) with constant weights are too small to be worth an all-reduce (largest ${largest} weights, fewer than ${MIN_SHARDED_WEIGHTS})`
      : why.slice(0, 2).join('; ') || undefined,
  );
  return {
    sha256: sha256Hex(bytes),
    bytes: bytes.length,
    summary: summarise(model, analysis.nodes.length, analysis.deadNodes),
    inputShapes,
    inputs: model.inputs.map((i) => ({ name: i.name, shape: inputShapes[i.name] })),
    outputs: analysis.outputs.map((name) => ({ name, shape: [...reference[name].dims] })),
    cutPoints: cuts.length,
    maxCrossing,
    plans,
    shardedPlans,
    skipped,
    sharding,
    sampleInputs: inputs,
  };
}
