#!/usr/bin/env node
// The one `meshserve` command. Each subcommand lives in scripts/commands/<name>.ts and
// exports `register(program)`; this file only wires them together.
import { Command } from 'commander';
import { meshserveVersion } from '../config/version.js';
import { registerBench } from './commands/bench.js';
import { registerDispatcher } from './commands/dispatcher.js';
import { registerExperiment } from './commands/experiment.js';
import { registerHops } from './commands/hops.js';
import { registerImport } from './commands/import.js';
import { registerInfer } from './commands/infer.js';
import { registerMakeModels } from './commands/make-models.js';
import { registerPlace } from './commands/place.js';
import { registerPlan } from './commands/plan.js';
import { registerPlanner } from './commands/planner.js';
import { registerProfile } from './commands/profile.js';
import { registerRepl } from './commands/repl.js';
import { registerReplay } from './commands/replay.js';
import { registerServe } from './commands/serve.js';
import { registerSimulate } from './commands/simulate.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerWorker } from './commands/worker.js';

const program = new Command();
program
  .name('meshserve')
  .description('AlpaServe-style model-parallel serving on NATS: simulate, place, serve, measure')
  .version(meshserveVersion())
  .showHelpAfterError('(add --help for usage)')
  .exitOverride((err) => {
    // Commander reports usage errors itself; give scripts a stable exit code (2 = usage).
    process.exit(
      err.exitCode === 0 ? 0 : err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2,
    );
  });

registerStart(program);
registerSimulate(program);
registerPlace(program);
registerPlan(program);
registerMakeModels(program);
registerWorker(program);
registerDispatcher(program);
registerPlanner(program);
registerReplay(program);
registerExperiment(program);
registerRepl(program);
registerStatus(program);
registerInfer(program);
registerBench(program);
registerProfile(program);
registerHops(program);
registerImport(program);
registerServe(program);

// Commander's own usage errors read like every other error line: `meshserve <command>: <reason>`.
for (const command of [program, ...program.commands]) {
  const name = command === program ? 'meshserve' : `meshserve ${command.name()}`;
  command.configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, `${name}: `)) });
}

await program.parseAsync(process.argv);
