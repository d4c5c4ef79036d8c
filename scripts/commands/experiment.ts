// `meshserve experiment <name...>`: reruns the paper's sweeps (planner/experiments), writes
// <out>/<name>.csv and <out>/<name>.svg, prints progress to stderr and the headline numbers.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EXPERIMENT_NAMES, EXPERIMENTS, experiment } from '../../planner/experiments/definitions.js';
import { checkSelection, experimentSvg, rowsFromCsv, runExperiment } from '../../planner/experiments/run.js';
import { didYouMean } from '../../planner/suggest.js';
import { fail } from './errors.js';
import { commaList, departureLoadsOption, nonNegativeInt, numberList, positiveInt } from './option-parsers.js';

interface Options {
  list?: boolean;
  replot?: boolean;
  quick?: boolean;
  out: string;
  greedy?: boolean;
  beam?: number;
  workers?: number;
  departureLoads?: number;
  seed: number;
  systems?: string[];
  points?: number[];
}

function printList(): void {
  const width = Math.max(...EXPERIMENT_NAMES.map((n) => n.length));
  for (const e of EXPERIMENTS) console.log(`${e.name.padEnd(width)}  ${e.description}`);
}

export function registerExperiment(program: Command): void {
  program
    .command('experiment')
    .description(
      "rerun the paper's experiments (motivation and end-to-end sweeps): CSV + SVG per experiment, headline numbers on stdout",
    )
    .argument('[names...]', 'experiment names (see --list)')
    .option('--list', 'list the experiments, one line each')
    .option(
      '--replot',
      'redraw <out>/<name>.svg from the recorded <out>/<name>.csv without running anything (all CSVs in --out when no name is given)',
    )
    .option('--quick', 'a tiny version of each sweep (seconds; for tests and CI)')
    .option('--out <dir>', 'output folder for <name>.csv and <name>.svg', 'experiments-out')
    .option('--greedy', "AlpaServe uses the reference's fast greedy instead of beam search")
    .option('--beam <k>', 'AlpaServe beam width (default 3)', positiveInt)
    .option('--workers <n>', 'worker threads for AlpaServe layout searches (0 = none)', nonNegativeInt)
    .addOption(departureLoadsOption())
    .option('--seed <n>', 'workload seed', nonNegativeInt, 1)
    .option(
      '--systems <labels>',
      "run only these systems (comma-separated, as the CSV names them); the others' rows are kept from <out>/<name>.csv when it exists",
      commaList,
    )
    .option(
      '--points <list>',
      "run only at these sweep points (comma-separated); the other points' rows are kept from <out>/<name>.csv when it exists",
      numberList,
    )
    .addHelpText(
      'after',
      `
Examples:
  meshserve experiment --list
  meshserve experiment motivation-slo --quick --out /tmp/exp
  meshserve experiment rate-s1-maf1 cv-s1-maf1 --workers 2
  meshserve experiment devices-s3-maf2 --greedy --systems 'Adaptive AlpaServe' --points 64,80 --out docs/experiments

With --systems or --points, give the options the recorded run was made with (--seed, --greedy, …):
the kept rows are taken as they are.`,
    )
    .action(async (names: string[], opts: Options) => {
      if (opts.list) return printList();
      if (opts.replot) {
        if (names.length === 0 && existsSync(opts.out))
          names = readdirSync(opts.out)
            .filter((f) => f.endsWith('.csv') && EXPERIMENT_NAMES.includes(f.slice(0, -4)))
            .map((f) => f.slice(0, -4));
        const known = names.filter((n) => EXPERIMENT_NAMES.includes(n));
        for (const n of names.filter((n) => !known.includes(n)))
          fail('experiment', `unknown experiment "${n}"${didYouMean(n, EXPERIMENT_NAMES)}`, 2);
        if (process.exitCode) return;
        if (!known.length) return fail('experiment', `no experiment CSV in ${opts.out} to re-plot`, 2);
        try {
          for (const name of known) {
            const csv = join(opts.out, `${name}.csv`);
            const svg = join(opts.out, `${name}.svg`);
            writeFileSync(svg, experimentSvg(experiment(name), rowsFromCsv(readFileSync(csv, 'utf8')), !!opts.quick));
            console.log(`re-plotted ${svg} from ${csv}`);
          }
        } catch (err) {
          fail('experiment', err);
        }
        return;
      }
      if (names.length === 0) {
        fail('experiment', 'name an experiment (or several); `meshserve experiment --list` shows them', 2);
        return;
      }
      const unknown = names.filter((n) => !EXPERIMENT_NAMES.includes(n));
      if (unknown.length) {
        for (const n of unknown)
          fail(
            'experiment',
            `unknown experiment "${n}"${didYouMean(n, EXPERIMENT_NAMES)} (\`meshserve experiment --list\` shows the ${EXPERIMENT_NAMES.length} known ones)`,
            2,
          );
        return;
      }
      const selection = { quick: opts.quick, systems: opts.systems, points: opts.points };
      for (const name of names)
        try {
          checkSelection(experiment(name), selection);
        } catch (err) {
          fail('experiment', err, 2);
        }
      if (process.exitCode) return;
      // A partial run keeps the rest of the record it re-runs part of.
      const partial = Boolean(opts.systems || opts.points);
      try {
        mkdirSync(opts.out, { recursive: true });
        for (const name of names) {
          const e = experiment(name);
          const started = Date.now();
          const csv = join(opts.out, `${name}.csv`);
          const svg = join(opts.out, `${name}.svg`);
          const recorded = partial && existsSync(csv) ? rowsFromCsv(readFileSync(csv, 'utf8')) : undefined;
          const out = await runExperiment(e, {
            ...selection,
            recorded,
            seed: opts.seed,
            greedy: opts.greedy,
            placement: {
              ...(opts.beam !== undefined ? { beam: opts.beam } : {}),
              ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
              ...(opts.departureLoads !== undefined ? { departureLoads: opts.departureLoads } : {}),
            },
            onProgress: (done, total, what) =>
              process.stderr.write(
                `[${name} ${done}/${total}] ${what}  (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
              ),
          });
          writeFileSync(csv, out.csv);
          writeFileSync(svg, out.svg);
          console.log(`== ${name}${opts.quick ? ' (quick)' : ''}: ${e.description}`);
          if (recorded) {
            const kept = out.rows.filter((r) => recorded.includes(r)).length;
            console.log(`kept ${kept} rows of ${csv} as recorded; ran ${out.rows.length - kept}`);
          }
          for (const line of out.headline) console.log(line);
          console.log(`wrote ${csv} and ${svg} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        }
      } catch (err) {
        fail('experiment', err);
      }
    });
}
