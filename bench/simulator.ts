// `npm run bench -- simulator [--requests=N] [--reps=R]`: the simulator's speed, per engine and
// dispatch policy, with their ratios to each other measured in the same run, and its memory, on the
// fixed scenario of the side-by-side harness against the reference's compiled simulator
// (docs/benchmarks.md): 64 devices as 16 groups of (op 1, pp 4), each hosting 8 of 32 models whose
// single-device latency is 100 ms (pp 4: four 26 ms stages, 0.5 GB per device); Gamma arrivals at 600
// req/s total, CV 4, power-law popularity, SLO 0.5 s. Times the simulation only (the workload is
// generated beforehand).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DISPATCH_POLICIES, SIM_ENGINES, Simulator } from '../planner/simulator.js';
import type { DispatchPolicy, ModelProfile, Placement, SimEngine, Workload } from '../planner/types.js';
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

/** Signed KiB, rounded: "+248 KiB", "0 KiB". */
function kibi(bytes: number): string {
  const k = Math.round(bytes / 2 ** 10);
  return `${k > 0 ? '+' : ''}${k === 0 ? 0 : k} KiB`;
}

function bytesInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** One configuration timed: an engine and a dispatch policy. */
interface Timed {
  readonly engine: SimEngine;
  readonly policy: DispatchPolicy;
  readonly times: number[];
  attainment: number;
}

const key = (engine: SimEngine, policy: DispatchPolicy) => `${engine} ${policy}`;

/** Median over the reps of a/b, each pair from the same rep (so both saw the same machine load). */
function pairedRatio(a: Timed, b: Timed): number {
  return median(a.times.map((t, r) => t / b.times[r]));
}

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
  // Every (engine, policy) once per rep, in turn, so that the ratios below compare runs made under
  // the same machine load; the first round warms up (JIT, kernel compilation, buffers).
  const timed = new Map<string, Timed>();
  for (const engine of SIM_ENGINES)
    for (const policy of DISPATCH_POLICIES)
      timed.set(key(engine, policy), { engine, policy, times: [], attainment: 0 });
  for (let r = -1; r < reps; r++)
    for (const t of timed.values()) {
      const t0 = process.hrtime.bigint();
      const res = sim.run(placement, { policy: t.policy, engine: t.engine });
      if (r >= 0) t.times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      t.attainment = res.attainment;
    }
  for (const t of timed.values()) {
    const m = median(t.times);
    console.log(
      `  ${t.engine.padEnd(4)} ${t.policy.padEnd(17)} median ${(m * 1e3).toFixed(1)} ms  ${(w.arrival.length / m / 1e6).toFixed(1)} M req/s  attainment ${t.attainment.toFixed(4)}`,
    );
  }
  const get = (engine: SimEngine, policy: DispatchPolicy) => timed.get(key(engine, policy)) as Timed;
  console.log('  speed ratios, the median over reps of the per-rep time ratios (> 1: the first is faster):');
  for (const policy of DISPATCH_POLICIES)
    console.log(
      `    ${policy.padEnd(17)} wasm ÷ js: ${pairedRatio(get('js', policy), get('wasm', policy)).toFixed(2)}×`,
    );
  for (const engine of SIM_ENGINES)
    for (const policy of DISPATCH_POLICIES.filter((p) => p !== 'earliest-finish'))
      console.log(
        `    ${engine.padEnd(4)} ${policy} ÷ earliest-finish: ${pairedRatio(get(engine, 'earliest-finish'), get(engine, policy)).toFixed(2)}×`,
      );

  // Memory: what one run leaves allocated (records off), for 10× fewer and the full number of
  // requests: the least over three runs of the growth right after a run (JIT compilation now and
  // then adds megabytes to one run; an allocation per request would show in every run), and what
  // stays after gc.
  const small = takeRequests(w, Math.floor(requests / 10));
  for (const wl of [small, w])
    for (const engine of SIM_ENGINES)
      for (const policy of DISPATCH_POLICIES) {
        const s = new Simulator(profiles, wl);
        s.run(placement, { policy, engine });
        let grown = Infinity;
        let kept = 0;
        for (let r = 0; r < 3; r++) {
          gc();
          const before = bytesInUse();
          s.run(placement, { policy, engine });
          grown = Math.min(grown, bytesInUse() - before);
          gc();
          kept = bytesInUse() - before;
        }
        console.log(
          `  memory, ${String(wl.arrival.length).padStart(8)} requests, ${engine.padEnd(4)} ${policy.padEnd(17)} right after a run ${kibi(grown)}, after gc ${kibi(kept)} (heap+buffers ${(bytesInUse() / 2 ** 20).toFixed(1)} MiB)`,
        );
      }
}
