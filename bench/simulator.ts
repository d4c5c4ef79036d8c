// `npm run bench -- simulator [--requests=N] [--reps=R]`: the simulator's speed and memory on the
// fixed scenario of the side-by-side harness against the reference's compiled simulator
// (docs/benchmarks.md): 64 devices as 16 groups of (op 1, pp 4), each hosting 8 of 32 models whose
// single-device latency is 100 ms (pp 4: four 26 ms stages, 0.5 GB per device); Gamma arrivals at 600
// req/s total, CV 4, power-law popularity, SLO 0.5 s. Times the simulation only (the workload is
// generated beforehand).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DISPATCH_POLICIES, Simulator } from '../planner/simulator.js';
import type { DispatchPolicy, ModelProfile, Placement, Workload } from '../planner/types.js';
import { multiModelWorkload } from '../planner/workload/multi-model.js';
import { takeRequests } from '../planner/workload/slice.js';
import { median, positiveOption } from './measure.js';

const TOTAL_RATE = 600;

function scenario(): { profiles: ModelProfile[]; placement: Placement } {
  const models = Array.from({ length: 32 }, (_, i) => `m${i}`);
  const gb = 0.5e9;
  const profiles: ModelProfile[] = models.map((name) => ({
    name,
    singleDeviceLatency: 0.1,
    weightBytes: 2e9,
    configs: {
      'pp1-op1': { pp: 1, op: 1, stageLatency: [0.1], stageWeightBytes: [2e9] },
      'pp4-op1': { pp: 4, op: 1, stageLatency: [0.026, 0.026, 0.026, 0.026], stageWeightBytes: [gb, gb, gb, gb] },
    },
    source: 'synthesised',
    notes: 'benchmark fixture',
  }));
  const placement: Placement = {
    groups: Array.from({ length: 16 }, (_, g) => ({
      devices: 4,
      config: { pp: 4, op: 1 },
      models: Array.from({ length: 8 }, (_, j) => models[(8 * g + j) % 32]),
    })),
  };
  return { profiles, placement };
}

function workload(requests: number, seed: number): Workload {
  const full = multiModelWorkload({
    models: Array.from({ length: 32 }, (_, i) => `m${i}`),
    totalRate: TOTAL_RATE,
    cv: 4,
    duration: (requests / TOTAL_RATE) * 1.2,
    seed,
    split: 'power-law',
    slo: 0.5,
  });
  if (full.arrival.length < requests) throw new Error(`generated only ${full.arrival.length} requests`);
  return takeRequests(full, requests);
}

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function bytesInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Reads `--name=value` (bench.ts passes only dash-prefixed arguments through). */

export async function run(args: string[]): Promise<void> {
  const requests = positiveOption(args, '--requests', 1_000_000);
  const reps = positiveOption(args, '--reps', 7);
  const gc = gcFunction();
  const { profiles, placement } = scenario();
  const w = workload(requests, 1);
  const sim = new Simulator(profiles, w);
  console.log(
    `scenario: 16 groups × (op 1, pp 4) on 64 devices, 32 models, ${w.arrival.length} requests, Gamma 600 req/s CV 4, power law, SLO 0.5 s; ${reps} reps, median`,
  );
  const rates: Partial<Record<DispatchPolicy, number>> = {};
  for (const policy of DISPATCH_POLICIES) {
    sim.run(placement, { policy }); // warm-up (JIT)
    const times: number[] = [];
    let attainment = 0;
    for (let r = 0; r < reps; r++) {
      const t0 = process.hrtime.bigint();
      const res = sim.run(placement, { policy });
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      attainment = res.attainment;
    }
    const rate = w.arrival.length / median(times);
    rates[policy] = rate;
    console.log(
      `  ${policy.padEnd(17)} median ${(median(times) * 1e3).toFixed(1)} ms  ${(rate / 1e6).toFixed(1)} M req/s` +
        `  attainment ${attainment.toFixed(4)}`,
    );
  }
  if (rates['earliest-finish'] && rates['last-stage-clock']) {
    console.log(
      `  earliest-finish / last-stage-clock speed: ${(rates['earliest-finish'] / rates['last-stage-clock']).toFixed(2)}`,
    );
  }

  // Memory: bytes allocated by one run (records off), for 10× fewer and the full number of requests.
  const small = takeRequests(w, Math.floor(requests / 10));
  for (const [label, wl] of [
    [`${small.arrival.length} requests`, small],
    [`${w.arrival.length} requests`, w],
  ] as const) {
    const s = new Simulator(profiles, wl);
    s.run(placement, { policy: 'earliest-finish' });
    gc();
    const before = bytesInUse();
    let peak = before;
    const res = s.run(placement, { policy: 'earliest-finish' });
    peak = Math.max(peak, bytesInUse());
    gc();
    const after = bytesInUse();
    console.log(
      `  memory, ${label.padEnd(17)} heap+buffers before ${(before / 2 ** 20).toFixed(1)} MiB, right after run ${(peak / 2 ** 20).toFixed(1)} MiB, after gc ${(after / 2 ** 20).toFixed(1)} MiB (attainment ${res.attainment.toFixed(4)})`,
    );
  }
}
