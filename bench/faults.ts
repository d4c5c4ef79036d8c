// `npm run bench -- faults`: the fault runs, repeated. Each fault test (test/reliability, and
// `meshserve start`'s dead nats-server) is run `--rounds` times as its own process, and the
// figures it prints (its `#` line) are collected per round, with whether its checks held; the
// fault table of docs/reliability.md quotes these. `delay` replays the slow-network scenario on
// namespace hosts twice per round, side by side: once with the default per-request overhead,
// once with the hop `meshserve hops` measures, against the simulation of each.
//
//   npm run bench -- faults --rounds=5 --only=dispatcher-kill,nats-cluster
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNetnsCluster } from '../dev/faults/netns-cluster.js';
import { delayScenario } from '../dev/faults/scenarios.js';
import { netemUnavailable, netnsUnavailable } from '../dev/netns.js';
import { measureHops, overheadWithHops } from '../dev/profile/network-hops.js';
import { replayScenario } from '../dev/scenario-replay.js';
import { REFERENCE_OVERHEAD } from '../planner/latency-model.js';
import { buildScenario } from '../planner/scenario.js';
import { positiveOption } from './measure.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The fault runs by name: their test file under dist/test. */
const RUNS: Readonly<Record<string, string>> = {
  'worker-kill': 'reliability/worker-kill.test.js',
  'worker-restart': 'reliability/worker-restart.test.js',
  'dispatcher-kill': 'reliability/dispatcher-kill.test.js',
  'nats-outage': 'reliability/nats-outage.test.js',
  infrastructure: 'reliability/infrastructure.test.js',
  'nats-cluster': 'reliability/nats-cluster.test.js',
  'start-nats-restart': 'scripts/start-nats-restart.test.js',
  partition: 'reliability/netns-partition.test.js',
};

const DELAY_MS = 10;

export async function run(args: string[]): Promise<void> {
  const rounds = positiveOption(args, '--rounds', 3);
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const names = only ?? [...Object.keys(RUNS), 'delay'];
  const unknown = names.filter((n) => n !== 'delay' && !RUNS[n]);
  if (unknown.length)
    throw new Error(
      `unknown fault run "${unknown.join('", "')}"; known: ${[...Object.keys(RUNS), 'delay'].join(', ')}`,
    );
  console.log(`${rounds} round(s) of: ${names.join(', ')} (each a fresh cluster)`);
  for (const name of names) {
    if (name === 'delay') {
      await delayRounds(rounds);
      continue;
    }
    let held = 0;
    for (let round = 1; round <= rounds; round++) {
      const started = Date.now();
      const r = spawnSync(process.execPath, ['--test', join(root, 'dist/test', RUNS[name])], {
        encoding: 'utf8',
        env: { ...process.env, LOG_LEVEL: 'silent' },
        maxBuffer: 64 * 2 ** 20,
      });
      const figures = [...(r.stdout ?? '').matchAll(/^# \\# (.*)$/gm)].map((m) => m[1]);
      if (r.status === 0) held++;
      console.log(
        `${name} round ${round}: ${r.status === 0 ? 'checks held' : 'CHECKS FAILED'} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
      for (const line of figures) console.log(`  ${line}`);
    }
    console.log(`${name}: checks held in ${held} of ${rounds} rounds`);
  }
}

/** The slow-network replay with and without the measured hop in the overhead, side by side. */
async function delayRounds(rounds: number): Promise<void> {
  const unavailable = netnsUnavailable();
  if (unavailable) {
    console.log(`delay: skipped (${unavailable})`);
    return;
  }
  const noNetem = netemUnavailable();
  console.log(
    `delay: ${DELAY_MS} ms each way between the worker hosts and the rest (${noNetem ? 'delay relay; tc netem unavailable here' : 'tc netem'})`,
  );
  for (let round = 1; round <= rounds; round++) {
    const c = await startNetnsCluster({
      workers: 3,
      profiles: [],
      place: false,
      ...(noNetem ? { relayDelayMs: DELAY_MS } : {}),
    });
    try {
      if (!noNetem) for (let i = 0; i < 3; i++) c.netns.delay(`w${i}`, DELAY_MS);
      const [baseline] = await measureHops(c.system, ['dispatcher'], { runs: 30 });
      const hops = await measureHops(c.system, ['gpu-0', 'gpu-1', 'gpu-2'], { runs: 30 });
      const measured = overheadWithHops(hops, baseline.roundTripMs);
      const line: string[] = [];
      for (const [label, overhead] of [
        ['default overhead', REFERENCE_OVERHEAD],
        ['measured hop', measured],
      ] as const) {
        const r = await replayScenario(c.system, buildScenario(delayScenario(overhead)));
        const f = r.fidelity;
        line.push(
          `${label} ${(overhead * 1e3).toFixed(1)} ms: live ${(f.liveAttainment * 100).toFixed(2)}% vs simulated ${(f.simulatedAttainment * 100).toFixed(2)}% (${f.attainmentDiffPoints.toFixed(2)} points), reply − estimate p50 ${(f.overModel.p50 * 1e3).toFixed(1)} ms`,
        );
      }
      console.log(
        `delay round ${round}: round trips ${hops.map((h) => h.roundTripMs.toFixed(1)).join('/')} ms (dispatcher ${baseline.roundTripMs.toFixed(1)} ms); ${line.join('; ')}`,
      );
    } finally {
      await c.close();
    }
  }
}
