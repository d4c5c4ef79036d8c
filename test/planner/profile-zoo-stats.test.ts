import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadProfilesFile, saveProfilesFile } from '../../dev/planner-files.js';
import { GroupClocks } from '../../planner/latency-model.js';
import { configLatency, groupFits, maxStageWeightBytes, parseProfiles, profileMap } from '../../planner/profile.js';
import { Rng } from '../../planner/rng.js';
import { LatencyHistogram, QUANTILE_RELATIVE_ERROR } from '../../planner/stats.js';
import { zooProfile, zooProfiles } from '../../planner/zoo.js';

test('zoo: measured single-device figures, labelled synthesised/estimated tables with the paper’s shapes', () => {
  const zoo = profileMap(zooProfiles());
  assert.equal(zoo.get('bert-1.3b')!.singleDeviceLatency, 0.1506);
  assert.equal(zoo.get('bert-6.7b')!.weightBytes, 13.4e9);
  for (const p of zoo.values()) {
    assert.ok(p.source === 'synthesised' || p.source === 'estimated');
    assert.match(p.notes!, /synthesised/);
    const single = p.singleDeviceLatency;
    const pp2 = configLatency(p.configs['pp2-op1']) / single;
    const pp4 = configLatency(p.configs['pp4-op1']) / single;
    assert.ok(pp2 >= 1.02 && pp2 <= 1.08, `${p.name} pp2 total ×${pp2}`);
    assert.ok(pp4 >= 1.07 && pp4 <= 1.12, `${p.name} pp4 total ×${pp4}`);
    const s4 = p.configs['pp4-op1'].stageLatency;
    assert.ok(Math.abs((Math.max(...s4) * 4) / single - 1.2) < 0.02, 'max-stage × pp ≈ 1.2 × single at pp 4');
    assert.ok(s4[0] > s4[1] && s4[3] > s4[2], 'end stages are heavier');
    assert.ok(Math.abs(maxStageWeightBytes(p.configs['pp4-op1']) / (p.weightBytes / 4) - 1.15) < 1e-9);
    const op4 = configLatency(p.configs['pp1-op4']);
    assert.ok(op4 < 0.5 * single, 'op 4 clearly faster than one device');
    assert.ok(4 * op4 > single, 'op 4 gives less throughput per device than replication');
    for (const c of Object.values(p.configs)) {
      const total = c.stageWeightBytes.reduce((a, b) => a + b, 0) * c.op;
      assert.ok(Math.abs(total / p.weightBytes - 1) < 1e-9, 'weights add up to the model');
    }
  }
  assert.equal(zoo.get('moe-1.3b')!.source, 'estimated');
  assert.throws(() => zooProfile('gpt-3'), /unknown zoo model "gpt-3"/);
});

test('memory fit: Σ max-stage weight per device within the budget', () => {
  const zoo = profileMap([zooProfile('bert-6.7b', 'a'), zooProfile('bert-6.7b', 'b')]);
  const budget = { memoryPerDevice: 13 * 2 ** 30 };
  assert.ok(groupFits({ config: { pp: 1, op: 1 }, models: ['a'] }, zoo, budget));
  assert.ok(!groupFits({ config: { pp: 1, op: 1 }, models: ['a', 'b'] }, zoo, budget));
  assert.ok(groupFits({ config: { pp: 2, op: 1 }, models: ['a', 'b'] }, zoo, budget));
  assert.ok(!groupFits({ config: { pp: 3, op: 1 }, models: ['a'] }, zoo, budget), 'no profile → cannot host');
});

test('profiles JSON: save, load, validation errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prof-'));
  try {
    const file = join(dir, 'p.json');
    const ps = [zooProfile('bert-1.3b')];
    saveProfilesFile(file, ps);
    assert.deepEqual(loadProfilesFile(file), ps);
    const bad = structuredClone(ps[0]) as any;
    bad.configs['pp2-op1'].stageLatency = [0.1];
    assert.throws(() => parseProfiles([bad]), /configs\.pp2-op1.*pp entries/s);
    const wrongKey = structuredClone(ps[0]) as any;
    wrongKey.configs['pp9-op1'] = wrongKey.configs['pp2-op1'];
    assert.throws(() => parseProfiles({ profiles: [wrongKey] }), /key must be "pp2-op1"/);
    writeFileSync(file, '{oops');
    assert.throws(() => loadProfilesFile(file), /cannot read profiles/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('latency histogram: quantiles within the documented relative error, fixed memory', () => {
  const h = new LatencyHistogram();
  const rng = new Rng(1);
  const xs = Float64Array.from({ length: 100_000 }, () => 0.05 + rng.exponential() * 0.2);
  for (const x of xs) h.add(x);
  const sorted = Float64Array.from(xs).sort();
  for (const q of [0.5, 0.9, 0.99, 1]) {
    const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)];
    const got = h.quantile(q);
    assert.ok(Math.abs(got - exact) / exact <= QUANTILE_RELATIVE_ERROR * 1.0001, `q${q}: ${got} vs ${exact}`);
  }
  assert.ok(Math.abs(h.mean - xs.reduce((a, b) => a + b, 0) / xs.length) < 1e-12);
  h.reset();
  assert.ok(Number.isNaN(h.quantile(0.5)));
});

test('GroupClocks: incremental use of the shared latency model', () => {
  const g = new GroupClocks(2, { overhead: 0.01 });
  assert.ok(Math.abs(g.tentativeFinish([0.1, 0.2], 0) - 0.31) < 1e-12);
  assert.equal(g.lastStageFree, 0, 'tentative changes nothing');
  g.commit([0.1, 0.2], 0);
  assert.ok(Math.abs(g.commit([0.1, 0.2], 0) - 0.51) < 1e-12);
  assert.ok(Math.abs(g.firstStageFree - 0.2) < 1e-12);
  g.idleAt(0.3);
  assert.equal(g.lastStageFree, 0.3);
  assert.throws(() => g.tentativeFinish([0.1], 0), /expected 2 stage latencies/);
});

test('GroupLatencyModel: per-model estimates for the dispatcher match the simulator', async () => {
  const { GroupLatencyModel } = await import('../../planner/latency-model.js');
  const { simulate } = await import('../../planner/simulator.js');
  const profiles = [zooProfile('bert-1.3b', 'a'), zooProfile('bert-2.6b', 'b')];
  const group = { devices: 2, config: { pp: 2, op: 1 }, models: ['a', 'b'] };
  const g = new GroupLatencyModel(group, profiles);
  assert.ok(g.hosts('a') && !g.hosts('c'));
  const fa = g.commit('a', 0);
  const fb = g.commit('b', 0.01);
  const r = simulate(
    { groups: [group] },
    profiles,
    {
      modelNames: ['a', 'b'],
      arrival: Float64Array.of(0, 0.01),
      model: Int32Array.of(0, 1),
      slo: Float64Array.of(Infinity, Infinity),
      duration: 1,
    },
    { records: true },
  );
  assert.deepEqual([...r.records!.finish], [fa, fb]);
  assert.throws(() => g.tentativeFinish('c', 0), /does not host model "c"/);
  assert.throws(
    () => new GroupLatencyModel({ config: { pp: 3, op: 1 }, models: ['a'] }, profiles),
    /no profile for pp 3/,
  );
});
