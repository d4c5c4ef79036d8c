#!/usr/bin/env node
// `npm run bench -- <suite...>`: the benchmark suites of bench/suites.ts (all when none given).
import { Command } from 'commander';
import { suiteHelp } from '../bench/suites.js';
import { benchAction } from './commands/bench-action.js';

await new Command()
  .name('bench')
  .description('meshserve benchmarks; prints medians and ratios against a baseline measured in the same process')
  .argument('[suites...]', 'suite names, then options passed to the suites')
  .allowUnknownOption(true)
  .addHelpText('after', `\nSuites:\n${suiteHelp()}`)
  .action(benchAction)
  .parseAsync(process.argv);
