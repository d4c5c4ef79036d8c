// One pipeline stage as a model of its own: the activation nodes of a range of the node order, the
// weights they read (initializers, Constant nodes and nodes computing from weights, copied into
// every stage that reads them), the tensors crossing in as graph inputs and the ones it computes
// for later stages as graph outputs. Everything else — IR version, opsets, local functions,
// metadata — is the source model's.
import { sha256Hex } from '../modelgen/model-files.js';
import type { TensorSpec } from '../modelgen/tensor-spec.js';
import { type GraphAnalysis, weightClosure } from './graph-analysis.js';
import type { OnnxModel } from './onnx-reader.js';
import { constantTensor, type NodeProto, onnx, tensorBytes, type ValueInfoProto } from './onnx-schema.js';
import type { TensorType } from './tensor-types.js';

export interface WrittenStage {
  /** Node range [from, to) in the analysis order. */
  from: number;
  to: number;
  /** The tensors the stage receives and the ones it hands on (inputs pass through when a later stage reads them). */
  receives: TensorSpec[];
  sends: TensorSpec[];
  /** Weight bytes this stage holds (its own copy of every weight it reads). */
  weightBytes: number;
  bytes: Uint8Array;
  /** sha256 of `bytes`, hex: the stage's key in the model store. */
  sha256: string;
}

function spec(name: string, types: ReadonlyMap<string, TensorType>): TensorSpec {
  const t = types.get(name);
  if (!t) throw new Error(`no type known for tensor "${name}"`);
  return { name, shape: [...t.dims] };
}

function valueInfo(name: string, types: ReadonlyMap<string, TensorType>): ValueInfoProto {
  const t = types.get(name)!;
  return {
    name,
    type: { tensorType: { elemType: t.elemType, shape: { dim: t.dims.map((d) => ({ dimValue: d })) } } },
  };
}

export function writeStage(
  model: OnnxModel,
  analysis: GraphAnalysis,
  types: ReadonlyMap<string, TensorType>,
  cut: { from: number; to: number; receives: string[]; sends: string[]; index: number },
): WrittenStage {
  const nodes = analysis.nodes.slice(cut.from, cut.to);
  const reads = new Set(analysis.uses.slice(cut.from, cut.to).flat());
  const produced = new Set(nodes.flatMap((n) => n.output ?? []));
  const weights = weightClosure(analysis, reads);
  const weightNodes: NodeProto[] = analysis.weightNodeOrder.filter((n) => weights.nodes.has(n));
  const initializers = [...weights.initializers].map((n) => analysis.initializers.get(n)!);
  const feeds = cut.receives.filter((n) => reads.has(n));
  const fetches = cut.sends.filter((n) => produced.has(n));
  // IR < 4 lists every initializer among the graph inputs too.
  const declaredInputs =
    model.irVersion < 4 ? (model.graph.input ?? []).filter((v) => weights.initializers.has(v.name ?? '')) : [];
  const known = new Set([...produced, ...weightNodes.flatMap((n) => n.output ?? [])]);
  const graph = {
    name: `${model.graph.name || 'model'}.stage${cut.index}`,
    node: [...weightNodes, ...nodes],
    initializer: initializers,
    sparseInitializer: [],
    input: [...feeds.map((n) => valueInfo(n, types)), ...declaredInputs],
    output: fetches.map((n) => valueInfo(n, types)),
    valueInfo: (model.graph.valueInfo ?? []).filter((v) => known.has(v.name ?? '') && !fetches.includes(v.name ?? '')),
  };
  const proto = model.proto;
  const bytes = onnx.ModelProto.encode({
    irVersion: proto.irVersion,
    opsetImport: proto.opsetImport,
    producerName: 'meshserve import',
    producerVersion: [proto.producerName, proto.producerVersion].filter(Boolean).join(' '),
    domain: proto.domain,
    modelVersion: proto.modelVersion,
    metadataProps: proto.metadataProps,
    functions: proto.functions,
    graph,
  }).finish();
  const weightBytes =
    initializers.reduce((n, t) => n + tensorBytes(t), 0) +
    weightNodes.reduce((n, w) => {
      const t = w.opType === 'Constant' ? constantTensor(w) : undefined;
      return n + (t ? tensorBytes(t) : 0);
    }, 0);
  return {
    from: cut.from,
    to: cut.to,
    receives: cut.receives.map((n) => spec(n, types)),
    sends: cut.sends.map((n) => spec(n, types)),
    weightBytes,
    bytes,
    sha256: sha256Hex(bytes),
  };
}
