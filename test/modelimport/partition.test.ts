// Splitting graphs nobody here made into pipeline stages: a real PaddleOCR detector (Constant-node
// weights) and the project's own transformer as one opaque file split into 2 and 4 stages whose
// chains give the whole model's outputs; weights shared by stages are copied and counted in each;
// no cut falls inside a control-flow node, whose subgraphs' outer reads cross cuts like inputs; the
// balance follows measured time, not node counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transformerSpec } from '../../modelgen/transformer.js';
import { crossingAt, findCutPoints } from '../../modelimport/cut-points.js';
import { analyseGraph } from '../../modelimport/graph-analysis.js';
import { type ImportedModel, importModel } from '../../modelimport/import-model.js';
import { readOnnxModel } from '../../modelimport/onnx-reader.js';
import { createSession, ort, relativeDifference, runSession, sampleInputs } from '../../modelimport/ort-session.js';
import { ShardedChain } from '../../modelimport/sharded-chain.js';
import { StageChain } from '../../modelimport/stage-chain.js';
import { probeTensorTypes } from '../../modelimport/tensor-types.js';
import { float32Values } from '../../serving/protocol/tensor.js';
import { compare, loadFullModel, randomInput } from '../modelgen/helpers.js';
import { floatTensor, modelBytes, node, OCR_DET, readModel, transformerFile, valueInfo } from './helpers.js';

const TOLERANCE = 1e-4;

/** Runs every plan's stage chain on fresh inputs (not the importer's own) against the whole model. */
async function checkPlans(bytes: Uint8Array, m: ImportedModel, seed: number): Promise<void> {
  const inputs = sampleInputs(m.inputShapes, seed);
  const whole = await createSession(bytes);
  const expected = await runSession(whole, inputs);
  await whole.release();
  for (const plan of m.plans) {
    assert.equal(plan.stages.length, plan.pp);
    assert.ok(plan.maxRelativeDifference <= TOLERANCE, `pp${plan.pp}: ${plan.maxRelativeDifference}`);
    const chain = await StageChain.load(plan.stages);
    try {
      const { outputs } = await chain.run(inputs);
      for (const { name } of m.outputs) {
        const diff = relativeDifference(expected[name], outputs[name]);
        assert.ok(diff <= TOLERANCE, `pp${plan.pp} output ${name}: relative difference ${diff}`);
      }
    } finally {
      await chain.close();
    }
    // Consecutive stages agree on what crosses.
    for (let k = 1; k < plan.pp; k++) assert.deepEqual(plan.stages[k].receives, plan.stages[k - 1].sends);
  }
}

