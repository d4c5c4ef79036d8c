// `meshserve repl`: a REPL connected to the cluster given by NATS_URL / REDIS_URL.
import type { Command } from 'commander';
import { type ActorSystem, describeError } from '../../bus/index.js';
import { setUpProcess } from '../../config/environment.js';
import { replHistoryFile, TOOL_LOG_LEVEL } from '../../config/tools.js';
import { connectOperator } from '../../ops/connect.js';
import { startRepl } from '../../ops/repl.js';
import { connectTimeoutOption } from './connect-timeout.js';
import { fail } from './errors.js';

export function registerRepl(program: Command): void {
  program
    .command('repl')
    .description(
      'interactive REPL on the cluster (NATS_URL/REDIS_URL, else the running `meshserve start` found here; type .help); history in ~/.meshserve_repl_history or MESHSERVE_REPL_HISTORY',
    )
    .option('--planner <name>', 'actor name of the planner', 'planner')
    .addOption(connectTimeoutOption())
    .option('--dispatcher <name>', 'actor name of the dispatcher', 'dispatcher')
    .action(async (opts: { planner: string; dispatcher: string; connectTimeout: number }) => {
      let system: ActorSystem;
      let historyFile: string;
      try {
        const { env, log } = setUpProcess(TOOL_LOG_LEVEL);
        historyFile = replHistoryFile(env);
        // The REPL is a client: it does not sweep dead actors on behalf of the cluster.
        system = await connectOperator('meshserve-repl', { ...env.bus, timeoutMs: opts.connectTimeout, log });
      } catch (err) {
        fail('repl', `cannot connect: ${describeError(err).message}`);
        process.exit(1); // the abandoned connection attempt would keep retrying
      }
      try {
        const repl = await startRepl({
          system,
          historyFile,
          plannerName: opts.planner,
          dispatcherName: opts.dispatcher,
        });
        await repl.exited;
        // A piped script fails (exit 1) when one of its statements did; its end of input is a normal exit.
        process.exitCode = repl.scripted && repl.errors > 0 ? 1 : 0;
      } finally {
        await system.close();
      }
    });
}
