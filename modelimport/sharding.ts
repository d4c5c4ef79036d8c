// Intra-operator sharding (op > 1) of an imported graph, where a pattern is recognised: a MatMul
// (or a Gemm without transposed A, alpha = beta = 1) whose second input is a constant 2-D float32
// weight W[K, N]. Shard j takes a slice of the inner dimension K: it slices its input's last axis
// and multiplies by its rows of W (a Gemm's bias goes to shard 0 alone), so the layer's output is
// the element-wise sum of the shards' partial products — the all-reduce the runtime already does
// between segments. The other nodes of a stage run whole on every shard (replicated segments), so
// only the partial products travel. A stage is offered at op > 1 only when it has such a layer.
import { splitRange } from '../modelgen/tensor-spec.js';
import type { GraphAnalysis } from './graph-analysis.js';
import { constantTensor, FLOAT32, type NodeProto, type TensorProto, toNumber } from './onnx-schema.js';

export interface ShardingReport {
  /** Whether op > 1 configs are offered. */
  offered: boolean;
  /** Which case applies, in words (the import prints it). */
  reason: string;
}

/** A layer shard j of op can compute a slice of: node index, its weight and how to slice it. */
export interface ShardableLayer {
  /** Index in analysis.nodes. */
  index: number;
  node: NodeProto;
  /** The weight as float32 [K, N] (a Gemm with transB holds it as [N, K]: already transposed here). */
  weight: Float32Array;
  k: number;
  n: number;
}

/** Layers smaller than this (K·N weights) are not worth an all-reduce. */
export const MIN_SHARDED_WEIGHTS = 4096;

/** The float32 values of a weight held as an initializer or a Constant node, if it is one. */
function weightValues(analysis: GraphAnalysis, name: string): { values: Float32Array; dims: number[] } | undefined {
  const t: TensorProto | undefined =
    analysis.initializers.get(name) ??
    (analysis.weightNodes.get(name)?.opType === 'Constant'
      ? constantTensor(analysis.weightNodes.get(name)!)
      : undefined);
  if (!t || t.dataType !== FLOAT32) return undefined;
  const dims = (t.dims ?? []).map((d) => toNumber(d));
  const count = dims.reduce((a, b) => a * b, 1);
  let values: Float32Array;
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== 4 * count) return undefined;
    values = new Float32Array(count);
    new Uint8Array(values.buffer).set(t.rawData);
  } else if (t.floatData && t.floatData.length === count) values = Float32Array.from(t.floatData);
  else return undefined;
  return { values, dims };
}

function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

const attr = (n: NodeProto, name: string): number | undefined => {
  const a = n.attribute?.find((x) => x.name === name);
  if (!a) return undefined;
  return a.type === 1 ? (a.f ?? 0) : toNumber(a.i);
};

/** Every top-level layer matching the pattern, with its weight. */
export function shardableLayers(analysis: GraphAnalysis): ShardableLayer[] {
  const out: ShardableLayer[] = [];
  analysis.nodes.forEach((node, index) => {
    const isMatMul = node.opType === 'MatMul';
    const isGemm = node.opType === 'Gemm';
    if ((!isMatMul && !isGemm) || (node.domain && node.domain !== 'ai.onnx')) return;
    if (
      isGemm &&
      ((attr(node, 'transA') ?? 0) !== 0 || (attr(node, 'alpha') ?? 1) !== 1 || (attr(node, 'beta') ?? 1) !== 1)
    )
      return;
    const w = weightValues(analysis, node.input?.[1] ?? '');
    if (w?.dims.length !== 2) return;
    const transB = isGemm && (attr(node, 'transB') ?? 0) !== 0;
    const [k, n] = transB ? [w.dims[1], w.dims[0]] : [w.dims[0], w.dims[1]];
    out.push({ index, node, weight: transB ? transpose(w.values, w.dims[0], w.dims[1]) : w.values, k, n });
  });
  return out;
}

/** Rows [from, to) of a [K, N] weight. */
export function weightSlice(
  layer: ShardableLayer,
  op: number,
  shard: number,
): { values: Float32Array; from: number; to: number } {
  const [from, to] = splitRange(layer.k, op, shard);
  return { values: layer.weight.slice(from * layer.n, to * layer.n), from, to };
}

/** The layers worth splitting `op` ways: big enough, and with K ≥ op. */
export function worthSharding(layers: readonly ShardableLayer[], op: number): ShardableLayer[] {
  return layers.filter((l) => l.k >= op && l.k * l.n >= MIN_SHARDED_WEIGHTS);
}

export function shardingReport(
  layers: readonly ShardableLayer[],
  offered: readonly string[],
  why?: string,
): ShardingReport {
  if (offered.length > 0)
    return {
      offered: true,
      reason: `op > 1: offered (${offered.join(', ')}): ${worthSharding(layers, 2).length} MatMul/Gemm layer(s) with constant weights split along their inner dimension, partial products summed over the shards; the other nodes run whole on every shard`,
    };
  if (layers.length === 0)
    return {
      offered: false,
      reason:
        'op > 1: not offered: no MatMul or Gemm with a constant 2-D weight to split; the planner places pipelines',
    };
  return {
    offered: false,
    reason: `op > 1: not offered: ${why ?? 'no layer worth splitting'}; the planner places pipelines`,
  };
}
