import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainDataIssue } from '../../bus/index.js';

test('plainDataIssue: plain data passes, and an issue names its path', () => {
  assert.equal(plainDataIssue({ a: [1, 'x', null, true, { b: Buffer.from('hi') }], n: 2n }), undefined);
  assert.equal(plainDataIssue(Array.from({ length: 100_000 }, (_, i) => i)), undefined);
  assert.equal(plainDataIssue(undefined), 'the body is `undefined`');
  assert.equal(plainDataIssue(new Date(0)), 'the body is a Date');
  assert.equal(plainDataIssue({ a: [1, { b: new Set() }] }), 'the body.a[1].b is a Set');
  assert.equal(
    plainDataIssue({
      input: [
        [0, 1],
        [2, undefined],
      ],
    }),
    'the body.input[1][1] is `undefined`',
  );
  assert.equal(plainDataIssue({ x: new Float32Array(2) }), 'the body.x is a Float32Array');
  assert.equal(plainDataIssue([() => 1]), 'the body[0] is a function');
});
