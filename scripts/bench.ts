#!/usr/bin/env node
// `npm run bench -- <suite...>`: runs the named benchmark suites (all when none given).
// Each suite lives in scripts/bench/<name>.ts and exports `run(args)`.
import { Command } from 'commander';

type Suite = { description: string; load: () => Promise<{ run: (args: string[]) => Promise<void> }> };
const suites: Record<string, Suite> = {
  bus: { description: 'actor call round trips vs raw NATS request/reply', load: () => import('./bench/bus.js') },
  simulator: { description: 'discrete-event simulator speed (req/s per dispatch policy) and memory on the reference scenario', load: () => import('./bench/simulator.js') },
};

const program = new Command()
  .name('bench')
  .description('meshserve benchmarks; prints medians and ratios against a baseline measured in the same process')
  .argument('[suites...]', `suites to run: ${Object.keys(suites).join(', ') || '(none yet)'}`)
  .allowUnknownOption(true)
  .action(async (names: string[]) => {
    const chosen = names.filter((n) => !n.startsWith('-'));
    const extra = names.filter((n) => n.startsWith('-'));
    const run = chosen.length ? chosen : Object.keys(suites);
    for (const name of run) {
      const suite = suites[name];
      if (!suite) {
        console.error(`unknown bench suite "${name}"; known: ${Object.keys(suites).join(', ')}`);
        process.exit(2);
      }
      console.log(`\n== bench ${name}: ${suite.description}`);
      await (await suite.load()).run(extra);
    }
  });
await program.parseAsync(process.argv);
