import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, profileLocally } from '../../dev/profile/local-profile.js';
import { planPartition } from '../../modelgen/partition.js';
import { transformerSpec } from '../../modelgen/transformer.js';

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /median of no values/);
});

test('a local profile is a planner ModelProfile with one entry per config and per stage', async () => {
  const spec = transformerSpec('tiny');
  const { profile, measurements } = await profileLocally(
    spec,
    [
      { pp: 2, op: 1 },
      { pp: 2, op: 2 },
    ],
    { runs: 3, warmup: 1, executor: { intraOpThreads: 1 } },
  );
  assert.equal(profile.name, 'transformer-tiny');
  assert.equal(profile.source, 'measured');
  assert.deepEqual(Object.keys(profile.configs), ['pp1-op1', 'pp2-op1', 'pp2-op2']);
  assert.equal(profile.singleDeviceLatency, profile.configs['pp1-op1'].stageLatency[0]);
  assert.equal(profile.weightBytes, 4 * planPartition(spec, { pp: 1, op: 1 }).stages[0].params);
  for (const [key, c] of Object.entries(profile.configs)) {
    const plan = planPartition(spec, c);
    assert.equal(c.stageLatency.length, c.pp, key);
    assert.ok(
      c.stageLatency.every((s) => s > 0 && s < 1),
      `${key}: latencies in seconds`,
    );
    assert.deepEqual(
      c.stageWeightBytes,
      plan.stages.map((s) => s.maxShardWeightBytes),
    );
  }
  const sharded = measurements.find((m) => m.config.op === 2);
  assert.ok(sharded?.reducesPerStage.every((n) => n > 0));
  assert.ok(measurements.filter((m) => m.config.op === 1).every((m) => m.reducesPerStage.every((n) => n === 0)));
});
