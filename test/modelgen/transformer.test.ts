import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { SIZE_NAMES, TransformerWeights, transformerLayers, transformerSpec } from '../../modelgen/transformer.js';
import { buildFullModel } from '../../modelgen/transformer-graphs.js';
import { float32Values } from '../../serving/protocol/tensor.js';
import { compare, loadFullModel, randomInput } from './helpers.js';
import { referenceForward } from './reference-forward.js';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

test('the full tiny model runs in onnxruntime-node with the right output shape', async () => {
  const spec = transformerSpec('tiny');
  const executor = await loadFullModel(spec);
  try {
    const out = await executor.run(randomInput(spec, 3));
    assert.deepEqual(out.shape, [3, spec.seq, spec.outputDim]);
    assert.equal(out.dtype, 'float32');
    assert.ok(float32Values(out).every(Number.isFinite));
  } finally {
    await executor.unload();
  }
});

test('the ONNX graph computes the transformer as defined (plain-JS forward pass agrees)', async () => {
  const spec = transformerSpec('tiny');
  const weights = new TransformerWeights(spec);
  const executor = await loadFullModel(spec, weights);
  try {
    const input = randomInput(spec, 1, 11);
    const onnx = float32Values(await executor.run(input));
    const reference = Float32Array.from(referenceForward(weights, float32Values(input)));
    const { maxAbsDiff, maxAbs } = compare(reference, onnx);
    assert.ok(maxAbs > 0.1, 'the output is not trivially small');
    assert.ok(maxAbsDiff < 1e-4 * Math.max(1, maxAbs), `max abs diff ${maxAbsDiff}`);
  } finally {
    await executor.unload();
  }
});

test('same seed gives the same bytes; another seed gives other weights', () => {
  const a = buildFullModel(transformerSpec('tiny', 1));
  const b = buildFullModel(transformerSpec('tiny', 1));
  const c = buildFullModel(transformerSpec('tiny', 2));
  assert.equal(sha(a.bytes), sha(b.bytes));
  assert.notEqual(sha(a.bytes), sha(c.bytes));
  assert.equal(a.bytes.length, c.bytes.length);
});

test('the graph holds exactly the parameters the layer table declares', () => {
  for (const size of ['tiny', 'small']) {
    const spec = transformerSpec(size);
    const declared = transformerLayers(spec).reduce((s, l) => s + l.params, 0);
    assert.equal(buildFullModel(spec).params, declared, size);
  }
});

test('sizes grow and unknown sizes or bad seeds are refused clearly', () => {
  const params = SIZE_NAMES.map((s) => transformerLayers(transformerSpec(s)).reduce((sum, l) => sum + l.params, 0));
  for (let i = 1; i < params.length; i++) assert.ok(params[i] > params[i - 1]);
  assert.throws(() => transformerSpec('huge'), /unknown model size "huge"; known sizes: tiny, small, base/);
  assert.throws(() => transformerSpec('tiny', -1), /seed must be a 32-bit unsigned integer/);
  assert.throws(() => transformerSpec('tiny', 1.5), /seed must be a 32-bit unsigned integer/);
});
