import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, intsAttr } from '../../modelgen/graph-builder.js';
import { ProtobufWriter } from '../../modelgen/protobuf-writer.js';
import { splitRange } from '../../modelgen/tensor-spec.js';

test('protobuf varints, negative int64 and length-delimited fields encode per the spec', () => {
  assert.deepEqual([...new ProtobufWriter().int(1, 300).finish()], [0x08, 0xac, 0x02]);
  assert.deepEqual(
    [...new ProtobufWriter().int(2, -1).finish()],
    [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  );
  assert.deepEqual([...new ProtobufWriter().string(2, 'hi').finish()], [0x12, 0x02, 0x68, 0x69]);
  assert.deepEqual([...new ProtobufWriter().float(3, 1).finish()], [0x1d, 0x00, 0x00, 0x80, 0x3f]);
  assert.deepEqual([...new ProtobufWriter().message(1, (w) => w.int(1, 1)).finish()], [0x0a, 0x02, 0x08, 0x01]);
});

test('a built graph computes what it says: (x·W + b) transposed', async () => {
  const g = new GraphBuilder('affine');
  const x = g.input('x', ['batch', 2]);
  const w = g.floatInit('w', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]));
  const b = g.floatInit('b', [3], Float32Array.from([0.5, -1, 2]));
  const y = g.node('Transpose', [g.node('Add', [g.node('MatMul', [x, w], 'mm'), b], 'affine')], 'y', {
    perm: intsAttr([1, 0]),
  });
  g.output(y, [3, 'batch']);
  assert.equal(g.parameterCount(), 9);
  const session = await ort.InferenceSession.create(g.toModelBytes());
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1, 2, 0]), [2, 2]) });
  assert.deepEqual(out.y.dims, [3, 2]);
  // rows of x·W + b: [5.5, 6, 11], [2.5, 3, 8]; transposed.
  assert.deepEqual(Array.from(out.y.data as Float32Array), [5.5, 2.5, 6, 3, 11, 8]);
  await session.release();
  assert.throws(() => g.floatInit('w', [1], new Float32Array(1)), /value name "w" used twice/);
  assert.throws(() => g.floatInit('v', [2], new Float32Array(3)), /3 values for dims \[2\]/);
});

test('splitRange covers the range in near-equal contiguous parts', () => {
  assert.deepEqual(
    [0, 1, 2].map((i) => splitRange(10, 3, i)),
    [
      [0, 4],
      [4, 7],
      [7, 10],
    ],
  );
  assert.deepEqual(
    [0, 1].map((i) => splitRange(8, 2, i)),
    [
      [0, 4],
      [4, 8],
    ],
  );
  assert.throws(() => splitRange(2, 3, 0), /cannot split 2 items into 3 non-empty parts/);
});
