// Every bad file gets one clear line and nothing else happens: not ONNX, truncated, refused by
// onnxruntime (its reason quoted), dynamic dimensions without a shape, a shape that does not fit,
// inputs that are not float32.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ImportError } from '../../modelimport/import-error.js';
import { importModel } from '../../modelimport/import-model.js';
import { readOnnxModel, resolveInputShapes } from '../../modelimport/onnx-reader.js';
import { onnx } from '../../modelimport/onnx-schema.js';
import { floatTensor, modelBytes, node, OCR_CLS, OCR_DET, readModel, valueInfo } from './helpers.js';

async function rejectsWith(bytes: Uint8Array, code: string, message: RegExp, options = {}): Promise<void> {
  await assert.rejects(importModel(bytes, options), (err: unknown) => {
    assert.ok(err instanceof ImportError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

describe('reading an ONNX file', () => {
  it('describes a real model: opset, inputs with their dynamic dimensions, Constant-node weights', () => {
    const m = readOnnxModel(readModel(OCR_DET));
    assert.equal(m.opset, 11);
    assert.equal(m.nodes, 672);
    assert.equal(m.constantNodes, 342);
    assert.equal(m.initializers, 0);
    assert.ok(m.weightBytes > 4e6);
    assert.deepEqual(
      m.inputs.map((i) => [i.name, i.dims.length, i.dims[1]]),
      [['x', 4, 3]],
    );
    assert.equal(typeof m.inputs[0].dims[0], 'string', 'the batch is a symbolic dimension');
  });

  it('a file that is not ONNX', async () => {
    await rejectsWith(readFileSync(new URL('../../../README.md', import.meta.url)), 'not-onnx', /^not an ONNX model: /);
    await rejectsWith(new Uint8Array(), 'not-onnx', /the file is empty/);
  });

  it('a truncated file', async () => {
    const whole = readModel(OCR_CLS);
    await rejectsWith(whole.subarray(0, 100_000), 'truncated', /^the ONNX file is truncated \(100000 bytes/);
  });

  it('a model onnxruntime refuses, with its reason quoted', async () => {
    const bytes = modelBytes({
      name: 'unknown-op',
      node: [node('NoSuchOperator', ['x'], ['y'])],
      input: [valueInfo('x', [1, 4])],
      output: [valueInfo('y', [1, 4])],
    });
    await rejectsWith(bytes, 'refused', /^onnxruntime refuses the model: .*NoSuchOperator/);
  });

  it('a model onnxruntime cannot run at the given shape, with its reason quoted', async () => {
    // The detector's feature pyramid needs heights that are multiples of 32.
    await rejectsWith(readModel(OCR_DET), 'refused', /^onnxruntime cannot run the model at x=1,3,48,320: .*Add/, {
      inputShapes: { x: [1, 3, 48, 320] },
    });
  });

  it('dynamic input dimensions when no shape is given', async () => {
    await rejectsWith(
      readModel(OCR_CLS),
      'dynamic-shape',
      /^input "x" has dynamic dimensions \[p2o\.DynamicDimension\.0, 3, p2o\.DynamicDimension\.1, p2o\.DynamicDimension\.2\]; give its shape, e\.g\. --input-shape x=1,3,<size>,<size>$/,
    );
  });

  it('a given shape that does not fit the input, or names no input', () => {
    const m = readOnnxModel(readModel(OCR_CLS));
    assert.throws(
      () => resolveInputShapes(m, { x: [1, 3, 48] }),
      /input "x" is \[.*\]; the shape \[1, 3, 48\] given for it does not fit/,
    );
    assert.throws(
      () => resolveInputShapes(m, { x: [1, 4, 48, 192] }),
      /the shape \[1, 4, 48, 192\] given for it does not fit/,
    );
    assert.throws(() => resolveInputShapes(m, { y: [1] }), /the model has no input "y" \(inputs: x\)/);
    assert.deepEqual(resolveInputShapes(m, { x: [2, 3, 48, 192] }), { x: [2, 3, 48, 192] });
  });

  it('inputs that are not float32', async () => {
    const bytes = modelBytes({
      name: 'int-input',
      node: [node('Cast', ['ids'], ['y'], { attribute: [{ name: 'to', type: 2, i: 1 }] })],
      input: [valueInfo('ids', [1, 4], onnx.TensorProto.DataType.INT64)],
      output: [valueInfo('y', [1, 4])],
    });
    await rejectsWith(
      bytes,
      'unsupported',
      /^input "ids" is int64; meshserve serves models whose inputs and outputs are float32$/,
    );
  });

  it('an input or output larger than one NATS message carries', async () => {
    await rejectsWith(
      readModel(OCR_CLS),
      'unsupported',
      /^input "x" is 110592 bytes at \[1, 3, 48, 192\], more than one message may carry \(100000 bytes\): import it at a smaller shape/,
      { inputShapes: { x: [1, 3, 48, 192] }, maxCrossingBytes: 100_000 },
    );
  });

  it('weights kept in an external file', async () => {
    const w = {
      ...floatTensor('w', [4, 4], () => 0),
      floatData: [],
      dataLocation: 1,
      externalData: [{ key: 'location', value: 'w.bin' }],
    };
    const bytes = modelBytes({
      name: 'external',
      node: [node('MatMul', ['x', 'w'], ['y'])],
      initializer: [w],
      input: [valueInfo('x', [1, 4])],
      output: [valueInfo('y', [1, 4])],
    });
    await rejectsWith(bytes, 'unsupported', /initializer "w" keeps its values in an external file/);
  });
});
