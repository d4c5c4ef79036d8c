import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planPartition } from '../../modelgen/partition.js';
import { TransformerWeights, transformerSpec } from '../../modelgen/transformer.js';
import { LocalPlanRunner, sumPartials } from '../../serving/executors/plan-runner.js';
import { float32Values, wireTensor } from '../../serving/protocol/tensor.js';
import { compare, loadFullModel, randomInput, runValues } from './helpers.js';

const TOLERANCE = 1e-4; // relative to the output's largest magnitude
// One thread per session: many small sessions load ~10× faster without a thread pool each.
const ORT = { intraOpThreads: 1 };

async function checkConfigs(size: string, configs: Array<[number, number]>): Promise<void> {
  const spec = transformerSpec(size);
  const weights = new TransformerWeights(spec);
  const input = randomInput(spec, 2);
  const full = await loadFullModel(spec, weights);
  const expected = await runValues(full, input);
  await full.unload();
  for (const [pp, op] of configs) {
    const runner = await LocalPlanRunner.loadOnnx(weights, planPartition(spec, { pp, op }), ORT);
    try {
      const result = await runner.run(input);
      assert.deepEqual(result.output.shape, input.shape.slice(0, 2).concat(spec.outputDim));
      assert.equal(result.stages.length, pp);
      const { maxAbsDiff, maxAbs } = compare(expected, float32Values(result.output));
      assert.ok(maxAbs > 0.1);
      assert.ok(maxAbsDiff <= TOLERANCE * Math.max(1, maxAbs), `${size} pp=${pp} op=${op}: max abs diff ${maxAbsDiff}`);
    } finally {
      await runner.close();
    }
  }
}

test('tiny: every (pp, op) in {1,2,3,4}×{1,2,3,4} equals the single graph', async () => {
  const configs: Array<[number, number]> = [];
  for (const pp of [1, 2, 3, 4]) for (const op of [1, 2, 3, 4]) configs.push([pp, op]);
  await checkConfigs('tiny', configs);
});

test('small: (pp, op) in {1,2,4}×{1,2} equals the single graph', async () => {
  await checkConfigs('small', [
    [1, 2],
    [2, 1],
    [2, 2],
    [4, 1],
    [4, 2],
  ]);
});

test('a wrong shard graph is caught: dropping one shard changes the output', async () => {
  // Guards the comparison itself: a plan that loses a partial sum must not pass.
  const spec = transformerSpec('tiny');
  const weights = new TransformerWeights(spec);
  const input = randomInput(spec, 1);
  const full = await loadFullModel(spec, weights);
  const expected = await runValues(full, input);
  await full.unload();
  const plan = planPartition(spec, { pp: 1, op: 2 });
  const broken = structuredClone(plan);
  broken.stages[0].segments[2].reduce = 'none'; // keep shard 0's partial only for block0.mlp
  const runner = await LocalPlanRunner.loadOnnx(weights, broken, ORT);
  try {
    const { maxAbsDiff } = compare(expected, float32Values((await runner.run(input)).output));
    assert.ok(maxAbsDiff > 1e-2, `expected a visible difference, got ${maxAbsDiff}`);
  } finally {
    await runner.close();
  }
});

test('sumPartials adds element-wise and refuses partials of different shapes', () => {
  const a = wireTensor(Float32Array.from([1, 2, 3, 4]), [1, 2, 2]);
  const b = wireTensor(Float32Array.from([0.5, -2, 1, 0]), [1, 2, 2]);
  const sum = sumPartials([a, b]);
  assert.deepEqual(sum.shape, [1, 2, 2]);
  assert.deepEqual(Array.from(float32Values(sum)), [1.5, 0, 4, 4]);
  assert.deepEqual(Array.from(float32Values(a)), [1, 2, 3, 4], 'inputs are left untouched');
  assert.throws(() => sumPartials([a, wireTensor(new Float32Array(4), [1, 4])]), /partial sums disagree in shape/);
  assert.throws(() => sumPartials([]), /no partial sums to reduce/);
});
