// The ONNX protobuf schema, decoded and encoded by a maintained library (onnx-proto: the ONNX
// schema compiled for protobufjs). The same library writes stage models: a stage is a subset of
// the decoded model (its nodes, attributes of every kind, tensors of every type, subgraphs and
// local functions copied as decoded), which the project's own writer (modelgen/protobuf-writer.ts,
// float32 graphs of three attribute kinds) could not express without re-implementing the schema.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** int64 fields decode as Long objects (protobufjs with long.js) or numbers. */
export function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** TensorProto.DataType → name and element size in bytes (0: not a fixed size). */
const DATA_TYPES: Record<number, [string, number]> = {
  1: ['float32', 4],
  2: ['uint8', 1],
  3: ['int8', 1],
  4: ['uint16', 2],
  5: ['int16', 2],
  6: ['int32', 4],
  7: ['int64', 8],
  8: ['string', 0],
  9: ['bool', 1],
  10: ['float16', 2],
  11: ['float64', 8],
  12: ['uint32', 4],
  13: ['uint64', 8],
  14: ['complex64', 8],
  15: ['complex128', 16],
  16: ['bfloat16', 2],
};

export const FLOAT32 = 1;

export function dataTypeName(type: number): string {
  return DATA_TYPES[type]?.[0] ?? `type ${type}`;
}

/** Bytes a tensor's values take (raw or typed fields), as held in memory. */
export function tensorBytes(t: TensorProto): number {
  const count = (t.dims ?? []).reduce((n: number, d) => n * toNumber(d), 1);
  const size = DATA_TYPES[t.dataType ?? 0]?.[1] ?? 0;
  if (size > 0) return count * size;
  return (t.stringData ?? []).reduce((n, s) => n + s.length, 0);
}

/** The tensor held by a Constant node (its `value` attribute), if it holds one. */
export function constantTensor(node: NodeProto): TensorProto | undefined {
  return node.attribute?.find((a) => a.name === 'value')?.t ?? undefined;
}

/** Every graph held in a node's attributes (If branches, Loop and Scan bodies). */
export function subgraphs(node: NodeProto): GraphProto[] {
  const out: GraphProto[] = [];
  for (const a of node.attribute ?? []) {
    if (a.g) out.push(a.g);
    for (const g of a.graphs ?? []) out.push(g);
  }
  return out;
}
