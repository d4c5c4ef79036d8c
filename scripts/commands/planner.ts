// `meshserve planner`: the planner actor in this process.
import type { Command } from 'commander';
import { PlannerActor, plannerArgs } from '../../actors/planner-actor.js';
import { strategyNames } from '../../actors/placement-strategies.js';
import { serveActor } from '../../actors/serve-actor.js';
import { commaList, nonNegativeNumber, positiveNumber, runOrFail } from './option-parsers.js';

export function registerPlanner(program: Command): void {
  program
    .command('planner')
    .description('run the planner actor (NATS_URL / REDIS_URL from the environment)')
    .option('--name <name>', 'actor name', 'planner')
    .option('--strategy <name>', `placement strategy (${strategyNames().join(', ')})`)
    .option('--models <list>', 'models to place, comma-separated (default: every ms:profile:<model> in Redis)', commaList)
    .option('--memory-gib <n>', 'per-device budget (default: the smallest registered device)', positiveNumber)
    .option('--rate-check-sec <s>', 're-place when observed rates moved by half, checked this often (0 = never)', nonNegativeNumber, 60)
    .option('--auto-place', 'place as soon as GPU workers register (and again as they join or leave)')
    .action((o: { name: string; strategy?: string; models?: string[]; memoryGib?: number; rateCheckSec: number; autoPlace?: boolean }) =>
      runOrFail('planner', () =>
        serveActor({
          name: o.name,
          instance: new PlannerActor({ ...(o.strategy ? { strategy: o.strategy } : {}), models: o.models, memoryPerDeviceGiB: o.memoryGib, rateCheckSec: o.rateCheckSec, autoPlace: Boolean(o.autoPlace) }),
          spawn: { args: plannerArgs },
        }),
      ),
    );
}
