import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Packr } from 'msgpackr';
import { readEnvironment } from '../../config/environment.js';
import { modelIO, transformerSpec } from '../../modelgen/transformer.js';
import { OnnxGraphRunner } from '../../serving/executors/onnx-graphs.js';
import {
  float32Values,
  parseWireTensor,
  TensorError,
  type WireTensor,
  wireTensor,
} from '../../serving/protocol/tensor.js';
import { loadFullModel, randomInput } from '../modelgen/helpers.js';

const spec = transformerSpec('tiny');
const { input: inputSpec } = modelIO(spec);
let executor: OnnxGraphRunner;

before(async () => {
  executor = await loadFullModel(spec);
});
after(async () => {
  await executor.unload();
});

async function rejects(input: unknown, code: string, message: RegExp): Promise<void> {
  await assert.rejects(executor.run(input), (err: unknown) => {
    assert.ok(err instanceof TensorError, `expected a TensorError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('wrong shape is answered with the expected and the received shape', async () => {
  const t = wireTensor(new Float32Array(spec.seq * (spec.inputDim + 1)), [1, spec.seq, spec.inputDim + 1]);
  await rejects(t, 'shape', /input "input" \(float32 \[batch, 16, 32\]\): got shape \[1, 16, 33\]/);
  await rejects(
    wireTensor(new Float32Array(spec.seq * spec.inputDim), [spec.seq, spec.inputDim]),
    'shape',
    /got shape \[16, 32\]/,
  );
  await rejects(wireTensor(new Float32Array(0), [0, spec.seq, spec.inputDim]), 'shape', /got shape \[0, 16, 32\]/);
});

test('wrong dtype, missing input, malformed or short data are answered', async () => {
  const good = randomInput(spec, 1);
  await rejects({ ...good, dtype: 'int64' }, 'dtype', /dtype "int64" is not accepted; expected float32/);
  await rejects(undefined, 'missing', /missing input "input"/);
  await rejects(null, 'missing', /missing input "input"/);
  await rejects(
    { dtype: 'float32', shape: good.shape, data: { 0: 1 } },
    'malformed',
    /data: expected bytes, a base64 string or an array of numbers/,
  );
  await rejects(
    { dtype: 'float32', shape: good.shape, data: ['1'] },
    'malformed',
    /data: expected bytes, a base64 string or an array of numbers/,
  );
  await rejects(
    { dtype: 'float32', shape: good.shape, data: 'AA*=' },
    'malformed',
    /data: a string must be padded base64 \(RFC 4648\)/,
  );
  await rejects(
    { dtype: 'float32', shape: good.shape, data: Buffer.from(good.data).toString('base64').slice(0, -1) },
    'malformed',
    /padded base64/,
  );
  await rejects({ dtype: 'float32', shape: [1, 16, 32.5], data: good.data }, 'malformed', /shape\.2/);
  await rejects({ ...good, data: good.data.subarray(4) }, 'size', /needs 2048 bytes of data, got 2044/);
});

test('JSON forms of the data (base64 string, number array) run like the bytes; sizes still checked', async () => {
  const good = randomInput(spec, 1);
  const expected = float32Values(await executor.run(good));
  const base64 = Buffer.from(good.data.buffer, good.data.byteOffset, good.data.byteLength).toString('base64');
  assert.deepEqual(float32Values(await executor.run({ ...good, data: base64 })), expected);
  assert.deepEqual(float32Values(await executor.run({ ...good, data: Array.from(float32Values(good)) })), expected);
  await rejects(
    { ...good, data: Array.from(float32Values(good)).slice(1) },
    'size',
    /needs 2048 bytes of data, got 2044/,
  );
  await rejects(
    { ...good, data: Buffer.from(good.data.subarray(4)).toString('base64') },
    'size',
    /needs 2048 bytes of data, got 2044/,
  );
  // A number beyond float32's range becomes Infinity and is refused like any non-finite input.
  const huge = Array.from(float32Values(good));
  huge[3] = 1e40;
  await rejects({ ...good, data: huge }, 'non_finite', /element 3 is Infinity/);
});

test('NaN and Infinity are refused with the element index', async () => {
  const values = Float32Array.from(float32Values(randomInput(spec, 1)));
  values[37] = Number.NaN;
  await rejects(wireTensor(values, [1, spec.seq, spec.inputDim]), 'non_finite', /element 37 is NaN/);
  values[37] = 0;
  values[5] = -Infinity;
  await rejects(wireTensor(values, [1, spec.seq, spec.inputDim]), 'non_finite', /element 5 is -Infinity/);
});

test('after bad inputs the executor still answers good ones', async () => {
  const out = await executor.run(randomInput(spec, 2));
  assert.deepEqual(out.shape, [2, spec.seq, spec.outputDim]);
});

test('a wire tensor survives plain MessagePack as bytes, aligned or not, and runs', async () => {
  const packr = new Packr({ useRecords: false });
  const input = randomInput(spec, 1);
  const packed = packr.pack({ tensor: input });
  // The payload is bytes, not a JSON-ish number array: about 4 bytes per element.
  assert.ok(packed.length < input.data.byteLength + 100);
  const decoded = packr.unpack(packed) as { tensor: WireTensor };
  assert.ok(decoded.tensor.data instanceof Uint8Array);
  const expected = float32Values(await executor.run(input));
  assert.deepEqual(float32Values(await executor.run(decoded.tensor)), expected);
  // Bytes at an odd offset (as a decoder may hand them over) are copied, not misread.
  const shifted = new Uint8Array(input.data.byteLength + 1);
  shifted.set(input.data, 1);
  const unaligned = { ...input, data: shifted.subarray(1) };
  assert.deepEqual(float32Values(parseWireTensor(unaligned, inputSpec)), float32Values(input));
  assert.deepEqual(float32Values(await executor.run(unaligned)), expected);
  // An aligned view at a non-zero offset is used in place and read from the right place.
  const padded = new Uint8Array(input.data.byteLength + 8);
  padded.set(input.data, 4);
  assert.deepEqual(
    float32Values(await executor.run({ ...input, data: padded.subarray(4, 4 + input.data.byteLength) })),
    expected,
  );
});

test('executor misuse gives clear errors', async () => {
  const fresh = new OnnxGraphRunner();
  await assert.rejects(fresh.run(randomInput(spec, 1)), /executor has no graph loaded/);
  await assert.rejects(executor.run(randomInput(spec, 1), 3), /no segment 3; loaded segments 0\.\.0/);
  await assert.rejects(fresh.load({ graphs: [] }), /nothing to load/);
  await assert.rejects(
    fresh.load({ graphs: [{ name: 'junk', ...modelIO(spec), bytes: new Uint8Array([1, 2, 3]) }] }),
    /cannot load graph junk on execution provider "cpu"/,
  );
});

test('provider and threads come from MESHSERVE_ORT_PROVIDER (default cpu) and MESHSERVE_ORT_THREADS', async () => {
  assert.equal(readEnvironment({}).ort.provider, 'cpu');
  assert.equal(readEnvironment({ MESHSERVE_ORT_PROVIDER: ' cuda ' }).ort.provider, 'cuda');
  assert.equal(readEnvironment({}).ort.intraOpThreads, undefined);
  assert.equal(readEnvironment({ MESHSERVE_ORT_THREADS: '1' }).ort.intraOpThreads, 1);
  assert.throws(
    () => readEnvironment({ MESHSERVE_ORT_THREADS: 'two' }),
    /MESHSERVE_ORT_THREADS must be a positive integer, got "two"/,
  );
  // This build has no CUDA provider: loading must fail with a clear message, not crash.
  const cuda = new OnnxGraphRunner({ provider: 'cuda' });
  await assert.rejects(
    cuda.load({ graphs: [{ name: 'x', ...modelIO(spec), bytes: new Uint8Array([8]) }] }),
    /cannot load graph x on execution provider "cuda"/,
  );
});