describe('pipeline plans of imported graphs', () => {
  it('a real CNN of 672 nodes with Constant-node weights splits into 2 and 4 verified stages', async () => {
    const bytes = readModel(OCR_DET);
    const start = performance.now();
    const m = await importModel(bytes, { inputShapes: { x: [1, 3, 64, 96] }, maxPp: 4, nodeRuns: 3 });
    assert.ok(performance.now() - start < 30_000, 'seconds, not minutes');
    assert.equal(m.summary.nodes, 672);
    assert.deepEqual(
      m.plans.map((p) => p.pp),
      [1, 2, 4],
    );
    assert.ok(m.cutPoints > 20, `${m.cutPoints} cut points`);
    await checkPlans(bytes, m, 99);
    // Every stage carries its own weights; together at least the model's (shared ones counted twice).
    for (const plan of m.plans) {
      const total = plan.stages.reduce((n, s) => n + s.weightBytes, 0);
      assert.ok(total >= m.plans[0].stages[0].weightBytes, `pp${plan.pp}: ${total} bytes of weights`);
      assert.ok(plan.stages.every((s) => s.weightBytes > 0));
    }
    assert.match(m.sharding.reason, /^op > 1: not offered: no MatMul or Gemm with a constant 2-D weight to split/);
    assert.deepEqual(m.shardedPlans, []);
  });

  it("the project's own transformer, as one opaque .onnx file, splits into 2 and 4 stages equal to the generator's model", async () => {
    const bytes = transformerFile('tiny');
    const m = await importModel(bytes, { inputShapes: { input: [1, 16, 32] }, maxPp: 4, nodeRuns: 3 });
    assert.deepEqual(
      m.plans.map((p) => p.pp),
      [1, 2, 4],
    );
    await checkPlans(bytes, m, 5);
    // Its MatMuls have constant weights: split along their inner dimension, the partial products
    // summed, every sharded plan gives the whole model's outputs too.
    assert.match(
      m.sharding.reason,
      /^op > 1: offered \(pp1-op2, pp2-op2, pp4-op2, pp1-op4, pp2-op4\): 24 MatMul\/Gemm layer/,
    );
    const inputs = sampleInputs(m.inputShapes, 6);
    const whole = await createSession(bytes);
    const wanted = (await runSession(whole, inputs)).output;
    await whole.release();
    for (const plan of m.shardedPlans) {
      assert.ok(plan.maxRelativeDifference <= TOLERANCE);
      assert.ok(plan.stages.every((s) => s.segments.some((g) => g.reduce && g.files.length === plan.op)));
      const sharded = await ShardedChain.load(plan.stages);
      const diff = relativeDifference(wanted, (await sharded.run(inputs)).outputs.output);
      await sharded.close();
      assert.ok(diff <= TOLERANCE, `pp${plan.pp}-op${plan.op}: ${diff}`);
      // A shard holds its slice of each split weight: less than the whole stage.
      const pipeline = m.plans.find((p) => p.pp === plan.pp)!;
      for (const [k, s] of plan.stages.entries()) assert.ok(s.weightBytes < pipeline.stages[k].weightBytes);
    }
    // And the pp4 chain computes what the generator's own reference computes.
    const spec = transformerSpec('tiny');
    const input = randomInput(spec, 1, 3);
    const reference = await loadFullModel(spec);
    const expected = float32Values(await reference.run(input));
    await reference.unload();
    const chain = await StageChain.load(m.plans.find((p) => p.pp === 4)!.stages);
    const { outputs } = await chain.run({ input: new ort.Tensor('float32', float32Values(input), input.shape) });
    await chain.close();
    const { maxAbsDiff, maxAbs } = compare(expected, outputs.output.data as Float32Array);
    assert.ok(maxAbs > 0.1 && maxAbsDiff <= TOLERANCE * maxAbs, `max abs diff ${maxAbsDiff}`);
  });

  it('a weight read on both sides of a cut is copied into each stage and counted in each', async () => {
    // y = relu(x·W)·W: the same W in the first and the last MatMul.
    const w = floatTensor('W', [8, 8], (i) => ((i % 7) - 3) / 8);
    const bytes = modelBytes({
      name: 'shared-weight',
      node: [node('MatMul', ['x', 'W'], ['a']), node('Relu', ['a'], ['b']), node('MatMul', ['b', 'W'], ['y'])],
      initializer: [w],
      input: [valueInfo('x', [1, 8])],
      output: [valueInfo('y', [1, 8])],
    });
    const m = await importModel(bytes, { maxPp: 2, nodeRuns: 1 });
    const pp2 = m.plans.find((p) => p.pp === 2)!;
    assert.ok(pp2, m.skipped.join('; '));
    const wBytes = 8 * 8 * 4;
    assert.equal(m.plans[0].stages[0].weightBytes, wBytes, 'the whole model holds W once');
    assert.deepEqual(
      pp2.stages.map((s) => s.weightBytes),
      [wBytes, wBytes],
      'each stage holds its own copy',
    );
    await checkPlans(bytes, m, 2);
  });

  it('never cuts inside If: what its branches read from outside crosses the cuts before it', async () => {
    // a = relu(x); If(c) then a + 1 else a − 1 (the branches read `a` from the outer scope); y = neg(If).
    const one = floatTensor('one', [1], () => 1);
    const branch = (op: string) => ({
      name: op,
      node: [node(op, ['a', 'one'], [`${op}_out`])],
      output: [valueInfo(`${op}_out`, [1, 4])],
    });
    const bytes = modelBytes({
      name: 'control-flow',
      node: [
        node('Relu', ['x'], ['a']),
        node('Sigmoid', ['x'], ['s']),
        node('Neg', ['s'], ['t']),
        node('If', ['c'], ['branch'], {
          attribute: [
            { name: 'then_branch', type: 5, g: branch('Add') },
            { name: 'else_branch', type: 5, g: branch('Sub') },
          ],
        }),
        node('Add', ['branch', 't'], ['y']),
      ],
      initializer: [one, { name: 'c', dims: [], dataType: 9, int32Data: [1] }],
      input: [valueInfo('x', [1, 4])],
      output: [valueInfo('y', [1, 4])],
    });
    const model = readOnnxModel(bytes);
    const analysis = analyseGraph(model);
    const ifAt = analysis.nodes.findIndex((n) => n.opType === 'If');
    assert.ok(analysis.uses[ifAt].includes('a'), 'the If reads `a` through its branches');
    const types = await probeTensorTypes(model, analysis, sampleInputs({ x: [1, 4] }), {});
    const cuts = findCutPoints(analysis, types, { maxCrossing: 3, maxBytes: 1 << 20 });
    const crossing = crossingAt(analysis);
    const aAt = analysis.nodes.findIndex((n) => n.output?.includes('a'));
    for (const c of cuts) {
      if (c.position > aAt && c.position <= ifAt) assert.ok(c.tensors.includes('a'), `cut ${c.position}: ${c.tensors}`);
      assert.deepEqual(c.tensors, crossing(c.position));
    }
    const m = await importModel(bytes, { maxPp: 4, maxCrossing: 3, nodeRuns: 1 });
    assert.ok(m.plans.some((p) => p.pp > 1));
    for (const plan of m.plans) {
      const holder = plan.stages.filter((s) => s.from <= ifAt && ifAt < s.to);
      assert.equal(holder.length, 1, 'the If is in exactly one stage, whole');
    }
    await checkPlans(bytes, m, 4);
  });

  it('balances stages by measured time, not node counts', async () => {
    // Two expensive MatMuls, then 30 cheap Neg nodes: by node count a 2-stage split would fall
    // among the Negs (16 / 16); by time it falls at or next to the MatMuls.
    const n = 256;
    const w = floatTensor('W', [n, n], (i) => ((i % 13) - 6) / n);
    const negs = Array.from({ length: 30 }, (_, i) =>
      node('Neg', [i === 0 ? 'b' : `n${i - 1}`], [i === 29 ? 'y' : `n${i}`]),
    );
    const bytes = modelBytes({
      name: 'time-not-count',
      node: [node('MatMul', ['x', 'W'], ['a']), node('MatMul', ['a', 'W'], ['b']), ...negs],
      initializer: [w],
      input: [valueInfo('x', [n, n])],
      output: [valueInfo('y', [n, n])],
    });
    const m = await importModel(bytes, { maxPp: 2, nodeRuns: 3, maxCrossingBytes: 1 << 20 });
    const pp2 = m.plans.find((p) => p.pp === 2)!;
    assert.ok(pp2, m.skipped.join('; '));
    assert.ok(
      pp2.stages[0].to <= 2,
      `the cut falls by the MatMuls, at ${pp2.stages[0].to} (node times ${pp2.nodeMs.map((x) => x.toFixed(2))})`,
    );
    await checkPlans(bytes, m, 8);
  });
});
