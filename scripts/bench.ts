#!/usr/bin/env node
// `npm run bench -- <suite...>`: runs the named benchmark suites (all when none given).
// Each suite lives in scripts/bench/<name>.ts and exports `run(args)`.
import { Command } from 'commander';

type Suite = { description: string; load: () => Promise<{ run: (args: string[]) => Promise<void> }> };
const suites: Record<string, Suite> = {
  bus: { description: 'actor call round trips vs raw NATS request/reply', load: () => import('./bench/bus.js') },
  simulator: { description: 'discrete-event simulator speed (req/s per dispatch policy) and memory on the reference scenario', load: () => import('./bench/simulator.js') },
  dispatcher: { description: 'requests/s the serving dispatcher routes with zero-time devices and the latency it adds, vs raw NATS request/reply', load: () => import('./bench/dispatcher.js') },
  placement: { description: 'placement search time and attainment: 32 models on 64 devices, SR vs AlpaServe fast greedy vs beam search', load: () => import('./bench/placement.js') },
  onnx: { description: 'generated ONNX models: sizes, single-graph latency, 2-stage and 2-shard per-stage latency', load: () => import('./bench/onnx.js') },
};

const program = new Command()
  .name('bench')
  .description('meshserve benchmarks; prints medians and ratios against a baseline measured in the same process')
  .argument('[suites...]', `suites to run: ${Object.keys(suites).join(', ') || '(none yet)'}`)
  .allowUnknownOption(true)
  .action(async (names: string[]) => {
    // Suite names come first; everything from the first option on is passed to the suites
    // (so option values such as `--runs 30` are not taken for suite names).
    const firstOption = names.findIndex((n) => n.startsWith('-'));
    const chosen = firstOption < 0 ? names : names.slice(0, firstOption);
    const extra = firstOption < 0 ? [] : names.slice(firstOption);
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
