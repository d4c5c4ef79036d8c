// Reading an ONNX file: decode it with the ONNX schema (onnx-proto), tell a file that is not ONNX
// from one that was cut short, and describe what the model is: IR version and opsets, its inputs
// and outputs with their element types and (possibly dynamic) dimensions, its weights held as
// initializers or as Constant nodes, and its control-flow nodes.
import { ImportError } from './import-error.js';
import {
  constantTensor,
  dataTypeName,
  FLOAT32,
  type GraphProto,
  type ModelProto,
  onnx,
  subgraphs,
  tensorBytes,
  toNumber,
  type ValueInfoProto,
} from './onnx-schema.js';

/** A dimension as declared: a size, a symbolic name, or unknown (undefined). */
export type DeclaredDim = number | string | undefined;

export interface DeclaredTensor {
  name: string;
  dataType: number;
  dims: DeclaredDim[];
}

export interface OnnxModel {
  readonly proto: ModelProto;
  readonly graph: GraphProto;
  readonly irVersion: number;
  /** Opset of the default (ai.onnx) domain. */
  readonly opset: number;
  readonly opsets: ReadonlyArray<{ domain: string; version: number }>;
  readonly producer: string;
  /** Graph inputs that are not initializers (what a caller feeds). */
  readonly inputs: DeclaredTensor[];
  readonly outputs: DeclaredTensor[];
  readonly nodes: number;
  readonly initializers: number;
  readonly constantNodes: number;
  /** Bytes of every initializer and Constant-node tensor. */
  readonly weightBytes: number;
  /** If / Loop / Scan nodes (kept whole: never cut inside). */
  readonly controlFlowNodes: number;
}

/** An ONNX file starts with field 1 (ir_version, a varint): tag byte 0x08. */
const IR_VERSION_TAG = 0x08;

function decode(bytes: Uint8Array): ModelProto {
  if (bytes.length === 0) throw new ImportError('not-onnx', 'not an ONNX model: the file is empty');
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    const reason = (err as Error).message;
    if (/index out of range/.test(reason) && bytes[0] === IR_VERSION_TAG)
      throw new ImportError(
        'truncated',
        `the ONNX file is truncated (${bytes.length} bytes; the decoder hit its end: ${reason})`,
      );
    throw new ImportError('not-onnx', `not an ONNX model: protobuf decoding failed (${reason})`);
  }
}

function declared(v: ValueInfoProto): DeclaredTensor {
  const tensor = v.type?.tensorType;
  const dims = (tensor?.shape?.dim ?? []).map((d): DeclaredDim => {
    const which = (d as { value?: string }).value;
    if (which === 'dimValue') return toNumber(d.dimValue);
    if (which === 'dimParam') return d.dimParam || undefined;
    return undefined;
  });
  return { name: v.name ?? '', dataType: tensor?.elemType ?? 0, dims };
}

export function formatDims(dims: readonly DeclaredDim[]): string {
  return `[${dims.map((d) => (d === undefined ? '?' : d)).join(', ')}]`;
}

/** Decodes and describes a model; throws ImportError (not-onnx, truncated, unsupported). */
export function readOnnxModel(bytes: Uint8Array): OnnxModel {
  const proto = decode(bytes);
  const graph = proto.graph;
  const irVersion = toNumber(proto.irVersion);
  if (!graph || irVersion <= 0)
    throw new ImportError(
      'not-onnx',
      `not an ONNX model: ${graph ? 'no IR version' : 'no graph'} in ${bytes.length} bytes`,
    );
  const opsets = (proto.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: toNumber(o.version) }));
  const opset = opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
  if (opset === undefined) throw new ImportError('not-onnx', 'not an ONNX model: it imports no ai.onnx opset');
  const nodes = graph.node ?? [];
  if (nodes.length === 0) throw new ImportError('unsupported', 'the model has no nodes');
  const initializers = graph.initializer ?? [];
  for (const t of initializers) {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
      throw new ImportError(
        'unsupported',
        `initializer "${t.name}" keeps its values in an external file; save the model with its weights inside it`,
      );
  }
  const initializerNames = new Set(initializers.map((t) => t.name ?? ''));
  const inputs = (graph.input ?? []).filter((v) => !initializerNames.has(v.name ?? '')).map(declared);
  const outputs = (graph.output ?? []).map(declared);
  if (inputs.length === 0) throw new ImportError('unsupported', 'the model has no inputs to feed');
  if (outputs.length === 0) throw new ImportError('unsupported', 'the model has no outputs');
  let constantNodes = 0;
  let controlFlowNodes = 0;
  let weightBytes = initializers.reduce((n, t) => n + tensorBytes(t), 0);
  for (const node of nodes) {
    const t = node.opType === 'Constant' ? constantTensor(node) : undefined;
    if (t) {
      constantNodes++;
      weightBytes += tensorBytes(t);
    }
    if (subgraphs(node).length > 0) controlFlowNodes++;
  }
  return {
    proto,
    graph,
    irVersion,
    opset,
    opsets,
    producer: [proto.producerName, proto.producerVersion].filter(Boolean).join(' '),
    inputs,
    outputs,
    nodes: nodes.length,
    initializers: initializers.length,
    constantNodes,
    weightBytes,
    controlFlowNodes,
  };
}

/** meshserve's wire tensors are float32: every model input and output must be one. */
export function checkFloat32(model: OnnxModel): void {
  for (const [what, list] of [
    ['input', model.inputs],
    ['output', model.outputs],
  ] as const) {
    for (const t of list) {
      if (t.dataType !== FLOAT32)
        throw new ImportError(
          'unsupported',
          `${what} "${t.name}" is ${dataTypeName(t.dataType)}; meshserve serves models whose inputs and outputs are float32`,
        );
    }
  }
}

/**
 * The shape every input is served and profiled at: the declared one when fully fixed, else the
 * one given. A given shape must have the input's rank and agree with its fixed dimensions.
 */
export function resolveInputShapes(
  model: OnnxModel,
  given: Readonly<Record<string, readonly number[]>> = {},
): Record<string, number[]> {
  const names = model.inputs.map((i) => i.name);
  for (const name of Object.keys(given)) {
    if (!names.includes(name))
      throw new ImportError(
        'input-shape',
        `--input-shape ${name}=…: the model has no input "${name}" (inputs: ${names.join(', ')})`,
      );
  }
  const shapes: Record<string, number[]> = {};
  for (const input of model.inputs) {
    const shape = given[input.name];
    const example = input.dims.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : '<size>')).join(',');
    if (!shape) {
      if (input.dims.some((d) => typeof d !== 'number'))
        throw new ImportError(
          'dynamic-shape',
          `input "${input.name}" has dynamic dimensions ${formatDims(input.dims)}; give its shape, e.g. --input-shape ${input.name}=${example}`,
        );
      shapes[input.name] = input.dims as number[];
      continue;
    }
    const fits =
      shape.length === input.dims.length &&
      shape.every(
        (n, i) => Number.isInteger(n) && n >= 1 && (typeof input.dims[i] !== 'number' || input.dims[i] === n),
      );
    if (!fits)
      throw new ImportError(
        'input-shape',
        `input "${input.name}" is ${formatDims(input.dims)}; the shape [${shape.join(', ')}] given for it does not fit`,
      );
    shapes[input.name] = [...shape];
  }
  return shapes;
}
