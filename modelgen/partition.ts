// Stage plans: a model split into `pp` pipeline stages of balanced cost, each stage run by
// `op` shard actors. Plain data (JSON-serialisable) plus the function that emits any one
// shard's graphs from the seeded model, so a worker can build exactly what it loads.
//
// With op = 1 a stage is one graph. With op > 1 a stage is a sequence of segments, one per
// layer; every shard of a segment reads the same full activation and writes a partial sum,
// and the segment's output is the element-wise sum over its shards (an all-reduce). That sum
// is the only exchange between shards; the activation at a stage boundary is the only
// exchange between stages.

import type { ParallelConfig } from '../planner/types.js';
import { balancedSplit } from './balanced-split.js';
import type { TensorSpec } from './tensor-spec.js';
import {
  type Layer,
  layerInput,
  layerOutput,
  layerShardParams,
  modelIO,
  type TransformerSpec,
  type TransformerWeights,
  transformerLayers,
} from './transformer.js';
import { buildLayerGraph, type EmittedGraph } from './transformer-graphs.js';

export type { ParallelConfig };

/** One loadable graph: its boundary tensors and its serialised ONNX model. */
export interface LoadableGraph {
  name: string;
  input: TensorSpec;
  output: TensorSpec;
  bytes: Uint8Array;
}

/** What a shard loads: the graphs of one shard of one stage, in segment order. */
export interface StageShardSpec {
  graphs: LoadableGraph[];
}

/** One ONNX graph that one shard actor loads. */
export interface GraphSpec {
  name: string;
  stage: number;
  segment: number;
  shard: number;
  shards: number;
  layers: string[];
  input: TensorSpec;
  output: TensorSpec;
}

export interface SegmentPlan {
  index: number;
  layers: string[];
  /** 'sum': add the shards' outputs element-wise (op > 1); 'none': the single shard's output is final. */
  reduce: 'sum' | 'none';
  /** One graph per shard, indexed by shard. */
  shards: GraphSpec[];
}

export interface StagePlan {
  index: number;
  /** Pipeline units in this stage: 'input_proj', 'block<i>', 'head'. */
  units: string[];
  /** FLOPs at batch 1 for the whole stage (all shards together). */
  flops: number;
  params: number;
  /** float32 weight bytes held by the stage's largest shard. */
  maxShardWeightBytes: number;
  /** The activation entering the stage (the previous stage's output). */
  input: TensorSpec;
  output: TensorSpec;
  segments: SegmentPlan[];
}

export interface PartitionPlan {
  model: { name: string; size: string; seed: number };
  pp: number;
  op: number;
  input: TensorSpec;
  output: TensorSpec;
  stages: StagePlan[];
  /** Max stage FLOPs over mean stage FLOPs (1 = perfect balance). */
  imbalance: number;
}

interface PipelineUnit {
  id: string;
  layers: Layer[];
  flops: number;
}

/** The pipeline units: the input projection, each whole block, and the head. */
function pipelineUnits(spec: TransformerSpec): PipelineUnit[] {
  const units: PipelineUnit[] = [];
  for (const layer of transformerLayers(spec)) {
    const id = layer.block === undefined ? layer.id : `block${layer.block}`;
    const last = units[units.length - 1];
    if (last && last.id === id) last.layers.push(layer);
    else units.push({ id, layers: [layer], flops: 0 });
  }
  for (const u of units) u.flops = u.layers.reduce((s, l) => s + l.flops, 0);
  return units;
}

/** Largest pp: one pipeline unit (input projection, a block, the head) per stage. */
export function maxPipelineDegree(spec: TransformerSpec): number {
  return pipelineUnits(spec).length;
}

/** Largest op every layer can be split into (one head, one input feature, ... per shard). */
export function maxIntraOpDegree(spec: TransformerSpec): number {
  return Math.min(spec.heads, spec.inputDim, spec.hidden, spec.ffn);
}

