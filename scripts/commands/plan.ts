// `meshserve plan <plan.json>`: how many devices each system needs to serve the plan's traffic at
// the target attainment, the curve around that count, the placement to run, and (--at N) how much
// more traffic N devices take. The format and the search: docs/planner.md ("Planning a cluster").
import type { Command } from 'commander';
import { loadPlanFile, planPlacementFile, writePlanOutputs } from '../../dev/plan-files.js';
import { planJson, planLines } from '../../planner/capacity/report.js';
import { runPlan } from '../../planner/capacity/search.js';
import { plural } from '../../planner/plural.js';
import { positiveInt, runOrFail } from './option-parsers.js';
import { lineProgress } from './progress.js';

interface PlanOptions {
  json?: boolean;
  out: string;
  at?: number;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description(
      'the fewest devices each system needs for the target SLO attainment on your traffic (held-out), the curve around it and the placement to run',
    )
    .argument('<plan>', 'plan JSON file (e.g. examples/plan.json; the format: docs/planner.md)')
    .option('--json', 'print { target, systems: [{ name, devices, attainment, placement, curve }] } as JSON')
    .option('--out <dir>', 'where to write the placements, scenarios, plan.svg and plan.csv', 'plan-out')
    .option(
      '--at <devices>',
      'also answer the inverse: attainment at this many devices and the rate / CV it takes before falling under the target',
      positiveInt,
    )
    .action((file: string, o: PlanOptions) =>
      runOrFail('plan', async () => {
        const plan = loadPlanFile(file);
        const progress = lineProgress();
        const range = `${plan.candidates[0]}..${plan.candidates[plan.candidates.length - 1]}`;
        progress.note(
          `planning ${plan.profiles.length} models, ${range} devices (${plan.search}), systems: ${plan.systems.map((s) => s.name).join(', ')}`,
        );
        const started = Date.now();
        const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
        const outcome = await runPlan(
          plan,
          {
            point: (system, p) =>
              progress.note(`  ${system}: ${plural(p.devices, 'device')} → ${pct(p.attainment)} (${elapsed()})`),
            search: (system, devices, p) =>
              progress.update(
                `  ${system}: ${devices} devices, ${p.phase === 'greedy' ? 'fast greedy' : 'beam search'} ${p.done}/${p.total} layouts (${elapsed()})`,
              ),
            replay: (system, devices, done, total) =>
              progress.update(`  ${system}: ${devices} devices, online replay ${done}/${total} windows (${elapsed()})`),
          },
          o.at,
        );
        progress.done();
        progress.note(`planned in ${elapsed()}`);
        const written = writePlanOutputs(o.out, file, plan, outcome);
        const placementFile = (system: string) => written.placements[system] ?? planPlacementFile(o.out, system);
        if (o.json) {
          console.log(JSON.stringify(planJson(plan, outcome, placementFile), null, 2));
          return;
        }
        for (const line of planLines(plan, outcome, placementFile)) console.log(line);
        console.log(`plot ${written.svg}, curves ${written.csv}`);
        const scenarios = Object.values(written.scenarios);
        if (scenarios.length) console.log(`scenarios for meshserve place / replay: ${scenarios.join(', ')}`);
      }),
    );
}
