// `meshserve serve <repository>`: import what is new or changed in a model repository, place the
// models on the running cluster's devices and serve them at ms.infer.<name>.
import type { Command } from 'commander';
import { setUpProcess } from '../../config/environment.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, TOOL_LOG_LEVEL } from '../../config/tools.js';
import { describeServed } from '../../dev/model-import/describe.js';
import { serveRepository } from '../../dev/model-import/serve-repository.js';
import { connectOperator } from '../../ops/connect.js';
import { positiveInt } from './option-parsers.js';

interface ServeCliOptions {
  runs: number;
  warmup: number;
  strategy?: string;
  force?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'import the new or changed models of a model repository (<name>/model.onnx + <name>/meshserve.json), place them on the running cluster and serve them at ms.infer.<name>',
    )
    .argument('<repository>', 'the model repository folder')
    .option('--runs <n>', 'measured runs per config when a model is imported (median)', positiveInt, 20)
    .option('--warmup <n>', 'warm-up runs per config', positiveInt, 3)
    .option('--strategy <name>', "placement strategy (default: the planner's, alpaserve)")
    .option('--force', 'import every model again, changed or not')
    .addHelpText(
      'after',
      '\nNeeds a running cluster: a planner, a dispatcher and ONNX workers (`meshserve worker --executor onnx`), NATS with JetStream and Redis (NATS_URL, REDIS_URL). docs/models.md describes meshserve.json.\nExit codes: 0 placed, 1 failure (a bad model or meshserve.json, no server, placement failed), 2 usage.',
    )
    .action(async (repository: string, o: ServeCliOptions) => {
      try {
        const { env, log } = setUpProcess(TOOL_LOG_LEVEL);
        const system = await connectOperator('meshserve-serve', {
          natsUrl: env.bus.natsUrl,
          redisUrl: env.bus.redisUrl,
          timeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
          log,
        });
        try {
          const r = await serveRepository(system, repository, {
            natsUrl: env.bus.natsUrl,
            runs: o.runs,
            warmup: o.warmup,
            strategy: o.strategy,
            force: o.force,
            onProgress: (line) => process.stderr.write(`${line}\n`),
          });
          console.log(describeServed(r, system.subjects.prefix));
        } finally {
          await system.close();
        }
      } catch (err) {
        console.error(`meshserve serve: ${(err as Error).message}`);
        process.exit(1); // a failed connection attempt may keep retrying in the background
      }
    });
}
