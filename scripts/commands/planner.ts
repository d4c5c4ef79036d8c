// `meshserve planner`: the planner actor in this process.
import type { Command } from 'commander';
import { serveActor } from '../../bus/index.js';
import { setUpProcess } from '../../config/environment.js';
import { PLANNER_DEFAULTS } from '../../config/planner.js';
import { ACTOR_LOG_LEVEL } from '../../config/tools.js';
import { loadPlacementFile, placeFile, plannerConfigOf } from '../../dev/placement-file.js';
import { livePlacementAlgorithmNames } from '../../planner/placement/index.js';
import { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import {
  type AdaptivePolicyFlags,
  adaptivePolicyOf,
  addAdaptivePolicyOptions,
  commaList,
  nonNegativeNumber,
  positiveNumber,
  runOrFail,
  strategyName,
} from './option-parsers.js';

interface PlannerCliOptions extends AdaptivePolicyFlags {
  name: string;
  strategy?: string;
  models?: string[];
  memoryGib?: number;
  rateCheckSec: number;
  autoPlace?: boolean;
  placement?: string;
}

export function registerPlanner(program: Command): void {
  addAdaptivePolicyOptions(
    program
      .command('planner')
      .description('run the planner actor (NATS_URL / REDIS_URL else the running `meshserve start` found here)')
      .option('--name <name>', 'actor name', 'planner')
      .option(
        '--strategy <name>',
        `placement strategy (${livePlacementAlgorithmNames().join(', ')}; default ${PLANNER_DEFAULTS.strategy})`,
        strategyName,
      )
      .option(
        '--models <list>',
        'models to place, comma-separated (default: every ms:profile:<model> in Redis)',
        commaList,
      )
      .option('--memory-gib <n>', 'per-device budget (default: the smallest registered device)', positiveNumber)
      .option(
        '--rate-check-sec <s>',
        're-place when observed rates moved by half, checked this often (0 = never)',
        nonNegativeNumber,
        PLANNER_DEFAULTS.rateCheckSec,
      ),
  )
    .option('--auto-place', 'place as soon as GPU workers register (and again as they join or leave)')
    .option(
      '--placement <file>',
      "place this placement file's groups as they are (as `meshserve place` or `plan` writes it), at once if GPU workers are registered, else as soon as they are; with --strategy adaptive, re-place from there as traffic moves",
    )
    .action((o: PlannerCliOptions) =>
      runOrFail('planner', async () => {
        if (o.placement && o.models) throw new Error('--placement names the models: give no --models with it');
        const file = o.placement ? loadPlacementFile(o.placement) : undefined;
        const fileConfig = file && plannerConfigOf(file, o.strategy);
        const adaptive = adaptivePolicyOf(o, fileConfig?.strategy ?? o.strategy ?? PLANNER_DEFAULTS.strategy);
        // Adaptive decides only at rate checks: with none, its options would never be read.
        if (adaptive && o.rateCheckSec === 0)
          throw new Error(
            '--departure-loads and --load-bandwidth act at rate checks, which --rate-check-sec 0 turns off',
          );
        const { env, log } = setUpProcess(ACTOR_LOG_LEVEL);
        const planner = new PlannerActor({
          ...(o.strategy ? { strategy: o.strategy } : {}),
          models: o.models,
          memoryPerDeviceGiB: o.memoryGib,
          rateCheckSec: o.rateCheckSec,
          autoPlace: Boolean(o.autoPlace || file),
          adaptive,
          ...fileConfig,
        });
        await serveActor({
          name: o.name,
          instance: planner,
          natsUrl: env.bus.natsUrl,
          redisUrl: env.bus.redisUrl,
          log,
          // The file's profiles go where the planner reads them; then it places the file's groups.
          onReady: file && ((system) => placeFile(system, o.name, file)),
        });
      }),
    );
}
