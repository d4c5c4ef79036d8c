// `npm run bench -- placement [--runs=N] [--duration=S] [--beam=K]`: time to place 32 models on
// 64 devices (13 GiB each; Gamma arrivals 64 req/s total, power law, CV 4, SLO scale 5, 200 s
// training workload) with Selective Replication, AlpaServe's fast greedy and its beam search, in
// this thread and on 2 worker threads, for two profiles: the reference's 100 ms / 2 GB test
// profile (per-config tables synthesised like the zoo's) and the zoo's bert-1.3b. Greedy and SR
// times are medians of `runs`; beam search runs once per setting (it is the slow one).
import { cpus, loadavg } from 'node:os';
import { describeLayout } from '../planner/placement/group-layouts.js';
import { type PlacementInput, type PlacementResult, placeByName } from '../planner/placement/index.js';
import { profileMap } from '../planner/profile.js';
import type { ModelProfile } from '../planner/types.js';
import { multiModelWorkload, slosFromScale } from '../planner/workload/multi-model.js';
import { synthesiseConfigs, zooProfile } from '../planner/zoo.js';
import { median, positiveOption } from './measure.js';

function testProfile(name: string): ModelProfile {
  return {
    name,
    singleDeviceLatency: 0.1,
    weightBytes: 2e9,
    configs: synthesiseConfigs(0.1, 2e9),
    source: 'synthesised',
    notes: 'the reference test profile: 100 ms, 2 GB; per-config tables synthesised',
  };
}

function benchInput(kind: 'test' | 'bert-1.3b', duration: number): PlacementInput {
  const names = Array.from({ length: 32 }, (_, i) => `${kind}-${i}`);
  const profiles = names.map((n) => (kind === 'test' ? testProfile(n) : zooProfile('bert-1.3b', n)));
  const slo = slosFromScale(names, profileMap(profiles), 5);
  const workload = multiModelWorkload({
    models: names,
    totalRate: 64,
    cv: 4,
    duration,
    seed: 1,
    split: 'power-law',
    slo,
  });
  return { cluster: { devices: 64, memoryPerDevice: 13 * 2 ** 30 }, profiles, workload };
}

async function timed(
  runs: number,
  f: () => Promise<PlacementResult>,
): Promise<{ seconds: number; result: PlacementResult }> {
  const times: number[] = [];
  let result!: PlacementResult;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    result = await f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds: median(times), result };
}

export async function run(args: string[]): Promise<void> {
  const runs = positiveOption(args, '--runs', 3);
  const duration = positiveOption(args, '--duration', 200);
  const beam = positiveOption(args, '--beam', 3);
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other helpers may share it)`,
  );
  for (const kind of ['test', 'bert-1.3b'] as const) {
    const input = benchInput(kind, duration);
    console.log(
      `\n${kind === 'test' ? '100 ms / 2 GB test profile' : 'bert-1.3b (150.6 ms, 2.4 GB)'}: 32 models, 64 devices × 13 GiB, ${input.workload.arrival.length} requests (64 req/s, CV 4, power law, ${duration} s, SLO scale 5)`,
    );
    await placeByName('alpaserve-greedy', input); // warm-up (JIT)
    const rows: [string, { seconds: number; result: PlacementResult }][] = [
      ['selective-replication', await timed(runs, () => placeByName('selective-replication', input))],
      ['alpaserve fast greedy, 1 thread', await timed(runs, () => placeByName('alpaserve-greedy', input))],
      [
        'alpaserve fast greedy, 2 workers',
        await timed(runs, () => placeByName('alpaserve-greedy', input, { workers: 2 })),
      ],
      [`alpaserve beam ${beam}, 1 thread`, await timed(1, () => placeByName('alpaserve', input, { beam }))],
      [
        `alpaserve beam ${beam}, 2 workers`,
        await timed(1, () => placeByName('alpaserve', input, { beam, workers: 2 })),
      ],
    ];
    for (const [label, { seconds, result }] of rows) {
      console.log(
        `  ${label.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s  attainment ${result.attainment.toFixed(4)}  score ${result.score.toFixed(6)}  ` +
          `${result.stats.simulations} simulations  ${describeLayout(result.placement.groups.map((g) => g.config))}`,
      );
    }
    const greedy = rows[1][1];
    const beamRow = rows[3][1];
    console.log(
      `  beam ${beam} vs greedy: score ${beamRow.result.score > greedy.result.score ? 'higher' : 'not higher'} (${(beamRow.result.score - greedy.result.score).toExponential(2)}), attainment ${beamRow.result.attainment.toFixed(4)} vs ${greedy.result.attainment.toFixed(4)}; beam/greedy time ${(beamRow.seconds / greedy.seconds).toFixed(1)}×`,
    );
  }
}
