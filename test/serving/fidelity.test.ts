// Fidelity: the live cluster (8 simulated GPUs) against the simulator on the same bursty
// workload and placement. The bar: SLO attainment within 2 percentage points; runtime
// overhead per request p50 < 2 ms and p99 < 10 ms (p99 checked here with CI slack, see below).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { replayScenario } from '../../dev/scenario-replay.js';
import { buildScenario } from '../../planner/scenario.js';
import { startCluster, type TestCluster } from './helpers.js';

export const FIDELITY_SCENARIO = {
  cluster: { devices: 8, memoryPerDeviceGiB: 13 },
  models: [
    { zoo: 'bert-1.3b', count: 4 },
    { zoo: 'bert-2.6b', count: 2 },
  ],
  groups: [
    {
      config: { pp: 4, op: 1 },
      models: ['bert-1.3b-0', 'bert-1.3b-1', 'bert-1.3b-2', 'bert-1.3b-3', 'bert-2.6b-0', 'bert-2.6b-1'],
    },
    { config: { pp: 1, op: 2 }, models: ['bert-1.3b-0', 'bert-1.3b-1', 'bert-2.6b-0'] },
    { config: { pp: 2, op: 1 }, models: ['bert-1.3b-0', 'bert-1.3b-2', 'bert-2.6b-0', 'bert-2.6b-1'] },
  ],
  workload: { process: 'gamma', totalRate: 60, cv: 4, duration: 20, seed: 7, split: 'power-law' },
  slo: { scale: 5 },
  sim: { policy: 'earliest-finish' },
};

describe('serving runtime: fidelity against the simulator', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ workers: 8, profiles: [] });
  });
  after(() => c?.close());

  it('attainment within 2 points of the simulation; small per-request overhead', { timeout: 60_000 }, async () => {
    const scenario = buildScenario(FIDELITY_SCENARIO);
    const r = await replayScenario(c.system, scenario);
    const f = r.fidelity;
    const n = scenario.workload.arrival.length;
    const d = (x: { p50: number; p99: number }) =>
      `p50 ${(x.p50 * 1e3).toFixed(2)} ms p99 ${(x.p99 * 1e3).toFixed(2)} ms`;
    console.log(
      `# fidelity: ${n} requests, live ${(f.liveAttainment * 100).toFixed(2)}% vs simulated ${(f.simulatedAttainment * 100).toFixed(2)}% (${f.attainmentDiffPoints.toFixed(2)} points); overhead (realized sends) ${d(f.overhead)} compared ${f.overhead.compared} other group ${f.overhead.otherGroup}; cost without the allowance ${d(f.cost)}; vs scheduled ${d(f.scheduled)} other group ${f.scheduled.otherGroup}; in cluster ${d(f.inCluster!)} other group ${f.inCluster!.otherGroup}; reply − estimate ${d(f.overModel)}; decisions differ ${f.decisionsDiffer}; send lag max ${(r.live.maxSendLag * 1e3).toFixed(1)} ms; errors ${JSON.stringify([...r.live.errors])}`,
    );
    assert.ok(n >= 1000, `${n} requests`);
    assert.equal(r.liveSummary.requests, n);
    assert.equal(
      [...r.live.errors.values()].reduce((a, b) => a + b, 0),
      0,
      'no errors',
    );
    assert.ok(
      f.simulatedAttainment > 0.3 && f.simulatedAttainment < 0.99,
      `the scenario is neither trivial nor hopeless (${f.simulatedAttainment})`,
    );
    r.liveSummary.groupUtilisation.forEach((u, g) => {
      const simulated = r.simulated.groupUtilisation[g];
      assert.ok(
        Math.abs(u - simulated) < 0.05,
        `group ${g} utilisation live ${u.toFixed(3)} vs simulated ${simulated.toFixed(3)}`,
      );
    });
    assert.ok(
      Math.abs(f.attainmentDiffPoints) <= 2,
      `attainment differs by ${f.attainmentDiffPoints.toFixed(2)} points`,
    );
    // Against the simulator's per-request latency (which includes its 11 ms runtime allowance),
    // the simulator fed the realized send times; and inside the cluster.
    assert.ok(f.overhead.p50 < 0.002, `live − simulated p50 ${(f.overhead.p50 * 1e3).toFixed(2)} ms`);
    assert.ok(f.overhead.compared > n / 4, `${f.overhead.compared} requests compared`);
    assert.ok(f.inCluster && f.inCluster.p50 < 0.002, `in-cluster p50 ${(f.inCluster!.p50 * 1e3).toFixed(2)} ms`);
    assert.ok(f.overModel.p50 < 0.002, `reply − estimate p50 ${(f.overModel.p50 * 1e3).toFixed(2)} ms`);
    // p99: the bar is 10 ms; this test runs client, dispatcher and 8 workers on one event
    // loop next to other test files on 2 cores, so it only guards against gross regressions.
    // docs/benchmarks.md quotes the figures of `meshserve replay` on separate processes.
    assert.ok(f.overModel.p99 < 0.05, `reply − estimate p99 ${(f.overModel.p99 * 1e3).toFixed(2)} ms`);
  });
});
