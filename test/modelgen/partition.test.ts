import assert from 'node:assert/strict';
import { test } from 'node:test';
import { balancedSplit } from '../../modelgen/balanced-split.js';
import { buildGraph, maxIntraOpDegree, planPartition, shardGraphs } from '../../modelgen/partition.js';
import { uniformFloats } from '../../modelgen/seeded-random.js';
import { TransformerWeights, transformerLayers, transformerSpec } from '../../modelgen/transformer.js';

/** The best possible max part, by trying every way to cut. */
function bruteForceBest(costs: number[], parts: number): number {
  let best = Infinity;
  const visit = (start: number, left: number, worst: number): void => {
    if (left === 1) {
      best = Math.min(
        best,
        Math.max(
          worst,
          costs.slice(start).reduce((a, b) => a + b, 0),
        ),
      );
      return;
    }
    for (let end = start + 1; end <= costs.length - left + 1; end++) {
      visit(
        end,
        left - 1,
        Math.max(
          worst,
          costs.slice(start, end).reduce((a, b) => a + b, 0),
        ),
      );
    }
  };
  visit(0, parts, 0);
  return best;
}

test('balancedSplit finds the smallest possible slowest stage', () => {
  for (let trial = 0; trial < 40; trial++) {
    const n = 2 + (trial % 8);
    const costs = Array.from(uniformFloats(trial, 'costs', n, 5, 6));
    for (let parts = 1; parts <= n; parts++) {
      const starts = balancedSplit(costs, parts);
      assert.equal(starts.length, parts);
      assert.equal(starts[0], 0);
      for (let i = 1; i < parts; i++) assert.ok(starts[i] > starts[i - 1], 'parts are non-empty and in order');
      const sums = starts.map((s, i) => costs.slice(s, starts[i + 1] ?? n).reduce((a, b) => a + b, 0));
      assert.ok(Math.abs(Math.max(...sums) - bruteForceBest(costs, parts)) < 1e-9, `n=${n} parts=${parts}`);
    }
  }
  assert.throws(() => balancedSplit([1, 2], 3), /cannot split 2 units into 3 non-empty parts/);
});

test('pipeline stages cover the model in order, input projection first and head last, balanced', () => {
  for (const size of ['tiny', 'small', 'base']) {
    const spec = transformerSpec(size);
    const layers = transformerLayers(spec);
    const maxUnit = Math.max(...layers.map((l) => l.flops)) * 2; // a block is two layers
    const total = layers.reduce((s, l) => s + l.flops, 0);
    for (const pp of [1, 2, 3, 4]) {
      const plan = planPartition(spec, { pp, op: 1 });
      assert.equal(plan.stages.length, pp);
      assert.equal(plan.stages[0].units[0], 'input_proj');
      assert.equal(plan.stages[pp - 1].units.at(-1), 'head');
      const order = plan.stages.flatMap((s) => s.segments.flatMap((seg) => seg.layers));
      assert.deepEqual(
        order,
        layers.map((l) => l.id),
      );
      const flops = plan.stages.map((s) => s.flops);
      assert.equal(
        flops.reduce((a, b) => a + b, 0),
        total,
      );
      // The optimal contiguous split is never worse than the mean plus one unit.
      assert.ok(Math.max(...flops) <= total / pp + maxUnit, `${size} pp=${pp}: ${flops}`);
      assert.ok(Math.abs(plan.imbalance - Math.max(...flops) / (total / pp)) < 1e-12);
      // Consecutive stages hand over one activation of the same shape.
      for (let k = 1; k < pp; k++) assert.deepEqual(plan.stages[k].input.shape, plan.stages[k - 1].output.shape);
    }
    // Blocks are uniform, so an even number of stages over 8 blocks is close to perfect.
    if (spec.blocks === 8) assert.ok(planPartition(spec, { pp: 4, op: 1 }).imbalance < 1.05);
  }
});

test('op > 1: one segment per layer, every shard reads the activation and partial sums are reduced', () => {
  const spec = transformerSpec('tiny');
  const plan = planPartition(spec, { pp: 2, op: 2 });
  for (const stage of plan.stages) {
    const layerCount = stage.units.reduce((n, u) => n + (u.startsWith('block') ? 2 : 1), 0);
    assert.equal(stage.segments.length, layerCount);
    for (const seg of stage.segments) {
      assert.equal(seg.reduce, 'sum');
      assert.deepEqual(
        seg.shards.map((g) => g.shard),
        [0, 1],
      );
      assert.ok(seg.shards.every((g) => g.layers.length === 1 && g.output.name === 'partial'));
    }
  }
  const single = planPartition(spec, { pp: 2, op: 1 });
  assert.ok(single.stages.every((s) => s.segments.length === 1 && s.segments[0].reduce === 'none'));
  // The plan is plain data: it survives JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
});

test('per-shard weight bytes match the emitted shard graphs and shrink with op', () => {
  const spec = transformerSpec('tiny');
  const weights = new TransformerWeights(spec);
  let previous = Infinity;
  for (const op of [1, 2, 4]) {
    const plan = planPartition(spec, { pp: 2, op });
    for (const stage of plan.stages) {
      const perShard = Array.from({ length: op }, (_, j) =>
        shardGraphs(plan, stage.index, j).reduce((s, g) => s + buildGraph(weights, g).params, 0),
      );
      assert.equal(stage.maxShardWeightBytes, 4 * Math.max(...perShard));
      if (op === 1) assert.equal(perShard[0], stage.params);
    }
    const biggest = Math.max(...plan.stages.map((s) => s.maxShardWeightBytes));
    assert.ok(biggest < previous);
    previous = biggest;
  }
});

test('impossible configs are refused with the allowed range', () => {
  const spec = transformerSpec('tiny');
  assert.throws(() => planPartition(spec, { pp: 0, op: 1 }), /pp must be an integer from 1 to 6/);
  assert.throws(() => planPartition(spec, { pp: 7, op: 1 }), /pp must be an integer from 1 to 6/);
  assert.throws(
    () => planPartition(spec, { pp: 1, op: maxIntraOpDegree(spec) + 1 }),
    /op must be an integer from 1 to 4/,
  );
  assert.throws(() => shardGraphs(planPartition(spec, { pp: 2, op: 2 }), 2, 0), /has no stage 2/);
  assert.throws(() => shardGraphs(planPartition(spec, { pp: 2, op: 2 }), 0, 2), /has no shard 2/);
});
