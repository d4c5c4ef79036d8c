// Real hosts with a slow network: 10 ms each way between every GPU worker host and the rest
// (tc netem on the workers' links; where the kernel has no netem, a relay that delays the
// workers' NATS traffic by as much). The hop profiler (`meshserve hops`), run from the test's
// host, measures it;
// its round trip goes into the per-request overhead of the placement, which both the dispatcher's
// estimates and the simulator use. Live SLO attainment of a bursty replay then stays within 2
// points of the simulated one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type NetnsCluster, startNetnsCluster } from '../../dev/faults/netns-cluster.js';
import { delayScenario, DELAY_WORKERS as WORKERS } from '../../dev/faults/scenarios.js';
import { netemUnavailable, netnsUnavailable } from '../../dev/netns.js';
import type { WorkerHop } from '../../dev/profile/network-hops.js';
import { replayScenario } from '../../dev/scenario-replay.js';
import { REFERENCE_OVERHEAD } from '../../planner/latency-model.js';
import { buildScenario } from '../../planner/scenario.js';

const unavailable = netnsUnavailable();
const cli = join(fileURLToPath(new URL('../../../', import.meta.url)), 'dist/scripts/meshserve.js');
const noNetem = unavailable ? undefined : netemUnavailable();
const DELAY_MS = 10;

describe('reliability: 10 ms between the worker hosts and the rest (namespaces)', {
  skip: unavailable ?? false,
}, () => {
  let c: NetnsCluster;
  before(async () => {
    c = await startNetnsCluster({
      workers: WORKERS,
      profiles: [],
      place: false,
      ...(noNetem ? { relayDelayMs: DELAY_MS } : {}),
    });
    if (!noNetem) for (let i = 0; i < WORKERS; i++) c.netns.delay(`w${i}`, DELAY_MS);
  });
  after(() => c?.close());

  it('the profiler measures the hop; with it in the overhead, live attainment is within 2 points', {
    timeout: 120_000,
  }, async () => {
    // The profiler as an operator runs it, from a host next to the dispatcher's (this one: no delay).
    const run = spawnSync(process.execPath, [cli, 'hops', '--json', '--runs', '30'], {
      encoding: 'utf8',
      env: { ...process.env, NATS_URL: c.natsUrl, REDIS_URL: c.redisUrl, LOG_LEVEL: 'error' },
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const { baseline, hops, overhead } = JSON.parse(run.stdout) as {
      baseline: WorkerHop;
      hops: WorkerHop[];
      overhead: number;
    };
    assert.deepEqual(
      hops.map((h) => h.worker),
      Array.from({ length: WORKERS }, (_, i) => `gpu-${i}`),
    );
    const scenario = buildScenario(delayScenario(overhead));
    const r = await replayScenario(c.system, scenario);
    const f = r.fidelity;
    console.log(
      `# delay ${DELAY_MS} ms each way (${noNetem ? `delay relay: ${noNetem}` : 'tc netem'}): hop round trips ${hops.map((h) => `${h.worker} ${h.roundTripMs.toFixed(1)} ms`).join(', ')} (dispatcher ${baseline.roundTripMs.toFixed(1)} ms); ` +
        `overhead ${(REFERENCE_OVERHEAD * 1e3).toFixed(0)} → ${(overhead * 1e3).toFixed(1)} ms; ${scenario.workload.arrival.length} requests: ` +
        `live ${(f.liveAttainment * 100).toFixed(2)}% vs simulated ${(f.simulatedAttainment * 100).toFixed(2)}% (${f.attainmentDiffPoints.toFixed(2)} points); ` +
        `reply − estimate p50 ${(f.overModel.p50 * 1e3).toFixed(2)} ms p99 ${(f.overModel.p99 * 1e3).toFixed(2)} ms; errors ${JSON.stringify([...r.live.errors])}`,
    );
    for (const h of hops)
      assert.ok(
        h.roundTripMs >= 2 * DELAY_MS,
        `${h.worker}: round trip ${h.roundTripMs} ms below the ${2 * DELAY_MS} ms added`,
      );
    assert.equal(r.placement.params.overhead, overhead, 'the placement carries the measured overhead');
    assert.equal(
      [...r.live.errors.values()].reduce((a, b) => a + b, 0),
      0,
      'no errors',
    );
    assert.ok(
      f.simulatedAttainment > 0.3 && f.simulatedAttainment < 0.995,
      `the scenario is neither trivial nor hopeless (${f.simulatedAttainment})`,
    );
    assert.ok(
      Math.abs(f.attainmentDiffPoints) <= 2,
      `attainment differs by ${f.attainmentDiffPoints.toFixed(2)} points`,
    );
  });
});

if (unavailable) console.log(`# skipped the network-namespace tests: ${unavailable}`);
