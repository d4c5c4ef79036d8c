// The inputs a model on ONNX workers is served at, read off its profile: an imported model's
// import shapes, or a generated transformer's `[1, seq, inputDim]` (batch 1, what it is profiled
// at). What a client must send to `ms.infer.<model>`; `meshserve infer` sends tensors of these
// shapes when it is given no input.
import { modelIO, transformerSpec } from '../../modelgen/transformer.js';
import type { ModelProfile } from '../../planner/types.js';

export interface ServedInput {
  name: string;
  shape: number[];
}

/** The model's inputs in order, or undefined for a simulated model (no `imported`, no `onnx`). */
export function servedInputs(profile: Pick<ModelProfile, 'imported' | 'onnx'>): ServedInput[] | undefined {
  if (profile.imported)
    return Object.entries(profile.imported.inputShapes).map(([name, shape]) => ({ name, shape: [...shape] }));
  if (profile.onnx) {
    const { input } = modelIO(transformerSpec(profile.onnx.size, profile.onnx.seed));
    return [{ name: input.name, shape: input.shape.map((d) => (typeof d === 'number' ? d : 1)) }];
  }
  return undefined;
}