export function planPartition(spec: TransformerSpec, config: ParallelConfig): PartitionPlan {
  const { pp, op } = config;
  const units = pipelineUnits(spec);
  if (!Number.isInteger(pp) || pp < 1 || pp > units.length) {
    throw new Error(
      `pp must be an integer from 1 to ${units.length} for ${spec.name} (${spec.blocks} blocks + input projection + head), got ${pp}`,
    );
  }
  if (!Number.isInteger(op) || op < 1 || op > maxIntraOpDegree(spec)) {
    throw new Error(`op must be an integer from 1 to ${maxIntraOpDegree(spec)} for ${spec.name}, got ${op}`);
  }
  const io = modelIO(spec);
  const starts = balancedSplit(
    units.map((u) => u.flops),
    pp,
  );
  const prefix = `${spec.name}.pp${pp}op${op}`;
  const stages: StagePlan[] = starts.map((start, k) => {
    const stageUnits = units.slice(start, k + 1 < pp ? starts[k + 1] : units.length);
    const layers = stageUnits.flatMap((u) => u.layers);
    const input = k === 0 ? io.input : { name: 'hidden', shape: layerInput(spec, layers[0]) };
    const output =
      k === pp - 1 ? io.output : { name: 'hidden_out', shape: layerOutput(spec, layers[layers.length - 1]) };
    const groups = op === 1 ? [layers] : layers.map((l) => [l]);
    const segments = groups.map((group, s): SegmentPlan => {
      const segInput = s === 0 ? input : { name: 'hidden', shape: layerInput(spec, group[0]) };
      // With op = 1 the stage is this one segment; with op > 1 each shard writes a partial sum.
      const segOutput = op > 1 ? { name: 'partial', shape: layerOutput(spec, group[0]) } : output;
      return {
        index: s,
        layers: group.map((l) => l.id),
        reduce: op > 1 ? 'sum' : 'none',
        shards: Array.from({ length: op }, (_, j) => ({
          name: `${prefix}.stage${k}.seg${s}.shard${j}`,
          stage: k,
          segment: s,
          shard: j,
          shards: op,
          layers: group.map((l) => l.id),
          input: segInput,
          output: segOutput,
        })),
      };
    });
    const params = layers.reduce((sum, l) => sum + l.params, 0);
    const shardParams = Array.from({ length: op }, (_, j) =>
      layers.reduce((sum, l) => sum + layerShardParams(spec, l, { index: j, count: op }), 0),
    );
    return {
      index: k,
      units: stageUnits.map((u) => u.id),
      flops: stageUnits.reduce((sum, u) => sum + u.flops, 0),
      params,
      maxShardWeightBytes: 4 * Math.max(...shardParams),
      input,
      output,
      segments,
    };
  });
  const flops = stages.map((s) => s.flops);
  const mean = flops.reduce((a, b) => a + b, 0) / pp;
  return {
    model: { name: spec.name, size: spec.size, seed: spec.seed },
    pp,
    op,
    ...io,
    stages,
    imbalance: Math.max(...flops) / mean,
  };
}

/** Emits one graph of the plan from the model's seeded weights. */
export function buildGraph(weights: TransformerWeights, graph: GraphSpec): EmittedGraph {
  const byId = new Map(transformerLayers(weights.spec).map((l) => [l.id, l]));
  const layers = graph.layers.map((id) => {
    const layer = byId.get(id);
    if (!layer) throw new Error(`graph ${graph.name}: ${weights.spec.name} has no layer "${id}"`);
    return layer;
  });
  return buildLayerGraph(weights, {
    name: graph.name,
    layers,
    shard: { index: graph.shard, count: graph.shards },
    input: graph.input,
    output: graph.output,
  });
}

/** The graphs one shard actor of one stage loads, in segment order. */
export function shardGraphs(plan: PartitionPlan, stage: number, shard: number): GraphSpec[] {
  const s = plan.stages[stage];
  if (!s) throw new Error(`plan ${plan.model.name} pp=${plan.pp} has no stage ${stage}`);
  if (!Number.isInteger(shard) || shard < 0 || shard >= plan.op)
    throw new Error(`plan op=${plan.op} has no shard ${shard}`);
  return s.segments.map((seg) => seg.shards[shard]);
}

/** What the executor of (stage, shard) loads: its graphs, emitted from the seeded weights. */
export function stageShardSpec(
  weights: TransformerWeights,
  plan: PartitionPlan,
  stage: number,
  shard: number,
): StageShardSpec {
  return {
    graphs: shardGraphs(plan, stage, shard).map((g) => ({
      name: g.name,
      input: g.input,
      output: g.output,
      bytes: buildGraph(weights, g).bytes,
    })),
  };
}
