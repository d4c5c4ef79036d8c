// A pipeline stage run by `op` shards: its nodes cut into segments at the layers worth splitting.
// A replicated segment is one model every shard runs whole; a split layer is one model per shard
// (its slice of the input's last axis times its rows of the weight, the bias on shard 0 alone)
// whose output, summed over the shards, is the layer's. Between segments the tensors stay in the
// shard's process; only the partial products travel.
import { sha256Hex } from '../modelgen/model-files.js';
import type { TensorSpec } from '../modelgen/tensor-spec.js';
import { type GraphAnalysis, weightClosure } from './graph-analysis.js';
import type { OnnxModel } from './onnx-reader.js';
import { FLOAT32, type NodeProto, onnx, type TensorProto, tensorBytes } from './onnx-schema.js';
import { type ShardableLayer, weightSlice } from './sharding.js';
import { writeStage } from './stage-writer.js';
import type { TensorType } from './tensor-types.js';

export interface SegmentFile {
  bytes: Uint8Array;
  sha256: string;
  weightBytes: number;
}

export interface WrittenSegment {
  receives: TensorSpec[];
  sends: TensorSpec[];
  /** The tensor summed over the shards (a split layer's output); absent: a replicated segment. */
  reduce?: TensorSpec;
  /** One file per shard for a split layer; one for every shard otherwise. */
  files: SegmentFile[];
}

export interface ShardedStage {
  from: number;
  to: number;
  receives: TensorSpec[];
  sends: TensorSpec[];
  segments: WrittenSegment[];
  /** Weight bytes of the stage's largest shard (replicated weights counted on every shard). */
  weightBytes: number;
}

const INT64 = onnx.TensorProto.DataType.INT64;

function int64Tensor(name: string, values: number[]): TensorProto {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) };
}

function valueInfo(name: string, types: ReadonlyMap<string, TensorType>) {
  const t = types.get(name)!;
  return { name, type: { tensorType: { elemType: t.elemType, shape: { dim: t.dims.map((d) => ({ dimValue: d })) } } } };
}

/** Shard `shard` of a split layer, as a model of its own. */
function writeLayerShard(
  model: OnnxModel,
  analysis: GraphAnalysis,
  types: ReadonlyMap<string, TensorType>,
  layer: ShardableLayer,
  op: number,
  shard: number,
): SegmentFile {
  const [a, w, c] = [layer.node.input?.[0] ?? '', layer.node.input?.[1] ?? '', layer.node.input?.[2] ?? ''];
  const y = layer.node.output?.[0] ?? '';
  const slice = weightSlice(layer, op, shard);
  const axis = types.get(a)!.dims.length - 1;
  const sliced = `${a}.shard${shard}`;
  const weight = `${w}.shard${shard}`;
  const initializers: TensorProto[] = [
    {
      name: weight,
      dims: [slice.to - slice.from, layer.n],
      dataType: FLOAT32,
      rawData: new Uint8Array(slice.values.buffer),
    },
  ];
  const nodes: NodeProto[] = [];
  if (model.opset >= 10) {
    const [starts, ends, axes] = [`${sliced}.starts`, `${sliced}.ends`, `${sliced}.axes`];
    initializers.push(int64Tensor(starts, [slice.from]), int64Tensor(ends, [slice.to]), int64Tensor(axes, [axis]));
    nodes.push({ opType: 'Slice', name: `${sliced}.slice`, input: [a, starts, ends, axes], output: [sliced] });
  } else {
    const ints = (name: string, v: number) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: [v] });
    nodes.push({
      opType: 'Slice',
      name: `${sliced}.slice`,
      input: [a],
      output: [sliced],
      attribute: [ints('starts', slice.from), ints('ends', slice.to), ints('axes', axis)],
    });
  }
  // A Gemm keeps its attributes but takes B as [K, N] here (transB folded into the slice); its bias goes to shard 0.
  const bias = layer.node.opType === 'Gemm' && c && shard === 0 ? c : undefined;
  const attribute =
    layer.node.opType === 'Gemm'
      ? (layer.node.attribute ?? []).filter((x) => x.name !== 'transB')
      : layer.node.attribute;
  nodes.push({ ...layer.node, input: [sliced, weight, ...(bias ? [bias] : [])], attribute });
  const biasWeights = weightClosure(analysis, bias ? [bias] : []);
  const weightNodes = analysis.weightNodeOrder.filter((n) => biasWeights.nodes.has(n));
  initializers.push(...[...biasWeights.initializers].map((n) => analysis.initializers.get(n)!));
  const bytes = onnx.ModelProto.encode({
    irVersion: model.proto.irVersion,
    opsetImport: model.proto.opsetImport,
    producerName: 'meshserve import',
    functions: model.proto.functions,
    graph: {
      name: `${model.graph.name || 'model'}.${y}.shard${shard}`,
      node: [...weightNodes, ...nodes],
      initializer: initializers,
      input: [valueInfo(a, types)],
      output: [valueInfo(y, types)],
    },
  }).finish();
  const weightBytes = initializers.reduce((n, t) => n + (t.dataType === FLOAT32 ? tensorBytes(t) : 0), 0);
  return { bytes, sha256: sha256Hex(bytes), weightBytes };
}

const specOf = (name: string, types: ReadonlyMap<string, TensorType>): TensorSpec => ({
  name,
  shape: [...types.get(name)!.dims],
});

export function writeShardedStage(
  model: OnnxModel,
  analysis: GraphAnalysis,
  types: ReadonlyMap<string, TensorType>,
  crossing: (position: number) => string[],
  stage: { from: number; to: number; index: number },
  layers: readonly ShardableLayer[],
  op: number,
): ShardedStage {
  const inStage = layers.filter((l) => l.index >= stage.from && l.index < stage.to);
  const segments: WrittenSegment[] = [];
  const specs = (position: number) => crossing(position).map((n) => specOf(n, types));
  let at = stage.from;
  const replicated = (to: number) => {
    if (to <= at) return;
    const w = writeStage(model, analysis, types, {
      from: at,
      to,
      receives: crossing(at),
      sends: crossing(to),
      index: stage.index,
    });
    segments.push({
      receives: w.receives,
      sends: w.sends,
      files: [{ bytes: w.bytes, sha256: w.sha256, weightBytes: w.weightBytes }],
    });
  };
  for (const layer of inStage) {
    replicated(layer.index);
    const y = layer.node.output?.[0] ?? '';
    segments.push({
      receives: specs(layer.index),
      sends: specs(layer.index + 1),
      reduce: specOf(y, types),
      files: Array.from({ length: op }, (_, j) => writeLayerShard(model, analysis, types, layer, op, j)),
    });
    at = layer.index + 1;
  }
  replicated(stage.to);
  const perShard = Array.from({ length: op }, (_, j) =>
    segments.reduce((n, s) => n + (s.files[s.reduce ? j : 0].weightBytes ?? 0), 0),
  );
  return {
    from: stage.from,
    to: stage.to,
    receives: specs(stage.from),
    sends: specs(stage.to),
    segments,
    weightBytes: Math.max(...perShard),
  };
}
