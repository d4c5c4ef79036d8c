// The NATS-aware profiler on the tiny model: which configs fit, and that every stage's latency
// is its measured compute + partial sums + all-gathers + output hop, in the planner's format.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectNats } from '../../bus/index.js';
import { fittingConfigs, profileOverNats } from '../../dev/profile/nats-profile.js';
import { planPartition } from '../../modelgen/partition.js';
import { transformerSpec } from '../../modelgen/transformer.js';
import { parseProfiles } from '../../planner/profile.js';
import { configKey } from '../../planner/types.js';
import { startServers, type TestServers } from '../helpers/servers.js';

const spec = transformerSpec('tiny');
const GiB = 2 ** 30;

describe('profile over NATS', () => {
  let servers: TestServers;
  before(async () => {
    servers = await startServers({ nats: true });
  });
  after(() => servers?.close());

  it('lists the power-of-two configs that fit the devices and the memory', () => {
    const keys = (devices: number, memory: number) => fittingConfigs(spec, devices, memory).map(configKey);
    // tiny: 6 pipeline units (pp ≤ 4 as a power of two), 4 heads (op ≤ 4).
    assert.deepEqual(keys(8, GiB), [
      'pp1-op1',
      'pp1-op2',
      'pp1-op4',
      'pp2-op1',
      'pp2-op2',
      'pp2-op4',
      'pp4-op1',
      'pp4-op2',
    ]);
    assert.deepEqual(keys(2, GiB), ['pp1-op1', 'pp1-op2', 'pp2-op1']);
    const whole = planPartition(spec, { pp: 1, op: 1 }).stages[0].maxShardWeightBytes;
    assert.deepEqual(keys(2, whole - 1), ['pp1-op2', 'pp2-op1'], 'the whole model no longer fits one device');
  });

  it('measures compute and NATS transfers per stage and returns a measured ModelProfile', async () => {
    const lines: string[] = [];
    const m = await profileOverNats(spec, {
      devices: 2,
      memoryBytes: GiB,
      runs: 3,
      warmup: 1,
      executor: { intraOpThreads: 1 },
      connect: () => connectNats({ url: servers.natsUrl }),
      onProgress: (l) => lines.push(l),
    });
    const [profile] = parseProfiles([m.profile]); // valid in the planner's schema, onnx reference kept
    assert.equal(profile.source, 'measured');
    assert.deepEqual(profile.onnx, { size: 'tiny', seed: spec.seed });
    assert.deepEqual(Object.keys(profile.configs).sort(), ['pp1-op1', 'pp1-op2', 'pp2-op1']);
    for (const { config, stages } of m.configs) {
      const table = profile.configs[configKey(config)];
      assert.equal(stages.length, config.pp);
      stages.forEach((s, k) => {
        assert.ok(s.computeMs > 0 && s.hopMs > 0, `${configKey(config)} stage ${k}: compute and hop measured`);
        assert.ok(Math.abs(s.totalMs - (s.computeMs + s.sumMs + s.exchangeMs + s.hopMs)) < 1e-9);
        assert.equal(table.stageLatency[k], s.totalMs / 1000);
        const segments = planPartition(spec, config).stages[k].segments.length;
        assert.equal(s.exchanges, config.op > 1 ? segments : 0);
        if (config.op > 1)
          assert.ok(s.exchangeMs > 0 && s.sumMs > 0, 'sharded: all-gathers over NATS and partial sums');
        else assert.equal(s.exchangeMs, 0);
      });
    }
    assert.equal(profile.singleDeviceLatency, profile.configs['pp1-op1'].stageLatency[0]);
    assert.ok(
      lines.some((l) => /^NATS all-gather ×2 \[1,16,64\]: [\d.]+ ms$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(lines.some((l) => /^\[3\/3\] /.test(l)));
  });

  it('refuses a model that fits no single device', async () => {
    await assert.rejects(
      profileOverNats(spec, { devices: 2, memoryBytes: 1000, connect: () => connectNats({ url: servers.natsUrl }) }),
      /transformer-tiny does not fit one device of 0\.00 GiB/,
    );
  });
});
