// The element type and shape of every activation at the import shape, found by running the model
// once with every activation as an extra output: ONNX files seldom carry this for intermediate
// tensors, and a stage's inputs and outputs must declare it.
import { formatShape } from '../modelgen/tensor-spec.js';
import type { GraphAnalysis } from './graph-analysis.js';
import { ImportError } from './import-error.js';
import type { OnnxModel } from './onnx-reader.js';
import { FLOAT32, onnx } from './onnx-schema.js';
import { createSession, runSession, type SessionSettings, type Tensors } from './ort-session.js';

export interface TensorType {
  /** ONNX element type (TensorProto.DataType). */
  elemType: number;
  dims: number[];
}

const ORT_TYPES: Record<string, number> = {
  float32: FLOAT32,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
};

export async function probeTensorTypes(
  model: OnnxModel,
  analysis: GraphAnalysis,
  inputs: Tensors,
  settings: SessionSettings,
): Promise<Map<string, TensorType>> {
  const declared = new Set(analysis.outputs);
  const extra = analysis.nodes.flatMap((n) => (n.output ?? []).filter((o) => o && !declared.has(o)));
  const probe = onnx.ModelProto.encode({
    ...model.proto,
    graph: { ...model.graph, output: [...(model.graph.output ?? []), ...extra.map((name) => ({ name }))] },
  }).finish();
  const types = new Map<string, TensorType>();
  for (const [name, t] of Object.entries(inputs)) types.set(name, { elemType: FLOAT32, dims: [...t.dims] });
  let session: Awaited<ReturnType<typeof createSession>> | undefined;
  try {
    session = await createSession(probe, settings);
    const results = await runSession(session, inputs);
    for (const [name, t] of Object.entries(results)) {
      const elemType = ORT_TYPES[t.type];
      if (elemType !== undefined) types.set(name, { elemType, dims: [...t.dims] });
    }
  } catch (err) {
    throw new ImportError(
      'refused',
      `onnxruntime cannot run the model with every activation as an output: ${(err as Error).message}`,
    );
  } finally {
    await session?.release();
  }
  return types;
}

export function describeType(t: TensorType | undefined): string {
  return t ? `${t.elemType === FLOAT32 ? 'float32' : `type ${t.elemType}`} ${formatShape(t.dims)}` : 'unknown';
}
