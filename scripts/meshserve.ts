#!/usr/bin/env node
// The one `meshserve` command. Each subcommand lives in scripts/commands/<name>.ts and
// exports `register(program)`; this file only wires them together.
import { Command } from 'commander';
import { registerSimulate } from './commands/simulate.js';
import { registerStart } from './commands/start.js';
import { registerMakeModels } from './commands/make-models.js';

const program = new Command();
program
  .name('meshserve')
  .description('AlpaServe-style model-parallel serving on NATS: simulate, place, serve, measure')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride((err) => {
    // Commander reports usage errors itself; give scripts a stable exit code (2 = usage).
    process.exit(err.exitCode === 0 ? 0 : err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
  });

registerStart(program);
registerSimulate(program);
registerMakeModels(program);

await program.parseAsync(process.argv);
