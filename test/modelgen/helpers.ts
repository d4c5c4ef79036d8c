// Shared helpers for the ONNX tests.

import { uniformFloats } from '../../modelgen/seeded-random.js';
import { modelIO, type TransformerSpec, TransformerWeights } from '../../modelgen/transformer.js';
import { buildFullModel } from '../../modelgen/transformer-graphs.js';
import { OnnxGraphRunner } from '../../serving/executors/onnx-graphs.js';
import { float32Values, type WireTensor, wireTensor } from '../../serving/protocol/tensor.js';

/** A seeded input batch in [-1, 1). */
export function randomInput(spec: TransformerSpec, batch: number, seed = 7): WireTensor {
  return wireTensor(uniformFloats(seed, 'test-input', batch * spec.seq * spec.inputDim, 1), [
    batch,
    spec.seq,
    spec.inputDim,
  ]);
}

/** Max |a − b| over two equally long arrays, and max |a| (for a relative bound). */
export function compare(a: Float32Array, b: Float32Array): { maxAbsDiff: number; maxAbs: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxAbsDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
    maxAbs = Math.max(maxAbs, Math.abs(a[i]));
  }
  return { maxAbsDiff, maxAbs };
}

/** An executor holding the whole model as one graph: the single-device reference. */
export async function loadFullModel(
  spec: TransformerSpec,
  weights = new TransformerWeights(spec),
): Promise<OnnxGraphRunner> {
  const executor = new OnnxGraphRunner();
  await executor.load({ graphs: [{ name: spec.name, ...modelIO(spec), bytes: buildFullModel(spec, weights).bytes }] });
  return executor;
}

export async function runValues(executor: OnnxGraphRunner, input: WireTensor): Promise<Float32Array> {
  return float32Values(await executor.run(input));
}
