// `npm run bench -- plan [--workers=N] [--rate=R] [--duration=S] [--sweep]`: the time `meshserve plan`
// takes for 60 models (40 × bert-1.3b, 20 × bert-2.6b) on 8 to 96 devices in steps of 8 (whole
// 8-device nodes), 13 GiB each, with AlpaServe's fast greedy, Selective Replication and every
// other system the plan compares by default; Gamma traffic (CV 4, power law, SLO scale 5), half
// of it held out. The issue's target: under 2 minutes on a 2-core machine.
import { cpus, loadavg } from 'node:os';
import { buildPlan, type PlanFiles } from '../planner/capacity/plan-file.js';
import { runPlan } from '../planner/capacity/search.js';
import { positiveOption } from './measure.js';

const NO_FILES: PlanFiles = {
  baseDir: '.',
  read: (path) => {
    throw new Error(`the bench names no file (${path})`);
  },
  repository: (path) => {
    throw new Error(`the bench names no repository (${path})`);
  },
};

export async function run(args: string[]): Promise<void> {
  const workers = positiveOption(args, '--workers', 2);
  const rate = positiveOption(args, '--rate', 150);
  const duration = positiveOption(args, '--duration', 240);
  const sweep = args.includes('--sweep');
  const plan = buildPlan(
    {
      models: [
        { zoo: 'bert-1.3b', count: 40 },
        { zoo: 'bert-2.6b', count: 20 },
      ],
      traffic: { process: 'gamma', totalRate: rate, cv: 4, duration, seed: 1, split: 'power-law' },
      slo: { scale: 5 },
      devices: { memoryGiB: 13, min: 8, max: 96, step: 8, search: sweep ? 'sweep' : 'bisect' },
      greedy: true,
      workers,
    },
    NO_FILES,
    'bench plan',
  );
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other helpers may share it)`,
  );
  console.log(
    `60 models (40 × bert-1.3b, 20 × bert-2.6b), 8..96 devices step 8 (${sweep ? 'sweep' : 'bisection'}), ${rate} req/s for ${duration} s (CV 4, power law, SLO scale 5), half held out; fast greedy, ${workers} worker threads`,
  );
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const bySystem = new Map<string, { evaluations: number; seconds: number }>();
  let last = 0;
  const outcome = await runPlan(plan, {
    point: (system, p) => {
      const s = bySystem.get(system) ?? { evaluations: 0, seconds: 0 };
      const now = seconds();
      s.evaluations++;
      s.seconds += now - last;
      last = now;
      bySystem.set(system, s);
      console.log(
        `  ${system.padEnd(22)} ${String(p.devices).padStart(3)} devices → ${p.attainment.toFixed(4)}  (${now.toFixed(1)} s)`,
      );
    },
  });
  const total = seconds();
  console.log(
    `\n${outcome.split.train.arrival.length} requests fitted on, ${outcome.split.test.arrival.length} held out`,
  );
  for (const s of outcome.systems) {
    const t = bySystem.get(s.name)!;
    console.log(
      `  ${s.name.padEnd(22)} ${s.devices === null ? `not reached (best ${s.chosen.attainment.toFixed(4)} at ${s.chosen.devices})` : `${s.devices} devices (${s.chosen.attainment.toFixed(4)})`}  ${t.evaluations} device counts in ${t.seconds.toFixed(1)} s`,
    );
  }
  console.log(`plan: ${total.toFixed(1)} s in all (target: under 120 s): ${total < 120 ? 'met' : 'NOT met'}`);
}
