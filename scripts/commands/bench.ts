// `meshserve bench [suites...] [suite options]`: the benchmark suites (same as `npm run bench --`).
import type { Command } from 'commander';
import { suiteHelp } from '../../bench/suites.js';
import { benchAction } from './bench-action.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'run benchmark suites (all when none named); medians and ratios against a baseline measured in the same process',
    )
    .argument('[suites...]', 'suite names, then options passed to the suites (e.g. --runs 30)')
    .allowUnknownOption(true)
    .addHelpText(
      'after',
      `\nSuites:\n${suiteHelp()}\n\nExamples:\n  meshserve bench simulator\n  meshserve bench placement --runs=1`,
    )
    .action(benchAction);
}
