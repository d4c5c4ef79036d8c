// `meshserve replay <scenario.json>`: sends the scenario's workload to a running cluster (NATS_URL,
// REDIS_URL) in real time and prints the same report as `meshserve simulate` on the same file,
// plus the fidelity numbers.
import type { Command } from 'commander';
import { ActorSystem } from '../../bus/index.js';
import { setUpProcess } from '../../config/environment.js';
import { TOOL_LOG_LEVEL } from '../../config/tools.js';
import { loadPlacementFile } from '../../dev/placement-file.js';
import { loadScenarioFile } from '../../dev/planner-files.js';
import { replayScenario } from '../../dev/scenario-replay.js';
import { fail } from './errors.js';
import { runOrFail } from './option-parsers.js';
import { progressPrinter } from './progress.js';
import { printFidelity, printHuman } from './report.js';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      "send a scenario's workload to a running cluster in real time; print the simulate report for the live run and the fidelity numbers",
    )
    .argument('<scenario>', 'scenario JSON file (the format of `meshserve simulate`)')
    .option('--keep-placement', "replay on the placement in force instead of placing the scenario's groups")
    .option(
      '--placement <file>',
      "place this placement file's groups (as `meshserve place` or `plan` writes it) instead",
    )
    .option('--planner <name>', 'planner actor name', 'planner')
    .option('--json', 'print live, simulated and fidelity results as JSON')
    .action((file: string, o: { keepPlacement?: boolean; placement?: string; planner: string; json?: boolean }) =>
      runOrFail('replay', async () => {
        const { env, log } = setUpProcess(TOOL_LOG_LEVEL);
        if (o.keepPlacement && o.placement) throw new Error('give --keep-placement or --placement, not both');
        const scenario = loadScenarioFile(file);
        const placement = o.placement ? loadPlacementFile(o.placement) : undefined;
        const system = await ActorSystem.connect({
          name: 'meshserve-replay',
          natsUrl: env.bus.natsUrl,
          redisUrl: env.bus.redisUrl,
          log,
          watchDead: false,
        });
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          const progress = progressPrinter();
          const r = await replayScenario(system, scenario, {
            place: !o.keepPlacement,
            placement,
            planner: o.planner,
            onProgress: progress.update,
            signal: abort.signal,
          });
          progress.done();
          if (abort.signal.aborted) {
            fail('replay', 'interrupted: no report for a partial run');
            return;
          }
          const { records: _records, ...simulated } = r.simulated;
          if (o.json) {
            console.log(
              JSON.stringify(
                {
                  placementVersion: r.placement.version,
                  live: r.liveSummary,
                  simulated,
                  fidelity: r.fidelity,
                  errors: Object.fromEntries(r.live.errors),
                  notes: r.notes,
                },
                null,
                2,
              ),
            );
            return;
          }
          for (const note of r.notes) console.log(`note: ${note}`);
          console.log(`live run on placement v${r.placement.version} (${r.placement.groups.length} groups):`);
          printHuman(r.liveSummary, 'earliest-finish');
          if (r.live.errors.size)
            console.log(`errors: ${[...r.live.errors].map(([why, n]) => `${n}× ${why}`).join('; ')}`);
          console.log(`sender lag behind the schedule: max ${(r.live.maxSendLag * 1e3).toFixed(1)} ms`);
          printFidelity(r.fidelity);
        } finally {
          process.off('SIGINT', onSigint);
          await system.close();
        }
      }),
    );
}
